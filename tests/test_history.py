"""core.history: entries written atomically, listed newest first, damaged ones skipped with a
warning, unpinned ones pruned past the limits, the old autosave folder moved in once."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from nst_desktop.core import history_record as hr
from nst_desktop.core.files import write_bytes
from nst_desktop.core.history import History, HistoryError, Limits, autosave_dir, record_run
from nst_desktop.core.images import read_metadata, save_image


def _pixels(seed: int = 0, shape=(24, 32)) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 255, (*shape, 3), dtype=np.uint8)


def _add(history: History, n: int = 0, **record) -> hr.Entry:
    rec = {"status": "done", "settings": {"mode": "transfer", "seed": n}, "iterations": 5}
    return history.add(_pixels(n), {**rec, **record}, created=1_700_000_000.0 + n)


@pytest.fixture
def history(tmp_path):
    h = History(tmp_path / "history")
    h.folder.mkdir()
    write_bytes(h.folder / ".autosave-migrated", b"")  # no old folder to move in these tests
    return h


def test_entries_are_listed_newest_first_with_their_files(history):
    for n in range(3):
        _add(history, n)
    scan = history.scan()
    assert [e.settings["seed"] for e in scan.entries] == [2, 1, 0] and scan.warnings == []
    newest = scan.entries[0]
    assert newest.result.is_file() and newest.thumb.is_file() and newest.size == (32, 24)
    assert scan.bytes == sum(scan.sizes.values()) > 0
    assert history.get(newest.id) == newest
    assert history.get(newest.id[:15]) == newest  # a unique prefix is enough


def test_an_id_is_checked_before_it_names_a_folder(history):
    entry = _add(history)
    assert history.get(entry.id).id == entry.id
    for bad in ("../etc", "", "abc", "1" * 40):
        with pytest.raises(HistoryError, match="history"):
            history.get(bad)
    with pytest.raises(HistoryError, match="no history entry"):
        history.get("19990101")


def _old(_none, entry: hr.Entry) -> None:
    """An hour and more ago: not a write in progress."""
    then = time.time() - 2 * 3600
    os.utime(entry.folder, (then, then))


def test_an_entry_being_written_is_not_a_warning(history):
    entry = _add(history)
    (entry.folder / hr.RECORD_NAME).unlink()  # as between the picture and the record
    assert history.scan().entries == [] and history.scan().warnings == []


@pytest.mark.parametrize(
    "damage, words",
    [
        (lambda e: (e.folder / hr.RECORD_NAME).write_text("{not json"), "not valid JSON"),
        (lambda e: (e.folder / hr.RECORD_NAME).write_text("[1, 2]"), "not a JSON object"),
        (lambda e: (e.folder / hr.RECORD_NAME).write_text(" " * 70_000), "larger than"),
        (lambda e: e.result.unlink(), "picture is missing"),
        (lambda e: _old((e.folder / hr.RECORD_NAME).unlink(), e), "never finished"),
        (
            lambda e: (e.folder / hr.RECORD_NAME).write_text(
                json.dumps({"format": 1, "status": "running", "settings": {}, "created": 1})
            ),
            "no valid status",
        ),
        (
            lambda e: (e.folder / hr.RECORD_NAME).write_text(
                json.dumps({"format": 1, "status": "done", "settings": {}, "created": "x"})
            ),
            "created is not a number",
        ),
    ],
)
def test_a_damaged_entry_is_skipped_with_a_warning(history, damage, words):
    good = _add(history, 1)
    bad = _add(history, 2)
    damage(bad)
    scan = history.scan()
    assert [e.id for e in scan.entries] == [good.id]
    assert len(scan.warnings) == 1 and bad.id in scan.warnings[0] and words in scan.warnings[0]
    with pytest.raises(HistoryError, match="damaged"):
        history.get(bad.id)


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="named pipes")
def test_a_pipe_in_place_of_a_record_or_picture_never_blocks(history):
    good = _add(history, 1)
    for n, name in ((2, hr.RECORD_NAME), (3, hr.RESULT_NAME)):
        bad = _add(history, n)
        (bad.folder / name).unlink()
        os.mkfifo(bad.folder / name)
    scan = history.scan()  # would hang on open() of a pipe
    assert [e.id for e in scan.entries] == [good.id] and len(scan.warnings) == 2
    assert any("not a regular file" in w for w in scan.warnings)


def test_hostile_fields_are_dropped_not_trusted(history):
    entry = _add(history)
    data = json.loads((entry.folder / hr.RECORD_NAME).read_text())
    data["inputs"] = [
        {"role": "content", "path": "/x/a.png", "sha256": "evil", "weight": 1e300},
        {"role": "nonsense", "path": "/x/b.png"},
        "not a dict",
    ]
    data["losses"] = {"loss": "NaN", "style": 2.0, "other": 1}
    data["message"] = "m" * 10_000
    (entry.folder / hr.RECORD_NAME).write_text(json.dumps(data))
    got = history.get(entry.id)
    assert got.inputs == (hr.InputFile("content", "/x/a.png", None, 1.0),)
    assert got.losses == {"style": 2.0} and len(got.message) == 500


def test_pruning_keeps_the_newest_and_every_pinned_entry(history):
    entries = [_add(history, n) for n in range(6)]
    history.set_pinned(entries[0].id, True)  # the oldest
    assert history.get(entries[0].id).pinned
    removed = history.prune(Limits(max_entries=3))  # 3 unpinned are kept, and the pinned one
    assert removed == [e.id for e in entries[1:3]]
    left = [e.id for e in history.entries()]
    assert left == [entries[5].id, entries[4].id, entries[3].id, entries[0].id]
    history.set_pinned(entries[0].id, False)
    assert history.prune(Limits(max_entries=2)) == [entries[0].id, entries[3].id]


def test_pruning_by_disk_used_and_the_user_limits(history):
    for n in range(4):
        _add(history, n)
    per_entry = history.scan().bytes / 4
    history.set_limits(Limits(max_entries=100, max_bytes=int(per_entry * 2.5)))
    assert history.limits().max_bytes == max(1 << 20, int(per_entry * 2.5))
    history.set_limits(Limits(max_entries=2, max_bytes=1 << 30))
    assert len(history.prune()) == 2 and len(history.entries()) == 2
    (history.folder / "limits.json").write_text("{broken")
    assert history.limits() == Limits()


def test_a_write_that_died_is_cleaned_up_and_others_are_left_alone(history):
    dead = history.folder / "20200101-000000-000000"
    dead.mkdir()
    (dead / hr.RESULT_NAME).write_bytes(b"half")
    old = time.time() - 2 * 3600
    os.utime(dead, (old, old))
    foreign = history.folder / "20200101-000000-000001"
    foreign.mkdir()
    (foreign / "my-notes.txt").write_text("keep me")
    os.utime(foreign, (old, old))
    _add(history)
    history.prune()
    assert not dead.exists() and foreign.exists()


def test_the_old_autosave_folder_is_moved_in_once(tmp_path):
    old = autosave_dir()
    old.mkdir(parents=True)
    save_image(_pixels(1), old / "20240101-120000-done.png",
               metadata={"settings": {"mode": "transfer", "seed": 7}, "status": "done",
                         "iterations": 9, "weights": "random"})  # fmt: skip
    save_image(_pixels(2), old / "20240102-120000-stopped.png")
    (old / "20240103-120000-done.png").write_text("broken")
    history = History()
    entries = history.entries()
    assert [(e.status, e.iterations, e.source) for e in entries] == [
        ("stopped", 0, "autosave"), ("done", 9, "autosave"),
    ]  # fmt: skip
    assert entries[1].settings["seed"] == 7
    assert sorted(p.name for p in old.iterdir()) == ["20240103-120000-done.png"]
    save_image(_pixels(3), old / "20240104-120000-done.png")
    assert len(history.entries()) == 2  # once only


def test_curve_is_thinned_evenly_and_keeps_the_last_point():
    sampler = hr.CurveSampler(limit=16)
    for step in range(1, 1001):
        sampler.add(SimpleNamespace(step=step, loss=1000.0 / step, content=1, style=2, tv=0))
    curve = sampler.curve()
    assert 8 <= len(curve) <= 17 and curve[-1][0] == 1000
    steps = [p[0] for p in curve[:-1]]
    assert len(set(np.diff(steps))) == 1  # evenly spaced
    nan = hr.CurveSampler()
    nan.add(SimpleNamespace(step=1, loss=float("nan"), content=1, style=2, tv=0))
    assert nan.curve() == [[1, None, 1.0, 2.0, 0.0]]
    assert hr.parse_curve(nan.curve()) == [(1, {"content": 1.0, "style": 2.0, "tv": 0.0})]


def test_record_run_keeps_inputs_losses_and_the_curve(history, tmp_path):
    photo = tmp_path / "photo.png"
    Image.fromarray(_pixels(5)).save(photo)
    sampler = hr.CurveSampler()
    for step in (1, 2, 3):
        sampler.add(SimpleNamespace(step=step, loss=10.0 - step, content=1, style=2, tv=3))
    result = SimpleNamespace(
        image=_pixels(4), iterations=3, status="stopped", message="Stopped.",
        metadata={"settings": {"mode": "transfer"}, "weights": "random", "device": "cpu"},
    )  # fmt: skip
    files = [hr.InputFile("content", str(photo), hr.file_sha256(photo))]
    entry = record_run(
        result, inputs=files, curve=sampler, seconds=1.5, source="cli", history=history
    )
    assert entry.status == "stopped" and entry.losses == {
        "loss": 7.0, "content": 1.0, "style": 2.0, "tv": 3.0,
    }  # fmt: skip
    assert entry.content.sha256 == hr.file_sha256(photo) and len(entry.content.sha256) == 64
    assert [s for s, _ in hr.read_curve(entry.folder)] == [1, 2, 3]
    assert read_metadata(entry.result)["weights"] == "random"
    result.image = None
    assert record_run(result, inputs=[], curve=sampler, seconds=0, source="x") is None


def test_differences_name_inputs_and_settings(history, tmp_path):
    from nst_desktop.core.compare import differences

    a = _add(history, 1, inputs=[{"role": "style", "path": "/x/a.png", "weight": 3}])
    b = _add(history, 2, inputs=[{"role": "style", "path": "/x/b.png", "weight": 1}])
    assert differences(a, b) == ["Styles a.png ×3 → b.png ×1", "Seed 1 → 2"]
    assert differences(a, a) == []


def test_run_labels_name_what_tells_two_runs_apart():
    from dataclasses import replace

    from nst_desktop.core.compare import photo_labels, run_labels

    base = hr.Entry("a", Path("/x"), 1_700_000_000.0, "done", "transfer", 8, {"seed": 1})
    t0 = time.strftime("%H:%M", time.localtime(base.created))
    later = replace(base, created=base.created + 120, settings={"seed": 2, "style_weight": 3.0})
    t1 = time.strftime("%H:%M", time.localtime(later.created))
    left, right, line = run_labels(base, later)
    assert left.startswith(f"{t0} · style weight ") and right == f"{t1} · style weight 3"
    assert line == f"Left: run of {t0} · Right: run of {t1}"
    seed_only = replace(base, created=base.created + 1, settings={"seed": 2})
    left, right, _ = run_labels(base, seed_only)  # same minute: seconds tell them apart
    assert left.endswith(":20 · seed 1") and right.endswith(":21 · seed 2")
    same = replace(base, created=base.created + 60)
    assert run_labels(base, same)[:2] == (t0, time.strftime("%H:%M", time.localtime(same.created)))
    assert photo_labels("photo.png", base) == (
        "Photo",
        "Result",
        f"Left: the photo photo.png · Right: run of {t0}",
    )
