"""Starting, pausing and stopping runs: the window model's settings and inputs into a RunThread.

The controller checks what a run needs (valid settings, the pictures, the engine, the weights),
starts a :class:`~nst_desktop.gui.worker.RunThread` over ``core.session`` and turns what it
reports into the model (``model.runs``). Whatever happens to a run, its last picture stays on
screen and it becomes a history entry (core.history, through core.session).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import QWidget

from nst_desktop.core.failures import Failure, RunStatus
from nst_desktop.core.paths import data_dir
from nst_desktop.core.session import RunResult, SnapshotTarget
from nst_desktop.core.settings import Mode, RunSettings
from nst_desktop.gui import fit_dialog
from nst_desktop.gui.model import Clear, RunState, WindowModel
from nst_desktop.gui.progress import clock
from nst_desktop.gui.worker import RunJob, RunThread, WeightsCache
from nst_desktop.logs import log_file

log = logging.getLogger(__name__)

#: How long closing the window waits for the run to stop (an evaluation of a huge image on a
#: slow CPU can take this long); the thread is told to stop first.
CLOSE_WAIT_MS = 60_000
#: The stem of the window's snapshots: snapshots/<run start>/step_00042.png
SNAPSHOT_STEM = "step"
#: How many kept start pictures (starts_dir) stay on disk.
KEEP_STARTS = 10


def snapshots_dir() -> Path:
    return data_dir() / "snapshots"


def starts_dir() -> Path:
    """Pictures kept for runs to start from (Continue, "Start from: the current picture")."""
    return data_dir() / "start"


class RunController(QObject):
    """See the module docstring."""

    def __init__(
        self,
        model: WindowModel,
        choose_weights: Callable[[str], str | None],
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.model = model
        self.choose_weights = choose_weights  # asks when ImageNet's weights are missing
        self.weights_cache = WeightsCache()
        self.engine_ready = False
        self.thread: RunThread | None = None
        self.recorder: Any = None  # the time-lapse frames of the latest run
        self._pending = False

    # ------------------------------------------------------------------ starting
    def start(self) -> bool:
        """Start a run with the model's settings and inputs; False (and a message) if it can't."""
        model = self.model
        if model.busy:
            model.set_status("A run is already going; stop it first.")
            return False
        problem = model.settings_problem()
        if problem is not None:
            model.show_message(problem, clears={Clear.SETTINGS_VALID, Clear.RUN_STARTS})
            return False
        mode = Mode(model.settings.mode)
        if mode.uses_content and not model.content_path:
            model.show_message(
                "Choose a content image first (click the Content box or drop one).",
                clears={Clear.CONTENT, Clear.RUN_STARTS},
            )
            return False
        if mode.uses_styles and not model.styles:
            model.show_message(
                "Choose at least one style image first (Add style…).",
                clears={Clear.STYLES, Clear.RUN_STARTS},
            )
            return False
        if not self.engine_ready:
            self._pending = True
            model.set_run_state(RunState.RUNNING)  # Stop works from the moment Run is pressed
            model.set_status("The engine is still loading; the run starts as soon as it is ready.")
            return True
        if not self._fits():
            model.set_status("Nothing was started: the run does not fit the free memory.")
            return False
        settings = model.settings
        chosen = self._weights(settings.weights)
        if chosen is None:
            model.set_status("No weights chosen, so nothing was started.")
            return False
        if chosen != settings.weights:
            model.update_settings(weights=chosen)
        regions = model.regions.snapshot()  # painting during the run applies to the next one
        self.begin(RunJob(model.settings, model.content_path, model.styles, regions))
        return True

    def _fits(self) -> bool:
        """Whether to start: the run fits the chosen device's free memory, or the user chose a
        size (the largest that fits, or this one anyway) in :func:`fit_dialog.ask_run_size`."""
        from nst_desktop.core import planner
        from nst_desktop.core.device import DeviceError, resolve_device

        settings = self.model.settings
        try:
            device = str(resolve_device(settings.device))
        except DeviceError:
            return True  # the run says so in its own words
        fit = planner.check_fit(settings, device, self.aspect())
        if fit.fits:
            return True
        parent = self.parent()
        size = fit_dialog.ask_run_size(
            parent if isinstance(parent, QWidget) else None, fit, settings.size
        )
        if size is None:
            return False
        if size != settings.size:
            self.model.update_settings(size=size)
        return True

    def _weights(self, source: str) -> str | None:
        """The weights to use: asks (download, file, untrained) when a published network
        (torchvision's or the Caffe VGG19) is not on this computer yet."""
        from nst_desktop.core.weights import PUBLISHED, published_weights_available

        if source not in PUBLISHED or published_weights_available(source):
            return source
        return self.choose_weights(source)

    def begin(self, job: RunJob) -> None:
        settings: RunSettings = job.settings
        sweep = settings.mode == Mode.SWEEP
        from nst_desktop.core.timelapse import FrameRecorder

        self.recorder = None if sweep else FrameRecorder(every=1, max_frames=300)
        thread = RunThread(job, self.weights_cache, self, recorder=self.recorder)
        self.thread = thread
        if settings.save_every > 0 and not sweep:
            folder = snapshots_dir() / time.strftime("%Y%m%d-%H%M%S")
            thread.snapshots = SnapshotTarget(folder, SNAPSHOT_STEM)
        thread.status.connect(self.model.set_status)
        thread.planned.connect(self._on_planned)
        thread.progress.connect(self._on_progress)
        thread.preview.connect(self._on_preview)
        thread.stageFinished.connect(self._on_stage_finished)
        thread.outcome.connect(self._on_outcome)
        thread.finished.connect(self._on_thread_finished)
        self.model.runs.begin(settings, job.first_step)
        if thread.snapshots is not None:
            self.model.set_status(f"Snapshots go to {thread.snapshots.folder}.")
        thread.start()
        log.info("run started: %s", json.dumps(settings.to_dict()))

    # ------------------------------------------------------------------ continuing
    def keep_current_picture(self) -> Path | None:
        """The picture on screen as a file a run can start from; None when there is none."""
        from nst_desktop.core.images import ImageError, save_image

        picture = self.model.picture
        if not picture.exportable or picture.sweep or picture.image is None:
            return None
        folder = starts_dir()
        try:
            folder.mkdir(parents=True, exist_ok=True)
            name = time.strftime("%Y%m%d-%H%M%S") + f"-run{picture.run}.png"
            path = save_image(picture.image, folder / name, metadata=picture.metadata)
            for old in sorted(folder.glob("*.png"))[:-KEEP_STARTS]:
                old.unlink(missing_ok=True)
        except (ImageError, OSError) as exc:
            self.model.show_message(f"The current picture could not be kept to start from: {exc}")
            return None
        return Path(path)

    def continue_run(self, steps: int) -> bool:
        """``steps`` more iterations from the picture on screen, with the settings it was made
        with (core.session.continuation); its step count goes on."""
        from nst_desktop.core.session import continuation

        model, picture = self.model, self.model.picture
        if model.busy or not picture.continuable:
            model.set_status("There is no ended run of these inputs to continue.")
            return False
        start = self.keep_current_picture()
        if start is None:
            return False
        done = int(picture.metadata.get("iterations", 0))
        made = picture.settings
        blend = made.style_blend or [1.0] * len(picture.source.styles)
        styles = list(zip(picture.source.styles, blend, strict=False))
        settings = continuation(made, start, steps)
        self.begin(RunJob(settings, picture.source.content, styles, first_step=done))
        return True

    def on_engine_ready(self) -> None:
        self.engine_ready = True
        if self._pending:
            self._pending = False
            self.model.set_run_state(RunState.IDLE)
            self.start()

    def on_engine_failed(self) -> None:
        if self._pending:
            self._pending = False
            self.model.set_run_state(RunState.IDLE)

    # ------------------------------------------------------------------ controlling
    def pause_resume(self) -> None:
        if self.thread is None:
            return
        if self.model.run_state == RunState.RUNNING:
            self.thread.pause()
            self.model.set_run_state(RunState.PAUSED)
            self.model.set_status("Paused; press Resume to go on from the same step.")
        elif self.model.run_state == RunState.PAUSED:
            self.thread.resume()
            self.model.set_run_state(RunState.RUNNING)
            self.model.set_status("Running…")

    def stop(self) -> None:
        if self._pending:  # Run was pressed while the engine loaded: nothing starts
            self._pending = False
            self.model.set_run_state(RunState.IDLE)
            self.model.set_status("Stopped before the run began.")
            return
        if self.thread is not None and self.model.run_state in (RunState.RUNNING, RunState.PAUSED):
            self.thread.stop()
            self.model.set_run_state(RunState.STOPPING)
            self.model.set_status("Stopping after this iteration…")

    def shutdown(self) -> None:
        """Stop the run and wait for it (the window is closing); its picture is kept in history."""
        thread = self.thread
        if thread is None:
            return
        thread.stop()
        self.model.set_status("Stopping the run…")
        if not thread.wait(CLOSE_WAIT_MS):  # pragma: no cover - a wedged device
            log.error("the run did not stop within %d ms", CLOSE_WAIT_MS)
        from PySide6.QtCore import QCoreApplication

        QCoreApplication.sendPostedEvents()  # deliver the outcome, queued from the thread
        QCoreApplication.processEvents()

    # ------------------------------------------------------------------ reports
    def _mine(self) -> bool:
        return self.thread is not None and self.sender() is self.thread

    def _on_planned(self, stages: Any) -> None:
        if self._mine():
            self.model.runs.planned(stages)

    def _on_progress(self, p: Any) -> None:
        if self._mine():
            self.model.runs.progress(p)

    def _on_preview(self, image: Any, step: int, stage: int) -> None:
        if self._mine():
            self.model.runs.frame(image, step, stage)

    def _on_stage_finished(self, stage: int, _label: str, image: Any) -> None:
        if self._mine():
            self.model.runs.cell(stage, image)

    def _on_outcome(self, result: RunResult) -> None:
        if self.sender() is not self.thread:
            return
        model = self.model
        model.runs.end(result)
        if result.history_id:
            model.history.added(result.history_id)
        steps = result.iterations
        if result.status == RunStatus.DONE:
            took = clock(model.runs.seconds)
            model.set_status(f"Done: {steps} iterations in {took}. Export to save it.")
        elif result.status == RunStatus.STOPPED:
            model.set_status(f"Stopped at iteration {steps}; the picture is kept — Export it.")
        elif result.unexpected:
            model.show_message(
                "Sorry, something went wrong inside NST Desktop and the run ended; the last "
                f"picture is kept. Details are in {log_file()}."
            )
        else:
            model.show_message(result.message, clears=_clears(result))
            if result.failure == Failure.OUT_OF_MEMORY:
                self._offer_smaller_size()
            elif result.failure == Failure.DEVICE_LOST:
                self._offer("Run again on the CPU", self._rerun_on_cpu)

    def _on_thread_finished(self) -> None:
        thread = self.sender()
        if thread is not self.thread:
            return
        self.thread = None
        self.model.set_run_state(RunState.IDLE)
        thread.deleteLater()

    # ------------------------------------------------------------------ ways forward
    def _offer(self, text: str, action: Callable[[], Any]) -> None:
        message = self.model.message
        if message is not None:
            self.model.show_message(
                message.text, message.kind, action=(text, action), clears=message.clears
            )

    def _offer_smaller_size(self) -> None:
        """After running out of memory: a button to retry at the largest size that fits."""
        from nst_desktop.core import planner
        from nst_desktop.core.device import resolve_device

        s = self.model.settings
        try:
            device = str(resolve_device(s.device))
        except Exception:  # noqa: BLE001 - no offer then; the message already says what to do
            return
        fitting = planner.largest_fitting_size(s, device, self.aspect())
        size = min(fitting, s.size * 3 // 4) // 16 * 16
        if size < 64:
            return

        def retry() -> None:
            self.model.update_settings(size=size)
            self.start()

        self._offer(f"Retry at {size} px", retry)

    def _rerun_on_cpu(self) -> None:
        """After the GPU failed: the same run on the CPU, one click away."""
        self.model.update_settings(device="cpu")
        self.start()

    def aspect(self) -> float:
        """Short over long side of the picture a run will optimize (the content's shape; for a
        texture, unknown here, so the square worst case)."""
        shown = self.model.content
        if shown is None or self.model.settings.mode == Mode.STYLE_REP:
            return 1.0
        return min(shown.width, shown.height) / max(shown.width, shown.height)


def _clears(result: RunResult) -> set[Clear]:
    """A failed run's message holds until the next run, or until the settings that caused it
    change (a smaller size after running out of memory, another device)."""
    if result.failure == Failure.INPUT and result.iterations == 0:
        return {Clear.RUN_STARTS, Clear.SETTINGS_CHANGED, Clear.INPUTS_CHANGED}
    return {Clear.RUN_STARTS, Clear.SETTINGS_CHANGED}
