"""What the picture area shows, and where it came from: plain data the window model hands out.

A :class:`Picture` is the photo, a live run, or a run's result, with the mode and inputs it
was made from, its loss curve and its progress line, so that the views beside it (the plot, the
progress line, before/after) always describe the picture on screen.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from pathlib import Path
from typing import Any

import numpy as np

from nst_desktop.core.failures import RunStatus
from nst_desktop.core.settings import Mode


class PictureKind(StrEnum):
    EMPTY = "empty"  # nothing chosen yet
    PHOTO = "photo"  # the content photo, before any run
    LIVE = "live"  # the run in progress
    RESULT = "result"  # how a run ended


_ENDED = {
    RunStatus.DONE: "finished",
    RunStatus.STOPPED: "stopped",
    RunStatus.NONFINITE: "stopped (the loss was no longer finite)",
    RunStatus.ERROR: "failed",
    RunStatus.FAILED: "did not start",
}


@dataclass
class LossCurve:
    """The loss of every evaluation of one run, and the scale boundaries, for the plot."""

    points: list[tuple[int, float, dict[str, float]]] = field(default_factory=list)
    markers: list[tuple[int, str]] = field(default_factory=list)


@dataclass(frozen=True)
class Source:
    """The mode and inputs a picture was made from (paths; style order matters to the blend)."""

    mode: Mode = Mode.TRANSFER
    content: str | None = None
    styles: tuple[str, ...] = ()

    def differs(self, other: Source) -> str:
        """Why a picture made from ``self`` is not one of ``other``'s ("" when it is)."""
        if self.mode != other.mode:
            return f"made as {self.mode.label.lower()}"
        if self.mode.uses_content and self.content != other.content:
            return "made from another photo"
        if self.mode.uses_styles and self.styles != other.styles:
            return "made from other style images"
        return ""


@dataclass(frozen=True)
class Picture:
    kind: PictureKind = PictureKind.EMPTY
    image: np.ndarray | None = field(default=None, compare=False)
    name: str = ""  # the photo's file name
    run: int = 0  # the run's number in this session
    status: RunStatus | None = None  # how the run ended (RESULT)
    source: Source = Source()
    stale: str = ""  # why it is not a picture of the current inputs ("": it is)
    rows: tuple[tuple[str, tuple[str, ...]], ...] = ()  # a sweep's rows of cell captions
    cells: tuple[Any, ...] = field(default=(), compare=False)  # a sweep's cell pictures
    curve: LossCurve = field(default_factory=LossCurve, compare=False)
    summary: str = ""  # its progress line once ended
    metadata: dict[str, Any] = field(default_factory=dict, compare=False)  # once ended
    settings: Any = field(default=None, compare=False)  # the run's RunSettings
    stored: str = ""  # the history entry shown ("": this session's run or the photo)

    @property
    def sweep(self) -> bool:
        made = self.kind in (PictureKind.LIVE, PictureKind.RESULT)
        return made and self.source.mode == Mode.SWEEP and not self.stored  # stored: its grid

    def caption(self, live: str = "live") -> str:
        """What the picture is, in a few words above it; ``live`` says how a live run is."""
        if self.kind == PictureKind.PHOTO:
            return f"Photo · {self.name}"
        if self.kind == PictureKind.LIVE:
            return f"Run {self.run} · {live} · {self.source.mode.label}"
        if self.kind == PictureKind.RESULT:
            ended = _ENDED.get(self.status, "ended") if self.status else "ended"
            if self.stored:
                why = f" ({self.stale})" if self.stale else ""
                return f"History · {self.stored} · {ended} · {self.source.mode.label}{why}"
            if self.stale:
                return f"Previous result · run {self.run}, {ended} ({self.stale})"
            made = f"Run {self.run} · {ended} · {self.source.mode.label}"
            weights = self.metadata.get("weights")  # which network made it: looks depend on it
            return f"{made} · {weights}" if isinstance(weights, str) and weights else made
        return ""

    @property
    def exportable(self) -> bool:
        """A run's picture (live or ended) that has pixels: the photo is not a result."""
        made = self.kind in (PictureKind.LIVE, PictureKind.RESULT)
        return made and (self.image is not None or any(c is not None for c in self.cells))

    @property
    def continuable(self) -> bool:
        """An ended run's picture of the current inputs that more iterations can go on from."""
        return (
            self.kind == PictureKind.RESULT
            and self.image is not None
            and not self.sweep
            and not self.stale
            and self.settings is not None
            and int(self.metadata.get("iterations", 0) or 0) > 0
        )

    @property
    def comparable(self) -> bool:
        """Before/after with the current photo makes sense: a transfer of that very photo."""
        made = self.kind in (PictureKind.LIVE, PictureKind.RESULT)
        return made and not self.stale and self.source.mode == Mode.TRANSFER

    def with_(self, **changes: Any) -> Picture:
        return replace(self, **changes)


def photo(path: str | None, image: np.ndarray | None) -> Picture:
    if path is None or image is None:
        return Picture()
    return Picture(PictureKind.PHOTO, image, Path(path).name)
