"""The window read at a glance: the loss plot hides and shows, progress in the title, a call
for attention when a run ends in the background, progress on the taskbar entry, focus mode."""

from __future__ import annotations

import re

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QKeySequence
from PySide6.QtWidgets import QApplication, QSystemTrayIcon

from nst_desktop.gui import taskbar
from nst_desktop.gui.attention import progress_title
from nst_desktop.gui.engine import PlannerProbe
from nst_desktop.gui.main_window import MainWindow
from nst_desktop.gui.model import RunState
from nst_desktop.gui.progress import ProgressLine

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def sent(monkeypatch) -> list[dict]:
    """What the window sends to the taskbar entry (a fake D-Bus emitter records it)."""
    out: list[dict] = []
    monkeypatch.setattr(taskbar, "dbus_emitter", lambda: out.append)
    return out


@pytest.fixture
def window(qtbot, tmp_path, monkeypatch, sent):
    monkeypatch.setattr(PlannerProbe, "start", lambda self, device: None)  # no speed test
    rng = np.random.default_rng(1)
    content, style = tmp_path / "photo.png", tmp_path / "art.png"
    Image.fromarray(rng.integers(0, 255, (32, 40, 3), dtype=np.uint8)).save(content)
    Image.fromarray(rng.integers(0, 255, (36, 40, 3), dtype=np.uint8)).save(style)
    qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs)
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.content_picker.set_path(str(content))
    w.style_picker.set_entries([(str(style), 1.0)])
    w.model.update_settings(weights="random", size=32, steps=8)
    yield w
    w.close()


def test_the_plot_hides_and_shows_from_the_view_menu(qtbot, window):
    act = window.view_actions.plot_action
    assert act.isChecked() and window.loss_plot.isVisible()
    height = window.preview.height()
    act.trigger()
    assert not window.loss_plot.isVisible()
    qtbot.waitUntil(lambda: window.preview.height() > height)  # the picture takes the room
    act.trigger()
    assert window.loss_plot.isVisible()
    sizes = window.picture_area.plot_splitter.sizes()
    assert sizes[1] > 0  # resizable: it sits in a splitter with the picture


def test_dragging_the_plot_away_unchecks_it(window):
    splitter = window.picture_area.plot_splitter
    splitter.setSizes([sum(splitter.sizes()), 0])
    splitter.splitterMoved.emit(sum(splitter.sizes()), 1)
    assert not window.view_actions.plot_action.isChecked()


def test_progress_title_words():
    assert progress_title(RunState.IDLE, ProgressLine("x", 3, 8)) == "NST Desktop"
    assert progress_title(RunState.RUNNING, ProgressLine("x", 37, 100)) == "37 % · NST Desktop"
    assert progress_title(RunState.PAUSED, ProgressLine("x", 1, 2)).startswith("50 % paused")
    assert progress_title(RunState.RUNNING, ProgressLine("x", 0, 0)).startswith("Starting")


def test_the_title_shows_progress_and_a_background_end_asks_for_attention(
    qtbot, window, monkeypatch
):
    alerts = []
    monkeypatch.setattr(QApplication, "alert", lambda w, ms=0: alerts.append(w))
    monkeypatch.setattr(QSystemTrayIcon, "isSystemTrayAvailable", lambda: False)
    monkeypatch.setattr(window, "isActiveWindow", lambda: False)
    titles: list[str] = []
    window.windowTitleChanged.connect(titles.append)
    assert window.windowTitle() == "NST Desktop"
    assert window.start_run()
    qtbot.waitUntil(lambda: window.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)
    percents = [t for t in titles if re.fullmatch(r"\d+ % · NST Desktop", t)]
    assert percents, titles
    assert window.windowTitle() == "NST Desktop"
    assert alerts == [window]


def test_the_taskbar_entry_shows_progress_during_a_run_and_none_after(qtbot, window, sent):
    assert sent == []  # nothing shown before a run
    assert window.start_run()
    qtbot.waitUntil(lambda: window.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)
    during = [p["progress"] for p in sent if p["progress-visible"]]
    assert len(during) >= 2 and during == sorted(during) and 0 < during[-1] <= 1
    assert all(isinstance(v, float) for v in during)
    assert sent[-1] == {"progress": 0.0, "progress-visible": False}  # cleared at the end


def test_the_progress_bar_shows_only_during_a_run(qtbot, window):
    bar, label = window.progress_bar, window.progress_label
    assert bar.isHidden() and label.isHidden()  # idle: no empty field beside "500 more"
    seen: list[bool] = []
    window.model.progressChanged.connect(lambda _line: seen.append(bar.isVisible()))
    assert window.start_run()
    assert bar.isVisible()
    qtbot.waitUntil(lambda: window.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)
    assert len(seen) >= 3 and all(seen[1:-1])  # each step of the run (after "starting…")
    assert bar.isHidden() and label.text().startswith("8 iterations in")  # the result, in words
    assert label.isVisible()


def test_the_taskbar_is_quiet_without_a_bus_and_survives_a_failing_one(monkeypatch):
    line = ProgressLine("x", 3, 10)
    monkeypatch.setattr(taskbar.sys, "platform", "win32")
    assert taskbar.dbus_emitter() is None  # Windows and macOS: the title is the progress
    monkeypatch.setattr(taskbar.sys, "platform", "linux")
    from PySide6 import QtDBus

    class NoBus:
        def isConnected(self):  # noqa: N802 (Qt API)
            return False

    monkeypatch.setattr(QtDBus.QDBusConnection, "sessionBus", staticmethod(lambda: NoBus()))
    assert taskbar.dbus_emitter() is None
    quiet = taskbar.TaskbarProgress()
    assert not quiet.active
    quiet.show(RunState.RUNNING, line)  # nothing to send to, no error
    calls = []

    def broken(properties):
        calls.append(properties)
        raise RuntimeError("the bus went away")

    failing = taskbar.TaskbarProgress(emit=broken)
    failing.show(RunState.RUNNING, line)
    failing.show(RunState.RUNNING, ProgressLine("x", 5, 10))
    assert len(calls) == 1 and not failing.active  # tried once, then off


def test_a_run_that_ends_in_front_does_not_call(qtbot, window, monkeypatch):
    alerts = []
    monkeypatch.setattr(QApplication, "alert", lambda w, ms=0: alerts.append(w))
    monkeypatch.setattr(window, "isActiveWindow", lambda: True)
    assert window.start_run()
    qtbot.waitUntil(lambda: window.model.run_state == "idle", timeout=RUN_TIMEOUT_MS)
    assert alerts == []


def test_focus_mode_hides_the_panels_and_the_plot_and_gives_them_back(qtbot, window):
    act = window.view_actions.focus_action
    assert act.shortcut() == QKeySequence("F11")
    left = window.splitter.widget(0)
    width = window.preview.width()
    window.activateWindow()
    qtbot.keyClick(window, Qt.Key.Key_F11)
    if not act.isChecked():  # no focus for key events on this platform: use the action
        act.trigger()
    assert not left.isVisible() and not window.loss_plot.isVisible()
    assert not window.bottom_tabs.isVisible()  # the history strip goes too
    qtbot.waitUntil(lambda: window.preview.width() > width)
    act.trigger()
    assert left.isVisible() and window.loss_plot.isVisible() and window.bottom_tabs.isVisible()


def test_focus_mode_gives_back_a_hidden_plot_hidden(window):
    window.view_actions.plot_action.trigger()
    window.view_actions.set_focus_mode(True)
    window.view_actions.set_focus_mode(False)
    assert not window.loss_plot.isVisible()
    assert window.splitter.widget(0).isVisible()
