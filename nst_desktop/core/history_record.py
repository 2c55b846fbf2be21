"""One history entry's record: what is kept of a finished run, and reading it back safely.

A record is a small JSON file written by this program, but read back from a folder anyone can
edit: every field is checked on the way in (types, lengths, a status it knows), so a damaged or
hostile record is refused with one sentence instead of breaking a listing. The loss curve lives
in its own file (``curve.json``), so listing hundreds of entries reads only the small records.
"""

from __future__ import annotations

import hashlib
import json
import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .failures import RunStatus
from .files import open_regular, read_bounded

#: The record format this program writes and reads.
RECORD_VERSION = 1
#: Records and curves larger than this are refused unread (real ones are a few KB).
MAX_RECORD_BYTES = 64 * 1024
MAX_CURVE_BYTES = 256 * 1024
#: The loss curve kept per run (the full curve of a long run is thinned evenly to this).
CURVE_POINTS = 256
#: Input files larger than this are not hashed (the record says so with a null hash).
MAX_HASH_BYTES = 512 << 20
#: An entry's folder name: its local start time, microseconds, an optional counter.
ID_PATTERN = re.compile(r"^\d{8}-\d{6}-\d{6}(-\d{1,3})?$")
RESULT_NAME, THUMB_NAME = "result.png", "thumb.jpg"
RECORD_NAME, CURVE_NAME = "entry.json", "curve.json"
#: The terms of one curve point, in order after the step.
CURVE_TERMS = ("loss", "content", "style", "tv")


class RecordError(ValueError):
    """A record cannot be used; the message says which entry and why."""


@dataclass(frozen=True)
class InputFile:
    """One picture a run was made from: where it was, what it held (sha256), its blend."""

    role: str  # content | style
    path: str
    sha256: str | None = None
    weight: float = 1.0

    @property
    def name(self) -> str:
        return Path(self.path).name

    def to_dict(self) -> dict[str, Any]:
        return {"role": self.role, "path": self.path, "sha256": self.sha256, "weight": self.weight}


@dataclass(frozen=True)
class Entry:
    """A history entry as listed: its record, checked, and where its files are."""

    id: str
    folder: Path
    created: float
    status: str
    mode: str
    iterations: int
    settings: dict[str, Any]
    inputs: tuple[InputFile, ...] = ()
    weights: str = ""
    device: str = ""
    source: str = ""
    message: str = ""
    losses: dict[str, float] = field(default_factory=dict)
    seconds: float = 0.0
    size: tuple[int, int] = (0, 0)
    pinned: bool = False

    @property
    def result(self) -> Path:
        return self.folder / RESULT_NAME

    @property
    def thumb(self) -> Path:
        return self.folder / THUMB_NAME

    @property
    def content(self) -> InputFile | None:
        return next((i for i in self.inputs if i.role == "content"), None)

    @property
    def styles(self) -> list[InputFile]:
        return [i for i in self.inputs if i.role == "style"]

    def to_dict(self) -> dict[str, Any]:
        """The record as the CLI prints it (``--json``), with the result's full path."""
        return {
            "id": self.id,
            "created": self.created,
            "status": self.status,
            "mode": self.mode,
            "iterations": self.iterations,
            "pinned": self.pinned,
            "result": str(self.result),
            "thumbnail": str(self.thumb),
            "width": self.size[0],
            "height": self.size[1],
            "inputs": [i.to_dict() for i in self.inputs],
            "weights": self.weights,
            "device": self.device,
            "source": self.source,
            "message": self.message,
            "losses": self.losses,
            "seconds": self.seconds,
            "settings": self.settings,
        }


# --------------------------------------------------------------------------- the loss curve
class CurveSampler:
    """The loss curve of a run of any length in bounded memory: every point while few, then
    every second, fourth... (the stride doubles each time the buffer fills); the last point is
    always kept."""

    def __init__(self, limit: int = CURVE_POINTS) -> None:
        self.limit = max(4, limit)
        self.stride = 1
        self.points: list[list[float]] = []
        self.last: list[float] | None = None

    def add(self, rec: Any) -> None:
        """One evaluation (a core.optimize.StepRecord)."""
        point = [
            int(rec.step),
            *(float(getattr(rec, t)) for t in ("loss", "content", "style", "tv")),
        ]
        self.last = point
        if self.points and self.points[-1][0] == point[0]:  # the final record repeats a step
            self.points[-1] = point
            return
        if rec.step % self.stride:
            return
        self.points.append(point)
        if len(self.points) >= self.limit:
            self.stride *= 2
            self.points = [p for p in self.points if p[0] % self.stride == 0]

    def curve(self) -> list[list[float | None]]:
        pts = list(self.points)
        if self.last is not None and (not pts or pts[-1][0] != self.last[0]):
            pts.append(self.last)
        return [[_finite(v) for v in p] for p in pts]


