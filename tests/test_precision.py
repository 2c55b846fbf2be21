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


class _Probe:
    def __init__(self, f32: float, b16: float, change: float = 0.01) -> None:
        self.m = Measurement(f32, b16, change, 0.5)
        self.calls = 0

    def __call__(self, device):
        self.calls += 1
        return self.m


def test_no_gain_stays_float32():
    probe = _Probe(0.1, 4.0)
    choice = choose("auto", CPU, probe=probe)
    assert choice == Choice("float32", "bfloat16 was 40x slower on this device")
    assert choice.describe() == "float32: bfloat16 was 40x slower on this device"
    assert decide(Measurement(0.1, 0.09, 0.0, 0.1)).precision == "float32"  # 1.1x: not enough


def test_gain_picks_bfloat16_unless_the_loss_moves():
    assert choose("auto", CPU, probe=_Probe(0.2, 0.1)) == Choice(
        "bfloat16", "2.0x faster than float32 on this device"
    )
    moved = decide(Measurement(0.2, 0.1, 0.08, 0.1))
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
    assert len(stored) == 1 and next(iter(stored.values()))["measured"]["float32_s"] == 0.2
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
    real_setup = precision._setup
    monkeypatch.setattr(
        precision,
        "_setup",
        lambda d, size, layers: sizes.append(size) or real_setup(d, size, layers),
    )
    m = precision.measure(CPU)
    assert m.float32_s > 0 and m.bfloat16_s > 0 and m.probe_s > 0
    assert sizes in ([precision.QUICK_SIZE], [precision.QUICK_SIZE, precision.PROBE_SIZE])
    if sizes == [precision.QUICK_SIZE]:  # the quick look ended it: no gain in sight ...
        assert m.speedup * precision.QUICK_MARGIN < precision.MIN_SPEEDUP
        assert m.loss_change == float("inf")  # ... so no loss run either
    if m.speedup < precision.MIN_SPEEDUP:
        assert m.loss_change == float("inf")


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
