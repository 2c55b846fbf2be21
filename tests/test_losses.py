"""The losses against an independent float64 re-derivation of DESIGN.md's formulas.

The reference here never calls core.losses: it writes F (C x M), Ĝ = F Fᵀ (unnormalized) and the
paper's E_l = Σ(Ĝx - Ĝs)² / (4 C² M²) from scratch in float64, so a wrong normalization in core
(for example Ĝ/M used as if it were Ĝ, or a missing 4) shows up as a relative error far above 1e-5.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from nst_desktop.core.losses import Objective, content_loss, gram, style_loss, tv_loss

REL = 1e-5


def _rel(a: torch.Tensor | float, b: torch.Tensor | float) -> float:
    a64 = torch.as_tensor(a, dtype=torch.float64).detach()
    b64 = torch.as_tensor(b, dtype=torch.float64).detach()
    return float((a64 - b64).abs().max() / b64.abs().max().clamp_min(1e-300))


# ----------------------------------------------------------------- float64 reference formulas
def ref_gram_unnormalized(f: torch.Tensor) -> torch.Tensor:
    """Ĝ = F Fᵀ for one image's (1, C, H, W) features, in float64, by explicit sums."""
    c = f.shape[1]
    flat = f.double().reshape(c, -1)
    g = torch.zeros(c, c, dtype=torch.float64)
    for i in range(c):
        g[i] = (flat[i].unsqueeze(0) * flat).sum(dim=1)
    return g


def ref_style(fx: torch.Tensor, g_target_unnorm: torch.Tensor, m: int) -> float:
    c = fx.shape[1]
    diff = ref_gram_unnormalized(fx) - g_target_unnorm
    return float((diff**2).sum() / (4.0 * c**2 * m**2))


def ref_content(fx: torch.Tensor, fc: torch.Tensor) -> float:
    d = fx.double() - fc.double()
    return float((d**2).sum() / d.numel())


def ref_tv(img: torch.Tensor) -> float:
    x = img.double()
    dx = x[..., :, 1:] - x[..., :, :-1]
    dy = x[..., 1:, :] - x[..., :-1, :]
    return float((dx**2).sum() / dx.numel() + (dy**2).sum() / dy.numel())


# ----------------------------------------------------------------- building blocks
@pytest.mark.parametrize("shape", [(1, 8, 5, 7), (1, 3, 16, 16), (1, 64, 4, 4)])
def test_gram_is_unnormalized_gram_over_m(shape):
    torch.manual_seed(0)
    f = torch.randn(shape)
    m = shape[2] * shape[3]
    g = gram(f)
    assert g.dtype == torch.float32 and g.shape == (1, shape[1], shape[1])
    assert _rel(g[0], ref_gram_unnormalized(f) / m) < REL


def test_style_loss_matches_paper_formula():
    torch.manual_seed(1)
    c, h, w = 16, 6, 9
    m = h * w
    fx, fs = torch.randn(1, c, h, w), torch.randn(1, c, h, w).abs()
    got = style_loss(gram(fx), gram(fs))
    assert _rel(got, ref_style(fx, ref_gram_unnormalized(fs), m)) < REL


def test_content_loss_is_mean_not_half_sum():
    torch.manual_seed(2)
    fx, fc = torch.randn(1, 12, 7, 5), torch.randn(1, 12, 7, 5)
    assert _rel(content_loss(fx, fc), ref_content(fx, fc)) < REL


def test_tv_loss():
    torch.manual_seed(3)
    img = torch.rand(1, 3, 11, 13)
    assert _rel(tv_loss(img), ref_tv(img)) < REL
    assert float(tv_loss(torch.full((1, 3, 8, 8), 0.3))) == 0.0


