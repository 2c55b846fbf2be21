"""A dismissable message above the picture, showing the window model's message.

The model decides when a message goes away (when what it said stops being true); the ✕ and the
action button (e.g. "Retry at 768 px") clear it too.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QFrame, QHBoxLayout, QLabel, QPushButton, QToolButton, QWidget

from nst_desktop.gui.model import Message, WindowModel

_COLORS = {"error": ("#5c1a1a", "#ffd9d9"), "warning": ("#4d3a00", "#fff0c2")}


class MessageBar(QFrame):
    def __init__(self, model: WindowModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.setObjectName("messageBar")
        self.label = QLabel()
        self.label.setWordWrap(True)
        self.label.setTextFormat(Qt.TextFormat.PlainText)  # file names are not markup
        self.label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.action_button = QPushButton()
        self.action_button.hide()
        self.action_button.clicked.connect(self._run_action)
        close = QToolButton()
        close.setText("✕")
        close.setAutoRaise(True)
        close.setToolTip("Dismiss")
        close.clicked.connect(model.clear_message)
        row = QHBoxLayout(self)
        row.setContentsMargins(8, 4, 4, 4)
        row.addWidget(self.label, 1)
        row.addWidget(self.action_button, 0, Qt.AlignmentFlag.AlignTop)
        row.addWidget(close, 0, Qt.AlignmentFlag.AlignTop)
        self.kind = ""
        model.messageChanged.connect(self.show_message)
        self.show_message(model.message)

    def show_message(self, message: Message | None) -> None:
        if message is None:
            self.hide()
            return
        fg, bg = _COLORS.get(message.kind, ("#1a3a5c", "#d9ebff"))
        self.setStyleSheet(
            f"QFrame#messageBar {{background: {bg}; border-radius: 4px;}} QLabel {{color: {fg};}}"
        )
        self.label.setText(message.text)
        self.kind = message.kind
        self.action_button.setText(message.action_text)
        self.action_button.setVisible(message.action is not None)
        self.show()

    def text(self) -> str:
        return self.label.text() if self.model.message is not None else ""

    def _run_action(self) -> None:
        message = self.model.message
        self.model.clear_message()
        if message is not None and message.action is not None:
            message.action()
