"""A click on a finished layer-sweep cell opens it large; Save… writes that cell's picture; "Use
these layers" sets the run's layers through the model, so Undo takes them back."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QFileDialog

from nst_desktop.core.images import load_image, read_metadata
from nst_desktop.core.settings import Mode, RunSettings
from nst_desktop.core.stages import plan, sweep_cell_layers, sweep_rows
from nst_desktop.gui.picture import Picture, PictureKind, Source


@pytest.fixture
def window(window_without_engine, qtbot):
    w = window_without_engine
    w.model.set_mode("sweep")
    settings = RunSettings(mode="sweep", size=32, steps=3, weights="random")
    rows = tuple((title, tuple(cells)) for title, cells in sweep_rows(plan(settings)))
    w.model.set_picture(
        Picture(PictureKind.LIVE, run=1, source=Source(Mode.SWEEP), rows=rows, settings=settings)
    )  # a sweep under way: its grid, cells empty
    assert w.stack.currentWidget() is w.sweep_view and w.sweep_view.cell_count() == 10
    w.resize(1280, 820)
    qtbot.waitExposed(w)
    return w


def _cell(color) -> np.ndarray:
    return np.tile(np.array(color, np.uint8), (24, 32, 1))


def _click(qtbot, view, index: int) -> None:
    center = view.cell_rects()[index].center()
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=QPoint(int(center.x()), int(center.y())))


def test_a_click_on_a_finished_cell_opens_it_large(qtbot, window):
    view = window.sweep_view
    _click(qtbot, view, 2)  # not computed yet: nothing opens
    assert window.sweep_cells.dialog is None
    view.set_cell(2, _cell((200, 30, 30)))
    _click(qtbot, view, 2)
    dialog = window.sweep_cells.dialog
    assert dialog is not None and dialog.isVisible()
    assert "content relu3_1" in dialog.windowTitle() and "relu3_1 alone" in dialog.text.text()
    pixmap = dialog.picture.pixmap()
    assert max(pixmap.width(), pixmap.height()) == 512  # large, smoothly scaled
    assert pixmap.toImage().pixelColor(256, 150).red() == 200
    assert dialog.use_button.isEnabled()


def test_save_writes_the_cells_picture(qtbot, window, tmp_path, monkeypatch):
    view = window.sweep_view
    view.set_cell(7, _cell((10, 140, 220)))
    view.set_cell(8, _cell((250, 250, 0)))
    _click(qtbot, view, 7)
    target = tmp_path / "cell.png"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    window.sweep_cells.dialog.save_button.click()
    pixels = np.asarray(load_image(target))
    assert pixels.shape == (24, 32, 3) and tuple(pixels[5, 5]) == (10, 140, 220)
    meta = read_metadata(target)
    assert meta["sweep_cell"] == "style +relu3_1" and meta["settings"]["mode"] == "sweep"
    assert str(target) in window.model.status


def test_use_these_layers_sets_them_through_the_model_and_undo_takes_them_back(qtbot, window):
    view, m = window.sweep_view, window.model
    before = m.settings
    view.set_cell(1, _cell((0, 0, 0)))
    view.set_cell(8, _cell((0, 0, 0)))
    _click(qtbot, view, 8)
    window.sweep_cells.dialog.use_button.click()
    assert m.settings.style_layers == {
        "relu1_1": 1.0,
        "relu2_1": 1.0,
        "relu3_1": 1.0,
        "relu4_1": 1.0,
    }
    assert m.settings.content_layers == before.content_layers
    assert window.layers_panel.style_layers() == m.settings.style_layers
    assert "Undo" in m.status
    _click(qtbot, view, 1)
    window.sweep_cells.dialog.use_button.click()
    assert m.settings.content_layers == {"relu2_1": 1.0}
    window.undo.stack.undo()
    window.undo.stack.undo()
    assert m.settings.style_layers == before.style_layers
    assert m.settings.content_layers == before.content_layers


def test_a_cell_of_another_sweep_is_shown_but_its_layers_are_not_guessed():
    assert sweep_cell_layers(0, "content relu1_1") == {"content_layers": {"relu1_1": 1.0}}
    assert sweep_cell_layers(0, "something else") is None
    assert sweep_cell_layers(99, "style relu1_1") is None
