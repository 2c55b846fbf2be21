"""Esc, Stop and closing the window ask before they end a run that has gone on for a while;
"Stop and keep the picture" is the default and "Don't ask again" is remembered."""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from nst_desktop.core.history import History
from nst_desktop.gui import closing
from nst_desktop.gui.main_window import MainWindow

TIMEOUT_MS = 60_000


class Clock:
    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t


@pytest.fixture
def clock(monkeypatch):
    c = Clock()
    monkeypatch.setattr(closing, "now", c)
    return c


@pytest.fixture
def asked(monkeypatch):
    """The question, answered from ``asked.answers`` (stop?, don't ask again?)."""

    class Asked(list):
        answers = [(True, False)]

    record = Asked()

    def confirm(_parent, minutes):
        record.append(minutes)
        return record.answers[min(len(record), len(record.answers)) - 1]

    monkeypatch.setattr(closing, "confirm_end", confirm)
    return record


@pytest.fixture
def window(small_window):
    return small_window(3, steps=100_000)


def _start(qtbot, w: MainWindow) -> None:
    assert w.start_run()
    qtbot.waitUntil(lambda: w.model.runs.live.last is not None, timeout=TIMEOUT_MS)


def _idle(qtbot, w: MainWindow) -> None:
    qtbot.waitUntil(lambda: w.model.run_state == "idle", timeout=TIMEOUT_MS)


def test_a_short_run_stops_without_a_question(qtbot, window, clock, asked):
    _start(qtbot, window)
    clock.t += closing.LONG_RUN_S - 5
    window.stop_run()
    _idle(qtbot, window)
    assert asked == []


def test_stop_on_a_long_run_asks_and_keep_running_keeps_it(qtbot, window, clock, asked):
    _start(qtbot, window)
    clock.t += closing.LONG_RUN_S + 1
    asked.answers = [(False, False), (True, False)]
    window.stop_action.trigger()  # Esc
    assert len(asked) == 1 and window.model.run_state == "running"
    window.stop_button.click()
    assert len(asked) == 2
    _idle(qtbot, window)
    assert window.model.runs.last_result.status == "stopped"
    assert window.model.picture.image is not None


def test_dont_ask_again_is_remembered(qtbot, window, clock, asked):
    _start(qtbot, window)
    clock.t += 100
    asked.answers = [(True, True)]
    window.stop_run()
    _idle(qtbot, window)
    assert window.qs.value(closing.ASK_KEY) in (False, "false")
    _start(qtbot, window)
    clock.t += 100
    window.stop_run()
    _idle(qtbot, window)
    assert len(asked) == 1  # not asked the second time


def test_closing_during_a_long_run_asks(qtbot, window, clock, asked):
    _start(qtbot, window)
    clock.t += 45
    asked.answers = [(False, False), (True, False)]
    assert window.close() is False  # "Keep running"
    assert window.isVisible() and window.model.run_state == "running"
    assert window.close() is True
    assert len(asked) == 2 and window.model.runs.last_result.status == "stopped"
    kept = window.model.runs.last_result.history_id  # the stopped picture is kept
    assert kept and History().get(kept).result.is_file()


def test_the_question_stops_by_default(qtbot, monkeypatch):
    seen = {}

    def exec_(box):
        seen["text"] = box.text()
        seen["buttons"] = [b.text() for b in box.buttons()]
        box.defaultButton().click()
        return 0

    monkeypatch.setattr(QMessageBox, "exec", exec_)
    assert closing.confirm_end(None, 12) == (True, False)
    assert "12 min" in seen["text"]
    assert seen["buttons"][:2] == ["Stop and keep the picture", "Keep running"]

    def keep(box):
        box.escapeButton().click()
        box.checkBox().setChecked(True)
        return 0

    monkeypatch.setattr(QMessageBox, "exec", keep)
    assert closing.confirm_end(None, 1) == (False, True)
