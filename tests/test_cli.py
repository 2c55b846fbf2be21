"""The command line end to end at 32-48 px on random weights, in-process and as real processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from nst_desktop import __version__, cli
from nst_desktop.core.images import read_metadata

ROOT = Path(__file__).resolve().parents[1]
FAST = ["--weights", "random", "--size", "32", "--steps", "3", "--quiet"]


@pytest.fixture(scope="module")
def pics(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("pics")
    y, x = np.mgrid[0:36, 0:48]
    content = Image.fromarray(
        np.stack([x * 5, y * 7, (x + y) * 3], -1).clip(0, 255).astype(np.uint8)
    )
    ImageDraw.Draw(content).ellipse([6, 6, 26, 26], fill=(250, 30, 30))
    style = Image.fromarray(
        ((np.sin(x[:, :36] * 0.8)[..., None] + 1) * 120 * np.ones(3)).astype(np.uint8)
    )
    style2 = Image.fromarray(np.full((30, 30, 3), (20, 200, 90), np.uint8))
    paths = {"content": d / "content.png", "style": d / "style.png", "style2": d / "style2.jpg"}
    content.save(paths["content"])
    style.save(paths["style"])
    style2.save(paths["style2"])
    (d / "text.png").write_text("not an image")
    paths["text"] = d / "text.png"
    return paths


def run_cli(capsys, *args) -> tuple[int, str]:
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def meta(path: Path) -> dict:
    data = read_metadata(path)
    assert data is not None, path
    return data


# ----------------------------------------------------------------- subcommands
def test_transfer_one_style(capsys, pics, tmp_path):
    out = tmp_path / "out.png"
    code, err = run_cli(capsys, "transfer", pics["content"], pics["style"], "-o", out, *FAST)
    assert code == 0, err
    assert Image.open(out).size == (32, 24)
    m = meta(out)
    assert m["version"] == __version__ and m["status"] == "done" and m["iterations"] == 3
    assert m["settings"]["mode"] == "transfer" and m["settings"]["size"] == 32
    assert "untrained" in m["weights"]
    assert m["inputs"] == {"content": "content.png", "styles": ["style.png"]}


def test_transfer_two_styles_with_blend(capsys, pics, tmp_path):
    out = tmp_path / "blend.jpg"
    args = ["transfer", pics["content"], pics["style"], pics["style2"], "-o", out, *FAST]
    code, err = run_cli(capsys, *args, "--style-blend", "1,3")
    assert code == 0, err
    assert meta(out)["settings"]["style_blend"] == [1.0, 3.0]
    assert meta(out)["inputs"]["styles"] == ["style.png", "style2.jpg"]


def test_progress_output_when_not_quiet(capsys, pics, tmp_path):
    out = tmp_path / "p.png"
    args = ["transfer", pics["content"], pics["style"], "-o", out, "--weights", "random"]
    code, err = run_cli(capsys, *args, "--size", "32", "--steps", "2")
    assert code == 0
    assert "untrained" in err and "3/2" not in err and "2/2" in err and "it/s" in err
    assert f"wrote {out}" in err


def test_content_rep_layer(capsys, pics, tmp_path):
    out = tmp_path / "c.webp"
    code, err = run_cli(
        capsys, "content-rep", pics["content"], "--layer", "relu2_1", "-o", out, *FAST
    )
    assert code == 0, err
    s = meta(out)["settings"]
    assert s["mode"] == "content-rep" and s["content_layers"] == {"relu2_1": 1.0}
    assert s["init"] == "noise"


def test_style_rep_layers(capsys, pics, tmp_path):
    out = tmp_path / "s.tif"
    args = ["style-rep", pics["style"], "--layers", "relu1_1,relu2_1:0.5", "-o", out, *FAST]
    code, err = run_cli(capsys, *args)
    assert code == 0, err
    s = meta(out)["settings"]
    assert s["style_layers"] == {"relu1_1": 1.0, "relu2_1": 0.5}
    assert Image.open(out).size == (32, 32)  # the style image is square


def test_sweep_writes_three_grids(capsys, pics, tmp_path):
    out = tmp_path / "grid.png"
    code, err = run_cli(capsys, "sweep", pics["content"], pics["style"], "-o", out, *FAST)
    assert code == 0, err
    grids = {k: Image.open(tmp_path / f"grid{k}.png") for k in ("", "-content", "-style")}
    # One column width for all three; each row as tall as its pictures (the photo is wider).
    assert grids[""].width == grids["-content"].width == grids["-style"].width >= 5 * 32
    assert grids["-content"].height < grids["-style"].height
    assert grids[""].height > grids["-content"].height
    m = meta(out)
    assert m["settings"]["mode"] == "sweep" and m["iterations"] == 30  # 10 cells x 3
    assert meta(tmp_path / "grid-style.png")["status"] == "done"
    # Ten filled cells: none of the grid's cells is the empty-box grey all over.
    arr = np.asarray(grids[""])
    assert ((arr == (225, 225, 222)).all(-1)).sum() < 50


def test_save_every_snapshots(capsys, pics, tmp_path):
    out = tmp_path / "snap.png"
    args = ["transfer", pics["content"], pics["style"], "-o", out, *FAST]
    code, err = run_cli(capsys, *args, "--steps", "5", "--save-every", "2")
    assert code == 0, err
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["snap.png", "snap_00002.png", "snap_00004.png"]
    assert meta(tmp_path / "snap_00002.png")["settings"]["save_every"] == 2


def test_settings_from_an_exported_image(capsys, pics, tmp_path):
    first = tmp_path / "first.png"
    args = ["transfer", pics["content"], pics["style"], "-o", first, *FAST]
    assert run_cli(capsys, *args, "--size", "40", "--tv-weight", "0.5", "--seed", "9")[0] == 0
    second = tmp_path / "second.png"
    code, err = run_cli(
        capsys,
        "transfer",
        pics["content"],
        pics["style"],
        "-o",
        second,
        "--settings-from",
        first,
        "--quiet",
        "--steps",
        "2",
        "--weights",  # the weights are this computer's choice, never the picture's
        "random",
    )
    assert code == 0, err
    s = meta(second)["settings"]
    assert (s["size"], s["tv_weight"], s["seed"], s["weights"]) == (40, 0.5, 9, "random")
    assert s["steps"] == 2  # an explicit option wins over the embedded settings
    code, err = run_cli(
        capsys, "transfer", pics["content"], pics["style"], "-o", second, "--settings-from",
        pics["style"], *FAST,
    )  # fmt: skip
    assert code == 2 and "carries no NST Desktop settings" in err


def test_init_path(capsys, pics, tmp_path):
    out = tmp_path / "init.png"
    args = ["transfer", pics["content"], pics["style"], "-o", out, *FAST, "--steps", "1"]
    code, err = run_cli(
        capsys, *args, "--init", pics["style2"], "--optimizer", "adam", "--lr", "1e-6"
    )
    assert code == 0, err
    # One Adam step of 1e-6 from a flat green picture: the result is still that picture.
    arr = np.asarray(Image.open(out)).astype(int)
    assert np.abs(arr - (20, 200, 90)).max() <= 3
    code, err = run_cli(capsys, *args, "--init", tmp_path / "missing.png")
    assert code == 2 and "does not exist" in err


def test_preset(capsys, pics, tmp_path):
    pytest.importorskip("nst_desktop.core.presets")
    from nst_desktop.core.presets import find_preset

    preset = find_preset("Fast preview")
    out = tmp_path / "preset.png"
    args = ["transfer", pics["content"], pics["style"], "-o", out, *FAST]
    code, err = run_cli(capsys, *args, "--preset", "Fast preview")
    assert code == 0, err
    s = meta(out)["settings"]
    for key, value in preset.settings.items():
        if key not in ("size", "steps", "weights"):  # explicit options win
            assert s[key] == value, key
    code, err = run_cli(capsys, *args, "--preset", "No such preset")
    assert code == 2 and len(err.strip().splitlines()) == 1


def test_help_lists_subcommands(capsys):
    with pytest.raises(SystemExit) as info:
        cli.main(["--help"])
    assert info.value.code == 0
    text = capsys.readouterr().out
    for name in ("transfer", "content-rep", "style-rep", "sweep"):
        assert name in text
    with pytest.raises(SystemExit):
        cli.main(["transfer", "--help"])
    text = capsys.readouterr().out
    for option in ("--size", "--style-blend", "--save-every", "--settings-from", "--preset"):
        assert option in text


# ----------------------------------------------------------------- bad input: exit 2, one line
def _bad_cases(pics, tmp_path):
    out = tmp_path / "o.png"
    c, s = pics["content"], pics["style"]
    return {
        "missing file": ["transfer", tmp_path / "nope.png", s, "-o", out, *FAST],
        "not an image": ["transfer", pics["text"], s, "-o", out, *FAST],
        "size too small": ["transfer", c, s, "-o", out, *FAST, "--size", "5"],
        "size not a number": ["transfer", c, s, "-o", out, *FAST, "--size", "big"],
        "unknown layer": ["transfer", c, s, "-o", out, *FAST, "--content-layer", "relu9_1"],
        "unknown layer rep": ["content-rep", c, "-o", out, *FAST, "--layer", "relu9_1"],
        "unknown layers style-rep": ["style-rep", s, "-o", out, *FAST, "--layers", "pool7"],
        "blend count": ["transfer", c, s, "-o", out, *FAST, "--style-blend", "1,2"],
        "bad output ext": ["transfer", c, s, "-o", tmp_path / "o.bmpx", *FAST],
        "output folder": ["transfer", c, s, "-o", tmp_path / "no" / "o.png", *FAST],
        "no command": ["--weights", "random"],
        "unknown option": ["transfer", c, s, "-o", out, *FAST, "--colour", "x"],
        "no output": ["transfer", c, s, *FAST],
        "bad optimizer": ["transfer", c, s, "-o", out, *FAST, "--optimizer", "sgd"],
        "weights file missing": ["transfer", c, s, "-o", out, *FAST, "--weights", tmp_path / "w"],
        "bad device": ["transfer", c, s, "-o", out, *FAST, "--device", "cuda:99"],
        "device name": ["transfer", c, s, "-o", out, *FAST, "--device", "tpu"],
        "content-rep two layers": [
            "content-rep", c, "-o", out, *FAST, "--content-layer", "relu1_1,relu2_1"
        ],
    }  # fmt: skip


@pytest.mark.parametrize(
    "case",
    [
        "missing file", "not an image", "size too small", "size not a number", "unknown layer",
        "unknown layer rep", "unknown layers style-rep", "blend count", "bad output ext",
        "output folder", "no command", "unknown option", "no output", "bad optimizer",
        "weights file missing", "bad device", "device name", "content-rep two layers",
    ],
)  # fmt: skip
def test_bad_input_exit_2_one_line(capsys, pics, tmp_path, case):
    code, err = run_cli(capsys, *_bad_cases(pics, tmp_path)[case])
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("nst-desktop: "), err
    assert "Traceback" not in err
    assert not (tmp_path / "o.png").exists()


def test_no_weights_available(capsys, pics, tmp_path, monkeypatch):
    from nst_desktop.core import weights

    # No hub file, no cache; the download is refused at once (nothing leaves the machine).
    monkeypatch.setitem(weights.load_torchvision.__kwdefaults__, "url", "http://127.0.0.1:9/x")
    out = tmp_path / "o.png"
    args = ["transfer", pics["content"], pics["style"], "-o", out, "--size", "32", "--quiet"]
    code, err = run_cli(capsys, *args, "--weights", "torchvision")
    assert code == 2
    assert len(err.strip().splitlines()) == 1
    assert str(weights.hub_checkpoint_path()) in err


def test_nonfinite_run_saves_and_exits_1(capsys, pics, tmp_path, monkeypatch):
    from nst_desktop.core import optimize

    real = optimize.Objective.__call__
    calls = []

    def poisoned(self, image):
        calls.append(1)
        total, terms = real(self, image)
        return (total * float("nan"), terms * float("nan")) if len(calls) > 2 else (total, terms)

    monkeypatch.setattr(optimize.Objective, "__call__", poisoned)
    out = tmp_path / "nan.png"
    args = ["transfer", pics["content"], pics["style"], "-o", out, *FAST, "--steps", "10"]
    code, err = run_cli(capsys, *args)
    assert code == 1 and out.exists()
    assert meta(out)["status"] == "nonfinite" and meta(out)["iterations"] == 2
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err


# ----------------------------------------------------------------- real processes
def _env(tmp_path: Path) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = str(ROOT) + os.pathsep + env.get("PYTHONPATH", "")
    env["NST_DESKTOP_DATA_DIR"] = str(tmp_path / "data")
    env["NST_DESKTOP_CACHE_DIR"] = str(tmp_path / "cache")
    env["OMP_NUM_THREADS"] = "1"
    return env


def test_version_subprocess(tmp_path):
    out = subprocess.run(
        [sys.executable, "-m", "nst_desktop", "--version"],
        capture_output=True,
        text=True,
        env=_env(tmp_path),
        timeout=120,
    )
    assert out.returncode == 0 and out.stdout.strip() == f"nst-desktop {__version__}"


def test_transfer_subprocess(pics, tmp_path):
    out = tmp_path / "sub.png"
    proc = subprocess.run(
        [sys.executable, "-m", "nst_desktop", "transfer", str(pics["content"]),
         str(pics["style"]), "-o", str(out), "--weights", "random", "--size", "32",
         "--steps", "2", "--threads", "1"],
        capture_output=True, text=True, env=_env(tmp_path), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "Traceback" not in proc.stderr and out.exists()
    assert meta(out)["settings"]["threads"] == 1


def test_bad_input_subprocess_no_traceback(pics, tmp_path):
    proc = subprocess.run(
        [sys.executable, "-m", "nst_desktop", "transfer", str(pics["text"]), str(pics["style"]),
         "-o", str(tmp_path / "x.png"), "--weights", "random"],
        capture_output=True, text=True, env=_env(tmp_path), timeout=300,
    )  # fmt: skip
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1 and "Traceback" not in proc.stderr


@pytest.mark.skipif(sys.platform == "win32", reason="SIGINT to a child is POSIX")
def test_ctrl_c_saves_the_current_image(pics, tmp_path):
    out = tmp_path / "int.png"
    proc = subprocess.Popen(
        [sys.executable, "-m", "nst_desktop", "transfer", str(pics["content"]),
         str(pics["style"]), "-o", str(out), "--weights", "random", "--size", "48",
         "--steps", "100000", "--threads", "1"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=_env(tmp_path),
    )  # fmt: skip
    try:
        # The first progress line appears after the first evaluation.
        seen = []
        while True:
            line = proc.stderr.readline()
            assert line, "the run ended before it started: " + "".join(seen)
            seen.append(line)
            if line.startswith("["):
                break
        proc.send_signal(signal.SIGINT)
        _, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = "".join(seen) + rest
    assert proc.returncode == cli.EXIT_FAIL, err
    assert "Traceback" not in err and "interrupted; saved the current image" in err
    m = meta(out)
    assert m["status"] == "stopped" and 1 <= m["iterations"] < 100000
    assert Image.open(out).size == (48, 36)


def test_threads_reach_torch(capsys, pics, tmp_path):
    before = torch.get_num_threads()
    try:
        args = ["transfer", pics["content"], pics["style"], "-o", tmp_path / "t.png", *FAST]
        assert run_cli(capsys, *args, "--threads", "1", "--steps", "1")[0] == 0
        assert torch.get_num_threads() == 1
    finally:
        torch.set_num_threads(before)


def test_auto_threads_do_not_follow_an_earlier_runs_count(capsys, pics, tmp_path):
    from nst_desktop.core.device import AUTO_THREADS

    if AUTO_THREADS < 2:
        pytest.skip("one CPU thread: an earlier count cannot differ")
    args = ["transfer", pics["content"], pics["style"], "-o", tmp_path / "a.png", *FAST]
    try:
        assert run_cli(capsys, *args, "--threads", "1", "--steps", "1")[0] == 0
        assert run_cli(capsys, *args, "--steps", "1")[0] == 0
        assert torch.get_num_threads() == AUTO_THREADS
        assert meta(tmp_path / "a.png")["threads"] == AUTO_THREADS
    finally:
        torch.set_num_threads(AUTO_THREADS)


def test_metadata_is_json_safe(capsys, pics, tmp_path):
    out = tmp_path / "m.png"
    assert run_cli(capsys, "transfer", pics["content"], pics["style"], "-o", out, *FAST)[0] == 0
    json.dumps(meta(out))  # plain data only


def test_first_line_says_the_precision_and_a_picture_remembers_the_threads(capsys, pics, tmp_path):
    first = tmp_path / "first.png"
    args = ["transfer", pics["content"], pics["style"], "-o", first, *FAST[:-1]]
    code, err = run_cli(capsys, *args)
    assert code == 0, err
    lines = err.strip().splitlines()
    first_line = next(line for line in lines if line.startswith("Style transfer at 32 px"))
    assert "in float32 (set by NST_DESKTOP_AUTO_PRECISION)" in first_line  # (conftest's pin)
    used = torch.get_num_threads()
    m = meta(first)
    assert (m["threads"], m["precision"]) == (used, "float32")
    assert m["loss"]["total"] > 0
    again = tmp_path / "again.png"
    try:
        code, err = run_cli(
            capsys, "transfer", pics["content"], pics["style"], "-o", again,
            "--settings-from", first, *FAST, "--threads", str(used + 1),
        )  # fmt: skip
    finally:
        torch.set_num_threads(used)
    assert code == 0, err
    assert f"made with {used} CPU threads and this computer uses {used + 1}" in err
    assert "pixels can differ" in err
