"""A look holds on any VGG19: with relative normalization, rescaled layers give the same picture.

B.pth is A.pth with every conv layer rescaled so that layer l's activations are exactly K_l times
A's (conv l's weight times K_l / K_(l-1), its bias times K_l; ReLU and pooling are positively
homogeneous). The paper's terms move by K² (content) and K⁴ (style) with that, so its picture
changes; the relative terms do not, so the picture stays, through the real command line.

Two cases. With powers of two the rescaled network computes exactly K_l times A's numbers, so
L-BFGS (the default) must give identical pixels. With arbitrary factors B's activations differ
from K_l times A's by float32 rounding (1e-7), which L-BFGS without a line search amplifies
about 1.4x per iteration (39 dB after 20 on this pair, against 11 dB for paper); Adam barely
amplifies it, so that case runs Adam (measured 65 dB).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nst_desktop import cli
from nst_desktop.core.model import VGGFeatures
from nst_desktop.core.weights import load_random

#: Activation scale of each of VGG19's 16 conv layers in B relative to A, and the optimizer.
CASES = {
    "any-factors-adam": (
        (0.1, 10.0, 0.3, 3.0, 0.2, 5.0, 0.5, 2.0, 8.0, 0.15, 4.0, 0.25, 6.0, 0.4, 1.5, 0.12),
        "adam",
    ),
    "powers-of-two-lbfgs": (
        (0.125, 8.0, 0.25, 4.0, 0.125, 2.0, 0.5, 8.0, 0.25, 0.125, 4.0, 0.5, 8.0, 0.25, 2.0, 0.125),
        "lbfgs",
    ),
}


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


@pytest.fixture(scope="module", params=list(CASES))
def nets(request, tmp_path_factory):
    """A.pth (random VGG19 with small random biases), B.pth (its rescaled twin), K, optimizer."""
    scales, optimizer = CASES[request.param]
    folder = tmp_path_factory.mktemp("nets")
    features = load_random(3).features
    gen = torch.Generator().manual_seed(4)
    with torch.no_grad():
        for module in features:
            if isinstance(module, torch.nn.Conv2d):
                module.bias.normal_(0.0, 0.05, generator=gen)
    a = features.state_dict()
    b = {}
    convs = sorted({int(k.split(".")[0]) for k in a})
    previous = 1.0
    for index, k in zip(convs, scales, strict=True):
        b[f"{index}.weight"] = a[f"{index}.weight"] * (k / previous)
        b[f"{index}.bias"] = a[f"{index}.bias"] * k
        previous = k
    torch.save(a, folder / "A.pth")
    torch.save(b, folder / "B.pth")
    return folder / "A.pth", folder / "B.pth", features, scales, optimizer


def test_the_rescaled_net_scales_every_layer_by_its_constant(nets):
    """The premise: B's activations are A's times K_l (else the test below proves nothing)."""
    _, b_path, features, k_of, _ = nets
    twin = load_random(0).features
    twin.load_state_dict(torch.load(b_path, weights_only=True))
    layers = ["relu1_1", "relu2_2", "relu3_4", "relu4_2", "relu5_4"]
    x = torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(1))
    fa, fb = VGGFeatures(features, layers)(x), VGGFeatures(twin, layers)(x)
    for name, k in zip(layers, (k_of[0], k_of[3], k_of[7], k_of[9], k_of[15]), strict=True):
        assert torch.allclose(fb[name], fa[name] * k, rtol=1e-4, atol=1e-6 * k), name


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    folder = tmp_path_factory.mktemp("img")
    yy, xx = np.mgrid[0:48, 0:64]
    content = np.stack([xx * 4, yy * 5, 255 - (xx + yy) * 2], -1).clip(0, 255).astype(np.uint8)
    style = np.random.default_rng(9).integers(0, 256, (40, 40, 3), dtype=np.uint8)
    Image.fromarray(content).save(folder / "c.png")
    Image.fromarray(style).save(folder / "s.png")
    return folder / "c.png", folder / "s.png"


def _transfer(images, weights, normalization, optimizer, out) -> np.ndarray:
    c, s = images
    argv = ["transfer", str(c), str(s), "-o", str(out), "-q", "--size", "64", "--steps", "20"]
    argv += ["--weights", str(weights), "--normalization", normalization]
    argv += ["--optimizer", optimizer]
    assert cli.main(argv) == 0
    return np.asarray(Image.open(out).convert("RGB"))


def test_relative_keeps_the_picture_paper_does_not(nets, images, tmp_path):
    a, b, _, _, optimizer = nets
    psnrs = {}
    for norm in ("relative", "paper"):
        on_a = _transfer(images, a, norm, optimizer, tmp_path / f"{norm}-a.png")
        on_b = _transfer(images, b, norm, optimizer, tmp_path / f"{norm}-b.png")
        psnrs[norm] = psnr(on_a, on_b)
    rel, pap = psnrs["relative"], psnrs["paper"]
    print(f"{optimizer}: PSNR A vs B: relative {rel:.1f} dB, paper {pap:.1f} dB")
    assert psnrs["relative"] >= 40.0, psnrs
    assert psnrs["paper"] < 30.0, psnrs
