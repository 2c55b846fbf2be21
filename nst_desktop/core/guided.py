"""Guided (masked) style terms: each style can own a region of the picture.

A region is a soft mask m ∈ [0, 1] over the content picture. At a style layer l the mask is
brought to the layer's resolution by the network's own 2x2 average pools (one per pool before
the layer; m_l), and the generated picture's Gram matrix is taken *inside* it, weighted by m_l
and normalized by the region's size Σm_l, not the whole picture's M_l:

    G^R_x = F_x diag(m_l) F_xᵀ / Σ_p m_l,p          (a mask of all ones gives G_x = F Fᵀ / M)

One term per *group*: each style with a region is a group; the styles without one form a group
whose region is the rest of the picture, r = 1 - max_i m_i (``outside='styles'``), or are left
out so the rest keeps only the content term (``outside='keep'``). A group's target G_g is the
blend-weighted mean of its styles' Gram matrices (as without regions). Each term is weighted by
its region's share of the picture, a_l = Σm_l / M_l, so the style weight means what it means
without regions (one region of all ones is exactly the unguided term) and a region's balance of
content against style per pixel is the picture's:

    paper:     L_style,l = Σ_g a_l,g Σ_ij (G^R_x,g - G_g)²_ij / (4 C_l²)
    relative:  L_style,l = Σ_g a_l,g Σ_ij (G^R_x,g - G_g)²_ij / max(Σ_ij (G_g)²_ij, ε)

A style can also have a *source* mask s over its own image (only the sky of a painting): its
Gram matrix is then taken inside s by the same formula, G_s = F_s diag(s_l) F_sᵀ / Σ s_l.

A group whose region is empty at a layer (Σm_l < 1e-6 M_l) adds nothing there. The content term
and TV are unchanged (the whole picture). All groups share the one forward pass per evaluation.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
from torch import nn

from .layers import downsampling
from .regions import OUTSIDE_CHOICES

#: A region smaller than this share of a layer is empty there.
EMPTY_SHARE = 1e-6


@dataclass
class Group:
    """One guided style term: its region (None: the whole picture) and its styles' weights."""

    region: torch.Tensor | None  # (1, 1, H, W) in [0, 1] at the picture's resolution
    members: list[tuple[int, float]]  # (style index, blend weight), weights > 0
    targets: dict[str, torch.Tensor] = field(default_factory=dict)
    factors: dict[str, float] = field(default_factory=dict)
    #: Per layer; None where the region is empty there.
    layer_masks: dict[str, LayerMask | None] = field(default_factory=dict)


@dataclass
class LayerMask:
    """A region at one layer: √m_l at the positions it covers, Σm_l and the share a_l.

    Only the positions with m > 0 enter the product (``index``), so disjoint regions cost about
    one Gram matrix together, not one each; None: the region covers most of the layer.
    """

    sqrt: torch.Tensor  # (len(index),) or (h * w,)
    index: torch.Tensor | None
    total: float
    share: float
    shape: tuple[int, int]

    @classmethod
    def of(cls, m: torch.Tensor) -> LayerMask:
        """From an (1, 1, h, w) mask at the layer's resolution."""
        h, w = m.shape[-2:]
        flat = m.reshape(-1)
        total = float(flat.sum(dtype=torch.float64))
        inside = torch.nonzero(flat > 0).reshape(-1)
        if inside.numel() > 0.8 * flat.numel():
            return cls(flat.sqrt(), None, total, total / flat.numel(), (h, w))
        return cls(flat[inside].sqrt(), inside, total, total / flat.numel(), (h, w))


def plan_groups(
    regions: Sequence[torch.Tensor | None], blend: Sequence[float], outside: str
) -> list[Group]:
    """The guided terms for styles with ``regions`` (None: no region) and ``blend`` weights."""
    if outside not in OUTSIDE_CHOICES:
        raise ValueError(f"Unknown outside choice {outside!r}.")
    masked = [(i, r.clamp(0, 1)) for i, r in enumerate(regions) if r is not None]
    free = [(i, b) for i, (r, b) in enumerate(zip(regions, blend, strict=True)) if r is None]
    groups = [Group(r, [(i, 1.0)]) for i, r in masked if blend[i] > 0]
    free = [(i, b) for i, b in free if b > 0]
    if free and (outside == "styles" or not masked):
        rest = None
        if masked:
            union = torch.stack([r for _, r in masked]).amax(dim=0)
            rest = 1.0 - union
        groups.append(Group(rest, free))
    return groups


def layer_mask(region: torch.Tensor, layer: str) -> torch.Tensor:
    """The region at ``layer``'s resolution: the network's 2x2 pools applied to the mask."""
    m = region
    for _ in range(int(math.log2(downsampling(layer)))):
        m = nn.functional.avg_pool2d(m, kernel_size=2, stride=2)
    return m


def prepare_masks(group: Group, layers: Sequence[str]) -> None:
    """Fill ``group.layer_masks`` once: √m_l, Σm_l and the share a_l for every style layer."""
    for k in layers:
        if group.region is None:
            group.layer_masks[k] = None
            continue
        lm = LayerMask.of(layer_mask(group.region.float(), k))
        group.layer_masks[k] = None if lm.share < EMPTY_SHARE else lm


def region_gram(features: torch.Tensor, mask: LayerMask) -> torch.Tensor:
    """G^R = F diag(m) Fᵀ / Σm as (B, C, C) float32: the Gram matrix inside a soft region."""
    from .losses import _GramFn

    b, c, h, w = features.shape
    if mask.shape != (h, w):  # a network whose pools differ from VGG19's: resize the mask
        full = torch.zeros(mask.shape[0] * mask.shape[1], device=features.device)
        full = full.index_copy(0, mask.index, mask.sqrt) if mask.index is not None else mask.sqrt
        m = nn.functional.interpolate(full.square().reshape(1, 1, *mask.shape), (h, w), mode="area")
        mask = LayerMask.of(m)
    with torch.autocast(device_type=features.device.type, enabled=False):
        f = features.float().reshape(b, c, h * w)
        if mask.index is not None:
            f = f.index_select(2, mask.index)
        f = f * mask.sqrt
        if f.requires_grad:
            return _GramFn.apply(f, mask.total)
        return torch.bmm(f, f.transpose(1, 2)) / mask.total


def empty_groups(groups: Sequence[Group], n_styles: int) -> list[int]:
    """Style indices whose region is empty at every layer (they shape nothing)."""
    out = []
    for g in groups:
        if g.region is not None and all(v is None for v in g.layer_masks.values()):
            out += [i for i, _ in g.members]
    return [i for i in out if i < n_styles]
