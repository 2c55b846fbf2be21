"""Basic and Expert views edit the same settings through the model; the first launch on a
processor starts at Preview quality and says once how to get a full-size picture."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QLabel

from nst_desktop.core import artist as A
from nst_desktop.gui import first_run
from nst_desktop.gui.model import WindowModel


@pytest.fixture
def window(window_without_engine):
    return window_without_engine


def _knob(window, name):
    return window.settings_panel.knobs[name].widget


def test_basic_and_expert_edit_the_same_settings(window):
    basic, m = window.basic_panel, window.model
    assert window.tabs.tabText(0) == "Basic"
    # Basic -> model -> Expert
    basic.strength.setValue(basic.strength.value() + 20)  # one decade bolder
    assert A.style_strength(m.settings) == pytest.approx(10.0, rel=0.01)
    assert _knob(window, "style_weight").value() == pytest.approx(m.settings.style_weight)
    basic.brush.setValue(4)  # two times the style image's scale
    assert m.settings.style_scale == 2.0 and _knob(window, "style_scale").value() == 2.0
    basic.colours.setChecked(True)
    assert m.settings.color == "luminance"
    assert _knob(window, "color").currentData() == "luminance"
    basic.detail.setValue(0)  # all detail
    assert window.layers_panel.style_layers() == A.tilt_weights(A.TILTS[0])
    window.findChild(type(basic.quality_group.button(0)), "quality_print").click()
    assert (m.settings.size, m.settings.steps, m.settings.scales) == (1024, 300, 3)
    assert _knob(window, "size").value() == 1024
    basic.seed.setValue(1234)
    assert m.settings.seed == 1234
    assert window.settings_panel.knobs["seed"].get() == 1234
    # Expert -> model -> Basic
    _knob(window, "size").setValue(300)
    assert basic.quality_group.checkedButton() is None
    assert "Custom: 300 px" in basic.quality_note.text()
    _knob(window, "style_weight").setValue(m.settings.content_weight * 3.6 / 10)
    assert basic.strength_value.text() == "×0.1"
    window.layers_panel.rows["relu2_2"].style.setChecked(True)
    assert not basic.detail_note.isHidden()  # a choice of layers of one's own
    assert window.undo.stack.count() >= 9  # every edit, from either view, is one undo step


def test_first_launch_on_a_processor_starts_at_preview_and_says_so_once(tmp_path):
    qs = QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat)
    m = WindowModel()
    assert first_run.is_first_launch(qs)
    assert not first_run.start_at_preview(m, qs, [("cuda:0", "GPU"), ("cpu", "CPU")], True)
    assert not first_run.start_at_preview(m, qs, [("cpu", "CPU")], False)
    assert m.settings.size == 512
    assert first_run.start_at_preview(m, qs, [("cpu", "CPU")], True)
    assert (m.settings.size, m.settings.steps) == (256, 60)
    text = m.message.text
    assert "Standard" in text and "full-size" in text and "minute" in text
    m2 = WindowModel()
    first_run.start_at_preview(m2, qs, [("cpu", "CPU")], True)
    assert m2.settings.size == 256 and m2.message is None  # said once
    m3 = WindowModel()
    m3.update_settings(size=700)  # chosen by hand before the engine was ready: kept
    assert not first_run.start_at_preview(m3, qs, [("cpu", "CPU")], True)


def test_the_preview_sentence_goes_when_the_settings_change(tmp_path):
    qs = QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat)
    m = WindowModel()
    assert first_run.start_at_preview(m, qs, [("cpu", "CPU")], True)
    assert m.message is not None
    m.update_settings(size=512)  # the change clears the message it made untrue
    assert m.message is None


def test_expert_shows_its_groups_folded_until_asked_for(window):
    assert window.tabs.tabText(1) == "Expert"
    window.tabs.setCurrentIndex(1)
    headers = window.expert_headers
    assert list(headers) == ["Look", "Layers", "Optimizer", "Output", "Machine"]
    panel = window.settings_panel
    groups = {"lbfgs_history": "Optimizer", "size": "Output", "style_weight": "Look",
              "device": "Machine"}  # fmt: skip
    for name, title in groups.items():
        assert panel.knobs[name].widget.parentWidget() is panel.boxes[title]
        assert not headers[title].isChecked() and panel.boxes[title].isHidden()
    assert window.layers_panel.isHidden() is False and not window.layers_panel.isVisible()
    headers["Optimizer"].click()
    assert not panel.boxes["Optimizer"].isHidden() and panel.boxes["Output"].isHidden()
    summary = headers["Optimizer"].parentWidget().findChild(QLabel)
    assert headers["Optimizer"].text() == "Optimizer" and "L-BFGS" in summary.text()
    headers["Layers"].click()
    assert window.layers_panel.isVisible()


def test_a_grouped_expert_knob_and_basic_edit_the_same_setting(window):
    headers, m = window.expert_headers, window.model
    headers["Output"].click()
    size = window.settings_panel.knobs["size"].widget
    size.setValue(384)  # Expert → Output → model → Basic
    assert m.settings.size == 384 and "384 px" in window.basic_panel.quality_note.text()
    window.findChild(type(window.basic_panel.quality_group.button(0)), "quality_preview").click()
    assert size.value() == m.settings.size == 256  # Basic → model → Expert
    window.undo.stack.undo()
    assert size.value() == m.settings.size == 384


def test_the_expert_groups_left_open_are_open_after_a_restart(qtbot, tmp_path, window):
    headers = window.expert_headers
    headers["Optimizer"].click()
    headers["Machine"].click()
    headers["Layers"].click()
    headers["Layers"].click()  # opened and folded again
    assert window.model.groups.open == {"Optimizer", "Machine"}
    qtbot.waitUntil(lambda: window.state_saver.saves > 0)  # written without a clean close

    def restarted():
        from nst_desktop.gui.main_window import MainWindow

        qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
        again = MainWindow(qs, load_engine=False)
        qtbot.addWidget(again)
        again.show()
        return again

    again = restarted()
    opened = {t for t, h in again.expert_headers.items() if h.isChecked()}
    assert opened == again.model.groups.open == {"Optimizer", "Machine"}
    boxes = again.settings_panel.boxes
    assert not boxes["Optimizer"].isHidden() and not boxes["Machine"].isHidden()
    assert boxes["Look"].isHidden() and again.layers_panel.isVisible() is False
    again.close()
    window.close()
    qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    qs.setValue("window/open_groups", '["Look", 5, "Gone", null]')  # damaged or from elsewhere
    qs.sync()
    third = restarted()
    assert third.model.groups.open == {"Look"} and third.expert_headers["Look"].isChecked()
    third.close()
