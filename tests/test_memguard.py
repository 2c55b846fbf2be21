"""Never start what cannot fit, always stop: the fit calculation, the memory guard (with a fake
memory reader, so it trips deterministically at 64 px), and Stop during target computation."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest
from PIL import Image
from torch import nn

from nst_desktop.core import memguard, planner
from nst_desktop.core.failures import Failure, RunStatus
from nst_desktop.core.memguard import MemoryGuard, MemoryGuardError, Reading, reserve_bytes
from nst_desktop.core.optimize import RunControl
from nst_desktop.core.session import Phase, RunInputs, RunSession
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random

GB = 2**30
TOTAL = 8 * GB  # the fake memory's total: its reserve is the 1 GiB floor


class FakeMemory:
    """A memory whose free bytes the test sets; counts its readings."""

    def __init__(self, available: int) -> None:
        self.available = available
        self.reads = 0

    def __call__(self) -> Reading:
        self.reads += 1
        return Reading(self.available, TOTAL)


@pytest.fixture
def pictures(tmp_path):
    rng = np.random.default_rng(3)
    for name, shape in (("c.png", (48, 64)), ("s.png", (40, 40))):
        Image.fromarray(rng.integers(0, 255, (*shape, 3), dtype=np.uint8)).save(tmp_path / name)
    return tmp_path / "c.png", tmp_path / "s.png"


def _session(pictures, memory: FakeMemory | None, control=None, **knobs) -> RunSession:
    settings = RunSettings(**{"size": 64, "steps": 6, "weights": "random", **knobs})
    inputs = RunInputs.of(pictures[0], [(pictures[1], 1.0)])

    def guard(device):
        return None if memory is None else MemoryGuard(memory, interval=0.01)

    return RunSession(
        settings, inputs, weights=lambda *a: load_random(0), memory_guard=guard, control=control
    )  # fmt: skip


# ----------------------------------------------------------------- the reserve and the fit
def test_the_reserve_is_a_floor_or_a_share_of_the_total(monkeypatch):
    monkeypatch.delenv(memguard.RESERVE_ENV, raising=False)
    assert reserve_bytes(8 * GB) == GB  # 5 % would be 0.4 GB: the 1 GiB floor holds
    assert reserve_bytes(64 * GB) == int(0.05 * 64 * GB)
    monkeypatch.setenv(memguard.RESERVE_ENV, "512")
    assert reserve_bytes(64 * GB) == 512 * 2**20
    monkeypatch.setenv(memguard.RESERVE_ENV, "lots")
    assert reserve_bytes(8 * GB) == GB  # not a number: the default, and a log line


def test_the_host_reading_is_this_computers_memory():
    reading = memguard.host_reading()
    if reading is None:
        pytest.skip("no /proc/meminfo here")
    assert 0 < reading.available <= reading.total
    assert 0 < (memguard.process_rss() or 0) < reading.total


def _memory(monkeypatch, free: int, total: int = 16 * GB) -> None:
    monkeypatch.delenv(memguard.RESERVE_ENV, raising=False)
    monkeypatch.setattr(planner, "memory_of", lambda device: (free, total))


def test_a_run_fits_only_with_the_guards_reserve_left_free(monkeypatch):
    s = RunSettings(size=512)
    peak = planner.peak_bytes(s)
    _memory(monkeypatch, free=peak + GB + 2**20)  # 16 GB total: a 1 GiB reserve
    assert planner.check_fit(s, "cpu").fits and planner.estimate(s, "cpu").fits
    _memory(monkeypatch, free=peak + GB - 2**20)  # it would fit, but into the reserve
    fit = planner.check_fit(s, "cpu")
    assert not fit.fits and not planner.estimate(s, "cpu").fits
    assert fit.largest < 512 and fit.largest % 16 == 0


def test_the_largest_size_that_fits_is_the_largest(monkeypatch):
    _memory(monkeypatch, free=6 * GB)
    s = RunSettings(size=8192, max_memory="1000GB")  # a ceiling that tiles cannot help
    fit = planner.check_fit(s, "cpu", aspect=0.75)
    usable = 6 * GB - GB
    assert not fit.fits and fit.available_bytes == 6 * GB
    assert planner.peak_bytes(s, fit.largest, 0.75) <= usable
    assert planner.peak_bytes(s, fit.largest + 16, 0.75) > usable
    line = fit.sentence(8192, cli=True)
    assert f"--size {fit.largest} " in line and "--force" in line and "\n" not in line
    assert "6.0 GB is free" in line
    assert f"{fit.largest} px is the largest" in fit.sentence(8192)


def test_a_run_too_large_to_make_whole_fits_in_tiles_under_its_ceiling(monkeypatch):
    """The session makes such a run in tiles (core/tiles.py), so the fit check must not refuse
    it: at 4096 px and beyond, the whole run's estimate is tens of GB."""
    _memory(monkeypatch, free=6 * GB)
    for s in (RunSettings(size=8192), RunSettings(size=4096, max_memory="1.5GB")):
        assert planner.peak_bytes(s, aspect=0.75) > 6 * GB
        fit = planner.check_fit(s, "cpu", aspect=0.75)
        assert fit.fits and fit.largest == s.size and fit.peak_bytes <= 5 * GB
        if s.max_memory:
            assert fit.peak_bytes <= 1.5 * GB


