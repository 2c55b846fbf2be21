"""'auto' precision measures: bfloat16 only where it pays and keeps the loss, decided once."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from PIL import Image

from nst_desktop.core import precision
from nst_desktop.core.paths import cache_dir
from nst_desktop.core.precision import Choice, Measurement, choose, decide
from nst_desktop.core.session import RunInputs, RunSession, threads_note
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random

CPU = torch.device("cpu")


@pytest.fixture(autouse=True)
def _measuring(monkeypatch):
    """The suite pins 'auto' (conftest); here it measures, with nothing held in memory."""
    monkeypatch.delenv(precision.PIN_ENV, raising=False)
    precision.forget()
    yield
    precision.forget()


def _m(f32: float, b16: float, change: float = 0.01, **more: float) -> Measurement:
    """A measurement of float32 and bfloat16 (contiguous), plus ``more`` modes by name."""
    return Measurement({"float32": f32, "bfloat16": b16, **more}, change, 0.5)


class _Probe:
    def __init__(self, f32: float, b16: float, change: float = 0.01, **more: float) -> None:
        self.m = _m(f32, b16, change, **more)
        self.calls = 0

    def __call__(self, device):
        self.calls += 1
        return self.m


def test_no_gain_stays_float32():
    probe = _Probe(0.1, 4.0)
    choice = choose("auto", CPU, probe=probe)
    assert choice == Choice("float32", "bfloat16 was 40x slower on this device")
    assert choice.describe() == "float32: bfloat16 was 40x slower on this device"
    assert decide(_m(0.1, 0.09, 0.0)).precision == "float32"  # 1.1x: not enough


def test_gain_picks_bfloat16_unless_the_loss_moves():
    assert choose("auto", CPU, probe=_Probe(0.2, 0.1)) == Choice(
        "bfloat16", "2.0x faster than float32 on this device"
    )
    moved = decide(_m(0.2, 0.1, 0.08))
    assert moved.precision == "float32" and "changed the loss by 8%" in moved.reason


def test_explicit_settings_do_not_measure():
    probe = _Probe(0.2, 0.1)
    assert choose("float32", CPU, probe=probe).precision == "float32"
    assert choose("bfloat16", CPU, probe=probe).precision == "bfloat16"
    assert probe.calls == 0


def test_the_decision_is_cached_per_machine_device_and_torch(monkeypatch):
    probe = _Probe(0.2, 0.1)
    assert choose("auto", CPU, probe=probe).bfloat16 and probe.calls == 1
    assert choose("auto", CPU, probe=probe).bfloat16 and probe.calls == 1  # in memory
    precision.forget()
    assert choose("auto", CPU, probe=_Probe(0.1, 4.0)).bfloat16  # from the cache file
    stored = json.loads((cache_dir() / precision.CACHE_FILE).read_text())
    assert len(stored) == 1 and next(iter(stored.values()))["measured"]["times"]["float32"] == 0.2
    # Another torch (or CPU, or device) is another key: measured again, both kept.
    precision.forget()
    monkeypatch.setattr(torch, "__version__", "9.9.9")
    slow = _Probe(0.1, 4.0)
    assert choose("auto", CPU, probe=slow).precision == "float32" and slow.calls == 1
    assert len(json.loads((cache_dir() / precision.CACHE_FILE).read_text())) == 2
    monkeypatch.setattr(precision, "_cpu_description", lambda: "another CPU")
    precision.forget()
    assert choose("auto", CPU, probe=slow).precision == "float32" and slow.calls == 2


def test_a_failing_probe_means_float32_and_is_not_cached():
    def broken(device):
        raise RuntimeError("oneDNN said no")

    assert choose("auto", CPU, probe=broken) == Choice(
        "float32", "the bfloat16 probe failed on this device"
    )
    assert not (cache_dir() / precision.CACHE_FILE).exists()


def test_the_real_probe_stops_early_where_bfloat16_is_slow(monkeypatch):
    """On a CPU without native bfloat16 the quick look ends it after one tiny pass each."""
    sizes = []
    monkeypatch.setattr(precision, "PROBE_SIZE", 48)  # the logic, at less cost under load
    monkeypatch.setattr(precision, "REPEATS", 1)
    real_setup = precision._setup
    monkeypatch.setattr(
        precision,
        "_setup",
        lambda d, size, layers, modes: sizes.append(size) or real_setup(d, size, layers, modes),
    )
    m = precision.measure(CPU)
    assert sizes == [precision.QUICK_SIZE, precision.PROBE_SIZE] and m.probe_s > 0
    assert set(m.quick) == {"float32", "bfloat16", "bfloat16+channels_last"}
    assert {"float32", "float32+channels_last"} <= set(m.times)  # float32's layouts: always
    for name in ("bfloat16", "bfloat16+channels_last"):
        quick_gain = m.quick["float32"] / m.quick[name]
        # A mode the quick look ruled out gets no full-size pass (where bfloat16 is emulated,
        # one would cost seconds) ...
        assert (name in m.times) == (quick_gain * precision.QUICK_MARGIN >= precision.MIN_SPEEDUP)
    if max(m.speedup("bfloat16"), m.speedup("bfloat16+channels_last")) < precision.MIN_SPEEDUP:
        assert m.loss_change == float("inf")  # ... and without a gain no loss run either


def test_a_run_records_the_precision_and_threads_it_used(tmp_path, monkeypatch):
    monkeypatch.setattr(precision, "measure", _Probe(0.1, 3.0))
    rng = np.random.default_rng(2)
    for name in ("c.png", "s.png"):
        Image.fromarray(rng.integers(0, 255, (24, 24, 3), dtype=np.uint8)).save(tmp_path / name)
    settings = RunSettings(size=24, steps=2, weights="random", precision="auto")
    inputs = RunInputs.of(tmp_path / "c.png", [(tmp_path / "s.png", 1.0)])
    events = []
    session = RunSession(
        settings, inputs, weights=lambda *a: load_random(0), on_event=events.append
    )
    records = list(session.records())
    meta = session.result.metadata
    assert meta["settings"]["precision"] == "auto"  # the setting, and what it meant here:
    assert meta["precision"] == "float32"
    assert meta["precision_reason"] == "bfloat16 was 30x slower on this device"
    assert meta["threads"] == torch.get_num_threads()
    assert meta["loss"]["total"] == pytest.approx(records[-1].loss)
    said = " ".join(e.text for e in events)
    assert "in float32 (bfloat16 was 30x slower on this device)" in said


def test_restoring_from_a_picture_made_with_another_thread_count_warns():
    assert threads_note({"threads": 4, "device": "cpu"}, 4) is None
    note = threads_note({"threads": 4, "device": "cpu"}, 2)
    assert "4 CPU threads" in note and "uses 2" in note and "pixels can differ" in note
    assert threads_note({"threads": 4, "device": "cuda:0"}, 2) is None
    assert threads_note({}, 2) is None


def test_the_fastest_layout_wins_where_it_pays():
    """Channels-last where it beats the contiguous layout of its precision by the margin."""
    fast = decide(_m(0.2, 0.1, 0.01, **{"bfloat16+channels_last": 0.045}))
    assert fast == Choice(
        "bfloat16", "4.4x faster than float32 on this device", precision.CHANNELS_LAST
    )
    assert fast.describe() == "bfloat16 channels-last: 4.4x faster than float32 on this device"
    # bfloat16 contiguous faster than its channels-last: the contiguous one.
    assert decide(_m(0.2, 0.1, **{"bfloat16+channels_last": 0.12})).memory_format == "contiguous"
    # No bfloat16 gain, float32 channels-last 1.25x: float32 channels-last, and why.
    f32 = decide(_m(0.2, 4.0, **{"float32+channels_last": 0.16}))
    assert (f32.precision, f32.memory_format) == ("float32", precision.CHANNELS_LAST)
    assert f32.reason == "channels-last 1.2x faster; bfloat16 was 20x slower on this device"
    # 1.05x is within the noise: contiguous.
    assert decide(_m(0.2, 4.0, **{"float32+channels_last": 0.19})).memory_format == "contiguous"


def test_a_quick_look_that_ruled_bfloat16_out_still_says_how_slow_it_was():
    m = Measurement(
        {"float32": 0.1, "float32+channels_last": 0.1}, float("inf"), 1.0,
        quick={"float32": 0.01, "bfloat16": 0.3, "bfloat16+channels_last": 0.2},
    )  # fmt: skip
    assert decide(m) == Choice("float32", "bfloat16 was 20x slower on this device")
