"""Time-lapse: bounded recording, animated GIF/WebP export, clean failures."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from nst_desktop import cli
from nst_desktop.core.images import ImageError, read_metadata
from nst_desktop.core.timelapse import FrameRecorder, save_timelapse


def _frames(n: int, h: int = 24, w: int = 32) -> list[np.ndarray]:
    """Smooth, moving gradients (lossy WebP keeps them close, unlike noise)."""
    yy, xx = np.mgrid[0:h, 0:w]
    return [
        np.stack([xx * 255 // w, yy * 255 // h, np.full_like(xx, 40 * i % 256)], -1).astype(
            np.uint8
        )
        for i in range(n)
    ]


def test_recorder_downsizes_copies():
    rec = FrameRecorder(every=1, max_frames=10, max_side=16)
    big = np.zeros((40, 80, 3), np.uint8)
    rec.add(1, big)
    big[:] = 255  # the stored frame is a copy
    (frame,) = rec.frames
    assert frame.shape == (8, 16, 3) and frame.max() == 0
    small = np.full((4, 6, 3), 7, np.uint8)
    rec.add(2, small)
    assert rec.frames[-1].shape == (4, 6, 3) and len(rec) == 2


def test_recorder_respects_every_and_force():
    rec = FrameRecorder(every=5)
    kept = [s for s in range(1, 23) if rec.add(s, np.zeros((2, 2, 3), np.uint8))]
    assert kept == [5, 10, 15, 20]
    assert rec.add(23, np.zeros((2, 2, 3), np.uint8), force=True)
    assert rec.steps == [5, 10, 15, 20, 23]


def test_recorder_memory_stays_bounded_over_a_long_run():
    rec = FrameRecorder(every=1, max_frames=20, max_side=8)
    frame = np.zeros((8, 8, 3), np.uint8)
    for step in range(1, 5001):
        rec.add(step, frame)
        assert len(rec) <= 20
    assert rec.every > 1
    steps = rec.steps
    assert steps == sorted(steps) and steps[0] < 500 and steps[-1] > 4500
    assert len(rec) >= 10  # thinning keeps a useful number of frames


def test_recorder_rejects_bad_frames():
    with pytest.raises(ValueError):
        FrameRecorder().add(1, np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize("suffix", [".gif", ".webp", ".GIF"])
def test_animation_written_and_readable(tmp_path, suffix):
    frames = _frames(6)
    out = save_timelapse(tmp_path / f"run{suffix}", frames, fps=10, metadata={"version": "x"})
    with Image.open(out) as im:
        assert im.n_frames == 6 and im.size == (32, 24) and im.is_animated
        durations = []
        for i in range(im.n_frames):
            im.seek(i)
            im.load()
            durations.append(im.info.get("duration"))
        last = np.asarray(im.convert("RGB"), np.int16)
    assert durations[-1] > durations[0]  # the finished picture is held
    assert np.abs(last - frames[-1]).mean() < 30  # the last frame is the final picture
    assert [p.name for p in tmp_path.iterdir()] == [out.name]


def test_webp_carries_metadata(tmp_path):
    out = save_timelapse(tmp_path / "a.webp", _frames(3), metadata={"settings": {"size": 7}})
    assert read_metadata(out) == {"settings": {"size": 7}}


def test_frames_of_different_sizes_are_scaled(tmp_path):
    frames = [np.zeros((10, 10, 3), np.uint8), np.full((20, 20, 3), 200, np.uint8)]
    with Image.open(save_timelapse(tmp_path / "a.gif", frames)) as im:
        assert im.size == (20, 20) and im.n_frames == 2


def test_bad_extension_and_no_frames(tmp_path):
    with pytest.raises(ImageError, match=r"\.gif or \.webp"):
        save_timelapse(tmp_path / "a.png", _frames(2))
    with pytest.raises(ImageError, match="no frames"):
        save_timelapse(tmp_path / "a.gif", [])
    assert list(tmp_path.iterdir()) == []


def test_failed_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def boom(self, fp, *args, **kwargs):
        fp.write(b"GIF89a partial")
        raise OSError(5, "Input/output error")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(ImageError, match="Could not save"):
        save_timelapse(tmp_path / "a.gif", _frames(3))
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(ImageError, match="does not exist"):
        save_timelapse(tmp_path / "missing" / "a.gif", _frames(3))


def test_cli_writes_a_timelapse(tmp_path):
    rng = np.random.default_rng(1)
    for name in ("c.png", "s.png"):
        Image.fromarray(rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)).save(tmp_path / name)
    gif = tmp_path / "run.gif"
    code = cli.main(
        [
            "transfer", str(tmp_path / "c.png"), str(tmp_path / "s.png"),
            "-o", str(tmp_path / "out.png"), "--size", "32", "--steps", "6",
            "--weights", "random", "--timelapse", str(gif), "-q",
        ]
    )  # fmt: skip
    assert code == 0
    with Image.open(gif) as im:
        assert im.n_frames > 1
    assert read_metadata(tmp_path / "out.png")["settings"]["steps"] == 6


def test_cli_refuses_bad_timelapse_name(tmp_path, capsys):
    (tmp_path / "s.png").write_bytes(b"")
    code = cli.main(
        ["style-rep", str(tmp_path / "s.png"), "-o", str(tmp_path / "o.png"),
         "--timelapse", str(tmp_path / "t.mp4")]
    )  # fmt: skip
    assert code == 2 and ".gif or .webp" in capsys.readouterr().err
