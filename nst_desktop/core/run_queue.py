"""The queue of runs waiting their turn, kept in the data folder so it survives a restart.

A queued run is its settings and inputs, plain data; ``queue.json`` is written atomically and
read back as untrusted (bounded, every field checked; a damaged file is an empty queue and a
warning). Torch-free.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .files import read_bounded, write_bytes
from .paths import data_dir

#: At most this many runs wait in the queue.
MAX_QUEUED = 200
MAX_QUEUE_BYTES = 4 << 20


@dataclass(frozen=True)
class QueuedRun:
    """One run waiting: its settings (a RunSettings dict), photo, styles with blend weights."""

    id: str
    settings: dict[str, Any]
    content: str | None = None
    styles: tuple[tuple[str, float], ...] = ()
    label: str = ""
    added: float = field(default_factory=time.time)

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "settings": self.settings, "content": self.content,
                "styles": [list(s) for s in self.styles], "label": self.label,
                "added": self.added}  # fmt: skip

    @property
    def title(self) -> str:
        """What the queue list shows: the label, or the pictures and a few knobs."""
        names = [Path(self.content).name] if self.content else []
        names += [f"{Path(p).name}×{w:g}" if w != 1 else Path(p).name for p, w in self.styles]
        s = self.settings
        knobs = f"{s.get('size', '?')} px, {s.get('steps', '?')} it, seed {s.get('seed', '?')}"
        head = f"{self.label} · " if self.label else ""
        return f"{head}{' + '.join(names) or s.get('mode', '')} · {knobs}"


def parse_queued(data: Any) -> QueuedRun | None:
    """A queued run from untrusted JSON; None when it is not one."""
    if not isinstance(data, dict) or not isinstance(data.get("settings"), dict):
        return None
    ident = data.get("id")
    content = data.get("content")
    if not isinstance(ident, str) or not 0 < len(ident) <= 40:
        return None
    if content is not None and (not isinstance(content, str) or len(content) > 4096):
        return None
    styles = []
    for item in data.get("styles", [])[:16] if isinstance(data.get("styles"), list) else []:
        if (isinstance(item, list) and len(item) == 2 and isinstance(item[0], str)
                and isinstance(item[1], (int, float)) and not isinstance(item[1], bool)
                and 0 < item[1] < 1e6 and len(item[0]) <= 4096):  # fmt: skip
            styles.append((item[0], float(item[1])))
    label = data.get("label") if isinstance(data.get("label"), str) else ""
    added = data.get("added") if isinstance(data.get("added"), (int, float)) else 0.0
    return QueuedRun(ident, data["settings"], content, tuple(styles), label[:80], float(added))


def queue_file() -> Path:
    return data_dir() / "queue.json"


def load_queue(path: Path | None = None) -> tuple[list[QueuedRun], list[str]]:
    """The saved queue and warnings (a damaged file: an empty queue, said once)."""
    path = path or queue_file()
    try:
        raw = read_bounded(path, MAX_QUEUE_BYTES)
    except FileNotFoundError:
        return [], []
    except OSError as exc:
        return [], [f"The saved queue cannot be read ({exc.strerror or exc}); it starts empty."]
    try:
        data = json.loads(raw) if len(raw) <= MAX_QUEUE_BYTES else None
    except (ValueError, RecursionError):
        data = None
    if not isinstance(data, list):
        return [], ["The saved queue is damaged; it starts empty."]
    runs = [r for r in (parse_queued(d) for d in data[:MAX_QUEUED]) if r is not None]
    skipped = min(len(data), MAX_QUEUED) - len(runs)
    warnings = [f"{skipped} damaged queued run(s) were dropped."] if skipped else []
    return runs, warnings


def save_queue(runs: list[QueuedRun], path: Path | None = None) -> None:
    path = path or queue_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    write_bytes(path, json.dumps([r.to_dict() for r in runs[:MAX_QUEUED]]).encode())
