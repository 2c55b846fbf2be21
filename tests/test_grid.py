"""Labelled sweep grids."""

from __future__ import annotations

import numpy as np

from nst_desktop.core.grid import make_grid


def _cell(h, w, value):
    return np.full((h, w, 3), value, np.uint8)


def test_grid_layout_and_empty_cells():
    rows = [
        ("Content", [("relu1_1", _cell(24, 32, 10)), ("relu2_1", _cell(24, 32, 20)), ("x", None)]),
        ("Style", [("relu1_1", _cell(32, 32, 200))]),
    ]
    img = make_grid(rows, title="Sweep", cell=64, pad=8)
    arr = np.asarray(img)
    assert img.mode == "RGB"
    assert img.width >= 8 + 3 * (64 + 8)
    # A 24x32 cell scaled to 64 px wide fills its row of pixels with its own colour.
    ys, xs = np.nonzero((arr == 10).all(-1))
    assert xs.max() - xs.min() + 1 == 64 and ys.max() - ys.min() + 1 == 48
    assert (arr == 200).all(-1).sum() == 64 * 64
    assert (arr == 20).all(-1).sum() == 64 * 48
    assert ((arr == (225, 225, 222)).all(-1)).sum() >= 64 * 64 - 64 * 20  # the empty box


def test_grid_default_cell_size_and_labels_drawn():
    rows = [("Row", [("a", _cell(40, 40, 90)), ("b", _cell(40, 40, 90))])]
    img = make_grid(rows)
    arr = np.asarray(img)
    assert 0 <= (arr == 90).all(-1).sum() - 2 * 128 * 128 < 20  # 128 px cells (+ label ink)
    blank = make_grid([("Row", [("", _cell(40, 40, 90)), ("", _cell(40, 40, 90))])])
    assert not np.array_equal(np.asarray(blank), arr)  # the labels are drawn


def _label_gap(img, colour) -> tuple[int, int]:
    """Rows of background between the picture of ``colour`` and the first ink below it, and
    the picture's left edge."""
    arr = np.asarray(img).astype(int)
    ys, xs = np.nonzero((arr == colour).all(-1))
    below = arr[ys.max() + 1 :, xs.min() : xs.max() + 1]
    ink_rows = np.nonzero((below.sum(-1) < 3 * 150).any(-1))[0]
    return int(ink_rows[0]), int(xs.min())


def test_label_sits_right_under_a_wide_picture():
    wide = np.zeros((64, 96, 3), np.uint8) + np.uint8([40, 160, 90])  # 3:2, as most photos are
    rows = [("Variations over seed", [("seed 0", wide), ("seed 1", wide.copy())])]
    img = make_grid(rows)
    gap, _ = _label_gap(img, (40, 160, 90))
    assert gap <= 6, f"{gap} px of background between the picture and its label"
    assert img.height < 8 + 30 + 128  # the cell is as tall as the picture, not square
    tall = make_grid([("Row", [("a long label", wide.transpose(1, 0, 2)), ("b", None)])])
    assert _label_gap(tall, (40, 160, 90))[0] <= 6


def test_each_row_of_a_sweep_fits_its_own_pictures():
    """The layer sweep: content cells have the photo's shape, style cells the artwork's."""
    from nst_desktop.core.grid import sweep_grids

    wide = np.zeros((64, 96, 3), np.uint8) + np.uint8([40, 160, 90])
    square = np.zeros((64, 64, 3), np.uint8) + np.uint8([200, 60, 20])
    rows = [("Content", ["relu1_1", "relu2_1"]), ("Style", ["relu1_1", "+relu2_1"])]
    grids = sweep_grids(rows, [wide, wide.copy(), square, None])
    assert _label_gap(grids[""], (40, 160, 90))[0] <= 6
    assert _label_gap(grids[""], (200, 60, 20))[0] <= 6
    assert grids[""].width == grids["content"].width == grids["style"].width
    # The empty style cell has the style row's shape.
    arr = np.asarray(grids["style"])
    assert (arr == (225, 225, 222)).all(-1).sum() == 128 * 128
