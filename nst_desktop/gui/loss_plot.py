"""A live loss plot: total and per-term losses against the iteration, on a log scale.

Usage::

    plot = LossPlot()
    plot.reset()                                            # at the start of every run
    plot.add(step, total, {"content": c, "style": s, "tv": t})   # once per evaluation
    plot.set_marker(step, "512 px")                         # optional: stage boundaries

``add`` only appends numbers and marks the plot dirty; a timer repaints at most ~15 times a
second however fast evaluations arrive. Drawing decimates to one min/max pair per pixel column,
so tens of thousands of points cost no more than a few hundred. Zero, negative, NaN and
infinite values cannot be shown on a log axis and are skipped (a gap, not a crash).
Pure QPainter; no matplotlib.
"""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer
from PySide6.QtGui import QColor, QFont, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QSizePolicy, QWidget

REPAINT_MS = 66  # ~15 repaints per second at most
_COLORS = {
    "total": QColor(40, 40, 40),
    "content": QColor(31, 119, 180),
    "style": QColor(214, 39, 40),
    "tv": QColor(44, 160, 44),
}
_EXTRA = [QColor(148, 103, 189), QColor(255, 127, 14), QColor(23, 190, 207), QColor(140, 86, 75)]
_BG = QColor(255, 255, 255)
_GRID = QColor(225, 225, 225)
_GRID_MINOR = QColor(242, 242, 242)
_AXIS = QColor(110, 110, 110)
_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(exponent: int) -> str:
    """10 to the power ``exponent`` as a short axis label (1, 10, 100, then 10³ ...)."""
    if 0 <= exponent <= 2:
        return str(10**exponent)
    if exponent == -1:
        return "0.1"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def _nice_step(span: float, target: int) -> float:
    raw = max(span, 1e-9) / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


class _Series:
    __slots__ = ("name", "color", "steps", "values", "_arrays")

    def __init__(self, name: str, color: QColor) -> None:
        self.name = name
        self.color = color
        self.steps: list[float] = []
        self.values: list[float] = []  # log10 of the loss
        self._arrays: tuple[np.ndarray, np.ndarray] | None = None

    def append(self, step: float, value: float) -> None:
        self.steps.append(step)
        self.values.append(math.log10(value))
        self._arrays = None

    def arrays(self) -> tuple[np.ndarray, np.ndarray]:
        if self._arrays is None:
            self._arrays = (np.asarray(self.steps, float), np.asarray(self.values, float))
        return self._arrays


