"""What the window remembers between sessions: layout, settings, the photo and the styles with
their blend weights. Stored values are untrusted (gui.prefs): anything damaged reads as the
default, with a log line."""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QMainWindow

from nst_desktop.core.paths import resources_dir
from nst_desktop.core.settings import MAX_STYLES, RunSettings, SettingsError
from nst_desktop.gui import prefs
from nst_desktop.gui.model import WindowModel

log = logging.getLogger(__name__)

SAMPLE_CONTENT = "content_landscape.png"
SAMPLE_STYLE = "style_swirls.png"


def restore(window: QMainWindow, model: WindowModel, qs: QSettings) -> None:
    """Geometry, inputs and settings as they were; the bundled samples on the first launch."""
    geometry = prefs.read_value(qs, "window/geometry")
    if not (isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)):
        window.resize(1280, 820)
    settings = RunSettings()
    text = prefs.read_text(qs, "run/settings")
    if text:
        try:
            settings, warnings = RunSettings.from_json(text, strict=False)
            if warnings:
                log.warning("preference run/settings: dropped %s", "; ".join(warnings))
        except SettingsError as exc:
            log.warning("preference run/settings dropped: %s", exc)
    content = prefs.read_path(qs, "run/content")
    styles = prefs.style_entries(prefs.read_json(qs, "run/styles"), MAX_STYLES)
    if not qs.contains("run/content"):  # the first launch
        samples = resources_dir() / "samples"
        content, styles = str(samples / SAMPLE_CONTENT), [(str(samples / SAMPLE_STYLE), 1.0)]
    if content and _is_file(content):
        model.set_content(content)
    model.set_styles([(p, w) for p, w in styles if _is_file(p)])
    model.set_settings(settings)
    model.clear_message()


def save(window: QMainWindow, model: WindowModel, qs: QSettings) -> None:
    qs.setValue("window/geometry", window.saveGeometry())
    qs.setValue("run/settings", model.settings.to_json(indent=None))
    qs.setValue("run/content", prefs.encode_path(model.content_path or ""))
    styles = [(prefs.encode_path(p), w) for p, w in model.styles]
    qs.setValue("run/styles", json.dumps(styles))
    qs.sync()


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL
        return False