def test_a_run_that_fits_nowhere_says_so(monkeypatch):
    _memory(monkeypatch, free=GB + 2**20)
    fit = planner.check_fit(RunSettings(size=1024), "cpu")
    assert not fit.fits and fit.largest < planner.MIN_FIT_SIZE
    assert "does not fit even at 64 px" in fit.sentence(1024, cli=True)


def test_unknown_memory_always_fits(monkeypatch):
    monkeypatch.setattr(planner, "memory_of", lambda device: None)
    assert planner.check_fit(RunSettings(size=8192), "cpu").fits


def test_auto_is_the_cpu_without_torch_only_where_no_gpu_driver_is_loaded(monkeypatch):
    assert planner.device_without_torch("cpu") == "cpu"
    assert planner.device_without_torch("cuda:0") is None
    monkeypatch.setattr(planner.sys, "platform", "linux")
    monkeypatch.setattr(planner.os.path, "exists", lambda p: p == "/dev/nvidia0")
    assert planner.device_without_torch("auto") is None
    monkeypatch.setattr(planner.os.path, "exists", lambda p: False)
    assert planner.device_without_torch("auto") == "cpu"
    monkeypatch.setattr(planner.sys, "platform", "darwin")  # MPS: only torch knows
    assert planner.device_without_torch("auto") is None


# ----------------------------------------------------------------- the guard
def test_the_guard_refuses_a_layer_that_would_touch_the_reserve(pictures):
    """At 64 px relu1_1's output is 1 MiB: with 100 KB of headroom the targets' first layer is
    refused before it is made, and the run ends as out of memory, before any evaluation."""
    memory = FakeMemory(GB + 100_000)
    session = _session(pictures, memory)
    records = list(session.records())
    result = session.result
    assert result.status == RunStatus.ERROR and result.failure == Failure.OUT_OF_MEMORY
    assert result.iterations == 0 and len(records) == 1
    assert result.message.startswith("Out of memory: the next step needs about 1 MB of memory")
    assert "lower the size" in result.message and "\n" not in result.message
    assert isinstance(result.error, MemoryGuardError)


def test_the_watchdog_ends_a_run_whose_memory_runs_low(pictures):
    memory = FakeMemory(4 * GB)
    session = _session(pictures, memory, steps=10_000)
    steps = []
    for rec in session.records():
        steps.append(rec.step)
        if rec.step == 3:
            memory.available = GB // 2  # another program took the memory
    result = session.result
    assert result.status == RunStatus.ERROR and result.failure == Failure.OUT_OF_MEMORY
    assert 3 <= result.iterations < 10  # within an evaluation or two
    assert result.message.startswith("Out of memory: only 512 MB of memory was left free")
    assert "kept the best image" in result.message
    assert result.image is not None and result.image.shape == (48, 64, 3)
    assert session.peak_rss > 0


