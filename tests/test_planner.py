"""The planner's formula: monotone in size and depth, fits/doesn't fit, and memory vs reality."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from nst_desktop.core import planner
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random


def _cal() -> planner.Calibration:
    return planner.Calibration("cpu", seconds_per_mac=1e-10, probe_seconds=0.1)


def test_estimates_grow_with_size():
    small = planner.estimate(RunSettings(size=128), "cpu", _cal())
    big = planner.estimate(RunSettings(size=512), "cpu", _cal())
    assert big.seconds_per_iter > 10 * small.seconds_per_iter
    assert big.peak_bytes > small.peak_bytes
    assert big.total_seconds == pytest.approx(big.seconds_per_iter * 500)


def test_coarse_scales_are_counted_at_their_own_size():
    """3 scales at 512 px: 500 iterations at 512, 100 at 362 (about 1/2 the pixels) and 100 at
    256 (1/4), not 700 at the full size as before."""
    full = planner.estimate(RunSettings(size=512, steps=500), "cpu", _cal())
    ctf = planner.estimate(
        RunSettings(size=512, steps=500, scales=3, coarse_steps=100), "cpu", _cal(), aspect=1.0
    )
    assert ctf.seconds_per_iter == full.seconds_per_iter  # the final scale's
    expected = full.seconds_per_iter * (500 + 100 * (362 / 512) ** 2 + 100 * (256 / 512) ** 2)
    assert ctf.total_seconds == pytest.approx(expected, rel=0.01)
    assert ctf.peak_bytes == full.peak_bytes  # the final scale is the biggest


def test_estimates_grow_with_depth():
    shallow = RunSettings(mode="style-rep", style_layers={"relu1_1": 1.0})
    deep = RunSettings(mode="style-rep", style_layers={"relu1_1": 1.0, "relu4_1": 1.0})
    a, b = planner.estimate(shallow, "cpu", _cal()), planner.estimate(deep, "cpu", _cal())
    assert b.seconds_per_iter > 5 * a.seconds_per_iter
    assert b.peak_bytes > a.peak_bytes


def test_lbfgs_history_costs_memory():
    lbfgs = planner.peak_bytes(RunSettings(size=512, optimizer="lbfgs", lbfgs_history=100))
    adam = planner.peak_bytes(RunSettings(size=512, optimizer="adam"))
    assert lbfgs - adam > 2 * 100 * 512 * 512 * 3 * 4 * 0.9


def test_layer_table_matches_vgg19():
    table = planner.layer_table()
    assert len(table) == 37
    assert table[0] == ("conv1_1", 64, 1, 3 * 64 * 9)
    assert table[28][0] == "conv5_1" and table[28][2] == 16


def test_not_fitting_when_memory_is_tiny(monkeypatch):
    monkeypatch.setattr(planner, "available_bytes", lambda device: 10 * 2**20)
    est = planner.estimate(RunSettings(size=1024), "cpu", _cal())
    assert not est.fits
    assert "lower the size" in est.note
    assert planner.largest_fitting_size(RunSettings(size=1024), "cpu") == 16


def test_fits_when_memory_is_plenty(monkeypatch):
    monkeypatch.setattr(planner, "available_bytes", lambda device: 2**40)
    assert planner.estimate(RunSettings(size=256), "cpu", _cal()).fits


def test_largest_fitting_size_is_monotonic(monkeypatch):
    s = RunSettings()
    sizes = []
    for gb in (0.5, 1, 2, 4, 8):
        # the memory a run may take: the free memory less the guard's reserve
        monkeypatch.setattr(planner, "usable_bytes", lambda device, gb=gb: int(gb * 2**30))
        size = planner.largest_fitting_size(s, "cpu")
        assert planner.peak_bytes(s, size) <= gb * 2**30
        assert planner.peak_bytes(s, size + 16) > gb * 2**30
        sizes.append(size)
    assert sizes == sorted(sizes) and sizes[0] < sizes[-1]


def test_available_memory_on_cpu_is_read():
    avail = planner.available_bytes("cpu")
    assert avail is None or avail > 0


def test_probe_calibrates_and_caches(monkeypatch):
    monkeypatch.setattr(planner, "_CACHE", {})
    monkeypatch.setattr(planner, "PROBE_SIZE", 32)
    feats = load_random(0).features
    cal = planner.probe("cpu", feats)
    assert cal.seconds_per_mac > 0
    assert planner.probe("cpu") is cal
    est = planner.estimate(RunSettings(size=64), "cpu", cal)
    assert est.seconds_per_iter > 0 and est.total_seconds > est.seconds_per_iter


_MEASURE = """
import json, sys
import numpy as np, torch
from PIL import Image
from nst_desktop.core.optimize import Inputs, run
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random

