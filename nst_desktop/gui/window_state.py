"""What the window remembers between sessions: layout (the Expert groups left open too),
settings, the photo and the styles with their blend weights. Stored values are untrusted
(gui.prefs): anything damaged reads as the default, with a log line.

They are written :data:`SAVE_DELAY_MS` after each change (:class:`StateSaver`), not only on a
clean close, so a killed window comes back as it was.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QMainWindow, QSplitter

from nst_desktop.core.paths import data_dir, resources_dir
from nst_desktop.core.settings import MAX_STYLES, RunSettings, SettingsError
from nst_desktop.gui import prefs
from nst_desktop.gui.collapsible import GROUP_SUMMARIES
from nst_desktop.gui.model import WindowModel

log = logging.getLogger(__name__)

SAMPLE_CONTENT = "content_landscape.png"
SAMPLE_STYLE = "style_swirls.png"
#: How long after a change the window state is written (changes within it are written once).
SAVE_DELAY_MS = 500


class StateSaver(QObject):
    """Writes the window state shortly after the model, the splitter or the geometry change."""

    def __init__(
        self, window: QMainWindow, model: WindowModel, qs: QSettings, splitter: QSplitter
    ) -> None:
        super().__init__(window)
        self.window, self.model, self.qs, self.splitter = window, model, qs, splitter
        self.saves = 0
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(SAVE_DELAY_MS)
        self.timer.timeout.connect(self.save_now)
        for changed in (
            model.settingsChanged,
            model.contentChanged,
            model.stylesChanged,
            model.regions.changed,  # painted regions survive a kill too
            model.regions.toolChanged,
            model.groups.changed,  # the Expert groups left open
        ):
            changed.connect(self.schedule)
        splitter.splitterMoved.connect(self.schedule)
        window.installEventFilter(self)

    def schedule(self, *_args: object) -> None:
        self.timer.start()

    def save_now(self) -> None:
        self.timer.stop()
        try:
            save(self.window, self.model, self.qs, self.splitter)
            self.saves += 1
        except Exception:  # noqa: BLE001 - preferences must never cost the session
            log.exception("could not save the window state")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt API)
        if event.type() in (QEvent.Type.Resize, QEvent.Type.Move) and self.window.isVisible():
            self.schedule()
        return False


def restore(
    window: QMainWindow, model: WindowModel, qs: QSettings, splitter: QSplitter | None = None
) -> None:
    """Geometry, inputs and settings as they were; the bundled samples on the first launch."""
    geometry = prefs.read_value(qs, "window/geometry")
    if not (isinstance(geometry, QByteArray) and window.restoreGeometry(geometry)):
        window.resize(1280, 820)
    sizes = prefs.read_value(qs, "window/splitter")
    if splitter is not None and isinstance(sizes, QByteArray):
        splitter.restoreState(sizes)
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
    model.regions.restore(prefs.read_text(qs, "run/regions") or "{}", regions_dir())
    model.set_settings(settings)
    model.groups.restore(prefs.read_json(qs, "window/open_groups"), GROUP_SUMMARIES)
    model.clear_message()


def save(
    window: QMainWindow, model: WindowModel, qs: QSettings, splitter: QSplitter | None = None
) -> None:
    qs.setValue("window/geometry", window.saveGeometry())
    if splitter is not None:
        qs.setValue("window/splitter", splitter.saveState())
    qs.setValue("window/open_groups", json.dumps(model.groups.to_pref()))
    qs.setValue("run/settings", model.settings.to_json(indent=None))
    qs.setValue("run/content", prefs.encode_path(model.content_path or ""))
    styles = [(prefs.encode_path(p), w) for p, w in model.styles]
    qs.setValue("run/styles", json.dumps(styles))
    try:
        qs.setValue("run/regions", model.regions.save(regions_dir()))
    except OSError as exc:  # a full disk must not keep the window from closing
        log.warning("regions not kept: %s", exc)
    qs.sync()


def regions_dir() -> Path:
    """Where the window keeps the painted regions between sessions (PNG files)."""
    return data_dir() / "regions"


def _is_file(path: str) -> bool:
    try:
        return Path(path).is_file()
    except (OSError, ValueError):  # a name too long, or with a NUL
        return False
