"""Words and layout in the window: style rows say "1 · name", the mode selector's choices stay
put, times read as "3 min 20 s", the estimate line wraps."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QComboBox, QRadioButton

from nst_desktop.core.failures import RunStatus
from nst_desktop.gui.main_window import MainWindow
from nst_desktop.gui.progress import ended_line


@pytest.fixture
def window(qtbot, tmp_path):
    qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs, load_engine=False)
    qtbot.addWidget(w)
    w.resize(1000, 700)
    w.show()
    qtbot.waitExposed(w)
    yield w
    w.close()


def test_style_rows_are_numbered_and_readable(window, tmp_path, qtbot):
    paths = []
    for name in ("swirls.png", "a_rather_long_name_of_a_painting_by_someone.png"):
        p = tmp_path / name
        Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(p)
        paths.append(str(p))
    window.style_picker.set_entries([(p, 1.0) for p in paths])
    rows = window.style_picker._rows
    qtbot.waitUntil(lambda: rows[0].name.text() == "1 · swirls.png")
    long_text = rows[1].name.text()
    first, _, second = long_text.partition("\n")  # too long for one line: it wraps
    assert first.startswith("2 · a_rather_") and first.endswith("_") and second
    assert "2 · a_rather_long_name".startswith(long_text.replace("\n", "")[:22])
    assert second.endswith((".png", "…"))  # whole, or cut at its end only
    assert paths[1] in rows[1].name.toolTip()  # the full path is a hover away
    assert rows[1].name.width() >= 90  # a line of its own, not squeezed by the weight box
    hint = window.style_picker._empty
    assert hint.isHidden()  # two rows fill the list
    window.style_picker._remove(rows[0])
    qtbot.waitUntil(lambda: window.style_picker._rows[0].name.text().startswith("1 · a_"))
    assert hint.isVisible() and "blend" in hint.text()  # the free room says what it is for


def test_names_are_whole_at_the_default_window_size(qtbot, tmp_path):
    qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs, load_engine=False)  # the size a first start opens at
    qtbot.addWidget(w)
    w.show()
    qtbot.waitExposed(w)
    style, photo = tmp_path / "style_swirls.png", tmp_path / "content_landscape.png"
    for p in (style, photo):
        Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(p)
    w.style_picker.set_entries([(str(style), 1.0)])
    w.content_picker.set_path(str(photo))
    row = w.style_picker._rows[0]
    qtbot.waitUntil(lambda: row.name.text() == "1 · style_swirls.png")  # one line, not cut
    assert str(style) in row.name.toolTip()
    shown = w.content_picker.button.text()
    assert shown.replace("\n", "") == "content_landscape.png" and "…" not in shown
    assert str(photo) in w.content_picker.button.toolTip()
    w.close()


def test_the_mode_selector_is_radio_buttons_that_stay_put(window):
    assert window.findChildren(QComboBox, "modeCombo") == []
    buttons = window.mode_combo.findChildren(QRadioButton)
    assert [b.text() for b in buttons] == [
        "Style transfer",
        "Content representation",
        "Style representation",
        "Layer sweep",
    ]
    where = [b.geometry() for b in buttons]
    buttons[3].click()
    assert window.model.settings.mode == "sweep"
    assert [b.geometry() for b in buttons] == where  # choosing moves nothing
    buttons[0].click()
    assert window.model.settings.mode == "transfer"
    window.model.set_mode("style-rep")  # the view follows the model
    assert buttons[2].isChecked()


def test_times_read_as_words_and_the_estimate_wraps(window):
    assert ended_line(RunStatus.DONE, 500, 200).text == "500 iterations in 3 min 20 s"
    assert window.estimate_label.wordWrap()


def test_empty_lines_under_the_run_buttons_take_no_room(window):
    from nst_desktop.gui.model import EstimateLine
    from nst_desktop.gui.progress import ProgressLine

    bar = window.run_bar
    window.model.set_estimate(EstimateLine(""))
    window.model.set_progress(ProgressLine(""))
    assert bar.estimate_label.isHidden() and bar.progress_label.isHidden()
    height = bar.sizeHint().height()
    window.model.set_estimate(EstimateLine("About 1 min on this CPU."))
    window.model.set_progress(ended_line(RunStatus.DONE, 60, 50))
    assert bar.estimate_label.isVisible() and bar.progress_label.isVisible()
    assert bar.sizeHint().height() > height


def test_a_long_picture_caption_is_cut_at_its_end_not_mid_letter(window, tmp_path):
    photo = tmp_path / ("a_photo_with_a_name_far_too_long_for_the_caption_" * 3 + ".png")
    Image.fromarray(np.full((20, 20, 3), 90, np.uint8)).save(photo)
    window.content_picker.set_path(str(photo))
    caption = window.picture_area.caption
    assert caption.text() == f"Photo · {photo.name}"  # the words stay whole for readers
    assert caption.minimumSizeHint().width() == 0  # a narrow window may cut it ...
    caption.resize(200, caption.height())
    image = caption.grab()  # ... and then paints it with "…" (no exception, no overflow)
    assert not image.isNull()
