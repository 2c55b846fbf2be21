"""Fault matrix, hard endings of a CLI run (issue 19): SIGTERM and SIGHUP keep the picture, an
output that is an input is refused, names too long for the file system are refused before the
run and never make the rescue fail, and every mode keeps its result on a full disk. See FAULTS.md.
"""

from __future__ import annotations

import errno
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from faults_helpers import FAST, cli_refuses, cli_succeeds, gradient
from PIL import Image
from test_faults_exports import _FullDisk

from nst_desktop import cli
from nst_desktop.core.images import load_image, read_metadata
from nst_desktop.core.outputs import rescue_path

ROOT = Path(__file__).resolve().parents[1]
posix_only = pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals and links")


@pytest.fixture
def pics(tmp_path: Path) -> tuple[Path, Path]:
    content, style = tmp_path / "photo.png", tmp_path / "style.png"
    gradient().save(content)
    gradient(30, 30).rotate(90).save(style)
    return content, style


# ----------------------------------------------------------------- signals
@posix_only
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGHUP], ids=["SIGTERM", "SIGHUP"])
def test_sigterm_and_sighup_stop_the_run_and_keep_the_picture(pics, tmp_path, signum):
    """``kill`` or a closed terminal acts as Ctrl-C does: the run stops within one evaluation,
    the current picture is saved, exit 1."""
    content, style = pics
    out = tmp_path / "out.png"
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    env.update(NST_DESKTOP_DATA_DIR=str(tmp_path / "data"), OMP_NUM_THREADS="1")
    proc = subprocess.Popen(
        [sys.executable, "-m", "nst_desktop", "transfer", str(content), str(style), "-o",
         str(out), "--weights", "random", "--size", "32", "--steps", "100000", "--threads", "1"],
        stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env,
    )  # fmt: skip
    seen = []
    try:
        while not seen or not seen[-1].startswith("["):  # the first progress line
            line = proc.stderr.readline()
            assert line, "the run ended before it started: " + "".join(seen)
            seen.append(line)
        proc.send_signal(signum)
        _, rest = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    err = "".join(seen) + rest
    assert proc.returncode == cli.EXIT_FAIL, err
    assert "Traceback" not in err and "interrupted; saved the current image" in err
    with Image.open(out) as img:
        assert img.format == "PNG" and img.size == (32, 24)
        img.load()
    meta = read_metadata(out)
    assert meta["status"] == "stopped" and 1 <= meta["iterations"] < 100000


# ----------------------------------------------------------------- output is an input
def _same_bytes_after(path: Path, fn) -> None:
    before = path.read_bytes()
    fn()
    assert path.read_bytes() == before


@posix_only
def test_an_output_that_is_an_input_is_refused(capsys, pics, tmp_path):
    """The photo, a style, the start image or the picture the settings come from, named as the
    output directly, through a symbolic link or a hard link: exit 2, the file untouched."""
    content, style = pics
    start = tmp_path / "start.png"
    gradient().save(start)
    (tmp_path / "link.png").symlink_to(content)
    os.link(content, tmp_path / "hard.png")
    cli_succeeds(capsys, "transfer", content, style, "-o", tmp_path / "made.png", *FAST)
    inputs, linked = "one of the inputs", f"the input {content}"
    made = tmp_path / "made.png"
    cases = [
        (["transfer", content, style], content, inputs),
        (["transfer", content, style], tmp_path / "link.png", linked),
        (["transfer", content, style], tmp_path / "hard.png", linked),
        (["transfer", content, style], style, inputs),
        (["transfer", content, style, "--init", start], start, inputs),
        (["style-rep", style], style, inputs),
        (["content-rep", content], tmp_path / "hard.png", linked),
        (["transfer", content, style, "--settings-from", made], made, inputs),
    ]
    for args, output, which in cases:

        def refused(args=args, output=output, which=which):
            line = cli_refuses(capsys, *args, "-o", output, *FAST)
            assert line == (
                f"nst-desktop: {output} is {which}, and writing the result there would destroy "
                "it; choose another output name."
            )

        _same_bytes_after(content, lambda: _same_bytes_after(style, refused))
    # a sweep's grid beside the output, and a time-lapse, are outputs too
    grid = tmp_path / "g-style.png"
    gradient().save(grid)
    line = cli_refuses(capsys, "sweep", content, grid, "-o", tmp_path / "g.png", *FAST)
    assert "g-style.png is one of the inputs" in line
    gradient().save(tmp_path / "anim.gif")
    line = cli_refuses(capsys, "transfer", content, tmp_path / "anim.gif", "-o",
                       tmp_path / "t.png", "--timelapse", tmp_path / "anim.gif", *FAST)  # fmt: skip
    assert "anim.gif is one of the inputs" in line


