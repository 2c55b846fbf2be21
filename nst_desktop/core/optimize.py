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
from .model import LayerWatch, VGGFeatures, engine_features
from .regions import Regions, fit_mask
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
    #: A tiled run's tile being refined: its box (top, left, bottom, right) in the picture of
    #: this scale, shaped ``picture_shape`` (height, width); None outside the tiles.
    tile_box: tuple[int, int, int, int] | None = None
    picture_shape: tuple[int, int] | None = None

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
    regions: Regions | None = None  # the styles' regions of the content picture (transfer)


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


def _want_predicate(want_image: Callable[[int], bool] | int) -> Callable[[int], bool]:
    """An interval (0: never before the end) or a predicate on the step number, as a predicate."""
    if not isinstance(want_image, int):
        return want_image
    every = want_image
    return (lambda step: step % every == 0) if every > 0 else (lambda step: False)


def _check_inputs(mode: str, inputs: Inputs) -> None:
    if mode in ("transfer", "content-rep", "sweep") and inputs.content is None:
        raise ImageError("Choose a content image first.")
    if mode in ("transfer", "style-rep", "sweep") and not inputs.styles:
        raise ImageError("Choose at least one style image first.")


def run(
    settings: RunSettings,
    inputs: Inputs,
    features: nn.Sequential,
    device: torch.device,
    *,
    control: RunControl | None = None,
    want_image: Callable[[int], bool] | int = 0,
    stages: Sequence[Stage] | None = None,
    context: _RunContext | None = None,
    channels_last: bool = False,
) -> Iterator[StepRecord]:
    """Optimize and yield one record per evaluation; the last record is final and has the image.

    ``features`` is VGG19's ``features`` (see weights.py); it is moved to ``device``.
    ``want_image`` is an interval (0: only at the end) or a predicate on the step number.
    Errors in the inputs or settings raise before the first record (SettingsError, ImageError).
    ``stages`` replaces the settings' plan and ``context`` (from :func:`run_context`) is the
    caller's: a tiled run runs its whole scales here and goes on from ``context.previous``.
    ``channels_last`` runs the network in that layout (the session's measured choice,
    core/precision.py); the image stays contiguous.
    """
    settings.validate()
    stages = plan(settings) if stages is None else list(stages)
    _check_inputs(settings.mode, inputs)
    if context is None:
        context = run_context(
            settings, inputs, features, device, control, want_image, channels_last=channels_last
        )
    torch.manual_seed(settings.seed)
    context.total = context.total or sum(s.steps for s in stages)
    for index, stage in enumerate(stages):
        last = index == len(stages) - 1
        rec = None
        for rec in _run_stage(context, index, stage, last):
            yield rec
        if rec is None or rec.status != RUNNING:
            return


def run_context(
    settings: RunSettings,
    inputs: Inputs,
    features: nn.Sequential,
    device: torch.device,
    control: RunControl | None = None,
    want_image: Callable[[int], bool] | int = 0,
    kind: type[_RunContext] | None = None,
    *,
    channels_last: bool = False,
    **extra: object,
) -> _RunContext:
    """What every stage of a run shares (``kind``: a subclass with ``extra`` fields); the
    network is converted once here to the run's precision and layout."""
    control = control or RunControl()
    needs_style = settings.mode in ("transfer", "style-rep", "sweep")
    blend = settings.style_blend_for(len(inputs.styles)) if needs_style else []
    bf16 = use_bfloat16(settings.precision, device)
    network = engine_features(features, device, bfloat16=bf16, channels_last=channels_last)
    context = (kind or _RunContext)(
        settings, inputs, network, device, control, _want_predicate(want_image),
        blend, bf16, _Stopwatch(), **extra,
    )  # fmt: skip
    context.layer_watch = LayerWatch(control.check, control.guard)
    return context


@dataclass
class _RunContext:
    """What every stage of one run shares, and what a stage hands to the next; a tiled run's
    tiles share it too (core/tiled.py), each an optimization loop of its own."""

    settings: RunSettings
    inputs: Inputs
    features: nn.Sequential
    device: torch.device
    control: RunControl
    want_image: Callable[[int], bool]
    blend: list[float]
    bf16: bool
    watch: _Stopwatch
    total: int = 0
    layer_watch: LayerWatch = field(default_factory=lambda: LayerWatch(lambda: None, None))
    done_before: int = 0  # evaluations of the stages already run
    previous: torch.Tensor | None = None  # the previous stage's final image


