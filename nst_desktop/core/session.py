"""One run from settings and inputs: the CLI and the window both run through this module.

A :class:`RunSession` loads and checks the pictures, resolves the device, gets the weights from
its provider, names the snapshots, builds the metadata and yields the core generator's records.
When the records end, :attr:`RunSession.result` says how the run ended, with its picture. Every
run, however it ends, passes through :meth:`RunSession._finish`: the one place a finished run is
handed on; a run that made a picture becomes a history entry there (core.history).

torch is imported only when a run starts, so the window can use the helpers here early.
"""

from __future__ import annotations

import dataclasses
import logging
import math
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .. import __version__
from .failures import COMPUTATION, Failure, RunStatus
from .history_record import CurveSampler
from .images import ImageError
from .memguard import MemoryGuardError
from .regions import Regions, encode_regions
from .settings import INIT_CHOICES, MACHINE_KNOBS, MODES, Mode, RunSettings, SettingsError
from .stages import Stage, plan, sweep_rows

if TYPE_CHECKING:
    from .memguard import MemoryGuard
    from .optimize import RunControl, StepRecord
    from .tiles import TilePlan
    from .timelapse import FrameRecorder
    from .weights import LoadedWeights

log = logging.getLogger(__name__)

#: (weights source, weights format, is the run stopped?) -> the loaded weights; the window
#: passes its cache.
WeightsProvider = Callable[[str, str, Callable[[], bool]], "LoadedWeights"]
#: The resolved torch device -> the memory guard of a run on it (None: no guard).
GuardFactory = Callable[[Any], "MemoryGuard | None"]


class Phase(StrEnum):
    """What a session tells its front end besides the records."""

    READING = "reading"  # loading the pictures
    WEIGHTS = "weights"  # loading (or downloading) the network
    TARGETS = "targets"  # computing the targets on the device
    RUNNING = "running"  # the first evaluation is done
    NOTE = "note"  # something worth knowing about the result (a tiny photo, untrained weights)
    WARNING = "warning"  # something went wrong that does not end the run (a snapshot)


@dataclass(frozen=True)
class Event:
    phase: Phase
    text: str


@dataclass(frozen=True)
class StyleInput:
    path: Path
    weight: float = 1.0


@dataclass(frozen=True)
class RunInputs:
    """The pictures a run is made from; each style carries its blend weight."""

    content: Path | None = None
    styles: tuple[StyleInput, ...] = ()
    regions: Regions | None = None  # the styles' regions of the content picture (transfer only)

    @classmethod
    def of(cls, content: Any, styles: Iterable[tuple[Any, float]] = ()) -> RunInputs:
        path = Path(content) if content else None
        return cls(path, tuple(StyleInput(Path(p), float(w)) for p, w in styles))

    @classmethod
    def with_blend(cls, content: Any, styles: Sequence[Any], blend: Sequence[float]) -> RunInputs:
        """Paths plus a settings-style blend list ([] means equal); its length is checked."""
        if blend:
            RunSettings(style_blend=list(blend)).style_blend_for(len(styles))
        weights = list(blend) or [1.0] * len(styles)
        return cls.of(content, zip(styles, weights, strict=True))

    def for_mode(self, mode: Mode) -> RunInputs:
        """Only the pictures ``mode`` uses (a texture needs no photo, a content study no style)."""
        return RunInputs(
            self.content if mode.uses_content else None,
            self.styles if mode.uses_styles else (),
            self.regions if mode == Mode.TRANSFER and self.regions else None,
        )

    def names(self) -> dict[str, Any]:
        """The file names recorded in a result's metadata."""
        out: dict[str, Any] = {}
        if self.content is not None:
            out["content"] = self.content.name
        if self.styles:
            out["styles"] = [s.path.name for s in self.styles]
        return out

    def blend(self) -> list[float]:
        """The settings' ``style_blend`` for these weights ([] when all are equal to 1)."""
        weights = [s.weight for s in self.styles]
        return [] if all(w == 1.0 for w in weights) else weights


@dataclass(frozen=True)
class SnapshotTarget:
    """Where "Snapshot every N" writes: ``folder/stem_00042.suffix``, one scheme everywhere."""

    folder: Path
    stem: str
    suffix: str = ".png"

    @classmethod
    def beside(cls, output: Path) -> SnapshotTarget:
        return cls(output.parent, output.stem, output.suffix)

    def path(self, step: int) -> Path:
        return self.folder / f"{self.stem}_{step:05d}{self.suffix}"


