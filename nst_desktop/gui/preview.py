"""The live preview: the evolving image with zoom, pan and a before/after split.

Usage::

    view = PreviewView()
    view.set_before(content_uint8)      # optional: the content image, for before/after
    view.set_image(step_uint8)          # every preview frame the worker sends (H x W x 3 uint8)
    view.fit(); view.actual_size(); view.zoom_by(1.25)
    view.set_compare(True)              # drag the split line; "Before" left, "After" right
    view.set_split_labels("Photo", "Result")  # optional: other names for the two sides
    view.current_image()                # the last array set (for Export), or None
    view.frames_shown                   # paints that drew a new frame (preview fps)
    view.zoomChanged.connect(...)       # float: 1.0 = 100 % (one image pixel per screen pixel)

Mouse: wheel zooms around the cursor, left-drag pans (or moves the split line when it is near),
double-click toggles between fit and 100 %.

``set_image`` only copies the pixels into a QImage and calls ``update()``; Qt merges the
repaints, so a worker sending 15 frames/s at 1024 px costs one copy and at most one paint each.
Zoom is measured in *device* pixels, so 100 % is pixel-exact on high-DPI screens too. How the
picture, the split and the placeholder are painted: gui/preview_paint.py.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QResizeEvent,
    QWheelEvent,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from nst_desktop.gui.preview_paint import (
    ShrinkCache,
    draw_image,
    paint_placeholder,
    paint_split,
)
from nst_desktop.gui.qimage import to_qimage

PLACEHOLDER = "Pick a content and a style image, then press Run"
MIN_ZOOM, MAX_ZOOM = 0.02, 64.0
_BG = QColor(38, 38, 40)
_SPLIT_GRAB_PX = 8


class PreviewView(QWidget):
    """Shows one uint8 RGB image; see the module docstring."""

    zoomChanged = Signal(float)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(160, 120)
        self.setMouseTracking(True)
        self.setAttribute(Qt.WidgetAttribute.WA_OpaquePaintEvent)
        self.setToolTip(
            "The picture as it evolves. Scroll to zoom, drag to move around, "
            "double-click to switch between the whole picture and actual pixels."
        )
        self.frames_shown = 0
        self.placeholder = PLACEHOLDER
        self._array: np.ndarray | None = None
        self._image: QImage | None = None
        self._before: QImage | None = None
        self._new_frame = False
        self._scale = 1.0  # logical widget px per image px
        self._offset = QPointF(0, 0)  # image top-left, widget coordinates
        self._fit = True
        self._compare = False
        self._split = 0.5  # fraction of the image width
        self.split_labels = ("Before", "After")  # what set_split_labels names the two sides
        self._drag: str | None = None  # "pan" | "split"
        self._drag_last = QPointF()
        self._shrunk = ShrinkCache()  # area-averaged copies of the pictures shown smaller
        self._frame_id = 0
        self._before_id = 0

    # ------------------------------------------------------------------ public API
    def set_image(self, arr: np.ndarray) -> None:
        """Show ``arr`` (H x W x 3 uint8); the pixels are copied, ``arr`` is kept for export."""
        image = to_qimage(arr)
        old = self._image
        self._array = arr
        self._image = image
        self._frame_id += 1
        self._new_frame = True
        if old is None or old.size() != image.size():
            if self._fit or old is None:
                self._fit = True
                self._apply_fit()
            else:  # keep the same on-screen size and centre when the resolution changes
                ratio = old.width() / image.width()
                self._set_scale(self._scale * ratio, self._image_center())
        self.update()

    def set_before(self, arr: np.ndarray | None) -> None:
        """The content image shown left of the split in compare mode (None: none)."""
        self._before = None if arr is None else to_qimage(arr)
        self._before_id += 1
        self._shrunk.drop("before")
        self.update()

    def clear(self, placeholder: str = PLACEHOLDER) -> None:
        """Back to a placeholder text (the before image is kept)."""
        self.placeholder = placeholder
        self._array = None
        self._image = None
        self._shrunk.drop("after")
        self._fit = True
        self.update()

    def current_image(self) -> np.ndarray | None:
        return self._array

    def has_image(self) -> bool:
        return self._image is not None

    def fit(self) -> None:
        """Show the whole picture as large as the view allows."""
        self._fit = True
        self._apply_fit()
        self.update()

    def actual_size(self) -> None:
        """100 %: one image pixel per screen (device) pixel, centred on the current centre."""
        self._fit = False
        self._set_scale(1.0 / self._dpr(), self._view_anchor())
        self.update()

    def zoom_by(self, factor: float, anchor: QPointF | None = None) -> None:
        """Multiply the zoom by ``factor`` keeping ``anchor`` (widget coords; centre) in place."""
        if factor <= 0 or not np.isfinite(factor):
            return
        self._fit = False
        self._set_scale(self._scale * factor, anchor if anchor is not None else self._view_anchor())
        self.update()

    def zoom(self) -> float:
        """Current zoom: image pixels per device pixel (1.0 = 100 %)."""
        return self._scale * self._dpr()

    def is_fit(self) -> bool:
        return self._fit

    def set_compare(self, on: bool) -> None:
        """Before/after: the content image left of a draggable line, the result right of it."""
        self._compare = bool(on)
        self.update()

    def compare(self) -> bool:
        return self._compare

    def set_split_labels(self, left: str, right: str) -> None:
        """What the split calls its two sides ("Before"/"After" unless told)."""
        self.split_labels = (left, right)
        self.update()

    def set_split(self, fraction: float) -> None:
        self._split = min(1.0, max(0.0, float(fraction)))
        self.update()

    def split(self) -> float:
        return self._split

    def image_rect(self) -> QRectF:
        """Where the image is drawn, in widget coordinates."""
        size = self._image_size()
        return QRectF(
            self._offset.x(),
            self._offset.y(),
            size.width() * self._scale,
            size.height() * self._scale,
        )

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(640, 480)

    # ------------------------------------------------------------------ geometry
    def _dpr(self) -> float:
        return float(self.devicePixelRatioF()) or 1.0

    def _image_size(self) -> QSize:
        if self._image is not None:
            return self._image.size()
        if self._before is not None:
            return self._before.size()
        return QSize(0, 0)

    def _view_anchor(self) -> QPointF:
        return QPointF(self.width() / 2, self.height() / 2)

    def _image_center(self) -> QPointF:
        return self.image_rect().center()

    def _apply_fit(self) -> None:
        size = self._image_size()
        if size.isEmpty():
            return
        margin = 8
        w, h = max(1, self.width() - 2 * margin), max(1, self.height() - 2 * margin)
        scale = min(w / size.width(), h / size.height())
        self._scale = min(max(scale, MIN_ZOOM / self._dpr()), MAX_ZOOM / self._dpr())
        self._offset = QPointF(
            (self.width() - size.width() * self._scale) / 2,
            (self.height() - size.height() * self._scale) / 2,
        )
        self.zoomChanged.emit(self.zoom())

    def _set_scale(self, scale: float, anchor: QPointF) -> None:
        dpr = self._dpr()
        new = min(max(scale, MIN_ZOOM / dpr), MAX_ZOOM / dpr)
        ratio = new / self._scale if self._scale > 0 else 1.0
        self._offset = anchor - (anchor - self._offset) * ratio
        self._scale = new
        self._clamp_pan()
        self.zoomChanged.emit(self.zoom())

    def _clamp_pan(self) -> None:
        """Keep at least a corner of the picture in view so it can't be lost off-screen."""
        r = self.image_rect()
        keep = 48.0
        x = min(max(r.x(), keep - r.width()), self.width() - keep)
        y = min(max(r.y(), keep - r.height()), self.height() - keep)
        self._offset = QPointF(x, y)

    def _split_x(self) -> float:
        r = self.image_rect()
        return r.x() + r.width() * self._split

    def _near_split(self, pos: QPointF) -> bool:
        if not (self._compare and self._before is not None):
            return False
        r = self.image_rect()
        return abs(pos.x() - self._split_x()) <= _SPLIT_GRAB_PX and r.top() <= pos.y() <= r.bottom()

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.fillRect(self.rect(), _BG)
        if self._image is None and not (self._compare and self._before is not None):
            paint_placeholder(p, QRectF(self.rect()), self.font(), self.placeholder)
            p.end()
            return
        target = self.image_rect()
        if self._image is not None and self._new_frame:
            self.frames_shown += 1
            self._new_frame = False
        if self._compare and self._before is not None:
            sx = self._split_x()
            left = QRectF(target.left(), target.top(), sx - target.left(), target.height())
            right = QRectF(sx, target.top(), target.right() - sx, target.height())
            p.save()
            p.setClipRect(left)
            self._draw(p, self._before, target, "before")
            p.restore()
            if self._image is not None:
                p.save()
                p.setClipRect(right)
                self._draw(p, self._image, target, "after")
                p.restore()
            paint_split(p, target, sx, self.split_labels, self.font(), self.size())
        elif self._image is not None:
            self._draw(p, self._image, target, "after")
        p.end()

    def _draw(self, p: QPainter, image: QImage, target: QRectF, role: str) -> None:
        version = self._frame_id if role == "after" else self._before_id
        shrunk = (self._shrunk, role, version)
        draw_image(p, image, target, dpr=self._dpr(), fit=self._fit, shrunk=shrunk)

    # ------------------------------------------------------------------ events
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self._fit:
            self._apply_fit()
        else:
            old = event.oldSize()
            if old.isValid():
                self._offset += QPointF(
                    (event.size().width() - old.width()) / 2,
                    (event.size().height() - old.height()) / 2,
                )
            self._clamp_pan()

    def wheelEvent(self, event: QWheelEvent) -> None:  # noqa: N802 (Qt API)
        if self._image_size().isEmpty():
            return
        delta = event.angleDelta().y() or event.pixelDelta().y()
        if delta:
            self.zoom_by(1.2 ** (delta / 120.0), event.position())
        event.accept()

    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() != Qt.MouseButton.LeftButton or self._image_size().isEmpty():
            return super().mousePressEvent(event)
        self._drag = "split" if self._near_split(event.position()) else "pan"
        self._drag_last = event.position()
        if self._drag == "pan":
            self.setCursor(Qt.CursorShape.ClosedHandCursor)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        pos = event.position()
        if self._drag == "split":
            r = self.image_rect()
            if r.width() > 0:
                self.set_split((pos.x() - r.x()) / r.width())
        elif self._drag == "pan":
            self._offset += pos - self._drag_last
            self._drag_last = pos
            self._fit = False
            self._clamp_pan()
            self.update()
        elif self._near_split(pos):
            self.setCursor(Qt.CursorShape.SplitHCursor)
        else:
            self.unsetCursor()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton and self._drag:
            self._drag = None
            self.unsetCursor()
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def mouseDoubleClickEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton and not self._image_size().isEmpty():
            if self._fit:
                self._fit = False
                self._set_scale(1.0 / self._dpr(), event.position())
                self.update()
            else:
                self.fit()
            event.accept()