@dataclass
class _StageInputs:
    """One stage's tensors: the shape image, its content and style targets and the start image."""

    shape_img: Image.Image
    content: torch.Tensor | None
    styles: list[torch.Tensor]
    init: torch.Tensor


def _stage_inputs(context: _RunContext, stage: Stage) -> _StageInputs:
    settings, inputs, device = context.settings, context.inputs, context.device
    layers = list(stage.content_layers) + list(stage.style_layers)
    min_side = _deepest_min_side(layers)
    # The image being optimized takes the shape of the content image (transfer, content
    # study) or of the first style image (texture synthesis).
    base = inputs.content if stage.mode != "style-rep" else inputs.styles[0]
    shape_img = resize_longest(base, stage.size, min_side)
    w, h = shape_img.size
    content_t = to_tensor(shape_img, device) if stage.mode != "style-rep" else None
    style_size = max(min_side, round(stage.size * settings.style_scale))
    style_ts = [
        to_tensor(resize_longest(img, style_size, min_side), device)
        for img in (inputs.styles if stage.mode != "content-rep" else ())
    ]
    if stage.from_previous and context.previous is not None:
        init = nn.functional.interpolate(
            context.previous, size=(h, w), mode="bicubic", align_corners=False
        ).clamp_(0, 1)
    else:
        init = _init_image(settings, (h, w), content_t, inputs.styles, device)
    return _StageInputs(shape_img, content_t, style_ts, init)


def _objective(context: _RunContext, stage: Stage, tensors: _StageInputs) -> Objective:
    settings = context.settings
    weights = {
        "transfer": (settings.content_weight, settings.style_weight),
        "content-rep": (1.0, 0.0),
        "style-rep": (0.0, 1.0),
    }[stage.mode]
    layers = list(stage.content_layers) + list(stage.style_layers)
    model = VGGFeatures(context.features, layers, settings.pool).to(context.device)
    model.watch = context.layer_watch
    return Objective(
        model,
        content_image=tensors.content if stage.content_layers else None,
        content_layers=stage.content_layers,
        style_images=tensors.styles,
        style_blend=context.blend,
        style_layers=stage.style_layers,
        content_weight=weights[0],
        style_weight=weights[1],
        tv_weight=settings.tv_weight,
        bfloat16=context.bf16,
        normalization=settings.normalization,
        **_region_args(
            context.inputs.regions,
            stage.mode,
            tensors.styles,
            tensors.shape_img.size,
            context.device,
        ),
    )


def _run_stage(context: _RunContext, index: int, stage: Stage, last: bool) -> Iterator[StepRecord]:
    """One stage's records, labelled; the last one is final, or RUNNING when a stage follows."""
    # A stage's setup (its tensors, the network, the targets) can take minutes for a huge
    # image: the stop flag and the memory guard are honoured between its layers and styles.
    setup = _StageSetup()
    try:
        context.layer_watch.check(False)
        tensors = _stage_inputs(context, stage)
        # A host copy: the picture to hand back if the device fails before any evaluation, or
        # fails so badly that even its memory cannot be read any more.
        setup.start_pixels = start_pixels = to_uint8(tensors.init)
        post = _color_post(context.settings, stage.mode, tensors.shape_img)
        context.layer_watch.check(False)
        objective = _objective(context, stage, tensors)
    except (RunStopped, MemoryGuardError, RuntimeError) as exc:  # RuntimeError: out of memory
        if setup.start_pixels is None and context.previous is None:
            raise  # nothing made yet: the run never began (the caller says so)
        yield _setup_ended(exc, setup, context, index, stage)
        return
    loop = _StageLoop(
        context.settings,
        objective,
        tensors.init,
        stage.steps,
        context,
        post,
    )
    for rec in loop.records(start_pixels):
        rec.stage, rec.stage_label = index, stage.label
        if rec.final:
            rec.stage_done = True
            context.done_before = rec.step
            if rec.status == DONE and not last:
                rec.status = RUNNING  # the run goes on with the next stage
        yield rec
    context.previous = loop.kept


@dataclass
class _StageSetup:
    """What a stage's setup got to before it ended (the start picture, once made)."""

    start_pixels: np.ndarray | None = None


