"""Per-evaluation time of the engine against the network floor, per precision and layout,
interleaved.

For each size, rounds of: per mode (float32, float32+channels_last, bfloat16,
bfloat16+channels_last), one floor pass (VGG19 forward+backward to relu5_1, the default layers,
weights converted to the mode once), the method floor (the same plus Grams and losses), and a
short engine run per optimizer whose median gap between evaluations is taken. Medians over the
rounds; ratios against the floor of the mode's own and against the float32 floor; the final loss
of each engine run judged in float32 on its saved 8-bit picture, against float32's.
Prints the CPU flags that decide bfloat16 (AMX, avx512_bf16) first.

Usage: python benchmarks/floor_vs_engine.py [--sizes 256,512] [--rounds 5] [--steps 6]
           [--modes float32,float32+channels_last,bfloat16,bfloat16+channels_last]
           [--optimizers lbfgs,adam] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import (  # noqa: E402
    _engine_gaps,
    _features,
    _floor_fn,
    _images,
    _method_floor_fn,
    _method_objective,
    _timed,
)

from nst_desktop.core.device import resolve_device  # noqa: E402
from nst_desktop.core.optimize import Inputs  # noqa: E402
from nst_desktop.core.settings import RunSettings  # noqa: E402

MODES = ("float32", "float32+channels_last", "bfloat16", "bfloat16+channels_last")


def cpu_flags() -> str:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return "unknown"
    flags = next(
        (ln.split(":", 1)[1].split() for ln in text.splitlines() if ln.startswith("flags")), []
    )
    wanted = [f for f in flags if f.startswith(("avx", "amx", "fma"))]
    model = next(
        (ln.split(":", 1)[1].strip() for ln in text.splitlines() if ln.startswith("model name")),
        "?",
    )
    return f"{model}: {' '.join(wanted) or '(none of avx*, amx*, fma)'}"


def _mode(name: str) -> tuple[bool, bool]:
    """(bfloat16, channels_last) of a mode name."""
    return name.startswith("bfloat16"), name.endswith("+channels_last")


def _judge(features, size: int, device, content, style):
    """The final picture's loss in float32 contiguous: one yardstick for every mode."""
    objective = _method_objective(features, size, device, content, style)

    def loss(pixels: np.ndarray) -> float:
        x = torch.from_numpy(np.array(pixels)).permute(2, 0, 1)[None].float().div(255.0)
        with torch.no_grad():
            return float(objective(x.to(device))[0])

    return loss


def _rounds(a, size: int, features, device) -> dict[str, dict[str, list[float]]]:
    content, style = _images(size)
    inputs = Inputs(content, [style])
    fns = {}
    for mode in a.modes:
        bf16, cl = _mode(mode)
        fns[mode] = (
            _floor_fn(features, size, device, channels_last=cl, bf16=bf16),
            _method_floor_fn(features, size, device, content, style, bf16=bf16, channels_last=cl),
        )
        fns[mode][0](), fns[mode][1]()  # warm-up
    judge = _judge(features, size, device, content, style)
    keys = ["floor", "method", *a.optimizers, *("loss_" + o for o in a.optimizers)]
    times: dict[str, dict[str, list[float]]] = {m: {k: [] for k in keys} for m in a.modes}
    for r in range(a.rounds):
        for mode in a.modes:
            if r >= a.slow_rounds and mode.startswith("bfloat16") and a.slow_rounds > 0:
                continue
            bf16, cl = _mode(mode)
            floor, method = fns[mode]
            times[mode]["floor"].append(_timed(floor))
            times[mode]["method"].append(_timed(method))
            for opt in a.optimizers:
                s = RunSettings(size=size, steps=a.steps, optimizer=opt, weights="random",
                                precision="bfloat16" if bf16 else "float32")  # fmt: skip
                final: list = []
                gaps, _ = _engine_gaps(s, inputs, features, device, 0, channels_last=cl, out=final)
                times[mode][opt].append(statistics.median(gaps))
                times[mode]["loss_" + opt].append(judge(final[0].image))
            last = ", ".join(f"{k} {v[-1]:.4g}" for k, v in times[mode].items())
            print(f"  round {r + 1} {mode}: {last}; load {os.getloadavg()[0]:.1f}", flush=True)
    return times


def _report(size: int, times: dict, optimizers: list[str]) -> None:
    med = {m: {k: statistics.median(v) for k, v in t.items() if v} for m, t in times.items()}
    f32 = med.get("float32", {}).get("floor")
    for mode, t in med.items():
        n = len(times[mode]["floor"])
        line = f"{size} px {mode:23s} ({n} rounds): floor {t['floor']:.3f} s"
        if f32 and mode != "float32":
            line += f" ({f32 / t['floor']:.2f}x faster than float32's)"
        line += f", method {t['method']:.3f} s ({t['method'] / t['floor']:.2f}x)"
        for opt in optimizers:
            e = t[opt]
            line += f", {opt} {e:.3f} s ({e / t['floor']:.2f}x own floor"
            if f32 and mode != "float32":
                line += f", {e / f32:.2f}x float32 floor"
            loss = t["loss_" + opt]
            ref = med.get("float32", {}).get("loss_" + opt)
            line += f"; final loss {loss:.5g}"
            if ref and mode != "float32":
                line += f", {loss / ref - 1:+.2%} vs float32"
            line += ")"
        print(line, flush=True)
        paired = _paired(times, mode, optimizers)
        if paired:
            print(f"    medians of per-round ratios: {paired}", flush=True)


def _paired(times: dict, mode: str, optimizers: list[str]) -> str:
    """Ratios taken within each round, then their median: load that changes between rounds
    (other jobs on a shared machine) cancels better than in a ratio of medians."""
    t, ref = times[mode], times.get("float32")
    parts = []
    for opt in optimizers:
        ratios = [e / f for e, f in zip(t[opt], t["floor"], strict=False)]
        parts.append(f"{opt}/own floor {statistics.median(ratios):.2f}")
    if ref is not None and mode != "float32":
        n = min(len(ref["floor"]), len(t["floor"]))
        gain = [ref["floor"][i] / t["floor"][i] for i in range(n)]
        parts.append(f"float32 floor / this floor {statistics.median(gain):.2f}")
    return ", ".join(parts)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=6)
    ap.add_argument("--modes", default=",".join(MODES))
    ap.add_argument("--optimizers", default="lbfgs,adam")
    ap.add_argument("--device", default="cpu")
    ap.add_argument(
        "--slow-rounds", type=int, default=0,
        help="bfloat16 modes only in the first N rounds (a CPU that emulates bfloat16)",
    )  # fmt: skip
    a = ap.parse_args()
    a.modes = [m for m in a.modes.split(",") if m]
    a.optimizers = [o for o in a.optimizers.split(",") if o]
    unknown = set(a.modes) - set(MODES)
    if unknown:
        ap.error(f"unknown modes {sorted(unknown)}; choose from {', '.join(MODES)}")
    device = resolve_device(a.device)
    print(f"CPU {cpu_flags()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    print(f"device {device}; load average {os.getloadavg()}", flush=True)
    features = _features("random")
    for size in (int(s) for s in a.sizes.split(",")):
        times = _rounds(a, size, features, device)
        _report(size, times, a.optimizers)
        print(f"load average {os.getloadavg()}", flush=True)


if __name__ == "__main__":
    main()