class LossPlot(QWidget):
    """See the module docstring."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(220, 120)
        self.setToolTip(
            "How far the picture still is from the goal, per ingredient: content (the shapes "
            "of your photo), style (the textures of the artwork) and smoothness (tv). "
            "Lines flatten out when more iterations would change little."
        )
        self._series: dict[str, _Series] = {}
        self._markers: list[tuple[float, str]] = []
        self._max_step = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self.update)
        self.paints = 0  # paint count (lets tests and benchmarks see the throttling)
        self.legend_rect: QRectF | None = None  # where the last paint put the legend

    # ------------------------------------------------------------------ public API
    def reset(self) -> None:
        self._series.clear()
        self._markers.clear()
        self._max_step = 0.0
        self._timer.stop()
        self.update()

    def add(self, step: int, total: float, terms: dict[str, float] | None = None) -> None:
        """Record one evaluation; values that a log axis cannot show are skipped."""
        values: dict[str, object] = {"total": total}
        values.update(terms or {})
        for name, value in values.items():
            try:
                v = float(value)  # type: ignore[arg-type]
            except (TypeError, ValueError):
                continue
            if not (math.isfinite(v) and v > 0):
                continue
            series = self._series.get(name)
            if series is None:
                series = self._series[name] = _Series(name, self._color_for(name))
            series.append(float(step), v)
        self._max_step = max(self._max_step, float(step))
        if not self._timer.isActive():
            self._timer.start()

    def set_marker(self, step: int, label: str = "") -> None:
        """A dashed vertical line at ``step`` (a new scale, a new sweep cell ...)."""
        self._markers.append((float(step), label))
        self._max_step = max(self._max_step, float(step))
        if not self._timer.isActive():
            self._timer.start()

    def series_names(self) -> list[str]:
        return list(self._series)

    def point_count(self, name: str) -> int:
        s = self._series.get(name)
        return len(s.steps) if s else 0

    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(360, 180)

    # ------------------------------------------------------------------ drawing
    def _color_for(self, name: str) -> QColor:
        if name in _COLORS:
            return _COLORS[name]
        used = sum(1 for n in self._series if n not in _COLORS)
        return _EXTRA[used % len(_EXTRA)]

    def _y_range(self) -> tuple[int, int] | None:
        lo, hi = math.inf, -math.inf
        for s in self._series.values():
            if s.values:
                _, v = s.arrays()
                lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
        if not math.isfinite(lo):
            return None
        a, b = math.floor(lo), math.ceil(hi)
        if b <= a:
            b = a + 1
        return a, b

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        self.paints += 1
        p = QPainter(self)
        p.fillRect(self.rect(), _BG)
        font = QFont(self.font())
        if font.pointSizeF() > 0:
            font.setPointSizeF(max(7.0, font.pointSizeF() * 0.85))
        p.setFont(font)
        fm = p.fontMetrics()
        yr = self._y_range()
        if yr is None:
            p.setPen(QColor(150, 150, 150))
            p.drawText(
                self.rect(),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                "The loss curves appear here while a run is going",
            )
            p.end()
            return
        lo, hi = yr
        label_w = max(fm.horizontalAdvance(decade_label(e)) for e in (lo, hi)) + 8
        top = fm.height() / 2 + 4  # room for the top decade's label
        plot = QRectF(
            label_w + 4, top, self.width() - label_w - 14, self.height() - fm.height() - 10 - top
        )
        if plot.width() < 20 or plot.height() < 20:
            p.end()
            return
        x_max = max(self._max_step, 1.0)
        x_min = min((s.steps[0] for s in self._series.values() if s.steps), default=0.0)
        x_min = min(x_min, 0.0)

        def to_x(step: np.ndarray | float) -> np.ndarray | float:
            return plot.left() + (step - x_min) / (x_max - x_min) * plot.width()

        def to_y(logv: np.ndarray | float) -> np.ndarray | float:
            return plot.bottom() - (logv - lo) / (hi - lo) * plot.height()

        self._paint_grid(p, plot, lo, hi, x_min, x_max, to_x, to_y)
        p.setClipRect(plot.adjusted(-1, -2, 1, 2))
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        lines: list[tuple[np.ndarray, np.ndarray]] = []  # screen coordinates, for the legend
        for s in self._series.values():
            if not s.steps:
                continue
            xs, ys = s.arrays()
            lines.append((np.asarray(to_x(xs), float), np.asarray(to_y(ys), float)))
            poly = self._decimate(*lines[-1])
            # Wide pens stroke a jagged decimated line ~40x slower than 1 px; use 1 px then.
            dense = len(poly) < len(xs)
            pen = QPen(s.color, 1.0 if dense else (2.0 if s.name == "total" else 1.5))
            pen.setCosmetic(True)
            p.setPen(pen)
            if len(poly) == 1:
                p.setBrush(s.color)
                p.drawEllipse(poly[0], 2.0, 2.0)
            else:
                p.drawPolyline(QPolygonF(poly))
        p.setClipping(False)
        self._paint_markers(p, plot, to_x, fm)
        self._paint_legend(p, plot, fm, lines)
        p.end()

    @staticmethod
    def _decimate(px: np.ndarray, py: np.ndarray) -> list[QPointF]:
        """At most 2 points per pixel column (its min and max, in drawing order).

        Points fewer than ~1.5 per column are returned as they are.
        """
        span = float(px[-1] - px[0]) if len(px) else 0.0
        if len(px) <= max(64, 1.5 * abs(span)):
            return [QPointF(x, y) for x, y in zip(px.tolist(), py.tolist(), strict=True)]
        cols = np.floor(px).astype(np.int64)
        starts = np.flatnonzero(np.r_[True, cols[1:] != cols[:-1]])
        ends = np.r_[starts[1:], len(cols)] - 1
        mins = np.minimum.reduceat(py, starts)
        maxs = np.maximum.reduceat(py, starts)
        rising = py[ends] >= py[starts]  # draw min then max when the column goes up
        first = np.where(rising, mins, maxs)
        second = np.where(rising, maxs, mins)
        xs = np.repeat(cols[starts].astype(float), 2)
        ys = np.empty(2 * len(starts))
        ys[0::2], ys[1::2] = first, second
        return [QPointF(x, y) for x, y in zip(xs.tolist(), ys.tolist(), strict=True)]

    def _paint_grid(self, p, plot, lo, hi, x_min, x_max, to_x, to_y) -> None:
        fm = p.fontMetrics()
        decades = hi - lo
        if decades <= 3:  # minor lines at 2..9 when there is room for them
            p.setPen(QPen(_GRID_MINOR, 1))
            for e in range(lo, hi):
                for m in range(2, 10):
                    y = to_y(e + math.log10(m))
                    p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
        label_every = max(1, math.ceil(decades / max(1, plot.height() / (fm.height() + 4))))
        for e in range(lo, hi + 1):
            y = to_y(e)
            p.setPen(QPen(_GRID, 1))
            p.drawLine(QPointF(plot.left(), y), QPointF(plot.right(), y))
            if (e - lo) % label_every == 0:
                p.setPen(_AXIS)
                r = QRectF(0, y - fm.height() / 2, plot.left() - 6, fm.height())
                p.drawText(
                    r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, decade_label(e)
                )
        step = _nice_step(x_max - x_min, max(2, int(plot.width() // 70)))
        p.setPen(_AXIS)
        t = math.ceil(x_min / step) * step
        while t <= x_max + 1e-9:
            x = to_x(t)
            p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            text = f"{t:g}" if step < 1 else str(int(round(t)))
            w = fm.horizontalAdvance(text)
            p.drawText(
                QPointF(min(max(x - w / 2, 0), self.width() - w), plot.bottom() + 4 + fm.ascent()),
                text,
            )
            t += step
        p.setPen(QPen(_AXIS, 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawLine(plot.bottomLeft(), plot.topLeft())

    def _paint_markers(self, p, plot, to_x, fm) -> None:
        for step, label in self._markers:
            x = to_x(step)
            if not plot.left() <= x <= plot.right():
                continue
            pen = QPen(QColor(120, 120, 120), 1, Qt.PenStyle.DashLine)
            p.setPen(pen)
            p.drawLine(QPointF(x, plot.top()), QPointF(x, plot.bottom()))
            if label:
                p.setPen(QColor(90, 90, 90))
                p.drawText(QPointF(x + 3, plot.top() + fm.ascent()), label)

    @staticmethod
    def _legend_box(plot: QRectF, w: float, h: float, lines) -> QRectF:
        """The corner of the plot where the legend hides the fewest curve pixels (top right
        first on a tie): after a start from the photo the curves crowd the top right."""
        left, right = plot.left() + 4, plot.right() - w - 4
        top, bottom = plot.top() + 4, plot.bottom() - h - 4
        corners = [(right, top), (right, bottom), (left, top), (left, bottom)]

        def hidden(x0: float, y0: float) -> int:
            cols = np.arange(x0, x0 + w, 2.0)
            count = 0
            for xs, ys in lines:
                inside = cols[(cols >= xs[0]) & (cols <= xs[-1])]
                if len(xs) == 1:
                    count += int(x0 <= xs[0] <= x0 + w and y0 <= ys[0] <= y0 + h)
                elif len(inside):
                    y = np.interp(inside, xs, ys)
                    count += int(np.count_nonzero((y >= y0) & (y <= y0 + h)))
            return count

        x0, y0 = min(corners, key=lambda c: hidden(*c))  # min keeps the first of equals
        return QRectF(x0, y0, w, h)

    def _paint_legend(self, p, plot, fm, lines) -> None:
        rows = [s for s in self._series.values() if s.values]
        if not rows:
            return
        texts = [f"{s.name}  {10 ** s.values[-1]:.3g}" for s in rows]
        w = max(fm.horizontalAdvance(t) for t in texts) + 30
        h = len(rows) * (fm.height() + 1) + 6
        box = self._legend_box(plot, w, h, lines)
        self.legend_rect = box
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillRect(box, QColor(255, 255, 255, 215))
        p.setPen(QPen(QColor(210, 210, 210), 1))
        p.drawRect(box)
        y = box.top() + 3
        for s, text in zip(rows, texts, strict=True):
            mid = y + fm.height() / 2
            p.setPen(QPen(s.color, 2.5))
            p.drawLine(QPointF(box.left() + 6, mid), QPointF(box.left() + 20, mid))
            p.setPen(QColor(50, 50, 50))
            p.drawText(QPointF(box.left() + 25, y + fm.ascent()), text)
            y += fm.height() + 1
