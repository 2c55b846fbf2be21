"""``nst-desktop history``: runs of the command line listed newest first, shown, pinned, deleted;
damaged entries are warnings, never errors. In-process and as real processes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst_desktop import cli
from nst_desktop.core import history_record as hr
from nst_desktop.core.history import History

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--weights", "random", "--size", "32", "--steps", "2", "--quiet"]


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> tuple[Path, dict[str, Path]]:
    """Two CLI runs (seed 1 with one style; seed 2 with two styles at 3:1), made once: each test
    gets a copy of their history and pictures."""
    base = tmp_path_factory.mktemp("made")
    rng = np.random.default_rng(3)
    paths = {n: base / f"{n}.png" for n in ("content", "style", "style2")}
    for path in paths.values():
        Image.fromarray(rng.integers(0, 255, (28, 36, 3), dtype=np.uint8)).save(path)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("NST_DESKTOP_DATA_DIR", str(base / "data"))
        for seed, styles in ((1, [paths["style"]]), (2, [paths["style"], paths["style2"]])):
            blend = ["--style-blend", "3,1"] if seed == 2 else []
            args = ["transfer", paths["content"], *styles, "-o", base / f"o{seed}.png"]
            assert cli.main([str(a) for a in [*args, "--seed", seed, *FAST, *blend]]) == 0
    return base / "data" / "history", paths


@pytest.fixture
def two_runs(made, tmp_path) -> dict[str, Path]:
    """The two runs' history in this test's data folder, and their input pictures."""
    history, paths = made
    shutil.copytree(history, History().folder)
    for path in paths.values():
        shutil.copy(path, tmp_path / path.name)
    return {n: tmp_path / p.name for n, p in paths.items()}


def _cli(capsys, *args) -> tuple[int, str, str]:
    code = cli.main([str(a) for a in args])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_two_runs_are_listed_newest_first_with_results_and_settings(capsys, two_runs, tmp_path):
    code, out, err = _cli(capsys, "history", "--json")
    assert code == 0, err
    listed = json.loads(out)
    assert [e["settings"]["seed"] for e in listed] == [2, 1]
    assert all(Path(e["result"]).is_file() and e["status"] == "done" for e in listed)
    styles = [i for i in listed[0]["inputs"] if i["role"] == "style"]
    assert [(Path(i["path"]).name, i["weight"]) for i in styles] == [
        ("style.png", 3.0), ("style2.png", 1.0),
    ]  # fmt: skip
    assert listed[0]["source"] == "cli" and listed[0]["iterations"] == 2
    code, out, err = _cli(capsys, "history")
    lines = out.strip().splitlines()
    assert code == 0 and len(lines) == 2 and lines[0].startswith(listed[0]["id"])
    assert "2 entries" in err


def test_show_prints_one_entry_and_names_a_missing_input(capsys, two_runs, made):
    newest = History().entries()[0]
    style2 = made[1]["style2"]  # where the run read it
    style2.rename(style2.with_suffix(".away"))
    try:
        code, out, err = _cli(capsys, "history", "show", newest.id)
    finally:
        style2.with_suffix(".away").rename(style2)
    assert code == 0, err
    assert newest.id in out and "iterations: 2" in out and "seed: 2" in out
    assert "style2.png (blend weight 1) [missing]" in out
    code, out, _ = _cli(capsys, "history", "show", newest.id, "--json")
    data = json.loads(out)
    assert data["id"] == newest.id and [p[0] for p in data["curve"]] == [1, 2]
    code, _, err = _cli(capsys, "history", "show", "20990101")
    assert code == 2 and "no history entry" in err and "Traceback" not in err


def test_pin_unpin_delete_and_limits(capsys, two_runs, tmp_path):
    old, new = History().entries()[::-1]
    assert _cli(capsys, "history", "pin", old.id)[1].strip() == f"{old.id} pinned"
    code, out, err = _cli(capsys, "history", "limits", "--entries", "1")
    assert code == 0 and "removed" not in err and "1 entries" in out  # pinned: not counted
    assert len(History().entries()) == 2
    _cli(capsys, "history", "unpin", old.id)
    assert not History().get(old.id).pinned
    code, out, err = _cli(capsys, "history", "limits", "--entries", "1")
    assert "removed 1" in err and [e.id for e in History().entries()] == [new.id]
    assert _cli(capsys, "history", "delete", new.id)[0] == 0 and History().entries() == []
    assert _cli(capsys, "history", "limits", "--entries", "0")[0] == 2


def test_a_damaged_entry_is_a_warning_and_no_history_skips_the_run(capsys, two_runs, tmp_path):
    damaged = History().entries()[0]
    (damaged.folder / hr.RECORD_NAME).write_text("\x1b]0;evil\x07{")
    code, out, err = _cli(capsys, "history", "--json")
    assert code == 0 and len(json.loads(out)) == 1
    assert "was skipped: its record is not valid JSON" in err and "\x1b" not in err
    pics = two_runs
    code, _, _ = _cli(
        capsys, "transfer", pics["content"], pics["style"], "-o", tmp_path / "n.png",
        "--no-history", *FAST,
    )  # fmt: skip
    assert code == 0 and len(History().entries()) == 1


def test_history_as_a_real_process(two_runs, tmp_path):
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["NST_DESKTOP_DATA_DIR"] = str(History().folder.parent)
    env["OMP_NUM_THREADS"] = "1"

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [sys.executable, "-m", "nst_desktop", *args],
            capture_output=True, text=True, env=env, timeout=300,
        )  # fmt: skip

    pics = two_runs
    proc = run("transfer", str(pics["content"]), str(pics["style"]), "-o",
               str(tmp_path / "p.png"), "--seed", "5", "--threads", "1", *FAST)  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    proc = run("history", "--json")
    assert proc.returncode == 0, proc.stderr
    listed = json.loads(proc.stdout)
    assert [e["settings"]["seed"] for e in listed] == [5, 2, 1]
    assert all(Path(e["result"]).is_file() for e in listed)
    proc = run("history", "show", listed[0]["id"][:15])
    assert proc.returncode == 0 and "seed: 5" in proc.stdout
