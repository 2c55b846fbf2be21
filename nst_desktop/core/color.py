"""Keeping the content photo's colours: luminance-only transfer or colour-statistics matching."""

from __future__ import annotations

import numpy as np
from PIL import Image


def _fit(reference: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if reference.shape[:2] == shape[:2]:
        return reference
    img = Image.fromarray(reference).resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
    return np.asarray(img)


def luminance_only(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The result's brightness (Y) with the content's colour (Cb, Cr)."""
    y = Image.fromarray(result).convert("YCbCr").split()[0]
    _, cb, cr = Image.fromarray(_fit(content, result.shape)).convert("YCbCr").split()
    return np.asarray(Image.merge("YCbCr", (y, cb, cr)).convert("RGB"))


def match_histogram(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """Affine colour transfer: give the result the content's colour mean and covariance."""
    src = result.reshape(-1, 3).astype(np.float64)
    ref = _fit(content, result.shape).reshape(-1, 3).astype(np.float64)
    mu_s, mu_r = src.mean(0), ref.mean(0)
    cov_s = np.cov(src, rowvar=False) + np.eye(3) * 1e-3
    cov_r = np.cov(ref, rowvar=False) + np.eye(3) * 1e-3

    def sqrtm(m: np.ndarray, inverse: bool = False) -> np.ndarray:
        vals, vecs = np.linalg.eigh(m)
        vals = np.clip(vals, 1e-8, None) ** (-0.5 if inverse else 0.5)
        return (vecs * vals) @ vecs.T

    transform = sqrtm(cov_r) @ sqrtm(cov_s, inverse=True)
    out = (src - mu_s) @ transform.T + mu_r
    return np.clip(out + 0.5, 0, 255).astype(np.uint8).reshape(result.shape)


def preserve_colors(result: np.ndarray, content: np.ndarray, method: str) -> np.ndarray:
    if method == "luminance":
        return luminance_only(result, content)
    if method == "histogram":
        return match_histogram(result, content)
    return result
