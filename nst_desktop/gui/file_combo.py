"""A combo box of fixed choices plus "a file…": choosing that entry asks for the file.

Usage::

    combo = FileChoiceCombo([("White noise", "noise"), ...], "An image file…",
                            "Start from which picture?", IMAGE_FILTER)
    combo.chosen.connect(on_value)     # str: a fixed value or the chosen file's path
    combo.set_value("noise"); combo.set_value("/path/start.png"); combo.value()

A cancelled file dialog goes back to the entry shown before; ``set_value`` emits nothing.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QComboBox, QFileDialog, QWidget

_FILE = "__file__"


class FileChoiceCombo(QComboBox):
    chosen = Signal(str)

    def __init__(
        self,
        choices: list[tuple[str, str]],
        file_label: str,
        dialog_title: str,
        dialog_filter: str,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self._fixed = [value for _, value in choices]
        self._title, self._filter = dialog_title, dialog_filter
        for label, value in choices:
            self.addItem(label, value)
        self.addItem(file_label, _FILE)
        self._index = 0
        self.currentIndexChanged.connect(self._changed)

    def value(self) -> str:
        data = self.currentData()
        return self._fixed[0] if data in (None, _FILE) else data

    def set_value(self, value: str) -> None:
        blocked = self.blockSignals(True)
        try:
            if value in self._fixed:
                self.setCurrentIndex(self.findData(value))
            else:
                self._show_file(value)
            self._index = self.currentIndex()
        finally:
            self.blockSignals(blocked)

    def _changed(self, index: int) -> None:
        if self.itemData(index) == _FILE:
            path, _ = QFileDialog.getOpenFileName(self, self._title, "", self._filter)
            blocked = self.blockSignals(True)
            try:
                if not path:
                    self.setCurrentIndex(self._index)
                    return
                self._show_file(path)
            finally:
                self.blockSignals(blocked)
        self._index = self.currentIndex()
        self.chosen.emit(self.value())

    def _show_file(self, path: str) -> None:
        """Show a file as its own entry (kept above the "…" entry), and select it."""
        for i in range(self.count()):
            if self.itemData(i) not in (*self._fixed, _FILE):
                self.removeItem(i)
                break
        index = self.count() - 1
        self.insertItem(index, Path(path).name, path)
        self.setItemData(index, path, Qt.ItemDataRole.ToolTipRole)
        self.setCurrentIndex(index)
