"""The command line's regions: ``--style-mask I:PATH`` and ``--outside keep|styles``.

Masks given on the command line are read from their files (through core.regions, which applies
the loader's formats and limits). Masks from ``--settings-from`` come only from the pictures'
embedded PNGs: a picture may not make this program read a file on this computer.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .core.regions import OUTSIDE_CHOICES, Regions, decode_regions, read_mask
from .core.settings import MAX_STYLES


class RegionUsageError(Exception):
    """A bad --style-mask: the CLI prints it as one line and exits with status 2."""


def add_region_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("regions (which part of the picture each style paints)")
    group.add_argument(
        "--style-mask",
        action="append",
        default=[],
        metavar="I:PATH",
        help="the region of style I (1-based) as a grayscale image of any size, resized to the "
        "content picture; white is inside, black outside, grey in between; repeatable",
    )
    group.add_argument(
        "--style-source-mask",
        action="append",
        default=[],
        metavar="I:PATH",
        help="take style I's texture only from the white part of this mask over the style "
        "image (only the sky of a painting, say); resized to the style image; repeatable",
    )
    group.add_argument(
        "--outside",
        choices=OUTSIDE_CHOICES,
        default=None,
        help="outside every region: 'keep' the photo (content only) or let the 'styles' "
        "without a region paint it (default: styles)",
    )


def parse_mask_option(text: str, option: str = "--style-mask") -> tuple[int, Path]:
    """``I:PATH`` -> (0-based style index, path); raises RegionUsageError."""
    index, sep, path = text.partition(":")
    if not sep or not index.strip().isdigit() or not path:
        raise RegionUsageError(
            f"{option} {text[:80]!r} is not I:PATH; write the style's number, a colon and "
            f"the mask file, like {option} 1:sky.png."
        )
    i = int(index)
    if not 1 <= i <= MAX_STYLES:
        raise RegionUsageError(f"{option} {i}: style numbers start at 1 and go up to {MAX_STYLES}.")
    return i - 1, Path(path)


def _read_masks(texts: list[str], option: str, n_styles: int, masks: dict, names: dict) -> None:
    """Read each ``I:PATH`` of ``option`` into ``masks`` and ``names`` (over restored ones)."""
    from .core.images import ImageError

    for text in texts:
        i, path = parse_mask_option(text, option)
        if i >= n_styles:
            raise RegionUsageError(
                f"{option} {i + 1}: there {'is' if n_styles == 1 else 'are'} only "
                f"{n_styles} style image{'s' if n_styles != 1 else ''}; number them from 1."
            )
        try:
            masks[i] = read_mask(path)
        except ImageError as exc:
            raise RegionUsageError(f"{option} {i + 1}: {exc}") from None
        names[i] = path.name


def regions_from_args(args: argparse.Namespace, warnings: list[str]) -> Regions | None:
    """The run's regions: --settings-from's embedded masks < --style-mask; --outside over both."""
    picture_meta: dict[str, Any] | None = None
    if args.settings_from is not None:
        from .core.images import read_metadata

        picture_meta = read_metadata(args.settings_from)
    n_styles = len(args.styles)
    masks: dict = {}
    names: dict = {}
    sources: dict = {}
    source_names: dict = {}
    outside = "styles"
    if picture_meta is not None and "regions" in picture_meta:
        restored, found = decode_regions(picture_meta["regions"])
        warnings += [f"{args.settings_from.name}: {w}" for w in found]
        if restored:
            outside = restored.outside
            for kept, found in ((masks, restored.masks), (sources, restored.sources)):
                for i, m in found.items():
                    if i < n_styles:
                        kept[i] = m
                    else:
                        warnings.append(
                            f"{args.settings_from.name}: its mask for style {i + 1} was not "
                            f"used; this run has {n_styles} style images"
                        )
    _read_masks(getattr(args, "style_mask", []), "--style-mask", n_styles, masks, names)
    _read_masks(
        getattr(args, "style_source_mask", []), "--style-source-mask", n_styles, sources,
        source_names,
    )  # fmt: skip
    if getattr(args, "outside", None):
        outside = args.outside
        if not masks:
            warnings.append("--outside has no effect without a --style-mask")
    regions = Regions(masks, outside, names, sources, source_names)
    return regions if regions else None
