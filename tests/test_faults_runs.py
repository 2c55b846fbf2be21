"""Fault matrix (issue 6), run rows: a run that goes wrong ends in a final record with a message
and the last good image (never an exception, never a lost picture), and the CLI turns it into
one line, exit 1 and a saved file. Also the CLI part of the diagnostics row. See FAULTS.md.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from faults_helpers import FAST, gradient, run_cli

from nst_desktop.core import optimize
from nst_desktop.core.images import read_metadata
from nst_desktop.core.model import VGGFeatures
from nst_desktop.core.optimize import Inputs, RunControl, run
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random

CPU = torch.device("cpu")
ROOT = Path(__file__).resolve().parents[1]
DEVICE_LOST = "CUDA error: no CUDA-capable device is detected"


@pytest.fixture(scope="module")
def features():
    return load_random(0).features


@pytest.fixture(scope="module")
def inputs() -> Inputs:
    return Inputs(gradient(48, 36), [gradient(30, 30).rotate(90)])


@pytest.fixture(scope="module")
def pics(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("pics")
    gradient().save(d / "c.png")
    gradient(30, 30).rotate(90).save(d / "s.png")
    return d / "c.png", d / "s.png"


def small(**kw) -> RunSettings:
    base = dict(
        size=32,
        steps=8,
        weights="random",
        content_layers={"relu2_1": 1.0},
        style_layers={"relu1_1": 1.0, "relu2_1": 1.0},
        style_weight=1e3,
    )
    base.update(kw)
    return RunSettings(**base)


def _fail_forward_after(monkeypatch, passes: int, error: BaseException) -> None:
    """The network raises ``error`` on every pass after the first ``passes`` (targets included)."""
    real = VGGFeatures.forward
    calls = []

    def forward(self, image):
        calls.append(1)
        if len(calls) > passes:
            raise error
        return real(self, image)

    monkeypatch.setattr(VGGFeatures, "forward", forward)


def _assert_keeps_an_evaluated_image(recs) -> None:
    """The final image is one the run evaluated and previewed (the last good one or, for
    L-BFGS, the best one), and the final record reports that image's loss (evaluated on its
    8-bit pixels, so within rounding of the loss the optimizer saw)."""
    final = recs[-1]
    assert final.image is not None and final.image.shape == (24, 32, 3)
    same = [r for r in recs[:-1] if r.image is not None and np.array_equal(final.image, r.image)]
    assert same  # (a frame inside an L-BFGS loss jump shows the best picture: closest loss)
    closest = min(same, key=lambda r: abs(r.loss - final.loss))
    assert final.loss == pytest.approx(closest.loss, rel=0.02)


# ----------------------------------------------------------------- non-finite loss
def test_run_nonfinite_loss_adam_absurd_lr_is_finite_by_construction(features, inputs):
    """Adam's step is bounded by lr and the image is clamped to [0, 1] after each step, so even
    the largest allowed rate (100) cannot make the loss overflow: the run simply finishes."""
    settings = small(optimizer="adam", lr=100.0, steps=12, style_weight=1e12)
    recs = list(run(settings, inputs, features, CPU))
    assert recs[-1].status == "done" and recs[-1].step == 12
    assert all(math.isfinite(r.loss) for r in recs)


def test_run_nonfinite_loss_adam_absurd_lr_keeps_the_last_finite_image(
    features, inputs, monkeypatch
):
    real = optimize.Objective.__call__
    calls = []

    def poisoned(self, image):  # the 5th evaluation overflows (the saved picture's: no grad)
        calls.append(1) if image.requires_grad else None
        total, terms = real(self, image)
        return (total * math.inf, terms * math.nan) if len(calls) >= 5 else (total, terms)

    monkeypatch.setattr(optimize.Objective, "__call__", poisoned)
    settings = small(optimizer="adam", lr=100.0, steps=20)
    recs = list(run(settings, inputs, features, CPU, want_image=1))
    final = recs[-1]
    assert final.status == "nonfinite" and final.step == 4 and len(calls) == 5
    assert np.array_equal(final.image, recs[-2].image)  # the 4th evaluation's picture
    assert final.loss == recs[-2].loss and math.isfinite(final.loss)
    assert final.message == (
        "The loss became infinite or NaN, so the run stopped and kept the last good image; "
        "lower the learning rate or the style weight."
    )


# ----------------------------------------------------------------- stop and pause
@pytest.mark.parametrize(
    "optimizer, line_search", [("lbfgs", False), ("lbfgs", True), ("adam", False)]
)
def test_run_stop_acts_within_one_evaluation(features, inputs, monkeypatch, optimizer, line_search):
    """Stop pressed while the 5th evaluation computes: that one finishes, no 6th one starts
    (even inside an L-BFGS line search, which makes several evaluations per iteration)."""
    control = RunControl()
    real = optimize.Objective.__call__
    calls = []

    def evaluation(self, image):
        if not image.requires_grad:  # the saved picture's loss, after the run: not a step
            return real(self, image)
        calls.append(1)
        if len(calls) == 5:
            control.stop()  # as the window's thread would, mid-evaluation
        return real(self, image)

    monkeypatch.setattr(optimize.Objective, "__call__", evaluation)
    settings = small(optimizer=optimizer, lbfgs_line_search=line_search, steps=50)
    recs = list(run(settings, inputs, features, CPU, control=control, want_image=1))
    final = recs[-1]
    assert len(calls) == 5  # not one evaluation more
    assert final.status == "stopped" and final.step == 5
    which = "best image so far" if optimizer == "lbfgs" else "current image"
    assert final.message == f"Stopped; the {which} is kept."
    assert recs[-2].step == 5
    _assert_keeps_an_evaluated_image(recs)


class _FakeClock:
    """optimize's clock, moved forward by hand: an hour of pause costs no test time."""

    def __init__(self) -> None:
        self.offset = 0.0
        self._real = optimize.time.perf_counter

    def perf_counter(self) -> float:
        return self._real() + self.offset


