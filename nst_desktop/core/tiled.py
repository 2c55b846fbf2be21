"""Tiled refinement: a picture larger than the memory allows, made under a ceiling.

The plan (core/tiles.py) names the scales that run whole (core/optimize.py does them) and the
scales refined tile by tile. A tiled scale starts from the previous scale's picture upsampled;
every tile is optimized against the *global* style targets (the Gram matrices of the whole style
image at this scale, computed once, piece by piece: core/tile_targets.py) and the content
targets of its own crop of the content image, margin included; the normalization of the relative
terms is the whole picture's too, so every tile weighs content and style alike. Its style term
compares the target with the Gram matrix of the *whole picture* with the tile in it (running
sums of F Fᵀ, updated tile by tile: :class:`_TileObjective`), so the tiles descend the whole
picture's loss. With regions each tile keeps its own guided terms, each region cropped to the
tile (core/guided.py). The picture keeps a tile's change feathered by its blend weights, and the
tile is optimized through that blend, its margin held as context (:class:`_Tile`); its optimizer
state is dropped when it ends. The records are those of :func:`optimize.run`; every picture they
carry is the whole picture, refined tiles pasted in.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image
from torch import nn

from . import optimize
from .guided import plan_groups
from .images import resize_longest, to_tensor, to_uint8
from .losses import Objective, _GramFn, style_size
from .model import VGGFeatures
from .optimize import (
    DONE,
    ERROR,
    RUNNING,
    STOPPED,
    Inputs,
    RunControl,
    StepRecord,
    failure_kind,
    runtime_message,
)
from .settings import RunSettings
from .stages import Stage
from .tile_targets import (
    DOWN,
    Stopped,
    Targets,
    feature_sums,
    global_targets,
    stage_layers,
)
from .tiles import Box, TiledScale, TilePlan, feather_weights, padded


@dataclass
class _Context(optimize._RunContext):
    """The engine's run context, shared by the whole scales and the tiles, and the plan."""

    plan: TilePlan | None = None

    @property
    def tiles(self) -> TilePlan:
        assert self.plan is not None
        return self.plan


def run(
    settings: RunSettings,
    inputs: Inputs,
    features: nn.Sequential,
    device: torch.device,
    plan: TilePlan,
    *,
    control: RunControl | None = None,
    want_image: Callable[[int], bool] | int = 0,
    channels_last: bool = False,
) -> Iterator[StepRecord]:
    """:func:`optimize.run` for a tiled plan: the whole scales, then the tiles, one record per
    evaluation; the last record is final and carries the whole picture."""
    ctx = optimize.run_context(
        settings, inputs, features, device, control, want_image, _Context,
        channels_last=channels_last, plan=plan,
    )  # fmt: skip
    assert isinstance(ctx, _Context)
    ctx.total = plan.total_steps
    last: StepRecord | None = None
    for rec in optimize.run(settings, inputs, features, device, stages=plan.whole, context=ctx):
        if rec.final:
            last = rec
            if rec.status == DONE:  # the tiles follow (a copy: the generator reads its own)
                rec = dataclasses.replace(rec, status=RUNNING)
        yield rec
    if last is None or last.status != DONE or ctx.previous is None:
        return
    picture = ctx.previous.detach().cpu()
    step = last.step
    for n, scale in enumerate(plan.tiled):
        outcome = yield from _refine(ctx, scale, picture, step, n == len(plan.tiled) - 1)
        if outcome is None:
            return
        picture, step = outcome


