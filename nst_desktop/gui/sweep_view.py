"""The layer sweep as a live, labelled grid (the paper's two studies).

Usage::

    view = SweepView()
    view.reset([("Content reconstruction", ["relu1_1", ..., "relu5_1"]),
                ("Style reconstruction", ["relu1_1", "+relu2_1", ...])])
    view.set_active(0)            # the cell being computed gets a highlighted frame
    view.set_cell(0, uint8_hxwx3) # index counts across rows, row-major; call again to refresh
    view.to_image()               # PIL image of the labelled grid (cells done so far; others grey)
    view.cellClicked.connect(...) # a click on a finished cell (its index): open it large

Cells scale with the widget; the exported grid is drawn by ``core.grid.make_grid`` so the window
and the CLI produce the same picture.
"""

from __future__ import annotations

import numpy as np
from PIL import Image
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetrics,
    QImage,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPen,
)
from PySide6.QtWidgets import QSizePolicy, QWidget

from nst_desktop.core.grid import make_grid
from nst_desktop.gui.qimage import to_qimage

_BG = QColor(250, 250, 248)
_EMPTY = QColor(225, 225, 222)
_INK = QColor(30, 30, 30)
_ACTIVE = QColor(230, 120, 20)
_PAD = 8


class SweepView(QWidget):
    """See the module docstring."""

    cellClicked = Signal(int)  # a finished cell was clicked (row-major index)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.setMinimumSize(240, 160)
        self.setToolTip(
            "What each layer of the network keeps of your pictures: the top row rebuilds the "
            "photo from one layer at a time, the bottom row rebuilds the artwork's texture from "
            "more and more layers. Click a finished picture to see it large, save it, or use "
            "its layers for a style transfer."
        )
        self.setMouseTracking(True)  # the hand cursor over a finished cell
        self._rows: list[tuple[str, list[str]]] = []
        self._arrays: list[np.ndarray | None] = []
        self._images: list[QImage | None] = []
        self._active = -1

    # ------------------------------------------------------------------ public API
    def reset(self, rows: list[tuple[str, list[str]]]) -> None:
        self._rows = [(str(title), [str(c) for c in cells]) for title, cells in rows]
        n = sum(len(cells) for _, cells in self._rows)
        self._arrays = [None] * n
        self._images = [None] * n
        self._active = -1
        self.update()

    def cell_count(self) -> int:
        return len(self._arrays)

    def set_cell(self, index: int, arr: np.ndarray) -> None:
        """Show ``arr`` (H x W x 3 uint8, copied) in cell ``index`` (row-major across rows)."""
        if not 0 <= index < len(self._arrays):
            raise IndexError(f"sweep cell {index} out of range 0..{len(self._arrays) - 1}")
        self._arrays[index] = np.array(arr, dtype=np.uint8, copy=True)
        self._images[index] = to_qimage(self._arrays[index])
        self.update()

    def cell(self, index: int) -> np.ndarray | None:
        return self._arrays[index]

    def set_active(self, index: int) -> None:
        """Highlight the cell being computed (-1: none)."""
        self._active = index if 0 <= index < len(self._arrays) else -1
        self.update()

    def active(self) -> int:
        return self._active

    def done_count(self) -> int:
        return sum(a is not None for a in self._arrays)

    def to_image(self, title: str = "") -> Image.Image:
        """The labelled grid of the cells done so far (missing cells are grey boxes)."""
        rows, i = [], 0
        for row_title, labels in self._rows:
            cells = []
            for label in labels:
                cells.append((label, self._arrays[i]))
                i += 1
            rows.append((row_title, cells))
        return make_grid(rows, title=title)

    def cell_at(self, pos: QPointF) -> int:
        """The index of the finished cell under ``pos`` (widget coordinates); -1: none."""
        for i, rect in enumerate(self.cell_rects()):
            if rect.contains(pos) and self._arrays[i] is not None:
                return i
        return -1

    def mouseMoveEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        over = self.cell_at(event.position()) >= 0
        self.setCursor(Qt.CursorShape.PointingHandCursor if over else Qt.CursorShape.ArrowCursor)
        super().mouseMoveEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:  # noqa: N802 (Qt API)
        index = self.cell_at(event.position())
        if event.button() == Qt.MouseButton.LeftButton and index >= 0:
            self.cellClicked.emit(index)
        super().mouseReleaseEvent(event)

    def labels(self) -> list[str]:
        """Every cell's caption, row-major."""
        return [label for _, cells in self._rows for label in cells]

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(720, 360)

    # ------------------------------------------------------------------ layout
    def _fonts(self) -> tuple[QFont, QFont]:
        label = QFont(self.font())
        title = QFont(self.font())
        title.setBold(True)
        return label, title

    def cell_rects(self) -> list[QRectF]:
        """The square box of each cell in widget coordinates (row-major)."""
        if not self._rows:
            return []
        label_font, title_font = self._fonts()
        lh = QFontMetrics(label_font).height() + 4
        th = QFontMetrics(title_font).height() + 6
        cols = max(1, max(len(c) for _, c in self._rows))
        nrows = len(self._rows)
        avail_w = (self.width() - _PAD * (cols + 1)) / cols
        avail_h = (self.height() - _PAD - nrows * (th + lh + _PAD)) / nrows
        size = max(8.0, min(avail_w, avail_h))
        grid_w = cols * size + (cols - 1) * _PAD
        x0 = max(_PAD, (self.width() - grid_w) / 2)
        rects, y = [], float(_PAD)
        for _, cells in self._rows:
            y += th
            for i in range(len(cells)):
                rects.append(QRectF(x0 + i * (size + _PAD), y, size, size))
            y += size + lh + _PAD
        return rects

    # ------------------------------------------------------------------ painting
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        p = QPainter(self)
        p.fillRect(self.rect(), _BG)
        if not self._rows:
            p.setPen(QColor(140, 140, 140))
            p.drawText(
                self.rect().adjusted(16, 16, -16, -16),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "The layer sweep fills in here: what each layer keeps of the photo's content, "
                "and of the artwork's style.",
            )
            p.end()
            return
        label_font, title_font = self._fonts()
        rects = self.cell_rects()
        p.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, True)
        i = 0
        for row_title, labels in self._rows:
            first = rects[i]
            p.setFont(title_font)
            p.setPen(_INK)
            p.drawText(
                QRectF(
                    first.left(),
                    first.top() - p.fontMetrics().height() - 4,
                    self.width() - first.left() - _PAD,
                    p.fontMetrics().height(),
                ),
                Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignVCenter,
                row_title,
            )
            p.setFont(label_font)
            for label in labels:
                r = rects[i]
                img = self._images[i]
                if img is None:
                    p.fillRect(r, _EMPTY)
                else:
                    s = min(r.width() / img.width(), r.height() / img.height())
                    w, h = img.width() * s, img.height() * s
                    target = QRectF(r.center().x() - w / 2, r.center().y() - h / 2, w, h)
                    p.drawImage(target, img, QRectF(img.rect()))
                if i == self._active:
                    pen = QPen(_ACTIVE, 3)
                    p.setPen(pen)
                    p.drawRect(r.adjusted(-2, -2, 2, 2))
                    if img is None:
                        p.setPen(QColor(120, 120, 120))
                        p.drawText(r, Qt.AlignmentFlag.AlignCenter, "computing…")
                p.setPen(_ACTIVE if i == self._active else _INK)
                p.drawText(
                    QRectF(
                        r.left() - _PAD / 2,
                        r.bottom() + 2,
                        r.width() + _PAD,
                        p.fontMetrics().height(),
                    ),
                    Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                    p.fontMetrics().elidedText(
                        label, Qt.TextElideMode.ElideRight, int(r.width() + _PAD)
                    ),
                )
                i += 1
        p.end()
