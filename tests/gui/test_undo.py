"""Undo and redo of settings: panel edits, a preset and "Load settings" each one step."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtGui import QKeySequence

from nst_desktop.core.images import save_image
from nst_desktop.gui.model import RunState


@pytest.fixture
def window(window_without_engine):
    return window_without_engine


def _knob(window, name):
    return window.settings_panel.knobs[name].widget


def test_undo_redo_across_a_preset_and_load_settings(window, tmp_path):
    undo = window.undo
    m = window.model
    assert not undo.undo_action.isEnabled()  # restoring the saved settings is no step
    _knob(window, "size").setValue(300)  # a panel edit
    assert m.settings.size == 300
    edited = m.settings

    panel = window.preset_panel
    assert panel.select("Fine texture")
    panel.apply_selected()
    looked = m.settings
    assert looked != edited and looked.size == 300  # a look keeps the size

    picture = tmp_path / "made.png"
    block = {"tv_weight": 4.5, "seed": 77, "size": 200}
    save_image(np.zeros((8, 8, 3), np.uint8), picture, metadata={"settings": block})
    assert window.load_settings_from(str(picture))
    loaded = m.settings
    assert (loaded.tv_weight, loaded.seed, loaded.size) == (4.5, 77, 200)

    undo.undo_action.trigger()
    assert m.settings == looked
    assert _knob(window, "size").value() == 300  # the views follow
    undo.undo_action.trigger()
    assert m.settings == edited
    assert panel.matching is None or panel.matching != "Fine texture"
    undo.redo_action.trigger()
    assert m.settings == looked
    assert panel.matching == "Fine texture"
    undo.redo_action.trigger()
    assert m.settings == loaded
    assert not undo.redo_action.isEnabled()
    for _ in range(3):
        undo.undo_action.trigger()
    assert m.settings.size != 300  # back before the panel edit
    assert not undo.undo_action.isEnabled()


def test_an_edit_after_undo_drops_the_redo_and_quick_edits_merge(window):
    m, undo = window.model, window.undo
    size = _knob(window, "size")
    start = m.settings.size
    for value in (301, 302, 303):  # typing a number: one step
        size.setValue(value)
    assert undo.stack.count() == 1
    undo.undo_action.trigger()
    assert m.settings.size == start
    _knob(window, "tv_weight").setValue(2.0)
    assert not undo.redo_action.isEnabled()


def test_edit_menu_shortcuts_and_no_undo_during_a_run(window):
    menus = [a.text() for a in window.menuBar().actions()]
    assert menus[:2] == ["&File", "&Edit"]
    assert window.undo.undo_action.shortcut() == QKeySequence(QKeySequence.StandardKey.Undo)
    assert QKeySequence("Ctrl+Shift+Z") in window.undo.redo_action.shortcuts()
    _knob(window, "size").setValue(300)
    window.model.set_run_state(RunState.RUNNING)
    assert not window.undo.undo_action.isEnabled()
    window.model.set_run_state(RunState.IDLE)
    assert window.undo.undo_action.isEnabled()


def test_a_chosen_weights_file_is_checked_when_chosen(qtbot, window, tmp_path):
    import torch

    other = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(4, 3, 7, 7)}, other)
    window.model.update_settings(weights=str(other))  # as Expert → Machine's file choice does
    qtbot.waitUntil(lambda: window.model.message is not None, timeout=30_000)
    assert "this is not a VGG19 weights file" in window.model.message.text
    assert window.model.run_state == RunState.IDLE  # told without a run
