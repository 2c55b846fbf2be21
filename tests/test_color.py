"""Keeping the content's colours: luminance-only transfer and colour-statistics matching."""

from __future__ import annotations

import numpy as np
from PIL import Image

from nst_desktop.core.color import luminance_only, match_histogram, preserve_colors


def _photo(h=24, w=32, seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([80 + 100 * x / w, 120 + 60 * y / h, 200 - 50 * x / w], -1)
    return np.clip(arr + rng.normal(0, 8, arr.shape), 0, 255).astype(np.uint8)


def _painting(h=24, w=32, seed=1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    v = (np.sin(x * 0.7) + np.cos(y * 0.5) + 2) * 60
    arr = np.stack([v, v * 0.3 + 20, 255 - v], -1)
    return np.clip(arr + rng.normal(0, 10, arr.shape), 0, 255).astype(np.uint8)


def _ycc(arr: np.ndarray) -> np.ndarray:
    return np.asarray(Image.fromarray(arr).convert("YCbCr")).astype(np.float64)


def test_luminance_only_keeps_content_chroma_and_result_brightness():
    content, result = _photo(), _painting()
    out = luminance_only(result, content)
    assert out.shape == result.shape and out.dtype == np.uint8
    o, c, r = _ycc(out), _ycc(content), _ycc(result)
    assert np.abs(o[..., 0] - r[..., 0]).mean() < 2.0  # brightness of the result
    assert np.abs(o[..., 1:] - c[..., 1:]).mean() < 2.0  # colour of the content
    assert np.abs(r[..., 1:] - c[..., 1:]).mean() > 10  # (they really differed)


def test_luminance_only_with_a_different_size_reference():
    content = _photo(48, 64)
    out = luminance_only(_painting(), content)
    assert out.shape == (24, 32, 3)


def test_histogram_matching_moves_mean_and_covariance_to_the_content():
    content, result = _photo(), _painting()
    out = match_histogram(result, content)
    flat = {k: v.reshape(-1, 3).astype(np.float64) for k, v in
            {"c": content, "r": result, "o": out}.items()}  # fmt: skip
    mean_before = np.linalg.norm(flat["r"].mean(0) - flat["c"].mean(0))
    mean_after = np.linalg.norm(flat["o"].mean(0) - flat["c"].mean(0))
    cov = {k: np.cov(v, rowvar=False) for k, v in flat.items()}
    cov_before = np.linalg.norm(cov["r"] - cov["c"])
    cov_after = np.linalg.norm(cov["o"] - cov["c"])
    assert mean_after < 0.05 * mean_before and mean_after < 2.0
    assert cov_after < 0.1 * cov_before


def test_preserve_colors_dispatch():
    content, result = _photo(), _painting()
    assert preserve_colors(result, content, "none") is result
    assert np.array_equal(
        preserve_colors(result, content, "luminance"), luminance_only(result, content)
    )
    assert np.array_equal(
        preserve_colors(result, content, "histogram"), match_histogram(result, content)
    )


def test_flat_images_do_not_break_histogram_matching():
    flat = np.full((8, 8, 3), 128, np.uint8)
    out = match_histogram(flat, _photo(8, 8))
    assert out.dtype == np.uint8 and np.isfinite(out).all()
    out = match_histogram(_photo(8, 8), flat)
    assert np.abs(out.astype(int) - 128).max() <= 2


def test_luminance_only_gives_back_the_colour_when_brightness_is_unchanged():
    """Float conversion, rounded once: no 8-bit YCbCr round trip shifting colours by levels."""
    rng = np.random.default_rng(3)
    colours = np.concatenate(
        [np.array([[200, 100, 50], [0, 0, 0], [255, 255, 255], [255, 0, 0], [0, 0, 255]]),
         rng.integers(0, 256, (2000, 3))]
    ).astype(np.uint8).reshape(-1, 1, 3)  # fmt: skip
    assert np.array_equal(luminance_only(colours, colours), colours)
    single = np.array([[[200, 100, 50]]], dtype=np.uint8)
    assert luminance_only(single, single).tolist() == [[[200, 100, 50]]]


def test_luminance_only_takes_the_brightness_from_the_result():
    content = np.full((4, 4, 3), (200, 100, 50), dtype=np.uint8)
    grey = np.full((4, 4, 3), 120, dtype=np.uint8)  # no channel clipped
    out = luminance_only(grey, content).astype(np.float64)
    luma = out @ np.array([0.299, 0.587, 0.114])
    assert np.all(np.abs(luma - 120) <= 0.6)
    assert out[0, 0, 0] > out[0, 0, 1] > out[0, 0, 2]  # the content's orange, darker