def hwm():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024

feats = load_random(0).features
img = Image.fromarray(np.random.default_rng(0).integers(0, 255, (256, 256, 3), dtype=np.uint8))
size = int(sys.argv[1])
s = RunSettings(size=size, steps=2, optimizer="adam", weights="random")
for _ in run(s, Inputs(img, [img]), feats, torch.device("cpu")):
    pass
peaks = [hwm()]
print(json.dumps(peaks))
"""


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="Linux only")
def test_memory_growth_matches_measured_rss():
    """The estimated growth from 128 to 256 px is within 1.5x of the measured peak-RSS growth.

    Each size runs in a fresh process (in the suite's process earlier tests have already raised
    the peak, and in one process the bigger run reuses what the smaller one freed), so the
    difference of the two peaks is the extra memory the bigger run needed.
    """
    peaks = []
    for size in (128, 256):
        out = subprocess.run(
            [sys.executable, "-c", _MEASURE, str(size)],
            capture_output=True, text=True, timeout=240, check=True,
        )  # fmt: skip
        peaks += json.loads(out.stdout.strip().splitlines()[-1])
    measured = peaks[1] - peaks[0]
    estimated = planner.peak_bytes(RunSettings(size=256, optimizer="adam")) - planner.peak_bytes(
        RunSettings(size=128, optimizer="adam")
    )
    assert estimated / 1.5 <= measured <= estimated * 1.5, (measured, estimated)


def test_a_wide_picture_costs_its_own_pixels_not_a_square():
    """A 3:2 photo at 512 px is 512 x 341: two thirds of the square's work and activations."""
    s = RunSettings(size=512)
    square = planner.estimate(s, "cpu", _cal())
    wide = planner.estimate(s, "cpu", _cal(), aspect=2 / 3)
    assert wide.seconds_per_iter == pytest.approx(square.seconds_per_iter * 341 / 512, rel=1e-6)
    assert planner.activation_bytes(s, aspect=2 / 3) == pytest.approx(
        planner.activation_bytes(s) * 341 / 512
    )
    assert wide.peak_bytes < square.peak_bytes


def test_a_wide_picture_fits_at_a_larger_size(monkeypatch):
    monkeypatch.setattr(planner, "usable_bytes", lambda device: 2 * 2**30)
    s = RunSettings(size=4096)
    square = planner.largest_fitting_size(s, "cpu")
    wide = planner.largest_fitting_size(s, "cpu", aspect=0.5)
    assert planner.peak_bytes(s, wide, aspect=0.5) <= 2 * 2**30
    assert planner.peak_bytes(s, wide + 16, aspect=0.5) > 2 * 2**30
    assert wide > square


def test_a_sweep_counts_its_ten_cells_at_full_depth():
    est = planner.estimate(RunSettings(mode="sweep", size=128, steps=30), "cpu", _cal())
    deepest = planner.estimate(RunSettings(size=128, steps=30), "cpu", _cal())  # to relu5_1
    assert est.seconds_per_iter == deepest.seconds_per_iter
    assert est.total_seconds == pytest.approx(10 * 30 * est.seconds_per_iter)


def test_the_probe_stops_between_passes_when_told(monkeypatch):
    """A closing window cancels the probe: it ends before its next pass and caches nothing."""
    asked = []

    def cancelled() -> bool:
        asked.append(1)
        return len(asked) >= 3  # asked after the weights, the warm-up pass, then: stop

    monkeypatch.setattr(planner, "_CACHE", {})
    with pytest.raises(planner.ProbeCancelled):
        planner.probe("cpu", cancelled=cancelled)
    assert len(asked) == 3 and "cpu" not in planner._CACHE
