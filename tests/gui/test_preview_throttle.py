"""The preview throttle: about PREVIEW_FPS frames a second whatever the iteration rate."""

from __future__ import annotations

import pytest

from nst_desktop.gui.worker import PREVIEW_FPS, PreviewThrottle


def _frames(iteration_s: float, seconds: float, interval: float = 1 / PREVIEW_FPS) -> int:
    throttle = PreviewThrottle(interval)
    n = int(seconds / iteration_s)
    return sum(throttle(i * iteration_s) for i in range(n))


@pytest.mark.parametrize("iteration_s", [0.068, 0.05, 0.01, 0.001])
def test_fast_iterations_give_the_full_rate_and_no_more(iteration_s):
    """Regression: counting from the last frame gave 7.5/s at 14.6 it/s (every 2nd iteration)."""
    fps = _frames(iteration_s, 60.0) / 60.0
    assert PREVIEW_FPS * 0.95 <= fps <= PREVIEW_FPS * 1.01


def test_slow_iterations_each_get_a_frame():
    assert _frames(0.5, 60.0) == 120


def test_a_slow_stretch_buys_no_burst_afterwards():
    throttle = PreviewThrottle(0.1)
    times = [i * 1.0 for i in range(10)]  # ten slow iterations, each with a frame
    times += [10.0 + i * 0.001 for i in range(1, 1000)]  # then one second of very fast ones
    shown = [t for t in times if throttle(t)]
    fast = [t for t in shown if t > 10.0]
    assert len(shown) - len(fast) == 10
    assert len(fast) <= 11  # about 10 in that second, never the backlog of slow ones
    assert min(b - a for a, b in zip(fast, fast[1:], strict=False)) >= 0.05


def test_zero_interval_shows_every_iteration():
    throttle = PreviewThrottle(0.0)
    assert all(throttle(t) for t in [0.0, 0.0, 0.001, 0.002])
