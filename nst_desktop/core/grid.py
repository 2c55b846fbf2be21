"""Labelled image grids for the layer sweep (the paper's two studies)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

_BG = (250, 250, 248)
_INK = (30, 30, 30)
_EMPTY = (225, 225, 222)


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has one fixed-size bitmap font
        return ImageFont.load_default()


def _tile(img: np.ndarray, cell: int) -> Image.Image:
    """The picture scaled to ``cell`` px on its longest side (small ones scaled up, pixel-sharp)."""
    tile = Image.fromarray(img)
    tile.thumbnail((cell, cell), Image.Resampling.LANCZOS)
    if max(tile.size) < cell:  # small cells are scaled up to fill the grid
        s = cell / max(tile.size)
        new = (max(1, round(tile.width * s)), max(1, round(tile.height * s)))
        tile = tile.resize(new, Image.Resampling.NEAREST)
    return tile


Rows = Sequence[tuple[str, Sequence[tuple[str, np.ndarray | None]]]]


def make_grid(
    rows: Rows, *, title: str = "", cell: int = 0, pad: int = 8, columns_like: Rows = ()
) -> Image.Image:
    """One picture of rows of labelled cells; a missing cell (None) is drawn as an empty box.

    ``rows`` is [(row title, [(cell label, HxWx3 uint8 or None), ...]), ...]. Pictures are
    scaled to ``cell`` px on their longest side (0: the largest picture's size). A row's cells
    have its pictures' shape (the union of their scaled sizes), so each label sits right under
    its picture, wide or tall; columns are as wide as the widest row's cells (and labels) so
    they line up. ``columns_like``: other rows whose widths the columns also fit (a grid of one
    row the same width as the grid of all).
    """
    images = [img for _, cells in [*rows, *columns_like] for _, img in cells if img is not None]
    if cell <= 0:  # at least 128 px so the labels fit under each cell
        cell = max(128, max((max(img.shape[:2]) for img in images), default=128))
    tiles = {id(img): _tile(img, cell) for img in images}
    every = _box(list(tiles.values()), (cell, cell))  # a row with no picture yet
    boxes = [_box([tiles[id(i)] for _, i in cells if i is not None], every) for _, cells in rows]
    font_size = max(11, cell // 14)
    font, title_font = _font(font_size), _font(round(font_size * 1.3))
    label_h = font_size + 6
    row_title_h = round(font_size * 1.3) + 8
    columns = max((len(cells) for _, cells in [*rows, *columns_like]), default=1)
    title_h = row_title_h + pad if title else 0
    measure = ImageDraw.Draw(Image.new("RGB", (1, 1)))
    title_w = max([measure.textlength(t, font=title_font) for t in [title] + [r for r, _ in rows]])
    labels = [t for _, cells in [*rows, *columns_like] for t, _ in cells]
    label_w = max([measure.textlength(t, font=font) for t in labels] + [0])
    widths = [b[0] for b in boxes]
    widths += [
        _box([tiles[id(i)] for _, i in c if i is not None], every)[0] for _, c in columns_like
    ]
    pitch = max([*widths, int(label_w) + 2])  # a tall picture's column still fits its label
    width = max(pad + columns * (pitch + pad), int(title_w) + 2 * pad)
    height = title_h + pad + sum(row_title_h + h + label_h + pad for _, h in boxes)
    canvas = Image.new("RGB", (width, height), _BG)
    draw = ImageDraw.Draw(canvas)
    y = pad
    if title:
        draw.text((pad, y), title, fill=_INK, font=title_font)
        y += title_h
    for (row_title, cells), (box_w, box_h) in zip(rows, boxes, strict=True):
        draw.text((pad, y), row_title, fill=_INK, font=title_font)
        y += row_title_h
        for i, (label, img) in enumerate(cells):
            x = pad + i * (pitch + pad)
            if img is None:
                draw.rectangle([x, y, x + box_w - 1, y + box_h - 1], fill=_EMPTY)
            else:
                tile = tiles[id(img)]
                canvas.paste(tile, (x + (box_w - tile.width) // 2, y + (box_h - tile.height) // 2))
            draw.text((x, y + box_h + 3), label, fill=_INK, font=font)
        y += box_h + label_h + pad
    return canvas


def _box(tiles: list[Image.Image], empty: tuple[int, int]) -> tuple[int, int]:
    """The size that holds every tile (``empty`` when there is none)."""
    if not tiles:
        return empty
    return max(t.width for t in tiles), max(t.height for t in tiles)


SWEEP_TITLE = "VGG19 layer sweep"
UNTRAINED_NOTE = "  (untrained random weights)"


def sweep_grids(
    rows: Sequence[tuple[str, Sequence[str]]],
    cells: Sequence[np.ndarray | None],
    *,
    untrained: bool = False,
) -> dict[str, Image.Image]:
    """The layer sweep as pictures: "" both rows, "content" and "style" one row each.

    ``rows`` are (title, cell captions) as ``core.stages.sweep_rows`` gives them; ``cells`` the
    cells' pictures in the same order (None: not computed). The CLI writes all three, the window
    exports the first: one drawing, one set of captions.
    """
    note = UNTRAINED_NOTE if untrained else ""
    filled, i = [], 0
    for title, labels in rows:
        row = []
        for label in labels:
            row.append((label, cells[i] if i < len(cells) else None))
            i += 1
        filled.append((title, row))
    out = {"": make_grid(filled, title=SWEEP_TITLE + note)}
    for key, row in zip(("content", "style"), filled, strict=False):
        out[key] = make_grid([row], title=f"{row[0]}{note}", columns_like=filled)
    return out
