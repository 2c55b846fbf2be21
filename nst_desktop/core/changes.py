"""What changed between two settings, in words an artist reads ("Size (px) 512 → 256").

The preset report, the window's undo and the comparison of two results all describe a change
of settings; this is the one place that says which fields differ and how their values read.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

from .settings import RunSettings, field_meta, format_layer_spec


@dataclass(frozen=True)
class Change:
    name: str  # the RunSettings field
    label: str  # its label in the window
    before: str
    after: str

    def __str__(self) -> str:
        return f"{self.label} {self.before} → {self.after}"


def settings_changes(old: RunSettings, new: RunSettings) -> list[Change]:
    """The fields whose values differ, in the dataclass's order."""
    out = []
    for f in dataclasses.fields(RunSettings):
        a, b = getattr(old, f.name), getattr(new, f.name)
        if a != b:
            label = field_meta(f.name)["label"]
            out.append(Change(f.name, label, format_value(f.name, a), format_value(f.name, b)))
    return out


def format_value(name: str, value: Any) -> str:
    """A setting's value as the window shows it: short numbers, layer lists, 'auto' for None."""
    if value is None:
        return "auto"
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, dict):
        return format_layer_spec(value) or "none"
    if isinstance(value, list):
        return ":".join(f"{v:g}" for v in value) if value else "equal"
    if isinstance(value, float):
        return f"{value:g}" if math.isfinite(value) else str(value)
    if name in ("init", "weights") and len(str(value)) > 40:  # a file: its name is enough
        return "…" + str(value)[-39:]
    return str(value)


def describe_changes(changes: list[Change], limit: int = 8) -> str:
    """One line for a report: "Size (px) 512 → 256; Iterations 500 → 100"."""
    if not changes:
        return ""
    shown = "; ".join(str(c) for c in changes[:limit])
    more = f"; and {len(changes) - limit} more" if len(changes) > limit else ""
    return shown + more
