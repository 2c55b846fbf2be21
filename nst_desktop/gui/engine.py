"""The engine behind the window: torch is imported, and the estimate calibrated, in background jobs.

Usage::

    loader = EngineLoader()
    loader.ready.connect(on_ready)      # [(device value, label), ...]
    loader.failed.connect(on_failed)    # one sentence
    loader.start()

    probe = PlannerProbe()
    probe.done.connect(on_calibrated)   # (device, Calibration or None)
    probe.start("cpu")
"""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QObject, Signal

from nst_desktop.gui.jobs import BackgroundJob

log = logging.getLogger(__name__)


class EngineLoader(QObject):
    """Imports torch and the engine off the GUI thread, so the window shows at once (~2 s saved)."""

    ready = Signal(object)  # list of (device value, label)
    failed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.job: BackgroundJob | None = None

    def start(self) -> BackgroundJob:
        self.job = BackgroundJob("engine-loader", _load_engine)
        self.job.succeeded.connect(self._succeeded)
        self.job.failed.connect(self._failed)
        return self.job.start()

    def _succeeded(self, devices: Any) -> None:
        self.ready.emit(devices)

    def _failed(self, exc: Any) -> None:
        log.error("the engine could not be loaded", exc_info=exc)
        self.failed.emit(
            f"The computation engine (PyTorch) could not be loaded ({exc}); reinstall the app."
        )


def _load_engine(job: BackgroundJob) -> list[tuple[str, str]]:
    from nst_desktop.core import optimize  # noqa: F401 - the import is the point
    from nst_desktop.core.device import available_devices

    return available_devices()


class PlannerProbe(QObject):
    """Calibrates the time estimate with a short forward+backward probe, off the GUI thread."""

    done = Signal(str, object)  # (device, Calibration or None)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.jobs: list[BackgroundJob] = []

    def start(self, device: str) -> BackgroundJob:
        job = BackgroundJob("planner-probe", lambda job: _probe(device, job))
        job.device = device  # type: ignore[attr-defined] - read back in the slots
        job.succeeded.connect(self._succeeded)  # slots of this QObject: delivered in its thread
        job.failed.connect(self._failed)
        job.ended.connect(self._ended)
        self.jobs.append(job)
        return job.start()

    def _succeeded(self, calibration: Any) -> None:
        self.done.emit(self.sender().device, calibration)

    def _failed(self, exc: Any) -> None:
        from nst_desktop.core.planner import ProbeCancelled

        if not isinstance(exc, ProbeCancelled):  # no estimate beats a broken window
            log.error("planner probe failed", exc_info=exc)
        self.done.emit(self.sender().device, None)

    def _ended(self) -> None:
        job = self.sender()
        if job in self.jobs:
            self.jobs.remove(job)


def _probe(device: str, job: BackgroundJob) -> Any:
    """The planner's calibration, then (once per machine, cached) 'auto' precision's probe,
    so a run in the window finds the precision decided instead of measuring it first."""
    from nst_desktop.core import planner, precision
    from nst_desktop.core.device import resolve_device

    resolved = resolve_device(device)
    calibration = planner.probe(str(resolved), cancelled=lambda: job.cancelled)
    if not job.cancelled:  # a closing window does not wait for a measurement it will not use
        precision.choose("auto", resolved)
    return calibration