def _setup_ended(
    exc: BaseException, setup: _StageSetup, context: _RunContext, index: int, stage: Stage
) -> StepRecord:
    """The final record of a run that ended while a stage was being set up: the same
    contract as a failure mid-run, a final record with the best image there is."""
    image = setup.start_pixels
    if image is None and context.previous is not None:
        image = to_uint8(context.previous)  # the previous scale's result
    done_before = context.done_before
    kept = "picture so far" if done_before else "start picture"
    if isinstance(exc, RunStopped):
        status, message, error, failure = STOPPED, f"Stopped; the {kept} is kept.", None, ""
    else:
        status, error = ERROR, exc
        message, failure = runtime_message(exc, kept), failure_kind(exc)
    nan = math.nan
    return StepRecord(
        done_before, context.total, nan, nan, nan, nan, context.watch.elapsed(), image=image,
        stage=index, stage_label=stage.label, stage_done=True, status=status, message=message,
        failure=failure, error=error,
    )  # fmt: skip


def _region_args(
    regions: Regions | None,
    mode: str,
    style_ts: Sequence[torch.Tensor],
    size: tuple[int, int],
    device: torch.device,
) -> dict:
    """The Objective's guided-term arguments: each style's region at this stage's size, and
    each style's source mask at its style image's size."""
    if not regions or mode != "transfer":
        return {}

    def tensor(m: np.ndarray | None, wh: tuple[int, int]) -> torch.Tensor | None:
        return None if m is None else torch.from_numpy(fit_mask(m, wh)).to(device)[None, None]

    n = len(style_ts)
    return {
        "style_regions": [tensor(regions.masks.get(i), size) for i in range(n)],
        "outside": regions.outside,
        "style_sources": [
            tensor(regions.sources.get(i), (t.shape[-1], t.shape[-2]))
            for i, t in enumerate(style_ts)
        ],
    }


def _color_post(
    settings: RunSettings, mode: str, content_img: Image.Image
) -> Callable[[np.ndarray], np.ndarray]:
    if mode != "transfer" or settings.color == "none":
        return lambda pixels: pixels
    reference = np.asarray(content_img, dtype=np.uint8)
    return lambda pixels: preserve_colors(pixels, reference, settings.color)


#: L-BFGS steps in a row without a new point after which a stage counts as settled (a single
#: one happens when the projection undoes a step; the next direction usually moves again).
IDLE_STEPS = 5


class _Halt(Exception):
    """Raised inside the closure to leave the optimizer between two evaluations."""


def _make_optimizer(settings: RunSettings, x: torch.Tensor) -> torch.optim.Optimizer:
    if settings.optimizer != "lbfgs":
        return torch.optim.Adam([x], lr=settings.effective_lr)
    return torch.optim.LBFGS(
        [x],
        lr=settings.effective_lr,
        max_iter=1,  # one iteration per step(): each evaluation reaches the caller
        # torch's default max_eval (max_iter * 5 // 4 = 1) would leave the strong-Wolfe search
        # no evaluation to shrink a failed step (max_ls = 0): it returns t = 0 and stalls.
        max_eval=26,
        history_size=settings.lbfgs_history,
        tolerance_grad=-1.0,  # never "converge" silently; the step budget ends the run
        tolerance_change=-1.0,
        line_search_fn=None,  # set before every step, in _StageLoop._choose_line_search
    )


#: A loss this many times the best so far is one of L-BFGS's jumps (see :class:`_StageLoop`).
JUMP_FACTOR = 10.0


def _mask_outward(x: torch.Tensor) -> None:
    """Zero the gradient where a pixel sits on a bound and descent would push it out."""
    g = x.grad
    if g is None:
        return
    with torch.no_grad():
        # (x <= 0 and g > 0) or (x >= 1 and g < 0), in four image-sized passes instead of seven
        # (a g of 0 that this also selects is set to 0 again).
        g.masked_fill_(torch.where(g > 0, x <= 0.0, x >= 1.0), 0.0)


