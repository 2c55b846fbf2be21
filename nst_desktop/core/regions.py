"""Regions of the content picture, one per style: reading mask files, and recording them.

A mask is an H x W float32 array in [0, 1] (white = inside) at any size; a run resizes it to
the content picture (core/optimize.py) and core/guided.py turns it into a guided style term.
A mask file with transparency counts its transparent pixels as outside (grey x alpha).

An exported picture records its regions under ``"regions"`` in its metadata::

    {"outside": "styles", "masks": [{"style": 1, "name": "left.png", "size": [w, h],
      "sha256": "<of the mask's 8-bit pixels at full size>", "png": "<base64 PNG, ≤ 128 px>"}],
     "sources": [...]}   (the same entries for style-side masks, when there are any)

The small PNG is what ``--settings-from`` and "Load settings from image" restore: a picture
someone sent may not make this program read a file on this computer, so the name and hash are
only a record. Restored masks are the embedded ones (at most 128 px; soft-edged when enlarged).

No torch and no Qt: the CLI reads masks before a run, the window from its model.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import io
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from .files import open_regular
from .images import MAX_IMAGE_PIXELS, READ_FORMATS, ImageError, _check_not_empty, _image_errors
from .settings import MAX_STYLES

OUTSIDE_CHOICES = ("keep", "styles")
#: Masks are kept no larger than this (a run at 8192 px needs no finer region).
MAX_MASK_SIDE = 4096
#: The longest side of a mask embedded in a picture's metadata, and the smallest it may shrink to.
EMBED_SIDE, EMBED_MIN_SIDE = 128, 32
#: All embedded masks together (base64 text) stay under this: the metadata's limit is 64 KB.
EMBED_BUDGET = 40 * 1024


@dataclass(frozen=True, eq=False)
class Regions:
    """The regions of a run: 0-based style index -> mask, and what happens outside them."""

    masks: Mapping[int, np.ndarray] = field(default_factory=dict)
    outside: str = "styles"
    names: Mapping[int, str] = field(default_factory=dict)  # file names, for the record
    #: Style index -> the part of that *style image* to take its texture from (optional).
    sources: Mapping[int, np.ndarray] = field(default_factory=dict)
    source_names: Mapping[int, str] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.masks) or bool(self.sources)

    def check(self, n_styles: int) -> None:
        """Raise :class:`ImageError` when a region names a style the run does not have."""
        if self.outside not in OUTSIDE_CHOICES:
            raise ImageError(f"Outside the regions: {self.outside!r:.20} is not keep or styles.")
        for i, m in sorted(self.sources.items()):
            if 0 <= i < n_styles and float(m.max(initial=0.0)) <= 0.0:
                raise ImageError(
                    f"The source mask of style {i + 1} is all black, so it keeps nothing of the "
                    "style image; paint white where the texture should come from."
                )
        for i in sorted({*self.masks, *self.sources}):
            if not 0 <= i < n_styles:
                raise ImageError(
                    f"There is a region for style {i + 1}, but the run has {n_styles} style "
                    f"image{'s' if n_styles != 1 else ''}; give the style's number from 1 to "
                    f"{n_styles}."
                )

    def notes(self, n_styles: int) -> list[str]:
        """What to tell the user about these regions (an empty one, an unused style)."""
        out = []
        for i, m in sorted(self.masks.items()):
            if float(m.max(initial=0.0)) <= 0.0:
                out.append(f"style {i + 1}'s region is empty, so that style is not used.")
        free = [i + 1 for i in range(n_styles) if i not in self.masks]
        if free and self.masks and self.outside == "keep":
            names = ", ".join(map(str, free))
            out.append(
                f"style {names} has no region and the rest of the picture keeps the photo, "
                "so it is not used; give it a region or let the styles without one fill the rest."
            )
        return out


def mask_from_image(img: Image.Image) -> np.ndarray:
    """Grey levels (x alpha where the image has transparency) as float32 in [0, 1]."""
    has_alpha = img.mode in ("RGBA", "LA", "PA", "La", "RGBa") or "transparency" in img.info
    if img.mode.startswith("I") or img.mode == "F":
        from .images import to_rgb

        img = to_rgb(img)
    if has_alpha:
        la = np.asarray(img.convert("RGBA").convert("LA"), dtype=np.float32) / 255.0
        return np.ascontiguousarray(la[..., 0] * la[..., 1])
    return np.asarray(img.convert("L"), dtype=np.float32) / 255.0


def read_mask(path: str | os.PathLike[str], max_side: int = MAX_MASK_SIDE) -> np.ndarray:
    """A mask file as float32 in [0, 1], at most ``max_side`` on its longest side.

    The file is untrusted: the loader's formats, size limit and sentences apply
    (:class:`ImageError`).
    """
    from pathlib import Path

    p = Path(path)
    name = p.name or str(p)
    with _image_errors(p, name), open_regular(p) as f:
        _check_not_empty(f, name)
        with Image.open(f, formats=READ_FORMATS) as img:
            img.seek(0)
            if img.width * img.height > MAX_IMAGE_PIXELS:
                raise ImageError(
                    f"The mask {name} is {img.width}x{img.height} px, more than NST Desktop "
                    "reads; scale it down in an image editor first."
                )
            if img.format == "JPEG" and max(img.size) > 2 * max_side:
                img.draft("L", (max_side, max_side))
            img.load()
            img = ImageOps.exif_transpose(img) or img
            if max(img.size) > max_side:
                img = img.copy()
                img.thumbnail((max_side, max_side), Image.Resampling.BOX)
            return mask_from_image(img)


def fit_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """``mask`` resized to ``size`` = (width, height) as float32 in [0, 1] (area-averaged down,
    bilinear up; a mask of another shape is stretched to the picture)."""
    h, w = mask.shape
    if (w, h) == tuple(size):
        return mask.astype(np.float32, copy=False)
    img = Image.fromarray(mask.astype(np.float32), "F")
    shrink = size[0] <= w and size[1] <= h
    method = Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR
    out = np.asarray(img.resize(tuple(size), method), dtype=np.float32)
    return np.clip(out, 0.0, 1.0)


def to_uint8(mask: np.ndarray) -> np.ndarray:
    return (np.clip(mask, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def mask_png(mask: np.ndarray, side: int | None = None) -> bytes:
    """The mask as an 8-bit grey PNG, shrunk to ``side`` on its longest side when given."""
    img = Image.fromarray(to_uint8(mask), "L")
    if side is not None and max(img.size) > side:
        img.thumbnail((side, side), Image.Resampling.BOX)
    buf = io.BytesIO()
    img.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


def encode_regions(regions: Regions) -> dict[str, Any]:
    """The metadata record of ``regions`` (module docstring); masks shrink to fit the budget."""
    side = EMBED_SIDE
    while True:
        masks = _entries(regions.masks, regions.names, side)
        sources = _entries(regions.sources, regions.source_names, side)
        used = sum(len(e["png"]) for e in masks + sources)
        if used <= EMBED_BUDGET or side <= EMBED_MIN_SIDE:
            break
        side //= 2
    if used > EMBED_BUDGET:  # many intricate masks: record them without pixels
        for e in masks + sources:
            del e["png"]
    record: dict[str, Any] = {"outside": regions.outside, "masks": masks}
    if sources:
        record["sources"] = sources
    return record


def _entries(
    masks: Mapping[int, np.ndarray], names: Mapping[int, str], side: int
) -> list[dict[str, Any]]:
    entries = []
    for i, m in sorted(masks.items()):
        entry: dict[str, Any] = {
            "style": i + 1,
            "size": [int(m.shape[1]), int(m.shape[0])],
            "sha256": hashlib.sha256(to_uint8(m).tobytes()).hexdigest(),
            "png": base64.b64encode(mask_png(m, side)).decode("ascii"),
        }
        if i in names:
            entry["name"] = str(names[i])[:120]
        entries.append(entry)
    return entries


def decode_regions(data: Any) -> tuple[Regions | None, list[str]]:
    """Regions from an untrusted metadata record, and warnings for what was left out.

    Only the embedded PNGs are read; names and paths are never opened.
    """
    if not isinstance(data, dict):
        return None, ["its regions record is not readable and was ignored"]
    warnings: list[str] = []
    outside = data.get("outside", "styles")
    if outside not in OUTSIDE_CHOICES:
        warnings.append("its 'outside' choice is not keep or styles; 'styles' was used")
        outside = "styles"
    masks = _decode_list(data.get("masks"), "masks", warnings)
    sources = _decode_list(data.get("sources", []), "source masks", warnings)
    if masks is None:
        return None, warnings
    regions = Regions(masks, outside, sources=sources or {})
    return (regions if regions else None), warnings


def _decode_list(entries: Any, what: str, warnings: list[str]) -> dict[int, np.ndarray] | None:
    if not isinstance(entries, list) or len(entries) > MAX_STYLES:
        warnings.append(f"its list of {what} is not readable and was ignored")
        return None
    masks: dict[int, np.ndarray] = {}
    for entry in entries:
        index, mask, problem = _decode_entry(entry)
        if problem:
            warnings.append(problem)
        elif index in masks:
            warnings.append(f"it has two {what} for style {index + 1}; the first was used")
        else:
            masks[index] = mask
    return masks


def _decode_entry(entry: Any) -> tuple[int, np.ndarray, str]:
    empty = np.zeros((1, 1), np.float32)
    if not isinstance(entry, dict):
        return -1, empty, "a mask record is not readable and was ignored"
    style = entry.get("style")
    if isinstance(style, bool) or not isinstance(style, int) or not 1 <= style <= MAX_STYLES:
        return -1, empty, "a mask names no style from 1 to 16 and was ignored"
    text = entry.get("png")
    if not isinstance(text, str) or not text:
        return -1, empty, f"the mask of style {style} is not embedded; paint or load it again"
    if len(text) > 64 * 1024:
        return -1, empty, f"the mask of style {style} is too large and was ignored"
    try:
        raw = base64.b64decode(text, validate=True)
        with Image.open(io.BytesIO(raw), formats=("PNG",)) as img:
            if max(img.size) > EMBED_SIDE or min(img.size) < 1:
                raise ValueError("size")
            img.load()
            mask = mask_from_image(img)
    except (binascii.Error, OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        return -1, empty, f"the mask of style {style} is damaged and was ignored"
    return style - 1, mask, ""
