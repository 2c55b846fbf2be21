"""The artist's knobs map onto settings and back (core.artist, core.quality)."""

from __future__ import annotations

import pytest

from nst_desktop.core import artist as A
from nst_desktop.core.quality import QUALITIES, quality_of, with_quality
from nst_desktop.core.settings import RunSettings


def test_the_defaults_read_as_x1_equal_layers_standard():
    s = RunSettings()
    assert A.style_strength(s) == pytest.approx(1.0)
    assert A.tilt_of(s) == 0.0 and quality_of(s) == "standard" and not A.keeps_colours(s)


@pytest.mark.parametrize("factor", [0.01, 0.3, 1.0, 7.0, 100.0])
def test_style_strength_round_trips_and_keeps_the_content_weight(factor):
    for base in (RunSettings(content_weight=2.0), RunSettings(normalization="paper")):
        s = A.with_style_strength(base, factor)
        assert s.content_weight == base.content_weight
        assert A.style_strength(s) == pytest.approx(factor, rel=1e-3)
        s.validate()


def test_tilt_moves_weight_between_shallow_and_deep_layers():
    for tilt in A.TILTS:
        s = A.with_tilt(RunSettings(), tilt)
        assert A.tilt_of(s) == tilt
        assert sum(s.style_layers.values()) == pytest.approx(5.0, abs=0.01)
    detail = A.tilt_weights(-1.5)
    assert detail["relu1_1"] > detail["relu5_1"]
    assert A.tilt_of(RunSettings(style_layers={"relu1_1": 1.0})) is None


def test_quality_tiers_set_only_the_quality():
    s = RunSettings(style_weight=9.0, seed=4)
    for name in QUALITIES:
        q = with_quality(s, name)
        assert quality_of(q) == name and (q.style_weight, q.seed) == (9.0, 4)
        q.validate()
    assert quality_of(RunSettings(size=300)) is None
