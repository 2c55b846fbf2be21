"""SweepView: cells fill in live, the active cell is marked, the exported grid matches core."""

from __future__ import annotations

import numpy as np
import pytest

from nst_desktop.core.grid import make_grid
from nst_desktop.gui.qimage import from_qimage
from nst_desktop.gui.sweep_view import SweepView

ROWS = [
    ("Content reconstruction", ["relu1_1", "relu2_1", "relu3_1"]),
    ("Style reconstruction", ["relu1_1", "+relu2_1"]),
]


def solid(color, w=24, h=16) -> np.ndarray:
    return np.tile(np.array(color, np.uint8), (h, w, 1))


@pytest.fixture
def sweep(qtbot):
    v = SweepView()
    qtbot.addWidget(v)
    v.resize(480, 330)
    v.show()
    qtbot.waitExposed(v)
    v.reset(ROWS)
    return v


def test_cells_fill_in_row_major(sweep):
    assert sweep.cell_count() == 5
    sweep.set_cell(0, solid((200, 0, 0)))
    sweep.set_cell(4, solid((0, 180, 0)))
    px = from_qimage(sweep.grab().toImage())
    rects = sweep.cell_rects()
    c0, c1, c4 = rects[0].center(), rects[1].center(), rects[4].center()
    assert tuple(px[int(c0.y()), int(c0.x())]) == (200, 0, 0)
    assert tuple(px[int(c4.y()), int(c4.x())]) == (0, 180, 0)
    assert tuple(px[int(c1.y()), int(c1.x())]) == (225, 225, 222)  # not done yet: grey
    assert rects[4].top() > rects[2].bottom()  # second row below the first
    assert sweep.done_count() == 2


def test_cells_scale_with_widget(sweep, qtbot):
    small = sweep.cell_rects()[0].width()
    sweep.resize(900, 620)
    qtbot.wait(10)
    assert sweep.cell_rects()[0].width() > small * 1.5


def test_active_cell_is_highlighted(sweep):
    sweep.set_active(1)
    px = from_qimage(sweep.grab().toImage())
    r = sweep.cell_rects()[1]
    edge = px[int(r.center().y()), int(r.left()) - 2]
    assert tuple(edge) == (230, 120, 20)
    sweep.set_active(99)
    assert sweep.active() == -1


def test_to_image_matches_core_grid(sweep):
    a, b = solid((200, 0, 0)), solid((0, 180, 0))
    sweep.set_cell(0, a)
    sweep.set_cell(3, b)
    got = sweep.to_image()
    want = make_grid(
        [
            ("Content reconstruction", [("relu1_1", a), ("relu2_1", None), ("relu3_1", None)]),
            ("Style reconstruction", [("relu1_1", b), ("+relu2_1", None)]),
        ]
    )
    assert got.size == want.size
    assert np.array_equal(np.asarray(got), np.asarray(want))


def test_set_cell_copies_and_checks_index(sweep):
    a = solid((10, 20, 30))
    sweep.set_cell(2, a)
    a[:] = 0
    assert sweep.cell(2)[0, 0].tolist() == [10, 20, 30]
    with pytest.raises(IndexError):
        sweep.set_cell(5, a)
    sweep.reset([("Only", ["x"])])
    assert sweep.cell_count() == 1 and sweep.done_count() == 0
