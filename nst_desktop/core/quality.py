"""Quality tiers: what an artist picks instead of a size, iterations and scales.

*Preview* is a quick look (measured about 2.2 CPU-seconds per iteration at 256 px on a 2-core
VM, so 60 iterations take about a minute and a quarter on two idle cores), *Standard* the paper's
512 px and 500 iterations, *Print* a large picture made coarse to fine, at any size from 1024 px
(a print format at 300 dpi or a pixel size; a size that does not fit under the memory ceiling is
refined in tiles, core/tiles.py). A tier sets only the quality knobs
(core.presets.QUALITY_KNOBS); the look stays. Torch-free.
"""

from __future__ import annotations

import dataclasses

from .settings import RunSettings

#: name -> (label, the values of the quality knobs)
QUALITIES: dict[str, tuple[str, dict[str, int]]] = {
    "preview": ("Preview", {"size": 256, "steps": 60, "scales": 1, "coarse_steps": 100}),
    "standard": ("Standard", {"size": 512, "steps": 500, "scales": 1, "coarse_steps": 100}),
    "print": ("Print", {"size": 1024, "steps": 300, "scales": 3, "coarse_steps": 150}),
}


#: The smallest size the Print tier keeps (its own default); larger sizes stay Print.
PRINT_MIN = QUALITIES["print"][1]["size"]

#: Print formats at 300 dpi: name -> (label, long side in px). ISO A sizes by their long side in
#: mm (A5 210, A4 297, A3 420), US Letter 11 in; px = round(mm / 25.4 * 300).
PRINT_DPI = 300
PRINT_FORMATS: dict[str, tuple[str, int]] = {
    "a5": ("A5", 2480),
    "a4": ("A4", 3508),
    "letter": ("Letter", 3300),
    "a3": ("A3", 4961),
}


def quality_of(settings: RunSettings) -> str | None:
    """The tier ``settings`` are at, or None when the size or iterations were set by hand.

    Print is any size from its own up, at its iterations and scales (a print format or a pixel
    size); the other tiers are their exact values."""
    for name, (_, values) in QUALITIES.items():
        if all(getattr(settings, k) == v for k, v in values.items() if k != "size"):
            if settings.size == values["size"] or (name == "print" and settings.size > PRINT_MIN):
                return name
    return None


def print_format_of(size: int) -> str | None:
    """The print format whose 300 dpi long side is ``size`` px, if any."""
    for name, (_, px) in PRINT_FORMATS.items():
        if px == size:
            return name
    return None


def describe_print(size: int) -> str:
    """ "A4 at 300 dpi (3508 px)" or "2000 px" """
    name = print_format_of(size)
    if name is None:
        return f"{size} px"
    return f"{PRINT_FORMATS[name][0]} at {PRINT_DPI} dpi ({size} px)"


def with_quality(settings: RunSettings, name: str, size: int | None = None) -> RunSettings:
    """``settings`` at the tier ``name`` (KeyError for an unknown tier); ``size`` replaces the
    tier's size (Print: a print format's or one's own, at least :data:`PRINT_MIN`)."""
    values = dict(QUALITIES[name][1])
    if size is not None:
        values["size"] = max(PRINT_MIN, int(size)) if name == "print" else int(size)
    return dataclasses.replace(settings, **values)


def label(name: str) -> str:
    return QUALITIES[name][0]


def describe(name: str, size: int | None = None) -> str:
    """ "Preview (256 px, 60 iterations)"; ``size``: the Print tier's own size."""
    values = QUALITIES[name][1]
    scales = f", {values['scales']} scales" if values["scales"] > 1 else ""
    size = describe_print(size) if size is not None else f"{values['size']} px"
    return f"{label(name)} ({size}, {values['steps']} iterations{scales})"
