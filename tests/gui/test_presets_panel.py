"""Preset panel: apply emits the new settings; save/rename/delete/import/export via dialogs."""

from __future__ import annotations

import dataclasses
import json

import pytest
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFileDialog, QInputDialog, QMessageBox

from nst_desktop.core import presets as P
from nst_desktop.core.settings import RunSettings
from nst_desktop.gui.presets_panel import PresetPanel


class Current:
    def __init__(self) -> None:
        self.settings = RunSettings(device="cpu", threads=2, weights="random", size=640)

    def __call__(self) -> RunSettings:
        return self.settings


@pytest.fixture
def current():
    return Current()


@pytest.fixture
def panel(qtbot, current):
    w = PresetPanel(current)
    qtbot.addWidget(w)
    return w


@pytest.fixture
def answers(monkeypatch):
    """Queue text answers for QInputDialog.getText; record QMessageBox warnings."""
    queue: list[tuple[str, bool]] = []
    warned: list[str] = []
    monkeypatch.setattr(QInputDialog, "getText", staticmethod(lambda *a, **k: queue.pop(0)))
    monkeypatch.setattr(
        QMessageBox, "warning", staticmethod(lambda parent, title, text, *a: warned.append(text))
    )
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.Yes)
    )
    return queue, warned


def test_lists_bundled_presets_with_descriptions(panel):
    names = [p.name for p in panel.presets()]
    assert len(names) >= 8 and all(p.bundled for p in panel.presets())
    assert panel.list.count() == len(names)
    assert panel.select("fast preview")
    assert panel.description.text() == P.find_preset("Fast preview").description
    assert panel.list.currentItem().toolTip() == panel.description.text()
    assert not panel.delete_action.isEnabled() and not panel.rename_action.isEnabled()
    assert not panel.warnings.isVisible()


def _click(qtbot, panel, name: str) -> None:
    """One real mouse click on the preset called ``name``."""
    panel.show()
    qtbot.waitExposed(panel)
    item = next(
        panel.list.item(r)
        for r in range(panel.list.count())
        if panel.list.item(r).text().removeprefix("✓ ") == name
    )
    panel.list.scrollToItem(item)
    rect = panel.list.visualItemRect(item)
    qtbot.mouseClick(panel.list.viewport(), Qt.MouseButton.LeftButton, pos=rect.center())


def test_apply_emits_settings_and_changes(panel, qtbot, current):
    with qtbot.waitSignal(panel.presetApplied) as blocker:
        _click(qtbot, panel, "Fast preview")  # one click applies
    new, changed = blocker.args
    assert isinstance(new, RunSettings) and new.size == 256 and new.steps == 100
    assert (new.device, new.threads, new.weights) == ("cpu", 2, "random")
    assert "size" in changed and "device" not in changed
    assert "Size (px)" in panel.changes.text()
    current.settings = new
    panel.show_settings(new)
    assert panel.matching == "Fast preview"
    assert panel.list.currentItem().text() == "✓ Fast preview"
    with qtbot.waitSignal(panel.presetApplied) as blocker:  # a second click changes nothing
        _click(qtbot, panel, "Fast preview")
    assert blocker.args[1] == [] and "already match" in panel.changes.text()


def test_the_list_marks_the_matching_preset_and_none_when_none_does(panel, current):
    paper = P.find_preset("Paper (Gatys et al.)")
    current.settings = P.apply_preset(paper, RunSettings(size=640, steps=50))[0]
    assert (current.settings.size, current.settings.steps) == (640, 50)  # a look keeps quality
    panel.show_settings(current.settings)
    assert panel.matching == paper.name
    current.settings = dataclasses.replace(current.settings, tv_weight=7.5)  # one's own look
    panel.show_settings(current.settings)
    assert panel.matching is None and panel.list.currentItem() is None
    assert not any(panel.list.item(r).text().startswith("✓") for r in range(panel.list.count()))


def test_save_rename_delete_with_dialogs(panel, qtbot, current, answers):
    queue, warned = answers
    current.settings = RunSettings(size=300, tv_weight=2.5, device="cpu")
    queue += [("Dusk", True), ("warm evening light", True)]
    panel.save_action.trigger()
    assert warned == []
    assert panel.selected().name == "Dusk" and not panel.selected().bundled
    assert panel.description.text() == "warm evening light"
    assert panel.rename_action.isEnabled() and panel.delete_action.isEnabled()
    saved = P.find_preset("dusk")
    assert saved.settings["tv_weight"] == 2.5 and "device" not in saved.settings

    queue += [("Paper (Gatys et al.)", True), ("", True)]  # a bundled name is refused
    panel.save_action.trigger()
    assert len(warned) == 1 and "bundled" in warned[0]

    queue += [("Night", True)]
    panel.rename_action.trigger()
    assert panel.selected().name == "Night"
    assert [p.name for p in panel.presets() if not p.bundled] == ["Night"]

    with qtbot.waitSignal(panel.presetApplied) as blocker:
        panel.apply_selected()
    assert blocker.args[0].tv_weight == 2.5

    panel.delete_action.trigger()
    assert all(p.bundled for p in panel.presets())
    assert not list(P.user_dir().glob("*.json"))


def test_cancelled_dialogs_change_nothing(panel, answers):
    queue, _ = answers
    queue += [("", False)]
    panel.save_current()
    assert all(p.bundled for p in P.list_presets()[0])


def test_delete_needs_confirmation(panel, monkeypatch, answers):
    queue, _ = answers
    queue += [("Mine", True), ("", True)]
    panel.save_current()
    monkeypatch.setattr(
        QMessageBox, "question", staticmethod(lambda *a, **k: QMessageBox.StandardButton.No)
    )
    panel.delete_selected()
    assert P.find_preset("Mine")


def test_import_and_export(panel, monkeypatch, tmp_path, answers):
    _, warned = answers
    panel.select("Bold strokes")
    target = tmp_path / "bold"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    panel.export_action.trigger()
    exported = tmp_path / "bold.json"
    assert json.loads(exported.read_text())["name"] == "Bold strokes"
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(exported), ""))
    )
    panel.import_action.trigger()
    assert panel.selected().name == "Bold strokes (2)" and not panel.selected().bundled
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    monkeypatch.setattr(
        QFileDialog, "getOpenFileName", staticmethod(lambda *a, **k: (str(broken), ""))
    )
    panel.import_action.trigger()
    assert len(warned) == 1 and "not valid JSON" in warned[0]


def test_damaged_user_file_warns_once(qtbot, current):
    P.user_dir().mkdir(parents=True)
    (P.user_dir() / "bad.json").write_text("{nope")
    panel = PresetPanel(current)
    qtbot.addWidget(panel)
    panel.show()
    assert panel.warnings.isVisible() and "bad.json" in panel.warnings.text()
    panel.refresh()
    assert not panel.warnings.isVisible()  # shown once, not on every refresh