# ----------------------------------------------------------------- long names
def test_a_name_too_long_for_the_folder_is_refused_before_the_run(capsys, pics, tmp_path):
    """A sweep's grids and the numbered snapshots add to the name: each must fit the folder's
    limit (255 bytes here), checked before the run."""
    content, style = pics
    long = tmp_path / ("n" * 246 + ".png")  # 250 bytes: fits, but NAME-content.png does not
    line = cli_refuses(capsys, "sweep", content, style, "-o", long, *FAST)
    assert "-content.png, which the run writes beside nnn" in line
    assert "is 258 bytes long, more than the 255 the folder" in line
    assert line.endswith("allows; choose a shorter output name.")
    line = cli_refuses(capsys, "transfer", content, style, "-o", long, *FAST, "--save-every", "1")
    assert "is 256 bytes long" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["photo.png", "style.png"]
    cli_succeeds(capsys, "transfer", content, style, "-o", long, *FAST)
    assert load_image(long).size == (32, 24)
    wide = tmp_path / ("\N{GRINNING FACE}" * 60 + ".png")  # 244 bytes in 64 characters
    cli_succeeds(capsys, "transfer", content, style, "-o", wide, *FAST)
    assert load_image(wide).size == (32, 24)


def test_a_long_name_on_a_full_disk_is_still_rescued(capsys, pics, tmp_path, monkeypatch):
    content, style = pics
    full, spare = tmp_path / "full", tmp_path / "spare-tmp"
    full.mkdir()
    spare.mkdir()
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(spare))
    _FullDisk(monkeypatch, full)
    out = full / ("n" * 250 + ".png")
    line = cli_refuses(capsys, "transfer", content, style, "-o", out, *FAST)
    rescued = rescue_path(out, spare)
    assert len(rescued.name) < 100
    assert line.endswith(f"The result was saved to {rescued} instead.")
    assert read_metadata(rescued)["status"] == "done"


# ----------------------------------------------------------------- every mode rescues
@pytest.mark.parametrize("mode", ["content-rep", "style-rep", "sweep"])
def test_every_mode_keeps_its_result_on_a_full_disk(capsys, pics, tmp_path, monkeypatch, mode):
    content, style = pics
    full, spare = tmp_path / "full", tmp_path / "spare-tmp"
    full.mkdir()
    spare.mkdir()
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(spare))
    _FullDisk(monkeypatch, full)
    inputs = [content, style] if mode == "sweep" else [content]
    out = full / "out.png"
    line = cli_refuses(capsys, mode, *inputs, "-o", out, *FAST, "--steps", "1")
    assert line.startswith(f"nst-desktop: The disk holding {full} is full;"), line
    assert os.listdir(full) == []
    kept = sorted(p.name for p in spare.iterdir())
    pid = os.getpid()
    if mode == "sweep":
        assert kept == sorted(f"out{k}-rescued-{pid}.png" for k in ("", "-content", "-style"))
        assert line.endswith(" instead.") and "The results were saved to" in line
    else:
        assert kept == [f"out-rescued-{pid}.png"]
    for name in kept:
        assert read_metadata(spare / name)["status"] == "done"


class _HungUpTerminal:
    """stderr after a hang-up: writes fail with EIO once ``lines`` lines got through."""

    def __init__(self, lines: int) -> None:
        self.lines, self.text = lines, []

    def write(self, text: str) -> int:
        if len(self.text) >= self.lines:
            raise OSError(errno.EIO, "Input/output error")
        self.text.append(text)
        return len(text)

    def flush(self) -> None:
        if len(self.text) >= self.lines:
            raise OSError(errno.EIO, "Input/output error")

    def isatty(self) -> bool:
        return False


def test_a_terminal_that_is_gone_does_not_lose_the_run(pics, tmp_path, monkeypatch):
    """After SIGHUP the terminal may be gone, so writing progress fails (EIO): the run goes on
    and its picture is saved; the exit status still tells how it ended."""
    content, style = pics
    out = tmp_path / "out.png"
    terminal = _HungUpTerminal(lines=1)
    monkeypatch.setattr(sys, "stderr", terminal)
    fast = [a for a in FAST if a != "--quiet"]
    code = cli.main(["transfer", str(content), str(style), "-o", str(out), *fast,
                     "--steps", "3"])  # fmt: skip
    assert code == cli.EXIT_OK
    assert read_metadata(out)["iterations"] == 3 and len(terminal.text) == 1
