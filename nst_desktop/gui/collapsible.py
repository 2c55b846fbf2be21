"""Fold groups of knobs away behind one-line headers: the Expert tab shows its groups (Look,
Layers, Optimizer, Output, Machine) as headers that say what is inside, all folded at first, so
the artist's knobs stay in the Basic tab and the rest is there on demand; the groups an artist
opens stay open in the next session (``model.groups``, kept with the window's preferences)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import Qt
from PySide6.QtGui import QFont, QMouseEvent
from PySide6.QtWidgets import (
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from nst_desktop.gui.open_groups import OpenGroups

#: What each Expert group holds, in the words of its header.
GROUP_SUMMARIES = {
    "Look": "style and content weights, smoothing, brush size, colours, start picture, seed, "
    "pooling, loss balance",
    "Layers": "which VGG19 layers carry the content and the style, and their weights",
    "Optimizer": "L-BFGS or Adam, learning rate, history, line search, coarse-to-fine scales",
    "Output": "size, iterations, snapshots, tiles for print sizes",
    "Machine": "device, precision, CPU threads, memory ceiling, weights",
}


def expert_groups(
    settings_panel: QWidget, layers_panel: QWidget, groups: OpenGroups | None = None
) -> dict[str, QToolButton]:
    """Put ``layers_panel`` in a "Layers" group after the settings panel's "Look" group and fold
    every group; returns each group's header button by title. With ``groups`` (the model's),
    the headers show which are open and report a click to it."""
    boxes: dict[str, QGroupBox] = dict(settings_panel.boxes)  # type: ignore[attr-defined]
    layers_box = QGroupBox("Layers")
    layers_box.setObjectName("group_Layers")
    inner = QVBoxLayout(layers_box)
    inner.setContentsMargins(4, 4, 4, 4)
    inner.addWidget(layers_panel)
    layout = settings_panel.layout()
    layout.insertWidget(layout.indexOf(boxes["Look"]) + 1, layers_box)
    boxes["Layers"] = layers_box
    headers = {
        title: collapse_group(box, GROUP_SUMMARIES.get(title, ""))
        for title, box in sorted(boxes.items(), key=lambda kv: layout.indexOf(kv[1]))
    }
    if groups is not None:
        for title, header in headers.items():
            header.setChecked(title in groups.open)
            header.toggled.connect(lambda opened, t=title: groups.set_open(t, opened))
        groups.changed.connect(
            lambda opened: [h.setChecked(t in opened) for t, h in headers.items()]
        )
    return headers


class _Summary(QLabel):
    """The grey line beside a header that says what the group holds; a click on it folds too."""

    def __init__(self, text: str, header: QToolButton) -> None:
        super().__init__(text)
        self.header = header
        self.setWordWrap(True)  # a long summary wraps instead of widening the panel
        self.setStyleSheet("color: palette(mid);")
        self.setCursor(Qt.CursorShape.PointingHandCursor)

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self.header.toggle()
        event.accept()


def collapse_group(box: QGroupBox, summary: str, collapsed: bool = True) -> QToolButton:
    """Put a header (a button with the box's title, and ``summary`` beside it) above ``box``
    that shows and hides it; hidden when ``collapsed``. Returns the header's button."""
    title = box.title()
    header = QToolButton()
    header.setObjectName(f"collapse_{title}")
    header.setText(title)
    header.setToolTip(f"Show or hide the {title} settings.")
    header.setCheckable(True)
    header.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    header.setAutoRaise(True)
    font = QFont(header.font())
    font.setBold(True)
    header.setFont(font)
    row = QWidget()
    row.setObjectName(f"header_{title}")
    line = QHBoxLayout(row)
    line.setContentsMargins(0, 4, 0, 0)
    line.addWidget(header, 0, Qt.AlignmentFlag.AlignTop)
    line.addWidget(_Summary(summary, header), 1)
    box.setTitle("")  # the header names it

    def show(opened: bool) -> None:
        header.setArrowType(Qt.ArrowType.DownArrow if opened else Qt.ArrowType.RightArrow)
        box.setVisible(opened)

    header.toggled.connect(show)
    parent: QWidget | None = box.parentWidget()
    layout = parent.layout() if parent is not None else None
    if layout is not None:
        layout.insertWidget(layout.indexOf(box), row)
    header.setChecked(not collapsed)
    show(not collapsed)
    return header
