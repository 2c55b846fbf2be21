"""VGG19 feature extractor: truncated after the deepest layer in use, frozen, avg or max pooling.

Two input conventions exist for the same architecture: torchvision's ImageNet VGG19 wants RGB in
[0, 1] normalized by ImageNet's mean and std; the Caffe-converted VGG19 (neural-style's network)
wants BGR in 0-255 with the Caffe mean (103.939, 116.779, 123.68) subtracted and no std. The
weights carry theirs (:class:`VGG19Body`), so every caller passes [0, 1] RGB either way.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterable

import torch
from torch import nn

from .layers import BLOCKS, LAYER_NAMES, layer_index
from .memguard import MemoryGuard

#: Bytes a pass with gradients keeps per byte of layer output, for the memory guard's forecast:
#: the outputs stay for backward, whose gradient buffers add about half again (as the planner's
#: ACTIVATION_FACTOR, fitted on measured memory).
GRAD_PASS_FACTOR = 1.5

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


def engine_features(
    features: nn.Sequential,
    device: torch.device,
    *,
    bfloat16: bool = False,
    channels_last: bool = False,
) -> nn.Sequential:
    """The network a run computes with: ``features`` on ``device`` and, for a fast mode, a copy
    converted once (weights in bfloat16, channels-last), so that no layer converts a weight or
    a layout during a pass and the caller's float32 weights stay as they are.
    """
    features = features.to(device)
    if not (bfloat16 or channels_last):
        return features
    fast = copy.deepcopy(features)
    if bfloat16:
        fast = fast.to(dtype=torch.bfloat16)
    if channels_last:
        fast = fast.to(memory_format=torch.channels_last)
    return fast


def is_channels_last(t: torch.Tensor) -> bool:
    """A 4-d tensor laid out channels-last (and not also plainly contiguous, as 1x1 maps are)."""
    return (
        t.dim() == 4
        and not t.is_contiguous()
        and t.is_contiguous(memory_format=torch.channels_last)
    )


class VGGFeatures(nn.Module):
    """Returns the activations of the requested layers for an image in [0, 1] RGB.

    The weights' input convention (ImageNet normalization, or Caffe's BGR 0-255 minus its mean;
    a plain ``nn.Sequential`` is torchvision's) is the first step, so callers never see
    normalized tensors. Modules after the deepest requested layer are dropped: they would cost
    time and memory for nothing. The input is brought to the weights' dtype and layout once, so
    a network from :func:`engine_features` runs bfloat16 or channels-last end to end.
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
        #: Asked before every layer (stop flag, memory guard); None: nothing watches.
        self.watch: LayerWatch | None = None

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        watch = self.watch
        if watch is not None:
            watch.begin()
        x = self.prepare(image)
        out: dict[str, torch.Tensor] = {}
        for i, module in enumerate(self.body):
            if watch is not None:
                watch.before(module, x, keep=i in self.names)
            x = module(x)
            if i in self.names:
                out[self.names[i]] = x
        return out

    def prepare(self, image: torch.Tensor) -> torch.Tensor:
        """[0, 1] RGB to the input the weights were trained on."""
        if self.convention == "caffe":
            x = image.flip(1) * 255.0 - self.caffe_mean
        else:
            x = (image - self.mean) / self.std
        weight = self.body[0].weight
        if x.dtype != weight.dtype:
            x = x.to(weight.dtype)
        if is_channels_last(weight):
            x = x.contiguous(memory_format=torch.channels_last)
        return x

    @property
    def dtype(self) -> torch.dtype:
        """What the network computes in: its weights' dtype."""
        return self.body[0].weight.dtype

    def train(self, mode: bool = True) -> VGGFeatures:
        # Frozen by design: nothing here may switch to training behaviour.
        return super().train(False)


def output_bytes(module: nn.Module, x: torch.Tensor) -> int:
    """Bytes of the new tensor ``module`` makes from ``x`` (VGG's 3x3 same-size convs, 2x2
    pools; an in-place ReLU makes none)."""
    b, c, h, w = x.shape
    size = x.element_size()
    if isinstance(module, nn.Conv2d):
        return b * module.out_channels * h * w * size
    if isinstance(module, nn.MaxPool2d | nn.AvgPool2d):
        return b * c * (h // 2) * (w // 2) * size
    if isinstance(module, nn.ReLU) and module.inplace:
        return 0
    return x.numel() * size


class LayerWatch:
    """What a pass checks before each layer: the stop flag (a user's stop ends the targets'
    passes; an evaluation only ends early for an abort, the guard's), and whether the layer's
    output still fits the memory guard's headroom (so one huge allocation is refused, not made).

    With gradients, every output stays until backward (times :data:`GRAD_PASS_FACTOR`); without
    (the targets), only the input, the output and the kept target layers are alive at once.
    """

    def __init__(self, check: Callable[[bool], None], guard: MemoryGuard | None) -> None:
        self.check = check
        self.guard = guard
        self.headroom: int | None = None
        self.spent = 0
        self.kept = 0

    def begin(self) -> None:
        self.check(torch.is_grad_enabled())
        self.headroom = self.guard.headroom() if self.guard is not None else None
        self.spent = self.kept = 0

    def before(self, module: nn.Module, x: torch.Tensor, *, keep: bool) -> None:
        evaluating = torch.is_grad_enabled()
        self.check(evaluating)  # ``check(True)``: only an abort ends an evaluation midway
        if self.headroom is None or self.guard is None:
            return
        new = output_bytes(module, x)
        if evaluating:
            self.spent += int(new * GRAD_PASS_FACTOR)
            need = self.spent
        else:
            held = x.numel() * x.element_size()
            need = self.kept + held + new
            if keep:
                self.kept += new or held  # an in-place layer keeps its input
        if need > self.headroom:
            self.guard.refuse(need)
