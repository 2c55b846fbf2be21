"""The run's thread: drives the core generator and reports to the window through queued signals.

The GUI thread never touches tensors: the worker sends plain numbers per evaluation and uint8
copies of the image (throttled to ``PREVIEW_FPS``), which the window turns into QImages.
Stop and pause go through :class:`~nst_desktop.core.optimize.RunControl`, which the generator
checks before every evaluation, so both act within one evaluation.
"""

from __future__ import annotations

import logging
import math
import threading
import time
import weakref
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QThread, Signal

from nst_desktop import __version__
from nst_desktop.core.failures import DEVICE_LOST, OUT_OF_MEMORY

log = logging.getLogger(__name__)

#: Preview images per second the worker asks the generator for (the loss signal is per step).
PREVIEW_FPS = 12.0


class PreviewThrottle:
    """At most one preview per ``interval`` on average, and as close to that rate as the
    iterations allow.

    Keeping the phase (the next frame is due one interval after the last *due* time, not after
    the last frame) matters when iterations come a little faster than the interval: counting from
    the last frame takes every second iteration (measured: 7.5 previews/s at 14.6 it/s, 64 px).
    After a frame that came more than an interval late (slow iterations), the phase restarts with
    the next frame due half an interval later, so a slow stretch buys no burst after it.
    """

    def __init__(self, interval: float) -> None:
        self.interval = interval
        self.due = -math.inf

    def __call__(self, now: float) -> bool:
        if now < self.due:
            return False
        late = now - self.due
        self.due = self.due + self.interval if late < self.interval else now + self.interval / 2
        return True


_live_threads: weakref.WeakSet[QThread] = weakref.WeakSet()


def running_threads() -> list[QThread]:
    """Threads of this module still running (the tests fail when one outlives its test)."""
    alive = []
    for t in list(_live_threads):
        try:
            if t.isRunning():
                alive.append(t)
        except RuntimeError:  # the C++ object is gone (deleteLater): it is not running
            pass
    return alive


@dataclass
class RunJob:
    """Everything one run needs; built in the GUI thread, read-only afterwards."""

    settings: Any  # RunSettings (typed loosely: this module must not import torch at import)
    content: str | None
    styles: list[str]


@dataclass
class Progress:
    """One evaluation, as the window sees it (no image: those come through ``preview``)."""

    step: int
    total: int
    loss: float
    content: float
    style: float
    tv: float
    elapsed: float
    stage: int
    stage_label: str
    stage_done: bool


@dataclass
class Outcome:
    """The end of a run: its status, a one-sentence message and the final image with metadata."""

    status: str  # done | stopped | nonfinite | error | failed (nothing ran)
    message: str
    image: np.ndarray | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    steps: int = 0
    unexpected: bool = False  # a bug, not the user's doing: the window apologizes
    failure: str = ""  # status error/failed: a kind from core.failures


