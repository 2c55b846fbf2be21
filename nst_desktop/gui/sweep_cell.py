"""A layer-sweep cell, opened large: a click on a finished cell of the sweep grid shows it in a
window of its own, with "Save…" (that cell's picture, the run's settings embedded) and "Use these
layers" (the cell's content layer, or its set of style layers, become the run's, through the
window model, so Undo takes them back).

Usage::

    cells = SweepCells(model, window.sweep_view, window.exporter, window)
    cells.open(3)          # what a click on cell 3 does
    cells.save(path)       # the dialog's Save…; None asks where
    cells.use_layers()     # the dialog's "Use these layers"
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.stages import sweep_cell_layers
from nst_desktop.gui.exporter import Exporter, picture_metadata
from nst_desktop.gui.model import WindowModel
from nst_desktop.gui.qimage import to_qimage
from nst_desktop.gui.sweep_view import SweepView

LARGE_SIDE = 512  # the cell's longer side on screen, smoothly scaled


def describe_cell(layers: dict[str, dict[str, float]] | None, label: str) -> str:
    """One sentence on what a cell shows and what its layers would do in a style transfer."""
    if layers is None:
        return f"{label}: a cell of a sweep made by another version; its layers are not known."
    if "content_layers" in layers:
        name = next(iter(layers["content_layers"]))
        return (
            f"The photo rebuilt from {name} alone: what a style transfer keeps of your photo "
            "with this content layer."
        )
    names = list(layers["style_layers"])
    span = names[0] if len(names) == 1 else f"{names[0]} to {names[-1]}"
    return (
        f"The artwork's texture rebuilt from {span}: what a style transfer takes of the "
        "artwork with these style layers."
    )


class SweepCellDialog(QDialog):
    """One cell, large, with Save… and Use these layers (see the module docstring)."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sweepCellDialog")
        self.picture = QLabel()
        self.picture.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.picture.setMinimumSize(256, 256)
        self.text = QLabel()
        self.text.setWordWrap(True)
        self.text.setObjectName("sweepCellText")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        self.save_button = QPushButton("Save…")
        self.save_button.setToolTip("Save this cell's picture, with the run's settings in it.")
        self.use_button = QPushButton("Use these layers")
        buttons.addButton(self.save_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.addButton(self.use_button, QDialogButtonBox.ButtonRole.ActionRole)
        buttons.rejected.connect(self.close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.picture, 1)
        layout.addWidget(self.text)
        layout.addWidget(buttons)

    def show_cell(self, pixels: np.ndarray, label: str, text: str, usable: bool) -> None:
        self.setWindowTitle(f"Layer sweep · {label}")
        pixmap = QPixmap.fromImage(to_qimage(pixels))
        self.picture.setPixmap(
            pixmap.scaled(
                LARGE_SIDE,
                LARGE_SIDE,
                Qt.AspectRatioMode.KeepAspectRatio,
                Qt.TransformationMode.SmoothTransformation,
            )
        )
        self.text.setText(text)
        self.use_button.setEnabled(usable)
        self.use_button.setToolTip(
            "Make these the style transfer's layers (Edit → Undo takes them back)."
            if usable
            else "The layers of this cell are not known."
        )


class SweepCells(QObject):
    """Opens the sweep's cells large and carries out the dialog's two buttons."""

    def __init__(
        self, model: WindowModel, view: SweepView, exporter: Exporter, parent: QWidget
    ) -> None:
        super().__init__(parent)
        self.model, self.view, self.exporter = model, view, exporter
        self.parent_widget = parent
        self.dialog: SweepCellDialog | None = None
        self.index = -1
        self.label = ""
        self.pixels: np.ndarray | None = None
        self.layers: dict[str, dict[str, float]] | None = None
        view.cellClicked.connect(self.open)

    def open(self, index: int) -> SweepCellDialog | None:
        """Show cell ``index`` large (None when it has no picture yet)."""
        labels = self.view.labels()
        pixels = self.view.cell(index) if 0 <= index < len(labels) else None
        if pixels is None:
            return None
        self.index, self.label, self.pixels = index, labels[index], pixels.copy()
        self.layers = sweep_cell_layers(index, self.label)
        if self.dialog is None:
            self.dialog = SweepCellDialog(self.parent_widget)
            self.dialog.save_button.clicked.connect(lambda: self.save())
            self.dialog.use_button.clicked.connect(self.use_layers)
        self.dialog.show_cell(
            self.pixels, self.label, describe_cell(self.layers, self.label), self.layers is not None
        )
        self.dialog.show()
        self.dialog.raise_()
        return self.dialog

    def save(self, path: str | None = None) -> Path | None:
        """Save the open cell's picture (asking where when ``path`` is None)."""
        if self.pixels is None:
            return None
        picture = self.model.picture
        meta = {}
        if picture.sweep and picture.settings is not None:  # the run the cell belongs to
            meta = picture_metadata(picture, self.model.progress.value)
        meta["sweep_cell"] = self.label
        return self.exporter.save_pixels(self.pixels, meta, path, what=f"“{self.label}”")

    def use_layers(self) -> bool:
        """Make the open cell's layers the run's; False when they are not known."""
        if self.layers is None:
            return False
        self.model.update_settings(**self.layers)
        ((kind, layers),) = self.layers.items()
        which = "content layer is" if kind == "content_layers" else "style layers are"
        self.model.set_status(
            f"The {which} now {', '.join(layers)} (Expert → Layers); choose Style transfer under "
            "Make to paint with them. Edit → Undo takes them back."
        )
        return True
