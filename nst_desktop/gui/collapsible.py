"""Fold a group of knobs away behind a one-line header, so the Settings tab shows the look's knobs
first and the optimizer's internals (history, line search, precision, threads ...) on demand."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGroupBox, QSizePolicy, QToolButton, QWidget

ADVANCED_SUMMARY = "optimizer, loss balance, scales, precision, device, weights, threads"


def collapse_titled(panel: QWidget, title: str, summary: str) -> QToolButton:
    """Fold away the group box of ``panel`` titled ``title`` (see :func:`collapse_group`)."""
    box = next(b for b in panel.findChildren(QGroupBox) if b.title() == title)
    return collapse_group(box, summary)


def collapse_group(box: QGroupBox, summary: str, collapsed: bool = True) -> QToolButton:
    """Put a header button above ``box`` that shows and hides it; hidden when ``collapsed``."""
    header = QToolButton()
    header.setObjectName(f"collapse_{box.title()}")
    header.setText(f"{box.title()}: {summary}")
    header.setCheckable(True)
    header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    header.setAutoRaise(True)
    header.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Fixed)

    def show(opened: bool) -> None:
        header.setArrowType(Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow)
        box.setVisible(opened)

    header.toggled.connect(show)
    parent: QWidget | None = box.parentWidget()
    layout = parent.layout() if parent is not None else None
    if layout is not None:
        layout.insertWidget(layout.indexOf(box), header)
    header.setChecked(not collapsed)
    show(not collapsed)
    return header
