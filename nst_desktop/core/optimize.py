"""The optimization loop as a generator: one :class:`StepRecord` per function evaluation.

The CLI, the GUI worker and the tests all consume :func:`run`. It never raises for things a user
can cause mid-run (non-finite loss, out of memory, a vanished device): the last record then has
status ``nonfinite`` or ``error``, a one-sentence message and the last good image, so no work is
lost. Stop and pause are flags on :class:`RunControl`, checked before every evaluation.
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
from .images import ImageError, load_image, resize_longest, to_tensor, to_uint8
from .layers import STUDY_LAYERS, min_input_side
from .losses import Objective
from .model import VGGFeatures
from .settings import RunSettings, SettingsError

RUNNING, DONE, STOPPED, NONFINITE, ERROR = "running", "done", "stopped", "nonfinite", "error"


@dataclass
class StepRecord:
    """What one evaluation produced; plain data, safe to send to another thread."""

    step: int  # evaluations done so far, over all stages (1-based)
    total: int  # evaluations planned over all stages
    loss: float
    content: float  # weighted terms: α Σ c_l L_c,l, β Σ w_l E_l, γ TV
    style: float
    tv: float
    elapsed: float  # seconds of optimization so far (target computation excluded)
    image: np.ndarray | None = None  # H x W x 3 uint8 copy, when asked for (always at the end)
    stage: int = 0  # index into the plan: a scale of coarse-to-fine or a cell of the sweep
    stage_label: str = ""
    stage_done: bool = False
    status: str = RUNNING
    message: str = ""
    error: BaseException | None = field(default=None, repr=False)

    @property
    def final(self) -> bool:
        return self.status != RUNNING


class RunControl:
    """Thread-safe stop and pause flags; the generator honours them between evaluations."""

    def __init__(self) -> None:
        self._stop = threading.Event()
        self._running = threading.Event()
        self._running.set()

    def stop(self) -> None:
        self._stop.set()
        self._running.set()

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


@dataclass
class Stage:
    """One optimization from one start image: a single run, a scale, or a sweep cell."""

    label: str
    mode: str  # transfer | content-rep | style-rep
    size: int
    steps: int
    content_layers: dict[str, float]
    style_layers: dict[str, float]
    from_previous: bool = False  # coarse-to-fine: start from the previous stage's result


def plan(settings: RunSettings) -> list[Stage]:
    """The stages a run consists of (sweep cells, or coarse-to-fine scales)."""
    if settings.mode == "sweep":
        stages = [
            Stage(f"content {name}", "content-rep", settings.size, settings.steps, {name: 1.0}, {})
            for name in STUDY_LAYERS
        ]
        for i in range(len(STUDY_LAYERS)):
            layers = {name: 1.0 for name in STUDY_LAYERS[: i + 1]}
            label = "style " + ("relu1_1" if i == 0 else f"+{STUDY_LAYERS[i]}")
            stages.append(Stage(label, "style-rep", settings.size, settings.steps, {}, layers))
        return stages
    content, style = settings.loss_layers()
    n = settings.scales
    stages = []
    for i in range(n):
        size = max(16, round(settings.size / math.sqrt(2) ** (n - 1 - i)))
        steps = settings.steps if i == n - 1 else settings.coarse_steps
        label = f"scale {i + 1}/{n} ({size} px)" if n > 1 else ""
        stages.append(Stage(label, settings.mode, size, steps, content, style, from_previous=i > 0))
    return stages


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
    img = load_image(init)
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
    start = time.perf_counter()
    for index, stage in enumerate(stages):
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
        weights = {
            "transfer": (settings.content_weight, settings.style_weight),
            "content-rep": (1.0, 0.0),
            "style-rep": (0.0, 1.0),
        }[stage.mode]
        if stage.from_previous and previous is not None:
            init = nn.functional.interpolate(
                previous, size=(h, w), mode="bicubic", align_corners=False
            ).clamp_(0, 1)
        else:
            init = _init_image(settings, (h, w), content_t, inputs.styles, device)
        post = _color_post(settings, stage.mode, shape_img)
        try:
            model = VGGFeatures(features, layers, settings.pool).to(device)
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
            )
        except RuntimeError as exc:  # out of memory while computing the targets (big images)
            # Same contract as a failure mid-run: a final record with the best image there is.
            kept = previous if stage.from_previous and previous is not None else init
            nan = math.nan
            yield StepRecord(
                done_before,
                total,
                nan,
                nan,
                nan,
                nan,
                time.perf_counter() - start,
                image=to_uint8(kept),
                stage=index,
                stage_label=stage.label,
                stage_done=True,
                status=ERROR,
                message=_runtime_message(exc),
                error=exc,
            )
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
            start,
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


def _color_post(
    settings: RunSettings, mode: str, content_img: Image.Image
) -> Callable[[np.ndarray], np.ndarray]:
    if mode != "transfer" or settings.color == "none":
        return lambda pixels: pixels
    reference = np.asarray(content_img, dtype=np.uint8)
    return lambda pixels: preserve_colors(pixels, reference, settings.color)


class _Halt(Exception):
    """Raised inside the closure to leave the optimizer between two evaluations."""


def _optimize(
    settings: RunSettings,
    objective: Objective,
    init: torch.Tensor,
    steps: int,
    control: RunControl,
    want_image: Callable[[int], bool],
    step0: int,
    total: int,
    start: float,
    post: Callable[[np.ndarray], np.ndarray],
    result: list[torch.Tensor],
) -> Iterator[StepRecord]:
    """One stage's loop; the last record is final. ``result`` receives the final tensor."""
    x = init.detach().clone().contiguous().requires_grad_(True)
    last_good = x.detach().clone()
    lr = settings.effective_lr
    lbfgs = settings.optimizer == "lbfgs"
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
            line_search_fn="strong_wolfe" if settings.lbfgs_line_search else None,
        )
    else:
        opt = torch.optim.Adam([x], lr=lr)
    pending: list[StepRecord] = []
    latest: StepRecord | None = None
    scale: float | None = None
    count = 0
    halt: tuple[str, str, BaseException | None] | None = None

    def evaluate() -> torch.Tensor:
        nonlocal count, halt, latest, scale
        if control.paused:
            control.wait_while_paused()
        if control.stopped:
            halt = (STOPPED, "Stopped; the current image is kept.", None)
            raise _Halt
        if count >= steps:
            raise _Halt
        opt.zero_grad(set_to_none=True)
        loss, terms = objective(x)
        values = terms.tolist()  # the one host sync of the step
        total_loss = sum(values)
        if not math.isfinite(total_loss):
            halt = (
                NONFINITE,
                "The loss became infinite or NaN, so the run stopped and kept the last good "
                "image; lower the learning rate or the style weight.",
                None,
            )
            raise _Halt
        if scale is None:
            # The optimizer sees the loss scaled to 1 at the start: L-BFGS's curvature update
            # (skipped when yᵀs < 1e-10) and Adam's epsilon assume gradients of ordinary size,
            # and NST losses range over ten orders of magnitude with weights and layers.
            scale = 1.0 / total_loss if total_loss > 0 else 1.0
        loss = loss * scale
        loss.backward()
        count += 1
        last_good.copy_(x.detach())
        step = step0 + count
        rec = StepRecord(step, total, total_loss, *values, time.perf_counter() - start)
        if want_image(step):
            rec.image = post(to_uint8(last_good))
        pending.append(rec)
        latest = rec
        return loss

    try:
        while count < steps and halt is None:
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
        halt = (ERROR, _runtime_message(exc), exc)
    status, message, error = halt if halt is not None else (DONE, "", None)
    if status == DONE and count < steps:  # pragma: no cover - defensive
        status = STOPPED
    nan = math.nan
    result.append(last_good)
    yield StepRecord(
        step0 + count,
        total,
        latest.loss if latest else nan,
        latest.content if latest else nan,
        latest.style if latest else nan,
        latest.tv if latest else nan,
        time.perf_counter() - start,
        image=post(to_uint8(last_good)),
        status=status,
        message=message,
        error=error,
    )


def _runtime_message(exc: BaseException) -> str:
    text = str(exc)
    if isinstance(exc, torch.cuda.OutOfMemoryError) or "out of memory" in text.lower():
        return (
            "The device ran out of memory, so the run stopped and kept the last good image; "
            "lower the size, use Adam instead of L-BFGS, or compute on the CPU."
        )
    first = text.splitlines()[0][:160] if text else type(exc).__name__
    return f"The computation failed ({first}); the last good image is kept."


__all__ = [
    "DONE",
    "ERROR",
    "NONFINITE",
    "RUNNING",
    "STOPPED",
    "Inputs",
    "RunControl",
    "SettingsError",
    "Stage",
    "StepRecord",
    "plan",
    "run",
]