def _paused_for_an_hour_run(features, inputs, monkeypatch):
    clock = _FakeClock()
    monkeypatch.setattr(optimize, "time", types.SimpleNamespace(perf_counter=clock.perf_counter))

    class HourLongPause(RunControl):
        def wait_while_paused(self) -> None:
            clock.offset += 3600.0  # the user comes back an hour later and presses Resume
            self.resume()
            super().wait_while_paused()

    control = HourLongPause()
    recs = []
    for rec in run(small(steps=10), inputs, features, CPU, control=control, want_image=1):
        recs.append(rec)
        if rec.step == 4 and not rec.final:
            control.pause()
    return recs, clock


def test_run_pause_for_a_long_time_and_resume(features, inputs, monkeypatch):
    recs, clock = _paused_for_an_hour_run(features, inputs, monkeypatch)
    assert clock.offset == 3600.0  # the pause happened
    assert [r.step for r in recs] == [*range(1, 11), 10] and recs[-1].status == "done"
    monkeypatch.undo()
    plain = list(run(small(steps=10), inputs, features, CPU))
    assert np.array_equal(recs[-1].image, plain[-1].image)  # the pause changed nothing


def test_run_pause_for_a_long_time_is_not_counted_as_run_time(features, inputs, monkeypatch):
    recs, _ = _paused_for_an_hour_run(features, inputs, monkeypatch)
    assert recs[-1].elapsed < 3600.0


# ----------------------------------------------------------------- out of memory
def test_run_cuda_out_of_memory_cli(capsys, pics, tmp_path, monkeypatch):
    """The core case is tests/test_optimize.py::test_out_of_memory_mid_run; here the CLI saves
    the last good picture and says what to change, in one line (exit 1: the run failed)."""
    error = torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 2.00 GiB")
    _fail_forward_after(monkeypatch, 4, error)  # 2 target passes + 2 evaluations
    out = tmp_path / "o.png"
    code, err = run_cli(capsys, "transfer", *pics, "-o", out, *FAST, "--steps", "10")
    assert code == 1
    assert err.strip().splitlines() == [
        "nst-desktop: The device ran out of memory, so the run stopped and kept the best "
        "image; lower the size, use Adam instead of L-BFGS, or compute on the CPU. "
        f"Saved it to {out}."
    ]
    meta = read_metadata(out)
    assert meta["status"] == "error" and meta["iterations"] == 2


def test_run_host_out_of_memory_cli(capsys, pics, tmp_path, monkeypatch):
    """The computer's own memory (MemoryError, e.g. from numpy) is one line and exit 1 too."""

    def run_out(*args, **kwargs):
        raise MemoryError()
        yield  # a generator, like the real run

    monkeypatch.setattr(optimize, "run", run_out)
    code, err = run_cli(capsys, "transfer", *pics, "-o", tmp_path / "o.png", *FAST)
    assert code == 1
    assert err.strip().splitlines() == [
        "nst-desktop: The computer ran out of memory; lower --size or use --optimizer adam."
    ]  # the user's doing, not a bug: no traceback in the log and no pointer to it


@pytest.mark.parametrize(
    "error, says",
    [
        (
            RuntimeError("CUDA error: an illegal memory access was encountered"),
            "The device stopped working (CUDA error: an illegal memory access was encountered) "
            "before the run began; choose the CPU as the device and start again.",
        ),
        (
            torch.OutOfMemoryError("CUDA out of memory. Tried to allocate 548 MiB"),
            "The device ran out of memory before the run began; lower the size, use Adam "
            "instead of L-BFGS, or compute on the CPU.",
        ),
    ],
)
def test_run_device_fails_before_the_first_evaluation_cli(
    capsys, pics, tmp_path, monkeypatch, error, says
):
    """E.g. moving the network onto a GPU that is gone: the user's way out, not 'unexpected'."""

    def fails(*args, **kwargs):
        raise error
        yield  # a generator, like the real run

    monkeypatch.setattr(optimize, "run", fails)
    code, err = run_cli(capsys, "transfer", *pics, "-o", tmp_path / "o.png", *FAST)
    assert code == 1
    assert err.strip().splitlines() == [f"nst-desktop: {says}"]


