"""The fast modes: channels-last and bfloat16 networks whose Grams and losses keep their layout
and dtype, the same losses as the contiguous float32 path, and 'auto' choosing them by the probe."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nst_desktop.core import losses, precision
from nst_desktop.core.losses import Objective, gram, style_loss
from nst_desktop.core.model import VGGFeatures, engine_features, is_channels_last
from nst_desktop.core.session import RunInputs, RunSession
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random

CPU = torch.device("cpu")
LAYERS = ["relu1_1", "relu2_1", "relu3_1"]
#: The bfloat16 Grams' style loss against float32 Grams of the same features, relative. Measured
#: 1e-4 to 5e-4 per layer (BENCHMARKS.md section 13); a Gram entry is rounded to 8 bits of
#: mantissa once (0.4 %), and the errors of C² entries mostly cancel in the sum.
BF16_GRAM_TOLERANCE = 0.01
SHAPE = (1, 3, 24, 28)  # small: bfloat16 is emulated (slow) on CPUs without it


@pytest.fixture(scope="module")
def front() -> torch.nn.Sequential:
    return precision._front("relu3_1")


def _objective(net: torch.nn.Sequential, bf16: bool = False) -> Objective:
    gen = torch.Generator().manual_seed(1)
    content, style = (torch.rand(SHAPE, generator=gen) for _ in range(2))
    return Objective(
        VGGFeatures(net, LAYERS),
        content_image=content,
        content_layers={"relu2_1": 1.0},
        style_images=[style],
        style_layers={"relu1_1": 1.0, "relu3_1": 1.0},
        content_weight=1.0,
        style_weight=1.0,
        tv_weight=0.1,
        bfloat16=bf16,
        normalization="relative",
    )


def _loss_and_grad(objective: Objective) -> tuple[torch.Tensor, torch.Tensor]:
    x = torch.rand(SHAPE, generator=torch.Generator().manual_seed(2))
    x.requires_grad_(True)
    loss, terms = objective(x)
    loss.backward()
    assert x.grad is not None
    return terms, x.grad


def test_channels_last_float32_gives_the_contiguous_losses(front):
    flat_terms, flat_grad = _loss_and_grad(_objective(engine_features(front, CPU)))
    fast = engine_features(front, CPU, channels_last=True)
    assert is_channels_last(fast[2].weight) and not is_channels_last(front[2].weight)  # a copy
    objective = _objective(fast)
    feats = objective.model(torch.rand(SHAPE))
    assert all(is_channels_last(f) for f in feats.values())  # the layout survives every layer
    terms, grad = _loss_and_grad(objective)
    assert torch.allclose(terms, flat_terms, rtol=1e-5, atol=0)
    assert float((grad - flat_grad).norm() / flat_grad.norm()) < 1e-5
    assert grad.is_contiguous()  # the image the optimizer holds stays as it was


def test_the_gram_of_channels_last_features_is_a_view_with_the_same_gradient():
    f = torch.randn(2, 8, 5, 7, dtype=torch.float64)
    last = f.contiguous(memory_format=torch.channels_last).requires_grad_(True)
    plain = f.clone().requires_grad_(True)
    weights = torch.randn(2, 8, 8, dtype=torch.float64)
    (gram(last) * weights).sum().backward()
    ref = plain.reshape(2, 8, 35)
    (torch.bmm(ref, ref.transpose(1, 2)).div(35) * weights).sum().backward()
    assert torch.allclose(gram(last), gram(plain))
    assert torch.allclose(last.grad, plain.grad)
    assert is_channels_last(last.grad)  # the backward keeps the layout: no copy either way
    assert torch.autograd.gradcheck(gram, (last[:1, :3, :3, :4].detach().requires_grad_(True),))


@pytest.mark.parametrize("channels_last", [False, True])
def test_bfloat16_grams_keep_the_style_loss_within_the_stated_tolerance(front, channels_last):
    net = engine_features(front, CPU, bfloat16=True, channels_last=channels_last)
    model = VGGFeatures(net, LAYERS)
    gen = torch.Generator().manual_seed(3)
    with torch.no_grad():
        x_feats = model(torch.rand((1, 3, 32, 32), generator=gen))
        s_feats = model(torch.rand((1, 3, 32, 32), generator=gen))
    for layer in LAYERS:
        fx, fs = x_feats[layer], s_feats[layer]
        assert fx.dtype == torch.bfloat16 and is_channels_last(fx) == channels_last
        fast = style_loss(gram(fx), gram(fs))
        exact = style_loss(gram(fx.float()), gram(fs.float()))
        assert gram(fx).dtype == torch.float32
        assert abs(float(fast / exact) - 1.0) < BF16_GRAM_TOLERANCE, layer


def test_a_bfloat16_network_needs_no_autocast_and_matches_it(front):
    """The converted network computes what autocast did, without a cast per layer and pass."""
    converted = _objective(engine_features(front, CPU, bfloat16=True), bf16=True)
    autocast = _objective(engine_features(front, CPU), bf16=True)
    assert converted.model.dtype == torch.bfloat16 and autocast.model.dtype == torch.float32
    terms, grad = _loss_and_grad(converted)
    ref_terms, ref_grad = _loss_and_grad(autocast)
    assert torch.allclose(terms, ref_terms, rtol=1e-3)
    assert grad.dtype == torch.float32
    assert float((grad - ref_grad).norm() / ref_grad.norm()) < 1e-2


class _Probe:
    def __init__(self, times: dict[str, float]) -> None:
        self.times = times

    def __call__(self, device):
        return precision.Measurement(dict(self.times), 0.01, 0.5)


def _run_auto(tmp_path, monkeypatch, times: dict[str, float]):
    """A tiny run with 'auto' and a patched probe; returns its metadata, its first line (the
    events) and the (dtype, channels-last) of every feature map its Grams saw."""
    monkeypatch.delenv(precision.PIN_ENV, raising=False)
    precision.forget()
    monkeypatch.setattr(precision, "measure", _Probe(times))
    seen: set[tuple[torch.dtype, bool]] = set()
    real_gram = losses.gram

    def spy(features: torch.Tensor) -> torch.Tensor:
        if features.shape[-1] * features.shape[-2] > 1:  # a 1x1 map is both layouts at once
            seen.add((features.dtype, is_channels_last(features)))
        return real_gram(features)

    monkeypatch.setattr(losses, "gram", spy)
    rng = np.random.default_rng(4)
    for name in ("c.png", "s.png"):
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(tmp_path / name)
    settings = RunSettings(
        size=24, steps=2, weights="random", precision="auto", optimizer="adam",
        content_layers={"relu2_1": 1.0}, style_layers={"relu1_1": 1.0, "relu2_1": 1.0},
    )  # fmt: skip
    inputs = RunInputs.of(tmp_path / "c.png", [(tmp_path / "s.png", 1.0)])
    events = []
    session = RunSession(
        settings, inputs, weights=lambda *a: load_random(0), on_event=events.append
    )
    list(session.records())
    precision.forget()
    assert session.result is not None and session.result.image is not None
    return session.result.metadata, " ".join(e.text for e in events), seen


def test_a_probe_with_a_gain_runs_bfloat16_channels_last_and_says_so(tmp_path, monkeypatch):
    times = {"float32": 0.2, "float32+channels_last": 0.2, "bfloat16": 0.1}
    times["bfloat16+channels_last"] = 0.045
    meta, said, seen = _run_auto(tmp_path, monkeypatch, times)
    assert (meta["precision"], meta["memory_format"]) == ("bfloat16", "channels_last")
    assert meta["precision_reason"] == "4.4x faster than float32 on this device"
    assert "in bfloat16 channels-last (4.4x faster than float32 on this device)" in said
    assert seen == {(torch.bfloat16, True)}  # every Gram of the run: bfloat16, channels-last


def test_a_probe_without_a_gain_stays_float32_contiguous(tmp_path, monkeypatch):
    times = {"float32": 0.1, "float32+channels_last": 0.1, "bfloat16": 3.0}
    meta, said, seen = _run_auto(tmp_path, monkeypatch, times)
    assert (meta["precision"], meta["memory_format"]) == ("float32", "contiguous")
    assert "in float32 (bfloat16 was 30x slower on this device)" in said
    assert seen == {(torch.float32, False)}
