"""The artist's knobs over the paper's: style strength, brush size, detail ↔ large forms and
"keep my photo's colours", each a mapping to and from RunSettings fields. Torch-free.

* Style strength is the style/content balance on a log scale, as a factor of the balance the
  chosen loss formulas start from (x1: as the defaults; x10: ten times the style).
* Detail ↔ large forms tilts the weights of the five relu*_1 style layers: at 0 they are equal
  (the paper's), below 0 the shallow layers (fine texture) weigh more, above 0 the deep ones
  (big shapes and strokes).
"""

from __future__ import annotations

import dataclasses
import math

from .layers import STUDY_LAYERS
from .settings import RunSettings

#: the balance style/content each loss formula starts from (the defaults and the Paper preset)
BASE_BALANCE = {"relative": 3.6, "paper": 50.0}
STRENGTH_DECADES = 2.0  # the slider reaches 1/100 .. 100 times the base balance
TILTS = (-1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5)  # the detail ↔ large forms positions


def _base(settings: RunSettings) -> float:
    return BASE_BALANCE.get(settings.normalization, BASE_BALANCE["relative"])


def style_strength(settings: RunSettings) -> float:
    """The style/content balance as a factor of the base balance (inf: no content weight)."""
    if settings.content_weight <= 0:
        return math.inf
    return settings.style_weight / settings.content_weight / _base(settings)


def with_style_strength(settings: RunSettings, factor: float) -> RunSettings:
    """``settings`` with the balance at ``factor`` times the base; the content weight stays
    (1 when it was 0)."""
    content = settings.content_weight if settings.content_weight > 0 else 1.0
    style = float(f"{content * _base(settings) * factor:.4g}")
    return dataclasses.replace(settings, content_weight=content, style_weight=style)


def tilt_weights(tilt: float) -> dict[str, float]:
    """The five relu*_1 style layers weighted by ``tilt`` (0: equal), averaging 1."""
    raw = [2.0 ** ((i - 2) * tilt) for i in range(len(STUDY_LAYERS))]
    mean = sum(raw) / len(raw)
    return {name: round(w / mean, 3) for name, w in zip(STUDY_LAYERS, raw, strict=True)}


def tilt_of(settings: RunSettings) -> float | None:
    """The tilt the style layers are at, or None for a choice of layers of one's own."""
    layers = settings.style_layers
    if set(layers) != set(STUDY_LAYERS):
        return None
    for tilt in TILTS:
        want = tilt_weights(tilt)
        if all(abs(layers[k] - want[k]) <= 1e-3 * max(1.0, want[k]) for k in want):
            return tilt
    return None


def with_tilt(settings: RunSettings, tilt: float) -> RunSettings:
    return dataclasses.replace(settings, style_layers=tilt_weights(tilt))


def keeps_colours(settings: RunSettings) -> bool:
    return settings.color != "none"


def with_colours_kept(settings: RunSettings, keep: bool, method: str = "luminance") -> RunSettings:
    return dataclasses.replace(settings, color=method if keep else "none")
