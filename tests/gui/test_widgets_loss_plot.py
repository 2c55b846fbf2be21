"""LossPlot: bad values are skipped, lines are drawn, repaints are throttled, decimation."""

from __future__ import annotations

import math

import numpy as np
import pytest
from PySide6.QtCore import QPointF

from nst_desktop.gui.loss_plot import LossPlot, decade_label
from nst_desktop.gui.plot_geometry import iteration_ticks, percent_label
from nst_desktop.gui.qimage import from_qimage

STYLE_RED = (214, 39, 40)
CONTENT_BLUE = (31, 119, 180)


@pytest.fixture
def plot(qtbot):
    p = LossPlot()
    qtbot.addWidget(p)
    p.resize(320, 180)
    p.show()
    qtbot.waitExposed(p)
    return p


def count_color(px: np.ndarray, color, tol=12) -> int:
    return int(np.sum(np.all(np.abs(px.astype(int) - color) <= tol, axis=2)))


def test_bad_values_are_skipped_not_fatal(plot):
    bad = [math.nan, 0.0, -3.0, math.inf, -math.inf, None, "x"]
    for i, v in enumerate(bad):
        plot.add(i, v, {"content": v, "style": v})
    assert plot.series_names() == []
    plot.grab()  # painting with nothing valid must not crash
    plot.add(10, 5.0, {"content": math.nan, "style": 2.0})
    assert plot.point_count("total") == 1
    assert plot.point_count("content") == 0
    assert plot.point_count("style") == 1
    plot.grab()


def test_draws_one_line_per_series(plot):
    for i in range(1, 60):
        plot.add(i, 1e4 / i, {"content": 10.0 + i, "style": 1e4 / i**1.5, "tv": 0.5})
    px = from_qimage(plot.grab().toImage())
    assert count_color(px, STYLE_RED) > 40
    assert count_color(px, CONTENT_BLUE) > 40
    assert set(plot.series_names()) == {"total", "content", "style", "tv"}


def test_reset_clears(plot):
    plot.add(1, 3.0, {"style": 1.0})
    plot.set_marker(1, "256 px")
    plot.reset()
    assert plot.series_names() == []
    px = from_qimage(plot.grab().toImage())
    assert count_color(px, STYLE_RED) == 0


def test_repaints_are_throttled(plot, qtbot):
    qtbot.wait(100)
    p0 = plot.paints
    for i in range(1, 500):
        plot.add(i, 1.0 / i, {"style": 2.0 / i})
    assert plot.paints == p0  # add() never paints directly
    qtbot.waitUntil(lambda: plot.paints > p0, timeout=2000)
    assert plot.paints - p0 <= 2


