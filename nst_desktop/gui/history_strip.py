"""The history strip: a thumbnail of every run, newest first, and what to do with the one shown.

It shows ``model.history`` and reports clicks to it; it keeps no state of its own besides the
thumbnails it has drawn. Thumbnails are read lazily: only those scrolled into view, a few per turn
of the event loop, so a history of hundreds of runs costs the window's start nothing.
"""

from __future__ import annotations

import time
from pathlib import Path

from PySide6.QtCore import QSize, Qt, QTimer
from PySide6.QtGui import QGuiApplication, QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.compare import clocks
from nst_desktop.core.history_record import Entry
from nst_desktop.core.images import ImageError, open_image
from nst_desktop.gui.flow_layout import flow_row
from nst_desktop.gui.history_model import HistoryModel
from nst_desktop.gui.qimage import to_qimage

#: Thumbnails drawn per turn of the event loop (each takes 1-8 ms: the window stays fluid).
THUMBS_PER_TICK = 4
ICON = QSize(72, 72)
_ID = Qt.ItemDataRole.UserRole
_THUMB = Qt.ItemDataRole.UserRole + 1
_OTHER = "⇆ "  # the caption's mark of the run Compare compares with
_STATUS_MARK = {"done": "", "stopped": "◼ ", "nonfinite": "⚠ ", "error": "⚠ "}