class WeightsCache:
    """Loaded VGG19 features by source, shared by runs so a second run does not reload them."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: dict[str, Any] = {}

    def get(self, source: str, progress: Any = None, cancelled: Any = None) -> Any:
        from nst_desktop.core.weights import load_weights

        with self._lock:
            if source not in self._loaded:
                self._loaded[source] = load_weights(
                    source, progress=progress, cancelled=cancelled, allow_download=False
                )
            return self._loaded[source]

    def clear(self) -> None:
        with self._lock:
            self._loaded.clear()


class RunThread(QThread):
    """One run: create, connect, ``start()``; stop/pause/resume are safe from any thread."""

    status = Signal(str)  # what is happening (loading weights, computing targets, running on ...)
    progress = Signal(object)  # Progress, once per evaluation
    preview = Signal(object, int, int)  # (H x W x 3 uint8, step, stage)
    stageFinished = Signal(int, str, object)  # (stage, label, image) for sweep cells
    outcome = Signal(object)  # Outcome, exactly once, last

    def __init__(self, job: RunJob, weights: WeightsCache, parent: QObject | None = None) -> None:
        super().__init__(parent)
        from nst_desktop.core.optimize import RunControl

        self.job = job
        self.weights = weights
        self.control = RunControl()
        self.preview_interval = 1.0 / PREVIEW_FPS
        #: Where "Snapshot every N" writes (set by the window; None: no snapshots).
        self.snapshot_dir: Path | None = None
        _live_threads.add(self)

    # Control is thread-safe: RunControl uses threading.Event.
    def stop(self) -> None:
        self.control.stop()

    def pause(self) -> None:
        self.control.pause()

    def resume(self) -> None:
        self.control.resume()

    @property
    def paused(self) -> bool:
        return self.control.paused

    def run(self) -> None:  # noqa: D102 - QThread entry point
        try:
            result = self._run()
        except Exception as exc:  # noqa: BLE001 - the thread's edge: every error becomes a message
            result = _failure(exc)
        self.outcome.emit(result)

    def _run(self) -> Outcome:
        import torch

        from nst_desktop.core.device import describe, resolve_device
        from nst_desktop.core.images import load_image
        from nst_desktop.core.optimize import Inputs, run

        settings = self.job.settings.validate()
        if settings.threads > 0:
            torch.set_num_threads(settings.threads)
        device = resolve_device(settings.device)
        self.status.emit("Reading the images…")
        content = load_image(self.job.content) if self.job.content else None
        styles = [load_image(p) for p in self.job.styles]
        uses_content = settings.mode in ("transfer", "content-rep", "sweep")
        uses_style = settings.mode in ("transfer", "style-rep", "sweep")
        inputs = Inputs(content if uses_content else None, styles if uses_style else [])
        self.status.emit("Loading the VGG19 weights…")
        weights = self.weights.get(settings.weights, cancelled=lambda: self.control.stopped)
        if self.control.stopped:
            return Outcome("stopped", "Stopped before the run began.")
        self.status.emit(f"Computing the targets on {describe(device)}…")

        names: dict[str, Any] = {}
        if uses_content and self.job.content:
            names["content"] = Path(self.job.content).name
        if uses_style:
            names["styles"] = [Path(p).name for p in self.job.styles]
        metadata: dict[str, Any] = {
            "version": __version__,
            "settings": settings.to_dict(),
            "inputs": names,
            "weights": weights.label,
            "device": str(device),
        }
        throttle = PreviewThrottle(self.preview_interval)
        every = settings.save_every if settings.mode != "sweep" else 0

        def want_image(step: int) -> bool:
            return throttle(time.monotonic()) or (bool(every) and step % every == 0)

        running = f"Running on {describe(device)}"
        if not weights.trained:
            running += " with untrained random weights (no real style)"
        announced = False
        final = None
        for rec in run(
            settings, inputs, weights.features, device, control=self.control, want_image=want_image
        ):
            if not announced:
                self.status.emit(running + "…")
                announced = True
            self.progress.emit(
                Progress(
                    rec.step,
                    rec.total,
                    rec.loss,
                    rec.content,
                    rec.style,
                    rec.tv,
                    rec.elapsed,
                    rec.stage,
                    rec.stage_label,
                    rec.stage_done,
                )
            )
            if rec.image is not None:
                self.preview.emit(rec.image, rec.step, rec.stage)
                if every and rec.step % every == 0 and not rec.final:
                    self._snapshot(rec.image, rec.step, metadata)
            if rec.stage_done:
                self.stageFinished.emit(rec.stage, rec.stage_label, rec.image)
            if rec.final:
                final = rec
        assert final is not None
        metadata["status"] = final.status
        metadata["iterations"] = final.step
        if final.error is not None:
            log.error("run failed: %s", final.message, exc_info=final.error)
        message = final.message or ("Done." if final.status == "done" else "")
        return Outcome(
            final.status, message, final.image, metadata, final.step, failure=final.failure
        )

    def _snapshot(self, image: np.ndarray, step: int, metadata: dict[str, Any]) -> None:
        """Every Nth iteration to the snapshots folder; a failed save is told once, not fatal."""
        from nst_desktop.core.images import ImageError, save_image

        if self.snapshot_dir is None:
            return
        try:
            self.snapshot_dir.mkdir(parents=True, exist_ok=True)
            save_image(image, self.snapshot_dir / f"step_{step:05d}.png", metadata=metadata)
        except (ImageError, OSError) as exc:
            self.status.emit(f"Snapshots stopped: {exc}")
            self.snapshot_dir = None


def _failure(exc: Exception) -> Outcome:
    """An error before or around the run: the user's (one sentence) or a bug (logged, apology)."""
    from nst_desktop.core.images import ImageError
    from nst_desktop.core.settings import SettingsError

    user_errors: tuple[type[Exception], ...] = (ImageError, SettingsError)
    try:
        from nst_desktop.core.device import DeviceError
        from nst_desktop.core.weights import WeightsError

        user_errors += (DeviceError, WeightsError)
    except ImportError:  # pragma: no cover - torch missing entirely
        pass
    if isinstance(exc, user_errors):
        return Outcome("failed", str(exc))
    if isinstance(exc, RuntimeError | MemoryError):
        from nst_desktop.core.optimize import failure_kind, runtime_message

        kind = failure_kind(exc)
        if kind == OUT_OF_MEMORY and isinstance(exc, MemoryError):
            return Outcome(
                "failed",
                "The computer ran out of memory; lower the size or choose Adam instead of L-BFGS.",
                failure=kind,
            )
        if kind in (OUT_OF_MEMORY, DEVICE_LOST):  # e.g. moving the network to a GPU that is gone
            return Outcome("failed", runtime_message(exc, kept=None), failure=kind)
    log.exception("unexpected error in the run thread")
    return Outcome("failed", f"{type(exc).__name__}: {exc}", unexpected=True)


class EngineLoader(QObject):
    """Imports torch and the engine in a plain thread so the window shows at once (~2 s saved)."""

    ready = Signal(object)  # list of (device value, label)
    failed = Signal(str)

    def start(self) -> threading.Thread:
        thread = threading.Thread(target=self._load, name="engine-loader", daemon=True)
        thread.start()
        return thread

    def _load(self) -> None:
        try:
            from nst_desktop.core import optimize  # noqa: F401 - the import is the point
            from nst_desktop.core.device import available_devices

            devices = available_devices()
        except Exception as exc:  # noqa: BLE001 - reported in the window, logged in full
            log.exception("the engine could not be loaded")
            self.failed.emit(
                f"The computation engine (PyTorch) could not be loaded ({exc}); reinstall the app."
            )
            return
        self.ready.emit(devices)


class PlannerProbe(QObject):
    """Calibrates the time estimate with a short forward+backward probe, off the GUI thread."""

    done = Signal(str, object)  # (device, Calibration or None)

    def start(self, device: str) -> threading.Thread:
        thread = threading.Thread(
            target=self._probe, args=(device,), name="planner-probe", daemon=True
        )
        thread.start()
        return thread

    def _probe(self, device: str) -> None:
        try:
            from nst_desktop.core import planner
            from nst_desktop.core.device import resolve_device

            resolved = str(resolve_device(device))
            calibration = planner.probe(resolved)
        except Exception:  # noqa: BLE001 - no estimate is better than a broken window
            log.exception("planner probe failed")
            self.done.emit(device, None)
            return
        self.done.emit(device, calibration)
