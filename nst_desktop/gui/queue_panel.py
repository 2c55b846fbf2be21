"""The queue's panel: the runs waiting, and the buttons that add, reorder and cancel them.

It shows ``model.queue`` and reports clicks to it; the row picked is the queue model's.
"""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.run_queue import QueuedRun
from nst_desktop.gui.queue_model import QueueModel

_ID = Qt.ItemDataRole.UserRole


class QueuePanel(QWidget):
    def __init__(self, queue: QueueModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.queue = queue
        self.list = QListWidget()
        self.list.setObjectName("queueList")
        self.list.currentItemChanged.connect(
            lambda item, _old: queue.select(item.data(_ID) if item is not None else None)
        )
        self.state = QLabel()
        self.buttons: dict[str, QPushButton] = {}
        row = QHBoxLayout()
        for name, tip in (
            ("Queue", "Add a run with the settings and pictures on screen; it runs after the "
                      "runs before it (at once when nothing runs). Ctrl+Alt+Return."),
            ("Queue photos…", "One run per photo you pick, with the styles and settings shown."),
            ("Queue variations…", "A contact sheet: one run per value of one knob (seeds, "
                                  "style weight ratios, style scales or presets)."),
            ("Run queue", "Start the runs waiting (after a restart the queue waits for this)."),
            ("Up", "Run the chosen run earlier."),
            ("Down", "Run the chosen run later."),
            ("Cancel", "Take the chosen run out of the queue."),
            ("Clear", "Take every waiting run out of the queue."),
        ):  # fmt: skip
            button = QPushButton(name)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, n=name: self._act(n))
            self.buttons[name] = button
            row.addWidget(button)
        row.addStretch(1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.state)
        layout.addWidget(self.list, 1)
        layout.addLayout(row)
        queue.queueChanged.connect(self._show)
        queue.selectedChanged.connect(self._show_selected)
        queue.goingChanged.connect(lambda _g: self._show(queue.runs))
        self._show(queue.runs)

    def _show(self, runs: list[QueuedRun]) -> None:
        blocked = self.list.blockSignals(True)
        self.list.clear()
        for i, run in enumerate(runs):
            item = QListWidgetItem(f"{i + 1}. {run.title}")
            item.setData(_ID, run.id)
            self.list.addItem(item)
        self.list.blockSignals(blocked)
        going = "running" if self.queue.going else "waiting"
        self.state.setText(f"{len(runs)} run(s) {going}." if runs else "The queue is empty.")
        self.buttons["Run queue"].setEnabled(bool(runs) and not self.queue.going)
        self.buttons["Clear"].setEnabled(bool(runs))
        self._show_selected(self.queue.selected)

    def _show_selected(self, run_id: str | None) -> None:
        picked = run_id is not None and any(r.id == run_id for r in self.queue.runs)
        for name in ("Up", "Down", "Cancel"):
            self.buttons[name].setEnabled(picked)
        for row in range(self.list.count()):
            if self.list.item(row).data(_ID) == run_id and self.list.currentRow() != row:
                blocked = self.list.blockSignals(True)
                self.list.setCurrentRow(row)
                self.list.blockSignals(blocked)

    def _act(self, name: str) -> None:
        q = self.queue
        picked = q.selected
        if name == "Queue":
            q.add_current()
        elif name == "Queue photos…":
            paths, _ = QFileDialog.getOpenFileNames(
                self, "Photos to queue", "", "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp)"
            )
            if paths:
                q.add_many([("", p, {}) for p in paths])
        elif name == "Queue variations…":
            from nst_desktop.gui.variations_dialog import ask_variations

            ask_variations(self, q.model.variations)
        elif name == "Run queue":
            q.run_queue()
        elif name == "Clear":
            q.clear()
        elif picked is not None:
            if name == "Cancel":
                q.cancel(picked)
            else:
                q.move(picked, -1 if name == "Up" else 1)
