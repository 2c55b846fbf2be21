"""What the screen shows belongs together: the picture says what it is, the views beside it
describe it, and nothing stays on screen after it stopped being true. Real windows, tiny runs."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from nst_desktop.gui.main_window import MainWindow

RUN_TIMEOUT_MS = 60_000


@pytest.fixture
def images(tmp_path):
    rng = np.random.default_rng(3)
    paths = {}
    for name, shape in (("photo", (32, 40)), ("other", (30, 30)), ("art", (36, 40))):
        paths[name] = str(tmp_path / f"{name}.png")
        Image.fromarray(rng.integers(0, 255, (*shape, 3), dtype=np.uint8)).save(paths[name])
    paths["art2"] = str(tmp_path / "art2.png")
    Image.new("RGB", (24, 24), (30, 160, 90)).save(paths["art2"])
    return paths


@pytest.fixture
def window(qtbot, tmp_path, images):
    w = MainWindow(QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat))
    qtbot.addWidget(w)
    w.show()
    qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=RUN_TIMEOUT_MS)
    w.content_picker.set_path(images["photo"])
    w.style_picker.set_entries([(images["art"], 1.0)])
    knobs = w.settings_panel.knobs
    knobs["weights"].widget.setCurrentIndex(knobs["weights"].widget.findData("random"))
    _spin(w, "size").setValue(32)
    _spin(w, "steps").setValue(4)
    yield w
    w.close()


def _spin(window, name):
    return window.settings_panel.knobs[name].widget


def _caption(window) -> str:
    label = window.findChild(QLabel, "pictureCaption")
    assert label is not None, "the picture has no caption"
    return label.text()


def _run(qtbot, window) -> None:
    assert window.start_run()
    qtbot.waitUntil(window.run_button.isEnabled, timeout=RUN_TIMEOUT_MS)


def _start_long(qtbot, window, steps: int = 3) -> None:
    _spin(window, "steps").setValue(100_000)
    assert window.start_run()
    qtbot.waitUntil(lambda: f"{steps} / " in window.progress_label.text(), timeout=RUN_TIMEOUT_MS)


def _stop(qtbot, window) -> None:
    window.stop_run()
    qtbot.waitUntil(window.run_button.isEnabled, timeout=RUN_TIMEOUT_MS)


def test_the_picture_says_what_it_is(qtbot, window):
    assert _caption(window) == "Photo · photo.png"
    _run(qtbot, window)
    assert _caption(window).startswith("Run 1 · finished")
    assert _caption(window).endswith("· random (untrained, seed 0)")  # which network made it
    _start_long(qtbot, window)
    assert _caption(window).startswith("Run 2 · live")
    _stop(qtbot, window)
    assert _caption(window).startswith("Run 2 · stopped")


def test_a_result_of_other_inputs_is_never_compared_with_the_photo(qtbot, window, images):
    _run(qtbot, window)
    assert window.compare_button.isEnabled()
    window.compare_button.setChecked(True)
    window.content_picker.set_path(images["other"])
    assert not window.compare_button.isEnabled() and not window.compare_button.isChecked()
    assert window.preview._before is None  # the new photo is not set against the old result
    assert _caption(window).startswith("Previous result · run 1")
    assert "another photo" in _caption(window)
    window.content_picker.set_path(images["photo"])  # the photo it was made from: comparable
    assert window.compare_button.isEnabled() and _caption(window).startswith("Run 1")
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("content-rep"))
    assert not window.compare_button.isEnabled()
    assert "made as style transfer" in _caption(window)


def test_the_plot_and_progress_line_belong_to_the_picture_on_screen(qtbot, window):
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("sweep"))
    _spin(window, "steps").setValue(2)
    _run(qtbot, window)
    points = window.loss_plot.point_count("total")
    line = window.progress_label.text()
    assert points > 0 and "iterations" in line
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("style-rep"))
    # the sweep stays on screen as a previous result, with its own curve and line
    assert window.stack.currentWidget() is window.sweep_view
    assert _caption(window).startswith("Previous result")
    assert window.loss_plot.point_count("total") == points
    assert window.progress_label.text() == line
    # a new run shows nothing of the old one before its own first frame
    _spin(window, "steps").setValue(100_000)
    assert window.start_run()
    assert window.stack.currentWidget() is window.preview
    assert window.preview.current_image() is None
    assert window.loss_plot.point_count("total") == 0
    assert window.progress_label.text() == "starting…"
    _stop(qtbot, window)


def test_time_left_shows_only_while_the_run_runs(qtbot, window):
    _start_long(qtbot, window)
    assert " left" in window.progress_label.text()
    window.toggle_pause()
    qtbot.wait(300)  # an evaluation in flight may still report
    assert " left" not in window.progress_label.text()
    assert "Paused" in window.progress_label.text()
    window.toggle_pause()
    step = int(window.progress_label.text().split(" / ")[0].split()[-1])
    qtbot.waitUntil(lambda: f"{step + 2} / " in window.progress_label.text(), timeout=30_000)
    assert " left" in window.progress_label.text()
    _stop(qtbot, window)
    assert " left" not in window.progress_label.text()
    assert window.progress_label.text().startswith("stopped at iteration")


def test_the_live_time_left_replaces_the_estimate(qtbot, window):
    qtbot.waitUntil(lambda: "in all" in window.estimate_label.text(), timeout=RUN_TIMEOUT_MS)
    _start_long(qtbot, window)
    assert window.estimate_label.text() == ""
    assert " left" in window.progress_label.text()
    _stop(qtbot, window)
    assert "in all" in window.estimate_label.text()  # the next run's estimate is back


def test_each_mode_gets_its_own_start_from_back(window):
    init = window.settings_panel.knobs["init"].widget
    init.setCurrentIndex(init.findData("content"))
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("content-rep"))
    assert init.currentData() == "noise"
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("sweep"))
    assert init.currentData() == "noise"
    window.mode_combo.setCurrentIndex(window.mode_combo.findData("transfer"))
    assert init.currentData() == "content"  # the transfer starts from the photo again


def test_a_preset_reports_old_and_new_values_of_what_really_changed(window, images):
    window.style_picker.set_entries([(images["art"], 1.0), (images["art2"], 3.0)])
    _spin(window, "size").setValue(640)
    panel = window.preset_panel
    assert panel.select("Fast preview")
    panel.apply_selected()
    report = panel.changes.text()
    assert "Size (px) 640 → 256" in report and "Iterations 4 → 100" in report
    assert "Style blend" not in report  # the artworks keep their weights
    assert window.style_picker.entries() == [(images["art"], 1.0), (images["art2"], 3.0)]
    assert _spin(window, "size").value() == 256


def test_a_message_goes_when_it_stops_being_true(qtbot, window, images):
    window.content_picker.set_path(None)
    assert window.start_run() is False
    assert window.message_bar.text().startswith("Choose a content image first")
    window.content_picker.set_path(images["photo"])
    assert window.message_bar.text() == ""
    rows = window.layers_panel.rows
    for row in rows.values():
        row.style.setChecked(False)
    assert window.start_run() is False
    assert "style layer" in window.message_bar.text()
    rows["relu2_1"].style.setChecked(True)
    assert window.message_bar.text() == ""
    window.style_picker.set_entries([])
    assert window.start_run() is False
    assert window.message_bar.text().startswith("Choose at least one style image")
    window.style_picker.add_path(images["art"])
    assert window.message_bar.text() == ""


def test_export_is_offered_only_with_a_result(qtbot, window, images):
    assert not window.export_button.isEnabled() and not window.export_action.isEnabled()
    _run(qtbot, window)
    assert window.export_button.isEnabled() and window.export_action.isEnabled()
    window.content_picker.set_path(images["other"])  # a previous result can still be exported
    assert window.export_button.isEnabled()
