"""How the preview paints: a picture at any zoom without aliasing, the before/after split line
with its two labels, and the placeholder text. No state of the view here besides the cache of
shrunk copies; the view (gui/preview.py) keeps the geometry and the mouse."""

from __future__ import annotations

from PySide6.QtCore import QPointF, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QFont, QImage, QPainter, QPainterPath, QPen

NEAREST_FROM = 1.0  # zoomed in by the user from 100 %: pixels are shown as crisp squares
#: Below this many device px per image px a picture is drawn from an area-averaged copy.
SHRINK_BELOW = 0.75


class ShrinkCache:
    """Area-averaged copies of the pictures shown smaller than their size, one per role
    ("after", "before"), made again only when the picture or the size on screen changes."""

    def __init__(self) -> None:
        self._copies: dict[str, tuple[tuple[int, int, int], QImage]] = {}

    def get(self, role: str, version: int, size: QSize, image: QImage) -> QImage:
        key = (version, size.width(), size.height())
        cached = self._copies.get(role)
        if cached is not None and cached[0] == key:
            return cached[1]
        small = image.scaled(
            size,
            Qt.AspectRatioMode.IgnoreAspectRatio,
            Qt.TransformationMode.SmoothTransformation,
        )
        self._copies[role] = (key, small)
        return small

    def drop(self, role: str) -> None:
        self._copies.pop(role, None)


def draw_image(
    p: QPainter,
    image: QImage,
    target: QRectF,
    *,
    dpr: float,
    fit: bool,
    shrunk: tuple[ShrinkCache, str, int],
) -> None:
    """``image`` into ``target``: smooth when fitted, crisp squares when the user zoomed in to
    look at pixels, area-averaged when shrunk (QPainter's bilinear filter aliases there).
    ``shrunk`` is the cache, the image's role and its version."""
    # device px per pixel of *this* image (the before image may have another resolution)
    ratio = target.width() * dpr / max(1, image.width())
    pixels = not fit and ratio >= NEAREST_FROM
    p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, not pixels)
    if ratio < SHRINK_BELOW:
        cache, role, version = shrunk
        size = QSize(max(1, round(target.width() * dpr)), max(1, round(target.height() * dpr)))
        p.drawImage(target, cache.get(role, version, size, image))
    else:
        p.drawImage(target, image, QRectF(image.rect()))


def paint_split(
    p: QPainter, target: QRectF, sx: float, labels: tuple[str, str], font: QFont, view: QSize
) -> None:
    """The split line at ``sx`` with its handle, and the two sides' names beside it at the top
    (elided to the room each side has in a ``view``-sized widget)."""
    p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
    top, bottom = max(target.top(), 0.0), min(target.bottom(), float(view.height()))
    p.setPen(QPen(QColor(0, 0, 0, 140), 4))
    p.drawLine(QPointF(sx, top), QPointF(sx, bottom))
    p.setPen(QPen(QColor(255, 255, 255), 2))
    p.drawLine(QPointF(sx, top), QPointF(sx, bottom))
    mid = (top + bottom) / 2
    p.setBrush(QColor(255, 255, 255))
    p.setPen(QPen(QColor(0, 0, 0, 160), 1))
    p.drawEllipse(QPointF(sx, mid), 7, 7)
    bold = QFont(font)
    bold.setBold(True)
    p.setFont(bold)
    fm = p.fontMetrics()
    ty = max(target.top(), 0.0) + 8
    left, right = labels
    for text, right_side in ((left, False), (right, True)):
        room = view.width() - sx - 28 if right_side else sx - max(target.left(), 0.0) - 28
        text = fm.elidedText(text, Qt.TextElideMode.ElideRight, int(max(room, 40)))
        tw, th = fm.horizontalAdvance(text) + 12, fm.height() + 4
        x = sx + 8 if right_side else sx - 8 - tw
        box = QRectF(x, ty, tw, th)
        path = QPainterPath()
        path.addRoundedRect(box, 4, 4)
        p.fillPath(path, QColor(0, 0, 0, 150))
        p.setPen(QColor(255, 255, 255))
        p.drawText(box, Qt.AlignmentFlag.AlignCenter, text)


def paint_placeholder(p: QPainter, rect: QRectF, font: QFont, text: str) -> None:
    """What the view says while it has no picture, a little larger than the window's text."""
    p.setPen(QColor(175, 175, 180))
    larger = QFont(font)
    larger.setPointSizeF(larger.pointSizeF() * 1.15)
    p.setFont(larger)
    p.drawText(
        rect.adjusted(16, 16, -16, -16),
        Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
        text,
    )
