"""Fault matrix, hostile image files (issue 19): formats outside the allow-list, pipes and
devices, pixel budgets and reading smaller, colour profiles. See FAULTS.md.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import threading
import zlib
from pathlib import Path

import numpy as np
import pytest
from faults_helpers import PROPHOTO, gradient, matrix_icc
from PIL import EpsImagePlugin, Image, ImageCms

from nst_desktop.core import images
from nst_desktop.core.images import (
    ImageError,
    PixelBudget,
    check_image_file,
    load_image,
    open_image,
    read_metadata,
    resize_longest,
    save_image,
)
from nst_desktop.core.inputs import load_run_images, needed_sides
from nst_desktop.core.settings import RunSettings

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="named pipes and /dev are POSIX")


def _refused(path: Path) -> str:
    with pytest.raises(ImageError) as info:
        load_image(path)
    text = str(info.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def _finishes(call, seconds: float = 10.0):
    """Run ``call`` in a thread; fail (instead of hanging the suite) when it does not return."""
    result: list = []

    def work() -> None:
        try:
            result.append(("value", call()))
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            result.append(("error", exc))

    thread = threading.Thread(target=work, daemon=True)
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "it hung"
    kind, value = result[0]
    if kind == "error":
        raise value
    return value


# ----------------------------------------------------------------- 1: formats allow-list
POSTSCRIPT = (
    b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 64 64\n%%EndComments\n"
    b"{ } loop\nshowpage\n%%EOF\n"  # an endless loop for any interpreter that runs it
)


def test_postscript_named_jpg_is_refused_and_ghostscript_never_runs(tmp_path, monkeypatch):
    marker = tmp_path / "ghostscript-ran"
    fake_gs = tmp_path / "gs"
    fake_gs.write_text(f"#!/bin/sh\ntouch '{marker}'\nexit 1\n")
    fake_gs.chmod(0o755)
    monkeypatch.setattr(EpsImagePlugin, "gs_binary", str(fake_gs))  # installed or not
    photo = tmp_path / "holiday.jpg"
    photo.write_bytes(POSTSCRIPT)
    assert _refused(photo) == (
        "holiday.jpg is not a picture NST Desktop can open; choose a PNG, JPEG, WebP, TIFF, "
        "BMP or GIF."
    )
    assert read_metadata(photo) is None
    assert not marker.exists()


# ----------------------------------------------------------------- 14: pipes and devices
@posix_only
def test_a_named_pipe_as_an_image_never_hangs(tmp_path):
    fifo = tmp_path / "photo.png"
    os.mkfifo(fifo)
    try:
        with pytest.raises(ImageError) as info:
            _finishes(lambda: load_image(fifo))
        assert str(info.value) == "photo.png is a named pipe, not an image file; choose a file."
        assert "empty" not in str(info.value)
        assert _finishes(lambda: read_metadata(fifo)) is None  # --settings-from
        with pytest.raises(ImageError, match="named pipe"):
            _finishes(lambda: check_image_file(fifo))
    finally:
        _release_readers(fifo)


@posix_only
@pytest.mark.skipif(not os.path.exists("/dev/zero"), reason="needs /dev/zero")
def test_a_device_as_an_image_is_not_called_empty():
    text = _finishes(lambda: _refused(Path("/dev/zero")))
    assert text == "zero is a device, not an image file; choose a file."
    assert _finishes(lambda: read_metadata("/dev/zero")) is None


def _release_readers(fifo: Path) -> None:
    """Unblock a reader left waiting on the pipe (only when the test failed)."""
    try:
        fd = os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError:
        return  # nobody is waiting
    os.close(fd)


# ----------------------------------------------------------------- 11: pixel budgets
def _png_header_only(path: Path, width: int, height: int) -> Path:
    """A PNG of a few dozen bytes whose header claims width x height RGB pixels."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IEND", b""))
    return path


@pytest.mark.filterwarnings("ignore::PIL.Image.DecompressionBombWarning")  # pytest resets filters
def test_an_image_over_the_pixel_budget_is_refused_before_decoding(tmp_path, monkeypatch):
    """13000x13000 is under Pillow's own limit but would decode to 1.7 GB on the way."""
    path = _png_header_only(tmp_path / "huge.png", 13000, 13000)
    assert path.stat().st_size < 100
    decoded = []
    monkeypatch.setattr(Image.Image, "load", lambda self: decoded.append(self) or None)
    text = _refused(path)
    assert text == (
        "huge.png is 13000x13000 px (169 megapixels), more than the 80 NST Desktop reads per "
        "image; scale it down in an image editor first."
    )
    assert decoded == []


def test_all_inputs_together_have_one_budget(tmp_path):
    paths = []
    for i in range(3):
        paths.append(tmp_path / f"s{i}.png")
        gradient(100, 50).save(paths[-1])
    budget = PixelBudget(total=12_000)  # two 100x50 images fit, the third does not
    load_image(paths[0], budget=budget)
    load_image(paths[1], budget=budget)
    with pytest.raises(ImageError) as info:
        load_image(paths[2], budget=budget)
    assert str(info.value) == (
        "The images are too large together: with s2.png they hold 0 megapixels, more than the "
        "0 NST Desktop keeps for one run; use fewer or smaller style images."
    )
    assert budget.used == 10_000


