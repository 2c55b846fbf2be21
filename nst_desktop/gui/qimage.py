"""numpy <-> QImage helpers for the GUI thread.

Usage::

    img = to_qimage(arr)          # arr: H x W x 3 uint8 (or H x W grey); a deep copy, safe to keep
    arr = from_qimage(widget.grab().toImage())   # H x W x 3 uint8 copy (tests, screenshots)

The worker thread hands over plain uint8 arrays; only the GUI thread builds QImages, and always
from a copy, so the worker may reuse or free its buffer at once.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtGui import QImage, QPixmap


def to_qimage(arr: np.ndarray) -> QImage:
    """A QImage (RGB32, the format QPainter draws fastest) holding a copy of ``arr``."""
    a = np.asarray(arr)
    if a.dtype != np.uint8:
        raise TypeError(f"expected a uint8 array, got {a.dtype}")
    if a.ndim == 3 and a.shape[2] == 4:
        a = a[:, :, :3]
    if a.ndim == 2:
        a = np.ascontiguousarray(a)
        h, w = a.shape
        src = QImage(a.data, w, h, w, QImage.Format.Format_Grayscale8)
    elif a.ndim == 3 and a.shape[2] == 3:
        a = np.ascontiguousarray(a)
        h, w = a.shape[:2]
        src = QImage(a.data, w, h, 3 * w, QImage.Format.Format_RGB888)
    else:
        raise ValueError(f"expected H x W x 3 pixels, got shape {a.shape}")
    # convertToFormat makes a new buffer, so the result never points into ``a``.
    out = src.convertToFormat(QImage.Format.Format_RGB32)
    del src
    return out


def from_qimage(img: QImage) -> np.ndarray:
    """An H x W x 3 uint8 copy of ``img``'s pixels (any format)."""
    rgb = img.convertToFormat(QImage.Format.Format_RGB888)
    w, h, bpl = rgb.width(), rgb.height(), rgb.bytesPerLine()
    if w == 0 or h == 0:
        return np.zeros((h, w, 3), np.uint8)
    buf = np.frombuffer(rgb.constBits(), dtype=np.uint8, count=bpl * h)
    return buf.reshape(h, bpl)[:, : 3 * w].reshape(h, w, 3).copy()


def pil_to_qimage(img: Image.Image) -> QImage:
    return to_qimage(np.asarray(img.convert("RGB")))


def thumbnail_pixmap(img: Image.Image, size: int, dpr: float = 1.0) -> QPixmap:
    """A high-DPI-sharp square-bounded thumbnail: ``size`` logical px on its longest side."""
    thumb = img.convert("RGB")
    thumb.thumbnail((max(1, round(size * dpr)),) * 2, Image.Resampling.LANCZOS)
    pm = QPixmap.fromImage(pil_to_qimage(thumb))
    pm.setDevicePixelRatio(dpr)
    return pm
