"""*Variations…*: the dialog that picks one knob and its values for a contact sheet, and the
window that shows the sheet when its runs have ended.

The dialog checks the values with core.variations (the CLI's ``--vary`` rules) and says in one
sentence what is wrong instead of closing; the style weight is given as ratios of the weight on
screen (×0.5, ×1, ×2), the other knobs as values.
"""

from __future__ import annotations

import dataclasses

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.settings import RunSettings, SettingsError
from nst_desktop.core.variations import MAX_CELLS, Cell, variation_cells
from nst_desktop.gui.qimage import to_qimage
from nst_desktop.gui.variations_model import Sheet, VariationsModel

#: knob, what the list says, the values it starts with, what the values mean
KNOBS = (
    ("seed", "Seed", "0,1,2,3", "Seeds (whole numbers): the same look, other brush strokes."),
    ("style-weight", "Style weight (× the one set)", "0.5,1,2",
     "Ratios of the style weight set now: 0.5 is half as strong, 2 twice."),
    ("style-scale", "Style scale", "0.5,1,2",
     "Style scales from 0.1 to 4: smaller gives finer brush strokes."),
    ("preset", "Presets", "", "Preset names, separated by commas."),
)  # fmt: skip


def make_cells(base: RunSettings, knob: str, text: str) -> list[Cell]:
    """The cells for ``text`` (values separated by commas); SettingsError says what is wrong."""
    values = [v.strip() for v in text.split(",") if v.strip()]
    if not 2 <= len(values) <= MAX_CELLS:
        raise SettingsError(
            f"Give 2 to {MAX_CELLS} values separated by commas (there are {len(values)})."
        )
    if knob != "style-weight":
        try:
            return variation_cells(base, knob, values)
        except SettingsError as exc:
            raise SettingsError(str(exc).replace("--vary ", "", 1)) from None
    cells = []
    for value in values:
        try:
            ratio = float(value)
        except ValueError:
            raise SettingsError(
                f"'{value[:40]}' is not a ratio; write numbers such as 0.5,1,2."
            ) from None
        if not 0 < ratio < float("inf"):
            raise SettingsError(f"The ratio {value[:40]} must be more than 0.")
        weight = f"{ratio * base.style_weight:.6g}"
        try:
            (cell,) = variation_cells(base, "style-weight", [weight])
        except SettingsError as exc:
            raise SettingsError(str(exc).replace("--vary ", "", 1)) from None
        cells.append(dataclasses.replace(cell, label=f"style weight ×{ratio:g} ({weight})"))
    return cells


class VariationsDialog(QDialog):
    """See the module docstring; after ``exec()`` is accepted, ``knob`` and ``cells`` hold the
    checked choice."""

    def __init__(self, base: RunSettings, presets: list[str], parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Variations — NST Desktop")
        self.base = base
        self.knob, self.cells = "", []
        self.knob_box = QComboBox()
        for knob, label, values, _hint in KNOBS:
            default = ",".join(presets[:3]) if knob == "preset" else values
            self.knob_box.addItem(label, (knob, default))
        self.values = QLineEdit()
        self.hint = QLabel()
        self.hint.setWordWrap(True)
        self.error = QLabel()
        self.error.setWordWrap(True)
        self.error.setTextFormat(Qt.TextFormat.PlainText)  # values are typed text
        self.error.setStyleSheet("color: #b00020;")
        self.knob_box.currentIndexChanged.connect(self._knob_chosen)
        self.values.textChanged.connect(lambda _t: self.error.clear())
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText("Queue the runs")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow("Vary", self.knob_box)
        form.addRow("Values", self.values)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("One run per value, each kept in the history; the labelled "
                                "contact sheet shows when they have all ended."))  # fmt: skip
        layout.addLayout(form)
        layout.addWidget(self.hint)
        layout.addWidget(self.error)
        layout.addWidget(self.buttons)
        self._knob_chosen(0)

    def _knob_chosen(self, index: int) -> None:
        _knob, default = self.knob_box.itemData(index)
        self.values.setText(default)
        self.hint.setText(KNOBS[index][3])

    def choose(self, knob: str, values: str) -> None:
        """Pick ``knob`` and type ``values`` (as the user would)."""
        self.knob_box.setCurrentIndex(next(i for i, k in enumerate(KNOBS) if k[0] == knob))
        self.values.setText(values)

    def accept(self) -> None:
        knob = self.knob_box.currentData()[0]
        try:
            self.cells = make_cells(self.base, knob, self.values.text())
        except SettingsError as exc:
            self.error.setText(str(exc))
            return
        self.knob = knob
        super().accept()


def ask_variations(parent: QWidget, variations: VariationsModel) -> bool:
    """Open the dialog over ``parent``; queue its runs when it is accepted."""
    from nst_desktop.core.presets import preset_names

    dialog = VariationsDialog(variations.model.settings, preset_names(), parent)
    if dialog.exec() != QDialog.DialogCode.Accepted:
        return False
    return variations.start(dialog.knob, dialog.cells)


class SheetView(QWidget):
    """The last contact sheet, in a window of its own, with *Export…*."""

    def __init__(self, variations: VariationsModel, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Contact sheet — NST Desktop")
        self.variations = variations
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        area = QScrollArea()
        area.setWidget(self.picture)
        area.setWidgetResizable(True)
        self.export_button = QPushButton("Export…")
        self.export_button.setToolTip("Save the sheet (PNG, JPEG, WebP or TIFF).")
        self.export_button.clicked.connect(self._export)
        row = QHBoxLayout()
        row.addWidget(self.caption, 1)
        row.addWidget(self.export_button)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        layout.addWidget(area, 1)
        variations.sheetReady.connect(self.show_sheet)

    def show_sheet(self, sheet: Sheet) -> None:
        import numpy as np

        self.picture.setPixmap(QPixmap.fromImage(to_qimage(np.asarray(sheet.image))))
        made = len(sheet.entries)
        over = sheet.knob.replace("-", " ")
        self.caption.setText(
            f"Variations over {over}: {made} of {len(sheet.cells)} cells made a picture "
            "(each is in the history)."
        )
        width, height = sheet.image.size
        self.resize(min(width + 40, 1400), min(height + 80, 900))
        self.show()
        self.raise_()

    def _export(self) -> None:
        path, _ = QFileDialog.getSaveFileName(
            self, "Export the contact sheet", f"variations-{self.variations.sheet.knob}.png",
            "PNG (*.png);;JPEG (*.jpg);;WebP (*.webp);;TIFF (*.tif)",
        )  # fmt: skip
        if path:
            self.variations.export(path)
