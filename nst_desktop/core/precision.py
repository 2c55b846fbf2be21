"""Which precision and memory layout a run computes in, and why: ``auto`` measures instead of
assuming.

bfloat16 is about twice as fast as float32 on a CPU with native bfloat16 (AMX, avx512_bf16), four
to five times with channels-last as well, and 13-200x slower on one without (AVX2 only,
BENCHMARKS.md); CPU flags alone cannot tell which, and GPUs differ too. So ``auto`` times the four
modes (float32 and bfloat16, each contiguous and channels-last) on a small network pass
(:func:`measure`), checks that a short run's loss in bfloat16 stays close to float32's, and keeps
the decision in the cache folder keyed by the machine (CPU model and flags), the device and the
torch version. The window runs the probe in the background with the planner's; a CLI run runs it
once per machine, before its first iteration (bfloat16 gets one tiny pass per layout first and
no more when those show no gain).
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
from dataclasses import asdict, dataclass, field
from pathlib import Path

import torch

from .paths import cache_dir

log = logging.getLogger(__name__)

#: bfloat16 must be at least this much faster than float32 to be chosen.
MIN_SPEEDUP = 1.3
#: ... and a short run's loss in bfloat16 within this fraction of float32's.
MAX_LOSS_CHANGE = 0.05
#: Channels-last must be at least this much faster than the contiguous layout of its precision.
MIN_LAYOUT_SPEEDUP = 1.1
PROBE_SIZE = 64
REPEATS = 3
#: The quick look: a pass this small, and how much gain it may hide (small passes favour
#: float32: fixed costs weigh more), before bfloat16's real measurement is skipped.
QUICK_SIZE = 32
QUICK_MARGIN = 2.0
CACHE_FILE = "precision.json"
#: Part of the cache key: a probe that measures more (the layouts) decides again.
PROBE_VERSION = "layouts"
#: Pins what 'auto' means without measuring (the test suite; a fleet of identical machines).
PIN_ENV = "NST_DESKTOP_AUTO_PRECISION"
CONTIGUOUS, CHANNELS_LAST = "contiguous", "channels_last"
#: The modes the probe measures: (precision, memory layout).
MODES = (
    ("float32", CONTIGUOUS),
    ("float32", CHANNELS_LAST),
    ("bfloat16", CONTIGUOUS),
    ("bfloat16", CHANNELS_LAST),
)


def mode_name(precision: str, memory_format: str) -> str:
    """'float32', 'float32+channels_last', 'bfloat16', 'bfloat16+channels_last'."""
    return precision if memory_format == CONTIGUOUS else f"{precision}+{memory_format}"


@dataclass(frozen=True)
class Choice:
    """The precision and memory layout a run uses, and one clause saying why."""

    precision: str  # "float32" or "bfloat16"
    reason: str
    memory_format: str = CONTIGUOUS  # or CHANNELS_LAST: the network's layout

    @property
    def bfloat16(self) -> bool:
        return self.precision == "bfloat16"

    @property
    def channels_last(self) -> bool:
        return self.memory_format == CHANNELS_LAST

    @property
    def mode(self) -> str:
        """How the run's first line names it: 'float32', 'bfloat16 channels-last'."""
        return self.precision + (" channels-last" if self.channels_last else "")

    def describe(self) -> str:
        return f"{self.mode}: {self.reason}" if self.reason else self.mode


@dataclass
class Measurement:
    """What the probe measured on one device: median seconds per pass of each mode it timed
    (keyed by :func:`mode_name`), bfloat16's loss change, and how long the probe took."""

    times: dict[str, float]
    loss_change: float  # |loss_bf16 / loss_f32 - 1| after a short run; inf when not run
    probe_s: float
    quick: dict[str, float] = field(default_factory=dict)  # the quick look's passes (32 px)

    def speedup(self, name: str) -> float:
        """How many times faster than float32 contiguous ``name`` ran: in the measurement, else
        in the quick look (a mode it ruled out); 0 when neither timed it."""
        times = self.times if name in self.times else self.quick
        t = times.get(name, 0.0)
        return times.get("float32", 0.0) / t if t > 0 else 0.0


def decide(m: Measurement) -> Choice:
    """The fastest bfloat16 layout when it is at least :data:`MIN_SPEEDUP` faster than float32
    and the loss stays close; else float32. Channels-last where it is at least
    :data:`MIN_LAYOUT_SPEEDUP` faster than the contiguous layout of the same precision."""
    where = "on this device"
    bf16 = _layout("bfloat16", m)
    if not any(name.startswith("bfloat16") for name in m.times):  # the quick look ruled it out
        bf16 = max((CONTIGUOUS, CHANNELS_LAST), key=lambda f: m.speedup(mode_name("bfloat16", f)))
    speedup = m.speedup(mode_name("bfloat16", bf16))
    if speedup >= MIN_SPEEDUP and m.loss_change <= MAX_LOSS_CHANGE:
        return Choice("bfloat16", f"{_times(speedup)} faster than float32 {where}", bf16)
    layout = _layout("float32", m)
    lead = ""
    if layout == CHANNELS_LAST:
        gain = m.speedup(mode_name("float32", CHANNELS_LAST))
        lead = f"channels-last {_times(gain)} faster; "
    if speedup >= MIN_SPEEDUP:
        why = f"bfloat16 was {_times(speedup)} faster but changed the loss by {m.loss_change:.0%}"
    elif speedup > 0 and 1.0 / speedup >= 1.05:
        why = f"bfloat16 was {_times(1.0 / speedup)} slower"
    elif speedup > 0:
        why = f"bfloat16 was only {_times(speedup)} faster"
    else:
        why = "bfloat16 was not measured"
    return Choice("float32", f"{lead}{why} {where}", layout)


