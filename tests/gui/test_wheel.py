"""The wheel scrolls the panels; it edits a spin box or combo only when that has the focus."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QPoint, QPointF, QSettings, Qt
from PySide6.QtGui import QWheelEvent
from PySide6.QtWidgets import QApplication, QScrollArea, QToolButton

from nst_desktop.gui.main_window import MainWindow


def _wheel(widget, clicks: int = -1) -> None:
    """A wheel turn over the middle of ``widget`` (negative: towards the user)."""
    local = QPointF(widget.width() / 2, widget.height() / 2)
    event = QWheelEvent(
        local,
        QPointF(widget.mapToGlobal(local.toPoint())),
        QPoint(0, 0),
        QPoint(0, 120 * clicks),
        Qt.MouseButton.NoButton,
        Qt.KeyboardModifier.NoModifier,
        Qt.ScrollPhase.NoScrollPhase,
        False,
    )
    QApplication.sendEvent(widget, event)


@pytest.fixture
def window(qtbot, tmp_path):
    w = MainWindow(
        QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat), load_engine=False
    )
    qtbot.addWidget(w)
    w.resize(1000, 640)  # the Settings panel is taller than its tab: it scrolls
    for fold in w.settings_panel.findChildren(QToolButton):
        if fold.objectName().startswith("collapse_"):
            fold.setChecked(True)  # every Expert group open, as a user opens them
    w.show()
    qtbot.waitExposed(w)
    return w


def _tab_of(window, panel) -> QScrollArea:
    """The tab (a scroll area) that holds ``panel``, directly or inside an Expert group."""
    tabs = [window.tabs.widget(i) for i in range(window.tabs.count())]
    return next(t for t in tabs if isinstance(t, QScrollArea) and t.widget().isAncestorOf(panel))


@pytest.mark.parametrize("name", ["lbfgs_history", "pool", "style_weight"])
def test_the_wheel_over_an_unfocused_knob_scrolls_the_panel(qtbot, window, name):
    area = _tab_of(window, window.settings_panel)
    window.tabs.setCurrentWidget(area)
    knob = window.settings_panel.knobs[name].widget
    qtbot.waitActive(window)
    bar = area.verticalScrollBar()
    assert bar.maximum() > 0
    bar.setValue(bar.maximum() // 2)
    area.ensureWidgetVisible(knob)
    before_value = _value(knob)
    before_scroll = bar.value()
    window.activateWindow()
    window.run_button.setFocus()
    assert not knob.hasFocus()
    _wheel(knob, -1)
    assert _value(knob) == before_value
    assert bar.value() != before_scroll  # the panel scrolled instead

    knob.setFocus()
    assert knob.hasFocus()
    scrolled = bar.value()
    _wheel(knob, -1)
    assert _value(knob) != before_value
    assert bar.value() == scrolled


def test_layer_weights_ignore_the_wheel_without_focus(window):
    area = _tab_of(window, window.layers_panel)
    window.tabs.setCurrentWidget(area)
    spin = window.layers_panel.rows["relu3_1"].style_weight
    area.ensureWidgetVisible(spin)
    before = spin.value()
    window.run_button.setFocus()
    _wheel(spin, 1)
    assert spin.value() == before
    assert spin.focusPolicy() == Qt.FocusPolicy.StrongFocus


def _value(widget):
    return widget.currentIndex() if hasattr(widget, "currentIndex") else widget.value()
