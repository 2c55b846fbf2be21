"""The window model's contact sheets (``model.variations``): one look over one knob, each cell
a queued run.

*Variations…* puts one run per value into the queue (core.variations makes the settings); as
each of them ends, the history entry it became is noted; when none of them waits or runs any
more, the labelled sheet is drawn from those entries (core.variations.contact_sheet, the drawing
the CLI uses) and shown, and it can be exported. A cell whose run made no picture (cancelled,
failed) is an empty box.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from nst_desktop.core.images import ImageError, open_image, save_image
from nst_desktop.core.variations import Cell, contact_sheet

if TYPE_CHECKING:
    from nst_desktop.gui.model import WindowModel

log = logging.getLogger(__name__)


@dataclass
class Sheet:
    """One contact sheet: its knob, its cells (label, queued run id) and what they became."""

    knob: str
    cells: list[tuple[str, str]]
    entries: dict[str, str] = field(default_factory=dict)  # queued run id -> history entry id
    image: Any = None  # PIL image, once every cell has ended

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.cells]


class VariationsModel(QObject):
    """See the module docstring."""

    sheetReady = Signal(object)  # Sheet, with its image

    def __init__(self, model: WindowModel) -> None:
        super().__init__(model)
        self.model = model
        self.pending: Sheet | None = None  # the sheet whose cells are queued or running
        self.sheet: Sheet | None = None  # the last sheet drawn
        self._current: str | None = None  # the queued run of the pending sheet now running
        model.queue.runStarted.connect(self._started)
        model.queue.queueChanged.connect(lambda _runs: self._later())
        model.history.entryAdded.connect(self._entry_added)
        model.runStateChanged.connect(lambda _state: self._later())

    def start(self, knob: str, cells: list[Cell]) -> bool:
        """Queue one run per cell with the photo and styles on screen."""
        if self.pending is not None:
            self.model.show_message(
                "A contact sheet is still being made; wait for it, or clear the queue."
            )
            return False
        content = self.model.content_path
        ids = self.model.queue.add_many(
            [(c.label, content, c.settings.to_dict() | {"mode": c.settings.mode}) for c in cells]
        )
        if not ids:
            return False
        self.pending = Sheet(knob, list(zip([c.label for c in cells], ids, strict=True)))
        started = self.model.queue.started
        if self.model.busy and started and started[-1] in ids:  # the first began at once
            self._current = started[-1]
        self.model.set_status(f"{len(ids)} variations queued; the sheet shows when they end.")
        return True

    def _started(self, run_id: str) -> None:
        mine = self.pending is not None and any(i == run_id for _, i in self.pending.cells)
        self._current = run_id if mine else None

    def _entry_added(self, entry: Any) -> None:
        if self.pending is not None and self._current is not None:
            self.pending.entries[self._current] = entry.id
            self._current = None

    def _later(self) -> None:
        QTimer.singleShot(0, self._check)  # once the run's end and the queue's next are done

    def _check(self) -> None:
        sheet = self.pending
        if sheet is None:
            return
        if self._current is not None and not self.model.busy:
            self._current = None  # it ended without a picture
        waiting = {r.id for r in self.model.queue.runs}
        if self._current is not None or any(i in waiting for _, i in sheet.cells):
            return
        self.pending = None
        sheet.image = contact_sheet(sheet.knob, [(label, self._picture(sheet.entries.get(i)))
                                                 for label, i in sheet.cells])  # fmt: skip
        self.sheet = sheet
        done = len(sheet.entries)
        self.model.set_status(f"Contact sheet over {sheet.knob}: {done} of "
                              f"{len(sheet.cells)} cells made a picture.")  # fmt: skip
        self.sheetReady.emit(sheet)

    def _picture(self, entry_id: str | None) -> Any:
        entry = self.model.history.find(entry_id) if entry_id else None
        if entry is None:
            return None
        import numpy as np

        try:
            return np.asarray(open_image(entry.result).image)
        except ImageError as exc:
            log.warning("a variation's picture cannot be read: %s", exc)
            return None

    def export(self, path: str) -> Path | None:
        """Write the last sheet to ``path`` (its format by extension)."""
        if self.sheet is None or self.sheet.image is None:
            self.model.set_status("There is no contact sheet yet.")
            return None
        try:
            saved = save_image(self.sheet.image, path, metadata={"variations": self.sheet.knob})
        except ImageError as exc:
            self.model.show_message(str(exc))
            return None
        self.model.set_status(f"Exported the contact sheet to {saved}.")
        return saved
