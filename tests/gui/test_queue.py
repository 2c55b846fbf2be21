"""The queue: controls stay editable during a run, *Queue* adds a run with what is on screen,
the queued runs start one after another, can be reordered and cancelled, and survive a restart."""

from __future__ import annotations

import numpy as np
import pytest
from dialog_stubs import accepting_variations
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog

from nst_desktop.core.history import History
from nst_desktop.core.run_queue import load_queue, queue_file
from nst_desktop.gui.main_window import MainWindow
from nst_desktop.gui.model import WindowModel
from nst_desktop.gui.variations_dialog import VariationsDialog

RUN_TIMEOUT_MS = 90_000


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(6)
    paths = {}
    for name in ("photo", "photo2", "art"):
        paths[name] = str(tmp_path / f"{name}.png")
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(paths[name])
    return paths


def _window(qtbot, tmp_path, images, *, engine: bool = True) -> MainWindow:
    qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs, load_engine=engine)
    qtbot.addWidget(w)
    w.show()
    if engine:
        qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.model.set_content(images["photo"])
    w.model.set_styles([(images["art"], 1.0)])
    w.model.update_settings(weights="random", size=32, steps=2)
    return w


def test_queue_during_a_run_then_runs_follow(qtbot, tmp_path, images, monkeypatch):
    w = _window(qtbot, tmp_path, images)
    w.model.update_settings(steps=100_000, seed=1)
    assert w.start_run()
    assert w.settings_panel.isEnabled() and w.style_picker.isEnabled()  # editable while running
    w.model.update_settings(steps=2, seed=7)
    w.queue_panel.buttons["Queue"].click()
    monkeypatch.setattr(
        QFileDialog, "getOpenFileNames", staticmethod(lambda *a, **k: ([images["photo2"]], ""))
    )
    w.queue_panel.buttons["Queue photos…"].click()
    assert [r.settings["seed"] for r in w.model.queue.runs] == [7, 7]
    assert [r.content for r in load_queue()[0]] == [images["photo"], images["photo2"]]
    live = w.model.runs
    qtbot.waitUntil(lambda: live.live.last is not None, timeout=RUN_TIMEOUT_MS)  # a picture
    w.stop_run()
    qtbot.waitUntil(lambda: len(History().entries()) == 3, timeout=RUN_TIMEOUT_MS)
    qtbot.waitUntil(lambda: w.model.run_state == "idle" and not w.model.queue.going)
    entries = History().entries()
    assert [e.settings["seed"] for e in entries] == [7, 7, 1]
    assert [e.content.name for e in entries] == ["photo2.png", "photo.png", "photo.png"]
    assert w.model.queue.runs == [] and w.model.content_path == images["photo2"]
    w.close()


def test_reorder_cancel_and_survive_a_restart(qtbot, tmp_path, images, monkeypatch):
    monkeypatch.setattr(WindowModel, "busy", property(lambda self: True))  # nothing starts
    monkeypatch.setattr(VariationsDialog, "exec", accepting_variations("seed", "0,1,2"))
    w = _window(qtbot, tmp_path, images, engine=False)
    w.queue_panel.buttons["Queue variations…"].click()
    q = w.model.queue
    assert [(r.label, r.settings["seed"]) for r in q.runs] == [
        ("seed 0", 0), ("seed 1", 1), ("seed 2", 2),
    ]  # fmt: skip
    ids = [r.id for r in q.runs]
    w.queue_panel.list.setCurrentRow(2)
    assert q.selected == ids[2]
    w.queue_panel.buttons["Up"].click()
    assert [r.id for r in q.runs] == [ids[0], ids[2], ids[1]] and q.selected == ids[2]
    w.queue_panel.list.setCurrentRow(0)
    w.queue_panel.buttons["Cancel"].click()
    assert [r.id for r in load_queue()[0]] == [ids[2], ids[1]]
    w.close()
    again = _window(qtbot, tmp_path, images, engine=False)
    qtbot.waitUntil(lambda: len(again.model.queue.runs) == 2)
    assert [r.id for r in again.model.queue.runs] == [ids[2], ids[1]]
    assert again.queue_panel.list.count() == 2 and not again.model.queue.going
    assert again.queue_panel.buttons["Run queue"].isEnabled()
    again.close()
    queue_file().write_text("{damaged")
    third = _window(qtbot, tmp_path, images, engine=False)
    qtbot.waitUntil(lambda: third.model.message is not None)
    assert "queue is damaged" in third.model.message.text and third.model.queue.runs == []
    third.close()
