"""Fault matrix (issue 6), export rows: a read-only folder and a full disk, for the core savers
(picture and time-lapse) and the CLI. In every failure no partial file remains, the old file is
untouched and the same picture can still be saved elsewhere; exported files are readable by
others (mkstemp's 0600 is not kept). See FAULTS.md.

Both failures are simulated at the system-call boundary so the tests also run as root (who may
write into read-only folders) and without a real full disk.
"""

from __future__ import annotations

import errno
import os
import stat
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
from faults_helpers import FAST, cli_refuses, cli_succeeds, gradient, run_cli
from PIL import Image

from nst_desktop.core import files, optimize
from nst_desktop.core.images import ImageError, load_image, read_metadata, save_image
from nst_desktop.core.timelapse import save_timelapse

PIXELS = np.asarray(gradient(24, 16))


def _read_only(monkeypatch, folder: Path) -> None:
    """What the OS does in a folder without write permission: creating, renaming into or
    deleting from it fails with EACCES; reading what is there still works."""
    real_open, real_replace, real_unlink = os.open, os.replace, os.unlink

    def inside(path) -> bool:
        return Path(os.fspath(path)).resolve().parent == folder.resolve()

    def guarded_open(path, flags, *args, **kwargs):
        if flags & os.O_CREAT and inside(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_open(path, flags, *args, **kwargs)

    def guarded_replace(src, dst, *args, **kwargs):
        if inside(dst) or inside(src):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(dst))
        return real_replace(src, dst, *args, **kwargs)

    def guarded_unlink(path, *args, **kwargs):
        if inside(path):
            raise PermissionError(errno.EACCES, "Permission denied", os.fspath(path))
        return real_unlink(path, *args, **kwargs)

    monkeypatch.setattr(os, "open", guarded_open)
    monkeypatch.setattr(os, "replace", guarded_replace)
    monkeypatch.setattr(os, "unlink", guarded_unlink)


class _FullDisk:
    """Writes of files made by mkstemp in ``folder`` (and whose name matches ``only``) get a
    few bytes onto the disk, then fail with ENOSPC, as a filling disk does."""

    def __init__(self, monkeypatch, folder: Path, only: str = "") -> None:
        self.fds: set[int] = set()
        self.failures = 0
        real_mkstemp, real_save = tempfile.mkstemp, Image.Image.save
        disk = self

        def mkstemp(*args, dir=None, prefix=None, **kwargs):
            fd, name = real_mkstemp(*args, dir=dir, prefix=prefix, **kwargs)
            hit = dir is not None and Path(dir) == folder and only in (prefix or "")
            (disk.fds.add if hit else disk.fds.discard)(fd)
            return fd, name

        def save(self, fp, format=None, **kwargs):
            if hasattr(fp, "fileno") and fp.fileno() in disk.fds:
                disk.failures += 1
                fp.write(b"\x89PNG\r\n\x1a\n partial")
                fp.flush()
                raise OSError(errno.ENOSPC, "No space left on device")
            return real_save(self, fp, format=format, **kwargs)

        monkeypatch.setattr(tempfile, "mkstemp", mkstemp)
        monkeypatch.setattr(Image.Image, "save", save)


def _names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ----------------------------------------------------------------- read-only folder
def test_export_to_a_read_only_folder(tmp_path, monkeypatch):
    locked, elsewhere = tmp_path / "locked", tmp_path / "elsewhere"
    locked.mkdir()
    elsewhere.mkdir()
    old = save_image(np.zeros((4, 4, 3), np.uint8), locked / "picture.png")
    before = old.read_bytes()
    _read_only(monkeypatch, locked)
    for target in (locked / "picture.png", locked / "new.jpg"):  # overwrite, and a new file
        with pytest.raises(ImageError) as info:
            save_image(PIXELS, target, metadata={"settings": {}})
        assert (
            str(info.value) == f"Cannot write to {locked} (no permission); choose another folder."
        )
    assert _names(locked) == ["picture.png"] and old.read_bytes() == before
    saved = save_image(PIXELS, elsewhere / "picture.png")  # the same picture, elsewhere: fine
    assert np.array_equal(np.asarray(load_image(saved)), PIXELS)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root writes anywhere")
def test_export_to_a_read_only_folder_real_chmod(tmp_path):
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o555)
    try:
        with pytest.raises(ImageError, match="no permission"):
            save_image(PIXELS, locked / "x.png")
        assert _names(locked) == []
    finally:
        locked.chmod(0o755)


def test_export_to_a_read_only_folder_timelapse(tmp_path, monkeypatch):
    locked = tmp_path / "locked"
    locked.mkdir()
    _read_only(monkeypatch, locked)
    frames = [PIXELS, 255 - PIXELS]
    with pytest.raises(ImageError, match=r"\(no permission\); choose another folder"):
        save_timelapse(locked / "run.gif", frames)
    assert _names(locked) == []
    assert save_timelapse(tmp_path / "run.gif", frames).stat().st_size > 0


def test_export_to_a_read_only_folder_cli_refuses_before_the_run(capsys, tmp_path, monkeypatch):
    """The CLI tries the folder first: a long run must not end in 'cannot write'."""
    locked = tmp_path / "locked"
    locked.mkdir()
    gradient().save(tmp_path / "c.png")
    _read_only(monkeypatch, locked)
    started = []
    monkeypatch.setattr(optimize, "run", lambda *a, **k: started.append(1) or iter(()))
    c = tmp_path / "c.png"
    line = cli_refuses(capsys, "transfer", c, c, "-o", locked / "o.png", *FAST)
    assert (
        line == f"nst-desktop: Cannot write to {locked} (Permission denied); choose another folder."
    )
    line = cli_refuses(capsys, "transfer", c, c, "-o", tmp_path / "o.png", *FAST,
                       "--timelapse", locked / "run.gif")  # fmt: skip
    assert "Cannot write to" in line
    assert started == [] and _names(locked) == []


