"""Two results (or a result and its photo) in one window: a split view with a line to drag, or
side by side, and the list of what differs ("Style weight 50 → 100").

It shows ``model.history.comparison`` whenever it changes; nothing is read back from it.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QButtonGroup,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QRadioButton,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.gui.history_compare import Comparison
from nst_desktop.gui.history_model import HistoryModel
from nst_desktop.gui.preview import PreviewView


class CompareView(QWidget):
    """See the module docstring; a window of its own, shown on the first comparison."""

    def __init__(self, history: HistoryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.setWindowTitle("Compare — NST Desktop")
        self.resize(1000, 640)
        self.split = PreviewView()
        self.split.set_compare(True)
        self.left, self.right = PreviewView(), PreviewView()
        self.left_caption, self.right_caption = QLabel(), QLabel()
        for label in (self.left_caption, self.right_caption):
            label.setTextFormat(Qt.TextFormat.PlainText)  # names come from files
        self.caption = QLabel()
        self.caption.setTextFormat(Qt.TextFormat.PlainText)
        side = QWidget()
        row = QHBoxLayout(side)
        row.setContentsMargins(0, 0, 0, 0)
        for view, label in ((self.left, self.left_caption), (self.right, self.right_caption)):
            column = QVBoxLayout()
            column.addWidget(label)
            column.addWidget(view, 1)
            row.addLayout(column, 1)
        split = QWidget()
        split_column = QVBoxLayout(split)
        split_column.setContentsMargins(0, 0, 0, 0)
        split_column.addWidget(self.split, 1)
        self.stack = QStackedWidget()
        self.stack.addWidget(split)
        self.stack.addWidget(side)
        self.split_button = QRadioButton("Split (drag the line)")
        self.side_button = QRadioButton("Side by side")
        self.split_button.setChecked(True)
        group = QButtonGroup(self)
        group.addButton(self.split_button, 0)
        group.addButton(self.side_button, 1)
        group.idClicked.connect(self.stack.setCurrentIndex)
        self.differences = QListWidget()
        choose = QHBoxLayout()
        choose.addWidget(self.split_button)
        choose.addWidget(self.side_button)
        choose.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addLayout(choose)
        layout.addWidget(self.caption)
        layout.addWidget(self.stack, 1)
        layout.addWidget(QLabel("What differs"))
        layout.addWidget(self.differences)
        history.compareChanged.connect(self.show_comparison)

    def show_comparison(self, c: Comparison) -> None:
        self.split.set_before(c.left)
        self.split.set_image(c.right)
        self.split.set_split(0.5)
        self.split.set_split_labels(c.left_caption, c.right_caption)
        self.left.set_image(c.left)
        self.right.set_image(c.right)
        self.left_caption.setText(c.left_caption)
        self.right_caption.setText(c.right_caption)
        self.caption.setText(c.caption or f"Left: {c.left_caption} · Right: {c.right_caption}")
        self.differences.clear()
        self.differences.addItems(list(c.differences) or ["The settings are the same."])
        rows = min(self.differences.count(), 8)  # as tall as the list, the picture gets the rest
        frame = 2 * self.differences.frameWidth() + 4
        self.differences.setFixedHeight(rows * self.differences.sizeHintForRow(0) + frame)
        self.show()
        self.raise_()
