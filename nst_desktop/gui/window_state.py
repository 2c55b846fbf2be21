"""What the window remembers between sessions: layout, settings, the photo and the styles with
their blend weights. Stored values are untrusted: anything damaged reads as the default.

They are written :data:`SAVE_DELAY_MS` after each change (:class:`StateSaver`), not only on a
clean close, so a killed window comes back as it was.
"""

from __future__ import annotations

import json
import logging
import math
from pathlib import Path

from PySide6.QtCore import QByteArray, QEvent, QObject, QSettings, QTimer
from PySide6.QtWidgets import QMainWindow, QSplitter

from nst_desktop.core.paths import resources_dir
from nst_desktop.core.settings import MAX_STYLES, RunSettings, SettingsError
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
        for changed in (model.settingsChanged, model.contentChanged, model.stylesChanged):
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
    geometry = qs.value("window/geometry")
    if isinstance(geometry, QByteArray):
        window.restoreGeometry(geometry)
    else:
        window.resize(1280, 820)
    sizes = qs.value("window/splitter")
    if splitter is not None and isinstance(sizes, QByteArray):
        splitter.restoreState(sizes)
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
    model.set_settings(settings)
    model.clear_message()


def save(
    window: QMainWindow, model: WindowModel, qs: QSettings, splitter: QSplitter | None = None
) -> None:
    qs.setValue("window/geometry", window.saveGeometry())
    if splitter is not None:
        qs.setValue("window/splitter", splitter.saveState())
    qs.setValue("run/settings", model.settings.to_json(indent=None))
    qs.setValue("run/content", model.content_path or "")
    qs.setValue("run/styles", json.dumps(model.styles))
    qs.sync()


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