class HistoryStrip(QWidget):
    """See the module docstring."""

    def __init__(self, history: HistoryModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.history = history
        self.list = QListWidget()
        self.list.setObjectName("historyList")
        self.list.setViewMode(QListWidget.ViewMode.IconMode)
        self.list.setFlow(QListWidget.Flow.LeftToRight)
        self.list.setWrapping(False)
        self.list.setMovement(QListWidget.Movement.Static)
        self.list.setIconSize(ICON)
        self.list.setFixedHeight(ICON.height() + 44)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAsNeeded)
        self.list.itemClicked.connect(self._clicked)
        self.list.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.list.customContextMenuRequested.connect(self._context_menu)
        bar = self.list.horizontalScrollBar()
        bar.valueChanged.connect(lambda _v: self._schedule())
        bar.rangeChanged.connect(lambda _lo, _hi: self._schedule())  # resized, items added
        self.usage = QLabel()
        self.usage.setToolTip("Runs in the history and the disk they use.")
        self.keep = QSpinBox()
        self.keep.setRange(1, 100_000)
        self.keep.setPrefix("keep ")
        self.keep.setSuffix(" runs")
        self.keep.setKeyboardTracking(False)
        self.keep.setToolTip("Older runs beyond this are removed, except pinned ones.")
        self.keep.valueChanged.connect(history.set_limit)
        self.details = QLabel("Click a run to show it.")
        self.details.setTextFormat(Qt.TextFormat.PlainText)  # names come from files
        self.details.setWordWrap(True)
        self.buttons: dict[str, QPushButton] = {}
        for name, tip in (
            ("Use these settings", "Restore its settings and pictures (styles with weights)."),
            ("Continue from this", "Its settings and pictures, starting from its picture."),
            ("Export…", "Save its picture (with its settings) where you choose."),
            ("Pin", "Keep it whatever the limit."),
            ("Delete", "Remove it and its pictures from the history."),
            ("Copy path", "Copy the path of its picture."),
            ("Compare", "Compare it with another run: split or side by side."),
            ("With photo", "Compare it with the photo it was made from."),
        ):
            button = QPushButton(name)
            button.setToolTip(tip)
            button.clicked.connect(lambda _c=False, n=name: self._act(n))
            self.buttons[name] = button
        #: the buttons in rows that wrap: a narrow window shows them all, none cut
        self.actions = flow_row(list(self.buttons.values()))
        header = QHBoxLayout()
        header.addWidget(QLabel("<b>History</b>"))
        header.addWidget(self.usage, 1)
        header.addWidget(self.keep)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(header)
        layout.addWidget(self.list)
        layout.addWidget(self.details)
        layout.addWidget(self.actions)
        self._pending: list[QListWidgetItem] = []
        self._timer = QTimer(self)
        self._timer.setInterval(0)
        self._timer.timeout.connect(self._draw_some)
        self.thumb_seconds = 0.0  # time spent reading thumbnails (measured for the docs)
        history.entriesChanged.connect(self._reset)
        history.entryAdded.connect(self._added)
        history.entryChanged.connect(self._changed)
        history.entryRemoved.connect(self._removed)
        history.selectedChanged.connect(self._show_selected)
        history.otherChanged.connect(lambda _e: self._show_selected(history.selected))
        history.usageChanged.connect(self.usage.setText)
        history.limitsChanged.connect(self._show_limits)
        self._reset(history.entries)
        self._show_selected(history.selected)

    # ------------------------------------------------------------------ items
    def _item(self, entry: Entry) -> QListWidgetItem:
        item = QListWidgetItem()  # its caption: _recaption, which sees the other entries
        item.setData(_ID, entry.id)
        item.setData(_THUMB, str(entry.thumb))
        item.setToolTip(_tooltip(entry))
        item.setSizeHint(QSize(ICON.width() + 16, ICON.height() + 36))
        return item

    def _reset(self, entries: list[Entry]) -> None:
        self.list.clear()
        self._pending = []
        for entry in entries:
            self.list.addItem(self._item(entry))
            self._pending.append(self.list.item(self.list.count() - 1))
        self._recaption()
        self._schedule()

    def _added(self, entry: Entry) -> None:
        item = self._item(entry)
        self.list.insertItem(0, item)
        self._pending.insert(0, item)
        self._recaption()
        self._schedule()

    def _changed(self, entry: Entry) -> None:
        item = self.item_for(entry.id)
        if item is not None:
            item.setToolTip(_tooltip(entry))
            self._recaption()
        if self.history.selected is not None and self.history.selected.id == entry.id:
            self._show_selected(entry)

    def _removed(self, entry_id: str) -> None:
        item = self.item_for(entry_id)
        if item is not None:
            self._pending = [p for p in self._pending if p is not item]
            self.list.takeItem(self.list.row(item))
            self._recaption()

    def _recaption(self) -> None:
        """Every caption: its time, with seconds where another run in the strip has the same
        minute (core.compare.clocks, as the compare labels), and its marks."""
        entries = {e.id: e for e in self.history.entries}
        items = [self.list.item(row) for row in range(self.list.count())]
        shown = [(item, entries[item.data(_ID)]) for item in items if item.data(_ID) in entries]
        whens = clocks([entry.created for _, entry in shown])
        for (item, entry), when in zip(shown, whens, strict=True):
            mark = _OTHER if item.text().startswith(_OTHER) else ""
            item.setText(mark + _caption(entry, when))

    def item_for(self, entry_id: str) -> QListWidgetItem | None:
        for row in range(self.list.count()):
            if self.list.item(row).data(_ID) == entry_id:
                return self.list.item(row)
        return None

    # ------------------------------------------------------------------ lazy thumbnails
    def _schedule(self) -> None:
        if self._pending and not self._timer.isActive():
            self._timer.start()

    def _draw_some(self) -> None:
        """A few of the visible thumbnails; the timer stops when those are drawn (scrolling
        and resizing start it again)."""
        view = self.list.viewport().rect()
        visible = [i for i in self._pending if self.list.visualItemRect(i).intersects(view)]
        batch = visible[:THUMBS_PER_TICK]
        started = time.perf_counter()
        for item in batch:
            self._pending.remove(item)
            item.setIcon(_thumb_icon(Path(item.data(_THUMB))))
        self.thumb_seconds += time.perf_counter() - started
        if len(batch) == len(visible):
            self._timer.stop()

    @property
    def thumbs_pending(self) -> int:
        """Thumbnails not drawn yet (scrolled out of view, or still to come)."""
        return len(self._pending)

    @property
    def thumbs_busy(self) -> bool:
        """Whether visible thumbnails are still being drawn."""
        return self._timer.isActive()

    # ------------------------------------------------------------------ the entry shown
    def _show_selected(self, entry: Entry | None) -> None:
        for button in self.buttons.values():
            button.setEnabled(entry is not None)
        if entry is None:
            self.list.clearSelection()
            self.details.setText("Click a run to show it.")
            return
        item = self.item_for(entry.id)
        if item is not None and not item.isSelected():
            self.list.setCurrentItem(item)
        self.buttons["Pin"].setText("Unpin" if entry.pinned else "Pin")
        other = self.history.previous
        self._mark_other(other.id if other is not None else None)
        self.buttons["Compare"].setEnabled(other is not None)
        self.buttons["Compare"].setToolTip(
            f"Compare it with run {other.id} (marked ⇆; Ctrl-click a thumbnail to choose "
            "another, or right-click one)."
            if other is not None
            else "Ctrl-click a second run (or right-click one) to compare it with this one."
        )
        self.buttons["With photo"].setEnabled(entry.content is not None)
        self.details.setText(_details(entry))

    def _mark_other(self, other_id: str | None) -> None:
        """The run Compare puts beside the one shown gets a ⇆ in its caption."""
        for row in range(self.list.count()):
            item = self.list.item(row)
            text = item.text().removeprefix(_OTHER)
            item.setText(_OTHER + text if item.data(_ID) == other_id else text)

    def _clicked(self, item: QListWidgetItem) -> None:
        """A click shows the run; a Ctrl-click chooses it as the one to compare with."""
        ctrl = QGuiApplication.keyboardModifiers() & Qt.KeyboardModifier.ControlModifier
        if ctrl and self.history.selected is not None:
            self.history.set_other(item.data(_ID))
            self._show_selected(self.history.selected)  # the selection stays on the one shown
        else:
            self.history.select(item.data(_ID))

    def menu_for(self, entry_id: str) -> QMenu:
        """What can be done with any run of the strip, the one shown or another."""
        h = self.history
        entry, shown = h.find(entry_id), h.selected
        menu = QMenu(self)
        menu.addAction("Show", lambda: h.select(entry_id))
        if entry is None:
            return menu
        compare = menu.addAction(
            f"Compare with the run shown ({shown.id})" if shown else "Compare with the run shown",
            lambda: shown is not None and h.compare(entry, shown),
        )
        compare.setEnabled(shown is not None and shown.id != entry_id)
        menu.addAction("Choose for Compare", lambda: h.set_other(entry_id)).setEnabled(
            shown is not None and shown.id != entry_id
        )
        menu.addAction("Compare with its photo", lambda: h.compare_with_photo(entry)).setEnabled(
            entry.content is not None
        )
        return menu

    def _context_menu(self, pos) -> None:
        item = self.list.itemAt(pos)
        if item is not None:
            self.menu_for(item.data(_ID)).exec(self.list.viewport().mapToGlobal(pos))

    def _show_limits(self, limits) -> None:
        blocked = self.keep.blockSignals(True)
        self.keep.setValue(limits.max_entries)
        self.keep.blockSignals(blocked)

    def _act(self, name: str) -> None:
        entry = self.history.selected
        if entry is None:
            return
        h = self.history
        if name == "Use these settings":
            h.use_settings(entry)
        elif name == "Continue from this":
            h.continue_from(entry)
        elif name == "Export…":
            path, _ = QFileDialog.getSaveFileName(
                self, "Export the picture", f"nst-{entry.id}.png",
                "PNG (*.png);;JPEG (*.jpg);;WebP (*.webp);;TIFF (*.tif)",
            )  # fmt: skip
            if path:
                h.export(entry, path)
        elif name == "Pin":
            h.set_pinned(entry, not entry.pinned)
        elif name == "Delete":
            answer = QMessageBox.question(
                self, "Delete this run?", f"Delete run {entry.id} and its pictures?"
            )
            if answer == QMessageBox.StandardButton.Yes:
                h.delete(entry)
        elif name == "Compare":
            h.compare_with_previous()
        elif name == "With photo":
            h.compare_with_photo()
        elif name == "Copy path":
            QGuiApplication.clipboard().setText(str(entry.result))
            h.model.set_status(f"Copied {entry.result}.")