def test_gram_float32_under_bfloat16_autocast():
    torch.manual_seed(4)
    f = torch.randn(1, 32, 32, 32).to(torch.bfloat16)
    with torch.autocast(device_type="cpu", dtype=torch.bfloat16):
        g = gram(f)
        g_grad = gram(f.float().requires_grad_(True))
    assert g.dtype == torch.float32 and g_grad.dtype == torch.float32
    assert _rel(g_grad[0], ref_gram_unnormalized(f.float()) / 1024) < REL  # float32 features
    # bfloat16 features are multiplied in bfloat16 without a float32 copy: the 1024 products
    # accumulate in float32 and each finished entry is rounded to bfloat16 once (2^-8
    # relative at most); a bfloat16 accumulation would be far off.
    ref = ref_gram_unnormalized(f.float())[None] / 1024
    assert bool(((g.double() - ref).abs() <= 2.0**-8 * ref.abs() + 1e-6).all())


# ----------------------------------------------------------------- the full objective
class _StubFeatures(nn.Module):
    """Stands in for VGGFeatures: three 'layers' of different C and M computed from the image."""

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return _stub_layers(image)


def _stub_layers(x: torch.Tensor) -> dict[str, torch.Tensor]:
    a = torch.cat([x, x.square(), torch.sin(3 * x)], dim=1)  # C=9, full size
    b = nn.functional.avg_pool2d(torch.cat([x, 1 - x, x * x.flip(1)], dim=1), 2)  # C=9, M/4
    c = nn.functional.avg_pool2d(torch.cat([x.cos(), x.exp()], dim=1), 4)  # C=6, M/16
    return {"relu1_1": a, "relu2_1": b, "relu3_1": c}


def _objective(content, styles, blend, cl, sl, alpha, beta, gamma):
    return Objective(
        _StubFeatures(),
        content_image=content,
        content_layers=cl,
        style_images=styles,
        style_blend=blend,
        style_layers=sl,
        content_weight=alpha,
        style_weight=beta,
        tv_weight=gamma,
    )


def test_total_with_per_layer_weights_and_blended_styles():
    torch.manual_seed(5)
    x, content = torch.rand(1, 3, 16, 12), torch.rand(1, 3, 16, 12)
    # Two style images of another size than x: the Gram targets are per-M normalized.
    styles = [torch.rand(1, 3, 20, 8), torch.rand(1, 3, 20, 8)]
    blend = [0.25, 0.75]
    cl = {"relu2_1": 0.7, "relu3_1": 1.3}
    sl = {"relu1_1": 0.5, "relu2_1": 2.0, "relu3_1": 1.0}
    alpha, beta, gamma = 1.5, 40.0, 0.3
    total, terms = _objective(content, styles, blend, cl, sl, alpha, beta, gamma)(x)

    fx = {k: v.double() for k, v in _stub_layers(x.double()).items()}
    fc = _stub_layers(content.double())
    fs = [_stub_layers(s.double()) for s in styles]
    ref_c = sum(w * ref_content(fx[k], fc[k]) for k, w in cl.items())
    ref_s = 0.0
    for k, w in sl.items():
        m_x = fx[k].shape[2] * fx[k].shape[3]
        # Blend-weighted mean of per-pixel Grams, expressed back at x's M for the paper's E_l.
        mean_g = sum(
            b * ref_gram_unnormalized(f[k]) / (f[k].shape[2] * f[k].shape[3])
            for b, f in zip(blend, fs, strict=True)
        ) / sum(blend)
        ref_s += w * ref_style(fx[k], mean_g * m_x, m_x)
    ref_tv_term = gamma * ref_tv(x)
    assert _rel(terms[0], alpha * ref_c) < REL
    assert _rel(terms[1], beta * ref_s) < REL
    assert _rel(terms[2], ref_tv_term) < REL
    assert _rel(total, alpha * ref_c + beta * ref_s + ref_tv_term) < REL


