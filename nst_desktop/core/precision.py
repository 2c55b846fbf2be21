"""Which precision a run computes in, and why: ``auto`` measures instead of assuming.

bfloat16 is about twice as fast as float32 on a CPU with native bfloat16 (AMX, avx512_bf16) and
35-200x slower on one without (AVX2 only, BENCHMARKS.md); CPU flags alone cannot tell which, and
GPUs differ too. So ``auto`` times both on a small network pass (:func:`measure`), checks that a
short run's loss in bfloat16 stays close to float32's, and keeps the decision in the cache folder
keyed by the machine (CPU model and flags), the device and the torch version. The window runs the
probe in the background with the planner's; a CLI run runs it once per machine, before its
first iteration (it stops after one bfloat16 pass when that pass alone shows no gain).
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import statistics
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from .paths import cache_dir

log = logging.getLogger(__name__)

#: bfloat16 must be at least this much faster than float32 to be chosen.
MIN_SPEEDUP = 1.3
#: ... and a short run's loss in bfloat16 within this fraction of float32's.
MAX_LOSS_CHANGE = 0.05
PROBE_SIZE = 64
REPEATS = 3
#: The quick look: a pass this small, and how much gain it may hide (small passes favour
#: float32: fixed costs weigh more), before the real measurement is skipped.
QUICK_SIZE = 32
QUICK_MARGIN = 2.0
CACHE_FILE = "precision.json"
#: Pins what 'auto' means without measuring (the test suite; a fleet of identical machines).
PIN_ENV = "NST_DESKTOP_AUTO_PRECISION"


@dataclass(frozen=True)
class Choice:
    """The precision a run uses and one clause saying why."""

    precision: str  # "float32" or "bfloat16"
    reason: str

    @property
    def bfloat16(self) -> bool:
        return self.precision == "bfloat16"

    def describe(self) -> str:
        return f"{self.precision}: {self.reason}" if self.reason else self.precision


@dataclass
class Measurement:
    """What the probe measured on one device: median seconds per pass and the loss change."""

    float32_s: float
    bfloat16_s: float
    loss_change: float  # |loss_bf16 / loss_f32 - 1| after a short run; inf when not run
    probe_s: float  # how long the whole probe took

    @property
    def speedup(self) -> float:
        return self.float32_s / self.bfloat16_s if self.bfloat16_s > 0 else 0.0


def decide(m: Measurement) -> Choice:
    """bfloat16 when it is at least :data:`MIN_SPEEDUP` faster and the loss stays close."""
    where = "on this device"
    if m.speedup < MIN_SPEEDUP:
        slower = 1.0 / m.speedup if m.speedup > 0 else float("inf")
        if slower >= 1.05:
            return Choice("float32", f"bfloat16 was {_times(slower)} slower {where}")
        return Choice("float32", f"bfloat16 was only {_times(m.speedup)} faster {where}")
    if not m.loss_change <= MAX_LOSS_CHANGE:
        return Choice(
            "float32",
            f"bfloat16 was {_times(m.speedup)} faster but changed the loss by "
            f"{m.loss_change:.0%} {where}",
        )
    return Choice("bfloat16", f"{_times(m.speedup)} faster than float32 {where}")


def _times(x: float) -> str:
    return f"{x:.0f}x" if x >= 10 else f"{x:.1f}x"


def machine_key(device: torch.device) -> str:
    """What a cached decision is valid for: the CPU (model and flags), the device, torch."""
    parts = [platform.machine(), _cpu_description(), str(device), torch.__version__]
    if device.type == "cuda":
        parts.append(torch.cuda.get_device_name(device))
    return hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]


def _cpu_description() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text(errors="replace")
    except OSError:
        return platform.processor()
    fields = {}
    for line in text.splitlines():
        key, _, value = line.partition(":")
        key = key.strip()
        if key in ("model name", "flags", "Features") and key not in fields:
            fields[key] = value.strip()
    return " ".join(fields.values()) or platform.processor()


_LOCK = threading.Lock()
_MEMORY: dict[str, Choice] = {}


def choose(setting: str, device: torch.device, *, probe: Callable | None = None) -> Choice:
    """The precision for ``setting`` ('float32', 'bfloat16' or 'auto') on ``device``.

    ``auto`` uses the cached decision for this machine, device and torch, or measures now.
    """
    if setting == "float32":
        return Choice("float32", "chosen in the settings")
    if setting == "bfloat16":
        return Choice("bfloat16", "chosen in the settings")
    if device.type == "mps":
        return Choice("float32", "bfloat16 is not measured on Apple GPUs")
    pinned = os.environ.get(PIN_ENV, "")
    if pinned in ("float32", "bfloat16"):
        return Choice(pinned, f"set by {PIN_ENV}")
    key = machine_key(device)
    with _LOCK:  # a run that starts while the window's background probe runs waits for it
        if key in _MEMORY:
            return _MEMORY[key]
        choice = _read_cache(key)
        if choice is None:
            try:
                m = (probe or measure)(device)
            except Exception:  # noqa: BLE001 - a failed probe must not cost the run
                log.exception("the precision probe failed")
                return Choice("float32", "the bfloat16 probe failed on this device")
            choice = decide(m)
            _write_cache(key, choice, m)
        _MEMORY[key] = choice
        return choice


def _cache_path() -> Path:
    return cache_dir() / CACHE_FILE


def _read_cache(key: str) -> Choice | None:
    try:
        entry = json.loads(_cache_path().read_text(encoding="utf-8")).get(key)
        return Choice(str(entry["precision"]), str(entry["reason"]))
    except (OSError, ValueError, TypeError, KeyError, AttributeError):
        return None


def _write_cache(key: str, choice: Choice, m: Measurement) -> None:
    """Best effort: a read-only cache folder only means measuring again next time."""
    path = _cache_path()
    try:
        data = json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}
        if not isinstance(data, dict):
            data = {}
    except (OSError, ValueError):
        data = {}
    data[key] = {**asdict(choice), "measured": asdict(m), "torch": torch.__version__}
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(data, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        pass


def forget() -> None:
    """Drop the decisions held in memory (tests; a changed machine needs a new process anyway)."""
    with _LOCK:
        _MEMORY.clear()


def measure(device: torch.device) -> Measurement:
    """Time float32 and bfloat16 forward+backward passes and compare a short run's loss.

    A quick look at a tiny pass first: where bfloat16 is emulated it is tens of times slower,
    and one full-size bfloat16 pass would cost seconds. Only a device that passes it gets the
    real measurement (64 px to relu3_1, interleaved, medians) and the loss check.
    """
    start = time.perf_counter()
    objectives, image = _setup(device, QUICK_SIZE, ["relu1_1", "relu2_1"])
    _pass(objectives[False], image, device)  # warm-up; bfloat16's first pass counts as it is
    f32 = min(_pass(objectives[False], image, device) for _ in range(2))  # min: load only adds
    b16 = _pass(objectives[True], image, device)
    change = float("inf")
    if f32 / b16 * QUICK_MARGIN >= MIN_SPEEDUP:
        objectives, image = _setup(device, PROBE_SIZE, ["relu1_1", "relu2_1", "relu3_1"])
        f32, b16 = _timed(objectives, image, device, REPEATS)
        if f32 / b16 >= MIN_SPEEDUP:
            change = _loss_change(objectives, image)
    return Measurement(f32, b16, change, time.perf_counter() - start)


def _setup(device: torch.device, size: int, layers: list[str]) -> tuple[dict, torch.Tensor]:
    from .losses import Objective
    from .model import VGGFeatures

    gen = torch.Generator().manual_seed(0)
    model = VGGFeatures(_front(layers[-1]), layers).to(device)
    image = torch.rand((1, 3, size, size), generator=gen).to(device)
    target = torch.rand((1, 3, size, size), generator=gen).to(device)
    objectives = {
        bf16: Objective(
            model,
            content_image=target,
            content_layers={layers[1]: 1.0},
            style_images=[target],
            style_layers={layers[0]: 1.0, layers[-1]: 1.0},
            content_weight=1.0,
            style_weight=1.0,
            tv_weight=0.0,
            bfloat16=bf16,
            normalization="relative",
        )  # fmt: skip
        for bf16 in (False, True)
    }
    return objectives, image


def _front(last: str) -> torch.nn.Sequential:
    """VGG19's layers up to ``last`` with seeded random weights (trained ones time the same).

    Built here rather than as the whole network: initializing its 20 M weights takes seconds.
    """
    from .layers import BLOCKS, layer_index

    gen = torch.Generator().manual_seed(0)
    modules: list[torch.nn.Module] = []
    in_ch = 3
    for out_ch, n_conv in BLOCKS:
        for _ in range(n_conv):
            conv = torch.nn.Conv2d(in_ch, out_ch, 3, padding=1).requires_grad_(False)
            std = (2.0 / (in_ch * 9)) ** 0.5
            conv.weight.copy_(torch.randn(conv.weight.shape, generator=gen) * std)
            conv.bias.zero_()
            modules += [conv, torch.nn.ReLU(inplace=True)]
            in_ch = out_ch
        modules.append(torch.nn.MaxPool2d(2, 2))
        if len(modules) > layer_index(last):
            break
    return torch.nn.Sequential(*modules[: layer_index(last) + 1])


def _timed(objectives: dict, image: torch.Tensor, device: torch.device, repeats: int) -> tuple:
    """Median seconds per pass in float32 and bfloat16, interleaved, after a warm-up of each."""
    times: dict[bool, list[float]] = {False: [], True: []}
    for bf16 in (False, True):
        _pass(objectives[bf16], image, device)  # warm-up: allocator, kernel selection
    for _ in range(repeats):
        for bf16 in (False, True):
            times[bf16].append(_pass(objectives[bf16], image, device))
    return statistics.median(times[False]), statistics.median(times[True])


def _pass(objective, image: torch.Tensor, device: torch.device) -> float:
    x = image.clone().requires_grad_(True)
    t = time.perf_counter()
    loss, _ = objective(x)
    loss.backward()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t


def _loss_change(objectives: dict, image: torch.Tensor, steps: int = 10) -> float:
    """|loss_bf16 / loss_f32 - 1| after the same short Adam run in both precisions."""
    finals = {}
    for bf16, objective in objectives.items():
        x = image.clone().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=0.02)
        for _ in range(steps):
            opt.zero_grad()
            loss, _ = objective(x)
            loss.backward()
            opt.step()
        with torch.no_grad():
            finals[bf16] = float(objectives[False](x)[0])  # judged in float32 both times
    return abs(finals[True] / finals[False] - 1.0) if finals[False] > 0 else float("inf")