class _StageLoop:
    """One stage's loop: the optimizer, its closure and the image a final record gets.

    The final image is, for L-BFGS, the lowest-loss image evaluated: without a line search its
    loss may jump by 10-25,000x for a few steps before it recovers (24,484x was measured at
    128 px from the content image; benchmarks/lbfgs_compare.py prints the largest jump), and a
    stop or the end of the budget inside such a jump must not hand over the bad image. For Adam
    it is the last one (its loss drifts rather than jumps, and its last image is the one the
    user watched arrive). The final record carries the loss and terms of the picture it hands
    over, evaluated on its 8-bit pixels (:meth:`_saved_terms`), under the step number of the
    last evaluation. With L-BFGS every evaluated image lies in [0, 1] (:meth:`_project`), so
    the rounding to 8 bits is all that separates the saved picture from the optimized one.
    """

    def __init__(
        self,
        settings: RunSettings,
        objective: Objective,
        init: torch.Tensor,
        steps: int,
        context: _RunContext,
        post: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        self.objective, self.steps, self.post = objective, steps, post
        self.control, self.watch = context.control, context.watch
        self.want_image = context.want_image
        self.step0, self.total = context.done_before, context.total
        self.x = init.detach().clone().contiguous().requires_grad_(True)
        # The image a final record gets: best (L-BFGS) or last good (Adam).
        self.kept = self.x.detach().clone()
        self.lbfgs = settings.optimizer == "lbfgs"
        self.always_search = self.lbfgs and settings.lbfgs_line_search
        self.kept_what = "best image" if self.lbfgs else "last good image"
        self.opt = _make_optimizer(settings, self.x)
        self.pending: list[StepRecord] = []
        self.kept_rec: StepRecord | None = None
        self.seen: StepRecord | None = None  # the latest record with an image (on the host)
        self.scale: float | None = None
        self.count = 0
        self.halt: tuple[str, str, BaseException | None] | None = None
        # L-BFGS's last evaluation: (image, scaled loss, gradient), see evaluate().
        self.last_eval: tuple[torch.Tensor, torch.Tensor, torch.Tensor] | None = None
        self.settled = False  # the picture stopped moving before the budget was spent
        self.idle = 0  # L-BFGS steps in a row that evaluated no new point

    def _halt_stopped(self) -> None:
        """The halt of a stopped run: the user's stop, or the abort's error (the memory guard)."""
        if self.control.error is not None:
            error = self.control.error
            self.halt = (ERROR, runtime_message(error, self.kept_what), error)
        else:
            which = "best image so far" if self.lbfgs else "current image"
            self.halt = (STOPPED, f"Stopped; the {which} is kept.", None)
        raise _Halt

    def _check_control(self) -> None:
        if self.control.paused:
            self.watch.wait_while_paused(self.control)
        if self.control.stopped:
            self._halt_stopped()

    def evaluate(self) -> torch.Tensor:
        """The optimizer's closure: one evaluation, one pending record.

        L-BFGS's line search ends on a point it has evaluated, and the next step() starts by
        evaluating that same point again: the last evaluation is kept and handed back when the
        image has not moved, so only real evaluations count as steps.
        """
        self._check_control()
        x = self.x
        if self.lbfgs:
            with torch.no_grad():
                x.clamp_(0.0, 1.0)
        cached = self._cached(x)
        if cached is not None:
            return cached
        if self.count >= self.steps:
            raise _Halt
        self.opt.zero_grad(set_to_none=True)
        try:
            loss, terms = self.objective(x)
        except (RunStopped, MemoryGuardError) as exc:  # between two layers of this pass
            if isinstance(exc, MemoryGuardError):
                self.control.abort(exc)
            self._halt_stopped()
        values = terms.tolist()  # the one host sync of the step
        total_loss = sum(values)
        if not math.isfinite(total_loss):
            self.halt = (
                NONFINITE,
                f"The loss became infinite or NaN, so the run stopped and kept the "
                f"{self.kept_what}; lower the learning rate or the style weight.",
                None,
            )
            raise _Halt
        self.count += 1
        rec = StepRecord(
            self.step0 + self.count, self.total, total_loss, *values, self.watch.elapsed()
        )
        self.pending.append(rec)
        if self.scale is None:
            # The optimizer sees the loss scaled to 1 at the start: L-BFGS's curvature update
            # (skipped when yᵀs < 1e-10) and Adam's epsilon assume gradients of ordinary size,
            # and NST losses range over ten orders of magnitude with weights and layers.
            self.scale = 1.0 / total_loss if total_loss > 0 else 1.0
        loss = loss * self.scale
        loss.backward()
        if self.lbfgs:
            _mask_outward(x)
        self._remember(x, loss, rec)
        return loss

    def _cached(self, x: torch.Tensor) -> torch.Tensor | None:
        """The last evaluation's scaled loss, its gradient restored, if ``x`` is that point."""
        last = self.last_eval
        if last is None or not torch.equal(last[0], x.detach()):
            return None
        x.grad = last[2].clone()
        return last[1]

    def _remember(self, x: torch.Tensor, loss: torch.Tensor, rec: StepRecord) -> None:
        """Keep the best (L-BFGS) or last (Adam) image, the picture asked for, and the cache."""
        if self.lbfgs:
            assert x.grad is not None
            self.last_eval = (x.detach().clone(), loss.detach(), x.grad.detach().clone())
        if not self.lbfgs or self.kept_rec is None or rec.loss < self.kept_rec.loss:
            self.kept.copy_(x.detach())
            self.kept_rec = rec
        if self.want_image(rec.step):
            # Inside one of L-BFGS's loss jumps the picture is noise for a few steps: the
            # preview, snapshots and time-lapse get the best picture so far instead.
            jumping = self.lbfgs and rec.loss > JUMP_FACTOR * self.kept_rec.loss
            rec.image = self.post(to_uint8(self.kept if jumping else x))
            self.seen = rec

    def _project(self, before: torch.Tensor) -> None:
        """Clamp the iterate to [0, 1] and make L-BFGS's next curvature pair use the real step."""
        with torch.no_grad():
            self.x.clamp_(0.0, 1.0)
        state = self.opt.state[self.x]
        t = state.get("t")
        if t is None or not t:
            return
        # torch forms s = d * t from the stored direction; the projected step is shorter.
        state["d"] = (self.x.detach() - before).view(-1).div_(t)

    def _choose_line_search(self) -> None:
        # Without curvature pairs L-BFGS steps along the bare gradient with step length lr,
        # which from the content image (negative curvature: every yᵀs < 0 is rejected) stays
        # tiny forever; measured at 128 px: loss 0.0059 -> 0.0053 in 40 steps against 0.00015
        # this way. So once a pair has been tried and the history is still empty, the line
        # search runs until it holds one.
        state = self.opt.state[self.x]
        stuck = state.get("n_iter", 0) >= 2 and not state.get("old_dirs")
        search = self.always_search or stuck
        self.opt.param_groups[0]["line_search_fn"] = "strong_wolfe" if search else None

    def records(self, start_pixels: np.ndarray) -> Iterator[StepRecord]:
        """Every evaluation's record, then the final one (see :meth:`_final_record`)."""
        try:
            while self.count < self.steps and self.halt is None:
                if self.lbfgs:
                    self._choose_line_search()
                before = self.x.detach().clone() if self.lbfgs else None
                count = self.count
                try:
                    self.opt.step(self.evaluate)
                except _Halt:
                    pass
                self.idle = self.idle + 1 if self.count == count else 0
                if self.idle >= IDLE_STEPS and self.halt is None:
                    # Steps in a row without a new point: the picture no longer moves (a zero
                    # gradient), so no evaluation left could change it; the stage is done.
                    self.settled = True
                    break
                if not self.lbfgs:
                    with torch.no_grad():
                        self.x.clamp_(0.0, 1.0)
                elif before is not None:
                    self._project(before)
                yield from self.pending
                self.pending.clear()
        except (torch.cuda.OutOfMemoryError, RuntimeError) as exc:
            yield from self.pending
            self.pending.clear()
            self.halt = (ERROR, runtime_message(exc, self.kept_what), exc)
        yield self._final_record(start_pixels)

    def _saved_terms(self, image: np.ndarray) -> list[float] | None:
        """The weighted terms of the 8-bit picture that is saved, or None if they cannot be had.

        The reported final loss is the loss of what the user gets: the rounded (and, with a
        colour option, recoloured) picture, not the float image the optimizer last held.
        """
        model = self.objective.model
        watch, model.watch = model.watch, None  # a stopped run still measures what it keeps
        try:
            pixels = torch.from_numpy(np.array(image)).permute(2, 0, 1)[None].contiguous()
            x = pixels.to(device=self.x.device, dtype=torch.float32).div_(255.0)
            with torch.no_grad():
                _, terms = self.objective(x)
            values = terms.tolist()
        except RuntimeError:  # the device failed: keep the loss the optimizer measured
            return None
        finally:
            model.watch = watch
        return values if math.isfinite(sum(values)) else None

    def _final_record(self, start_pixels: np.ndarray) -> StepRecord:
        """The kept image with its loss and terms, under the step number of the last evaluation."""
        status, message, error = self.halt if self.halt is not None else (DONE, "", None)
        if status == DONE and self.count < self.steps and not self.settled:
            status = STOPPED  # pragma: no cover - defensive
        final_rec = self.kept_rec
        try:
            image = self.post(to_uint8(self.kept))
        except RuntimeError:  # the device is gone for good: its memory cannot be read either
            if final_rec is None or final_rec.image is None:
                final_rec = self.seen
            image = final_rec.image if final_rec is not None else self.post(start_pixels)
        nan = math.nan
        terms = self._saved_terms(image) if final_rec is not None else None
        if terms is None:
            terms = [final_rec.content, final_rec.style, final_rec.tv] if final_rec else [nan] * 3
        return StepRecord(
            self.step0 + self.count,
            self.total,
            sum(terms),
            *terms,
            self.watch.elapsed(),
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
