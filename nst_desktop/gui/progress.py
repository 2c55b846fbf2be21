"""The progress line of a run: steps, pace and time left while it runs; how it ended after.

The time left is measured as the CLI measures it (``core.stages.remaining_seconds``): from the
first evaluation (loading and targets are not the pace), each stage weighed by its size, over
the stages the run really runs (a picture made in tiles: its tiles and sweeps, see
``RunLog.planned``). It is shown only while the run is running and once the pace is known: paused
or stopping, there is no time left to count.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from nst_desktop.core.failures import RunStatus
from nst_desktop.core.stages import Stage, remaining_seconds
from nst_desktop.core.text import duration


@dataclass(frozen=True)
class ProgressLine:
    text: str = ""
    value: int = 0
    maximum: int = 1  # 0: busy, no step known yet


STARTING = ProgressLine("starting…", 0, 0)


def clock(seconds: float) -> str:
    """A time in words ("3 min 20 s"): core.text.duration, the one way times are written."""
    return duration(seconds)


def size_text(n: int) -> str:
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{n / 2**20:.0f} MB"


class LiveProgress:
    """The latest evaluation of a run, and the pace measured since the first."""

    def __init__(self, stages: Sequence[Stage], offset: int = 0) -> None:
        self.stages = list(stages)
        self.offset = offset  # steps done before this run (a continuation)
        self.last = None  # worker.Progress
        self.first: tuple[int, float] | None = None

    def add(self, p) -> bool:  # p: worker.Progress
        """Record an evaluation; False for a stage's closing record (it repeats its step)."""
        previous, self.last = self.last, p
        if previous is not None and p.step <= previous.step:
            return False
        if self.first is None and p.elapsed > 0 and p.step > 0:
            self.first = (p.step, p.elapsed)
        return True

    def line(self, *, paused: bool = False, stopping: bool = False) -> ProgressLine:
        p = self.last
        if p is None:
            return STARTING
        text = f"{p.step} / {p.total}"
        if paused:
            text = f"Paused · {text}"
        elif stopping:
            text = f"Stopping · {text}"
        else:
            done, k = p.step - self.offset, self.offset
            rate = done / p.elapsed if p.elapsed > 0 else 0.0
            if rate > 0 and self.first is not None:
                since = (self.first[0] - k, self.first[1])
                eta = remaining_seconds(self.stages, done, p.elapsed, since=since)
                pace = f"{rate:.1f} it/s" if rate >= 1 else f"{clock(1 / rate)} per iteration"
                text += f" · {pace}" + (f" · {clock(eta)} left" if math.isfinite(eta) else "")
        if p.stage_label:
            text = f"{p.stage_label} · {text}"
        return ProgressLine(text, p.step, max(1, p.total))


def ended_line(status: RunStatus, steps: int, took: float) -> ProgressLine:
    """The progress line of an ended run."""
    if steps <= 0:
        return ProgressLine("did not start", 0, 1)
    if status == RunStatus.DONE:
        text = f"{steps} iterations in {clock(took)}"
    elif status == RunStatus.STOPPED:
        text = f"stopped at iteration {steps} after {clock(took)}"
    else:
        text = f"ended at iteration {steps}"
    return ProgressLine(text, steps, steps)
