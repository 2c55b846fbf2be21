"""What to make, as a row of radio buttons: every choice in sight, none that moves under the
mouse (a combo box's popup opens over the current item, so a click can land on another mode).

It answers the few calls the window and its tests make of a combo box: ``count``,
``itemData``, ``findData``, ``currentIndex``, ``setCurrentIndex`` and ``currentIndexChanged``.
"""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QButtonGroup, QGridLayout, QRadioButton, QWidget

from nst_desktop.core.settings import MODES, Mode

_TIPS = {
    Mode.TRANSFER: "Paint the photo in the style of the artworks.",
    Mode.CONTENT_REP: "Rebuild the photo from noise through one VGG19 layer: what it keeps.",
    Mode.STYLE_REP: "Rebuild the artworks' texture from noise: what the style layers keep.",
    Mode.SWEEP: "Both studies for every block of VGG19, side by side.",
}


class ModeSelector(QWidget):
    """See the module docstring."""

    currentIndexChanged = Signal(int)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("modeSelector")
        self._modes = list(MODES)
        self.group = QButtonGroup(self)
        self.group.setExclusive(True)
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        grid.setHorizontalSpacing(12)
        grid.setVerticalSpacing(2)
        for i, mode in enumerate(self._modes):
            button = QRadioButton(mode.label, self)
            button.setToolTip(_TIPS.get(mode, ""))
            self.group.addButton(button, i)
            grid.addWidget(button, i // 2, i % 2)
        self.group.button(0).setChecked(True)
        self.group.idToggled.connect(self._toggled)

    def _toggled(self, index: int, checked: bool) -> None:
        if checked:
            self.currentIndexChanged.emit(index)

    def count(self) -> int:
        return len(self._modes)

    def itemData(self, index: int) -> Mode | None:  # noqa: N802 (combo-box API)
        return self._modes[index] if 0 <= index < len(self._modes) else None

    def findData(self, mode: str) -> int:  # noqa: N802 (combo-box API)
        try:
            return self._modes.index(Mode(mode))
        except ValueError:
            return -1

    def currentIndex(self) -> int:  # noqa: N802 (combo-box API)
        return self.group.checkedId()

    def setCurrentIndex(self, index: int) -> None:  # noqa: N802 (combo-box API)
        button = self.group.button(index)
        if button is not None and not button.isChecked():
            button.setChecked(True)

    def button(self, mode: str) -> QRadioButton:
        return self.group.button(self.findData(mode))
