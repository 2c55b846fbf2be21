"""The losses of Gatys et al., exactly as DESIGN.md states them, and the objective that sums them.

F_l is layer l's C_l x M_l activation matrix (M_l = H_l W_l) and G_l = F_l F_lᵀ / M_l its Gram
matrix per position (x: the image being made, c: the content photo, s: the style image; with
several styles G_s is their blend-weighted mean). The objective is

    α Σ_l c_l L_content,l + β Σ_l w_l L_style,l + γ TV(x)

with one of two normalizations (the ``normalization`` setting):

``paper`` (Gatys et al.)::

    L_content,l = mean((F_x - F_c)²)                 (over all C_l M_l elements)
    L_style,l   = Σ_ij (G_x - G_s)²_ij / (4 C_l²)    (= Σ(Ĝ_x - Ĝ_s)² / (4 C_l² M_l²), Ĝ = F Fᵀ)

``relative`` (each term divided by the size of its own target)::

    L_content,l = mean((F_x - F_c)²) / max(mean(F_c²), ε)
    L_style,l   = Σ_ij (G_x - G_s)²_ij / max(Σ_ij (G_s)²_ij, ε)      ε = 1e-12

Multiplying a layer's activations by a constant k multiplies the paper's content term by k² and
its style term by k⁴, so the balance of a look depends on the network (random, ImageNet, Caffe,
a user's file); the relative terms do not change at all (ε only guards an all-zero target).
TV(x) = mean((x_i,j+1 - x_i,j)²) + mean((x_i+1,j - x_i,j)²) lives in pixel space and is the same
in both.

A style can own a region of the picture (a soft mask); its term then compares the Gram matrix
taken inside the region, normalized by the region's size: core/guided.py states those formulas.

Gram matrices and losses are float32, also when the network runs in bfloat16: a Gram matrix sums
M products, so its products accumulate in float32 (bfloat16's 8-bit mantissa would lose most of
them); only the finished entries are rounded to bfloat16 on a CPU (:func:`gram`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext

import torch

from .guided import (
    EMPTY_SHARE,
    Group,
    LayerMask,
    layer_mask,
    plan_groups,
    prepare_masks,
    region_gram,
)
from .model import VGGFeatures, is_channels_last
from .settings import NORMALIZATIONS

#: Guards the relative terms against an all-zero target (a dead layer); far below real targets.
RELATIVE_EPS = 1e-12


class _GramFn(torch.autograd.Function):
    """F Fᵀ / M of (B, C, M) rows with a one-product backward: dF = (dG + dGᵀ) F / M.

    Autograd's own bmm backward does two C x C x M products (one per operand) and then adds them;
    knowing both operands are the same F saves a third of the Gram work and one C x M add.
    """

    @staticmethod
    def forward(ctx, f: torch.Tensor, m: int) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(f)
        ctx.m = m
        return _product(f, f.transpose(1, 2)).div_(m)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (f,) = ctx.saved_tensors
        return torch.bmm((grad + grad.transpose(1, 2)).to(f.dtype), f).div_(ctx.m), None


class _GramColumnsFn(torch.autograd.Function):
    """The same Gram matrix of (B, M, C) columns, Fᵀ F / M: channels-last features viewed
    without a copy; backward dF = F (dG + dGᵀ) / M comes out channels-last as well."""

    @staticmethod
    def forward(ctx, f: torch.Tensor, m: int) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(f)
        ctx.m = m
        return _product(f.transpose(1, 2), f).div_(m)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (f,) = ctx.saved_tensors
        return torch.bmm(f, (grad + grad.transpose(1, 2)).to(f.dtype)).div_(ctx.m), None


#: Whether this torch's CUDA bmm takes ``out_dtype`` (float32 results of bfloat16 operands).
_CUDA_OUT_DTYPE: list[bool] = [True]


def _product(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """a @ b as float32. bfloat16 operands multiply in bfloat16 with float32 accumulation (no
    float32 copy of the features); on CPU the result is rounded to bfloat16 once, on CUDA it is
    kept in float32 where torch can."""
    if a.dtype not in (torch.bfloat16, torch.float16):
        return torch.bmm(a, b)
    if a.is_cuda and _CUDA_OUT_DTYPE[0]:
        try:
            return torch.bmm(a, b, out_dtype=torch.float32)
        except (RuntimeError, TypeError, NotImplementedError):
            _CUDA_OUT_DTYPE[0] = False
    return torch.bmm(a, b).float()


def gram(features: torch.Tensor) -> torch.Tensor:
    """Ĝ/M: the (B, C, C) Gram matrix of (B, C, H, W) features divided by M = H*W, in float32.

    Dividing by M lets a style image of another size serve as target; with equal sizes the style
    loss below is exactly the paper's E_l = Σ(Ĝx - Ĝs)² / (4 C² M²). Features stay as the network
    made them: channels-last ones are read as (B, M, C) columns, bfloat16 ones multiplied in
    bfloat16 (``tests/test_fast_mode.py`` bounds the loss difference against float32 Grams).
    """
    b, c, h, w = features.shape
    m = h * w
    with torch.autocast(device_type=features.device.type, enabled=False):
        if is_channels_last(features):
            f = features.permute(0, 2, 3, 1).reshape(b, m, c)  # a view, no copy
            if f.requires_grad:
                return _GramColumnsFn.apply(f, m)
            return _product(f.transpose(1, 2), f).div_(m)
        f = features.reshape(b, c, m)
        if f.requires_grad:
            return _GramFn.apply(f, m)
        return _product(f, f.transpose(1, 2)).div_(m)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over all C*M elements of the squared difference (size-independent, unlike ½Σ)."""
    return (features.float() - target.float()).pow(2).mean()


