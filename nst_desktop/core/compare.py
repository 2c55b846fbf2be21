"""What differs between two results of the history, in words an artist reads: the settings
("Style weight 50 → 100", through core.changes) and the pictures they were made from."""

from __future__ import annotations

from typing import Any

from .changes import settings_changes
from .history_record import Entry
from .settings import RunSettings, SettingsError


def entry_settings(entry: Entry) -> RunSettings:
    """An entry's settings as RunSettings (bad fields dropped: the record is untrusted)."""
    try:
        settings, _ = RunSettings.from_dict(entry.settings, strict=False)
    except SettingsError:
        return RunSettings()
    return settings


def differences(a: Entry, b: Entry) -> list[str]:
    """The differences from ``a`` to ``b``: inputs first, then every setting that differs."""
    out = []
    if _content(a) != _content(b):
        out.append(f"Photo {_content(a)} → {_content(b)}")
    if _styles(a) != _styles(b):
        out.append(f"Styles {_styles(a)} → {_styles(b)}")
    if a.mode != b.mode:
        out.append(f"Mode {a.mode} → {b.mode}")
    changes = settings_changes(entry_settings(a), entry_settings(b))
    out += [str(c) for c in changes if c.name not in ("mode", "style_blend")]
    if a.iterations != b.iterations:
        out.append(f"Iterations done {a.iterations} → {b.iterations}")
    return out


def _content(entry: Entry) -> str:
    return entry.content.name if entry.content is not None else "none"


def _styles(entry: Entry) -> str:
    styles: list[Any] = entry.styles
    if not styles:
        return "none"
    return ", ".join(f"{s.name} ×{s.weight:g}" for s in styles)
