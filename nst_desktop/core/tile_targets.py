"""What the tiles of a scale aim at: the style images' Gram matrices and the content's size,
computed once per scale in pieces small enough for the memory ceiling (core/tiled.py runs the
tiles). Pieces start on multiples of 16 and carry a margin of context, so every feature cell of
every layer is computed once, away from the zero padding of the piece's edge.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from PIL import Image

from . import optimize
from .guided import EMPTY_SHARE, layer_mask
from .images import resize_longest, to_tensor
from .losses import RELATIVE_EPS
from .model import VGGFeatures
from .planner import layer_table
from .regions import fit_mask
from .stages import Stage
from .tiles import Box, TiledScale, padded

if TYPE_CHECKING:
    from .tiled import _Context


class Stopped(Exception):
    """The user stopped the run while the targets were computed."""


#: Each layer's downsampling: a feature cell covers ``down`` x ``down`` input pixels.
DOWN = {name: down for name, _, down, _ in layer_table()}


@dataclass
class Targets:
    grams: dict[str, torch.Tensor]  # the whole style image's, blended
    content_size: dict[str, float]  # the whole content image's mean(F²), for 'relative'
    #: With regions: each style's own Gram matrices (of its source mask's part, if any), and
    #: each style's region over the whole picture at this scale, (1, 1, H, W) on the host.
    per_style: list[dict[str, torch.Tensor]] | None = None
    #: Σ F Fᵀ and the cell count per style layer of the picture being refined (the tiles'
    #: whole-picture style term, ``tiled._TileObjective``); kept up to date tile by tile.
    picture: dict[str, torch.Tensor] | None = None
    cells: dict[str, float] | None = None
    regions: list[torch.Tensor | None] | None = None
    outside: str = "styles"


def stage_layers(stage: Stage) -> list[str]:
    """The layers a stage's network must give: its content layers, then its style layers."""
    return list(stage.content_layers) + list(stage.style_layers)


def global_targets(
    ctx: _Context,
    model: VGGFeatures,
    stage: Stage,
    content_img: Image.Image | None,
    scale: TiledScale,
    bf16: bool,
) -> Targets:
    """Gram matrices of the whole style images and the whole content's mean(F²), in pieces;
    with regions, each style's Gram matrices apart and each region at this scale."""
    s = ctx.settings
    out = Targets({}, {})
    style_layers = [k for k, v in stage.style_layers.items() if v > 0]
    regions = ctx.inputs.regions if stage.mode == "transfer" else None
    if style_layers and ctx.inputs.styles:
        min_side = optimize._deepest_min_side(stage_layers(stage))
        side = max(min_side, round(scale.size * s.style_scale))
        blend = s.style_blend_for(len(ctx.inputs.styles))
        per_style = []
        for i, (img, b) in enumerate(zip(ctx.inputs.styles, blend, strict=True)):
            image = to_tensor(resize_longest(img, side, min_side))
            source = regions.sources.get(i) if regions else None
            weight = None if source is None else region_mask(source, image.shape[-2:])
            grams = style_grams(ctx, model, image, style_layers, bf16, weight)
            per_style.append(grams)
            for k in style_layers:
                out.grams[k] = grams[k] * b if k not in out.grams else out.grams[k] + grams[k] * b
        if regions and regions.masks:
            h, w = scale.shape
            out.per_style, out.outside = per_style, regions.outside
            out.regions = [
                None if i not in regions.masks else region_mask(regions.masks[i], (h, w))
                for i in range(len(per_style))
            ]
    content_layers = [k for k, v in stage.content_layers.items() if v > 0]
    if s.normalization == "relative" and content_layers and content_img is not None:
        image = to_tensor(content_img)
        sums, counts = feature_sums(ctx, model, image, content_layers, gram=False, bf16=bf16)
        out.content_size = {
            k: max(float(sums[k]) / counts[k], RELATIVE_EPS) for k in content_layers
        }
    return out


