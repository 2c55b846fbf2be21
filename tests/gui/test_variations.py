"""*Variations…* in the window: the dialog queues one run per value with the right settings or
says in a sentence what is wrong; when the runs have ended the labelled contact sheet is shown
and exports to a readable picture."""

from __future__ import annotations

import numpy as np
import pytest
from dialog_stubs import accepting_variations
from PIL import Image
from PySide6.QtWidgets import QDialog, QFileDialog

from nst_desktop.core.history import History
from nst_desktop.gui.model import WindowModel
from nst_desktop.gui.variations_dialog import VariationsDialog

RUN_TIMEOUT_MS = 120_000


def test_the_dialog_queues_one_run_per_ratio_of_the_style_weight(
    window_without_engine, monkeypatch
):
    monkeypatch.setattr(WindowModel, "busy", property(lambda self: True))  # nothing starts
    w = window_without_engine
    w.model.update_settings(style_weight=40.0, seed=5)
    monkeypatch.setattr(VariationsDialog, "exec", accepting_variations("style-weight", "0.5, 1,2"))
    w.variations_action.trigger()
    runs = w.model.queue.runs
    assert [r.settings["style_weight"] for r in runs] == [20.0, 40.0, 80.0]
    assert [r.settings["seed"] for r in runs] == [5, 5, 5]  # only the knob varies
    assert [r.label for r in runs] == [
        "style weight ×0.5 (20)", "style weight ×1 (40)", "style weight ×2 (80)",
    ]  # fmt: skip
    assert w.model.variations.pending.labels == [r.label for r in runs]
    monkeypatch.setattr(VariationsDialog, "exec", accepting_variations("seed", "0,1"))
    w.queue_panel.buttons["Queue variations…"].click()  # one sheet at a time
    assert len(w.model.queue.runs) == 3 and "still being made" in w.model.message.text


@pytest.mark.parametrize(
    ("knob", "values", "sentence"),
    [
        ("seed", "1,x", "seed: 'x' is not a number."),
        ("seed", "7", "Give 2 to 16 values separated by commas (there are 1)."),
        ("style-weight", "1,-2", "The ratio -2 must be more than 0."),
        ("style-weight", "1,big", "'big' is not a ratio; write numbers such as 0.5,1,2."),
        ("style-scale", "1,9", "style-scale=9: "),
        ("preset", "Nope,Nada", "preset: "),
    ],
)
def test_invalid_values_are_a_sentence_and_the_dialog_stays(qtbot, knob, values, sentence):
    from nst_desktop.core.settings import RunSettings

    dialog = VariationsDialog(RunSettings(), ["Bold", "Soft"])
    qtbot.addWidget(dialog)
    dialog.show()
    assert dialog.values.text() == "0,1,2,3"  # seeds by default
    dialog.choose(knob, values)
    dialog.buttons.accepted.emit()
    assert dialog.isVisible() and dialog.result() != QDialog.DialogCode.Accepted
    assert dialog.error.text().startswith(sentence) and "Traceback" not in dialog.error.text()
    assert dialog.error.text().endswith(".") and "--vary" not in dialog.error.text()
    dialog.choose(knob, "1,2" if knob != "preset" else "Bold,Soft")
    assert dialog.error.text() == ""  # typing clears it


def test_the_cells_run_and_the_labelled_sheet_shows_and_exports(
    small_window, qtbot, tmp_path, monkeypatch
):
    w = small_window(1, steps=2)
    monkeypatch.setattr(VariationsDialog, "exec", accepting_variations("seed", "0,1,2"))
    w.variations_action.trigger()
    variations = w.model.variations
    qtbot.waitUntil(lambda: variations.sheet is not None, timeout=RUN_TIMEOUT_MS)
    sheet = variations.sheet
    assert sheet.labels == ["seed 0", "seed 1", "seed 2"]
    assert len(sheet.entries) == 3 and variations.pending is None
    kept = {e.id: e for e in History().entries()}
    seeds = [kept[sheet.entries[run_id]].settings["seed"] for _, run_id in sheet.cells]
    assert seeds == [0, 1, 2]  # each cell is the history entry of its own run
    assert w.sheet_view.isVisible() and "3 of 3 cells" in w.sheet_view.caption.text()
    assert w.sheet_view.picture.pixmap().width() == sheet.image.width
    pixels = np.asarray(sheet.image)
    cell, pad, top = 128, 8, 30  # core.grid: the smallest cell, its padding, the row title
    assert sheet.image.width == pad + 3 * (cell + pad)
    for i in range(3):  # each cell holds its picture, not the empty box's flat grey
        x = pad + i * (cell + pad)
        box = pixels[top : top + cell, x : x + cell].astype(int)
        empty = (np.abs(box - (225, 225, 222)).sum(axis=-1) == 0).mean()
        assert empty < 0.5 and box.std() > 5, f"cell {i} is empty"
    target = tmp_path / "sheet.png"
    monkeypatch.setattr(
        QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(target), ""))
    )
    w.sheet_view.export_button.click()
    with Image.open(target) as img:
        img.load()
        assert img.size == sheet.image.size
        assert np.array_equal(np.asarray(img.convert("RGB")), pixels)
