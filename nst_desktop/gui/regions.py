"""The window's regions: one soft mask per style, painted over the picture (issue 17).

:class:`RegionsModel` is the one source of truth of the region tool (masks, brush, which style
is painted, whether the overlay shows); the overlay and the panel show it and report edits to it.
Masks are kept per style *file*, so removing or reordering styles keeps each mask with its
style, at :data:`MASK_SIDE` px on the photo's longest side (the run resizes them, core/regions).

Usage::

    regions = model.regions
    regions.set_active(0); regions.set_tool("brush"); regions.stroke([(0.1, 0.5), (0.4, 0.5)])
    regions.snapshot()            # core.regions.Regions for the next run (None: no regions)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from nst_desktop.core.images import ImageError, fit_size
from nst_desktop.core.regions import OUTSIDE_CHOICES, Regions, fit_mask, mask_png, read_mask

log = logging.getLogger(__name__)

#: The masks' resolution on the photo's longest side (runs resize them to their own size).
MASK_SIDE = 512
REGION_COLORS = (
    (235, 64, 52), (40, 120, 240), (40, 175, 80), (245, 170, 20),
    (165, 80, 220), (20, 190, 200), (240, 100, 180), (150, 150, 40),
)  # fmt: skip
TOOLS = ("brush", "eraser")


def region_color(index: int) -> tuple[int, int, int]:
    """The colour of style ``index``'s region (the style rows show the same colour)."""
    return REGION_COLORS[index % len(REGION_COLORS)]


def dab(
    mask: np.ndarray, cx: float, cy: float, radius: float, softness: float, erase: bool
) -> None:
    """One round brush mark at pixel (cx, cy): full inside, fading over the outer ``softness``."""
    h, w = mask.shape
    r = max(0.5, radius)
    x0, x1 = max(0, int(cx - r)), min(w, int(cx + r) + 2)
    y0, y1 = max(0, int(cy - r)), min(h, int(cy + r) + 2)
    if x0 >= x1 or y0 >= y1:
        return
    yy, xx = np.mgrid[y0:y1, x0:x1]
    d = np.hypot(xx + 0.5 - cx, yy + 0.5 - cy)
    alpha = np.clip((r - d) / max(r * softness, 0.75), 0.0, 1.0).astype(np.float32)
    view = mask[y0:y1, x0:x1]
    if erase:
        np.minimum(view, 1.0 - alpha, out=view)
    else:
        np.maximum(view, alpha, out=view)


