"""Tiles for print sizes: where they lie, how they blend, and the plan of a tiled run.

A picture that does not fit under the memory ceiling in one piece is made coarse-to-fine: the
scales that fit run whole, the larger ones are refined tile by tile (core/tiled.py). A tile is a
box of the picture; neighbouring boxes overlap by ``overlap`` px and blend there with linear ramps
whose weights add up to 1 at every pixel. Each box is optimized with ``margin`` px of context
around it, so the zero padding of the convolutions at the crop's edge stays out of the box.

No torch and no Qt at import: the window plans before the engine has loaded.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from .settings import MIN_TILE, Mode, RunSettings, SettingsError, parse_memory
from .stages import Stage, StageKind, plan

Box = tuple[int, int, int, int]  # top, left, bottom, right (bottom and right exclusive)

#: Share of the free memory a run may take when no ceiling is given.
FREE_SHARE = 0.85
#: Share of the ceiling the planner fills: its estimate is a fit, not a bound.
SAFETY = 0.8
#: Bytes per pixel of the final size held besides a tile: the picture so far and the upsampled
#: one it started from (float32), the content crop source, previews, colour handling.
CANVAS_BYTES_PER_PIXEL = 48


def overlap_for(tile: int) -> int:
    """Width of the blend between neighbouring tiles: a quarter tile (the ramps of a box's two
    sides then never meet, see :func:`spans`)."""
    return max(8, tile // 4)


def margin_for(tile: int) -> int:
    """Context around a tile while it is optimized, a multiple of 16 (pooling stays aligned)."""
    return max(16, tile // 8 // 16 * 16)


def spans(length: int, tile: int, overlap: int) -> list[tuple[int, int]]:
    """Equal spans of at most ``tile`` px covering ``[0, length)``, neighbours overlapping by
    ``overlap`` px (±1). The span is shrunk so the overlap stays as asked: a span is at least half
    a tile, so with ``overlap <= tile / 4`` the overlaps of a span's two sides never meet."""
    if length <= tile:
        return [(0, length)]
    n = math.ceil((length - overlap) / (tile - overlap))
    size = math.ceil((length + (n - 1) * overlap) / n)
    starts = [round(k * (length - size) / (n - 1)) for k in range(n)]
    return [(s, s + size) for s in starts]


def ramps(parts: Sequence[tuple[int, int]]) -> list[np.ndarray]:
    """1-D blend weights of each span over the span: 1 inside, linear ramps across the overlaps
    with its neighbours, so that the weights of all spans add up to 1 at every position."""
    out = []
    for k, (a, b) in enumerate(parts):
        w = np.ones(b - a, dtype=np.float32)
        if k > 0:  # ramp up over the overlap with the previous span
            end = parts[k - 1][1]
            n = end - a
            w[:n] = (np.arange(n, dtype=np.float32) + 0.5) / n
        if k + 1 < len(parts):  # ramp down over the overlap with the next span
            start = parts[k + 1][0]
            n = b - start
            w[start - a :] *= 1.0 - (np.arange(n, dtype=np.float32) + 0.5) / n
        out.append(w)
    return out


def tile_boxes(height: int, width: int, tile: int, overlap: int) -> list[Box]:
    """The boxes of a ``height`` x ``width`` picture, row by row."""
    rows, cols = spans(height, tile, overlap), spans(width, tile, overlap)
    return [(t, left, b, r) for t, b in rows for left, r in cols]


def feather_weights(height: int, width: int, tile: int, overlap: int) -> list[np.ndarray]:
    """Each box's blend weights over the box (``tile_boxes`` order); they add up to 1."""
    rows, cols = spans(height, tile, overlap), spans(width, tile, overlap)
    wy, wx = ramps(rows), ramps(cols)
    return [np.outer(y, x) for y in wy for x in wx]