def _thumb_icon(path: Path) -> QIcon:
    try:
        image = open_image(path, max_side=ICON.width()).image
    except ImageError:
        return QIcon()
    import numpy as np

    return QIcon(QPixmap.fromImage(to_qimage(np.asarray(image))))


def _caption(entry: Entry, when: str) -> str:
    pin = "📌 " if entry.pinned else ""
    return f"{pin}{_STATUS_MARK.get(entry.status, '')}{when}"


def _tooltip(entry: Entry) -> str:
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.created))
    names = ", ".join(i.name for i in entry.inputs) or "no inputs recorded"
    return f"{when} · {entry.status} · {entry.iterations} iterations\n{names}"


def _num(value: object) -> str:
    """A weight as people write it (3.6, 1e+08), whatever the record holds."""
    return f"{value:g}" if isinstance(value, int | float) else "?"


def _details(entry: Entry) -> str:
    s = entry.settings
    styles = ", ".join(f"{i.name} ×{i.weight:g}" for i in entry.styles)
    parts = [
        f"{entry.status}, {entry.iterations} iterations in {entry.seconds:.1f} s",
        f"{s.get('size', '?')} px, {s.get('optimizer', '?')}, seed {s.get('seed', '?')}",
        f"style weight {_num(s.get('style_weight'))}, "
        f"content weight {_num(s.get('content_weight'))}",
    ]
    if entry.content is not None:
        parts.append(f"photo {entry.content.name}")
    if styles:
        parts.append(f"styles {styles}")
    if entry.weights:
        parts.append(entry.weights)
    return " · ".join(str(p)[:200] for p in parts)
