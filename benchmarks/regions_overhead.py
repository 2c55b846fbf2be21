"""What regions cost per evaluation: the objective's forward + backward with and without masks.

Measured interleaved in one process (round-robin over the variants, median of the rounds), so
load from other processes hits every variant alike; besides the wall time it prints the process's
CPU time per evaluation, which other processes on a crowded machine disturb far less. Default
layers, random weights, 2 styles.

Usage: python benchmarks/regions_overhead.py [--size 256] [--rounds 15] [--device cpu|cuda]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()

    import torch

    from nst_desktop.core.losses import Objective
    from nst_desktop.core.model import VGGFeatures
    from nst_desktop.core.settings import RunSettings
    from nst_desktop.core.weights import load_random

    dev = torch.device(args.device)
    s = RunSettings()
    layers = list(s.content_layers) + list(s.style_layers)
    model = VGGFeatures(load_random(0).features, layers, "avg").to(dev)
    h, w = args.size * 3 // 4, args.size
    torch.manual_seed(0)
    content = torch.rand(1, 3, h, w, device=dev)
    styles = [torch.rand(1, 3, h, w, device=dev) for _ in range(2)]
    left = torch.zeros(1, 1, h, w, device=dev)
    left[..., : w // 2] = 1.0
    soft = torch.linspace(0, 1, w, device=dev).expand(1, 1, h, w).contiguous()
    variants = {
        "no regions": [],
        "style 1 left, style 2 the rest": [left, None],
        "two soft regions (outside keep)": [soft, 1 - soft],
    }
    objectives = {
        name: Objective(
            model, content_image=content, content_layers=s.content_layers, style_images=styles,
            style_layers=s.style_layers, content_weight=1.0, style_weight=1.0, tv_weight=0.0,
            normalization="relative", style_regions=regions,
            outside="keep" if "keep" in name else "styles",
        )
        for name, regions in variants.items()
    }  # fmt: skip
    x = torch.rand(1, 3, h, w, device=dev, requires_grad=True)
    times: dict[str, list[float]] = {name: [] for name in variants}
    cpu: dict[str, list[float]] = {name: [] for name in variants}
    for r in range(args.rounds + 2):
        for name, obj in objectives.items():
            if dev.type == "cuda":
                torch.cuda.synchronize()
            t0, c0 = time.perf_counter(), time.process_time()
            x.grad = None
            loss, terms = obj(x)
            loss.backward()
            terms.tolist()
            if r >= 2:  # two warm-up rounds
                times[name].append(time.perf_counter() - t0)
                cpu[name].append(time.process_time() - c0)
    base = statistics.median(times["no regions"])
    base_cpu = statistics.median(cpu["no regions"])
    print(f"{args.size}x{h} px on {dev}, {args.rounds} rounds, median s per evaluation")
    print(f"  {'':34s} {'wall':>8s}           {'CPU':>8s}")
    for name, ts in times.items():
        med, med_cpu = statistics.median(ts), statistics.median(cpu[name])
        print(
            f"  {name:34s} {med:8.4f} ({100 * (med / base - 1):+6.1f}%)"
            f"  {med_cpu:8.4f} ({100 * (med_cpu / base_cpu - 1):+6.1f}%)"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
