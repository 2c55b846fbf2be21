"""The window model's queue (``model.queue``): runs waiting their turn, saved as they change.

*Queue* adds a run with the settings and inputs on screen; while the queue is going, each time a
run ends the next one's settings and inputs are put on screen and it starts (so the window always
shows what is running). The list can be reordered and cancelled, and survives a restart (it then
waits for *Run queue*).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, QTimer, Signal

from nst_desktop.core.run_queue import MAX_QUEUED, QueuedRun, load_queue, save_queue
from nst_desktop.core.settings import RunSettings, SettingsError

if TYPE_CHECKING:
    from nst_desktop.gui.model import WindowModel

log = logging.getLogger(__name__)


class QueueModel(QObject):
    """See the module docstring; ``start`` is the run controller's start (set by the window)."""

    queueChanged = Signal(list)  # [QueuedRun]
    selectedChanged = Signal(object)  # id | None
    goingChanged = Signal(bool)
    runStarted = Signal(str)  # the id of the queued run about to start

    def __init__(self, model: WindowModel) -> None:
        super().__init__(model)
        self.model = model
        self.start: Callable[[], bool] | None = None
        self._runs: list[QueuedRun] = []
        self._selected: str | None = None
        self._going = False
        self.started: list[str] = []  # ids started from the queue, in order (tests, status)
        model.runStateChanged.connect(self._run_state)

    @property
    def runs(self) -> list[QueuedRun]:
        return list(self._runs)

    @property
    def selected(self) -> str | None:
        return self._selected

    @property
    def going(self) -> bool:
        return self._going

    def load(self) -> None:
        self._runs, warnings = load_queue()
        self.queueChanged.emit(self.runs)
        if warnings:
            self.model.show_message(warnings[0], "warning")
        elif self._runs:
            self.model.set_status(
                f"{len(self._runs)} run(s) wait in the queue; Run queue starts them."
            )

    # ------------------------------------------------------------------ editing
    def add_current(self, label: str = "", **overrides: Any) -> bool:
        """Queue the settings and inputs on screen (``overrides``: settings fields)."""
        return bool(self.add_many([(label, self.model.content_path, overrides)]))

    def add_many(self, items: Sequence[tuple[str, str | None, dict[str, Any]]]) -> list[str]:
        """Queue (label, photo, settings overrides) runs with the styles on screen; the queue
        starts when nothing runs. The new runs' ids (none when one could not be queued)."""
        import dataclasses

        if len(self._runs) + len(items) > MAX_QUEUED:
            self.model.show_message(f"The queue holds at most {MAX_QUEUED} runs.")
            return []
        new = []
        for label, content, overrides in items:
            try:
                settings = dataclasses.replace(self.model.settings, **overrides).validate()
            except (SettingsError, TypeError) as exc:
                self.model.show_message(f"Not queued: {exc}")
                return []
            new.append(QueuedRun(uuid.uuid4().hex[:12], settings.to_dict(), content,
                                 tuple(self.model.styles), label))  # fmt: skip
        self._runs += new
        self._changed()
        self._set_going(True)
        if not self.model.busy:
            self._next()
        else:
            self.model.set_status(f"Queued; {len(self._runs)} run(s) wait for this one to end.")
        return [r.id for r in new]

    def select(self, run_id: str | None) -> None:
        if run_id != self._selected:
            self._selected = run_id
            self.selectedChanged.emit(run_id)

    def move(self, run_id: str, delta: int) -> None:
        i = next((k for k, r in enumerate(self._runs) if r.id == run_id), None)
        if i is None or not 0 <= i + delta < len(self._runs):
            return
        self._runs.insert(i + delta, self._runs.pop(i))
        self._changed()

    def cancel(self, run_id: str) -> None:
        self._runs = [r for r in self._runs if r.id != run_id]
        if self._selected == run_id:
            self.select(None)
        self._changed()

    def clear(self) -> None:
        self._runs = []
        self.select(None)
        self._changed()
        self._set_going(False)

    def run_queue(self) -> None:
        """Start the queue (after a restart it waits for this)."""
        self._set_going(bool(self._runs))
        if not self.model.busy:
            self._next()

    # ------------------------------------------------------------------ running
    def _run_state(self, state: Any) -> None:
        if state == "idle" and self._going:
            QTimer.singleShot(0, self._next)  # after the window has taken in the outcome

    def _next(self) -> None:
        if self.model.busy or not self._going:
            return
        if not self._runs:
            self._set_going(False)
            return
        run = self._runs.pop(0)
        self._changed()
        if not self._put_on_screen(run):
            QTimer.singleShot(0, self._next)
            return
        self.started.append(run.id)
        self.runStarted.emit(run.id)
        if self.start is None or not self.start():
            self._set_going(False)  # the controller said why (no photo, bad settings...)

    def _put_on_screen(self, run: QueuedRun) -> bool:
        try:
            settings, _ = RunSettings.from_dict(
                run.settings, base=self.model.settings, strict=False
            )
        except SettingsError as exc:
            self.model.show_message(f"A queued run was skipped: {exc}")
            return False
        if run.content is not None and not self.model.set_content(run.content):
            return False
        self.model.set_styles(run.styles)
        self.model.set_settings(settings)
        return True

    def _changed(self) -> None:
        try:
            save_queue(self._runs)
        except OSError as exc:
            log.warning("the queue was not saved: %s", exc)
        self.queueChanged.emit(self.runs)

    def _set_going(self, going: bool) -> None:
        if going != self._going:
            self._going = going
            self.goingChanged.emit(going)
