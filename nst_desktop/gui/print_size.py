"""The Print tier's size: a print format at 300 dpi (A5, A4, Letter, A3) or a pixel size, and the
plan of the run (whole scales, tiles, time, peak memory) under it.

It shows the size it is given (:meth:`show_size`) and reports each edit as ``edited(size)``; the
plan line is the window model's estimate (:meth:`show_plan`), so it is the plan the run follows.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QSpinBox, QVBoxLayout, QWidget

from nst_desktop.core.quality import PRINT_DPI, PRINT_FORMATS, PRINT_MIN
from nst_desktop.core.settings import field_meta

#: The combo's entry for a size that is no print format (the pixel box beside it holds it).
CUSTOM = 0


class PrintSize(QWidget):
    """See the module docstring."""

    edited = Signal(int)  # the longest side in px a user chose

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._size = PRINT_MIN
        self.formats = QComboBox()
        self.formats.setObjectName("printFormat")
        self.formats.setToolTip(
            f"The print's size at {PRINT_DPI} dpi, by its long side; a picture that does not "
            "fit in memory is refined in tiles (the plan below says how)."
        )
        self.formats.addItem("Pixel size", CUSTOM)
        self.formats.addItem(f"{PRINT_MIN} px (screen)", PRINT_MIN)
        for label, px in PRINT_FORMATS.values():
            self.formats.addItem(f"{label} at {PRINT_DPI} dpi ({px} px)", px)
        self.pixels = QSpinBox()
        self.pixels.setObjectName("printPixels")
        self.pixels.setRange(PRINT_MIN, int(field_meta("size")["max"]))
        self.pixels.setSingleStep(64)
        self.pixels.setSuffix(" px")
        self.pixels.setKeyboardTracking(False)
        self.pixels.setToolTip("The longest side of the print in pixels (any size from 1024).")
        self.plan = QLabel()
        self.plan.setObjectName("printPlan")
        self.plan.setWordWrap(True)
        self.plan.setStyleSheet("color: palette(mid);")
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.formats, 1)
        row.addWidget(self.pixels)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addWidget(self.plan)
        self.formats.activated.connect(self._format_chosen)
        self.pixels.valueChanged.connect(self._pixels_edited)
        self.show_size(PRINT_MIN)

    def show_size(self, size: int) -> None:
        """Show ``size`` (emits nothing): its format, or "Pixel size"."""
        self._size = size
        index = self.formats.findData(size)
        blocked = self.formats.blockSignals(True), self.pixels.blockSignals(True)
        try:
            self.formats.setCurrentIndex(index if index >= 0 else self.formats.findData(CUSTOM))
            self.pixels.setValue(size)
        finally:
            self.formats.blockSignals(blocked[0])
            self.pixels.blockSignals(blocked[1])

    def show_plan(self, text: str) -> None:
        """The estimate of a run at this size: its plan, time and peak memory."""
        self.plan.setText(text)
        self.plan.setVisible(bool(text))

    def _format_chosen(self, index: int) -> None:
        px = int(self.formats.itemData(index))
        if px == CUSTOM:  # the size is typed in the pixel box; the combo keeps showing the model
            self.show_size(self._size)
            self.pixels.setFocus()
            return
        if px != self._size:
            self.edited.emit(px)

    def _pixels_edited(self, value: int) -> None:
        if value != self._size:
            self.edited.emit(int(value))