def test_blend_targets_are_a_weighted_mean_of_grams():
    torch.manual_seed(6)
    styles = [torch.rand(1, 3, 8, 8), torch.rand(1, 3, 12, 4), torch.rand(1, 3, 8, 8)]
    sl = {"relu1_1": 1.0, "relu3_1": 1.0}
    for blend in ([1.0, 2.0, 5.0], [0.2, 0.3, 0.5], [1.0, 0.0, 0.0]):
        obj = _objective(None, styles, blend, {}, sl, 0.0, 1.0, 0.0)
        for k in sl:
            grams = []
            for s in styles:
                f = _stub_layers(s.double())[k]
                grams.append(ref_gram_unnormalized(f) / (f.shape[2] * f.shape[3]))
            ref = sum(b * g for b, g in zip(blend, grams, strict=True)) / sum(blend)
            assert _rel(obj.style_targets[k][0], ref) < REL, (blend, k)


def test_equal_blend_when_none_given():
    torch.manual_seed(7)
    styles = [torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)]
    obj = _objective(None, styles, [], {}, {"relu1_1": 1.0}, 0.0, 1.0, 0.0)
    grams = [ref_gram_unnormalized(_stub_layers(s.double())["relu1_1"]) / 64 for s in styles]
    assert _rel(obj.style_targets["relu1_1"][0], (grams[0] + grams[1]) / 2) < REL


def test_zero_weight_layers_and_missing_images_cost_nothing():
    torch.manual_seed(8)
    x = torch.rand(1, 3, 8, 8)
    obj = _objective(None, [x], [], {"relu1_1": 1.0}, {"relu1_1": 0.0, "relu2_1": 1.0}, 1, 1, 0)
    assert obj.content_layers == {} and list(obj.style_layers) == ["relu2_1"]
    _, terms = obj(x)
    assert terms.tolist() == [0.0, 0.0, 0.0]  # x is its own style target


def test_objective_gradient_matches_float64_autograd():
    """The custom Gram backward inside the objective gives the float64 reference gradient."""
    torch.manual_seed(9)
    content, style = torch.rand(1, 3, 8, 8), torch.rand(1, 3, 8, 8)
    cl, sl = {"relu2_1": 1.0}, {"relu1_1": 1.0, "relu3_1": 0.5}
    obj = _objective(content, [style], [], cl, sl, 1.0, 10.0, 0.1)
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    obj(x)[0].backward()

    x64 = x.detach().double().requires_grad_(True)
    fx, fc, fs = _stub_layers(x64), _stub_layers(content.double()), _stub_layers(style.double())

    def g(f):
        c = f.shape[1]
        flat = f.reshape(c, -1)
        return flat @ flat.T

    loss = ((fx["relu2_1"] - fc["relu2_1"]) ** 2).mean()
    for k, w in sl.items():
        c, m = fx[k].shape[1], fx[k].shape[2] * fx[k].shape[3]
        loss = loss + 10.0 * w * ((g(fx[k]) - g(fs[k])) ** 2).sum() / (4 * c**2 * m**2)
    dx = x64[..., :, 1:] - x64[..., :, :-1]
    dy = x64[..., 1:, :] - x64[..., :-1, :]
    loss = loss + 0.1 * ((dx**2).mean() + (dy**2).mean())
    loss.backward()
    assert _rel(x.grad, x64.grad) < 1e-4  # float32 gradient vs float64: a few ulps per term


# ----------------------------------------------------------------- relative normalization
def _rel_objective(content, styles, blend, cl, sl, alpha, beta, gamma, features=None):
    return Objective(
        features or _StubFeatures(),
        content_image=content,
        content_layers=cl,
        style_images=styles,
        style_blend=blend,
        style_layers=sl,
        content_weight=alpha,
        style_weight=beta,
        tv_weight=gamma,
        normalization="relative",
    )


