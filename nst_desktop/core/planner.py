"""Before a run: estimated seconds per iteration, total time and peak memory, and whether it fits.

Time is a per-device calibration (a short forward+backward probe) times a FLOP count from VGG19's
layer table, so deeper layers and bigger images cost in proportion to the work they add. Memory
counts what a pass keeps for backward, the weights, and L-BFGS's history. A run *fits* when its
peak leaves the memory guard's reserve free (core/memguard.py): a run that only fits into the
reserve would be ended by the guard. No Qt here, and torch only where a device must be asked.
"""

from __future__ import annotations

import math
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .layers import BLOCKS, LAYER_NAMES, layer_index
from .memguard import host_reading, reserve_bytes
from .settings import RunSettings, SettingsError
from .stages import plan

if TYPE_CHECKING:
    import torch
    from torch import nn

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


def device_without_torch(name: str) -> str | None:
    """The device a settings value means when that is known without importing torch (seconds
    on a slow disk): the CPU when asked for, or "auto" on a Linux computer with neither an
    NVIDIA nor an AMD GPU driver loaded. None: ask torch (core.device.resolve_device)."""
    if name == "cpu":
        return "cpu"
    gpu_signs = ("/proc/driver/nvidia", "/dev/nvidia0", "/dev/kfd")
    if name == "auto" and sys.platform == "linux" and not any(map(os.path.exists, gpu_signs)):
        return "cpu"
    return None


def memory_of(device: str) -> tuple[int, int] | None:
    """(free, total) bytes of the device's memory, or None if unknown: CUDA's mem_get_info,
    MPS's recommended working set less what torch holds, MemAvailable/MemTotal on Linux."""
    if device.startswith("cuda"):
        import torch

        try:
            free, total = torch.cuda.mem_get_info(torch.device(device))
            return int(free), int(total)
        except (RuntimeError, AssertionError, ValueError):
            return None
    if device == "mps":
        import torch

        try:
            limit = int(torch.mps.recommended_max_memory())
            return limit - int(torch.mps.driver_allocated_memory()), limit
        except (AttributeError, RuntimeError):
            return None
    if device == "cpu":
        reading = host_reading()
        return (reading.available, reading.total) if reading is not None else None
    return None


def available_bytes(device: str) -> int | None:
    """Free memory on the device (see :func:`memory_of`); None if unknown."""
    memory = memory_of(device)
    return memory[0] if memory is not None else None


def usable_bytes(device: str) -> int | None:
    """What a run may take: the free memory less the memory guard's reserve; None if unknown."""
    avail = available_bytes(device)
    if avail is None:
        return None
    memory = memory_of(device)
    total = memory[1] if memory is not None else avail
    return avail - reserve_bytes(total)


@dataclass(frozen=True)
class Fit:
    """Whether a run fits the device's free memory, and the largest size that does."""

    fits: bool
    peak_bytes: int
    available_bytes: int | None
    largest: int  # the largest size (a multiple of 16) that fits; the size itself if it fits

    def sentence(self, size: int, *, cli: bool = False) -> str:
        """One line: what it needs, what is free, and the size that fits."""
        gb = 2**30
        free = (self.available_bytes or 0) / gb
        text = f"At {size} px this run needs about {self.peak_bytes / gb:.1f} GB of memory"
        text += f" but only {free:.1f} GB is free"
        if self.largest < MIN_FIT_SIZE:
            way = "use --optimizer adam" if cli else "use Adam or close other programs"
            return f"{text}, so it does not fit even at {MIN_FIT_SIZE} px; {way}."
        if cli:
            return f"{text}; use --size {self.largest} (the largest that fits), or --force."
        return f"{text}; {self.largest} px is the largest size that fits."


#: Below this, offering a size that fits is no help.
MIN_FIT_SIZE = 64


def check_fit(settings: RunSettings, device: str, aspect: float = 1.0) -> Fit:
    """Does ``settings`` fit ``device``'s free memory, less the guard's reserve? (The CLI
    refuses a run that does not, the window asks.) A run too large to make whole fits when its
    tiles do, under its memory ceiling. Unknown memory always fits."""
    peak = peak_bytes(settings, aspect=aspect)
    usable = usable_bytes(device)
    if usable is None or peak <= usable:
        return Fit(True, peak, available_bytes(device), settings.size)
    tiled = _tiled_peak(settings, device, aspect)
    if tiled is not None and tiled <= usable:
        return Fit(True, tiled, available_bytes(device), settings.size)
    largest = min(settings.size, largest_fitting_size(settings, device, aspect))
    return Fit(False, peak, available_bytes(device), largest)


def _tiled_peak(settings: RunSettings, device: str, aspect: float) -> int | None:
    """The peak of the run made in tiles under its memory ceiling (core/tiles.py), as the
    session will plan it; None where it would not be tiled or no tile fits the ceiling (the
    session then says so in its own words)."""
    from .tiles import ceiling_bytes, plan_tiles

    aspect = min(max(aspect, 0.01), 1.0)
    try:
        plan = plan_tiles(settings, (1000, round(1000 * aspect)), ceiling_bytes(settings, device))
    except SettingsError:
        return None
    return plan.peak_bytes if plan is not None else None


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
    import torch

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
    usable = usable_bytes(device)
    fits = usable is None or peak <= usable
    note = ""
    if not fits:
        assert avail is not None
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
    """The largest size (multiple of 16, at least 16) whose estimated peak fits the free memory
    less the guard's reserve (:func:`usable_bytes`)."""
    avail = usable_bytes(device)
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
    "Fit",
    "activation_bytes",
    "available_bytes",
    "check_fit",
    "device_without_torch",
    "estimate",
    "largest_fitting_size",
    "layer_table",
    "macs_per_pass",
    "peak_bytes",
    "probe",
    "ProbeCancelled",
    "usable_bytes",
]
