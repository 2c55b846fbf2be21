"""The regions drawn over the picture, and the brush that paints them.

A transparent child of the :class:`PreviewView` that fills it: it draws each style's mask in
the style's colour where the picture is (the photo before a run, the live or finished result
after), and while "Paint regions" is on, the left button paints with the brush or eraser. The
wheel still zooms (the event goes on to the preview); with painting off the mouse passes through
to the preview entirely. Painting during a run changes the masks of the next run.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QEvent, QObject, QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QImage, QMouseEvent, QPainter, QPaintEvent, QPen
from PySide6.QtWidgets import QWidget

from nst_desktop.gui.preview import PreviewView
from nst_desktop.gui.regions import RegionsModel, region_color

#: How opaque a fully inside pixel of a region looks over the picture.
OVERLAY_ALPHA = 0.45


def overlay_image(masks: dict[int, np.ndarray], alpha: float = OVERLAY_ALPHA) -> QImage | None:
    """All regions as one premultiplied ARGB image, each in its style's colour."""
    if not masks:
        return None
    h, w = next(iter(masks.values())).shape
    rgb = np.zeros((h, w, 3), np.float32)
    cover = np.zeros((h, w), np.float32)
    for i, m in masks.items():
        a = m * alpha
        rgb = rgb * (1 - a[..., None]) + np.asarray(region_color(i), np.float32) * a[..., None]
        cover = cover + a * (1 - cover)
    argb = np.empty((h, w, 4), np.uint8)  # BGRA in memory: Format_ARGB32_Premultiplied
    argb[..., 0] = np.clip(rgb[..., 2], 0, 255)
    argb[..., 1] = np.clip(rgb[..., 1], 0, 255)
    argb[..., 2] = np.clip(rgb[..., 0], 0, 255)
    argb[..., 3] = np.clip(cover * 255, 0, 255)
    image = QImage(argb.data, w, h, 4 * w, QImage.Format.Format_ARGB32_Premultiplied)
    return image.copy()  # own the pixels: ``argb`` goes away


class RegionOverlay(QWidget):
    """See the module docstring."""

    def __init__(self, regions: RegionsModel, preview: PreviewView) -> None:
        super().__init__(preview)
        self.regions = regions
        self.preview = preview
        self.setObjectName("regionOverlay")
        self.setAttribute(Qt.WidgetAttribute.WA_NoSystemBackground)
        self.setMouseTracking(True)
        self._image: QImage | None = None
        self._dirty = True
        self._cursor: QPointF | None = None
        self._down = False
        preview.installEventFilter(self)
        self.setGeometry(preview.rect())
        regions.changed.connect(self._masks_changed)
        regions.toolChanged.connect(self._tool_changed)
        self._tool_changed()

    # ------------------------------------------------------------------ state
    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if watched is self.preview and event.type() == QEvent.Type.Resize:
            self.setGeometry(self.preview.rect())
        return False

    def event(self, event: QEvent) -> bool:
        if event.type() == QEvent.Type.ToolTip and self.regions.painting:
            return True  # the preview's pan-and-zoom tip would cover the brush
        return super().event(event)

    def _masks_changed(self) -> None:
        self._dirty = True
        self.update()

    def _tool_changed(self) -> None:
        painting = self.regions.painting
        self.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents, not painting)
        self.setCursor(Qt.CursorShape.CrossCursor if painting else Qt.CursorShape.ArrowCursor)
        if not painting:
            self.unsetCursor()
            self._cursor = None
        self.update()

    def _picture_rect(self) -> QRectF:
        return self.preview.image_rect()

    def to_picture(self, pos: QPointF) -> tuple[float, float] | None:
        """Widget position -> picture coordinates 0..1 (None when there is no picture)."""
        r = self._picture_rect()
        if r.width() <= 0 or r.height() <= 0:
            return None
        return ((pos.x() - r.x()) / r.width(), (pos.y() - r.y()) / r.height())

    # ------------------------------------------------------------------ painting the view
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        if not self.regions.visible:
            return
        if self._dirty:
            self._image = overlay_image(self.regions.masks())
            self._dirty = False
        r = self._picture_rect()
        p = QPainter(self)
        if self._image is not None and r.width() > 0:
            p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
            p.drawImage(r, self._image, QRectF(self._image.rect()))
        if self.regions.painting and self._cursor is not None and r.width() > 0:
            radius = self.regions.size * max(r.width(), r.height())
            p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
            color = QColor(*region_color(self.regions.active))
            p.setPen(QPen(QColor(0, 0, 0, 160), 3))
            p.drawEllipse(self._cursor, radius, radius)
            p.setPen(QPen(color if self.regions.tool == "brush" else QColor("white"), 1.5))
            p.drawEllipse(self._cursor, radius, radius)
        p.end()

    # ------------------------------------------------------------------ the brush
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() != Qt.MouseButton.LeftButton or not self.regions.painting:
            return super().mousePressEvent(event)
        point = self.to_picture(event.position())
        self._down = point is not None and self.regions.stroke([point], new=True)
        event.accept()

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        self._cursor = event.position()
        if self._down:
            point = self.to_picture(event.position())
            if point is not None:
                self.regions.stroke([point], new=False)
        self.update()
        event.accept()

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        if event.button() == Qt.MouseButton.LeftButton and self._down:
            self._down = False
            event.accept()
            return
        super().mouseReleaseEvent(event)

    def leaveEvent(self, event: QEvent) -> None:  # noqa: N802 (Qt API)
        self._cursor = None
        self.update()
        super().leaveEvent(event)
