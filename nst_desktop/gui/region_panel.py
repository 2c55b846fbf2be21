"""The region tool's controls: which style to paint, brush or eraser, size, softness, the
overlay, clear/invert/fill, loading a mask file, and what happens outside the regions.

The panel shows :class:`RegionsModel` and reports each edit to it; it never keeps state.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QIcon, QPixmap
from PySide6.QtWidgets import (
    QButtonGroup,
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSlider,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.gui.picker_support import IMAGE_FILTER
from nst_desktop.gui.regions import RegionsModel, region_color

OUTSIDE_LABELS = {
    "styles": "Styles without a region",
    "keep": "Keep the photo",
}
HELP = (
    "Paint where each style goes: choose a style, turn on “Paint regions” and paint over the "
    "photo (or over the result while a run goes; the change applies to the next run). White "
    "areas of a loaded mask are inside. A style without a region paints the rest of the picture, "
    "unless the rest keeps the photo."
)


def color_icon(index: int, side: int = 14) -> QIcon:
    pix = QPixmap(side, side)
    pix.fill(QColor(*region_color(index)))
    return QIcon(pix)


class RegionPanel(QWidget):
    """See the module docstring."""

    def __init__(self, regions: RegionsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.regions = regions
        self.paint_button = QPushButton("Paint regions")
        self.paint_button.setObjectName("paintRegions")
        self.paint_button.setCheckable(True)
        self.paint_button.setToolTip("Paint on the picture with the left button (off: pan).")
        self.show_box = QCheckBox("Show regions")
        self.show_box.setToolTip("Show or hide the coloured regions over the picture.")
        self.style_combo = QComboBox()
        self.style_combo.setToolTip("The style whose region the brush paints.")
        self.brush = QToolButton(text="Brush", checkable=True)
        self.eraser = QToolButton(text="Eraser", checkable=True)
        group = QButtonGroup(self)
        group.setExclusive(True)
        group.addButton(self.brush)
        group.addButton(self.eraser)
        self.size_slider = _slider(1, 50, "Brush size, as a share of the picture's longest side.")
        self.soft_slider = _slider(0, 100, "How much of the brush's edge fades out.")
        self.clear_button = QPushButton("Clear")
        self.clear_button.setToolTip("Remove this style's region (the style then has none).")
        self.invert_button = QPushButton("Invert")
        self.invert_button.setToolTip("Swap inside and outside of this style's region.")
        self.fill_button = QPushButton("Fill")
        self.fill_button.setToolTip("Make the whole picture this style's region.")
        self.load_button = QPushButton("Load mask…")
        self.load_button.setToolTip("This style's region from a grayscale image (white inside).")
        self.outside_combo = QComboBox()
        for key, label in OUTSIDE_LABELS.items():
            self.outside_combo.addItem(label, key)
        self.outside_combo.setToolTip("What the part of the picture outside every region gets.")
        self._layout()
        self._connect()
        regions.toolChanged.connect(self.show_state)
        self.show_state()

    def _layout(self) -> None:
        tools = QHBoxLayout()
        for w in (self.brush, self.eraser):
            tools.addWidget(w)
        tools.addStretch(1)
        edits = QHBoxLayout()
        for w in (self.clear_button, self.invert_button, self.fill_button, self.load_button):
            edits.addWidget(w)
        form = QFormLayout()
        form.addRow("Style", self.style_combo)
        form.addRow("Tool", tools)
        form.addRow("Size", self.size_slider)
        form.addRow("Softness", self.soft_slider)
        form.addRow("Outside", self.outside_combo)
        top = QHBoxLayout()
        top.addWidget(self.paint_button)
        top.addWidget(self.show_box)
        top.addStretch(1)
        help_label = QLabel(HELP)
        help_label.setWordWrap(True)
        help_label.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addLayout(form)
        layout.addLayout(edits)
        layout.addWidget(help_label)
        layout.addStretch(1)

    def _connect(self) -> None:
        r = self.regions
        self.paint_button.toggled.connect(r.set_painting)
        self.show_box.toggled.connect(r.set_visible)
        self.style_combo.activated.connect(r.set_active)
        self.brush.clicked.connect(lambda: r.set_tool("brush"))
        self.eraser.clicked.connect(lambda: r.set_tool("eraser"))
        self.size_slider.valueChanged.connect(lambda v: r.set_size(v / 100))
        self.soft_slider.valueChanged.connect(lambda v: r.set_softness(v / 100))
        self.clear_button.clicked.connect(r.clear)
        self.invert_button.clicked.connect(r.invert)
        self.fill_button.clicked.connect(r.fill)
        self.load_button.clicked.connect(self.browse)
        self.outside_combo.activated.connect(
            lambda i: r.set_outside(self.outside_combo.itemData(i))
        )

    def browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Load a region mask", "", IMAGE_FILTER)
        if path:
            self.regions.load(path)

    def show_state(self) -> None:
        """Show the model (without reporting it back as edits)."""
        r = self.regions
        widgets = (self.paint_button, self.show_box, self.style_combo, self.size_slider,
                   self.soft_slider, self.outside_combo)  # fmt: skip
        for w in widgets:
            w.blockSignals(True)
        self.style_combo.clear()
        for i, path in enumerate(r.styles):
            self.style_combo.addItem(color_icon(i), f"{i + 1} · {Path(path).name}")
        self.style_combo.setCurrentIndex(min(r.active, self.style_combo.count() - 1))
        self.paint_button.setChecked(r.painting)
        self.show_box.setChecked(r.visible)
        (self.brush if r.tool == "brush" else self.eraser).setChecked(True)
        self.size_slider.setValue(round(r.size * 100))
        self.soft_slider.setValue(round(r.softness * 100))
        self.outside_combo.setCurrentIndex(max(0, self.outside_combo.findData(r.outside)))
        for w in widgets:
            w.blockSignals(False)
        usable = bool(r.styles) and r.shape is not None
        for w in (self.paint_button, self.clear_button, self.invert_button, self.fill_button,
                  self.load_button, self.brush, self.eraser):  # fmt: skip
            w.setEnabled(usable)


def _slider(lo: int, hi: int, tip: str) -> QSlider:
    s = QSlider(Qt.Orientation.Horizontal)
    s.setRange(lo, hi)
    s.setToolTip(tip)
    return s
