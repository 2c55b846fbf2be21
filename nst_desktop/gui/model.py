"""The window model: the one source of truth of the window, with a signal per property.

Widgets show the model and report edits to it; nothing reads state back from a widget. The
model also keeps the screen coherent: the picture says what it is, a result made from other
inputs is never compared with the current photo, the plot and progress line belong to the picture
on screen, the time left shows only while a run runs, a mode gets its own "Start from" back, and
a message goes away when what it said stops being true (its values: gui/messages.py).

Usage::

    model = WindowModel()
    model.settingsChanged.connect(panel.show_settings)
    panel.edited.connect(lambda name, value: model.update_settings(**{name: value}))
    model.set_content("photo.jpg"); model.set_styles([("art.png", 1.0)]); model.set_mode("sweep")
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject, Signal

from nst_desktop.core.changes import Change, settings_changes
from nst_desktop.core.images import ImageError
from nst_desktop.core.settings import Mode, RunSettings, SettingsError
from nst_desktop.gui.history_model import HistoryModel
from nst_desktop.gui.messages import Clear, EstimateLine, Message
from nst_desktop.gui.open_groups import OpenGroups
from nst_desktop.gui.picker_support import DisplayImage, load_display
from nst_desktop.gui.picture import Picture, PictureKind, Source, photo
from nst_desktop.gui.picture_settings import read_picture_settings
from nst_desktop.gui.progress import ProgressLine
from nst_desktop.gui.queue_model import QueueModel
from nst_desktop.gui.regions import RegionsModel
from nst_desktop.gui.run_state import RunLog, RunState
from nst_desktop.gui.tile_marks import TileMarks
from nst_desktop.gui.variations_model import VariationsModel

__all__ = ["Clear", "EstimateLine", "Message", "RunState", "WindowModel"]


class WindowModel(QObject):
    """See the module docstring."""

    settingsChanged = Signal(object)  # RunSettings
    contentChanged = Signal(object)  # DisplayImage | None
    stylesChanged = Signal(list)  # [(path, weight), ...]
    runStateChanged = Signal(object)  # RunState
    pictureChanged = Signal(object)  # Picture: a new picture on screen
    pictureRelabelled = Signal(object)  # Picture: the same picture, now "previous" or current
    frameChanged = Signal(object)  # H x W x 3 uint8: the live picture's latest frame
    cellChanged = Signal(int, object)  # a sweep cell's picture
    activeCellChanged = Signal(int)  # the sweep cell being computed (-1: none)
    plotPoint = Signal(int, float, object)  # (step, total, {term: value}) of the live run
    plotMarker = Signal(int, str)  # (step, label) a scale ended
    progressChanged = Signal(object)  # ProgressLine of the picture on screen
    estimateChanged = Signal(object)  # EstimateLine
    messageChanged = Signal(object)  # Message | None
    statusChanged = Signal(str)
    exportableChanged = Signal(bool)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._settings = RunSettings()
        self._content: DisplayImage | None = None
        self._styles: tuple[tuple[str, float], ...] = ()
        self._run_state = RunState.IDLE
        self._picture = Picture()
        self._progress = ProgressLine()
        self._estimate = EstimateLine()
        self._message: Message | None = None
        self._status = ""
        self._exportable = False
        self._photo_key: tuple[str | None, bool] = (None, False)
        self._init_for = {False: self._settings.init}  # by "is a study": each family's own
        self.runs = RunLog(self)
        self.regions = RegionsModel(self)  # the region tool's masks (gui/regions.py)
        self.tiles = TileMarks(self)  # a tiled run's tiles on the picture (gui/tile_marks.py)
        self.groups = OpenGroups(self)  # the Expert tab's unfolded groups (gui/open_groups.py)
        self.contentChanged.connect(
            lambda shown: (
                shown is not None and self.regions.set_picture_size(shown.width, shown.height)
            )
        )
        self.stylesChanged.connect(lambda entries: self.regions.set_styles([p for p, _ in entries]))
        self.regions.message.connect(lambda text: self.show_message(text, "warning"))
        self.history = HistoryModel(self)
        self.queue = QueueModel(self)
        self.variations = VariationsModel(self)  # contact sheets, run through the queue

    # ================================================================== settings
    @property
    def settings(self) -> RunSettings:
        return self._settings

    def set_settings(self, new: RunSettings) -> list[Change]:
        """The one way settings change (panels, presets, pictures, restore); the real changes."""
        new = self.normalized(new)
        old = self._settings
        if new == old:
            return []
        self._settings = new
        self._init_for[Mode(new.mode).is_study] = new.init
        self.settingsChanged.emit(new)
        if old.mode != new.mode:
            self._refresh_picture()
        if self._message is not None:
            self._clear_if(Clear.SETTINGS_CHANGED)
            message = self._message  # None when the change itself cleared it
            valid = message is not None and Clear.SETTINGS_VALID in message.clears
            if valid and self.settings_problem() is None:
                self.clear_message()
        return settings_changes(old, new)

    def update_settings(self, **values: Any) -> list[Change]:
        return self.set_settings(dataclasses.replace(self._settings, **values))

    def normalized(self, settings: RunSettings) -> RunSettings:
        """``settings`` as the window holds them: the blend is the style list's weights."""
        weights = [w for _, w in self._styles]
        blend = [] if all(w == 1.0 for w in weights) else weights
        if Mode(settings.mode).is_study and settings.init in ("content", "style"):
            settings = dataclasses.replace(settings, init="noise")
        return dataclasses.replace(settings, style_blend=blend)

    def set_mode(self, mode: str) -> list[Change]:
        """Switch what to make; each mode gets its own "Start from" back, and content
        representation keeps the deepest of the chosen content layers (it uses exactly one)."""
        mode = Mode(mode)
        s = self._settings
        init = self._init_for.get(mode.is_study, s.init)
        if mode.is_study and init in ("content", "style"):
            init = "noise"
        content_layers = dict(s.content_layers)
        if mode == Mode.CONTENT_REP and len(content_layers) > 1:
            from nst_desktop.core.layers import LAYER_INDEX

            deepest = max(content_layers, key=lambda n: LAYER_INDEX.get(n, -1))
            content_layers = {deepest: content_layers[deepest]}
        changes = self.update_settings(mode=mode, init=init, content_layers=content_layers)
        if init != s.init:
            self.set_status(f"{mode.label} starts from {_init_words(init)}.")
        return changes

    def settings_problem(self) -> str | None:
        """Why the current settings and inputs cannot run, in one sentence (None: they can)."""
        s = self._settings
        try:
            s.validate()
            if Mode(s.mode).uses_styles:
                s.style_blend_for(len(self._styles) or 1)
        except SettingsError as exc:
            return str(exc)
        return None

    # ================================================================== inputs
    @property
    def content(self) -> DisplayImage | None:
        return self._content

    @property
    def content_path(self) -> str | None:
        return self._content.path if self._content is not None else None

    def set_content(self, path: str | None) -> bool:
        """Use the photo at ``path`` (None clears); a file that cannot be read is a message."""
        if not path:
            shown = None
        else:
            try:
                shown = load_display(path)
            except ImageError as exc:
                self.show_message(str(exc), clears={Clear.CONTENT, Clear.RUN_STARTS})
                return False
        if (shown and shown.path) == self.content_path:
            return True
        self._content = shown
        self.contentChanged.emit(shown)
        self._refresh_picture()
        if shown is not None:
            self._clear_if(Clear.CONTENT)
        self._clear_if(Clear.INPUTS_CHANGED)
        return True

    @property
    def styles(self) -> list[tuple[str, float]]:
        return list(self._styles)

    @property
    def style_paths(self) -> list[str]:
        return [p for p, _ in self._styles]

    def set_styles(self, entries: Sequence[tuple[str, float]]) -> None:
        entries = tuple((str(p), float(w)) for p, w in entries)
        if entries == self._styles:
            return
        self._styles = entries
        self.stylesChanged.emit(list(entries))
        self.set_settings(self._settings)  # the blend follows the weights
        self._refresh_picture()
        if entries:
            self._clear_if(Clear.STYLES)
        self._clear_if(Clear.INPUTS_CHANGED)

    def set_blend(self, blend: Sequence[float]) -> bool:
        """Blend weights for the styles chosen (from a picture's settings); False when the
        number of weights does not match the number of styles."""
        if not blend or len(blend) != len(self._styles):
            return False
        self.set_styles([(p, w) for (p, _), w in zip(self._styles, blend, strict=True)])
        return True

    def load_picture_settings(
        self, path: str, use_file: Callable[[str], bool] | None = None
    ) -> bool:
        """Apply what a picture may set (core.session.settings_from_picture) over the current
        settings; its blend weights too, when it had as many styles as are chosen now. A start
        image the picture names as a file on this computer is used only when ``use_file`` (the
        user, asked) says yes."""
        read = read_picture_settings(path, self._settings, use_file)
        if isinstance(read, str):
            self.show_message(read)
            return False
        settings, warnings, name = read.settings, read.warnings, Path(path).name
        self.set_blend(settings.style_blend)
        self.set_settings(settings)
        warnings += self._picture_regions(read.meta)
        if warnings:
            self.show_message(
                f"Loaded the settings of {name}, except: " + "; ".join(warnings[:5]),
                "warning",
                clears={Clear.RUN_STARTS, Clear.SETTINGS_CHANGED},
            )
        else:
            self.set_status(f"Loaded the settings of {name}.")
        return True

    def _picture_regions(self, meta: dict[str, Any]) -> list[str]:
        """A picture's embedded masks replace the current regions (never a file it names)."""
        if "regions" not in meta:
            return []
        from nst_desktop.core.regions import decode_regions

        regions, warnings = decode_regions(meta["regions"])
        self.regions.set_regions(regions)
        if regions is not None and regions.sources:
            warnings.append("its style-side masks are not used here (the command line uses them)")
        return warnings

    def source(self) -> Source:
        """The mode and inputs a run started now would be made from."""
        return Source(Mode(self._settings.mode), self.content_path, tuple(self.style_paths))

    # ================================================================== run state
    @property
    def run_state(self) -> RunState:
        return self._run_state

    @property
    def busy(self) -> bool:
        return self._run_state != RunState.IDLE

    def set_run_state(self, state: RunState) -> None:
        if state == self._run_state:
            return
        was_idle = self._run_state == RunState.IDLE
        self._run_state = state
        self.runStateChanged.emit(state)
        if was_idle or state == RunState.IDLE:
            self.estimateChanged.emit(self.estimate)
        if self._picture.kind == PictureKind.LIVE:
            self.set_progress(self.runs.live_line())

    # ================================================================== the picture
    @property
    def picture(self) -> Picture:
        return self._picture

    def set_picture(self, picture: Picture, progress: ProgressLine | None = None) -> None:
        """Show ``picture``; its progress line comes with it (the plot replays its curve)."""
        self._picture = picture
        self.pictureChanged.emit(picture)
        self.set_progress(progress if progress is not None else ProgressLine(picture.summary))
        self._update_exportable()

    def _refresh_picture(self) -> None:
        """After the inputs or the mode changed: the photo follows, a result says if it is
        a picture of something else now."""
        p = self._picture
        if p.kind in (PictureKind.EMPTY, PictureKind.PHOTO):
            key = (self.content_path, self._settings.mode == Mode.SWEEP)  # what the area draws
            if key != self._photo_key:
                self._photo_key = key
                shown = self._content
                self.set_picture(photo(self.content_path, shown.array if shown else None))
        else:  # a run's picture, live or ended
            stale = p.source.differs(self.source())
            if stale != p.stale:
                self._picture = p.with_(stale=stale)
                self.pictureRelabelled.emit(self._picture)

    def _update_exportable(self) -> None:
        if self._picture.exportable != self._exportable:
            self._exportable = self._picture.exportable
            self.exportableChanged.emit(self._exportable)

    @property
    def exportable(self) -> bool:
        return self._exportable

    # ================================================================== lines and messages
    @property
    def progress(self) -> ProgressLine:
        return self._progress

    def set_progress(self, line: ProgressLine) -> None:
        self._progress = line
        self.progressChanged.emit(line)

    @property
    def estimate(self) -> EstimateLine:
        """The pre-run estimate; hidden while a run shows its own time left."""
        return EstimateLine() if self.busy else self._estimate

    def set_estimate(self, line: EstimateLine) -> None:
        self._estimate = line
        self.estimateChanged.emit(self.estimate)

    @property
    def message(self) -> Message | None:
        return self._message

    def show_message(
        self,
        text: str,
        kind: str = "error",
        *,
        action: tuple[str, Callable[[], Any]] | None = None,
        clears: set[Clear] | frozenset[Clear] = frozenset({Clear.RUN_STARTS}),
    ) -> None:
        label, fn = action if action is not None else ("", None)
        self._message = Message(text, kind, label, fn, frozenset(clears))
        self.messageChanged.emit(self._message)
        self.set_status(text if len(text) < 120 else text[:117] + "…")

    def clear_message(self) -> None:
        if self._message is not None:
            self._message = None
            self.messageChanged.emit(None)

    def _clear_if(self, condition: Clear) -> None:
        if self._message is not None and condition in self._message.clears:
            self.clear_message()

    @property
    def status(self) -> str:
        return self._status

    def set_status(self, text: str) -> None:
        self._status = text
        self.statusChanged.emit(text)


def _init_words(init: str) -> str:
    return {
        "noise": "white noise",
        "content": "the content photo",
        "style": "the first style image",
    }.get(init, Path(init).name)
