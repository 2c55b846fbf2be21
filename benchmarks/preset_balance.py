"""The balance of the loss terms at the start of a run, per transfer preset, on a given VGG19.

How the look presets were calibrated for ``normalization: relative`` (issue 16): on the random
network they keep the balance the paper-normalized numbers had.

The balance is style : content (and TV : content), each term weighted by its preset weight:

- a run from noise: both terms at its first image (the seeded noise), as the run sees them;
- a run from the content photo, where the content term is 0: the style and TV terms at the photo
  (the start) against the content term at the style image resized to the photo (the far end of
  the way the run can go). With one content layer the choice of that far point does not matter
  for the calibration: relative / paper content is the constant 1 / mean(F_c²) at any image.

Averaged (geometric mean) over the three bundled style samples with the bundled content photo,
at the size of the run's first stage. ``--calibrate`` prints, for presets that use 'paper', the
relative weights that keep their balance (content weight stays 1).

Usage: python benchmarks/preset_balance.py [--weights random|PATH] [--presets DIR] [--calibrate]
       [--defaults SETTINGS_JSON]   (the first row: these settings instead of RunSettings())
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
from pathlib import Path

import torch
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from nst_desktop.core.images import load_image, resize_longest, to_tensor  # noqa: E402
from nst_desktop.core.layers import min_input_side  # noqa: E402
from nst_desktop.core.losses import (  # noqa: E402
    content_loss,
    content_size,
    gram,
    style_loss,
    style_size,
    tv_loss,
)
from nst_desktop.core.model import VGGFeatures  # noqa: E402
from nst_desktop.core.paths import resources_dir  # noqa: E402
from nst_desktop.core.presets import bundled_dir, load_preset_file  # noqa: E402
from nst_desktop.core.settings import RunSettings  # noqa: E402
from nst_desktop.core.stages import plan  # noqa: E402
from nst_desktop.core.weights import load_weights  # noqa: E402

STYLES = ("style_swirls.png", "style_mosaic.png", "style_strokes.png")


@dataclasses.dataclass
class Terms:
    """Unweighted term sums (Σ c_l L_c,l, Σ w_l L_s,l, TV) of one normalization."""

    content: float  # at the reference image for the content term
    style: float  # at the start image
    tv: float  # at the start image
    style_shares: dict[str, float]  # each layer's part of the style term at the start


def _terms(settings: RunSettings, features, content, style) -> dict[str, Terms]:
    """The terms under both normalizations, from one forward pass per image."""
    stage = plan(settings)[0]
    layers = list(stage.content_layers) + list(stage.style_layers)
    min_side = max(min_input_side(n) for n in layers)
    photo = resize_longest(content, stage.size, min_side)
    w, h = photo.size
    c_t = to_tensor(photo)
    s_size = max(min_side, round(stage.size * settings.style_scale))
    s_t = to_tensor(resize_longest(style, s_size, min_side))
    if settings.init == "noise":
        gen = torch.Generator().manual_seed(settings.seed)
        start = far = torch.rand((1, 3, h, w), generator=gen)
    else:
        start = c_t
        far = to_tensor(style.resize((w, h), Image.Resampling.LANCZOS))
    model = VGGFeatures(features, layers, settings.pool)
    with torch.no_grad():
        f_c, f_s, f_start = model(c_t), model(s_t), model(start)
        f_far = f_start if far is start else model(far)
    out = {}
    for norm in ("paper", "relative"):
        content_term = 0.0
        for name, weight in stage.content_layers.items():
            size = float(content_size(f_c[name])) if norm == "relative" else 1.0
            content_term += weight * float(content_loss(f_far[name], f_c[name])) / size
        per_layer = {}
        for name, weight in stage.style_layers.items():
            g_s = gram(f_s[name])
            c = g_s.shape[-1]
            size = float(style_size(g_s)) / (4 * c * c) if norm == "relative" else 1.0
            per_layer[name] = weight * float(style_loss(gram(f_start[name]), g_s)) / size
        style_term = sum(per_layer.values())
        shares = {k: v / style_term for k, v in per_layer.items()}
        out[norm] = Terms(content_term, style_term, float(tv_loss(start)), shares)
    return out


def _gmean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values))


def report(name: str, settings: RunSettings, features, content, styles, calibrate: bool) -> None:
    """One line: the weights, the balance at the start and the style term's layer mix."""
    alpha, beta, gamma = settings.content_weight, settings.style_weight, settings.tv_weight
    both = [_terms(settings, features, content, s) for s in styles]
    own = [t[settings.normalization] for t in both]
    balance = _gmean([beta * t.style / (alpha * t.content) for t in own])
    tv = _gmean([gamma * t.tv / (alpha * t.content) for t in own]) if gamma else 0.0
    shares = {k: _gmean([t.style_shares[k] for t in own]) for k in own[0].style_shares}
    mix = " ".join(f"{k.removeprefix('relu')}:{v:.0%}" for k, v in shares.items())
    print(
        f"{name[:28]:28} {settings.normalization:8} init {settings.init:7} "
        f"α {alpha:g} β {beta:g} γ {gamma:g}  style:content {balance:.3g}"
        + (f"  tv:content {tv:.3g}" if gamma else "")
        + f"  style mix {mix}"
    )
    if calibrate and settings.normalization == "paper":
        rel = [t["relative"] for t in both]
        # keep α = 1: β' S_rel / C_rel = β S / C and γ' TV / C_rel = γ TV / C
        pairs = list(zip(own, rel, strict=True))
        betas = [beta * p.style / p.content * r.content / r.style for p, r in pairs]
        gammas = [gamma * r.content / p.content for p, r in pairs]
        spread = max(betas) / min(betas)
        print(
            f"{'':28} -> relative: β {_gmean(betas):.4g} (styles differ by x{spread:.2f})"
            + (f", γ {_gmean(gammas):.4g}" if gamma else "")
        )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--weights", default="random")
    ap.add_argument("--presets", type=Path, default=bundled_dir())
    ap.add_argument("--calibrate", action="store_true")
    ap.add_argument("--defaults", type=str, default="", help="settings JSON for the first row")
    a = ap.parse_args()
    torch.manual_seed(0)
    features = load_weights(a.weights).features
    samples = resources_dir() / "samples"
    content = load_image(samples / "content_landscape.png")
    styles = [load_image(samples / name) for name in STYLES]
    print(f"weights: {a.weights}; balance = weighted style : content (geometric mean of 3 styles)")
    defaults = RunSettings.from_json(a.defaults)[0] if a.defaults else RunSettings()
    report("Defaults (no preset)", defaults, features, content, styles, a.calibrate)
    for path in sorted(a.presets.glob("*.json")):
        preset, _ = load_preset_file(path)
        settings, _ = RunSettings.from_dict(preset.settings, strict=True)
        if settings.mode == "transfer":
            report(preset.name, settings, features, content, styles, a.calibrate)


if __name__ == "__main__":
    main()