def test_a_guard_that_trips_between_layers_stops_the_evaluation(pictures):
    """A pass that would outgrow the headroom mid-evaluation ends there (not one pass later)."""
    memory = FakeMemory(4 * GB)
    session = _session(pictures, memory, steps=10_000)
    for rec in session.records():
        if rec.step == 2:
            memory.available = GB + 2**20  # 1 MiB headroom: the next pass's first layer
    result = session.result
    assert result.failure == Failure.OUT_OF_MEMORY and result.iterations == 2
    assert "the next step needs about" in result.message


def test_memory_already_low_refuses_the_run_before_it_begins(pictures):
    memory = FakeMemory(GB // 4)
    session = _session(pictures, memory)
    list(session.records())
    result = session.result
    assert result.status == RunStatus.FAILED and result.failure == Failure.OUT_OF_MEMORY
    assert result.message.startswith("Out of memory: only 256 MB")
    assert "before the run began" in result.message and result.image is None


def test_the_guards_thread_ends_with_the_run(pictures):
    session = _session(pictures, FakeMemory(4 * GB), steps=2)
    list(session.records())
    assert session.result.status == RunStatus.DONE
    assert not [t for t in threading.enumerate() if t.name == "memory-guard"]


# ----------------------------------------------------------------- stop in every phase
def test_stop_during_target_computation_ends_the_run_between_two_layers(pictures, monkeypatch):
    """Each layer takes 0.1 s, so the targets take several seconds; Stop acts between layers:
    no layer starts after it (one may, if Stop lands between the check and the layer)."""
    real = nn.ReLU.forward
    control = RunControl()
    started_after_stop: list[int] = []

    def slow(self, x):
        if control.stopped:
            started_after_stop.append(1)
        time.sleep(0.1)
        return real(self, x)

    monkeypatch.setattr(nn.ReLU, "forward", slow)
    session = _session(pictures, None, control=control)
    targets = threading.Event()
    session.on_event = lambda e: targets.set() if e.phase == Phase.TARGETS else None
    worker = threading.Thread(target=lambda: list(session.records()))
    worker.start()
    try:
        assert targets.wait(60)
        time.sleep(0.3)  # inside the content target's pass
        control.stop()
    finally:
        control.stop()
        worker.join(60)
    assert not worker.is_alive() and len(started_after_stop) <= 1, started_after_stop
    assert session.result.status == RunStatus.STOPPED and session.result.iterations == 0


def test_stop_between_scales_ends_before_the_next_scale(pictures):
    control = RunControl()
    session = _session(pictures, None, control=control, scales=2, coarse_steps=2)
    records = []
    for rec in session.records():
        records.append(rec)
        if rec.stage_done and rec.stage == 0:
            control.stop()
    assert session.result.status == RunStatus.STOPPED
    assert [r.stage for r in records if not r.final].count(1) == 0  # no evaluation at scale 2
    assert session.result.iterations == 2


# ----------------------------------------------------------------- what is read on a GPU
def test_the_cuda_reading_counts_the_allocators_unused_cache(monkeypatch):
    import torch

    from nst_desktop.core.device import memory_reader

    monkeypatch.setattr(torch.cuda, "mem_get_info", lambda device: (10 * GB, 80 * GB))
    monkeypatch.setattr(torch.cuda, "memory_reserved", lambda device: 30 * GB)
    monkeypatch.setattr(torch.cuda, "memory_allocated", lambda device: 25 * GB)
    reading = memory_reader(torch.device("cuda:0"))()
    assert reading == Reading(15 * GB, 80 * GB, "GPU memory")
    assert reserve_bytes(reading.total) == 4 * GB  # 5 % of 80 GB


def test_the_mps_reading_is_the_recommended_working_set(monkeypatch):
    import torch

    from nst_desktop.core.device import memory_reader

    monkeypatch.setattr(torch.mps, "recommended_max_memory", lambda: 20 * GB, raising=False)
    monkeypatch.setattr(torch.mps, "current_allocated_memory", lambda: 6 * GB)
    reading = memory_reader(torch.device("mps"))()
    assert reading == Reading(14 * GB, 20 * GB, "GPU memory")
    assert memory_reader(torch.device("cpu")) is None  # the host's reading covers the CPU
