"""The window model's part that follows runs: numbers them, feeds the live picture, ends it.

It turns what the run thread reports (evaluations, frames, sweep cells, the result) into the
model's picture, plot and progress line, so that they stay the live run's until it ends and
then become its result's.
"""

from __future__ import annotations

import math
import time
from collections.abc import Sequence
from enum import StrEnum
from typing import TYPE_CHECKING, Any

import numpy as np

from nst_desktop.core.session import RunResult
from nst_desktop.core.settings import Mode, RunSettings
from nst_desktop.core.stages import Stage, StageKind, plan, short_label, sweep_rows
from nst_desktop.gui.picture import LossCurve, Picture, PictureKind
from nst_desktop.gui.progress import STARTING, LiveProgress, ProgressLine, ended_line

if TYPE_CHECKING:
    from nst_desktop.gui.model import WindowModel


class RunState(StrEnum):
    IDLE = "idle"
    RUNNING = "running"
    PAUSED = "paused"
    STOPPING = "stopping"


class RunLog:
    """See the module docstring; ``model.runs``."""

    def __init__(self, model: WindowModel) -> None:
        self.model = model
        self.count = 0  # runs started in this session: the numbers pictures are labelled with
        self.last_result: RunResult | None = None
        self.live: LiveProgress | None = None
        self._stages: list[Any] = []
        self._started = 0.0

    def begin(self, settings: RunSettings, first_step: int = 0) -> int:
        """A run starts: the picture becomes it (no frame yet), with a fresh plot; a
        continuation counts its steps on from ``first_step``."""
        model = self.model
        self.count += 1
        self._stages = plan(settings)
        self.live = LiveProgress(self._stages, first_step)
        self.last_result = None
        self._started = time.monotonic()
        sweep = settings.mode == Mode.SWEEP
        rows = tuple((t, tuple(c)) for t, c in sweep_rows(self._stages)) if sweep else ()
        picture = Picture(
            PictureKind.LIVE,
            run=self.count,
            source=model.source(),
            rows=rows,
            cells=(None,) * len(self._stages) if sweep else (),
            curve=LossCurve(),
            settings=settings,
        )
        model.set_picture(picture, STARTING)
        model.tiles.clear()
        model.set_run_state(RunState.RUNNING)
        return self.count

    def planned(self, stages: Sequence[Stage]) -> None:
        """The stages the run really runs, known once it has planned: a picture made in tiles
        counts its time left over its tiles, not over the scales the settings alone give."""
        picture = self.model.picture
        if self.live is None or picture.sweep or picture.kind != PictureKind.LIVE:
            return
        self._stages = list(stages)
        self.live.stages = list(stages)

    def live_line(self) -> ProgressLine:
        if self.live is None:
            return STARTING
        state = self.model.run_state
        return self.live.line(paused=state == RunState.PAUSED, stopping=state == RunState.STOPPING)

    def progress(self, p: Any) -> None:  # p: worker.Progress
        """One evaluation: a point on the plot and the progress line."""
        if self.live is None or self.model.picture.kind != PictureKind.LIVE:
            return
        curve = self.model.picture.curve
        self.model.tiles.add(p)
        if p.stage_done and 0 <= p.stage < len(self._stages):
            stage = self._stages[p.stage]
            if stage.kind == StageKind.SCALE and p.stage < len(self._stages) - 1:
                curve.markers.append((p.step, short_label(stage)))
                self.model.plotMarker.emit(p.step, short_label(stage))
        if not self.live.add(p):
            return
        if math.isfinite(p.loss):
            terms = {"content": p.content, "style": p.style, "tv": p.tv}
            terms = {k: v for k, v in terms.items() if math.isfinite(v) and v > 0}
            curve.points.append((p.step, p.loss, terms))
            self.model.plotPoint.emit(p.step, p.loss, terms)
        self.model.set_progress(self.live_line())

    def frame(self, image: np.ndarray, step: int, stage: int) -> None:
        """A picture of the live run: the picture itself, or a sweep's cell."""
        model = self.model
        picture = model.picture
        if picture.kind != PictureKind.LIVE:
            return
        if picture.sweep:
            self.cell(stage, image)
            model.activeCellChanged.emit(stage)
            return
        model._picture = picture.with_(image=image)
        model.frameChanged.emit(image)
        model._update_exportable()

    def cell(self, stage: int, image: np.ndarray | None) -> None:
        model = self.model
        picture = model.picture
        if image is None or not picture.sweep or not 0 <= stage < len(picture.cells):
            return
        cells = list(picture.cells)
        cells[stage] = image
        model._picture = picture.with_(cells=tuple(cells))
        model.cellChanged.emit(stage, image)
        model._update_exportable()

    def end(self, result: RunResult) -> None:
        """The run's outcome: the live picture becomes its result (kept when nothing new came)."""
        self.last_result = result
        model = self.model
        model.tiles.clear()
        picture = model.picture
        if picture.kind != PictureKind.LIVE:
            return
        took = time.monotonic() - self._started
        line = ended_line(result.status, result.iterations, took)
        image = result.image if result.image is not None else picture.image
        cells = tuple(result.cells) if picture.sweep and result.cells else picture.cells
        ended = picture.with_(
            kind=PictureKind.RESULT,
            status=result.status,
            image=image,
            cells=cells,
            summary=line.text,
            metadata=dict(result.metadata),
        )
        model.activeCellChanged.emit(-1)
        model.set_picture(ended, line)

    @property
    def seconds(self) -> float:
        return time.monotonic() - self._started
