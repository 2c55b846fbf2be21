"""Guided style terms against an independent float64 re-derivation of core/guided.py's formulas.

The reference never calls core.guided: it writes the region Gram Σ_p m_p f_p f_pᵀ / Σ_p m_p by
explicit sums, pools the mask by explicit 2x2 block means, and adds the terms by hand.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image
from test_losses import REL, _rel, _stub_layers, _StubFeatures

from nst_desktop.core.guided import LayerMask, layer_mask, region_gram
from nst_desktop.core.losses import Objective
from nst_desktop.core.optimize import Inputs, run
from nst_desktop.core.regions import Regions
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random

CPU = torch.device("cpu")


def ref_region_gram(f: torch.Tensor, m: torch.Tensor) -> torch.Tensor:
    """Σ_p m_p f_p f_pᵀ / Σ_p m_p for (1, C, H, W) features and an (H, W) mask, in float64."""
    c = f.shape[1]
    flat = f.double().reshape(c, -1)
    w = m.double().reshape(-1)
    g = torch.zeros(c, c, dtype=torch.float64)
    for p in range(flat.shape[1]):
        g += w[p] * torch.outer(flat[:, p], flat[:, p])
    return g / w.sum()


def ref_pool(m: torch.Tensor, times: int) -> torch.Tensor:
    """(H, W) mask averaged over 2x2 blocks ``times`` times (odd edges dropped), in float64."""
    out = m.double()
    for _ in range(times):
        h, w = out.shape[0] // 2, out.shape[1] // 2
        out = out[: 2 * h, : 2 * w].reshape(h, 2, w, 2).mean(dim=(1, 3))
    return out


def soft_mask(h: int, w: int) -> torch.Tensor:
    x = torch.linspace(-2, 2, w)
    return torch.sigmoid(-3 * x).expand(h, w).clone()  # left inside, soft edge in the middle


def test_region_gram_matches_float64_sums():
    torch.manual_seed(0)
    f = torch.randn(1, 7, 6, 9)
    m = torch.rand(6, 9) * (torch.rand(6, 9) > 0.3)
    got = region_gram(f, LayerMask.of(m[None, None]))
    assert _rel(got[0], ref_region_gram(f, m)) < REL
    soft = torch.rand(6, 9) + 0.01  # covers every position: no gather
    assert LayerMask.of(soft[None, None]).index is None
    assert _rel(region_gram(f, LayerMask.of(soft[None, None]))[0], ref_region_gram(f, soft)) < REL


@pytest.mark.parametrize(("layer", "pools"), [("relu1_1", 0), ("relu2_1", 1), ("relu3_1", 2)])
def test_layer_mask_is_the_networks_pooling(layer, pools):
    m = torch.rand(17, 13)  # odd sides: the pools drop the last row and column as VGG's do
    got = layer_mask(m[None, None], layer)[0, 0]
    assert _rel(got, ref_pool(m, pools)) < REL


def _guided(content, styles, regions, outside, normalization, sl, beta=10.0):
    return Objective(
        _StubFeatures(),
        content_image=content,
        content_layers={"relu2_1": 1.0},
        style_images=styles,
        style_layers=sl,
        content_weight=1.0,
        style_weight=beta,
        tv_weight=0.0,
        normalization=normalization,
        style_regions=regions,
        outside=outside,
    )


@pytest.mark.parametrize("normalization", ["paper", "relative"])
@pytest.mark.parametrize("outside", ["styles", "keep"])
def test_guided_style_term_matches_reference(normalization, outside):
    torch.manual_seed(1)
    h, w = 16, 12
    x, content = torch.rand(1, 3, h, w), torch.rand(1, 3, h, w)
    styles = [torch.rand(1, 3, 20, 8), torch.rand(1, 3, 12, 12), torch.rand(1, 3, 8, 8)]
    m = soft_mask(h, w)
    sl = {"relu1_1": 0.5, "relu2_1": 2.0, "relu3_1": 1.0}
    # Style 1 has the left region; styles 2 and 3 have none (blend 1:3 between them).
    obj = Objective(
        _StubFeatures(),
        content_image=content,
        content_layers={"relu2_1": 1.0},
        style_images=styles,
        style_blend=[2.0, 1.0, 3.0],
        style_layers=sl,
        content_weight=1.0,
        style_weight=10.0,
        tv_weight=0.0,
        normalization=normalization,
        style_regions=[m[None, None], None, None],
        outside=outside,
    )
    _, terms = obj(x)

    fx = _stub_layers(x.double())
    fs = [_stub_layers(s.double()) for s in styles]

    def full_gram(f):
        c = f.shape[1]
        flat = f.reshape(c, -1)
        return flat @ flat.T / flat.shape[1]

    def term(k, region, target):
        mk = ref_pool(region, {"relu1_1": 0, "relu2_1": 1, "relu3_1": 2}[k])
        share = float(mk.sum() / mk.numel())
        diff = ((ref_region_gram(fx[k], mk) - target) ** 2).sum()
        c = fx[k].shape[1]
        scale = 4 * c * c if normalization == "paper" else float((target**2).sum())
        return share * float(diff) / scale

    ref = 0.0
    for k, wk in sl.items():
        ref += wk * term(k, m, full_gram(fs[0][k]))
        if outside == "styles":
            rest_target = (full_gram(fs[1][k]) * 1 + full_gram(fs[2][k]) * 3) / 4
            ref += wk * term(k, 1 - m, rest_target)
    assert _rel(terms[1], 10.0 * ref) < REL


@pytest.mark.parametrize("normalization", ["paper", "relative"])
def test_a_region_of_all_ones_is_the_unguided_term(normalization):
    torch.manual_seed(2)
    x, content = torch.rand(1, 3, 16, 12), torch.rand(1, 3, 16, 12)
    style = [torch.rand(1, 3, 12, 12)]
    sl = {"relu1_1": 1.0, "relu3_1": 1.0}
    plain = _guided(content, style, [], "keep", normalization, sl)
    ones = _guided(content, style, [torch.ones(1, 1, 16, 12)], "keep", normalization, sl)
    xa = x.clone().requires_grad_(True)
    xb = x.clone().requires_grad_(True)
    la, ta = plain(xa)
    lb, tb = ones(xb)
    la.backward()
    lb.backward()
    assert _rel(tb, ta) < REL and _rel(xb.grad, xa.grad) < REL


def test_an_empty_region_adds_no_style():
    torch.manual_seed(3)
    x = torch.rand(1, 3, 16, 12)
    obj = _guided(x, [torch.rand(1, 3, 8, 8)], [torch.zeros(1, 1, 16, 12)], "keep", "paper",
                  {"relu1_1": 1.0})  # fmt: skip
    assert obj(x)[1].tolist() == [0.0, 0.0, 0.0]


# ----------------------------------------------------------------- through the optimizer
@pytest.fixture(scope="module")
def features():
    return load_random(0).features


def _photo() -> Image.Image:
    y, x = np.mgrid[0:40, 0:48]
    arr = np.stack([x * 5, y * 6, (x + y) * 3], -1).astype(np.uint8)
    return Image.fromarray(arr)


def _solid(rgb) -> Image.Image:
    return Image.new("RGB", (32, 32), rgb)


def _small(**kw) -> RunSettings:
    layers = {"content_layers": {"relu2_1": 1.0}, "style_layers": {"relu1_1": 1.0, "relu2_1": 1.0}}
    base = dict(size=32, steps=6, weights="random", init="content", **layers)
    return RunSettings(**{**base, **kw})


def _final(settings, inputs, features) -> np.ndarray:
    records = list(run(settings, inputs, features, CPU))
    assert records[-1].status == "done", records[-1].message
    return records[-1].image


def test_ones_mask_gives_the_same_pixels_as_no_mask(features):
    s = _small(style_weight=1e3)
    styles = [_solid((220, 30, 30))]
    plain = _final(s, Inputs(_photo(), styles), features)
    ones = Regions({0: np.ones((7, 9), np.float32)})  # any size: resized to the picture
    guided = _final(s, Inputs(_photo(), styles, ones), features)
    assert np.abs(plain.astype(int) - guided.astype(int)).max() <= 1
    assert np.abs(plain.astype(int) - np.asarray(_photo().resize(plain.shape[1::-1]))).max() > 8


def test_zeros_mask_with_outside_keep_leaves_the_photo(features):
    s = _small(style_weight=1e3)
    zeros = Regions({0: np.zeros((32, 32), np.float32)}, outside="keep")
    out = _final(s, Inputs(_photo(), [_solid((220, 30, 30))], zeros), features)
    from nst_desktop.core.images import resize_longest

    photo = np.asarray(resize_longest(_photo(), 32))
    assert np.abs(out.astype(int) - photo.astype(int)).max() <= 1


def test_guided_gradient_matches_float64_autograd():
    """The gathered, masked Gram's backward gives the float64 reference gradient."""
    torch.manual_seed(4)
    f = torch.randn(1, 5, 6, 8)
    m = torch.zeros(6, 8)
    m[:, :3] = 1.0
    m[:, 3] = 0.4  # a soft edge; the rest is outside (gathered away)
    target = torch.randn(5, 5).double()
    fa = f.clone().requires_grad_(True)
    g = region_gram(fa, LayerMask.of(m[None, None]))[0]
    ((g.double() - target) ** 2).sum().backward()
    f64 = f.double().requires_grad_(True)
    flat = f64.reshape(5, -1)
    w = m.double().reshape(-1)
    ref = (flat * w) @ flat.T / w.sum()
    ((ref - target) ** 2).sum().backward()
    assert _rel(fa.grad, f64.grad) < 1e-4


