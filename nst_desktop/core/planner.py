"""Before a run: estimated seconds per iteration, total time and peak memory, and whether it fits.

Time is a per-device calibration (a short forward+backward probe) times a FLOP count from VGG19's
layer table, so deeper layers and bigger images cost in proportion to the work they add. Memory
counts what a pass keeps for backward, the weights, and L-BFGS's history. No Qt here.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from .layers import BLOCKS, LAYER_NAMES, layer_index
from .settings import RunSettings
from .stages import plan

#: Bytes kept per byte of the layer table's outputs. The table counts conv, ReLU and pool outputs
#: separately although most ReLUs run in place; gradient buffers add back part of that. Fitted on
#: the CPU: the measured RSS growth from 128 to 256 px (see BENCHMARKS.md, tests/test_planner.py).
ACTIVATION_FACTOR = 1.5
#: Per-run memory besides activations: targets, allocator and oneDNN workspaces (measured ~130 MB).
RUN_OVERHEAD_BYTES = 128 * 2**20
PROBE_SIZE = 128


@dataclass
class Estimate:
    seconds_per_iter: float
    total_seconds: float
    peak_bytes: int
    available_bytes: int | None
    fits: bool
    note: str


@dataclass
class Calibration:
    """Seconds per conv multiply-accumulate on one device, measured by :func:`probe`."""

    device: str
    seconds_per_mac: float
    probe_seconds: float


def layer_table() -> list[tuple[str, int, int, int]]:
    """(name, output channels, downsampling, conv MACs per input pixel) for every features layer."""
    rows: list[tuple[str, int, int, int]] = []
    in_ch, down = 3, 1
    i = 0
    for out_ch, n_conv in BLOCKS:
        for _ in range(n_conv):
            macs = in_ch * out_ch * 9 // (down * down)
            rows.append((LAYER_NAMES[i], out_ch, down, macs))
            rows.append((LAYER_NAMES[i + 1], out_ch, down, 0))
            in_ch, i = out_ch, i + 2
        down *= 2
        rows.append((LAYER_NAMES[i], in_ch, down, 0))
        i += 1
    return rows


_TABLE = layer_table()


def _deepest(settings: RunSettings) -> int:
    content, style = settings.loss_layers()
    if settings.mode == "sweep":
        return layer_index("relu5_1")
    return max(layer_index(n) for n in list(content) + list(style))


def _pixels(settings: RunSettings, size: int | None = None, aspect: float = 1.0) -> int:
    """Pixels of the optimized image; ``aspect`` is its short side over its long side (a 3:2
    photo has 2/3 of a square's pixels, and so takes 2/3 of the time). 1.0 is the worst case."""
    side = size or settings.size
    return side * max(1, round(side * min(max(aspect, 0.0), 1.0)))


def macs_per_pass(settings: RunSettings, size: int | None = None, aspect: float = 1.0) -> float:
    """Forward + backward (input gradient only) MACs of the truncated network plus Gram work."""
    last = _deepest(settings)
    conv = sum(m for _, _, _, m in _TABLE[: last + 1]) * _pixels(settings, size, aspect)
    return 2 * conv + _gram_macs(settings, size, aspect)


def activation_bytes(settings: RunSettings, size: int | None = None, aspect: float = 1.0) -> float:
    """Float32 bytes of all layer outputs up to the deepest used layer (one copy each)."""
    last = _deepest(settings)
    px = _pixels(settings, size, aspect)
    return sum(c * px / (d * d) * 4 for _, c, d, _ in _TABLE[: last + 1])


def weight_bytes(settings: RunSettings) -> int:
    last = _deepest(settings)
    total, in_ch = 0, 3
    i = 0
    for out_ch, n_conv in BLOCKS:
        for _ in range(n_conv):
            if i <= last:
                total += (in_ch * out_ch * 9 + out_ch) * 4
            in_ch, i = out_ch, i + 2
        i += 1
    return total


def peak_bytes(settings: RunSettings, size: int | None = None, aspect: float = 1.0) -> int:
    px = _pixels(settings, size, aspect)
    image = px * 3 * 4
    history = 2 * settings.lbfgs_history * image if settings.optimizer == "lbfgs" else 2 * image
    return int(
        ACTIVATION_FACTOR * activation_bytes(settings, size, aspect)
        + weight_bytes(settings)
        + history
        + 6 * image
        + RUN_OVERHEAD_BYTES
    )


def available_bytes(device: str) -> int | None:
    """Free memory on the device: CUDA's mem_get_info, or MemAvailable on Linux; None if unknown."""
    if device.startswith("cuda"):
        try:
            free, _ = torch.cuda.mem_get_info(torch.device(device))
            return int(free)
        except (RuntimeError, AssertionError, ValueError):
            return None
    if device == "cpu":
        try:
            for line in Path("/proc/meminfo").read_text().splitlines():
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            return None
    return None


_CACHE: dict[str, Calibration] = {}


class ProbeCancelled(Exception):
    """The probe was told to stop (the window is closing) between two of its passes."""


def probe(
    device: torch.device | str,
    features: nn.Sequential | None = None,
    cancelled: Callable[[], bool] = lambda: False,
) -> Calibration:
    """Time a forward+backward at 128 px on ``device`` (cached per device for this process).

    ``cancelled`` is asked between passes, so a closing window waits for one pass at most;
    it raises :class:`ProbeCancelled`.
    """
    key = str(device)
    if key in _CACHE:
        return _CACHE[key]
    from .model import VGGFeatures
    from .weights import load_random

    dev = torch.device(device)
    if features is None:
        features = load_random(0).features
    if cancelled():
        raise ProbeCancelled(key)
    settings = RunSettings(size=PROBE_SIZE, optimizer="adam")
    content, style = settings.loss_layers()
    model = VGGFeatures(features, list(content) + list(style), settings.pool).to(dev)
    x = torch.rand(1, 3, PROBE_SIZE, PROBE_SIZE, device=dev, requires_grad=True)

    def once() -> float:
        if cancelled():
            raise ProbeCancelled(key)
        t = time.perf_counter()
        out = model(x)
        sum(o.mean() for o in out.values()).backward()
        x.grad = None
        if dev.type == "cuda":
            torch.cuda.synchronize(dev)
        return time.perf_counter() - t

    once()  # warm-up: allocator, kernel selection
    seconds = min(once() for _ in range(3))  # min: other processes only ever add time
    conv_only = macs_per_pass(settings) - _gram_macs(settings)
    cal = Calibration(key, seconds / conv_only, seconds)
    _CACHE[key] = cal
    return cal


def _gram_macs(settings: RunSettings, size: int | None = None, aspect: float = 1.0) -> float:
    _, style = settings.loss_layers()
    px = _pixels(settings, size, aspect)
    total = 0.0
    for name in style:
        _, c, down, _ = _TABLE[layer_index(name)]
        total += 2 * c * c * px / (down * down)  # forward product + one backward product
    return total


def estimate(
    settings: RunSettings,
    device: str,
    calibration: Calibration | None = None,
    aspect: float = 1.0,
) -> Estimate:
    """Estimated time and memory of a run; without a calibration only memory is meaningful.

    ``aspect``: short over long side of the image that will be optimized (1.0: square).
    """
    rate = calibration.seconds_per_mac if calibration else math.nan
    per_iter = rate * macs_per_pass(settings, aspect=aspect)
    total = sum(
        rate * macs_per_pass(settings, size, aspect) * steps for size, steps in _stages(settings)
    )
    peak = peak_bytes(settings, aspect=aspect)
    avail = available_bytes(device)
    fits = avail is None or peak <= avail
    note = ""
    if not fits:
        note = (
            f"This needs about {peak / 2**30:.1f} GB but only {avail / 2**30:.1f} GB is free; "
            f"lower the size to {largest_fitting_size(settings, device, aspect)} px or use Adam."
        )
    elif calibration is None:
        note = "Time not estimated yet (no probe on this device)."
    return Estimate(per_iter, total, peak, avail, fits, note)


def _stages(settings: RunSettings) -> list[tuple[int, int]]:
    """(size, iterations) per stage: coarse-to-fine's smaller scales cost less per iteration
    (a sweep's ten cells are all counted at relu5_1's depth, see _deepest: the worst case)."""
    return [(stage.size, stage.steps) for stage in plan(settings)]


def largest_fitting_size(settings: RunSettings, device: str, aspect: float = 1.0) -> int:
    """The largest size (multiple of 16, at least 16) whose estimated peak fits the free memory."""
    avail = available_bytes(device)
    hi = 8192
    if avail is None:
        return hi
    lo = 16
    if peak_bytes(settings, lo, aspect) > avail:
        return lo
    while hi - lo > 16:
        mid = (lo + hi) // 32 * 16
        if peak_bytes(settings, mid, aspect) <= avail:
            lo = mid
        else:
            hi = mid
    return lo


__all__ = [
    "Calibration",
    "Estimate",
    "activation_bytes",
    "available_bytes",
    "estimate",
    "largest_fitting_size",
    "layer_table",
    "macs_per_pass",
    "peak_bytes",
    "probe",
    "ProbeCancelled",
]
