"""core.session: one run from settings and inputs, the one rule for a picture's settings, one
naming scheme, one metadata block and one classification of failures for both front ends."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

from nst_desktop.core.failures import Failure, RunStatus
from nst_desktop.core.images import ImageError, read_metadata
from nst_desktop.core.optimize import RunControl
from nst_desktop.core.session import (
    Phase,
    RunInputs,
    RunSession,
    SnapshotTarget,
    classify_failure,
    settings_from_picture,
)
from nst_desktop.core.settings import Mode, RunSettings, SettingsError
from nst_desktop.core.weights import WeightsError, load_random


@pytest.fixture
def pictures(tmp_path):
    rng = np.random.default_rng(2)
    for name, shape in (("c.png", (24, 32)), ("s.png", (20, 20))):
        Image.fromarray(rng.integers(0, 255, (*shape, 3), dtype=np.uint8)).save(tmp_path / name)
    return tmp_path / "c.png", tmp_path / "s.png"


def _random_weights(source, fmt, cancelled):
    return load_random(0)


def _session(pictures, **kw):
    settings = RunSettings(
        **{"size": 32, "steps": 3, "weights": "random", **kw.pop("settings", {})}
    )
    inputs = RunInputs.of(pictures[0], [(pictures[1], 1.0)])
    return RunSession(settings, inputs, weights=_random_weights, **kw)


# ----------------------------------------------------------------- what a picture may set
def test_a_picture_never_sets_the_mode_nor_this_computers_knobs():
    embedded = {"mode": "sweep", "device": "cuda:0", "threads": 64, "weights": "/x/evil.pth",
                "steps": 7, "init": "content"}  # fmt: skip
    base = RunSettings(device="cpu", threads=2, weights="random", steps=50)
    settings, warnings = settings_from_picture(embedded, base)
    assert (settings.mode, settings.device, settings.threads, settings.weights) == (
        "transfer", "cpu", 2, "random",
    )  # fmt: skip
    assert settings.steps == 7 and settings.init == "content" and warnings == []


def test_a_picture_may_not_point_at_a_local_file():
    settings, warnings = settings_from_picture({"init": "/etc/passwd"}, RunSettings())
    assert settings.init == "noise"
    assert warnings == [
        "its start picture (passwd) was not used: a picture may not point at files on this "
        "computer; choose a start picture yourself"
    ]


def test_a_study_keeps_its_own_start_from_a_transfers_picture():
    base = RunSettings(mode=Mode.CONTENT_REP, content_layers={"relu3_1": 1.0})
    settings, warnings = settings_from_picture({"init": "content", "seed": 5}, base)
    assert settings.init == "noise" and settings.seed == 5 and warnings == []


# ----------------------------------------------------------------- naming, inputs, failures
def test_snapshots_have_one_name_scheme(tmp_path):
    target = SnapshotTarget.beside(tmp_path / "night.webp")
    assert target.path(42) == tmp_path / "night_00042.webp"
    assert SnapshotTarget(tmp_path, "step").path(7).name == "step_00007.png"


def test_inputs_carry_the_blend_and_what_the_mode_uses(pictures):
    c, s = pictures
    inputs = RunInputs.with_blend(c, [s, s], [1.0, 3.0])
    assert inputs.blend() == [1.0, 3.0] and RunInputs.with_blend(c, [s], []).blend() == []
    assert inputs.for_mode(Mode.STYLE_REP).names() == {"styles": ["s.png", "s.png"]}
    assert inputs.for_mode(Mode.CONTENT_REP).names() == {"content": "c.png"}
    with pytest.raises(SettingsError, match="has 2 weights but there are 1 style images"):
        RunInputs.with_blend(c, [s], [1.0, 2.0])


@pytest.mark.parametrize(
    "exc, kind, unexpected",
    [
        (ImageError("x.png is damaged."), Failure.INPUT, False),
        (SettingsError("bad"), Failure.INPUT, False),
        (WeightsError("no weights"), Failure.INPUT, False),
        (MemoryError(), Failure.OUT_OF_MEMORY, False),
        (torch.OutOfMemoryError("CUDA out of memory"), Failure.OUT_OF_MEMORY, False),
        (RuntimeError("CUDA error: device lost"), Failure.DEVICE_LOST, False),
        (RuntimeError("shape mismatch"), Failure.COMPUTATION, True),
        (ValueError("a bug"), Failure.COMPUTATION, True),
    ],
)
def test_failures_have_one_classification(exc, kind, unexpected):
    report = classify_failure(exc)
    assert (report.kind, report.unexpected) == (kind, unexpected)
    assert "\n" not in report.message and report.message


def test_the_remedy_names_the_command_lines_options_there():
    assert "--size" in classify_failure(MemoryError(), cli=True).message
    assert "--size" not in classify_failure(MemoryError()).message


# ----------------------------------------------------------------- the run
def test_a_run_tells_its_phases_and_ends_in_one_result(pictures, tmp_path):
    events, finished = [], []
    session = _session(
        pictures,
        settings={"save_every": 2},
        snapshots=SnapshotTarget(tmp_path / "snaps", "step"),
        on_event=events.append,
        on_finished=[finished.append],
    )
    records = list(session.records())
    result = session.result
    assert [r.step for r in records] == [1, 2, 3, 3] and records[-1].final
    assert finished == [result] and result.status == RunStatus.DONE and result.iterations == 3
    phases = [e.phase for e in events]
    assert phases == [Phase.READING, Phase.WEIGHTS, Phase.NOTE, Phase.TARGETS, Phase.RUNNING]
    assert result.metadata["status"] == "done" and result.metadata["device"] == "cpu"
    assert [p.name for p in (tmp_path / "snaps").iterdir()] == ["step_00002.png"]
    assert read_metadata(tmp_path / "snaps" / "step_00002.png")["weights"].startswith("random")


def test_bad_input_is_a_result_not_an_exception(pictures, tmp_path):
    settings = RunSettings(size=32, steps=3, weights="random")
    inputs = RunInputs.of(tmp_path / "missing.png", [(pictures[1], 1.0)])
    session = RunSession(settings, inputs, weights=_random_weights)
    assert list(session.records()) == []
    result = session.result
    assert result.status == RunStatus.FAILED and result.failure == Failure.INPUT
    assert "does not exist" in result.message and result.image is None


def test_a_stop_before_the_first_evaluation_is_a_stop(pictures):
    control = RunControl()
    control.stop()
    session = _session(pictures, control=control)
    assert list(session.records()) == []
    assert session.result.status == RunStatus.STOPPED


def test_a_failing_hook_does_not_cost_the_run(pictures):
    def broken(result):
        raise OSError("disk gone")

    session = _session(pictures, on_finished=[broken])
    list(session.records())
    assert session.result.status == RunStatus.DONE


def test_the_sweep_result_is_its_labelled_grid(pictures):
    session = _session(pictures, settings={"mode": Mode.SWEEP, "steps": 1})
    list(session.records())
    result = session.result
    assert result.status == RunStatus.DONE and len(result.cells) == 10
    assert all(c is not None for c in result.cells)
    assert result.image.shape[1] > 5 * 32  # the grid, not a cell
    assert set(session.sweep_pictures()) == {"", "content", "style"}


def test_a_finished_run_becomes_a_history_entry(pictures):
    """Both front ends get it: the session itself keeps the run (see tests/test_history.py)."""
    from nst_desktop.core.history import History

    session = _session(pictures, settings={"steps": 4})
    list(session.records())
    entry = History().get(session.result.history_id)
    assert entry.status == "done" and entry.iterations == 4
    assert [i.role for i in entry.inputs] == ["content", "style"]
    assert read_metadata(entry.result)["files"][0]["sha256"] == entry.inputs[0].sha256
    off = _session(pictures, settings={"steps": 2}, history=False)
    list(off.records())
    assert off.result.history_id == "" and len(History().entries()) == 1


def test_a_history_that_cannot_be_written_costs_the_run_nothing(pictures, monkeypatch):
    import errno

    from nst_desktop.core.history import History

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(History, "add", full)
    events = []
    session = _session(pictures, on_event=events.append)
    list(session.records())
    assert session.result.status == RunStatus.DONE and session.result.image is not None
    assert session.result.history_id == ""
    warned = [e.text for e in events if e.phase == Phase.WARNING]
    assert len(warned) == 1 and "could not be kept in the history" in warned[0]
