"""The stages of a run (coarse-to-fine scales or sweep cells) and the time they have left.

No torch here: the window plans and estimates before the engine has loaded.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from .layers import STUDY_LAYERS
from .settings import Mode, RunSettings

#: The two rows of the layer sweep, in the order of its stages.
SWEEP_ROWS = (
    (Mode.CONTENT_REP, "Content reconstruction"),
    (Mode.STYLE_REP, "Style reconstruction"),
)


class StageKind(StrEnum):
    """What a stage is to the run: the whole of it, a coarse-to-fine scale, a sweep cell, a tile."""

    SINGLE = "single"
    SCALE = "scale"
    CELL = "cell"
    TILE = "tile"  # a tile of a scale refined piece by piece (core/tiles.py)


@dataclass
class Stage:
    """One optimization from one start image: a single run, a scale, or a sweep cell."""

    label: str
    mode: Mode  # transfer | content-rep | style-rep
    size: int
    steps: int
    content_layers: dict[str, float]
    style_layers: dict[str, float]
    from_previous: bool = False  # coarse-to-fine: start from the previous stage's result
    kind: StageKind = StageKind.SINGLE


def plan(settings: RunSettings) -> list[Stage]:
    """The stages a run consists of (sweep cells, or coarse-to-fine scales)."""
    size, steps, cell = settings.size, settings.steps, StageKind.CELL
    if settings.mode == Mode.SWEEP:
        stages = [
            Stage(f"content {name}", Mode.CONTENT_REP, size, steps, {name: 1.0}, {}, kind=cell)
            for name in STUDY_LAYERS
        ]
        for i in range(len(STUDY_LAYERS)):
            layers = {name: 1.0 for name in STUDY_LAYERS[: i + 1]}
            label = "style " + ("relu1_1" if i == 0 else f"+{STUDY_LAYERS[i]}")
            stages.append(Stage(label, Mode.STYLE_REP, size, steps, {}, layers, kind=cell))
        return stages
    content, style = settings.loss_layers()
    n = settings.scales
    stages = []
    for i in range(n):
        size = max(16, round(settings.size / math.sqrt(2) ** (n - 1 - i)))
        steps = settings.steps if i == n - 1 else settings.coarse_steps
        label = f"scale {i + 1}/{n} ({size} px)" if n > 1 else ""
        kind = StageKind.SCALE if n > 1 else StageKind.SINGLE
        stages.append(Stage(label, settings.mode, size, steps, content, style, i > 0, kind))
    return stages


def sweep_rows(stages: Sequence[Stage]) -> list[tuple[str, list[str]]]:
    """The sweep grid's rows as (title, cell captions): one caption scheme for window and CLI."""
    return [(title, [s.label for s in stages if s.mode == mode]) for mode, title in SWEEP_ROWS]


def sweep_cell_layers(index: int, label: str) -> dict[str, dict[str, float]] | None:
    """The settings a sweep cell's layers make for a style transfer: ``{"content_layers": ...}``
    for a content cell, ``{"style_layers": ...}`` for a style cell; None when ``index`` and
    ``label`` are not a cell of today's sweep (a picture from another version)."""
    stages = plan(RunSettings(mode=Mode.SWEEP))
    if not 0 <= index < len(stages) or stages[index].label != label:
        return None
    stage = stages[index]
    if stage.mode == Mode.CONTENT_REP:
        return {"content_layers": dict(stage.content_layers)}
    return {"style_layers": dict(stage.style_layers)}


def short_label(stage: Stage) -> str:
    """A scale's label without its size ("scale 2/3"), for markers on the loss plot."""
    return stage.label.split(" (")[0]


def _work_until(stages: Sequence[Stage], step: int) -> float:
    """Work of the first ``step`` evaluations, in evaluations at the largest stage's size."""
    largest = max(s.size for s in stages)
    work = 0.0
    for stage in stages:
        n = min(max(step, 0), stage.steps)
        work += n * (stage.size / largest) ** 2  # a pass costs in proportion to the pixels
        step -= n
    return work


def remaining_seconds(
    stages: Sequence[Stage], step: int, elapsed: float, since: tuple[int, float] = (0, 0.0)
) -> float:
    """Seconds left at ``step`` (evaluations done) after ``elapsed`` seconds, NaN if unknown.

    The pace is measured in work, not iterations: a coarse-to-fine scale at half the pixels
    runs twice the iterations per second, and counting iterations would promise the last,
    slowest scale far too early. ``since`` is the (step, elapsed) the pace is measured from.
    """
    if not stages:
        return math.nan
    done = _work_until(stages, step) - _work_until(stages, since[0])
    spent = elapsed - since[1]
    if done <= 0 or spent <= 0:
        return math.nan
    left = _work_until(stages, sum(s.steps for s in stages)) - _work_until(stages, step)
    return left * spent / done
