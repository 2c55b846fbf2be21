"""What the window remembers between sessions: layout, settings, the photo and the styles with
their blend weights. Stored values are untrusted: anything damaged reads as the default."""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from nst_desktop.core.paths import data_dir, resources_dir
from nst_desktop.core.settings import MAX_STYLES, RunSettings, SettingsError
from nst_desktop.gui.model import WindowModel

log = logging.getLogger(__name__)

SAMPLE_CONTENT = "content_landscape.png"
SAMPLE_STYLE = "style_swirls.png"


def restore(window: QMainWindow, model: WindowModel, qs: QSettings) -> None:
    """Geometry, inputs and settings as they were; the bundled samples on the first launch."""
    geometry = qs.value("window/geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        window.resize(1280, 820)
    settings = RunSettings()
    text = qs_str(qs, "run/settings")
    if text:
        try:
            settings, warnings = RunSettings.from_json(text, strict=False)
            if warnings:
                log.warning("stored settings: %s", "; ".join(warnings))
        except SettingsError as exc:
            log.warning("stored settings ignored: %s", exc)
    content, styles = qs_str(qs, "run/content"), qs_style_entries(qs)
    if qs.value("run/content") is None:  # the first launch
        samples = resources_dir() / "samples"
        content, styles = str(samples / SAMPLE_CONTENT), [(str(samples / SAMPLE_STYLE), 1.0)]
    if content and Path(content).is_file():
        model.set_content(content)
    model.set_styles([(p, w) for p, w in styles if Path(p).is_file()])
    model.regions.restore(qs_str(qs, "run/regions") or "{}", regions_dir())
    model.set_settings(settings)
    model.clear_message()


def save(window: QMainWindow, model: WindowModel, qs: QSettings) -> None:
    qs.setValue("window/geometry", window.saveGeometry())
    qs.setValue("run/settings", model.settings.to_json(indent=None))
    qs.setValue("run/content", model.content_path or "")
    qs.setValue("run/styles", json.dumps(model.styles))
    try:
        qs.setValue("run/regions", model.regions.save(regions_dir()))
    except OSError as exc:  # a full disk must not keep the window from closing
        log.warning("regions not kept: %s", exc)
    qs.sync()


def regions_dir() -> Path:
    """Where the window keeps the painted regions between sessions (PNG files)."""
    return data_dir() / "regions"


def qs_str(qs: QSettings, key: str) -> str:
    """A string preference; anything else stored there (a damaged file) reads as empty."""
    value = qs.value(key)
    return value if isinstance(value, str) and len(value) < 100_000 else ""


def qs_style_entries(qs: QSettings) -> list[tuple[str, float]]:
    try:
        data = json.loads(qs_str(qs, "run/styles") or "[]")
    except ValueError:
        return []
    entries = []
    if isinstance(data, list):
        for item in data[:MAX_STYLES]:
            if (
                isinstance(item, list)
                and len(item) == 2
                and isinstance(item[0], str)
                and isinstance(item[1], (int, float))
                and math.isfinite(item[1])
                and 0 <= item[1] <= 1e6
            ):
                entries.append((item[0], float(item[1])))
    return entries