def _refine(
    ctx: _Context, scale: TiledScale, previous: torch.Tensor, step: int, last_scale: bool
) -> Iterator[StepRecord]:
    """One scale in tiles; returns (picture, step) to go on with, or None when the run ended."""
    s, plan = ctx.settings, ctx.tiles
    stage = plan.stages[scale.first_stage]
    h, w = scale.shape
    texture = stage.mode == "style-rep"
    base_img = ctx.inputs.styles[0] if texture else ctx.inputs.content
    assert base_img is not None
    shape_img = resize_longest(base_img, scale.size)
    content_img = None if texture else shape_img
    canvas = nn.functional.interpolate(
        previous, size=(h, w), mode="bicubic", align_corners=False
    ).clamp_(0, 1)
    post = optimize._color_post(s, stage.mode, shape_img)
    bf16 = ctx.bf16
    model = VGGFeatures(ctx.features, stage_layers(stage), s.pool).to(ctx.device)
    try:
        targets = global_targets(ctx, model, stage, content_img, scale, bf16)
    except (Stopped, RuntimeError) as exc:
        yield _end(ctx, step, scale.first_stage, stage.label, post(to_uint8(canvas)), exc)
        return None
    weights = feather_weights(h, w, plan.tile, plan.overlap)
    index = scale.first_stage
    final_index = len(plan.stages) - 1 if last_scale else -1
    for _sweep in range(plan.sweeps):
        if targets.grams and targets.regions is None:
            try:
                layers = list(targets.grams)
                targets.picture, targets.cells = feature_sums(
                    ctx, model, canvas, layers, gram=True, bf16=bf16
                )
            except (Stopped, RuntimeError) as exc:
                yield _end(ctx, step, index, plan.stages[index].label, post(to_uint8(canvas)), exc)
                return None
        for box, weight in zip(scale.boxes, weights, strict=True):
            tile_stage = plan.stages[index]
            tile = _Tile(ctx, box, torch.from_numpy(weight)[None, None], canvas, post)
            for rec in tile.optimize(model, tile_stage, content_img, targets, step, bf16):
                rec.stage, rec.stage_label = index, tile_stage.label
                rec.tile_box, rec.picture_shape = box, (h, w)
                if rec.final:
                    rec.stage_done = True
                    step = rec.step
                    if rec.status == DONE and index != final_index:
                        rec.status = RUNNING
                    if rec.status not in (RUNNING, DONE):
                        yield rec
                        return None
                yield rec
            index += 1
    return canvas, step


