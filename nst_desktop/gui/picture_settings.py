"""What a picture's embedded settings give the window: settings, warnings, or why not.

Kept apart from the window model so that reading an untrusted picture (its JSON, a start file it
names, the thread count it was made with) is one function with no widget or signal in it.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nst_desktop.core.settings import INIT_CHOICES, RunSettings, SettingsError


@dataclass
class PictureSettings:
    settings: RunSettings
    warnings: list[str]
    meta: dict[str, Any]


def read_picture_settings(
    path: str, current: RunSettings, use_file: Callable[[str], bool] | None
) -> PictureSettings | str:
    """The settings of the picture at ``path`` over ``current``, or one sentence saying why
    none can be used. A start image it names as a file here is used only when ``use_file``
    (the user, asked) says yes."""
    from nst_desktop.core.images import read_metadata
    from nst_desktop.core.session import settings_from_picture, threads_in_use, threads_note

    name = Path(path).name
    meta = read_metadata(path)
    data = meta.get("settings") if meta else None
    if not meta or not isinstance(data, dict):
        return f"{name} carries no NST Desktop settings."
    try:
        settings, warnings = settings_from_picture(data, current)
        start = _start_file(data)
        if start is not None and use_file is not None and use_file(start):
            settings = dataclasses.replace(settings, init=start).validate()
            warnings = [w for w in warnings if not w.startswith("its start picture")]
    except SettingsError as exc:
        return f"The settings in {name} cannot be used: {exc}"
    note = threads_note(meta, threads_in_use(settings.threads))
    return PictureSettings(settings, warnings + ([note] if note else []), meta)


def _start_file(embedded: dict[str, Any]) -> str | None:
    """The start image a picture's settings name as an existing file here, if any."""
    init = embedded.get("init")
    if not isinstance(init, str) or init in INIT_CHOICES or not 0 < len(init) <= 4096:
        return None
    try:
        return init if Path(init).is_file() else None
    except (OSError, ValueError):
        return None
