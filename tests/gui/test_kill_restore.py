"""What the user set up survives any ending of the window process: a kill -9 after the changes
settled, and SIGTERM in the middle of a run (which also keeps the picture)."""

from __future__ import annotations

import json
import signal

import numpy as np
import pytest
from launch import launch, unexpected_stderr
from PIL import Image


@pytest.mark.timeout(1200)
def test_a_killed_window_comes_back_with_its_inputs_and_settings(tmp_path):
    images = tmp_path / "images"
    images.mkdir()
    rng = np.random.default_rng(0)
    for name in ("photo.png", "a.png", "b.png"):
        pixels = rng.integers(0, 255, (40, 48, 3), dtype=np.uint8)
        Image.fromarray(pixels).save(images / name)
    home = tmp_path / "home"
    home.mkdir()
    first = launch(home, NST_TEST_ACTION="edit", NST_TEST_IMAGES=str(images))
    first.wait_for("EDITED")
    first.wait_for("SAVED")  # the debounced save (SAVE_DELAY_MS later), with no close
    first.proc.send_signal(signal.SIGKILL)
    assert first.finish()[0] == -signal.SIGKILL

    second = launch(home, NST_TEST_ACTION="report")
    code, out, err = second.finish()
    assert code == 0 and unexpected_stderr(err) == []
    state = json.loads(next(line for line in out.splitlines() if line.startswith("STATE "))[6:])
    assert state["content"] == str(images / "photo.png")
    assert state["styles"] == [[str(images / "a.png"), 0.25], [str(images / "b.png"), 2.0]]
    s = state["settings"]
    assert (s["size"], s["steps"], s["lbfgs_history"]) == (96, 77, 42)
    assert s["weights"] == "random" and s["style_blend"] == [0.25, 2.0]


@pytest.mark.timeout(1200)
def test_sigterm_mid_run_stops_saves_the_picture_and_exits_0(tmp_path):
    run = launch(tmp_path, NST_TEST_ACTION="run")
    run.wait_for("RUNNING")
    run.proc.send_signal(signal.SIGTERM)
    code, _out, err = run.finish(timeout=120)
    assert code == 0 and unexpected_stderr(err) == []
    assert not run.fault_log.exists() or run.fault_log.read_text() == ""
    saved = list((tmp_path / "data" / "history").glob("*/result.png"))
    assert len(saved) == 1
    from nst_desktop.core.images import read_metadata

    meta = read_metadata(saved[0])
    assert meta["status"] == "stopped" and meta["iterations"] >= 3
