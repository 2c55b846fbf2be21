"""The losses of Gatys et al., exactly as DESIGN.md states them, and the objective that sums them.

Gram matrices and losses are always computed in float32, also when the network runs in bfloat16:
a Gram matrix sums M products, and bfloat16's 8-bit mantissa would lose most of them.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from contextlib import nullcontext

import torch

from .model import VGGFeatures


class _GramFn(torch.autograd.Function):
    """F Fᵀ / M with a one-product backward: dF = (dG + dGᵀ) F / M.

    Autograd's own bmm backward does two C x C x M products (one per operand) and then adds them;
    knowing both operands are the same F saves a third of the Gram work and one C x M add.
    """

    @staticmethod
    def forward(ctx, f: torch.Tensor, m: int) -> torch.Tensor:  # type: ignore[override]
        ctx.save_for_backward(f)
        ctx.m = m
        return torch.bmm(f, f.transpose(1, 2)).div_(m)

    @staticmethod
    def backward(ctx, grad: torch.Tensor) -> tuple[torch.Tensor, None]:  # type: ignore[override]
        (f,) = ctx.saved_tensors
        return torch.bmm(grad + grad.transpose(1, 2), f).div_(ctx.m), None


def gram(features: torch.Tensor) -> torch.Tensor:
    """Ĝ/M: the (B, C, C) Gram matrix of (B, C, H, W) features divided by M = H*W, in float32.

    Dividing by M lets a style image of another size serve as target; with equal sizes the style
    loss below is exactly the paper's E_l = Σ(Ĝx - Ĝs)² / (4 C² M²).
    """
    b, c, h, w = features.shape
    with torch.autocast(device_type=features.device.type, enabled=False):
        f = features.reshape(b, c, h * w).float()
        if f.requires_grad:
            return _GramFn.apply(f, h * w)
        return torch.bmm(f, f.transpose(1, 2)) / (h * w)


def content_loss(features: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean over all C*M elements of the squared difference (size-independent, unlike ½Σ)."""
    return (features.float() - target.float()).pow(2).mean()


def style_loss(gram_x: torch.Tensor, gram_target: torch.Tensor) -> torch.Tensor:
    """E_l = Σ_ij (Ĝx/M - Ĝs/M)² / (4 C²) for Gram matrices from :func:`gram`."""
    c = gram_x.shape[-1]
    return (gram_x - gram_target).pow(2).sum() / (4.0 * c * c)


def tv_loss(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference between horizontal plus vertical neighbours (size-independent)."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.float().pow(2).mean() + dy.float().pow(2).mean()


class Objective:
    """α Σ c_l L_content,l + β Σ w_l E_l + γ TV(x), with targets computed once under no_grad."""

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
    ) -> None:
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
                for image, b in zip(style_images, blend, strict=True):
                    b = b / blend_sum
                    feats = self._features(image)
                    for k in self.style_layers:
                        g = gram(feats[k]) * b
                        prev = self.style_targets.get(k)
                        self.style_targets[k] = g if prev is None else prev + g

    def _autocast(self, device: torch.device):
        if not self.bfloat16:
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
        for k, w in self.content_layers.items():
            content = content + w * content_loss(feats[k], self.content_targets[k])
        style = zero
        for k, w in self.style_layers.items():
            style = style + w * style_loss(gram(feats[k]), self.style_targets[k])
        tv = tv_loss(image) if self.gamma > 0 else zero
        terms = torch.stack([self.alpha * content, self.beta * style, self.gamma * tv])
        return terms.sum(), terms.detach()