def padded(box: Box, margin: int, height: int, width: int) -> Box:
    """``box`` grown by ``margin`` on every side, within the picture."""
    t, left, b, r = box
    return (
        max(0, t - margin),
        max(0, left - margin),
        min(height, b + margin),
        min(width, r + margin),
    )


@dataclass
class TiledScale:
    """One scale refined in tiles."""

    size: int  # longest side, px
    shape: tuple[int, int]  # height, width
    boxes: list[Box]
    first_stage: int  # index of its first tile in TilePlan.stages
    steps: int  # evaluations per tile and sweep


@dataclass
class TilePlan:
    """How a run that does not fit in one piece is made; ``stages`` is what the front ends show."""

    whole: list[Stage]
    tiled: list[TiledScale]
    stages: list[Stage]
    tile: int
    overlap: int
    margin: int
    sweeps: int
    ceiling: int
    peak_bytes: int
    seconds: float = math.nan
    notes: list[str] = field(default_factory=list)

    @property
    def total_steps(self) -> int:
        return sum(s.steps for s in self.stages)

    def summary(self) -> str:
        """One line: scales, tiles, time and peak memory."""
        whole = ", ".join(f"{s.size} px" for s in self.whole)
        parts = [f"whole at {whole}"]
        for scale in self.tiled:
            h, w = scale.shape
            n = len(scale.boxes)
            parts.append(
                f"{w}x{h} px in {n} tile{'s' * (n != 1)} of up to {self.tile} px "
                f"(overlap {self.overlap} px) x {self.sweeps} sweep{'s' * (self.sweeps != 1)}"
            )
        text = "plan: " + "; then ".join(parts)
        text += f"; peak memory about {_gb(self.peak_bytes)} of {_gb(self.ceiling)}"
        if math.isfinite(self.seconds):
            text += f", about {_minutes(self.seconds)}"
        return text


def _gb(n: float) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


def _minutes(seconds: float) -> str:
    return f"{seconds / 60:.0f} min" if seconds >= 90 else f"{seconds:.0f} s"


def shape_at(source: tuple[int, int], size: int) -> tuple[int, int]:
    """(height, width) of the picture at ``size`` px (the engine's own rounding: fit_size)."""
    from .images import fit_size

    w, h = fit_size(source[0], source[1], size)
    return h, w


def ceiling_bytes(settings: RunSettings, device: str) -> int | None:
    """The memory ceiling: ``max_memory``, else the free memory less a margin; None if unknown."""
    given = parse_memory(settings.max_memory)
    if given is not None:
        return given
    from .planner import available_bytes

    free = available_bytes(device)
    return int(free * FREE_SHARE) if free is not None else None


def plan_tiles(
    settings: RunSettings,
    source: tuple[int, int],
    ceiling: int | None,
    calibration: object | None = None,
) -> TilePlan | None:
    """The tiled plan for a picture shaped like ``source`` (width, height: the content image, or
    the style image of a texture), or None when the run fits whole (and no ``tile`` is forced):
    then it runs exactly as without tiles.

    Raises :class:`SettingsError` when not even the smallest tile fits under the ceiling.
    """
    from .planner import peak_bytes

    if settings.mode == Mode.SWEEP or (ceiling is None and settings.tile == 0):
        return None
    h, w = shape_at(source, settings.size)
    aspect = min(h, w) / max(h, w)
    # L-BFGS keeps at most one pair per iteration: a stage of 20 keeps 20, not its history of 100.
    steps = max(settings.steps, settings.coarse_steps if settings.scales > 1 else 0)
    settings = dataclasses.replace(
        settings, lbfgs_history=min(settings.lbfgs_history, max(1, steps))
    )
    budget = math.inf if ceiling is None else ceiling * SAFETY
    stages = plan(settings)
    if settings.tile == 0 and peak_bytes(settings, stages[-1].size, aspect) <= budget:
        return None
    fits = [s for s in stages[:-1] if peak_bytes(settings, s.size, aspect) <= budget]
    whole = fits if fits else [_first_stage(settings, stages[-1], aspect, budget)]
    canvas = CANVAS_BYTES_PER_PIXEL * h * w
    tile = settings.tile or _largest_tile(settings, budget - canvas)
    if tile < MIN_TILE:
        need = peak_bytes(settings, MIN_TILE + 2 * margin_for(MIN_TILE)) + canvas
        raise SettingsError(
            f"A {max(h, w)} px picture needs at least {_gb(need / SAFETY)} even in tiles; raise "
            "the memory ceiling (--max-memory), lower the size or use Adam."
        )
    overlap, margin = overlap_for(tile), margin_for(tile)
    out = TilePlan(whole, [], list(whole), tile, overlap, margin, settings.tile_sweeps, 0, 0)
    for stage in stages[len(fits) :] if fits else stages[-1:]:
        _add_scale(out, stage, shape_at(source, stage.size))
    tile_side = min(tile + 2 * margin, max(h, w))
    out.peak_bytes = max(
        [peak_bytes(settings, s.size, aspect) for s in whole]
        + [peak_bytes(settings, tile_side) + canvas]
    )
    out.ceiling = int(ceiling) if ceiling is not None else out.peak_bytes
    if calibration is not None:
        out.seconds = _seconds(settings, out, calibration, aspect)
    return out