# ----------------------------------------------------------------- style-side (source) masks
def test_a_source_mask_takes_the_styles_gram_inside_it():
    torch.manual_seed(5)
    style = torch.rand(1, 3, 12, 16)
    src = soft_mask(12, 16)
    sl = {"relu1_1": 1.0, "relu2_1": 1.0, "relu3_1": 1.0}
    obj = Objective(
        _StubFeatures(), content_image=None, content_layers={}, style_images=[style],
        style_layers=sl, content_weight=0.0, style_weight=1.0, tv_weight=0.0,
        style_sources=[src[None, None]],
    )  # fmt: skip
    fs = _stub_layers(style.double())
    for k, pools in (("relu1_1", 0), ("relu2_1", 1), ("relu3_1", 2)):
        ref = ref_region_gram(fs[k], ref_pool(src, pools))
        assert _rel(obj.style_targets[k][0], ref) < REL, k


def _split_style() -> Image.Image:
    arr = np.zeros((32, 32, 3), np.uint8)
    arr[:, :16] = (220, 30, 30)
    arr[:, 16:] = (30, 30, 220)
    return Image.fromarray(arr)


def test_a_source_mask_picks_the_part_of_the_style_image(features):
    s = _small(style_weight=1e3, steps=8)
    left = np.zeros((32, 32), np.float32)
    left[:, :16] = 1.0
    red = _final(s, Inputs(_photo(), [_split_style()], Regions(sources={0: left})), features)
    blue = _final(s, Inputs(_photo(), [_split_style()], Regions(sources={0: 1 - left})), features)

    def rb(a):
        return float((a[..., 0].astype(float) - a[..., 2]).mean())

    assert rb(red) - rb(blue) > 40, (rb(red), rb(blue))
