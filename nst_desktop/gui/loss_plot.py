"""A live loss plot: total and per-term losses against the iteration, on a log scale.

By default each term is shown relative to its own first value (100 % at the start), so the
question an artist asks, "is the picture still getting better?", reads off one scale however far
apart the terms' sizes are. A term that starts at (almost) nothing, under 1 % of the total's
first value (the content term of a start from the photo), has no start worth measuring
against: it is shown as a percentage of the total's first value instead, and its legend row
says so ("content  12 % of total's start"). The relative axis runs from 0.01 % to at most
1000 %: a value that leaves it (L-BFGS can jump for an iteration) is drawn along its edge.
``set_relative(False)`` shows the raw losses.

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
from PySide6.QtCore import QPointF, QRectF, QSize, Qt, QTimer, Signal
from PySide6.QtGui import QColor, QContextMenuEvent, QPainter, QPaintEvent, QPen, QPolygonF
from PySide6.QtWidgets import QMenu, QSizePolicy, QWidget

from nst_desktop.gui.plot_geometry import (
    decade_label,
    decimate,
    iteration_ticks,
    legend_box,
    percent_label,
)

__all__ = ["LossPlot", "decade_label"]

REPAINT_MS = 66  # ~15 repaints per second at most
RELATIVE_RANGE = (-4, 1)  # the relative axis, in decades of the first value: 0.01 % .. 1000 %
BORROW_BELOW = -2  # a term starting under 1 % of the total's start is measured against that
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
_AXIS = QColor(70, 70, 70)


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

    def arrays(self, relative: bool, ref: float | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Steps and log10 values; relative: minus ``ref`` (log10; default the first value),
        kept on the relative axis."""
        if self._arrays is None:
            self._arrays = (np.asarray(self.steps, float), np.asarray(self.values, float))
        xs, ys = self._arrays
        if not relative:
            return xs, ys
        return xs, np.clip(ys - (ys[0] if ref is None else ref), *RELATIVE_RANGE)

    def last(self, relative: bool, ref: float | None = None) -> float:
        if not relative:
            return self.values[-1]
        return self.values[-1] - (self.values[0] if ref is None else ref)


