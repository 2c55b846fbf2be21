"""VGG19 feature extractor: truncated after the deepest layer in use, frozen, avg or max pooling."""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from .layers import BLOCKS, LAYER_NAMES, layer_index

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def vgg19_features_skeleton() -> nn.Sequential:
    """VGG19's ``features`` exactly as torchvision builds it, without the 120 M-parameter head."""
    modules: list[nn.Module] = []
    in_ch = 3
    for out_ch, n_conv in BLOCKS:
        for _ in range(n_conv):
            modules += [nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_ch = out_ch
        modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return nn.Sequential(*modules)


class VGGFeatures(nn.Module):
    """Returns the activations of the requested layers for an image in [0, 1] RGB.

    ImageNet normalization is the first step, so callers never see normalized tensors. Modules
    after the deepest requested layer are dropped: they would cost time and memory for nothing.
    """

    def __init__(self, features: nn.Sequential, layers: Iterable[str], pool: str = "avg") -> None:
        super().__init__()
        wanted = sorted({layer_index(name) for name in layers})
        if not wanted:
            raise ValueError("The feature extractor needs at least one layer.")
        last = wanted[-1]
        kept: list[nn.Module] = []
        for i, module in enumerate(list(features.children())[: last + 1]):
            if isinstance(module, nn.MaxPool2d) and pool == "avg":
                module = nn.AvgPool2d(kernel_size=2, stride=2)
            elif isinstance(module, nn.ReLU):
                # An in-place ReLU would overwrite a conv output that is itself a loss target.
                module = nn.ReLU(inplace=(i - 1) not in wanted)
            kept.append(module)
        self.body = nn.Sequential(*kept)
        self.names = {i: LAYER_NAMES[i] for i in wanted}
        self.last = last
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.eval()
        self.requires_grad_(False)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = (image - self.mean) / self.std
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.body):
            x = module(x)
            if i in self.names:
                out[self.names[i]] = x
        return out

    def train(self, mode: bool = True) -> VGGFeatures:
        # Frozen by design: nothing here may switch to training behaviour.
        return super().train(False)
