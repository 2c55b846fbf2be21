"""The window never starts what cannot fit without asking, Stop works from the moment Run is
pressed, and a run the memory guard ends offers a smaller size."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings

from nst_desktop.core import memguard, planner
from nst_desktop.core import session as core_session
from nst_desktop.core.failures import Failure, RunStatus
from nst_desktop.core.memguard import MemoryGuard, Reading
from nst_desktop.gui import fit_dialog
from nst_desktop.gui.main_window import MainWindow

RUN_TIMEOUT_MS = 60_000
GB = 2**30


@pytest.fixture
def window(qtbot, tmp_path):
    rng = np.random.default_rng(4)
    content, style = tmp_path / "photo.png", tmp_path / "art.png"
    Image.fromarray(rng.integers(0, 255, (48, 64, 3), dtype=np.uint8)).save(content)
    Image.fromarray(rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)).save(style)
    w = MainWindow(QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.content_picker.set_path(str(content))
    w.style_picker.set_entries([(str(style), 1.0)])
    w.model.update_settings(weights="random", size=32, steps=4, device="cpu")
    yield w
    w.close()


def _wait_idle(qtbot, window) -> None:
    qtbot.waitUntil(lambda: window.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)


def _memory_for(monkeypatch, window, largest: int) -> None:
    """Free memory such that ``largest`` px is about the largest size that fits."""
    monkeypatch.delenv(memguard.RESERVE_ENV, raising=False)
    s, aspect = window.model.settings, window.runs.aspect()
    free = planner.peak_bytes(s, largest + 8, aspect) + GB  # 16 GB total: a 1 GiB reserve
    monkeypatch.setattr(planner, "memory_of", lambda device: (free, 16 * GB))


def test_a_run_that_does_not_fit_asks_and_cancel_starts_nothing(qtbot, window, monkeypatch):
    _memory_for(monkeypatch, window, 64)
    asked = []

    def ask(parent, fit, size):
        asked.append((parent, fit, size))
        return None

    monkeypatch.setattr(fit_dialog, "ask_run_size", ask)
    window.model.update_settings(size=8192)
    assert window.start_run() is False
    ((parent, fit, size),) = asked
    assert parent is window and size == 8192 and not fit.fits and fit.largest == 64
    assert window.model.run_state == "idle" and window.runs.thread is None
    assert window.model.settings.size == 8192  # cancelled: nothing changed
    assert "does not fit" in window.status_label.text()


def test_choosing_the_offered_size_runs_at_it(qtbot, window, monkeypatch):
    _memory_for(monkeypatch, window, 64)
    monkeypatch.setattr(fit_dialog, "ask_run_size", lambda parent, fit, size: fit.largest)
    window.model.update_settings(size=8192)
    assert window.start_run()
    _wait_idle(qtbot, window)
    result = window.model.runs.last_result
    assert result.status == RunStatus.DONE
    assert window.model.settings.size == 64 and result.metadata["settings"]["size"] == 64
    assert max(result.image.shape[:2]) == 64


def test_a_run_that_fits_does_not_ask(qtbot, window, monkeypatch):
    monkeypatch.setattr(fit_dialog, "ask_run_size", lambda *a: pytest.fail("asked"))
    assert window.start_run()
    _wait_idle(qtbot, window)
    assert window.model.runs.last_result.status == RunStatus.DONE


def test_stop_is_enabled_the_moment_run_is_pressed_and_stops(qtbot, window):
    window.model.update_settings(steps=100_000)
    window.run_button.click()
    assert window.stop_button.isEnabled() and window.stop_action.isEnabled()
    window.stop_button.click()
    _wait_idle(qtbot, window)
    assert window.model.runs.last_result.status == RunStatus.STOPPED


def test_stop_while_the_engine_loads_starts_nothing(qtbot, window):
    window.runs.engine_ready = False  # Run pressed before the engine has loaded
    window.run_button.click()
    assert window.stop_button.isEnabled() and not window.run_button.isEnabled()
    window.stop_button.click()
    assert window.model.run_state == "idle" and window.run_button.isEnabled()
    window.runs.on_engine_ready()
    assert window.runs.thread is None  # the stopped start does not come back


class _LowMemory:
    def __call__(self) -> Reading:
        return Reading(GB // 2, 8 * GB)


def test_a_run_the_guard_ends_offers_a_smaller_size(qtbot, window, monkeypatch):
    monkeypatch.setattr(
        core_session, "default_guard", lambda device: MemoryGuard(_LowMemory(), interval=0.01)
    )
    window.model.update_settings(size=256)  # fits this computer: only the guard ends it
    assert window.start_run()
    _wait_idle(qtbot, window)
    result = window.model.runs.last_result
    assert result.failure == Failure.OUT_OF_MEMORY
    bar = window.message_bar
    assert bar.text().startswith("Out of memory: only 512 MB of memory was left free")
    assert "lower the size" in bar.text()
    assert bar.action_button.text() == "Retry at 192 px"
