"""Background jobs: one function on a plain thread, cancellable, joined with a bounded wait.

Usage::

    job = BackgroundJob("planner-probe", lambda job: planner.probe("cpu"))
    job.succeeded.connect(on_result)        # the function's return value, in the GUI thread
    job.failed.connect(on_error)            # the exception it raised
    job.progressed.connect(on_progress)     # whatever the function passed to job.report(...)
    job.start()
    job.cancel()                            # the function polls job.cancelled and returns early
    cancel_and_join_all(timeout=5.0)        # at exit: every job still running

The threads are not daemons: torch work must never run on a thread the interpreter may abandon
at exit, so the application cancels and joins every job before it ends (see ``app.main``).
Signals are emitted from the job's thread and delivered, queued, to receivers in the GUI thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

log = logging.getLogger(__name__)

_live: set[BackgroundJob] = set()
_live_lock = threading.Lock()


class BackgroundJob(QObject):
    """See the module docstring; one job runs once."""

    succeeded = Signal(object)  # the work's return value (also after a cancel: it says so)
    failed = Signal(object)  # the exception the work raised
    progressed = Signal(object)
    ended = Signal()  # after succeeded or failed, also when cancelled

    def __init__(
        self, name: str, work: Callable[[BackgroundJob], Any], parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.name = name
        self._work = work
        self._cancel = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> BackgroundJob:
        if self._thread is not None:
            raise RuntimeError(f"the job {self.name} was started already")
        self._thread = threading.Thread(target=self._main, name=self.name, daemon=False)
        with _live_lock:
            _live.add(self)
        self._thread.start()
        return self

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def cancelled(self) -> bool:
        return self._cancel.is_set()

    def report(self, value: Any) -> None:
        """Called by the work function: hands ``value`` to ``progressed`` (GUI thread)."""
        if not self.cancelled:
            self.progressed.emit(value)

    def is_alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def join(self, timeout: float | None = None) -> bool:
        """Wait for the thread; True when it has ended."""
        if self._thread is None:
            return True
        self._thread.join(timeout)
        return not self._thread.is_alive()

    def _main(self) -> None:
        try:
            result = self._work(self)
        except Exception as exc:  # noqa: BLE001 - the job's edge: the owner decides what to say
            log.debug("job %s failed", self.name, exc_info=exc)
            self.failed.emit(exc)
        else:
            self.succeeded.emit(result)
        finally:
            with _live_lock:
                _live.discard(self)
            self.ended.emit()


def running_jobs() -> list[BackgroundJob]:
    with _live_lock:
        return [job for job in _live if job.is_alive()]


def cancel_and_join_all(timeout: float = 10.0) -> list[str]:
    """Cancel every running job and wait up to ``timeout`` seconds in all; the names of those
    still running afterwards (a probe in the middle of one forward pass, say)."""
    jobs = running_jobs()
    for job in jobs:
        job.cancel()
    deadline = time.monotonic() + timeout
    for job in jobs:
        job.join(max(0.0, deadline - time.monotonic()))
    left = [job.name for job in jobs if job.is_alive()]
    if left:
        log.warning("background jobs still running at exit: %s", ", ".join(left))
    return left