def test_sixteen_large_styles_stay_within_the_run_budget(tmp_path, monkeypatch):
    """The run's images are read at what the run needs, so many big inputs fit the budget;
    beyond the budget the run is refused before it starts, with one sentence."""
    big = tmp_path / "big.png"
    gradient(1200, 900).save(big)
    settings = RunSettings(size=64)
    assert needed_sides(settings) == (64, 64)
    monkeypatch.setattr(images, "MAX_TOTAL_PIXELS", 17 * 1200 * 900 - 1)  # full size: refused
    run = load_run_images(settings, big, [big] * 16)
    assert run.content.size == (200, 150) and all(s.size == (200, 150) for s in run.styles)
    assert run.notes[0] == (
        "big.png is 1200x900 px; it was read at 200x150, which is all this run needs, to save "
        "memory."
    )
    assert len(run.notes) == 17
    with pytest.raises(ImageError, match="too large together"):
        load_run_images(RunSettings(size=1024), big, [big] * 16)
    with pytest.raises(ImageError, match="at most 16"):
        load_run_images(settings, big, [big] * 17)


def _photo(w: int, h: int) -> Image.Image:
    """Smooth ramps plus fine texture: what a resize can get wrong."""
    rng = np.random.default_rng(1)
    base = np.asarray(gradient(w, h), dtype=np.float64)
    noise = rng.normal(0, 18, (h, w, 1))
    return Image.fromarray(np.clip(base + noise, 0, 255).astype(np.uint8))


def _sharpness(img: Image.Image) -> float:
    a = np.asarray(img, dtype=np.float64).mean(-1)
    return float(np.abs(np.diff(a, axis=0)).mean() + np.abs(np.diff(a, axis=1)).mean())


def test_large_jpeg_is_decoded_smaller_and_the_result_is_as_sharp(tmp_path):
    photo = _photo(2000, 1500)
    jpeg, png = tmp_path / "p.jpg", tmp_path / "p.png"
    photo.save(jpeg, quality=95)
    photo.save(png)
    loaded = open_image(jpeg, max_side=100)
    # DCT scaling (Image.draft) at 1/4: the smallest JPEG scale keeping 3x the needed side;
    # reducing a decoded image instead would have given 334x250.
    assert loaded.image.size == (500, 375) and loaded.original_size == (2000, 1500)
    assert loaded.reduced and "p.jpg is 2000x1500 px; it was read at 500x375" in loaded.note
    reduced_png = open_image(png, max_side=100)
    assert reduced_png.image.size == (334, 250)
    for small, path in ((loaded.image, jpeg), (reduced_png.image, png)):
        full = resize_longest(load_image(path), 100)
        ours = resize_longest(small, 100)
        diff = np.abs(np.asarray(ours, dtype=np.float64) - np.asarray(full, dtype=np.float64))
        assert diff.mean() < 1.5, diff.mean()  # of 255, on texture with a spread of 18
        assert 0.98 < _sharpness(ours) / _sharpness(full) < 1.05
    small = open_image(png, max_side=1000)  # needs more than a third of it: read whole
    assert not small.reduced and small.note is None


def test_reading_smaller_keeps_the_upright_size(tmp_path):
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 on display
    path = tmp_path / "r.jpg"
    _photo(1600, 1200).save(path, exif=exif.tobytes())
    loaded = open_image(path, max_side=50)
    assert loaded.original_size == (1200, 1600)
    assert loaded.image.height > loaded.image.width


# ----------------------------------------------------------------- 18: colour profiles
def _with_profile(path: Path, rgb: tuple[int, int, int], icc: bytes, **kw) -> Path:
    Image.new("RGB", (8, 8), rgb).save(path, icc_profile=icc, **kw)
    return path


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".tif", ".webp"])
def test_a_prophoto_photo_is_converted_to_srgb(tmp_path, suffix):
    icc = matrix_icc("ProPhoto RGB (test)", PROPHOTO, 1.8)
    path = _with_profile(tmp_path / f"wide{suffix}", (200, 40, 40), icc, **(
        {"quality": 100} if suffix in (".jpg", ".webp") else {}))  # fmt: skip
    got = load_image(path).getpixel((4, 4))
    assert all(abs(a - b) <= 2 for a, b in zip(got, (255, 0, 49), strict=True)), got


def test_a_damaged_or_srgb_profile_leaves_the_pixels_as_they_are(tmp_path):
    junk = _with_profile(tmp_path / "junk.png", (200, 40, 40), b"\x00" * 200)
    assert load_image(junk).getpixel((0, 0)) == (200, 40, 40)
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    tagged = _with_profile(tmp_path / "srgb.png", (200, 40, 40), srgb)
    assert load_image(tagged).getpixel((0, 0)) == (200, 40, 40)


def test_a_prophoto_photo_with_alpha_is_converted_and_flattened_on_white(tmp_path):
    icc = matrix_icc("ProPhoto RGB (test)", PROPHOTO, 1.8)
    path = tmp_path / "a.png"
    Image.new("RGBA", (4, 4), (200, 40, 40, 255)).save(path, icc_profile=icc)
    assert load_image(path).getpixel((0, 0)) == (255, 0, 49)


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".webp", ".tif"])
def test_exports_are_tagged_srgb_and_read_back_unchanged(tmp_path, suffix):
    pixels = np.asarray(gradient(24, 16))
    out = save_image(pixels, tmp_path / f"out{suffix}", metadata={"settings": {}})
    with Image.open(out) as img:
        icc = img.info.get("icc_profile")
    assert icc, "no colour profile in the export"
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    assert "sRGB" in ImageCms.getProfileDescription(profile)
    if suffix in (".png", ".tif"):  # lossless: the very same pixels come back
        assert np.array_equal(np.asarray(load_image(out)), pixels)
    assert read_metadata(out) == {"settings": {}}