# ----------------------------------------------------------------- a device that disappears
def test_run_on_a_device_that_disappears(features, inputs, monkeypatch):
    _fail_forward_after(monkeypatch, 2 + 3, RuntimeError(DEVICE_LOST + "\nCompile with ..."))
    recs = list(run(small(steps=10), inputs, features, CPU, want_image=1))
    final = recs[-1]
    assert final.status == "error" and final.step == 3 and final.failure == "device-lost"
    assert final.message == (
        f"The device stopped working ({DEVICE_LOST}), so the run stopped and kept the best "
        "image; choose the CPU as the device and start again."
    )
    _assert_keeps_an_evaluated_image(recs)


def test_run_on_a_device_that_disappears_cli(capsys, pics, tmp_path, monkeypatch):
    _fail_forward_after(monkeypatch, 2 + 1, RuntimeError(DEVICE_LOST))
    out = tmp_path / "o.png"
    code, err = run_cli(capsys, "transfer", *pics, "-o", out, *FAST, "--steps", "10")
    assert code == 1 and out.exists()
    lines = err.strip().splitlines()
    assert len(lines) == 1 and DEVICE_LOST in lines[0] and "Traceback" not in err
    assert read_metadata(out)["status"] == "error"


def test_run_on_a_device_that_disappears_says_what_to_do(features, inputs, monkeypatch):
    _fail_forward_after(monkeypatch, 2 + 3, RuntimeError(DEVICE_LOST))
    final = list(run(small(steps=10), inputs, features, CPU))[-1]
    assert "cpu" in final.message.lower()


def test_run_on_a_device_that_is_gone_for_good_keeps_the_last_preview(
    features, inputs, monkeypatch
):
    gone = []
    real_forward, real_to_uint8 = VGGFeatures.forward, optimize.to_uint8
    calls = []

    def forward(self, image):
        calls.append(1)
        if len(calls) > 2 + 3:
            gone.append(True)
            raise RuntimeError(DEVICE_LOST)
        return real_forward(self, image)

    def to_uint8(tensor):  # every later read of device memory fails as well
        if gone:
            raise RuntimeError(DEVICE_LOST)
        return real_to_uint8(tensor)

    monkeypatch.setattr(VGGFeatures, "forward", forward)
    monkeypatch.setattr(optimize, "to_uint8", to_uint8)
    recs = list(run(small(steps=10), inputs, features, CPU, want_image=1))
    assert recs[-1].status == "error"
    _assert_keeps_an_evaluated_image(recs)


# ----------------------------------------------------------------- diagnostics (CLI part)
def test_diagnostics_no_traceback_on_the_terminal_when_the_log_folder_is_unwritable(tmp_path):
    """An unexpected error is one line even when no log file can be opened (the data folder is
    a file here); before, logging's last-resort handler printed the traceback on stderr."""
    blocker = tmp_path / "data"
    blocker.write_text("a file where the data folder should be")
    gradient().save(tmp_path / "c.png")
    code = (
        "import sys\n"
        "from nst_desktop import cli\n"
        "from nst_desktop.core import optimize\n"
        "def broken(*a, **k):\n"
        "    raise ValueError('simulated bug')\n"
        "optimize.run = broken\n"
        f"sys.exit(cli.main(['transfer', 'c.png', 'c.png', '-o', 'o.png', *{FAST!r}]))\n"
    )
    env = dict(os.environ, NST_DESKTOP_DATA_DIR=str(blocker / "sub"), OMP_NUM_THREADS="1")
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "nst-desktop: unexpected error: ValueError: simulated bug"
    ], proc.stderr


_ADDRESS_SPACE_LIMITED_RUN = r"""
import resource, sys
import torch
from PIL import Image
from nst_desktop.core import optimize
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random

torch.set_num_threads(1)
features = load_random(0).features
inputs = optimize.Inputs(Image.new("RGB", (64, 48), (90, 120, 150)), [Image.new("RGB", (32, 32))])
with open("/proc/self/status") as status:
    size = next(int(line.split()[1]) * 1024 for line in status if line.startswith("VmSize"))
limit = size + (1536 << 20)  # 1.5 GB more address space; relu1_1 at 4096 px needs 4 GB
resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
settings = RunSettings(size=4096, steps=2, init="content", weights="random")
last = None
for last in optimize.run(settings, inputs, features, torch.device("cpu")):
    pass
print(last.status, last.failure, last.image is not None, sep="|")
print(last.message)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="RLIMIT_AS and /proc")
def test_run_host_out_of_memory_inside_torch_is_called_out_of_memory():
    """Real exhaustion, not a simulated one: torch's CPU allocator fails under an address-space
    limit with a plain RuntimeError ("DefaultCPUAllocator: can't allocate memory"). It is out of
    memory, with the way forward, not a computation failure to report as a bug."""
    proc = subprocess.run(
        [sys.executable, "-c", _ADDRESS_SPACE_LIMITED_RUN],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    outcome, message = proc.stdout.strip().splitlines()[-2:]
    assert outcome == "error|out-of-memory|True"
    assert message == (
        "The computer ran out of memory, so the run stopped and kept the start picture; lower "
        "the size, use Adam instead of L-BFGS, or close other programs."
    )
