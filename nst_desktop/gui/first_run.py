"""A first run that takes about a minute: on a computer with only a processor (no GPU), the first
launch starts at the Preview quality, and the window says once, plainly, how to get a full-size
picture."""

from __future__ import annotations

from PySide6.QtCore import QSettings

from nst_desktop.core.quality import describe, quality_of, with_quality
from nst_desktop.gui.model import Clear, WindowModel

TOLD_KEY = "hints/preview_quality_told"


def is_first_launch(qs: QSettings) -> bool:
    """No settings were ever saved (read before the window restores or saves any)."""
    return qs.value("run/settings") is None


def start_at_preview(
    model: WindowModel, qs: QSettings, devices: list[tuple[str, str]], first_launch: bool
) -> bool:
    """On a first launch with only a CPU, Preview quality and one sentence; True if it did."""
    only_cpu = all(value == "cpu" for value, _ in devices)
    if not (first_launch and only_cpu) or quality_of(model.settings) != "standard":
        return False
    model.set_settings(with_quality(model.settings, "preview"))
    if qs.value(TOLD_KEY) is None:
        qs.setValue(TOLD_KEY, True)
        model.show_message(
            f"This computer has no graphics card NST Desktop can use, so the first picture is a "
            f"{describe('preview')}: about a minute. For a full-size result, set Quality to "
            "Standard (512 px) or Print and run again; that takes longer on a processor.",
            "info",
            clears={Clear.RUN_STARTS, Clear.SETTINGS_CHANGED},
        )
    return True
