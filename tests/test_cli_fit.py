"""The CLI never starts what cannot fit: exit 2 in seconds with the size that fits, unless
--force; a forced run is still ended by the memory guard (here at once: a reserve larger than
any computer's memory, so no test ever allocates much)."""

from __future__ import annotations

import os
import re
import resource
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst_desktop.core import memguard, planner
from nst_desktop.core.settings import RunSettings

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def pics(tmp_path):
    rng = np.random.default_rng(5)
    paths = tmp_path / "content.png", tmp_path / "style.png"
    for path, shape in zip(paths, ((48, 64), (40, 40)), strict=True):
        Image.fromarray(rng.integers(0, 255, (*shape, 3), dtype=np.uint8)).save(path)
    return paths


def _cli(
    tmp_path: Path, pics, *extra: str, **env_extra: str
) -> tuple[subprocess.CompletedProcess, float]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["NST_DESKTOP_DATA_DIR"] = str(tmp_path / "data")
    env["NST_DESKTOP_CACHE_DIR"] = str(tmp_path / "cache")
    env["OMP_NUM_THREADS"] = "1"
    env.pop(memguard.RESERVE_ENV, None)
    env.update(env_extra)
    args = [sys.executable, "-m", "nst_desktop", "transfer", str(pics[0]), str(pics[1])]
    args += ["-o", str(tmp_path / "x.png"), "--size", "8192", "--weights", "random", *extra]
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(args, capture_output=True, text=True, env=env, timeout=120)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return proc, cpu


#: A ceiling above any free memory: the run is not made in tiles small enough to fit.
HUGE = "1000GB"


def _fits_here() -> bool:
    s = RunSettings(size=8192, weights="random", max_memory=HUGE)
    return planner.check_fit(s, "cpu", 0.75).fits


def test_a_run_that_cannot_fit_is_refused_in_seconds(tmp_path, pics):
    if _fits_here():
        pytest.skip("this computer has the memory for an 8192 px run")
    proc, cpu_seconds = _cli(tmp_path, pics, "--max-memory", HUGE)
    assert proc.returncode == 2, proc.stderr
    print(f"refused after {cpu_seconds:.1f} CPU s")
    # CPU time, which a busy machine does not stretch: starting Python and torch takes a few
    # seconds; the 8192 px run's targets alone would take minutes.
    assert cpu_seconds < 30
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in proc.stderr
    found = re.search(r"use --size (\d+) \(the largest that fits\), or --force\.$", lines[0])
    assert found, lines[0]
    assert 64 <= int(found[1]) < 8192 and int(found[1]) % 16 == 0
    assert lines[0].startswith("nst-desktop: At 8192 px this run needs about")
    assert not (tmp_path / "x.png").exists()


def test_force_starts_the_run_and_the_memory_guard_still_ends_it(tmp_path, pics):
    reserve = str(2**40)  # MiB: more than any computer has, so the guard ends it at once
    proc, _ = _cli(tmp_path, pics, "--force", **{memguard.RESERVE_ENV: reserve})
    assert proc.returncode == 1, proc.stderr
    assert "--force" not in proc.stderr  # past the fit check: the run started
    assert "nst-desktop: Out of memory: only " in proc.stderr
    assert "before the run began" in proc.stderr and "Traceback" not in proc.stderr
    assert not (tmp_path / "x.png").exists()
