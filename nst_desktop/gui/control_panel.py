"""The window's left side: what to make (the mode), from which pictures (the photo and the
styles) and with which knobs (the Basic, Expert, Presets and Regions tabs).

Only the layout and the widgets: the window binds them to its model (gui/main_window.py).
"""

from __future__ import annotations

from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import (
    QFrame,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QScrollArea,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.gui.basic_panel import BasicPanel
from nst_desktop.gui.collapsible import expert_groups
from nst_desktop.gui.image_picker import ContentPicker, RecentFiles, StylePicker
from nst_desktop.gui.layers_panel import LayersPanel
from nst_desktop.gui.mode_selector import ModeSelector
from nst_desktop.gui.model import WindowModel
from nst_desktop.gui.presets_panel import PresetPanel
from nst_desktop.gui.region_panel import RegionPanel
from nst_desktop.gui.settings_panel import SettingsPanel
from nst_desktop.gui.spinboxes import guard_wheel

#: Wide enough for two style rows and a scroll bar to keep their remove buttons.
MIN_WIDTH = 412


class ControlPanel(QWidget):
    """See the module docstring."""

    def __init__(self, model: WindowModel, qs: QSettings) -> None:
        super().__init__()
        recent = RecentFiles(qs, "recent/images")
        self.content_picker = ContentPicker(recent, qs)
        self.style_picker = StylePicker(recent, qs)
        self.mode_combo = ModeSelector()  # radio buttons that answer as a combo box does
        self.basic_panel = BasicPanel()
        self.settings_panel = SettingsPanel()
        self.layers_panel = LayersPanel()
        #: the Expert tab: every knob in folded groups (Look, Layers, Optimizer, Output, Machine)
        self.expert_headers = expert_groups(self.settings_panel, self.layers_panel, model.groups)
        self.preset_panel = PresetPanel(lambda: model.settings, model.normalized)
        self.region_panel = RegionPanel(model.regions)
        self.tabs = QTabWidget()
        self.tabs.addTab(_scrolled(self.basic_panel), "Basic")
        self.wheel_guards = [
            guard_wheel(p) for p in (self.basic_panel, self.settings_panel, self.layers_panel)
        ]
        self.tabs.addTab(_scrolled(self.settings_panel), "Expert")
        self.tabs.addTab(self.preset_panel, "Presets")
        self.tabs.addTab(_scrolled(self.region_panel), "Regions")
        mode_row = QHBoxLayout()
        make = QLabel("<b>Make</b>")
        make.setAlignment(Qt.AlignmentFlag.AlignTop)
        mode_row.addWidget(make)
        mode_row.addWidget(self.mode_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(6, 6, 6, 6)
        layout.addLayout(mode_row)
        layout.addWidget(self._images())
        layout.addWidget(self.tabs, 1)
        self.setMinimumWidth(MIN_WIDTH)

    def _images(self) -> QGroupBox:
        """The photo beside the styles, each under its heading."""
        images = QGroupBox("Images")
        content_box = QVBoxLayout()
        content_label = QLabel("Content (the photo)")
        content_label.setWordWrap(True)  # a narrow panel wraps the headings, not the pickers
        content_box.addWidget(content_label)
        content_box.addWidget(self.content_picker)
        style_box = QVBoxLayout()
        style_label = QLabel("Style (artworks, with blend weights)")
        style_label.setWordWrap(True)
        style_box.addWidget(style_label)
        style_box.addWidget(self.style_picker, 1)
        row = QHBoxLayout(images)
        row.addLayout(content_box, 0)  # the content thumbnail has a fixed width
        row.addLayout(style_box, 1)
        return images


def _scrolled(widget: QWidget) -> QScrollArea:
    area = QScrollArea()
    area.setWidget(widget)
    area.setWidgetResizable(True)
    area.setFrameShape(QFrame.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    return area
