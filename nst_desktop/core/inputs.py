"""Reading the images of one run within the program's memory: each read no larger than the run
needs, all of them together within one budget, and a note for each one read smaller.

No torch and no Qt: the CLI calls it before the run, the window from a worker thread.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass, field

from PIL import Image

from .images import ImageError, LoadedImage, PixelBudget, open_image
from .settings import MAX_STYLES, RunSettings

#: relu5_1, the deepest layer, needs 16 px on the short side; no run reads less than that.
_MIN_SIDE = 16


@dataclass
class RunImages:
    """The decoded inputs of a run, and what to tell the user about them."""

    content: Image.Image | None
    styles: list[Image.Image]
    #: One sentence for each image read smaller than its file (see LoadedImage.note).
    notes: list[str] = field(default_factory=list)


def needed_sides(settings: RunSettings) -> tuple[int, int]:
    """The longest sides a run uses from its content image and from its style images.

    The content image takes the result's size; style images are scaled by ``style_scale``;
    in the style study the first style image also gives the result its shape.
    """
    size = settings.size
    style = max(_MIN_SIDE, round(size * settings.style_scale))
    if settings.mode == "style-rep":
        style = max(style, size)
    return size, style


def load_run_images(
    settings: RunSettings,
    content: str | os.PathLike[str] | None,
    styles: Sequence[str | os.PathLike[str]] = (),
    *,
    budget: PixelBudget | None = None,
) -> RunImages:
    """Read the content and style images of a run; raises :class:`ImageError`.

    Every image is read no larger than the run needs (:func:`open_image`'s ``max_side``) and
    counts against one :class:`PixelBudget`, so sixteen huge style images cannot fill the
    memory before the run begins.
    """
    if len(styles) > MAX_STYLES:
        raise ImageError(f"{len(styles)} style images are too many; choose at most {MAX_STYLES}.")
    budget = budget if budget is not None else PixelBudget()
    content_side, style_side = needed_sides(settings)
    first = open_image(content, max_side=content_side, budget=budget) if content else None
    rest = [open_image(p, max_side=style_side, budget=budget) for p in styles]
    loaded: list[LoadedImage] = ([first] if first is not None else []) + rest
    return RunImages(
        first.image if first is not None else None,
        [x.image for x in rest],
        [x.note for x in loaded if x.note],
    )


def run_aspect(
    mode: str, content: str | os.PathLike[str] | None, styles: Sequence[object]
) -> float:
    """Short over long side of the picture a run optimizes (the content's shape; a texture's is
    the first style's), read from the file's header only; 1.0 (a square, the worst case for the
    planner) when it cannot be read: the run reports the file itself."""
    path = content if mode != "style-rep" else (styles[0] if styles else None)
    if path is None:
        return 1.0
    try:
        with Image.open(os.fspath(path)) as img:  # type: ignore[arg-type]
            w, h = img.size
    except (OSError, ValueError, Image.DecompressionBombError):
        return 1.0
    return min(w, h) / max(w, h) if w > 0 and h > 0 else 1.0