def style_loss(gram_x: torch.Tensor, gram_target: torch.Tensor) -> torch.Tensor:
    """E_l = Σ_ij (Ĝx/M - Ĝs/M)² / (4 C²) for Gram matrices from :func:`gram`."""
    c = gram_x.shape[-1]
    return (gram_x - gram_target).pow(2).sum() / (4.0 * c * c)


def content_size(target: torch.Tensor) -> torch.Tensor:
    """max(mean(F_c²), ε): what a relative content term is divided by."""
    return target.float().pow(2).mean().clamp_min(RELATIVE_EPS)


def style_size(gram_target: torch.Tensor) -> torch.Tensor:
    """max(Σ G_s², ε) of a Gram matrix from :func:`gram`: what a relative style term divides by."""
    return gram_target.pow(2).sum().clamp_min(RELATIVE_EPS)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between horizontal plus vertical neighbours (size-independent)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.float().pow(2).mean() + dy.float().pow(2).mean()


class Objective:
    """α Σ c_l L_content,l + β Σ w_l L_style,l + γ TV(x), targets computed once under no_grad.

    ``normalization`` is 'paper' or 'relative' (module docstring); the relative divisors depend
    on the targets only, so they are folded into the per-layer weights once, here.
    """

    def __init__(
        self,
        model: VGGFeatures,
        *,
        content_image: torch.Tensor | None,
        content_layers: Mapping[str, float],
        style_images: Sequence[torch.Tensor] = (),
        style_blend: Sequence[float] = (),
        style_layers: Mapping[str, float],
        content_weight: float,
        style_weight: float,
        tv_weight: float,
        bfloat16: bool = False,
        normalization: str = "paper",
        style_regions: Sequence[torch.Tensor | None] = (),
        outside: str = "styles",
        style_sources: Sequence[torch.Tensor | None] = (),
    ) -> None:
        if normalization not in NORMALIZATIONS:
            raise ValueError(f"Unknown loss normalization {normalization!r}.")
        self.model = model
        self.alpha, self.beta, self.gamma = content_weight, style_weight, tv_weight
        self.bfloat16 = bfloat16
        self.content_layers = {k: w for k, w in content_layers.items() if w > 0}
        self.style_layers = {k: w for k, w in style_layers.items() if w > 0}
        if content_image is None:
            self.content_layers = {}
        if not style_images:
            self.style_layers = {}
        self.content_targets: dict[str, torch.Tensor] = {}
        self.style_targets: dict[str, torch.Tensor] = {}
        # Guided terms (core/guided.py) when any style has a region; else the one blended term.
        self.groups: list[Group] = []
        self.style_sources = list(style_sources)  # a part of a style image to take (or None)
        self.guided = bool(self.style_layers) and any(r is not None for r in style_regions)
        if self.guided:
            blend = list(style_blend) or [1.0] * len(style_images)
            self.groups = plan_groups(style_regions, blend, outside)
        with torch.no_grad():
            if self.content_layers:
                feats = self._features(content_image)
                self.content_targets = {k: feats[k].detach() for k in self.content_layers}
            if self.style_layers:
                blend = list(style_blend) or [1.0] * len(style_images)
                # A weighted *mean* for any caller: un-normalized blends must not scale the target.
                blend_sum = sum(blend)
                if not blend_sum > 0:
                    raise ValueError("The style blend weights must add up to more than 0.")
                for i, (image, b) in enumerate(zip(style_images, blend, strict=True)):
                    if self.guided:
                        self._add_group_targets(i, self._features(image))
                        continue
                    b = b / blend_sum
                    feats = self._features(image)
                    for k in self.style_layers:
                        g = self._style_gram(i, feats, k) * b
                        prev = self.style_targets.get(k)
                        self.style_targets[k] = g if prev is None else prev + g
        self.content_factors = dict(self.content_layers)
        self.style_factors = dict(self.style_layers)
        if normalization == "relative":
            for k, t in self.content_targets.items():
                self.content_factors[k] /= float(content_size(t))
            for k, g in self.style_targets.items():
                # style_loss divides by 4 C²; the relative term divides by Σ G_s² instead.
                c = g.shape[-1]
                self.style_factors[k] *= 4.0 * c * c / float(style_size(g))
        for group in self.groups:
            self._prepare_group(group, normalization)

    def _prepare_group(self, group: Group, normalization: str) -> None:
        """A guided group's layer masks and per-layer factors (relative: 4 C² / Σ G_g²)."""
        prepare_masks(group, list(self.style_layers))
        group.factors = dict(self.style_layers)
        if normalization == "relative":
            for k, g in group.targets.items():
                c = g.shape[-1]
                group.factors[k] *= 4.0 * c * c / float(style_size(g))

    def _add_group_targets(self, index: int, feats: dict[str, torch.Tensor]) -> None:
        """Add style ``index``'s Gram matrices to the target of each group it belongs to."""
        for group in self.groups:
            weights = dict(group.members)
            if index not in weights:
                continue
            b = weights[index] / sum(weights.values())
            for k in self.style_layers:
                g = self._style_gram(index, feats, k) * b
                prev = group.targets.get(k)
                group.targets[k] = g if prev is None else prev + g

    def _style_gram(self, index: int, feats: dict[str, torch.Tensor], layer: str) -> torch.Tensor:
        """Style ``index``'s Gram matrix at ``layer``: of the part its source mask keeps, if any."""
        source = self.style_sources[index] if index < len(self.style_sources) else None
        if source is None:
            return gram(feats[layer])
        mask = LayerMask.of(layer_mask(source.clamp(0, 1).float(), layer))
        if mask.share < EMPTY_SHARE:  # a speck that vanishes at this depth: the whole image
            return gram(feats[layer])
        return region_gram(feats[layer], mask)

    def _autocast(self, device: torch.device):
        # A network already in bfloat16 (model.engine_features) needs no autocast: autocast
        # would only add a dispatch per op, and for float32 weights a cast per layer and pass.
        if not self.bfloat16 or getattr(self.model, "dtype", None) == torch.bfloat16:
            return nullcontext()
        return torch.autocast(device_type=device.type, dtype=torch.bfloat16)

    def _features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        with self._autocast(image.device):
            return self.model(image)

    def __call__(self, image: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Total loss and the weighted terms [content, style, tv] as one tensor (one sync)."""
        feats = self._features(image) if (self.content_layers or self.style_layers) else {}
        zero = image.new_zeros(())
        content = zero
        for k, w in self.content_factors.items():
            content = content + w * content_loss(feats[k], self.content_targets[k])
        style = zero
        for k, w in self.style_factors.items():
            if k in self.style_targets:  # none when the terms are guided
                style = style + w * style_loss(
                    self.picture_gram(k, feats[k]), self.style_targets[k]
                )
        for group in self.groups:
            style = style + self._group_style(group, feats)
        tv = tv_loss(image) if self.gamma > 0 else zero
        terms = torch.stack([self.alpha * content, self.beta * style, self.gamma * tv])
        return terms.sum(), terms.detach()

    def picture_gram(self, layer: str, features: torch.Tensor) -> torch.Tensor:
        """The Gram matrix the style term compares: the image's own (a tile's is the whole
        picture's with the tile in it, core/tiled.py)."""
        return gram(features)

    def _group_style(self, group: Group, feats: dict[str, torch.Tensor]) -> torch.Tensor:
        """Σ_l w_l a_l E_l of one guided group (core/guided.py's formulas)."""
        style = feats[next(iter(feats))].new_zeros((), dtype=torch.float32)
        for k, w in group.factors.items():
            masks = group.layer_masks.get(k)
            if group.region is None:
                style = style + w * style_loss(gram(feats[k]), group.targets[k])
            elif masks is not None:
                g = region_gram(feats[k], masks)
                style = style + (w * masks.share) * style_loss(g, group.targets[k])
        return style
