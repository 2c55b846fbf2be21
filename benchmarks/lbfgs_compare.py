"""Which L-BFGS defaults converge better? Loss after equal numbers of evaluations.

Compares line search (strong Wolfe) vs none and a few history sizes, plus Adam, on the
content-representation task (noise -> relu1_1 / relu3_1) and on transfer. Prints a table.
Usage: python benchmarks/lbfgs_compare.py [--size 64] [--steps 200] [--weights random|PATH]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nst_desktop.core.images import load_image  # noqa: E402
from nst_desktop.core.optimize import Inputs, run  # noqa: E402
from nst_desktop.core.paths import resources_dir  # noqa: E402
from nst_desktop.core.settings import RunSettings  # noqa: E402
from nst_desktop.core.weights import load_weights  # noqa: E402


def final_loss(settings: RunSettings, inputs: Inputs, features, checkpoints) -> list[float]:
    """Loss at each checkpoint, then the largest jump: max over steps of loss / best so far."""
    seen: dict[int, float] = {}
    best, jump = float("inf"), 1.0
    for rec in run(settings, inputs, features, torch.device("cpu")):
        if not rec.final:
            seen[rec.step] = rec.loss
            if best < float("inf"):
                jump = max(jump, rec.loss / best)
            best = min(best, rec.loss)
    return [seen.get(c, float("nan")) for c in checkpoints] + [jump]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--size", type=int, default=64)
    ap.add_argument("--steps", type=int, default=200)
    ap.add_argument("--weights", default="random")
    ap.add_argument(
        "--content", type=Path, default=resources_dir() / "samples/content_landscape.png"
    )
    ap.add_argument("--style", type=Path, default=resources_dir() / "samples/style_swirls.png")
    a = ap.parse_args()
    features = load_weights(a.weights).features
    content, style = load_image(a.content), load_image(a.style)
    checkpoints = [a.steps // 4, a.steps // 2, a.steps]
    variants = [
        ("lbfgs, no line search, history 100", dict(optimizer="lbfgs", lbfgs_history=100)),
        ("lbfgs, no line search, history 20", dict(optimizer="lbfgs", lbfgs_history=20)),
        (
            "lbfgs, strong Wolfe, history 100",
            dict(optimizer="lbfgs", lbfgs_history=100, lbfgs_line_search=True),
        ),
        ("adam lr 0.02", dict(optimizer="adam")),
        ("adam lr 0.05", dict(optimizer="adam", lr=0.05)),
    ]
    tasks = [
        ("content-rep relu1_1", dict(mode="content-rep", content_layers={"relu1_1": 1.0})),
        ("content-rep relu3_1", dict(mode="content-rep", content_layers={"relu3_1": 1.0})),
        ("transfer (noise init)", dict(mode="transfer")),
        ("transfer (content init)", dict(mode="transfer", init="content")),
    ]
    print(
        f"loss after {checkpoints} evaluations, then the largest jump (loss / best so far), "
        f"{a.size} px, weights {a.weights}"
    )
    for task, tkw in tasks:
        print(f"\n{task}")
        for name, vkw in variants:
            s = RunSettings(size=a.size, steps=a.steps, weights=a.weights, **tkw, **vkw)
            inputs = Inputs(content, [style])
            losses = final_loss(s, inputs, features, checkpoints)
            print(f"  {name:38s} " + "  ".join(f"{v:10.4g}" for v in losses))


if __name__ == "__main__":
    main()
