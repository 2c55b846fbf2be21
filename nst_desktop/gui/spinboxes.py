"""Spin boxes for values that span many decades (weights from 0.001 to 1e12), and the wheel
guard of the panels' spin boxes and combos."""

from __future__ import annotations

import math

from PySide6.QtCore import QEvent, QObject, QSize, Qt
from PySide6.QtGui import QValidator, QWheelEvent
from PySide6.QtWidgets import (
    QAbstractScrollArea,
    QAbstractSpinBox,
    QApplication,
    QComboBox,
    QDoubleSpinBox,
    QWidget,
)


class SciSpinBox(QDoubleSpinBox):
    """A spin box for weights spanning many decades: shows 1e+06 as "1e+06", steps by x2."""

    def __init__(self, lo: float, hi: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setDecimals(12)
        self.setRange(lo, hi)
        self.setKeyboardTracking(False)

    # QDoubleSpinBox sizes itself for the maximum at full precision (1e12 with 12 decimals is
    # 25 digits): far wider than any value shown here.
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(110, super().sizeHint().height())

    def minimumSizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(70, super().minimumSizeHint().height())

    def textFromValue(self, value: float) -> str:  # noqa: N802 (Qt API)
        if value == self.minimum() and self.specialValueText():
            return self.specialValueText()
        return f"{value:.6g}"

    def valueFromText(self, text: str) -> float:  # noqa: N802 (Qt API)
        if self.specialValueText() and text.strip() == self.specialValueText():
            return self.minimum()
        try:
            return float(text.strip())
        except ValueError:
            return self.value()

    def validate(self, text: str, pos: int) -> object:
        stripped = text.strip()
        if self.specialValueText() and stripped == self.specialValueText():
            return QValidator.State.Acceptable, text, pos
        if stripped in ("", "-", ".", "e", "+") or stripped.lower().endswith(("e", "e-", "e+")):
            return QValidator.State.Intermediate, text, pos
        try:
            value = float(stripped)
        except ValueError:
            return QValidator.State.Invalid, text, pos
        if not math.isfinite(value):
            return QValidator.State.Invalid, text, pos
        if self.minimum() <= value <= self.maximum():
            return QValidator.State.Acceptable, text, pos
        return QValidator.State.Intermediate, text, pos

    def fixup(self, text: str) -> str:
        try:
            value = float(text)
        except ValueError:
            return self.textFromValue(self.value())
        return self.textFromValue(min(max(value, self.minimum()), self.maximum()))

    def stepBy(self, steps: int) -> None:  # noqa: N802 (Qt API)
        value = self.value()
        if value <= 0:
            value = 1.0 if steps > 0 else 0.0
        else:
            value *= 2.0**steps
        self.setValue(min(max(value, self.minimum()), self.maximum()))


class WheelGuard(QObject):
    """Spin boxes and combos take the wheel only with keyboard focus; otherwise the wheel goes
    on to the scroll area around them, so scrolling a panel never edits what passes under the
    pointer."""

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() != QEvent.Type.Wheel or not isinstance(watched, QWidget):
            return False
        if watched.hasFocus():
            return False
        area = watched.parentWidget()
        while area is not None and not isinstance(area, QAbstractScrollArea):
            area = area.parentWidget()
        if area is not None:  # handed on explicitly: Qt does not pass synthetic wheels up
            viewport = area.viewport()
            passed = QWheelEvent(
                viewport.mapFromGlobal(event.globalPosition()),
                event.globalPosition(),
                event.pixelDelta(),
                event.angleDelta(),
                event.buttons(),
                event.modifiers(),
                event.phase(),
                event.inverted(),
            )
            QApplication.sendEvent(viewport, passed)
        event.accept()
        return True


def guard_wheel(root: QWidget) -> WheelGuard:
    """Install a :class:`WheelGuard` on every spin box and combo under ``root``."""
    guard = WheelGuard(root)
    for widget in root.findChildren(QAbstractSpinBox) + root.findChildren(QComboBox):
        widget.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        widget.installEventFilter(guard)
    return guard
