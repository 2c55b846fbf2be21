"""Per-evaluation time of the engine against the network floor, interleaved, in float32.

Rounds of: one floor pass (VGG19 forward+backward to relu5_1, the default layers), the method
floor (the same plus Grams and losses), and a short engine run (L-BFGS, Adam) whose median gap
between evaluations is taken. Prints the CPU flags that decide bfloat16 (AMX, avx512_bf16).
Usage: python benchmarks/floor_vs_engine.py [--sizes 256,512] [--rounds 3] [--steps 6]
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench import _engine_gaps, _features, _floor_fn, _images, _method_floor_fn, _timed  # noqa: E402

from nst_desktop.core.optimize import Inputs  # noqa: E402
from nst_desktop.core.settings import RunSettings  # noqa: E402


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
    return f"{model}: {' '.join(wanted)}"


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="256,512")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--steps", type=int, default=6)
    a = ap.parse_args()
    device = torch.device("cpu")
    print(f"CPU {cpu_flags()}; torch {torch.__version__}, {torch.get_num_threads()} threads")
    features = _features("random")
    for size in (int(s) for s in a.sizes.split(",")):
        content, style = _images(size)
        floor = _floor_fn(features, size, device)
        method = _method_floor_fn(features, size, device, content, style)
        floor(), method()  # warm-up
        times: dict[str, list[float]] = {"floor": [], "method": [], "lbfgs": [], "adam": []}
        for _ in range(a.rounds):
            times["floor"].append(_timed(floor))
            times["method"].append(_timed(method))
            for opt in ("lbfgs", "adam"):
                s = RunSettings(size=size, steps=a.steps, optimizer=opt, weights="random",
                                precision="float32")  # fmt: skip
                gaps, _ = _engine_gaps(s, Inputs(content, [style]), features, device, 0)
                times[opt].append(statistics.median(gaps))
        med = {k: statistics.median(v) for k, v in times.items()}
        f = med["floor"]
        print(
            f"{size} px: floor {f:.3f} s, method floor {med['method']:.3f} s "
            f"({med['method'] / f:.2f}x), engine L-BFGS {med['lbfgs']:.3f} s "
            f"({med['lbfgs'] / f:.2f}x), engine Adam {med['adam']:.3f} s ({med['adam'] / f:.2f}x)",
            flush=True,
        )


if __name__ == "__main__":
    main()
