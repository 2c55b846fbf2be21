"""Continue in the window: more iterations from the picture on screen, counting on; and
"Start from: the current picture" for a new run with other settings."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from nst_desktop.gui.main_window import MainWindow
from nst_desktop.gui.run_controller import starts_dir
from nst_desktop.gui.settings_panel import CURRENT_PICTURE

TIMEOUT_MS = 60_000


@pytest.fixture
def window(small_window):
    return small_window(4, steps=4, threads=1)


def _run_to_end(qtbot, w: MainWindow, start) -> None:
    assert start()
    qtbot.waitUntil(lambda: w.model.run_state == "idle", timeout=TIMEOUT_MS)


def test_continue_adds_iterations_from_the_picture_on_screen(qtbot, window):
    w = window
    assert not w.run_bar.continue_button.isEnabled()  # nothing to continue yet
    _run_to_end(qtbot, w, w.start_run)
    before = w.model.picture.image.copy()
    assert w.run_bar.continue_button.isEnabled() and w.run_bar.more_steps.value() == 4
    w.run_bar.more_steps.setValue(3)
    seen = []
    w.model.plotPoint.connect(lambda step, *_: seen.append(step))
    _run_to_end(qtbot, w, w.continue_run)
    result = w.model.runs.last_result
    assert result.status == "done" and result.iterations == 7
    assert seen[0] == 5  # the step count goes on
    start = result.metadata["settings"]["init"]
    assert np.array_equal(np.asarray(Image.open(start).convert("RGB")), before)
    assert w.model.settings.steps == 4 and w.model.settings.init == "noise"  # panel unchanged
    assert "7 iterations" in w.progress_label.text()


def test_start_from_the_current_picture(qtbot, window):
    w = window
    combo = w.settings_panel.knobs["init"].widget
    combo.setCurrentIndex(combo.findData(CURRENT_PICTURE))
    assert w.model.message is not None and "no picture yet" in w.model.message.text
    assert w.model.settings.init == "noise" and combo.currentData() == "noise"

    _run_to_end(qtbot, w, w.start_run)
    shown = w.model.picture.image.copy()
    combo.setCurrentIndex(combo.findData(CURRENT_PICTURE))
    init = w.model.settings.init
    assert init.startswith(str(starts_dir()))
    assert np.array_equal(np.asarray(Image.open(init).convert("RGB")), shown)
    w.model.update_settings(style_weight=10.0)
    _run_to_end(qtbot, w, w.start_run)
    assert w.model.runs.last_result.status == "done"
