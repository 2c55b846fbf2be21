"""Keeping the content photo's colours: luminance-only transfer or colour-statistics matching."""

from __future__ import annotations

import numpy as np
from PIL import Image


def _fit(reference: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    if reference.shape[:2] == shape[:2]:
        return reference
    img = Image.fromarray(reference).resize((shape[1], shape[0]), Image.Resampling.LANCZOS)
    return np.asarray(img)


#: Full-range BT.601 (JPEG's YCbCr, as Pillow's): Y, Cb, Cr from R, G, B in 0-255.
_TO_YCC = np.array(
    [[0.299, 0.587, 0.114], [-0.168736, -0.331264, 0.5], [0.5, -0.418688, -0.081312]]
)
_FROM_YCC = np.linalg.inv(_TO_YCC)


def luminance_only(result: np.ndarray, content: np.ndarray) -> np.ndarray:
    """The result's brightness (Y) with the content's colour (Cb, Cr).

    Computed in float and rounded once: Pillow's 8-bit YCbCr conversions truncate twice and
    shift colours by up to 3.5 levels ((200, 100, 50) came back as (199, 99, 49)).
    """
    y = result.reshape(-1, 3).astype(np.float64) @ _TO_YCC[0]
    chroma = _fit(content, result.shape).reshape(-1, 3).astype(np.float64) @ _TO_YCC[1:].T
    ycc = np.concatenate([y[:, None], chroma], axis=1)  # the offset of 128 cancels out
    rgb = ycc @ _FROM_YCC.T
    return np.clip(np.rint(rgb), 0, 255).astype(np.uint8).reshape(result.shape)


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