def _layout(precision: str, m: Measurement) -> str:
    """Channels-last when it beats the contiguous layout of ``precision`` by the margin."""
    flat, last = (m.times.get(mode_name(precision, f), 0.0) for f in (CONTIGUOUS, CHANNELS_LAST))
    if last > 0 and (flat <= 0 or flat / last >= MIN_LAYOUT_SPEEDUP):
        return CHANNELS_LAST
    return CONTIGUOUS


def _times(x: float) -> str:
    return f"{x:.0f}x" if x >= 10 else f"{x:.1f}x"


def machine_key(device: torch.device) -> str:
    """What a cached decision is valid for: the CPU (model and flags), the device, torch, and
    what the probe measures."""
    parts = [platform.machine(), _cpu_description(), str(device), torch.__version__, PROBE_VERSION]
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
        layout = str(entry.get("memory_format", CONTIGUOUS))
        return Choice(str(entry["precision"]), str(entry["reason"]), layout)
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
    """Time the four modes' forward+backward passes and compare a short run's loss.

    A quick look at a tiny pass first: where bfloat16 is emulated it is tens of times slower,
    and one full-size bfloat16 pass would cost seconds. bfloat16 gets the real measurement
    (64 px to relu3_1, interleaved with float32's layouts, medians) and the loss check only where
    it passes; float32's two layouts are always measured.
    """
    start = time.perf_counter()
    quick_modes = (MODES[0],) + MODES[2:]
    objectives, image = _setup(device, QUICK_SIZE, ["relu1_1", "relu2_1"], quick_modes)
    _pass(objectives["float32"], image, device)  # warm-up; bfloat16's first pass counts as it is
    quick = {"float32": min(_pass(objectives["float32"], image, device) for _ in range(2))}
    for precision, layout in MODES[2:]:
        name = mode_name(precision, layout)
        quick[name] = _pass(objectives[name], image, device)
    hopeful = [
        mode for mode in MODES[2:]
        if quick["float32"] / quick[mode_name(*mode)] * QUICK_MARGIN >= MIN_SPEEDUP
    ]  # fmt: skip
    modes = MODES[:2] + tuple(hopeful)
    objectives, image = _setup(device, PROBE_SIZE, ["relu1_1", "relu2_1", "relu3_1"], modes)
    times = _timed(objectives, image, device, REPEATS)
    m = Measurement(times, float("inf"), 0.0, quick)
    best = mode_name("bfloat16", _layout("bfloat16", m))
    if m.speedup(best) >= MIN_SPEEDUP:
        m.loss_change = _loss_change(objectives, image, best)
    m.probe_s = time.perf_counter() - start
    return m


def _setup(
    device: torch.device, size: int, layers: list[str], modes: tuple
) -> tuple[dict, torch.Tensor]:
    from .losses import Objective
    from .model import VGGFeatures, engine_features

    gen = torch.Generator().manual_seed(0)
    front = _front(layers[-1])
    image = torch.rand((1, 3, size, size), generator=gen).to(device)
    target = torch.rand((1, 3, size, size), generator=gen).to(device)
    objectives = {}
    for precision, layout in modes:
        bf16 = precision == "bfloat16"
        net = engine_features(front, device, bfloat16=bf16, channels_last=layout == CHANNELS_LAST)
        objectives[mode_name(precision, layout)] = Objective(
            VGGFeatures(net, layers),
            content_image=target,
            content_layers={layers[1]: 1.0},
            style_images=[target],
            style_layers={layers[0]: 1.0, layers[-1]: 1.0},
            content_weight=1.0,
            style_weight=1.0,
            tv_weight=0.0,
            bfloat16=bf16,
            normalization="relative",
        )
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


def _timed(objectives: dict, image: torch.Tensor, device: torch.device, repeats: int) -> dict:
    """Median seconds per pass of each mode, interleaved, after a warm-up of each."""
    times: dict[str, list[float]] = {name: [] for name in objectives}
    for name in objectives:
        _pass(objectives[name], image, device)  # warm-up: allocator, kernel selection
    for _ in range(repeats):
        for name in objectives:
            times[name].append(_pass(objectives[name], image, device))
    return {name: statistics.median(t) for name, t in times.items()}


def _pass(objective, image: torch.Tensor, device: torch.device) -> float:
    x = image.clone().requires_grad_(True)
    t = time.perf_counter()
    loss, _ = objective(x)
    loss.backward()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    return time.perf_counter() - t


def _loss_change(objectives: dict, image: torch.Tensor, name: str, steps: int = 10) -> float:
    """|loss_bf16 / loss_f32 - 1| after the same short Adam run in mode ``name`` and float32."""
    finals = []
    for objective in (objectives[name], objectives["float32"]):
        x = image.clone().requires_grad_(True)
        opt = torch.optim.Adam([x], lr=0.02)
        for _ in range(steps):
            opt.zero_grad()
            loss, _ = objective(x)
            loss.backward()
            opt.step()
        with torch.no_grad():
            finals.append(float(objectives["float32"](x)[0]))  # judged in float32 both times
    return abs(finals[0] / finals[1] - 1.0) if finals[1] > 0 else float("inf")
