"""Stages of a run and the time left: coarse scales are cheaper per iteration than the last."""

from __future__ import annotations

import math

import pytest

from nst_desktop.core.settings import RunSettings
from nst_desktop.core.stages import plan, remaining_seconds


def _simulated_times(stages, seconds_at_largest: float) -> list[float]:
    """Elapsed seconds after each evaluation when a pass costs in proportion to its pixels."""
    largest = max(s.size for s in stages)
    times, t = [], 0.0
    for stage in stages:
        for _ in range(stage.steps):
            t += seconds_at_largest * (stage.size / largest) ** 2
            times.append(t)
    return times


@pytest.mark.parametrize("scales", [1, 2, 3])
def test_remaining_time_is_exact_when_passes_cost_their_pixels(scales):
    stages = plan(RunSettings(size=512, steps=50, scales=scales, coarse_steps=20))
    times = _simulated_times(stages, 2.0)
    for step in range(1, len(times)):
        assert remaining_seconds(stages, step, times[step - 1]) == pytest.approx(
            times[-1] - times[step - 1]
        )


def test_coarse_scales_do_not_make_the_end_look_near():
    """After 100 iterations at 362 px in 50 s, 500 iterations at 512 px are still ahead at
    about 1 s each, not at the 2 it/s seen so far."""
    stages = plan(RunSettings(size=512, steps=500, scales=2, coarse_steps=100))
    assert [s.size for s in stages] == [362, 512]
    eta = remaining_seconds(stages, 100, 50.0)
    assert eta == pytest.approx(500 * 50.0 / (100 * (362 / 512) ** 2))
    assert eta > 1.9 * (500 / 2.0)  # counting iterations would have said 250 s


def test_single_scale_is_iterations_over_pace():
    stages = plan(RunSettings(size=256, steps=200))
    assert remaining_seconds(stages, 50, 25.0) == pytest.approx(150 * 0.5)


def test_pace_is_measured_from_since():
    stages = plan(RunSettings(size=256, steps=200))
    # 10 s went into the targets before evaluation 1; from there 0.5 s per evaluation.
    assert remaining_seconds(stages, 51, 35.0, since=(1, 10.0)) == pytest.approx(149 * 0.5)


def test_unknown_pace_is_nan():
    stages = plan(RunSettings(size=256, steps=200))
    assert math.isnan(remaining_seconds(stages, 0, 0.0))
    assert math.isnan(remaining_seconds(stages, 5, 3.0, since=(5, 3.0)))
    assert math.isnan(remaining_seconds([], 5, 3.0))


def test_sweep_plans_ten_cells_at_one_size():
    stages = plan(RunSettings(mode="sweep", size=64, steps=7))
    assert len(stages) == 10 and {s.size for s in stages} == {64}
    assert remaining_seconds(stages, 7, 7.0) == pytest.approx(63.0)