def style_grams(
    ctx: _Context,
    model: VGGFeatures,
    image: torch.Tensor,
    layers: list[str],
    bf16: bool,
    weight: torch.Tensor | None,
) -> dict[str, torch.Tensor]:
    """A style image's Gram matrix per layer, of the part its source mask keeps (``weight``);
    where that part vanishes at a layer's depth, the whole image's, as :class:`Objective` takes
    it (a Gram matrix of nothing would ask the picture for no style at all there)."""
    sums, counts = feature_sums(ctx, model, image, layers, gram=True, bf16=bf16, weight=weight)
    h, w = image.shape[-2:]
    cells = {k: (h // DOWN[k]) * (w // DOWN[k]) for k in layers}
    gone = [k for k in layers if weight is not None and counts[k] < EMPTY_SHARE * cells[k]]
    if gone:
        whole, whole_counts = feature_sums(ctx, model, image, gone, gram=True, bf16=bf16)
        sums.update(whole)
        counts.update(whole_counts)
    return {k: sums[k] / max(counts[k], RELATIVE_EPS) for k in layers}


def region_mask(mask: np.ndarray, shape: tuple[int, int]) -> torch.Tensor:
    """A region or source mask at ``shape`` (height, width) as a (1, 1, H, W) host tensor."""
    h, w = shape
    return torch.from_numpy(fit_mask(mask, (w, h)).copy())[None, None]


def feature_sums(
    ctx: _Context,
    model: VGGFeatures,
    image: torch.Tensor,
    layers: list[str],
    *,
    gram: bool,
    bf16: bool,
    weight: torch.Tensor | None = None,
    touching: Box | None = None,
) -> tuple[dict[str, torch.Tensor], dict[str, float]]:
    """Per layer, over the whole image computed in pieces with context: Σ F Fᵀ (``gram``) or
    Σ mean(F²) x cells, and the number of feature cells. Pieces start on multiples of 16, so
    every feature cell of every layer belongs to exactly one piece. ``weight`` (a source mask,
    (1, 1, H, W)) weighs each cell by the mask at the layer: Σ F diag(m) Fᵀ and Σ m.
    ``touching``: only the pieces whose pixels with context meet this box (the sums that a
    change inside it can move; a few passes, so they do not stop for Stop or Pause)."""
    h, w = image.shape[-2:]
    step = max(16, ctx.tiles.tile // 16 * 16)
    sums: dict[str, torch.Tensor] = {}
    counts = dict.fromkeys(layers, 0.0)
    autocast = torch.autocast(device_type=ctx.device.type, dtype=torch.bfloat16, enabled=bf16)
    for top in range(0, h, step):
        for left in range(0, w, step):
            box = (top, left, min(h, top + step), min(w, left + step))
            t, lf, b, r = padded(box, ctx.tiles.margin, h, w)
            if touching is not None:
                bt, bl, bb, br = touching
                if not (t < bb and bt < b and lf < br and bl < r):
                    continue
            else:
                if ctx.control.paused:
                    ctx.watch.wait_while_paused(ctx.control)
                if ctx.control.stopped:
                    raise Stopped
            with torch.no_grad(), autocast:
                feats = model(image[:, :, t:b, lf:r].to(ctx.device))
            for k in layers:
                d = DOWN[k]
                f = feats[k][
                    :, :, (top - t) // d : (box[2] - t) // d, (left - lf) // d : (box[3] - lf) // d
                ]
                n = f.shape[-2] * f.shape[-1]
                if n == 0:  # a strip at the edge narrower than one cell of a deep layer
                    continue
                if gram:
                    with torch.autocast(device_type=ctx.device.type, enabled=False):
                        flat = f.reshape(f.shape[0], f.shape[1], n).float()
                        if weight is not None:
                            m = layer_mask(weight[:, :, t:b, lf:r].to(ctx.device), k)
                            m = m[..., (top - t) // d :, (left - lf) // d :]
                            m = m[..., : f.shape[-2], : f.shape[-1]].reshape(1, 1, n)
                            flat, n = flat * m.sqrt(), float(m.sum())
                        part = torch.bmm(flat, flat.transpose(1, 2))
                else:  # mean first: one piece gives exactly losses.content_size's value
                    part = f.float().pow(2).mean().double() * n
                sums[k] = part if k not in sums else sums[k] + part
                counts[k] += n
            del feats
    return sums, counts


__all__ = ["DOWN", "Stopped", "Targets", "feature_sums", "global_targets", "stage_layers"]