def test_relative_terms_match_the_documented_formulas():
    """content: mean((Fx-Fc)²)/mean(Fc²); style: Σ(Gx-Gs)²/ΣGs² with the blended Gram target."""
    torch.manual_seed(10)
    x, content = torch.rand(1, 3, 16, 12), torch.rand(1, 3, 16, 12)
    styles = [torch.rand(1, 3, 20, 8), torch.rand(1, 3, 12, 12)]
    blend = [0.25, 0.75]
    cl = {"relu2_1": 0.7, "relu3_1": 1.3}
    sl = {"relu1_1": 0.5, "relu2_1": 2.0, "relu3_1": 1.0}
    alpha, beta, gamma = 1.5, 40.0, 0.3
    total, terms = _rel_objective(content, styles, blend, cl, sl, alpha, beta, gamma)(x)

    fx = _stub_layers(x.double())
    fc = _stub_layers(content.double())
    fs = [_stub_layers(s.double()) for s in styles]
    ref_c = sum(w * ref_content(fx[k], fc[k]) / float((fc[k] ** 2).mean()) for k, w in cl.items())
    ref_s = 0.0
    for k, w in sl.items():
        m_x = fx[k].shape[2] * fx[k].shape[3]
        g_x = ref_gram_unnormalized(fx[k]) / m_x
        g_s = sum(
            b * ref_gram_unnormalized(f[k]) / (f[k].shape[2] * f[k].shape[3])
            for b, f in zip(blend, fs, strict=True)
        )
        ref_s += w * float(((g_x - g_s) ** 2).sum() / (g_s**2).sum())
    assert _rel(terms[0], alpha * ref_c) < REL
    assert _rel(terms[1], beta * ref_s) < REL
    assert _rel(terms[2], gamma * ref_tv(x)) < REL  # TV is the same in both normalizations
    assert _rel(total, alpha * ref_c + beta * ref_s + gamma * ref_tv(x)) < REL


class _ScaledStub(nn.Module):
    """The stub's layers, each multiplied by its own constant (a network with rescaled layers)."""

    def __init__(self, factors: dict[str, float]) -> None:
        super().__init__()
        self.factors = factors

    def forward(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        return {k: v * self.factors[k] for k, v in _stub_layers(image).items()}


def test_relative_terms_ignore_layer_scale_and_paper_terms_do_not():
    torch.manual_seed(11)
    x, content, style = torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16), torch.rand(1, 3, 16, 16)
    cl, sl = {"relu3_1": 1.0}, {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0}
    k = {"relu1_1": 0.1, "relu2_1": 7.0, "relu3_1": 3.0}
    args = (content, [style], [], cl, sl, 1.0, 10.0, 0.0)
    _, plain = _rel_objective(*args)(x)
    _, scaled = _rel_objective(*args, features=_ScaledStub(k))(x)
    assert _rel(scaled[:2], plain[:2]) < REL
    # paper: content grows by k², each style layer by k⁴ (so the balance moves)
    _, paper = _objective(*args)(x)
    _, paper_scaled = Objective(
        _ScaledStub(k),
        content_image=content,
        content_layers=cl,
        style_images=[style],
        style_layers=sl,
        content_weight=1.0,
        style_weight=10.0,
        tv_weight=0.0,
    )(x)
    assert _rel(paper_scaled[0], paper[0] * 9.0) < REL
    per_layer = [
        _objective(content, [style], [], {}, {name: 1.0}, 0.0, 10.0, 0.0)(x)[1][1] * k[name] ** 4
        for name in sl
    ]
    assert _rel(paper_scaled[1], sum(per_layer)) < REL


def test_relative_terms_survive_an_all_zero_target():
    """ε keeps a dead target (all zero: a black image at a layer that is 0 there) finite."""
    black = torch.zeros(1, 3, 8, 8)  # the stub's relu1_1 (x, x², sin 3x) is all zero here
    obj = _rel_objective(black, [black], [], {"relu1_1": 1.0}, {"relu1_1": 1.0}, 1.0, 1.0, 0.0)
    assert float(obj.content_targets["relu1_1"].abs().max()) == 0.0
    total, terms = obj(torch.rand(1, 3, 8, 8))
    assert torch.isfinite(total) and all(t > 0 for t in terms.tolist()[:2])


def test_unknown_normalization_is_refused():
    x = torch.rand(1, 3, 8, 8)
    with pytest.raises(ValueError, match="normalization"):
        Objective(
            _StubFeatures(),
            content_image=x,
            content_layers={"relu1_1": 1.0},
            style_layers={},
            content_weight=1.0,
            style_weight=0.0,
            tv_weight=0.0,
            normalization="bogus",
        )