@dataclass
class ImagePolicy:
    """Which evaluations hand back a picture besides the snapshots and the last one."""

    preview: Callable[[int], bool] | None = None  # e.g. the window's frame-rate throttle
    timelapse: FrameRecorder | None = None  # keeps the frames it wants, and the final picture


@dataclass
class RunResult:
    """How a run ended: plain data for any thread, with the picture a user keeps."""

    status: RunStatus
    message: str = ""
    failure: Failure | None = None
    image: np.ndarray | None = None  # the picture (a sweep: its labelled grid)
    metadata: dict[str, Any] = field(default_factory=dict)
    iterations: int = 0
    unexpected: bool = False  # a bug, not the user's doing: front ends apologize
    cells: list[np.ndarray | None] = field(default_factory=list)  # a sweep's cells, plan order
    error: BaseException | None = field(default=None, repr=False)
    history_id: str = ""  # the history entry it became ("": none)


@dataclass(frozen=True)
class FailureReport:
    kind: Failure
    message: str
    unexpected: bool = False


def classify_failure(exc: BaseException, *, cli: bool = False) -> FailureReport:
    """One sentence and a kind for an exception that ended a run, or came before it.

    ``cli`` names the command line's options in the remedy ("--size") instead of the window's
    controls. A kind of COMPUTATION with ``unexpected`` is a bug: log it, apologize.
    """
    if isinstance(exc, _user_errors()):
        return FailureReport(Failure.INPUT, str(exc))
    if isinstance(exc, MemoryGuardError):
        return FailureReport(Failure.OUT_OF_MEMORY, exc.sentence(" before the run began", cli=cli))
    if isinstance(exc, MemoryError):
        remedy = (
            "lower --size or use --optimizer adam"
            if cli
            else "lower the size or choose Adam instead of L-BFGS"
        )
        return FailureReport(
            Failure.OUT_OF_MEMORY, f"The computer ran out of memory; {remedy}.", False
        )
    if isinstance(exc, RuntimeError) and "torch" in sys.modules:
        from .optimize import failure_kind, runtime_message

        kind = failure_kind(exc)
        if kind != COMPUTATION:  # out of memory, or a device that is gone
            return FailureReport(Failure(kind), runtime_message(exc, kept=None))
    return FailureReport(Failure.COMPUTATION, f"{type(exc).__name__}: {exc}", True)


def _user_errors() -> tuple[type[BaseException], ...]:
    """The exception types that mean "the input is wrong", from the modules loaded so far (an
    exception of a module never imported cannot have been raised)."""
    found: list[type[BaseException]] = [ImageError, SettingsError]
    for module, name in (
        ("nst_desktop.core.device", "DeviceError"),
        ("nst_desktop.core.weights", "WeightsError"),
        ("nst_desktop.core.presets", "PresetError"),
    ):
        loaded = sys.modules.get(module)
        if loaded is not None:
            found.append(getattr(loaded, name))
    return tuple(found)