# ----------------------------------------------------------------- full disk
def test_export_to_a_full_disk(tmp_path, monkeypatch):
    full, elsewhere = tmp_path / "full", tmp_path / "elsewhere"
    full.mkdir()
    elsewhere.mkdir()
    old = save_image(np.full((4, 4, 3), 9, np.uint8), full / "picture.png")
    before = old.read_bytes()
    disk = _FullDisk(monkeypatch, full)
    for suffix in (".png", ".jpg", ".webp", ".tif"):
        with pytest.raises(ImageError) as info:
            save_image(PIXELS, full / f"picture{suffix}", metadata={"settings": {"size": 9}})
        assert str(info.value) == (
            f"The disk holding {full} is full; free some space or choose another place."
        )
    assert disk.failures == 4  # the simulated disk really was written to
    assert _names(full) == ["picture.png"] and old.read_bytes() == before  # no partial file
    saved = save_image(PIXELS, elsewhere / "picture.png", metadata={"settings": {"size": 9}})
    assert np.array_equal(np.asarray(load_image(saved)), PIXELS)
    assert read_metadata(saved) == {"settings": {"size": 9}}


def test_export_to_a_full_disk_timelapse(tmp_path, monkeypatch):
    full = tmp_path / "full"
    full.mkdir()
    _FullDisk(monkeypatch, full)
    frames = [PIXELS, 255 - PIXELS]
    for name in ("run.gif", "run.webp"):
        with pytest.raises(ImageError, match="is full; free some space"):
            save_timelapse(full / name, frames)
    assert _names(full) == []
    assert save_timelapse(tmp_path / "run.webp", frames).stat().st_size > 0


def test_export_to_a_full_disk_cli_keeps_the_result(capsys, tmp_path, monkeypatch):
    """The disk fills during the run: the CLI cannot save where asked, so it keeps the result
    in the temp folder and says where (exit 2), instead of losing the run."""
    full, spare = tmp_path / "full", tmp_path / "spare-tmp"
    full.mkdir()
    spare.mkdir()
    gradient().save(tmp_path / "c.png")
    monkeypatch.setattr(tempfile, "gettempdir", lambda: str(spare))
    _FullDisk(monkeypatch, full, only="out.png")  # the writability probe still succeeds
    c = tmp_path / "c.png"
    line = cli_refuses(capsys, "transfer", c, c, "-o", full / "out.png", *FAST)
    rescued = spare / f"out-rescued-{os.getpid()}.png"
    assert line == (
        f"nst-desktop: The disk holding {full} is full; free some space or choose another place. "
        f"The result was saved to {rescued} instead."
    )
    assert _names(full) == []  # no partial file
    assert load_image(rescued).size == (32, 24)
    assert read_metadata(rescued)["status"] == "done"


def test_export_to_a_full_disk_snapshots_do_not_end_the_run(capsys, tmp_path, monkeypatch):
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    gradient().save(tmp_path / "c.png")
    _FullDisk(monkeypatch, out_dir, only="out_000")  # only the snapshots (out_00001.png, ...)
    c = tmp_path / "c.png"
    code, err = run_cli(capsys, "transfer", c, c, "-o", out_dir / "out.png", *FAST,
                        "--steps", "4", "--save-every", "1")  # fmt: skip
    assert code == 0, err
    assert err.strip().splitlines() == [
        f"nst-desktop: warning: The disk holding {out_dir} is full; free some space or choose "
        "another place. No more snapshots are saved."
    ]
    assert _names(out_dir) == ["out.png"]  # the result; no snapshot, no partial file
    assert read_metadata(out_dir / "out.png")["iterations"] == 4


# ----------------------------------------------------------------- permissions of what is saved
def _with_umask(mask: int, fn):
    old = os.umask(mask)
    try:
        return fn()
    finally:
        os.umask(old)


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_export_is_readable_by_other_users(tmp_path, capsys):
    """mkstemp creates 0600 files; an exported picture gets what open() would give (0666 less
    the umask), and an overwritten file keeps its mode."""
    mode = lambda p: stat.S_IMODE(p.stat().st_mode)  # noqa: E731
    png = _with_umask(0o022, lambda: save_image(PIXELS, tmp_path / "a.png"))
    assert mode(png) == 0o644
    tif = _with_umask(0o027, lambda: save_image(PIXELS, tmp_path / "b.tif"))
    assert mode(tif) == 0o640
    assert _with_umask(0o027, files._umask) == 0o027  # read without changing it
    private = tmp_path / "private.png"
    private.write_bytes(b"")
    private.chmod(0o600)
    _with_umask(0o022, lambda: save_image(PIXELS, private))
    assert mode(private) == 0o600 and load_image(private).size == (24, 16)
    gradient().save(tmp_path / "c.png")
    c, out = tmp_path / "c.png", tmp_path / "cli.png"
    _with_umask(0o022, lambda: cli_succeeds(capsys, "transfer", c, c, "-o", out, *FAST))
    assert mode(out) == 0o644
