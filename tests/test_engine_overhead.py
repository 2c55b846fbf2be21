"""Non-timing checks behind the engine's speed: work that must not be repeated or copied."""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from nst_desktop.core import optimize
from nst_desktop.core.losses import Objective, gram, style_loss
from nst_desktop.core.model import VGGFeatures
from nst_desktop.core.optimize import Inputs, run
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random


def _reference_gram(f: torch.Tensor) -> torch.Tensor:
    b, c, h, w = f.shape
    flat = f.reshape(b, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (h * w)


def test_gram_backward_matches_autograd():
    """The one-product Gram backward gives autograd's gradient for any (non-symmetric) upstream."""
    torch.manual_seed(0)
    f = torch.randn(2, 6, 5, 7, requires_grad=True)
    upstream = torch.randn(2, 6, 6)
    (gram(f) * upstream).sum().backward()
    ref = f.detach().clone().requires_grad_(True)
    (_reference_gram(ref) * upstream).sum().backward()
    torch.testing.assert_close(f.grad, ref.grad)
    torch.testing.assert_close(gram(f.detach()), _reference_gram(f.detach()))


def test_style_loss_gradient_matches_autograd():
    torch.manual_seed(1)
    f = torch.randn(1, 8, 6, 6, requires_grad=True)
    target = _reference_gram(torch.randn(1, 8, 6, 6))
    style_loss(gram(f), target).backward()
    ref = f.detach().clone().requires_grad_(True)
    style_loss(_reference_gram(ref), target).backward()
    torch.testing.assert_close(f.grad, ref.grad)


def test_gram_and_losses_stay_float32_under_bfloat16():
    feats = load_random(0).features
    model = VGGFeatures(feats, ["relu1_1", "relu1_2"])
    img = torch.rand(1, 3, 16, 16)
    obj = Objective(
        model,
        content_image=img,
        content_layers={"relu1_2": 1.0},
        style_images=[img],
        style_layers={"relu1_1": 1.0},
        content_weight=1.0,
        style_weight=1.0,
        tv_weight=0.0,
        bfloat16=True,
    )
    assert obj.style_targets["relu1_1"].dtype == torch.float32
    x = torch.rand(1, 3, 16, 16, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = model(x)
    assert out["relu1_1"].dtype == torch.bfloat16  # the network did run in bfloat16
    assert gram(out["relu1_1"]).dtype == torch.float32
    loss, terms = obj(x)
    assert loss.dtype == torch.float32 and terms.dtype == torch.float32
    loss.backward()
    assert x.grad is not None and x.grad.dtype == torch.float32


def _tiny_images():
    rng = np.random.default_rng(0)
    return [Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)) for _ in range(2)]


def test_targets_are_computed_once_per_stage(monkeypatch):
    """One network pass per evaluation, plus one per target image: targets are never recomputed.

    The one more pass at the end evaluates the saved 8-bit picture, whose loss is reported.
    """
    calls = []

    class Counting(VGGFeatures):
        def forward(self, image):
            calls.append(image.shape)
            return super().forward(image)

    monkeypatch.setattr(optimize, "VGGFeatures", Counting)
    content, style = _tiny_images()
    s = RunSettings(
        size=32, steps=5, optimizer="adam", weights="random", style_layers={"relu1_1": 1.0}
    )
    records = list(
        run(s, Inputs(content, [style, style]), load_random(0).features, torch.device("cpu"))
    )
    evaluations = sum(1 for r in records if not r.final)
    assert evaluations == 5
    assert len(calls) == evaluations + 3 + 1  # content + two style targets, the saved picture


def test_preview_copies_only_when_asked():
    content, style = _tiny_images()
    s = RunSettings(
        size=32,
        steps=6,
        optimizer="adam",
        weights="random",
        content_layers={"relu1_1": 1.0},
        style_layers={"relu1_1": 1.0},
    )
    features = load_random(0).features
    recs = list(run(s, Inputs(content, [style]), features, torch.device("cpu"), want_image=3))
    with_image = [r.step for r in recs if not r.final and r.image is not None]
    assert with_image == [3, 6]
    assert recs[-1].final and recs[-1].image is not None
