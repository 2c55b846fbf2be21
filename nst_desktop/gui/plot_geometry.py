"""Numbers behind the loss plot's drawing: axis labels, tick steps, decimation and where the
legend hides the least. Pure numpy and QPointF/QRectF; no painting."""

from __future__ import annotations

import math

import numpy as np
from PySide6.QtCore import QPointF, QRectF

_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def decade_label(exponent: int) -> str:
    """10 to the power ``exponent`` as a short axis label (1, 10, 100, then 10³ ...)."""
    if 0 <= exponent <= 2:
        return str(10**exponent)
    if exponent == -1:
        return "0.1"
    return "10" + str(exponent).translate(_SUPERSCRIPT)


def percent_label(exponent: int) -> str:
    """10 to the power ``exponent`` as a percentage of the start (100 %, 10 %, 1 %, 0.1 % ...)."""
    if exponent >= -2:
        return f"{10 ** (exponent + 2)} %"
    return f"{10.0 ** (exponent + 2):.{-exponent - 2}f} %"


def nice_step(span: float, target: int) -> float:
    """A 1-2-5 step that cuts ``span`` into about ``target`` pieces."""
    raw = max(span, 1e-9) / max(1, target)
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def iteration_ticks(x_min: float, x_max: float, target: int) -> list[int]:
    """Whole iterations for the x axis: a step of at least 1, so never "0 0.1 0.2"."""
    step = max(1, int(round(nice_step(x_max - x_min, target))))
    first = math.ceil(x_min / step) * step
    return list(range(int(first), int(math.floor(x_max)) + 1, step))


def decimate(px: np.ndarray, py: np.ndarray) -> list[QPointF]:
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


def legend_box(plot: QRectF, w: float, h: float, lines) -> QRectF:
    """The corner of the plot where the legend hides the least of the curves (top right
    first on a tie): after a start from the photo the curves crowd the top right. A hidden
    pixel counts more the newer it is: the last iterations say whether the picture still
    improves, the first ones are history."""
    left, right = plot.left() + 4, plot.right() - w - 4
    top, bottom = plot.top() + 4, plot.bottom() - h - 4
    corners = [(right, top), (right, bottom), (left, top), (left, bottom)]

    def newness(x: np.ndarray) -> np.ndarray:
        return 0.25 + (x - plot.left()) / max(1.0, plot.width())

    def hidden(x0: float, y0: float) -> float:
        cols = np.arange(x0, x0 + w, 2.0)
        count = 0.0
        for xs, ys in lines:
            inside = cols[(cols >= xs[0]) & (cols <= xs[-1])]
            if len(xs) == 1:
                count += int(x0 <= xs[0] <= x0 + w and y0 <= ys[0] <= y0 + h)
            elif len(inside):
                y = np.interp(inside, xs, ys)
                count += float(newness(inside[(y >= y0) & (y <= y0 + h)]).sum())
        return count

    x0, y0 = min(corners, key=lambda c: hidden(*c))  # min keeps the first of equals
    return QRectF(x0, y0, w, h)
