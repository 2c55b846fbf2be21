"""The run's thread: the window's front end over ``core.session``, reporting through queued signals.

The GUI thread never touches tensors: the worker sends plain numbers per evaluation and uint8
copies of the image (throttled to ``PREVIEW_FPS``), which the window turns into QImages.
Stop and pause go through :class:`~nst_desktop.core.optimize.RunControl`, which the generator
checks before every evaluation, so both act within one evaluation.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import threading
import time
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from nst_desktop.core.failures import RunStatus
from nst_desktop.core.session import (
    Event,
    ImagePolicy,
    Phase,
    RunInputs,
    RunResult,
    RunSession,
    SnapshotTarget,
    classify_failure,
)

log = logging.getLogger(__name__)

#: Preview images per second the worker asks the generator for (the loss signal is per step).
PREVIEW_FPS = 12.0


class PreviewThrottle:
    """At most one preview per ``interval`` on average, and as close to that rate as the
    iterations allow.

    Keeping the phase (the next frame is due one interval after the last *due* time, not after
    the last frame) matters when iterations come a little faster than the interval: counting from
    the last frame takes every second iteration (measured: 7.5 previews/s at 14.6 it/s, 64 px).
    After a frame that came more than an interval late (slow iterations), the phase restarts with
    the next frame due half an interval later, so a slow stretch buys no burst after it.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.due = -math.inf

    def __call__(self, now: float) -> bool:
        if now < self.due:
            return False
        late = now - self.due
        self.due = self.due + self.interval if late < self.interval else now + self.interval / 2
        return True


_live_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """Threads of this module still running (the tests fail when one outlives its test)."""
    alive = []
    for t in list(_live_threads):
        try:
            if t.isRunning():
                alive.append(t)
        except RuntimeError:  # the C++ object is gone (deleteLater): it is not running
            pass
    return alive


@dataclass
class RunJob:
    """Everything one run needs; built in the GUI thread, read-only afterwards.

    ``styles`` are paths, or (path, blend weight) pairs.
    """

    settings: Any  # RunSettings
    content: str | None
    styles: Sequence[Any]
    regions: Any = None  # core.regions.Regions of the styles, or None
    first_step: int = 0  # a continuation counts on from the run it continues

    @property
    def inputs(self) -> RunInputs:
        pairs = [(s, 1.0) if not isinstance(s, tuple) else s for s in self.styles]
        return dataclasses.replace(RunInputs.of(self.content, pairs), regions=self.regions)


@dataclass
class Progress:
    """One evaluation, as the window sees it (no image: those come through ``preview``)."""

    step: int
    total: int
    loss: float
    content: float
    style: float
    tv: float
    elapsed: float
    stage: int
    stage_label: str
    stage_done: bool
    tile_box: tuple[int, int, int, int] | None = None  # a tiled run's tile, see StepRecord
    picture_shape: tuple[int, int] | None = None


class WeightsCache:
    """Loaded VGG19 features by source, shared by runs so a second run does not reload them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[tuple[str, str], Any] = {}

    def get(
        self, source: str, progress: Any = None, cancelled: Any = None, fmt: str = "auto"
    ) -> Any:
        from nst_desktop.core.weights import load_weights

        with self._lock:
            if (source, fmt) not in self._loaded:
                self._loaded[source, fmt] = load_weights(
                    source, progress=progress, cancelled=cancelled, allow_download=False, fmt=fmt
                )
            return self._loaded[source, fmt]

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()


class RunThread(QThread):
    """One run: create, connect, ``start()``; stop/pause/resume are safe from any thread."""

    status = Signal(str)  # what is happening (loading weights, computing targets, running on ...)
    progress = Signal(object)  # Progress, once per evaluation
    preview = Signal(object, int, int)  # (H x W x 3 uint8, step, stage)
    stageFinished = Signal(int, str, object)  # (stage, label, image) for sweep cells
    #: The stages the run runs, once it has planned them (before its first evaluation): a
    #: picture made in tiles has one per tile and sweep, which ``plan(settings)`` does not know.
    planned = Signal(object)
    outcome = Signal(object)  # core.session.RunResult, exactly once, last

    def __init__(
        self,
        job: RunJob,
        weights: WeightsCache,
        parent: QObject | None = None,
        *,
        recorder: Any = None,
        on_finished: Sequence[Callable[[RunResult], None]] = (),
    ) -> None:
        super().__init__(parent)
        from nst_desktop.core.optimize import RunControl

        self.job = job
        self.weights = weights
        self.control = RunControl()
        self.preview_interval = 1.0 / PREVIEW_FPS
        self.recorder = recorder  # a core.timelapse.FrameRecorder, or None
        #: Where "Snapshot every N" writes (set by the window; None: no snapshots).
        self.snapshots: SnapshotTarget | None = None
        self.on_finished = list(on_finished)  # called in this thread with the RunResult
        self._throttle: PreviewThrottle | None = None
        self._session: RunSession | None = None
        _live_threads.add(self)

    # Control is thread-safe: RunControl uses threading.Event.
    def stop(self) -> None:
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def run(self) -> None:  # noqa: D102 - QThread entry point
        session = RunSession(
            self.job.settings,
            self.job.inputs,
            weights=lambda source, fmt, cancelled: self.weights.get(
                source, cancelled=cancelled, fmt=fmt
            ),
            control=self.control,
            images=ImagePolicy(preview=self._want_preview, timelapse=self.recorder),
            snapshots=self.snapshots,
            on_event=self._on_event,
            on_finished=self.on_finished,
            first_step=self.job.first_step,
        )
        self._session = session
        try:
            for rec in session.records():
                self._report(rec)
            result = session.result
        except Exception as exc:  # noqa: BLE001 - the thread's edge: every error becomes a result
            log.exception("unexpected error in the run thread")
            report = classify_failure(exc)
            result = RunResult(RunStatus.FAILED, report.message, report.kind, unexpected=True)
        assert result is not None
        self.outcome.emit(result)

    def _want_preview(self, step: int) -> bool:
        if self._throttle is None:  # made at the first evaluation: the interval may be set late
            self._throttle = PreviewThrottle(self.preview_interval)
        return self._throttle(time.monotonic())

    def _on_event(self, event: Event) -> None:
        if event.phase == Phase.TARGETS and self._session is not None:
            self.planned.emit(list(self._session.stages))  # the tiles are planned by now
        self.status.emit(event.text[0].upper() + event.text[1:] if event.text else "")

    def _report(self, rec: Any) -> None:
        self.progress.emit(
            Progress(
                rec.step,
                rec.total,
                rec.loss,
                rec.content,
                rec.style,
                rec.tv,
                rec.elapsed,
                rec.stage,
                rec.stage_label,
                rec.stage_done,
                rec.tile_box,
                rec.picture_shape,
            )
        )
        if rec.image is not None:
            self.preview.emit(rec.image, rec.step, rec.stage)
        if rec.stage_done:
            self.stageFinished.emit(rec.stage, rec.stage_label, rec.image)