def _first_stage(settings: RunSettings, final: Stage, aspect: float, budget: float) -> Stage:
    """The whole pass before the tiles when no coarse scale is planned: as large as fits, at most
    a step of coarse-to-fine below the final size, with at most the final size's iterations."""
    from .planner import peak_bytes

    size = max(16, round(final.size / math.sqrt(2)))
    while size > 16 and peak_bytes(settings, size, aspect) > budget:
        size = max(16, int(size * 0.9))
    steps = min(settings.coarse_steps, settings.steps)
    return dataclasses.replace(
        final,
        label=f"whole ({size} px)",
        size=size,
        steps=steps,
        from_previous=False,
        kind=StageKind.SCALE,
    )


def _largest_tile(settings: RunSettings, budget: float) -> int:
    """The largest tile (multiple of 16) whose optimization, margin included, fits ``budget``."""
    from .planner import peak_bytes

    best = 0
    for tile in range(MIN_TILE, 8192 + 1, 16):
        if peak_bytes(settings, tile + 2 * margin_for(tile)) > budget:
            break
        best = tile
    return best


def _add_scale(out: TilePlan, stage: Stage, shape: tuple[int, int]) -> None:
    h, w = shape
    boxes = tile_boxes(h, w, out.tile, out.overlap)
    scale = TiledScale(stage.size, (h, w), boxes, len(out.stages), stage.steps)
    out.tiled.append(scale)
    n = len(boxes)
    for sweep in range(out.sweeps):
        for i, box in enumerate(boxes):
            t, left, b, r = padded(box, out.margin, h, w)
            swept = f", sweep {sweep + 1}/{out.sweeps}" if out.sweeps > 1 else ""
            label = f"tile {i + 1}/{n}{swept} ({stage.size} px)"
            out.stages.append(
                dataclasses.replace(
                    stage,
                    label=label,
                    size=max(b - t, r - left),
                    from_previous=True,
                    kind=StageKind.TILE,
                )
            )


def _seconds(settings: RunSettings, out: TilePlan, calibration: object, aspect: float) -> float:
    from .planner import macs_per_pass

    rate = getattr(calibration, "seconds_per_mac", math.nan)
    total = 0.0
    for s in out.whole:
        total += rate * macs_per_pass(settings, s.size, aspect) * s.steps
    for scale in out.tiled:
        h, w = scale.shape
        for box in scale.boxes:
            t, left, b, r = padded(box, out.margin, h, w)
            side, short = max(b - t, r - left), min(b - t, r - left)
            total += rate * macs_per_pass(settings, side, short / side) * scale.steps * out.sweeps
    return total