def _finite(value: float) -> float | None:
    """JSON has no NaN or infinity: a point whose loss was not finite keeps a null there."""
    return value if math.isfinite(value) else None


def parse_curve(data: Any) -> list[tuple[int, dict[str, float]]]:
    """A stored curve, checked: [(step, {term: value}), ...], finite values only."""
    if not isinstance(data, list):
        raise RecordError("its loss curve is not a list")
    out: list[tuple[int, dict[str, float]]] = []
    for point in data[: 4 * CURVE_POINTS]:
        if not isinstance(point, list) or len(point) != 1 + len(CURVE_TERMS):
            continue
        step = point[0]
        if not isinstance(step, int) or isinstance(step, bool) or step < 0:
            continue
        terms = {
            t: float(v)
            for t, v in zip(CURVE_TERMS, point[1:], strict=True)
            if isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
        }
        out.append((step, terms))
    return out


def read_curve(folder: Path) -> list[tuple[int, dict[str, float]]]:
    """An entry's loss curve; empty when it is missing or damaged (a curve is not essential)."""
    try:
        raw = read_bounded(folder / CURVE_NAME, MAX_CURVE_BYTES)
        if len(raw) > MAX_CURVE_BYTES:
            return []
        return parse_curve(json.loads(raw))
    except (OSError, ValueError, RecursionError):
        return []


# --------------------------------------------------------------------------- inputs
def file_sha256(path: Path, limit: int = MAX_HASH_BYTES) -> str | None:
    """The file's sha256, or None when it cannot be read or is larger than ``limit``."""
    digest = hashlib.sha256()
    seen = 0
    try:
        with open_regular(path) as f:
            while chunk := f.read(1 << 20):
                seen += len(chunk)
                if seen > limit:
                    return None
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


# --------------------------------------------------------------------------- reading
def parse_record(data: Any, folder: Path) -> Entry:
    """An :class:`Entry` from a record's JSON, every field checked; raises RecordError."""
    if not isinstance(data, dict):
        raise RecordError("its record is not a JSON object")
    if data.get("format") != RECORD_VERSION:
        raise RecordError("its record has an unknown format")
    status = data.get("status")
    if status not in {s.value for s in RunStatus} or status == RunStatus.RUNNING:
        raise RecordError("its record has no valid status")
    settings = data.get("settings")
    if not isinstance(settings, dict):
        raise RecordError("its record holds no settings")
    created = _number(data.get("created"), "created")
    size = data.get("size") if isinstance(data.get("size"), list) else [0, 0]
    return Entry(
        id=folder.name,
        folder=folder,
        created=created,
        status=status,
        mode=_text(settings.get("mode"), 40) or "transfer",
        iterations=int(_number(data.get("iterations", 0), "iterations")),
        settings=settings,
        inputs=tuple(parse_inputs(data.get("inputs"))),
        weights=_text(data.get("weights"), 200),
        device=_text(data.get("device"), 60),
        source=_text(data.get("source"), 20),
        message=_text(data.get("message"), 500),
        losses={
            k: float(v)
            for k, v in (data.get("losses") or {}).items()
            if k in CURVE_TERMS and _is_number(v)
        }
        if isinstance(data.get("losses"), dict)
        else {},
        seconds=_number(data.get("seconds", 0.0), "seconds"),
        size=(int(_number(size[0], "size")), int(_number(size[1], "size")))
        if len(size) == 2
        else (0, 0),
        pinned=data.get("pinned") is True,
    )


def parse_inputs(data: Any) -> list[InputFile]:
    if not isinstance(data, list):
        return []
    out = []
    for item in data[:32]:
        if not isinstance(item, dict) or item.get("role") not in ("content", "style"):
            continue
        path = _text(item.get("path"), 4096)
        if not path:
            continue
        sha = item.get("sha256")
        sha = sha if isinstance(sha, str) and re.fullmatch(r"[0-9a-f]{64}", sha) else None
        weight = item.get("weight", 1.0)
        weight = float(weight) if _is_number(weight) and 0 < weight < 1e6 else 1.0
        out.append(InputFile(item["role"], path, sha, weight))
    return out


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _number(v: Any, name: str) -> float:
    if not _is_number(v) or abs(v) > 1e15:
        raise RecordError(f"its record's {name} is not a number")
    return float(v)


def _text(v: Any, limit: int) -> str:
    return v[:limit] if isinstance(v, str) else ""