def build_metadata(
    settings: RunSettings,
    inputs: RunInputs,
    *,
    weights: str | None,
    device: str | None,
    engine: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """What a picture remembers of how it was made (status, iterations and loss come at the end).

    ``engine`` is what the run actually used where a setting leaves it open: the precision
    (and why), the CPU thread count (L-BFGS's pixels depend on it).
    """
    meta: dict[str, Any] = {
        "version": __version__,
        "settings": settings.to_dict(),
        "inputs": inputs.names(),
    }
    if inputs.regions:
        meta["regions"] = encode_regions(inputs.regions)
    if weights is not None:
        meta["weights"] = weights
    if device is not None:
        meta["device"] = device
    meta.update(engine or {})
    return meta


def threads_note(embedded: dict[str, Any], threads_here: int) -> str | None:
    """A warning when a picture was made with another CPU thread count than this run will use."""
    made = embedded.get("threads")
    device = str(embedded.get("device", "cpu"))
    if not isinstance(made, int) or isinstance(made, bool) or not device.startswith("cpu"):
        return None
    if made == threads_here:
        return None
    return (
        f"it was made with {made} CPU threads and this computer uses {threads_here}, so the "
        "pixels can differ slightly from the picture's"
    )


def threads_in_use(setting: int) -> int:
    """The CPU thread count a run with the ``threads`` setting computes with."""
    from .device import AUTO_THREADS

    return setting if setting > 0 else AUTO_THREADS


def settings_from_picture(
    embedded: dict[str, Any], base: RunSettings
) -> tuple[RunSettings, list[str]]:
    """The settings a picture may set, over ``base``; returns them and warnings.

    The one rule for ``--settings-from`` and the window's "Load settings from image": the mode
    stays ``base``'s (the command's or the window's); the device, threads and weights belong to
    this computer and are never taken; a start picture is taken only as noise, content or style,
    since a file path in a picture someone sent must not point this program at local files.
    """
    data = {k: v for k, v in embedded.items() if k != "mode" and k not in MACHINE_KNOBS}
    warnings = []
    init = data.get("init")
    if isinstance(init, str) and init not in INIT_CHOICES and 0 < len(init) <= 4096:
        del data["init"]
        warnings.append(
            f"its start picture ({Path(init).name[:60]}) was not used: a picture may not point "
            "at files on this computer; choose a start picture yourself"
        )
    elif init in ("content", "style") and base.mode in MODES and Mode(base.mode).is_study:
        del data["init"]  # this mode starts from noise or a file
    settings, found = RunSettings.from_dict(data, base=base, strict=False)
    return settings, warnings + found


def continuation(settings: RunSettings, picture: Path | str, steps: int) -> RunSettings:
    """The settings that go on from ``picture`` (a run's result) for ``steps`` more evaluations:
    the same settings, starting from that picture, at its full size only (no coarse scales).

    Pass the finished run's iteration count as ``RunSession(first_step=...)`` so the steps count
    on. L-BFGS starts with an empty history: the curvature pairs of the first run are not kept,
    so its first few steps are close to gradient steps. The CLI does the same with
    ``--init result.png --settings-from result.png --scales 1 --steps N``.
    """
    return dataclasses.replace(settings, init=str(picture), steps=int(steps), scales=1)


@dataclass
class _Prepared:
    settings: RunSettings
    engine_inputs: Any  # optimize.Inputs
    features: Any  # nn.Sequential
    device: Any  # torch.device
    trained: bool
    channels_last: bool = False  # the network's layout, decided with the precision


class RunSession:
    """See the module docstring. Iterate :meth:`records` once; then read :attr:`result`."""

    def __init__(
        self,
        settings: RunSettings,
        inputs: RunInputs,
        *,
        weights: WeightsProvider,
        control: RunControl | None = None,
        images: ImagePolicy | None = None,
        snapshots: SnapshotTarget | None = None,
        on_event: Callable[[Event], None] | None = None,
        on_finished: Sequence[Callable[[RunResult], None]] = (),
        cli: bool = False,
        memory_guard: GuardFactory | None = None,
        history: bool = True,
        first_step: int = 0,
    ) -> None:
        self.mode = Mode(settings.mode) if settings.mode in MODES else Mode.TRANSFER
        self.inputs = inputs.for_mode(self.mode)
        self.settings = dataclasses.replace(settings, style_blend=self._blend(settings))
        self.stages: list[Stage] = plan(self.settings)
        self.tile_plan: TilePlan | None = None  # set when the picture is made in tiles
        self.weights = weights
        self.control = control if control is not None else _new_control()
        self.images = images or ImagePolicy()
        self.snapshots = snapshots if self.mode != Mode.SWEEP else None
        self.on_event = on_event or (lambda event: None)
        self.on_finished = list(on_finished)
        self.cli = cli
        self.memory_guard = memory_guard or default_guard
        self.guard: MemoryGuard | None = None  # this run's, once the device is known
        #: Evaluations done before this run (a continuation): its records count on from there.
        self.first_step = max(0, int(first_step))
        self.result: RunResult | None = None
        self.device: Any = None
        self.precision: Any = None  # precision.Choice, once the run is prepared
        self.metadata = build_metadata(self.settings, self.inputs, weights=None, device=None)
        self._last: StepRecord | None = None  # the latest record with a picture
        self._step = 0
        self._cells: list[np.ndarray | None] = [None] * len(self.stages)
        self._weights_label = ""
        self.peak_rss = 0  # the process's peak resident memory, as the guard saw it
        self.keep_history = history  # a run that made a picture becomes a history entry
        self.curve = CurveSampler()
        self._elapsed = 0.0

    def _blend(self, settings: RunSettings) -> list[float]:
        return self.inputs.blend() if self.mode.uses_styles else list(settings.style_blend)

    # ------------------------------------------------------------------ the run
    def records(self) -> Iterator[StepRecord]:
        """The core generator's records; errors become :attr:`result`, never an exception."""
        try:
            try:
                prepared = self._prepare()
            except Exception as exc:  # noqa: BLE001 - the session's edge: every error is a result
                self._fail(exc)
                return
            try:
                yield from self._run(prepared)
            except Exception as exc:  # noqa: BLE001
                self._fail(exc)
        finally:
            self._close_guard()

    def _prepare(self) -> _Prepared:
        settings = self.settings.validate()
        if self.mode.uses_styles:
            settings.style_blend_for(len(self.inputs.styles))
        import torch  # noqa: F401 - the thread count must reach torch before any torch work

        from . import optimize
        from .device import resolve_device
        from .inputs import load_run_images
        from .precision import choose as choose_precision

        torch.set_num_threads(threads_in_use(settings.threads))
        self.device = resolve_device(settings.device)
        self._start_guard()
        self.precision = choose_precision(settings.precision, self.device)
        self._event(Phase.READING, "Reading the images…")
        images = load_run_images(
            settings, self.inputs.content, [s.path for s in self.inputs.styles]
        )  # each no larger than the run needs, all within one memory budget
        self.control.check()
        content, styles = images.content, images.styles
        regions = self.inputs.regions
        if regions:
            regions.check(len(styles))
        notes = images.notes + (regions.notes(len(styles)) if regions else [])
        for note in notes:
            self._event(Phase.NOTE, note)
        self._note_small_pictures(content, styles)
        self._event(Phase.WEIGHTS, "Loading the VGG19 weights…")
        loaded = self.weights(
            settings.weights, settings.weights_format, lambda: self.control.stopped
        )
        self._weights_label = loaded.label
        self.control.check()
        if not loaded.trained:
            self._event(Phase.NOTE, f"using {loaded.label} weights; results show no real style.")
        engine = {
            "precision": self.precision.precision,
            "precision_reason": self.precision.reason,
            "memory_format": self.precision.memory_format,
            "threads": torch.get_num_threads(),
        }
        self.metadata = build_metadata(
            settings, self.inputs, weights=loaded.label, device=str(self.device), engine=engine
        )
        engine_inputs = optimize.Inputs(content, styles, regions)
        # The engine gets the precision decided here: 'auto' is resolved by measurement.
        engine_settings = dataclasses.replace(settings, precision=self.precision.precision)
        prepared = _Prepared(
            engine_settings, engine_inputs, loaded.features, self.device, loaded.trained,
            self.precision.channels_last,
        )  # fmt: skip
        self._plan_tiles(prepared)
        self._event(Phase.TARGETS, f"Computing the targets on {self.where()}…")
        return prepared

    def where(self) -> str:
        """The device, precision and layout, with why: "CPU (2 threads) in float32 (bfloat16 …)"."""
        from .device import describe

        if self.device is None:
            return ""
        text = describe(self.device)
        if self.precision is not None:
            text += f" in {self.precision.mode} ({self.precision.reason})"
        return text

    def _plan_tiles(self, p: _Prepared) -> None:
        """A picture that does not fit under the memory ceiling is made in tiles: plan it and say
        so (the plan's stages replace the settings' in :attr:`stages`)."""
        from .planner import probe
        from .tiles import ceiling_bytes, plan_tiles

        shaped_by = p.engine_inputs.content
        if self.mode == Mode.STYLE_REP and p.engine_inputs.styles:
            shaped_by = p.engine_inputs.styles[0]
        if shaped_by is None:
            return
        ceiling = ceiling_bytes(p.settings, str(p.device))
        tiles = plan_tiles(p.settings, shaped_by.size, ceiling)
        if tiles is None:
            return
        tiles.seconds = plan_tiles(
            p.settings, shaped_by.size, ceiling, probe(p.device, p.features)
        ).seconds  # type: ignore[union-attr]
        self.tile_plan = tiles
        self.stages = tiles.stages
        self._event(Phase.NOTE, tiles.summary())

    def _start_guard(self) -> None:
        """The memory guard watches from here to the end of the run (see core.memguard); a
        computer already below the guard's reserve refuses the run at once."""
        self.guard = self.memory_guard(self.device)
        if self.guard is None:
            return
        self.guard.on_trip = self.control.abort
        self.control.guard = self.guard
        self.guard.start()
        self.guard.check()

    def _close_guard(self) -> None:
        guard, self.guard = self.guard, None
        if guard is None:
            return
        guard.close()
        self.control.guard = None
        self.peak_rss = guard.peak_rss
        log.info("run ended; peak RSS %d MB", guard.peak_rss >> 20)

    def _note_small_pictures(self, content: Any, styles: list[Any]) -> None:
        named = [(self.inputs.content.name, content)] if self.inputs.content else []
        named += [(s.path.name, img) for s, img in zip(self.inputs.styles, styles, strict=True)]
        size = self.settings.size
        for label, img in named:
            if 4 * max(img.size) <= size:
                self._event(
                    Phase.NOTE,
                    f"{label} is only {img.width}x{img.height} px, so it is enlarged about "
                    f"{size / max(img.size):.0f}x; expect a soft result.",
                )

    def _run(self, p: _Prepared) -> Iterator[StepRecord]:
        from . import optimize

        self.control.check()  # a stop (or the memory guard) while the weights were loading
        running = f"Running on {self.where()}"
        if not p.trained:
            running += " with untrained random weights (no real style)"
        final = None
        if self.tile_plan is not None:
            from . import tiled

            records = tiled.run(
                p.settings, p.engine_inputs, p.features, p.device, self.tile_plan,
                control=self.control, want_image=self._want, channels_last=p.channels_last,
            )  # fmt: skip
        else:
            records = optimize.run(
                p.settings, p.engine_inputs, p.features, p.device,
                control=self.control, want_image=self._want, channels_last=p.channels_last,
            )  # fmt: skip
        for rec in records:
            rec.step += self.first_step
            rec.total += self.first_step
            if self._step == 0:
                self._event(Phase.RUNNING, running + "…")
            self._keep(rec)
            if rec.final:
                final = rec
            yield rec
        assert final is not None
        self._finish(self._result_of(final))

    def _want(self, step: int) -> bool:
        """Whether evaluation ``step`` hands back its picture (the preview throttle is asked
        first and every time: it keeps its own rhythm)."""
        step += self.first_step
        want = self.images.preview is not None and self.images.preview(step)
        every = self.settings.save_every
        if self.mode != Mode.SWEEP:
            want = want or (every > 0 and step % every == 0)
            recorder = self.images.timelapse
            want = want or (recorder is not None and recorder.wants(step))
        return want

    def _keep(self, rec: StepRecord) -> None:
        """What a record leaves behind: the latest picture, a sweep cell, snapshots, frames."""
        self._step = max(self._step, rec.step)
        self.curve.add(rec)
        self._elapsed = rec.elapsed
        if rec.image is None:
            return
        self._last = rec
        if rec.stage_done and 0 <= rec.stage < len(self._cells):
            self._cells[rec.stage] = rec.image
        if self.mode == Mode.SWEEP:
            return
        if self.images.timelapse is not None:
            self.images.timelapse.add(rec.step, rec.image, force=rec.final)
        every = self.settings.save_every
        if self.snapshots is not None and every and rec.step % every == 0 and not rec.final:
            self._snapshot(rec.image, rec.step)

    def _snapshot(self, image: np.ndarray, step: int) -> None:
        """A failed snapshot (a full disk) is told once and ends the snapshots, not the run."""
        from .images import save_image

        assert self.snapshots is not None
        try:
            self.snapshots.folder.mkdir(parents=True, exist_ok=True)
            save_image(image, self.snapshots.path(step), metadata=self.metadata)
        except (ImageError, OSError) as exc:
            self.snapshots = None
            self._event(Phase.WARNING, f"{exc} No more snapshots are saved.")

    # ------------------------------------------------------------------ the end
    def _result_of(self, final: StepRecord) -> RunResult:
        status = RunStatus(final.status)
        message = final.message or ("Done." if status == RunStatus.DONE else "")
        if isinstance(final.error, MemoryGuardError):  # the guard did its job: no traceback
            log.warning("run ended by the memory guard: %s", message)
        elif final.error is not None:
            log.error("run failed: %s", message, exc_info=final.error)
        return RunResult(
            status,
            message,
            Failure(final.failure) if final.failure else None,
            self._picture(final.image),
            self._final_metadata(status, final.step, final),
            final.step,
            cells=list(self._cells),
            error=final.error,
        )

    def _fail(self, exc: Exception) -> None:
        if self.control.stopped and self.control.error is None and self._step == 0:
            self._finish(RunResult(RunStatus.STOPPED, "Stopped before the run began."))
            return
        report = classify_failure(exc, cli=self.cli)
        if report.unexpected:
            log.error("unexpected error in a run", exc_info=exc)
        status = RunStatus.FAILED if self._step == 0 else RunStatus.ERROR
        image = self._picture(self._last.image if self._last is not None else None)
        meta = self._final_metadata(status, self._step)
        self._finish(
            RunResult(status, report.message, report.kind, image, meta, self._step,
                      report.unexpected, list(self._cells), exc)
        )  # fmt: skip

    def _picture(self, image: np.ndarray | None) -> np.ndarray | None:
        """The picture a user keeps: the run's image, or for a sweep the labelled grid."""
        if self.mode != Mode.SWEEP or not any(c is not None for c in self._cells):
            return image
        from .grid import sweep_grids

        grid = sweep_grids(sweep_rows(self.stages), self._cells, untrained=self._untrained)
        return np.asarray(grid[""].convert("RGB"))

    @property
    def _untrained(self) -> bool:
        return "untrained" in self._weights_label

    def _final_metadata(
        self, status: RunStatus, iterations: int, final: StepRecord | None = None
    ) -> dict[str, Any]:
        meta = {**self.metadata, "status": status, "iterations": iterations}
        if final is not None and math.isfinite(final.loss) and self.mode != Mode.SWEEP:
            # The loss of the picture that is saved, on its 8-bit pixels (optimize.py).
            meta["loss"] = {
                "total": final.loss,
                "content": final.content,
                "style": final.style,
                "tv": final.tv,
            }
        return meta

    def sweep_pictures(self) -> dict[str, Any]:
        """The sweep's three grids (both rows, content, style) from the cells computed."""
        from .grid import sweep_grids

        return sweep_grids(sweep_rows(self.stages), self._cells, untrained=self._untrained)

    def _finish(self, result: RunResult) -> None:
        """Every run ends here, from either front end: the place to hand a finished run on."""
        self.result = result
        if self.keep_history:
            self._to_history(result)
        for hook in self.on_finished:
            try:
                hook(result)
            except Exception:  # noqa: BLE001 - keeping a copy must not cost the run
                log.exception("a finished-run hook failed")

    def _to_history(self, result: RunResult) -> None:
        """Keep the run as a history entry; its inputs (paths, hashes) go into its metadata."""
        from .history import input_files, record_run

        if result.image is None or result.iterations <= 0:
            return
        try:
            styles = [(s.path, s.weight) for s in self.inputs.styles]
            files = input_files(self.inputs.content, styles)
            result.metadata["files"] = [f.to_dict() for f in files]
            entry = record_run(
                result, inputs=files, curve=self.curve, seconds=self._elapsed,
                source="cli" if self.cli else "window",
            )  # fmt: skip
        except Exception as exc:  # noqa: BLE001 - keeping a copy must not cost the run
            log.warning("the run was not kept in the history", exc_info=exc)
            self._event(Phase.WARNING, f"The run could not be kept in the history: {exc}")
            return
        if entry is not None:
            result.history_id = entry.id

    def _event(self, phase: Phase, text: str) -> None:
        self.on_event(Event(phase, text))


def default_guard(device: Any) -> MemoryGuard:
    """The host's memory, and on a GPU the GPU's too (the one the tensors live in first)."""
    from .device import memory_reader
    from .memguard import MemoryGuard, host_reading

    gpu = memory_reader(device)
    return MemoryGuard(host_reading) if gpu is None else MemoryGuard(gpu, (host_reading,))


def _new_control() -> RunControl:
    from .optimize import RunControl

    return RunControl()