def test_thousands_of_points_are_decimated(plot):
    n = 20000
    for i in range(1, n + 1):
        plot.add(i, 1e3 * (1 + 0.5 * math.sin(i / 50)) / math.sqrt(i))
    px = np.linspace(0, 300, n)
    py = np.sin(np.arange(n))
    pts = LossPlot._decimate(px, py)
    assert len(pts) <= 2 * 301
    ys = [p.y() for p in pts]
    assert min(ys) == pytest.approx(py.min()) and max(ys) == pytest.approx(py.max())
    assert all(isinstance(p, QPointF) for p in pts[:3])
    plot.set_marker(n // 2, "512 px")
    plot.grab()


def test_decade_labels():
    assert decade_label(0) == "1"
    assert decade_label(2) == "100"
    assert decade_label(3) == "10³"
    assert decade_label(-2) == "10⁻²"
    assert decade_label(12) == "10¹²"


def _corner(plot_widget) -> str:
    r = plot_widget.legend_rect
    mid_x, mid_y = plot_widget.width() / 2, plot_widget.height() / 2
    return ("top" if r.center().y() < mid_y else "bottom") + (
        "-right" if r.center().x() > mid_x else "-left"
    )


def test_legend_sits_where_it_hides_no_curve(plot):
    """Falling curves leave the top right free; after a start from the photo (content loss
    rising from ~0 to the level of the style loss) the top right is where the curves end.
    Raw losses: relative to the start, the content curve here runs along the top edge."""
    plot.set_relative(False)
    for i in range(1, 60):
        plot.add(i, 10.0 / i, {"content": 5.0 / i, "style": 5.0 / i})
    plot.grab()
    assert _corner(plot) == "top-right"

    plot.reset()
    for i in range(1, 60):
        content = 1e-12 * 10 ** min(i, 9)  # the content term climbs nine decades ...
        plot.add(i, 1e-3 + content, {"content": content, "style": 1e-3})  # ... to the style's
    plot.grab()
    box = plot.legend_rect
    assert _corner(plot) != "top-right"
    assert box.width() > 0 and box.height() > 0


def _bright(px: np.ndarray, x: float, y: float) -> bool:
    return bool(np.all(px[int(y), int(x)].astype(int) >= 200))


@pytest.mark.parametrize("relative", [True, False])
def test_legend_is_not_filled_on_the_first_frame(plot, relative):
    """A single point per series is drawn as a filled dot; its brush must not fill the legend."""
    plot.set_relative(relative)
    plot.add(0, 500.0, {"content": 20.0, "style": 480.0})
    px = from_qimage(plot.grab().toImage())
    box = plot.legend_rect
    assert box is not None
    # the legend's right margin and bottom padding hold neither text nor swatches
    assert _bright(px, box.right() - 3, box.center().y())
    assert _bright(px, box.center().x(), box.bottom() - 2)


def test_iteration_ticks_are_whole_numbers(plot):
    for i in range(0, 3):
        plot.add(i, 10.0 / (i + 1), {"style": 5.0 / (i + 1)})
    plot.grab()
    assert plot.x_ticks and all(isinstance(t, int) for t in plot.x_ticks)
    assert plot.x_ticks == sorted(set(plot.x_ticks))  # no two labels for the same iteration
    for n in (1, 7, 1000, 123_456):
        assert iteration_ticks(0, n, 5) == [int(t) for t in iteration_ticks(0, n, 5)]
        assert len(iteration_ticks(0, n, 5)) >= 2


def test_relative_view_starts_every_term_at_100_percent(plot):
    """Terms a million apart share one scale: each starts at 100 % of itself; a term that
    leaves the axis runs along its edge."""
    for i in range(1, 30):
        plot.add(i, 1e6 / i, {"content": 1e4 * i, "style": 1e6 / i})
    plot.grab()
    assert plot.relative
    assert percent_label(0) == "100 %" and percent_label(-1) == "10 %"
    assert percent_label(-3) == "0.1 %"
    s = plot._series["style"]
    xs, ys = s.arrays(True)
    assert ys[0] == 0.0 and ys[-1] == pytest.approx(-math.log10(29))
    assert s.arrays(False)[1][0] == pytest.approx(6.0)
    assert plot.reference("content") == (pytest.approx(4.0), False)  # 1 % of the total: its own
    content = plot._series["content"].arrays(True, plot.reference("content")[0])[1]
    assert content[0] == 0.0 and content[8] == pytest.approx(math.log10(9))
    assert content[-1] == 1  # 2900 % is off the axis: along its top edge
    plot.add(30, 1.0, {"content": 1e14})  # ten decades up: along the top edge, 1000 %
    plot.grab()
    assert plot._series["content"].arrays(True)[1][-1] == 1
    assert plot._y_range() == (-4, 1)


def _legend_rows(plot) -> dict[str, str]:
    plot.grab()
    return dict(t.split("  ", 1) for t in plot.legend_texts)


def test_a_term_that_starts_at_zero_is_measured_against_the_total(plot):
    """A start from the photo: the content loss is 0, then almost nothing, then rises to a
    tenth of the total. Against its own start that reads "> 1000 %" all run; against the
    total's start it reads what it is, and the legend says so."""
    curve = [(1, 7.0, 0.0), (2, 7.0, 7.8e-8), (3, 47.0, 2.6), (4, 6.9, 0.7), (8, 6.9, 0.69)]
    for step, total, content in curve:
        plot.add(step, total, {"content": content, "style": total - content})
    ref, borrowed = plot.reference("content")
    assert borrowed and ref == pytest.approx(math.log10(7.0))
    ys = plot._series["content"].arrays(True, ref)[1]
    assert np.all(np.isfinite(ys))
    assert 10 ** ys[-1] == pytest.approx(0.69 / 7.0)  # 9.9 % of the total's start
    rows = _legend_rows(plot)
    assert rows["content"] == "9.86 % of total's start"
    assert rows["style"] == f"{100 * 6.21 / 7.0:.3g} %"  # a normal term keeps % of its start
    assert rows["total"] == f"{100 * 6.9 / 7.0:.3g} %"


def test_the_legend_leaves_the_newest_iterations_in_view():
    """A short plot where every corner hides something (as mid-run with the content term off
    the top): the legend gives up old pixels rather than the last iterations."""
    from PySide6.QtCore import QRectF

    from nst_desktop.gui.plot_geometry import legend_box

    plot = QRectF(0, 0, 800, 100)
    content = (np.array([100.0, 800.0]), np.array([5.0, 5.0]))  # clamped along the top
    total = (np.array([0.0, 700.0, 800.0]), np.array([50.0, 50.0, 90.0]))  # falls at the end
    box = legend_box(plot, 140, 55, [content, total])
    assert box.right() < plot.center().x()  # over the first iterations, not the last
