"""What differs between two results of the history, in words an artist reads: the settings
("Style weight 50 → 100", through core.changes) and the pictures they were made from."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Sequence
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


def run_labels(a: Entry, b: Entry) -> tuple[str, str, str]:
    """What to call two runs side by side: each one's time and the first thing that tells them
    apart ("01:07 · style weight 0.3"), and one line naming both ("Left: run of 01:07 · ...").

    A differing seed is named only when nothing else differs: it says least about the look.
    """
    when_a, when_b = clocks([a.created, b.created])
    telling = _first_difference(a, b)
    left, right = when_a, when_b
    if telling is not None:
        left, right = f"{when_a} · {telling[0]}", f"{when_b} · {telling[1]}"
    return left, right, f"Left: run of {when_a} · Right: run of {when_b}"


def photo_labels(photo: str, b: Entry) -> tuple[str, str, str]:
    """A run beside its photo: "Photo" and "Result", and the line naming both."""
    when = time.strftime("%H:%M", time.localtime(b.created))
    return "Photo", "Result", f"Left: the photo {photo} · Right: run of {when}"


def clocks(times: Sequence[float]) -> list[str]:
    """Local times as "01:07"; a time that reads like another one gets its seconds ("01:07:42"),
    so runs made in the same minute are told apart (the history strip, the compare labels)."""
    minutes = [time.strftime("%H:%M", time.localtime(t)) for t in times]
    shared = {m for m, n in Counter(minutes).items() if n > 1}
    return [
        time.strftime("%H:%M:%S", time.localtime(t)) if m in shared else m
        for t, m in zip(times, minutes, strict=True)
    ]


def _first_difference(a: Entry, b: Entry) -> tuple[str, str] | None:
    """The first of: photo, styles, mode, a setting (seed last), iterations done; None: none."""
    for get in (_content, _styles):
        if get(a) != get(b):
            return get(a), get(b)
    if a.mode != b.mode:
        return a.mode, b.mode
    changes = settings_changes(entry_settings(a), entry_settings(b))
    changes = [c for c in changes if c.name not in ("mode", "style_blend")]
    changes.sort(key=lambda c: c.name == "seed")  # stable: the dataclass's order otherwise
    if changes:
        name = _lower_first(changes[0].label)
        return f"{name} {changes[0].before}", f"{name} {changes[0].after}"
    if a.iterations != b.iterations:
        return f"{a.iterations} iterations", f"{b.iterations} iterations"
    return None


def _lower_first(label: str) -> str:
    """ "Style weight" → "style weight"; "L-BFGS history" stays."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _content(entry: Entry) -> str:
    return entry.content.name if entry.content is not None else "none"


def _styles(entry: Entry) -> str:
    styles: list[Any] = entry.styles
    if not styles:
        return "none"
    return ", ".join(f"{s.name} ×{s.weight:g}" for s in styles)