class _Tile:
    """One box of the picture: its crop with context, and the picture with its change pasted.

    The picture keeps the tile's change feathered (its box's blend weights, nothing of the
    margin), and the tile is optimized through that same blend (:meth:`_TileObjective.seen`):
    what the network judges during the tile is exactly the picture that results, the margin is
    context that does not move, and an overlap already refined is changed only in proportion.
    """

    def __init__(
        self,
        ctx: _Context,
        box: Box,
        weight: torch.Tensor,
        canvas: torch.Tensor,
        post: Callable[[np.ndarray], np.ndarray],
    ) -> None:
        self.ctx, self.box, self.canvas, self.post = ctx, box, canvas, post
        h, w = canvas.shape[-2:]
        self.crop = padded(box, ctx.tiles.margin, h, w)
        t, left, b, r = self.crop
        self.inner = (box[0] - t, box[1] - left, box[2] - t, box[3] - left)
        y0, x0, y1, x1 = self.inner
        self.start = canvas[:, :, t:b, left:r].clone()
        self.feather = torch.zeros((1, 1, b - t, r - left))
        self.feather[:, :, y0:y1, x0:x1] = weight

    def optimize(
        self,
        model: VGGFeatures,
        stage: Stage,
        content_img: Image.Image | None,
        targets: Targets,
        step0: int,
        bf16: bool,
    ) -> Iterator[StepRecord]:
        ctx = self.ctx
        t, left, b, r = self.crop
        init = self.start.to(ctx.device)
        content_t = None
        if content_img is not None and stage.content_layers:
            content_t = to_tensor(content_img.crop((left, t, r, b)), ctx.device)
        objective = _objective(model, ctx.settings, stage, content_t, targets, bf16, self.crop)
        objective.start, objective.feather = init, self.feather.to(ctx.device)
        before = None
        if self._whole_style(objective, model, init, targets, bf16):
            before = self._touched_sums(model, targets, bf16)
        # The loop works on the tile (its final loss is the tile's, on its own pixels); the
        # pictures it hands out become the whole picture here.
        ctx.done_before = step0
        loop = optimize._StageLoop(
            ctx.settings, objective, init, stage.steps, ctx, lambda pixels: pixels
        )
        for rec in loop.records(to_uint8(init)):
            if rec.final and rec.status == DONE:
                self.canvas[:, :, t:b, left:r] = objective.seen(loop.kept.detach()).cpu()
                if before is not None and targets.picture is not None:
                    after = self._touched_sums(model, targets, bf16)
                    for k, v in after.items():
                        targets.picture[k] += v - before[k]
                rec.image = self.post(to_uint8(self.canvas))
            elif rec.image is not None:
                rec.image = self.preview(rec.image)
            yield rec
        # the tile's optimizer state goes with the loop

    def _whole_style(
        self,
        objective: Objective,
        model: VGGFeatures,
        init: torch.Tensor,
        targets: Targets,
        bf16: bool,
    ) -> bool:
        """Make the tile's style term the whole picture's (:class:`_TileObjective`); False when
        the term stays the tile's own (regions)."""
        if not isinstance(objective, _TileObjective) or targets.picture is None:
            return False
        layers = [k for k in objective.style_factors if k in objective.style_targets]
        if not layers or targets.cells is None:
            return False
        before = _box_sums(model, init, self.inner, layers, bf16)
        objective.inner = self.inner
        objective.rest = {k: targets.picture[k] - before[k] for k in layers}
        objective.cells = {k: targets.cells[k] for k in layers}
        h, w = init.shape[-2:]
        for k in layers:  # the term scaled like the content's mean over the crop
            d = DOWN[k]
            objective.style_factors[k] *= targets.cells[k] / max(1, (h // d) * (w // d))
        return True

    def _touched_sums(
        self, model: VGGFeatures, targets: Targets, bf16: bool
    ) -> dict[str, torch.Tensor]:
        """Σ F Fᵀ of the picture's pieces that the tile can change, computed as the picture's
        sums are: so the running sums follow the picture exactly, where the box's features in
        its own crop (another context) would drift from them tile after tile."""
        assert targets.picture is not None
        layers = list(targets.picture)
        sums, _ = feature_sums(
            self.ctx, model, self.canvas, layers, gram=True, bf16=bf16, touching=self.box
        )
        return sums

    def preview(self, pixels: np.ndarray) -> np.ndarray:
        """The whole picture with the tile as it is now (``pixels``: the crop) blended in."""
        tile = torch.from_numpy(np.ascontiguousarray(pixels)).permute(2, 0, 1)[None]
        change = tile.float().div_(255.0) - self.start
        picture = to_uint8(self.canvas)
        t, left, b, r = self.crop
        picture[t:b, left:r] = to_uint8(self.start + self.feather * change)
        return self.post(picture)


class _TileObjective(Objective):
    """A tile's objective whose style term is the *whole picture's*: the Gram matrix of the
    picture with the tile's box as it is now, ``(Σ_rest F Fᵀ + F_box F_boxᵀ) / M``, so that
    refining the tiles one by one descends the whole picture's loss (a tile matching the style
    on its own is a stricter aim: by convexity Σ (M_i / M) ‖G_i - T‖² ≥ ‖Σ (M_i / M) G_i - T‖²,
    and it trades content for style). ``rest`` and ``cells`` are set by :class:`_Tile`."""

    inner: Box = (0, 0, 0, 0)  # the box in the crop's pixels
    rest: dict[str, torch.Tensor] | None = None  # None: the tile's own Gram matrix
    cells: dict[str, float] = {}  # noqa: RUF012 - set per instance
    start: torch.Tensor | None = None  # the crop as the picture has it when the tile starts
    feather: torch.Tensor | None = None  # the share of each pixel's change the picture keeps

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return super().__call__(self.seen(image))

    def seen(self, image: torch.Tensor) -> torch.Tensor:
        """The crop as the picture will have it: the tile's change, feathered, on the picture."""
        if self.start is None or self.feather is None:
            return image
        return self.start + self.feather * (image - self.start)

    def picture_gram(self, layer: str, features: torch.Tensor) -> torch.Tensor:
        if self.rest is None:
            return super().picture_gram(layer, features)
        f = _box_cells(features, self.inner, layer)
        with torch.autocast(device_type=features.device.type, enabled=False):
            flat = f.float().reshape(f.shape[0], f.shape[1], -1)
            m = self.cells[layer]
            own = _GramFn.apply(flat, m) if flat.requires_grad else torch.bmm(flat, flat.mT) / m
            return self.rest[layer] / m + own


def _box_cells(features: torch.Tensor, inner: Box, layer: str) -> torch.Tensor:
    """The feature cells of ``features`` (of a crop) that lie in the box ``inner``."""
    d = DOWN[layer]
    y0, x0, y1, x1 = inner
    return features[..., y0 // d : y1 // d, x0 // d : x1 // d]


def _box_sums(model: VGGFeatures, image: torch.Tensor, inner: Box, layers: list[str], bf16: bool):
    """Σ F Fᵀ of the box's cells per layer (no gradient)."""
    autocast = torch.autocast(device_type=image.device.type, dtype=torch.bfloat16, enabled=bf16)
    with torch.no_grad(), autocast:
        feats = model(image)
    out = {}
    for k in layers:
        f = _box_cells(feats[k], inner, k).float()
        flat = f.reshape(f.shape[0], f.shape[1], -1)
        out[k] = torch.bmm(flat, flat.transpose(1, 2))
    return out


def _objective(
    model: VGGFeatures,
    s: RunSettings,
    stage: Stage,
    content_t: torch.Tensor | None,
    targets: Targets,
    bf16: bool,
    crop: Box,
) -> Objective:
    """The tile's objective: its own content targets, the global style targets and scales;
    with regions, each style's term inside its region's crop (core/guided.py)."""
    weights = {
        "transfer": (s.content_weight, s.style_weight),
        "content-rep": (1.0, 0.0),
        "style-rep": (0.0, 1.0),
    }[stage.mode]
    objective = _TileObjective(
        model,
        content_image=content_t,
        content_layers=stage.content_layers,
        style_layers={},
        content_weight=weights[0],
        style_weight=weights[1],
        tv_weight=s.tv_weight,
        bfloat16=bf16,
        normalization="paper",  # the relative factors are the whole picture's: set below
    )
    style = {k: v for k, v in stage.style_layers.items() if v > 0 and k in targets.grams}
    objective.style_layers = style
    if s.normalization == "relative":
        objective.content_factors = {
            k: v / targets.content_size[k] for k, v in objective.content_layers.items()
        }
    if targets.regions is not None and stage.mode == "transfer" and style:
        _guide(objective, s, targets, crop)
        return objective
    objective.style_targets = {k: targets.grams[k] for k in style}
    objective.style_factors = dict(style)
    if s.normalization == "relative":
        for k, g in objective.style_targets.items():
            c = g.shape[-1]
            objective.style_factors[k] *= 4.0 * c * c / float(style_size(g))
    return objective


def _guide(objective: Objective, s: RunSettings, targets: Targets, crop: Box) -> None:
    """The guided terms of a tile: each group's region cropped to the tile, its target the
    blend of its styles' global Gram matrices (as :class:`Objective` builds them whole)."""
    assert targets.regions is not None and targets.per_style is not None
    t, left, b, r = crop
    device = next(iter(targets.per_style[0].values())).device
    regions = [None if m is None else m[:, :, t:b, left:r].to(device) for m in targets.regions]
    blend = s.style_blend_for(len(targets.per_style))
    objective.groups = plan_groups(regions, blend, targets.outside)
    objective.guided = True
    objective.style_targets, objective.style_factors = {}, {}
    for group in objective.groups:
        total = sum(w for _, w in group.members)
        for i, w in group.members:
            for k in objective.style_layers:
                g = targets.per_style[i][k] * (w / total)
                group.targets[k] = g if k not in group.targets else group.targets[k] + g
        objective._prepare_group(group, s.normalization)


def _end(
    ctx: _Context, step: int, index: int, label: str, image: np.ndarray, exc: BaseException
) -> StepRecord:
    """The final record when the targets could not be computed (stopped, out of memory)."""
    nan = math.nan
    rec = StepRecord(step, ctx.total, nan, nan, nan, nan, ctx.watch.elapsed(), image=image)
    rec.stage, rec.stage_label, rec.stage_done = index, label, True
    if isinstance(exc, Stopped):
        rec.status, rec.message = STOPPED, "Stopped; the current image is kept."
    else:
        rec.status, rec.message = ERROR, runtime_message(exc)
        rec.failure, rec.error = failure_kind(exc), exc
    return rec


__all__ = ["run"]
