"""The optimization loop as a generator: one :class:`StepRecord` per function evaluation.

The CLI, the GUI worker and the tests all consume :func:`run`. It never raises for things a user
can cause mid-run (non-finite loss, out of memory, a vanished device): the last record then has
status ``nonfinite`` or ``error``, a one-sentence message and the last good image, so no work is
lost. Stop and pause are flags on :class:`RunControl`, checked before every evaluation and, through
the network's :class:`~nst_desktop.core.model.LayerWatch`, before every layer of the targets' passes
(the memory guard's abort also before every layer of an evaluation).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from PIL import Image
from torch import nn

from .color import preserve_colors
from .device import use_bfloat16
from .failures import COMPUTATION, DEVICE_LOST, OUT_OF_MEMORY, RunStatus
from .images import ImageError, load_image, resize_longest, to_tensor, to_uint8
from .layers import min_input_side
from .losses import Objective
from .memguard import MemoryGuard, MemoryGuardError
from .model import LayerWatch, VGGFeatures
from .settings import RunSettings, SettingsError
from .stages import Stage, plan

RUNNING, DONE, STOPPED, NONFINITE, ERROR = (
    RunStatus.RUNNING,
    RunStatus.DONE,
    RunStatus.STOPPED,
    RunStatus.NONFINITE,
    RunStatus.ERROR,
)


@dataclass
class StepRecord:
    """What one evaluation produced; plain data, safe to send to another thread."""

    step: int  # evaluations done so far, over all stages (1-based)
    total: int  # evaluations planned over all stages
    loss: float
    content: float  # weighted terms: α Σ c_l L_c,l, β Σ w_l E_l, γ TV
    style: float
    tv: float
    elapsed: float  # seconds since the run started, pauses excluded
    image: np.ndarray | None = None  # H x W x 3 uint8 copy, when asked for (always at the end)
    stage: int = 0  # index into the plan: a scale of coarse-to-fine or a cell of the sweep
    stage_label: str = ""
    stage_done: bool = False
    status: str = RUNNING
    message: str = ""
    failure: str = ""  # with status ERROR: OUT_OF_MEMORY, DEVICE_LOST or COMPUTATION
    error: BaseException | None = field(default=None, repr=False)

    @property
    def final(self) -> bool:
        return self.status != RUNNING


class RunStopped(Exception):
    """Raised where a run checks its stop flag inside a step (between layers, styles, scales)."""


class RunControl:
    """Thread-safe stop and pause flags; the generator honours them between evaluations, and
    the network between its layers (so a stop ends target computation too).

    ``guard`` (a :class:`~nst_desktop.core.memguard.MemoryGuard`, set by the session) is asked
    before each layer how much memory the pass may still take; :meth:`abort` stops the run with
    an error instead of a plain stop (the guard's out-of-memory).
    """

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()
        self.error: BaseException | None = None
        self.guard: MemoryGuard | None = None

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

    def abort(self, error: BaseException) -> None:
        """Stop, and end the run with ``error`` rather than as stopped by the user."""
        if self.error is None:
            self.error = error
        self.stop()

    def check(self, evaluating: bool = False) -> None:
        """Raise :class:`RunStopped` (or the abort's error) once the run is stopped.

        ``evaluating``: inside an evaluation only an abort ends it; the user's stop lets the
        evaluation in flight finish (its picture is a step of the run).
        """
        if self._stop.is_set():
            if self.error is not None:
                raise self.error
            if not evaluating:
                raise RunStopped

    def pause(self) -> None:
        self._running.clear()

    def resume(self) -> None:
        self._running.set()

    @property
    def stopped(self) -> bool:
        return self._stop.is_set()

    @property
    def paused(self) -> bool:
        return not self._running.is_set()

    def wait_while_paused(self) -> None:
        while not self._running.wait(0.05):
            pass


class _Stopwatch:
    """Run time without the pauses: it/s and the ETA must not count the hour a user was away."""

    def __init__(self) -> None:
        self.start = time.perf_counter()
        self.paused = 0.0

    def elapsed(self) -> float:
        return time.perf_counter() - self.start - self.paused

    def wait_while_paused(self, control: RunControl) -> None:
        t0 = time.perf_counter()
        control.wait_while_paused()
        self.paused += time.perf_counter() - t0


@dataclass
class Inputs:
    """The images of a run, already decoded (loading is the caller's, so errors surface early)."""

    content: Image.Image | None = None
    styles: Sequence[Image.Image] = ()


def _deepest_min_side(layers: Sequence[str]) -> int:
    return max((min_input_side(name) for name in layers), default=1)


def _init_image(
    settings: RunSettings,
    shape: tuple[int, int],
    content: torch.Tensor | None,
    style_imgs: Sequence[Image.Image],
    device: torch.device,
) -> torch.Tensor:
    h, w = shape
    init = settings.init
    if init == "noise":
        gen = torch.Generator().manual_seed(settings.seed)
        return torch.rand((1, 3, h, w), generator=gen).to(device)
    if init == "content":
        assert content is not None
        return content.clone()
    if init == "style":
        return to_tensor(style_imgs[0].resize((w, h), Image.Resampling.LANCZOS), device)
    img = load_image(init, max_side=max(w, h))
    return to_tensor(img.resize((w, h), Image.Resampling.LANCZOS), device)


def run(
    settings: RunSettings,
    inputs: Inputs,
    features: nn.Sequential,
    device: torch.device,
    *,
    control: RunControl | None = None,
    want_image: Callable[[int], bool] | int = 0,
) -> Iterator[StepRecord]:
    """Optimize and yield one record per evaluation; the last record is final and has the image.

    ``features`` is VGG19's ``features`` (see weights.py); it is moved to ``device``.
    ``want_image`` is an interval (0: only at the end) or a predicate on the step number.
    Errors in the inputs or settings raise before the first record (SettingsError, ImageError).
    """
    settings.validate()
    control = control or RunControl()
    if isinstance(want_image, int):
        every = want_image
        want_image = (lambda step: step % every == 0) if every > 0 else (lambda step: False)
    stages = plan(settings)
    mode = settings.mode
    needs_content = mode in ("transfer", "content-rep", "sweep")
    needs_style = mode in ("transfer", "style-rep", "sweep")
    if needs_content and inputs.content is None:
        raise ImageError("Choose a content image first.")
    if needs_style and not inputs.styles:
        raise ImageError("Choose at least one style image first.")
    blend = settings.style_blend_for(len(inputs.styles)) if needs_style else []
    bf16 = use_bfloat16(settings.precision, device)
    torch.manual_seed(settings.seed)
    features = features.to(device)

    total = sum(s.steps for s in stages)
    done_before = 0
    previous: torch.Tensor | None = None
    watch = _Stopwatch()
    layer_watch = LayerWatch(control.check, control.guard)
    for index, stage in enumerate(stages):
        # A stage's setup (its tensors, the network, the targets) can take minutes for a huge
        # image: the stop flag and the memory guard are honoured between its layers and styles.
        setup = _StageSetup()
        try:
            objective, init, start_pixels, post = _set_up_stage(
                settings, stage, inputs, features, device, previous, blend, bf16,
                layer_watch, setup,
            )  # fmt: skip
        except (RunStopped, MemoryGuardError, RuntimeError) as exc:
            if setup.start_pixels is None and previous is None:
                raise  # nothing made yet: the run never began (the caller says so)
            # Same contract as a failure mid-run: a final record with the best image there is.
            yield _setup_ended(exc, setup, previous, done_before, total, watch, index, stage)
            return
        result: list[torch.Tensor] = []
        for rec in _optimize(
            settings,
            objective,
            init,
            stage.steps,
            control,
            want_image,
            done_before,
            total,
            watch,
            start_pixels,
            post,
            result,
        ):
            rec.stage, rec.stage_label = index, stage.label
            if rec.final:
                rec.stage_done = True
                done_before = rec.step
                if rec.status == DONE and index < len(stages) - 1:
                    rec.status = RUNNING  # the run goes on with the next stage
            yield rec
        if rec.status != RUNNING:
            return
        previous = result[0]


@dataclass
class _StageSetup:
    """What a stage's setup got to before it ended (the start picture, once made)."""

    start_pixels: np.ndarray | None = None


def _set_up_stage(
    settings: RunSettings,
    stage: Stage,
    inputs: Inputs,
    features: nn.Sequential,
    device: torch.device,
    previous: torch.Tensor | None,
    blend: Sequence[float],
    bf16: bool,
    layer_watch: LayerWatch,
    setup: _StageSetup,
) -> tuple[Objective, torch.Tensor, np.ndarray, Callable[[np.ndarray], np.ndarray]]:
    """One stage's start image and objective (its targets computed); checks the stop flag."""
    layer_watch.check(False)
    layers = list(stage.content_layers) + list(stage.style_layers)
    min_side = _deepest_min_side(layers)
    # The image being optimized takes the shape of the content image (transfer, content
    # study) or of the first style image (texture synthesis).
    base = inputs.content if stage.mode != "style-rep" else inputs.styles[0]
    shape_img = resize_longest(base, stage.size, min_side)
    w, h = shape_img.size
    content_t = to_tensor(shape_img, device) if stage.mode != "style-rep" else None
    if stage.from_previous and previous is not None:
        init = nn.functional.interpolate(
            previous, size=(h, w), mode="bicubic", align_corners=False
        ).clamp_(0, 1)
    else:
        init = _init_image(settings, (h, w), content_t, inputs.styles, device)
    # A host copy: the picture to hand back if the device fails before any evaluation, or
    # fails so badly that even its memory cannot be read any more.
    setup.start_pixels = start_pixels = to_uint8(init)
    post = _color_post(settings, stage.mode, shape_img)
    layer_watch.check(False)
    style_size = max(min_side, round(stage.size * settings.style_scale))
    style_ts = [
        to_tensor(resize_longest(img, style_size, min_side), device)
        for img in (inputs.styles if stage.mode != "content-rep" else ())
    ]
    weights = {
        "transfer": (settings.content_weight, settings.style_weight),
        "content-rep": (1.0, 0.0),
        "style-rep": (0.0, 1.0),
    }[stage.mode]
    model = VGGFeatures(features, layers, settings.pool).to(device)
    model.watch = layer_watch
    objective = Objective(
        model,
        content_image=content_t if stage.content_layers else None,
        content_layers=stage.content_layers,
        style_images=style_ts,
        style_blend=blend,
        style_layers=stage.style_layers,
        content_weight=weights[0],
        style_weight=weights[1],
        tv_weight=settings.tv_weight,
        bfloat16=bf16,
        normalization=settings.normalization,
    )
    return objective, init, start_pixels, post


def _setup_ended(
    exc: BaseException,
    setup: _StageSetup,
    previous: torch.Tensor | None,
    done_before: int,
    total: int,
    watch: _Stopwatch,
    index: int,
    stage: Stage,
) -> StepRecord:
    """The final record of a run that ended while a stage was being set up."""
    image = setup.start_pixels
    if image is None and previous is not None:
        image = to_uint8(previous)  # the previous scale's result
    kept = "picture so far" if done_before else "start picture"
    if isinstance(exc, RunStopped):
        status, message, error, failure = STOPPED, f"Stopped; the {kept} is kept.", None, ""
    else:
        status, error = ERROR, exc
        message, failure = runtime_message(exc, kept), failure_kind(exc)
    nan = math.nan
    return StepRecord(
        done_before, total, nan, nan, nan, nan, watch.elapsed(), image=image, stage=index,
        stage_label=stage.label, stage_done=True, status=status, message=message,
        failure=failure, error=error,
    )  # fmt: skip


def _color_post(
    settings: RunSettings, mode: str, content_img: Image.Image
) -> Callable[[np.ndarray], np.ndarray]:
    if mode != "transfer" or settings.color == "none":
        return lambda pixels: pixels
    reference = np.asarray(content_img, dtype=np.uint8)
    return lambda pixels: preserve_colors(pixels, reference, settings.color)


class _Halt(Exception):
    """Raised inside the closure to leave the optimizer between two evaluations."""


def _stopped(
    control: RunControl, lbfgs: bool, kept_what: str
) -> tuple[str, str, BaseException | None]:
    """The halt of a stopped run: the user's stop, or the abort's error (the memory guard)."""
    if control.error is not None:
        return ERROR, runtime_message(control.error, kept_what), control.error
    which = "best image so far" if lbfgs else "current image"
    return STOPPED, f"Stopped; the {which} is kept.", None


def _optimize(
    settings: RunSettings,
    objective: Objective,
    init: torch.Tensor,
    steps: int,
    control: RunControl,
    want_image: Callable[[int], bool],
    step0: int,
    total: int,
    watch: _Stopwatch,
    start_pixels: np.ndarray,
    post: Callable[[np.ndarray], np.ndarray],
    result: list[torch.Tensor],
) -> Iterator[StepRecord]:
    """One stage's loop; the last record is final. ``result`` receives the final tensor.

    The final image is, for L-BFGS, the lowest-loss image evaluated: without a line search its
    loss may jump by 10-10,000x for a few steps before it recovers (benchmarks/lbfgs_compare.py
    prints the largest jump), and a stop or the end of the budget inside such a jump must not
    hand over the bad image. For Adam it is the last one (its loss drifts rather than jumps, and
    its last image is the one the user watched arrive). The final record carries that image's
    loss and terms, under the step number of the last evaluation.
    """
    x = init.detach().clone().contiguous().requires_grad_(True)
    kept = x.detach().clone()  # the image a final record gets: best (L-BFGS) or last good (Adam)
    lr = settings.effective_lr
    lbfgs = settings.optimizer == "lbfgs"
    always_search = lbfgs and settings.lbfgs_line_search
    kept_what = "best image" if lbfgs else "last good image"
    if lbfgs:
        opt: torch.optim.Optimizer = torch.optim.LBFGS(
            [x],
            lr=lr,
            max_iter=1,  # one iteration per step(): each evaluation reaches the caller
            # torch's default max_eval (max_iter * 5 // 4 = 1) would leave the strong-Wolfe search
            # no evaluation to shrink a failed step (max_ls = 0): it returns t = 0 and stalls.
            max_eval=26,
            history_size=settings.lbfgs_history,
            tolerance_grad=-1.0,  # never "converge" silently; the step budget ends the run
            tolerance_change=-1.0,
            line_search_fn=None,  # set before every step, below
        )
    else:
        opt = torch.optim.Adam([x], lr=lr)
    pending: list[StepRecord] = []
    kept_rec: StepRecord | None = None
    seen: StepRecord | None = None  # the latest record with an image (already on the host)
    scale: float | None = None
    count = 0
    halt: tuple[str, str, BaseException | None] | None = None

    def evaluate() -> torch.Tensor:
        nonlocal count, halt, kept_rec, seen, scale
        if control.paused:
            watch.wait_while_paused(control)
        if control.stopped:
            halt = _stopped(control, lbfgs, kept_what)
            raise _Halt
        if count >= steps:
            raise _Halt
        opt.zero_grad(set_to_none=True)
        try:
            loss, terms = objective(x)
        except (RunStopped, MemoryGuardError) as exc:  # between two layers of this pass
            if isinstance(exc, MemoryGuardError):
                control.abort(exc)
            halt = _stopped(control, lbfgs, kept_what)
            raise _Halt from None
        values = terms.tolist()  # the one host sync of the step
        total_loss = sum(values)
        if not math.isfinite(total_loss):
            halt = (
                NONFINITE,
                f"The loss became infinite or NaN, so the run stopped and kept the {kept_what}; "
                "lower the learning rate or the style weight.",
                None,
            )
            raise _Halt
        count += 1
        step = step0 + count
        rec = StepRecord(step, total, total_loss, *values, watch.elapsed())
        pending.append(rec)
        if scale is None:
            # The optimizer sees the loss scaled to 1 at the start: L-BFGS's curvature update
            # (skipped when yᵀs < 1e-10) and Adam's epsilon assume gradients of ordinary size,
            # and NST losses range over ten orders of magnitude with weights and layers.
            scale = 1.0 / total_loss if total_loss > 0 else 1.0
        loss = loss * scale
        loss.backward()
        if not lbfgs or kept_rec is None or total_loss < kept_rec.loss:
            kept.copy_(x.detach())
            kept_rec = rec
        if want_image(step):
            rec.image = post(to_uint8(x))
            seen = rec
        return loss

    try:
        while count < steps and halt is None:
            if lbfgs:
                # Without curvature pairs L-BFGS steps along the bare gradient with step length
                # lr, which from the content image (negative curvature: every yᵀs < 0 is
                # rejected) stays tiny forever; measured at 128 px: loss 0.0059 -> 0.0053 in 40
                # steps against 0.00015 this way. So once a pair has been tried and the history
                # is still empty, the line search runs until it holds one.
                state = opt.state[x]
                stuck = state.get("n_iter", 0) >= 2 and not state.get("old_dirs")
                search = always_search or stuck
                opt.param_groups[0]["line_search_fn"] = "strong_wolfe" if search else None
            try:
                opt.step(evaluate)
            except _Halt:
                pass
            if not lbfgs:
                with torch.no_grad():
                    x.clamp_(0.0, 1.0)
            yield from pending
            pending.clear()
    except (torch.cuda.OutOfMemoryError, RuntimeError) as exc:
        yield from pending
        pending.clear()
        halt = (ERROR, runtime_message(exc, kept_what), exc)
    status, message, error = halt if halt is not None else (DONE, "", None)
    if status == DONE and count < steps:  # pragma: no cover - defensive
        status = STOPPED
    final_rec = kept_rec
    try:
        image = post(to_uint8(kept))
    except RuntimeError:  # the device is gone for good: its memory cannot be read either
        if kept_rec is None or kept_rec.image is None:
            final_rec = seen
        image = final_rec.image if final_rec is not None else post(start_pixels)
    nan = math.nan
    result.append(kept)
    yield StepRecord(
        step0 + count,
        total,
        final_rec.loss if final_rec else nan,
        final_rec.content if final_rec else nan,
        final_rec.style if final_rec else nan,
        final_rec.tv if final_rec else nan,
        watch.elapsed(),
        image=image,
        status=status,
        message=message,
        failure=failure_kind(error) if status == ERROR and error is not None else "",
        error=error,
    )


# Phrases of torch's errors when a GPU is lost mid-run (driver reset, eGPU unplugged, Xid error).
_DEVICE_LOST_PHRASES = (
    "cuda error",
    "cuda-capable",
    "cudaerror",
    "mps backend",
    "hip error",
    "device lost",
)


# Phrases of torch's errors when the computer's own memory (or address space) runs out: its CPU
# allocator raises a plain RuntimeError ("DefaultCPUAllocator: can't allocate memory: you tried
# to allocate N bytes. Error code 12"), on Windows "not enough memory".
_HOST_MEMORY_PHRASES = (
    "can't allocate memory",
    "cannot allocate memory",
    "not enough memory",
    "bad_alloc",
)


def failure_kind(exc: BaseException) -> str:
    """OUT_OF_MEMORY, DEVICE_LOST or COMPUTATION: torch tells them apart only by its words."""
    low = str(exc).lower()
    if isinstance(exc, torch.cuda.OutOfMemoryError | MemoryError) or "out of memory" in low:
        return OUT_OF_MEMORY
    if _host_memory(exc):
        return OUT_OF_MEMORY
    if any(phrase in low for phrase in _DEVICE_LOST_PHRASES):
        return DEVICE_LOST
    return COMPUTATION


def _host_memory(exc: BaseException) -> bool:
    """The computer's memory ran out (not a GPU's)."""
    low = str(exc).lower()
    return isinstance(exc, MemoryError) or any(p in low for p in _HOST_MEMORY_PHRASES)


def runtime_message(exc: BaseException, kept: str | None = "last good image") -> str:
    """One sentence with a way forward for a failure of the computation itself.

    ``kept`` names the picture the run hands back; None: the failure came before the run
    began (moving the network onto the device, say), so there is none.
    """
    kind = failure_kind(exc)
    outcome = f", so the run stopped and kept the {kept}" if kept else " before the run began"
    if isinstance(exc, MemoryGuardError):
        return exc.sentence(outcome)
    if kind == OUT_OF_MEMORY and _host_memory(exc):
        return (
            f"The computer ran out of memory{outcome}; lower the size, use Adam instead of "
            "L-BFGS, or close other programs."
        )
    if kind == OUT_OF_MEMORY:
        return (
            f"The device ran out of memory{outcome}; "
            "lower the size, use Adam instead of L-BFGS, or compute on the CPU."
        )
    text = str(exc)
    first = text.splitlines()[0][:160] if text else type(exc).__name__
    if kind == DEVICE_LOST:
        return (
            f"The device stopped working ({first}){outcome}; "
            "choose the CPU as the device and start again."
        )
    return (
        f"The computation failed ({first}){outcome}; try "
        "again, and if it fails again, report it with the log file."
    )


__all__ = [
    "DONE",
    "ERROR",
    "NONFINITE",
    "RUNNING",
    "STOPPED",
    "Inputs",
    "RunControl",
    "RunStopped",
    "SettingsError",
    "Stage",
    "StepRecord",
    "failure_kind",
    "plan",
    "run",
    "runtime_message",
]
