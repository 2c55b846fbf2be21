"""Quality tiers: what an artist picks instead of a size, iterations and scales.

*Preview* is a quick look (measured about 2.2 CPU-seconds per iteration at 256 px on a 2-core
VM, so 60 iterations take about a minute and a quarter on two idle cores), *Standard* the paper's
512 px and 500 iterations, *Print* a large picture made coarse to fine. A tier sets only the
quality knobs (core.presets.QUALITY_KNOBS); the look stays. Torch-free.
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


def quality_of(settings: RunSettings) -> str | None:
    """The tier ``settings`` are at, or None when the size or iterations were set by hand."""
    for name, (_, values) in QUALITIES.items():
        if all(getattr(settings, k) == v for k, v in values.items()):
            return name
    return None


def with_quality(settings: RunSettings, name: str) -> RunSettings:
    """``settings`` at the tier ``name`` (KeyError for an unknown tier)."""
    return dataclasses.replace(settings, **QUALITIES[name][1])


def label(name: str) -> str:
    return QUALITIES[name][0]


def describe(name: str) -> str:
    """ "Preview (256 px, 60 iterations)" """
    values = QUALITIES[name][1]
    scales = f", {values['scales']} scales" if values["scales"] > 1 else ""
    return f"{label(name)} ({values['size']} px, {values['steps']} iterations{scales})"
