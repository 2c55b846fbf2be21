"""Record a run's frames and export them as an animated GIF or WebP, so artists can share how
an image formed.

Memory stays bounded however long the run: frames are stored downsized, and when the recorder
is full it drops every other frame and records half as often from then on.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from .files import atomic_file, describe_write_error
from .images import SETTINGS_KEY, ImageError, _metadata_kwargs, srgb_icc

TIMELAPSE_FORMATS = {".gif": "GIF", ".webp": "WEBP"}
#: How long the final picture stays on screen before the animation loops, in seconds.
HOLD_LAST_S = 2.0


class FrameRecorder:
    """Keeps downsized copies of every ``every``-th step, at most ``max_frames`` of them."""

    def __init__(self, every: int = 1, max_frames: int = 300, max_side: int = 512) -> None:
        if every < 1 or max_frames < 2 or max_side < 8:
            raise ValueError("every >= 1, max_frames >= 2 and max_side >= 8 are required")
        self.every = every
        self.max_frames = max_frames
        self.max_side = max_side
        self._frames: list[tuple[int, np.ndarray]] = []

    def wants(self, step: int) -> bool:
        """Whether :meth:`add` would keep a frame of this step (ask for an image only then)."""
        return step % self.every == 0

    def add(self, step: int, arr: np.ndarray, *, force: bool = False) -> bool:
        """Store a downsized copy of an H x W x 3 uint8 frame; returns whether it was kept.

        ``force`` keeps the frame whatever the step (the final picture of a run).
        """
        if not force and not self.wants(step):
            return False
        if self._frames and self._frames[-1][0] == step:
            self._frames[-1] = (step, self._shrink(arr))
            return True
        self._frames.append((step, self._shrink(arr)))
        if len(self._frames) > self.max_frames:
            last = self._frames[-1]
            self._frames = self._frames[:-1:2]
            self.every *= 2
            if len(self._frames) >= self.max_frames:  # pragma: no cover - max_frames >= 2
                self._frames = self._frames[: self.max_frames - 1]
            self._frames.append(last)
        return True

    def _shrink(self, arr: np.ndarray) -> np.ndarray:
        a = np.asarray(arr)
        if a.ndim != 3 or a.shape[2] != 3 or a.dtype != np.uint8:
            raise ValueError(f"expected an H x W x 3 uint8 frame, got {a.shape} {a.dtype}")
        h, w = a.shape[:2]
        if max(h, w) <= self.max_side:
            return a.copy()
        scale = self.max_side / max(h, w)
        size = (max(1, round(w * scale)), max(1, round(h * scale)))
        img = Image.fromarray(a, "RGB").resize(size, Image.Resampling.BILINEAR)
        return np.asarray(img).copy()

    @property
    def frames(self) -> list[np.ndarray]:
        return [f for _, f in self._frames]

    @property
    def steps(self) -> list[int]:
        return [s for s, _ in self._frames]

    def __len__(self) -> int:
        return len(self._frames)


def save_timelapse(
    path: str | os.PathLike[str],
    frames: Sequence[np.ndarray | Image.Image],
    fps: float = 12.0,
    metadata: dict[str, Any] | None = None,
) -> Path:
    """Write an animated GIF or WebP (by extension) through a temporary file and a rename.

    The last frame is held for :data:`HOLD_LAST_S` seconds. Frames of differing sizes (a
    coarse-to-fine run) are scaled to the last frame's size. Raises :class:`ImageError`.
    """
    p = Path(path)
    fmt = TIMELAPSE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ImageError(f"Cannot save a time-lapse as '{p.suffix or p.name}'; use .gif or .webp.")
    if not frames:
        raise ImageError("The run recorded no frames, so there is no time-lapse to save.")
    if not (0.1 <= fps <= 100):
        raise ImageError(f"A frame rate of {fps:g} per second is not usable; use 1 to 50.")
    images = [f if isinstance(f, Image.Image) else Image.fromarray(f, "RGB") for f in frames]
    size = images[-1].size
    images = [
        im.convert("RGB") if im.size == size else im.convert("RGB").resize(size) for im in images
    ]
    frame_ms = max(20, round(1000 / fps))
    durations = [frame_ms] * len(images)
    durations[-1] = max(frame_ms, round(HOLD_LAST_S * 1000))
    kwargs: dict[str, Any] = {"save_all": True, "duration": durations, "loop": 0}
    if fmt == "GIF":
        images = _quantize(images)
        kwargs["optimize"] = False
        if metadata:
            kwargs["comment"] = f"{SETTINGS_KEY}:{json.dumps(metadata, separators=(',', ':'))}"
    else:
        kwargs.update(quality=80, method=4, icc_profile=srgb_icc())
        if metadata:
            kwargs.update(_metadata_kwargs("WEBP", metadata))
    kwargs["append_images"] = images[1:]
    try:
        with atomic_file(p) as out:
            images[0].save(out, format=fmt, **kwargs)
    except OSError as exc:
        raise ImageError(describe_write_error(exc, p)) from None
    return p


def _quantize(images: list[Image.Image]) -> list[Image.Image]:
    """GIF frames share one 255-colour palette (no flicker between frames), made from a strip of
    a few frames across the run with the final picture weighted most."""
    n = len(images)
    picks = sorted({0, n // 3, (2 * n) // 3}) + [n - 1, n - 1]
    w, h = images[-1].size
    strip = Image.new("RGB", (w * len(picks), h))
    for i, k in enumerate(picks):
        strip.paste(images[k], (i * w, 0))
    palette = strip.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
    return [im.quantize(palette=palette, dither=Image.Dither.FLOYDSTEINBERG) for im in images]