class LossPlot(QWidget):
    """See the module docstring."""

    relativeChanged = Signal(bool)
    _decimate = staticmethod(decimate)

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.setMinimumSize(220, 120)
        self.setToolTip(
            "How far the picture still is from the goal, per ingredient: content (the shapes "
            "of your photo), style (the textures of the artwork) and smoothness (tv). "
            "Lines flatten out when more iterations would change little. Right-click to "
            "switch between each loss as a percentage of its first value and the raw losses. "
            "A loss that starts at almost nothing is shown as a percentage of the total's "
            "first value, as its legend says."
        )
        self.relative = True
        self._series: dict[str, _Series] = {}
        self._markers: list[tuple[float, str]] = []
        self._max_step = 0.0
        self._timer = QTimer(self)
        self._timer.setSingleShot(True)
        self._timer.setInterval(REPAINT_MS)
        self._timer.timeout.connect(self.update)
        self.paints = 0  # paint count (lets tests and benchmarks see the throttling)
        self.legend_rect: QRectF | None = None  # where the last paint put the legend
        self.legend_texts: list[str] = []  # and what it said
        self.x_ticks: list[int] = []  # the iterations the last paint labelled

    def set_relative(self, relative: bool) -> None:
        """Each term relative to its first value (True) or the raw losses (False)."""
        if relative != self.relative:
            self.relative = relative
            self.relativeChanged.emit(relative)
            self.update()

    def contextMenuEvent(self, event: QContextMenuEvent) -> None:  # noqa: N802 (Qt API)
        menu = QMenu(self)
        rel = menu.addAction("Each loss relative to its start", lambda: self.set_relative(True))
        raw = menu.addAction("Raw losses", lambda: self.set_relative(False))
        for act, on in ((rel, self.relative), (raw, not self.relative)):
            act.setCheckable(True)
            act.setChecked(on)
        menu.exec(event.globalPos())

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

    def reference(self, name: str) -> tuple[float | None, bool]:
        """What the relative view measures ``name`` against: (log10 value, borrowed) where
        borrowed means the total's first value (the term's own start is under 1 % of it)."""
        s, total = self._series.get(name), self._series.get("total")
        if s is None or not s.values or total is None or not total.values or s is total:
            return (s.values[0] if s and s.values else None), False
        if s.values[0] < total.values[0] + BORROW_BELOW:
            return total.values[0], True
        return s.values[0], False

    def _y_range(self) -> tuple[int, int] | None:
        lo, hi = math.inf, -math.inf
        for s in self._series.values():
            if s.values:
                _, v = s.arrays(self.relative, self.reference(s.name)[0])
                lo, hi = min(lo, float(v.min())), max(hi, float(v.max()))
        if not math.isfinite(lo):
            return None
        a, b = math.floor(lo), math.ceil(hi)  # relative: within RELATIVE_RANGE
        if b <= a:
            b = a + 1
        return a, b

    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802 (Qt API)
        self.paints += 1
        p = QPainter(self)
        p.fillRect(self.rect(), _BG)
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
        label_w = max(fm.horizontalAdvance(self._y_label(e)) for e in (lo, hi)) + 8
        title_w = fm.height() + 2  # the rotated y axis title
        top = fm.height() / 2 + 4  # room for the top decade's label
        left = title_w + label_w + 4
        bottom = 2 * fm.height() + 12  # tick labels and the x axis title
        plot = QRectF(left, top, self.width() - left - 12, self.height() - bottom - top)
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
            xs, ys = s.arrays(self.relative, self.reference(s.name)[0])
            lines.append((np.asarray(to_x(xs), float), np.asarray(to_y(ys), float)))
            poly = decimate(*lines[-1])
            # Wide pens stroke a jagged decimated line ~40x slower than 1 px; use 1 px then.
            dense = len(poly) < len(xs)
            pen = QPen(s.color, 1.0 if dense else (2.0 if s.name == "total" else 1.5))
            pen.setCosmetic(True)
            p.setPen(pen)
            if len(poly) == 1:
                p.setBrush(s.color)
                p.drawEllipse(poly[0], 2.0, 2.0)
                p.setBrush(Qt.BrushStyle.NoBrush)  # or the legend's frame is filled with it
            else:
                p.drawPolyline(QPolygonF(poly))
        p.setClipping(False)
        self._paint_markers(p, plot, to_x, fm)
        self._paint_legend(p, plot, fm, lines)
        p.end()

    def _y_label(self, exponent: int) -> str:
        return percent_label(exponent) if self.relative else decade_label(exponent)

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
                    r, Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter, self._y_label(e)
                )
        self.x_ticks = iteration_ticks(x_min, x_max, max(2, int(plot.width() // 70)))
        p.setPen(_AXIS)
        for t in self.x_ticks:
            x = to_x(t)
            p.drawLine(QPointF(x, plot.bottom()), QPointF(x, plot.bottom() + 3))
            text = str(t)
            w = fm.horizontalAdvance(text)
            p.drawText(
                QPointF(min(max(x - w / 2, 0), self.width() - w), plot.bottom() + 4 + fm.ascent()),
                text,
            )
        p.setPen(QPen(_AXIS, 1))
        p.drawLine(plot.bottomLeft(), plot.bottomRight())
        p.drawLine(plot.bottomLeft(), plot.topLeft())
        self._paint_titles(p, plot, fm)

    def _paint_titles(self, p, plot, fm) -> None:
        p.setPen(_AXIS)
        below = QRectF(plot.left(), plot.bottom() + fm.height() + 6, plot.width(), fm.height())
        p.drawText(below, Qt.AlignmentFlag.AlignCenter, "iteration")
        title = "% of start" if self.relative else "loss"
        p.save()
        p.translate(2, plot.center().y())
        p.rotate(-90)
        w = min(plot.height() + 40, fm.horizontalAdvance(title) + 4)
        p.drawText(QRectF(-w / 2, 0, w, fm.height()), Qt.AlignmentFlag.AlignCenter, title)
        p.restore()

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

    def _paint_legend(self, p, plot, fm, lines) -> None:
        rows = [s for s in self._series.values() if s.values]
        if not rows:
            return
        if self.relative:
            texts = []
            for s in rows:
                ref, borrowed = self.reference(s.name)
                of = " of total's start" if borrowed else ""
                texts.append(f"{s.name}  {_percent(s.last(True, ref))}{of}")
        else:
            texts = [f"{s.name}  {10 ** s.last(False):.3g}" for s in rows]
        w = max(fm.horizontalAdvance(t) for t in texts) + 30
        h = len(rows) * (fm.height() + 1) + 6
        box = legend_box(plot, w, h, lines)
        self.legend_rect = box
        self.legend_texts = texts
        p.setRenderHint(QPainter.RenderHint.Antialiasing, False)
        p.fillRect(box, QColor(255, 255, 255, 215))
        p.setPen(QPen(QColor(210, 210, 210), 1))
        p.setBrush(Qt.BrushStyle.NoBrush)
        p.drawRect(box)
        y = box.top() + 3
        for s, text in zip(rows, texts, strict=True):
            mid = y + fm.height() / 2
            p.setPen(QPen(s.color, 2.5))
            p.drawLine(QPointF(box.left() + 6, mid), QPointF(box.left() + 20, mid))
            p.setPen(QColor(50, 50, 50))
            p.drawText(QPointF(box.left() + 25, y + fm.ascent()), text)
            y += fm.height() + 1


def _percent(log_ratio: float) -> str:
    """A term's latest value as a percentage of its first ("2.5 %"; "> 1000 %" off the axis)."""
    if log_ratio > RELATIVE_RANGE[1]:
        return f"> {10 ** (RELATIVE_RANGE[1] + 2)} %"
    return f"{100 * 10**log_ratio:.3g} %"