class RegionsModel(QObject):
    """See the module docstring."""

    changed = Signal()  # the masks changed (the overlay repaints)
    toolChanged = Signal()  # the tool, brush, active style, overlay or outside choice changed
    message = Signal(str)  # one sentence for the user (a mask file that cannot be read)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._masks: dict[str, np.ndarray] = {}
        self._styles: list[str] = []
        self._shape: tuple[int, int] | None = None  # (h, w) of the masks
        self.active = 0
        self.tool = "brush"
        self.size = 0.08  # brush radius, a share of the picture's longest side
        self.softness = 0.5  # the share of the radius that fades out
        self.visible = True
        self.painting = False
        self.outside = "styles"
        self._last: tuple[float, float] | None = None

    # ------------------------------------------------------------------ inputs
    def set_styles(self, paths: Sequence[str]) -> None:
        """The styles chosen now; masks of styles no longer chosen are dropped."""
        self._styles = list(paths)
        self._masks = {p: m for p, m in self._masks.items() if p in self._styles}
        self.active = min(self.active, max(0, len(self._styles) - 1))
        self.toolChanged.emit()
        self.changed.emit()

    def set_picture_size(self, width: int, height: int) -> None:
        """The photo's size; masks follow its shape (stretched when the shape changes)."""
        w, h = fit_size(width, height, MASK_SIDE)
        if self._shape == (h, w):
            return
        self._shape = (h, w)
        self._masks = {p: fit_mask(m, (w, h)) for p, m in self._masks.items()}
        self.toolChanged.emit()
        self.changed.emit()

    @property
    def styles(self) -> list[str]:
        return list(self._styles)

    @property
    def shape(self) -> tuple[int, int] | None:
        return self._shape

    def mask(self, index: int) -> np.ndarray | None:
        if 0 <= index < len(self._styles):
            return self._masks.get(self._styles[index])
        return None

    def masks(self) -> dict[int, np.ndarray]:
        """Style index -> mask, for the styles that have one."""
        return {i: self._masks[p] for i, p in enumerate(self._styles) if p in self._masks}

    # ------------------------------------------------------------------ tool settings
    def set_active(self, index: int) -> None:
        self.active = max(0, int(index))
        self.toolChanged.emit()

    def set_tool(self, tool: str) -> None:
        if tool in TOOLS:
            self.tool = tool
            self.toolChanged.emit()

    def set_size(self, size: float) -> None:
        self.size = min(0.5, max(0.002, float(size)))
        self.toolChanged.emit()

    def set_softness(self, softness: float) -> None:
        self.softness = min(1.0, max(0.0, float(softness)))
        self.toolChanged.emit()

    def set_visible(self, on: bool) -> None:
        self.visible = bool(on)
        self.toolChanged.emit()
        self.changed.emit()

    def set_painting(self, on: bool) -> None:
        self.painting = bool(on)
        if on:
            self.visible = True
        self.toolChanged.emit()
        self.changed.emit()

    def set_outside(self, outside: str) -> None:
        if outside in OUTSIDE_CHOICES:
            self.outside = outside
            self.toolChanged.emit()

    # ------------------------------------------------------------------ editing
    def _target(self, create: bool = True) -> np.ndarray | None:
        if self._shape is None or not 0 <= self.active < len(self._styles):
            return None
        path = self._styles[self.active]
        if path not in self._masks and create:
            self._masks[path] = np.zeros(self._shape, np.float32)
        return self._masks.get(path)

    def stroke(self, points: Sequence[tuple[float, float]], *, new: bool = True) -> bool:
        """Paint (or erase) along ``points`` (picture coordinates 0..1); False: nothing to do."""
        mask = self._target()
        if mask is None or not points:
            return False
        h, w = mask.shape
        radius = self.size * max(w, h)
        last = None if new else self._last
        for u, v in points:
            x, y = u * w, v * h
            if last is None:
                dab(mask, x, y, radius, self.softness, self.tool == "eraser")
            else:
                lx, ly = last
                n = max(1, int(np.hypot(x - lx, y - ly) / max(1.0, radius * 0.25)))
                for t in np.linspace(1.0 / n, 1.0, n):
                    px, py = lx + (x - lx) * t, ly + (y - ly) * t
                    dab(mask, px, py, radius, self.softness, self.tool == "eraser")
            last = (x, y)
        self._last = last
        self.changed.emit()
        return True

    def _apply(self, fn: Any) -> bool:
        mask = self._target()
        if mask is None:
            return False
        mask[...] = fn(mask)
        self.changed.emit()
        return True

    def clear(self) -> bool:
        """Drop the active style's region (it then has none)."""
        if not 0 <= self.active < len(self._styles):
            return False
        self._masks.pop(self._styles[self.active], None)
        self.changed.emit()
        return True

    def invert(self) -> bool:
        return self._apply(lambda m: 1.0 - m)

    def fill(self) -> bool:
        return self._apply(lambda m: np.ones_like(m))

    def load(self, path: str) -> bool:
        """The active style's region from a mask file (white = inside); a message if unreadable."""
        mask = self._target()
        if mask is None:
            self.message.emit("Choose a photo and a style first, then load its region.")
            return False
        try:
            loaded = read_mask(path)
        except ImageError as exc:
            self.message.emit(f"The mask was not loaded: {exc}")
            return False
        h, w = mask.shape
        mask[...] = fit_mask(loaded, (w, h))
        self.changed.emit()
        return True

    # ------------------------------------------------------------------ runs and pictures
    def snapshot(self) -> Regions | None:
        """The regions of the next run (copies), or None when no style has one."""
        masks = {i: m.copy() for i, m in self.masks().items()}
        return Regions(masks, self.outside) if masks else None

    def set_regions(self, regions: Regions | None) -> None:
        """Regions restored from a picture (by style number): replace the current ones."""
        self._masks = {}
        if regions is not None:
            self.outside = regions.outside
            for i, m in regions.masks.items():
                if i < len(self._styles):
                    self._masks[self._styles[i]] = (
                        fit_mask(m, (self._shape[1], self._shape[0])) if self._shape else m
                    )
        self.toolChanged.emit()
        self.changed.emit()

    # ------------------------------------------------------------------ keeping them
    def save(self, folder: Path) -> str:
        """Write the masks as PNGs into ``folder``; the JSON the window state keeps."""
        entries = []
        folder.mkdir(parents=True, exist_ok=True)
        from nst_desktop.core.files import write_bytes

        for n, (path, mask) in enumerate(sorted(self._masks.items())):
            name = f"region-{n:02d}.png"
            write_bytes(folder / name, mask_png(mask))
            entries.append({"style": path, "file": name})
        for old in folder.glob("region-*.png"):
            if old.name not in {e["file"] for e in entries}:
                old.unlink(missing_ok=True)
        state = {"outside": self.outside, "visible": self.visible, "masks": entries}
        return json.dumps(state)

    def restore(self, text: str, folder: Path) -> None:
        """Masks kept by :meth:`save` (damaged entries are skipped: the window still opens)."""
        try:
            state = json.loads(text)
        except ValueError:
            return
        if not isinstance(state, dict):
            return
        if state.get("outside") in OUTSIDE_CHOICES:
            self.outside = state["outside"]
        self.visible = state.get("visible", True) is not False
        entries = state.get("masks")
        for entry in entries[:64] if isinstance(entries, list) else []:
            style, name = (
                (entry.get("style"), entry.get("file")) if isinstance(entry, dict) else (0, 0)
            )
            if not isinstance(style, str) or style not in self._styles:
                continue
            if not isinstance(name, str) or not name.startswith("region-") or "/" in name:
                continue
            try:
                mask = read_mask(folder / name, MASK_SIDE)
            except ImageError as exc:
                log.warning("stored region skipped: %s", exc)
                continue
            if self._shape is not None:
                mask = fit_mask(mask, (self._shape[1], self._shape[0]))
            self._masks[style] = mask
        self.toolChanged.emit()
        self.changed.emit()
