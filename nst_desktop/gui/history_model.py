"""The window model's part that holds the run history (``model.history``): the entries, the one
selected, the disk they use, the limits, and what can be done with an entry.

The list is read off the GUI thread at start (a history of hundreds of entries must not slow the
window's start); a run that ends adds its entry at the front. Showing an entry puts its picture,
loss curve and settings on screen through the window model; *Use these settings* restores the
settings and the inputs (every style with its blend weight, found by gui/input_finder.py) and
names any input that is gone.
"""

from __future__ import annotations

import dataclasses
import logging
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Signal

from nst_desktop.core.history import History, HistoryError, Limits
from nst_desktop.core.history_record import Entry, read_curve
from nst_desktop.core.images import ImageError
from nst_desktop.core.settings import MODES, Mode, SettingsError
from nst_desktop.gui.history_compare import Comparison, compare_files
from nst_desktop.gui.input_finder import by_role, entry_inputs, locate, verified_inputs
from nst_desktop.gui.picture import LossCurve, Picture, PictureKind, Source

if TYPE_CHECKING:
    from nst_desktop.gui.model import WindowModel

log = logging.getLogger(__name__)


class HistoryModel(QObject):
    """See the module docstring."""

    entriesChanged = Signal(list)  # [Entry], newest first: the whole list
    entryAdded = Signal(object)  # Entry, at the front
    entryChanged = Signal(object)  # Entry (pinned or unpinned)
    entryRemoved = Signal(str)  # id
    selectedChanged = Signal(object)  # Entry | None
    usageChanged = Signal(str)  # "12 runs · 8.1 MB"
    limitsChanged = Signal(object)  # Limits
    compareChanged = Signal(object)  # Comparison
    otherChanged = Signal(object)  # Entry: the run Compare puts beside the one shown

    def __init__(self, model: WindowModel, history: History | None = None) -> None:
        super().__init__(model)
        self.model = model
        self.store = history or History()
        self._entries: list[Entry] = []
        self._sizes: dict[str, int] = {}
        self._selected: Entry | None = None
        self._previous: Entry | None = None  # shown before, or chosen: what Compare compares with
        self._chosen = False  # the other run was chosen (Ctrl-click): it stays while others show
        self.comparison: Comparison | None = None
        self._limits = Limits()
        self._job: Any = None
        self.loaded = False

    # ------------------------------------------------------------------ the list
    @property
    def entries(self) -> list[Entry]:
        return list(self._entries)

    @property
    def selected(self) -> Entry | None:
        return self._selected

    @property
    def previous(self) -> Entry | None:
        return self._previous

    @property
    def limits(self) -> Limits:
        return self._limits

    def load(self, *, background: bool = True) -> None:
        """Read the history folder (off the GUI thread unless ``background`` is False)."""

        def scan(_job: Any) -> tuple[Any, Limits]:
            return self.store.scan(), self.store.limits()

        if not background:
            self._loaded(scan(None))
            return
        from nst_desktop.gui.jobs import BackgroundJob

        self._job = BackgroundJob("history-scan", scan, self)
        self._job.succeeded.connect(self._loaded)
        self._job.failed.connect(lambda exc: log.warning("history not read: %s", exc))
        self._job.start()

    def _loaded(self, found: tuple[Any, Limits]) -> None:
        scan, limits = found
        known = {e.id for e in self._entries}  # runs that ended while the list was read
        self._entries = [e for e in self._entries if e.id not in {x.id for x in scan.entries}]
        self._entries = sorted(
            self._entries + scan.entries, key=lambda e: (e.created, e.id), reverse=True
        )
        self._sizes.update(scan.sizes or {})
        self._limits = limits
        self.loaded = True
        self.entriesChanged.emit(self.entries)
        self.limitsChanged.emit(limits)
        self._usage()
        if scan.warnings:
            more = f" (and {len(scan.warnings) - 1} more)" if len(scan.warnings) > 1 else ""
            self.model.show_message(scan.warnings[0] + more, "warning")
        log.debug("history: %d entries listed, %d already known", len(scan.entries), len(known))

    def added(self, entry_id: str) -> None:
        """A run ended as the entry ``entry_id``: it goes to the front; entries the session
        pruned go away."""
        try:
            entry = self.store.get(entry_id)
        except HistoryError as exc:
            log.warning("a new history entry cannot be read: %s", exc)
            return
        self._entries = [e for e in self._entries if e.id != entry.id]
        self._entries.insert(0, entry)
        self._sizes[entry.id] = sum(p.stat().st_size for p in entry.folder.iterdir() if p.is_file())
        self.entryAdded.emit(entry)
        for gone in [e for e in self._entries if not e.folder.is_dir()]:
            self._drop(gone.id)
        self._usage()

    def _drop(self, entry_id: str) -> None:
        self._entries = [e for e in self._entries if e.id != entry_id]
        self._sizes.pop(entry_id, None)
        if self._previous is not None and self._previous.id == entry_id:
            self._previous, self._chosen = None, False
        if self._selected is not None and self._selected.id == entry_id:
            self._selected = None
            self.selectedChanged.emit(None)
        self.entryRemoved.emit(entry_id)

    def _usage(self) -> None:
        total = sum(self._sizes.get(e.id, 0) for e in self._entries)
        self.usageChanged.emit(f"{len(self._entries)} runs · {total / 1e6:.1f} MB")

    def find(self, entry_id: str) -> Entry | None:
        return next((e for e in self._entries if e.id == entry_id), None)

    # ------------------------------------------------------------------ one entry
    def select(self, entry_id: str | None) -> bool:
        """Show an entry: its picture, loss curve and settings (None: deselect)."""
        entry = self.find(entry_id) if entry_id else None
        if entry is None:
            self._selected = None
            self.selectedChanged.emit(None)
            return False
        from nst_desktop.core.images import open_image

        try:
            image = open_image(entry.result).image
        except ImageError as exc:
            self.model.show_message(f"The picture of run {entry.id} cannot be shown: {exc}")
            return False
        import numpy as np

        if self._selected is not None and self._selected.id != entry.id:
            chosen = self._chosen and self._previous is not None and self._previous.id != entry.id
            if not chosen:  # the run shown before becomes the other, unless one was chosen
                self._previous, self._chosen = self._selected, False
        self._selected = entry
        self.selectedChanged.emit(entry)
        self.model.set_picture(self.picture_of(entry, np.asarray(image)))
        return True

    def picture_of(self, entry: Entry, image: Any) -> Picture:
        curve = LossCurve()
        for step, terms in read_curve(entry.folder):
            terms = dict(terms)
            total = terms.pop("loss", None)
            if total is not None:
                curve.points.append((step, total, {k: v for k, v in terms.items() if v > 0}))
        mode = Mode(entry.mode) if entry.mode in MODES else Mode.TRANSFER
        content = entry.content.path if entry.content else None
        source = Source(mode, content, tuple(s.path for s in entry.styles))
        return Picture(
            PictureKind.RESULT,
            image=image,
            status=entry.status,
            source=source,
            stale=source.differs(self.model.source()),
            curve=curve,
            summary=f"{entry.iterations} iterations in {entry.seconds:.1f} s",
            metadata={"settings": entry.settings, "status": entry.status},
            stored=entry.id,
        )

    # ------------------------------------------------------------------ compare
    def set_other(self, entry_id: str) -> bool:
        """Choose the run Compare puts beside the one shown (Ctrl-click, *Compare with…*)."""
        entry = self.find(entry_id)
        if entry is None or (self._selected is not None and entry.id == self._selected.id):
            return False
        self._previous, self._chosen = entry, True
        self.otherChanged.emit(entry)
        return True

    def compare_with_previous(self) -> bool:
        """The other run (chosen, else the one shown before) left, the one shown right."""
        a, b = self._previous, self._selected
        if a is None or b is None:
            self.model.set_status("Ctrl-click a second run to compare it with the one shown.")
            return False
        return self.compare(a, b)

    def compare(self, a: Entry, b: Entry) -> bool:
        """Any two runs: ``a`` left (before), ``b`` right (after), and what differs."""
        from nst_desktop.core.compare import differences, run_labels

        return self._show(compare_files(a.result, run_labels(a, b), b, tuple(differences(a, b))))

    def compare_with_photo(self, entry: Entry | None = None) -> bool:
        """The entry's photo (left) against its result (right); the one shown by default."""
        b = entry or self._selected
        if b is None or b.content is None:
            self.model.set_status("This run was made from no photo.")
            return False
        path = locate(b.content, b.result.parent)
        if path is None:
            self.model.show_message(
                f"The photo {b.content.name} is missing (was {b.content.path})."
            )
            return False
        from nst_desktop.core.compare import photo_labels

        labels = photo_labels(b.content.name, b)
        return self._show(compare_files(Path(path), labels, b, ()))

    def _show(self, comparison: Comparison | str) -> bool:
        if isinstance(comparison, str):
            self.model.show_message(comparison)
            return False
        self.comparison = comparison
        self.compareChanged.emit(comparison)
        return True

    # ------------------------------------------------------------------ settings and inputs
    def use_settings(self, entry: Entry) -> list[str]:
        """Restore the entry's settings and inputs; returns the inputs that could not be
        restored (missing or changed), which a message also names."""
        if self.model.busy:
            self.model.set_status("A run is going; use these settings when it has ended.")
            return []
        from nst_desktop.core.session import settings_from_picture

        try:
            settings, warnings = settings_from_picture(entry.settings, self.model.settings)
        except SettingsError as exc:
            self.model.show_message(f"The settings of run {entry.id} cannot be used: {exc}")
            return []
        found, problems = entry_inputs(entry)
        mode = Mode(entry.mode) if entry.mode in MODES else Mode.TRANSFER
        contents, styles = by_role(entry.inputs, found)
        if mode.uses_content and contents:
            self.model.set_content(contents[0])
        if mode.uses_styles and styles:
            self.model.set_styles(styles)
        self.model.set_mode(mode)
        if len(styles) != len(entry.styles):
            settings = dataclasses.replace(settings, style_blend=[])
        self.model.set_settings(dataclasses.replace(settings, mode=mode))
        if problems or warnings:
            self.model.show_message(
                f"Restored run {entry.id}, except: " + "; ".join(problems + warnings[:3]) + ".",
                "warning",
            )
        else:
            self.model.set_status(f"Restored the settings and pictures of run {entry.id}.")
        return problems

    def restore_picture_inputs(self, path: str) -> list[str]:
        """After "Load settings from image": the pictures it records (``files``), each used
        only where a file at its path or beside the picture has the very content recorded (a
        picture someone sent must not point the program at other files); the others are named."""
        from nst_desktop.core.history_record import parse_inputs
        from nst_desktop.core.images import read_metadata

        meta = read_metadata(path) or {}
        files = parse_inputs(meta.get("files"))
        if not files or self.model.busy:
            return []
        found, missing = verified_inputs(files, Path(path).parent)
        content, styles = by_role(files, found)
        if content:
            self.model.set_content(content[0])
        if styles and len(styles) == sum(f.role == "style" for f in files):
            self.model.set_styles(styles)
        elif styles:
            missing.append("so the styles on screen were kept")
        if missing:
            self.model.show_message(
                f"Loaded the settings of {Path(path).name}; these pictures it was made from are "
                "not on this computer as they were: " + ", ".join(missing[:8]) + ".",
                "warning",
            )
        return missing

    def continue_from(self, entry: Entry) -> None:
        """The entry's settings and inputs, starting from its picture."""
        self.use_settings(entry)
        if not self.model.busy:
            self.model.update_settings(init=str(entry.result))
            self.model.set_status(f"The next run starts from the picture of run {entry.id}.")

    def export(self, entry: Entry, path: str) -> Path | None:
        """Write the entry's picture (with its settings) to ``path``, in its format."""
        from nst_desktop.core.images import open_image, read_metadata, save_image

        try:
            image = open_image(entry.result).image
            saved = save_image(image, path, metadata=read_metadata(entry.result))
        except ImageError as exc:
            self.model.show_message(str(exc))
            return None
        self.model.set_status(f"Exported run {entry.id} to {saved}.")
        return saved

    def set_pinned(self, entry: Entry, pinned: bool) -> None:
        try:
            changed = self.store.set_pinned(entry.id, pinned)
        except (HistoryError, OSError, ValueError) as exc:
            self.model.show_message(f"Could not change run {entry.id}: {exc}")
            return
        self._entries = [changed if e.id == entry.id else e for e in self._entries]
        if self._selected is not None and self._selected.id == entry.id:
            self._selected = changed
        self.entryChanged.emit(changed)

    def delete(self, entry: Entry) -> None:
        try:
            self.store.delete(entry.id)
        except HistoryError as exc:
            self.model.show_message(str(exc))
            return
        self._drop(entry.id)
        self._usage()
        self.model.set_status(f"Deleted run {entry.id} from the history.")

    def set_limit(self, max_entries: int) -> None:
        """Keep at most ``max_entries`` unpinned runs; older ones go now."""
        limits = dataclasses.replace(self._limits, max_entries=max(1, int(max_entries)))
        if limits == self._limits:
            return
        try:
            self.store.set_limits(limits)
            removed = self.store.prune(limits)
        except OSError as exc:
            self.model.show_message(f"Could not save the history limit: {exc}")
            return
        self._limits = limits
        self.limitsChanged.emit(limits)
        for entry_id in removed:
            self._drop(entry_id)
        self._usage()

    def shutdown(self) -> None:
        if self._job is not None:
            self._job.cancel()
