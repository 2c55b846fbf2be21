"""The tiles of a tiled run on the picture: the one being refined, and faintly the ones done.

:class:`TileMarks` (``model.tiles``) follows the run's progress records (core/tiled.py gives
each its tile's box in the picture of its scale); :class:`TileOverlay` draws them over the
:class:`PreviewView`, scaled to the picture on screen. A run that ends clears them.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, QRectF, Qt, Signal
from PySide6.QtGui import QColor, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from nst_desktop.gui.preview import PreviewView

Box = tuple[int, int, int, int]  # top, left, bottom, right in the picture's pixels


class TileMarks(QObject):
    """See the module docstring."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.shape: tuple[int, int] | None = None  # (height, width) the boxes are in
        self.current: Box | None = None
        self.done: list[Box] = []

    def add(self, p) -> None:  # p: worker.Progress
        """One evaluation: its tile becomes the current one; a finished tile is done."""
        box, shape = getattr(p, "tile_box", None), getattr(p, "picture_shape", None)
        if box is None or shape is None:
            return
        if shape != self.shape:  # a new tiled scale: its own boxes
            self.shape, self.done = tuple(shape), []
        box = tuple(box)
        changed = box != self.current
        self.current = box
        if p.stage_done and box not in self.done:
            self.done.append(box)
            changed = True
        if changed:
            self.changed.emit()

    def clear(self) -> None:
        if self.shape is None and self.current is None and not self.done:
            return
        self.shape, self.current, self.done = None, None, []
        self.changed.emit()

    @property
    def shown(self) -> bool:
        return self.current is not None


class TileOverlay(QWidget):
    """The marks over the preview; the mouse passes through to it."""

    def __init__(self, marks: TileMarks, preview: PreviewView) -> None:
        super().__init__(preview)
        self.marks, self.preview = marks, preview
        self.setObjectName("tileOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.setGeometry(preview.rect())
        preview.installEventFilter(self)
        marks.changed.connect(self.update)
        preview.zoomChanged.connect(lambda _z: self.update())

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self.preview and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.preview.rect())
        return False

    def rect_of(self, box: Box) -> QRectF:
        """``box`` on screen: the picture's rectangle scaled to the marks' shape."""
        r = self.preview.image_rect()
        h, w = self.marks.shape or (1, 1)
        t, left, b, right = box
        sx, sy = r.width() / w, r.height() / h
        return QRectF(r.x() + left * sx, r.y() + t * sy, (right - left) * sx, (b - t) * sy)

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        marks = self.marks
        if marks.current is None or self.preview.image_rect().width() <= 0:
            return
        p = QPainter(self)
        p.setPen(QPen(QColor(255, 255, 255, 70), 1))
        for box in marks.done:
            p.drawRect(self.rect_of(box))
        current = self.rect_of(marks.current)
        p.setPen(QPen(QColor(0, 0, 0, 160), 3))
        p.drawRect(current)
        p.setPen(QPen(QColor(255, 200, 0), 1.5))
        p.drawRect(current)
        p.end()
