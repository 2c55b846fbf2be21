"""VGG19 feature extractor: truncated after the deepest layer in use, frozen, avg or max pooling.

Two input conventions exist for the same architecture: torchvision's ImageNet VGG19 wants RGB in
[0, 1] normalized by ImageNet's mean and std; the Caffe-converted VGG19 (neural-style's network)
wants BGR in 0-255 with the Caffe mean (103.939, 116.779, 123.68) subtracted and no std. The
weights carry theirs (:class:`VGG19Body`), so every caller passes [0, 1] RGB either way.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

from .layers import BLOCKS, LAYER_NAMES, layer_index

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)
#: The Caffe VGG19's per-channel mean in its own BGR order and 0-255 range.
CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
CONVENTIONS = ("torchvision", "caffe")


class VGG19Body(nn.Sequential):
    """VGG19's ``features`` plus the input convention its weights were trained with."""

    def __init__(self, *modules: nn.Module, convention: str = "torchvision") -> None:
        super().__init__(*modules)
        if convention not in CONVENTIONS:
            raise ValueError(f"Unknown input convention {convention!r}.")
        self.convention = convention


def vgg19_features_skeleton(convention: str = "torchvision") -> VGG19Body:
    """VGG19's ``features`` exactly as torchvision builds it, without the 120 M-parameter head."""
    modules: list[nn.Module] = []
    in_ch = 3
    for out_ch, n_conv in BLOCKS:
        for _ in range(n_conv):
            modules += [nn.Conv2d(in_ch, out_ch, kernel_size=3, padding=1), nn.ReLU(inplace=True)]
            in_ch = out_ch
        modules.append(nn.MaxPool2d(kernel_size=2, stride=2))
    return VGG19Body(*modules, convention=convention)


class VGGFeatures(nn.Module):
    """Returns the activations of the requested layers for an image in [0, 1] RGB.

    The weights' input convention (ImageNet normalization, or Caffe's BGR 0-255 minus its mean;
    a plain ``nn.Sequential`` is torchvision's) is the first step, so callers never see
    normalized tensors. Modules after the deepest requested layer are dropped: they would cost
    time and memory for nothing.
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
        self.convention = getattr(features, "convention", "torchvision")
        self.register_buffer("mean", torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1))
        self.register_buffer("std", torch.tensor(IMAGENET_STD).view(1, 3, 1, 1))
        self.register_buffer("caffe_mean", torch.tensor(CAFFE_MEAN_BGR).view(1, 3, 1, 1))
        self.eval()
        self.requires_grad_(False)

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        x = self.prepare(image)
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.body):
            x = module(x)
            if i in self.names:
                out[self.names[i]] = x
        return out

    def prepare(self, image: torch.Tensor) -> torch.Tensor:
        """[0, 1] RGB to the input the weights were trained on."""
        if self.convention == "caffe":
            return image.flip(1) * 255.0 - self.caffe_mean
        return (image - self.mean) / self.std

    def train(self, mode: bool = True) -> VGGFeatures:
        # Frozen by design: nothing here may switch to training behaviour.
        return super().train(False)
