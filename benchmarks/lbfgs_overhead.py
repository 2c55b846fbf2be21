"""The engine's own cost per evaluation, L-BFGS against Adam, without the network.

A cheap quadratic objective on a 512x341 image stands in for VGG19, so what is left of each
evaluation's time is the optimizer (L-BFGS's two-loop recursion over its history: two dot
products and two axpys of the image size per stored pair) and the engine's per-evaluation work
(projection, gradient mask, evaluation cache, copies). Compare with the network floor of
floor_vs_engine.py for the share it adds.
Usage: python benchmarks/lbfgs_overhead.py [--steps 130] [--size 512]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
import types
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nst_desktop.core import optimize as o  # noqa: E402
from nst_desktop.core.settings import RunSettings  # noqa: E402


class _Quadratic:
    """A weighted squared distance plus a wiggle: cheap, with a curvature L-BFGS can learn."""

    def __init__(self, h: int, w: int) -> None:
        gen = torch.Generator().manual_seed(0)
        self.target = torch.rand((1, 3, h, w), generator=gen)
        self.weight = torch.rand((1, 3, h, w), generator=gen) + 0.5
        self.model = types.SimpleNamespace(watch=None)

    def __call__(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        d = x - self.target
        loss = (d * d * self.weight).sum() + 0.1 * torch.sin(8 * x).sum()
        zero = loss.detach() * 0
        return loss, torch.stack([loss.detach(), zero, zero])


def objective_alone(objective: _Quadratic, shape: tuple, n: int = 20) -> float:
    x = torch.rand(shape, requires_grad=True)
    t = time.perf_counter()
    for _ in range(n):
        x.grad = None
        loss, terms = objective(x)
        terms.tolist()
        loss.backward()
    return (time.perf_counter() - t) / n


def engine_gaps(optimizer: str, objective: _Quadratic, shape: tuple, steps: int) -> list[float]:
    s = RunSettings(size=max(shape[-2:]), steps=steps, optimizer=optimizer, weights="random")
    shared = o.LoopShared(o.RunControl(), o._Stopwatch(), lambda step: False, 0, steps)
    loop = o._StageLoop(s, objective, torch.rand(shape), steps, shared, lambda p: p)
    loop._saved_terms = lambda image: None  # no network to measure the saved picture with
    times = [
        rec.elapsed
        for rec in loop.records(np.zeros((shape[-2], shape[-1], 3), np.uint8))
        if not rec.final
    ]
    return [b - a for a, b in zip(times, times[1:], strict=False)]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--steps", type=int, default=130)
    ap.add_argument("--size", type=int, default=512)
    a = ap.parse_args()
    shape = (1, 3, round(a.size * 2 / 3), a.size)
    objective = _Quadratic(shape[-2], shape[-1])
    base = statistics.median(objective_alone(objective, shape) for _ in range(3))
    print(f"{shape[-1]}x{shape[-2]}, {torch.get_num_threads()} threads; objective alone "
          f"{base * 1000:.1f} ms per evaluation")  # fmt: skip
    for opt in ("adam", "lbfgs"):
        gaps = engine_gaps(opt, objective, shape, a.steps)
        early, late = statistics.median(gaps[2:20]), statistics.median(gaps[-30:])
        print(
            f"{opt}: evaluations 3-20 {early * 1000:.1f} ms (+{(early - base) * 1000:.1f}), "
            f"last 30 {late * 1000:.1f} ms (+{(late - base) * 1000:.1f} over the objective)",
            flush=True,
        )


if __name__ == "__main__":
    main()
