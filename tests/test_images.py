"""Image loading (orientation, modes, hostile files), tensors, and atomic saving with metadata."""

from __future__ import annotations

import os
import sys

import numpy as np
import pytest
from PIL import Image

from nst_desktop.core import images
from nst_desktop.core.images import (
    ImageError,
    fit_size,
    load_image,
    read_metadata,
    resize_longest,
    save_image,
    to_tensor,
    to_uint8,
)


def _rgb(w=30, h=20) -> Image.Image:
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 255 // max(1, w - 1), y * 255 // max(1, h - 1), np.full_like(x, 60)], -1)
    return Image.fromarray(arr.astype(np.uint8))


def _one_line(exc: pytest.ExceptionInfo) -> str:
    text = str(exc.value)
    assert "\n" not in text and text and "Traceback" not in text
    return text


# ----------------------------------------------------------------- loading
def test_exif_orientation_is_applied(tmp_path):
    img = _rgb(40, 20)
    img.paste((255, 0, 0), (0, 0, 8, 8))  # a red block at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 CW to display
    path = tmp_path / "rot.jpg"
    img.save(path, exif=exif.tobytes(), quality=100)
    out = load_image(path)
    assert out.size == (20, 40) and out.mode == "RGB"
    # The top-left red pixel of the stored image is at the top-right once upright.
    r, g, b = out.getpixel((16, 3))
    assert r > 200 and g < 80


@pytest.mark.parametrize(
    "mode, make",
    [
        ("RGBA", lambda: Image.new("RGBA", (8, 6), (255, 0, 0, 0))),
        ("LA", lambda: Image.new("LA", (8, 6), (0, 0))),
        ("L", lambda: Image.new("L", (8, 6), 100)),
        ("1", lambda: Image.new("1", (8, 6), 1)),
        ("CMYK", lambda: Image.new("CMYK", (8, 6), (0, 255, 255, 0))),
        ("I;16", lambda: Image.fromarray(np.full((6, 8), 65535, np.uint16))),
        ("RGB", lambda: Image.new("RGB", (8, 6), (1, 2, 3))),
    ],
)
def test_modes_become_rgb(tmp_path, mode, make):
    img = make()
    ext = "tif" if mode == "CMYK" else "png"
    path = tmp_path / f"m.{ext}"
    img.save(path)
    assert Image.open(path).mode == mode
    out = load_image(path)
    assert out.mode == "RGB" and out.size == (8, 6)
    px = out.getpixel((3, 3))
    expected = {
        "RGBA": (255, 255, 255),  # fully transparent red on white is white
        "LA": (255, 255, 255),
        "L": (100, 100, 100),
        "1": (255, 255, 255),
        "CMYK": (255, 0, 0),
        "I;16": (255, 255, 255),  # full 16-bit range maps to full 8-bit range
        "RGB": (1, 2, 3),
    }[mode]
    assert px == expected


def test_half_transparent_composited_on_white(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGBA", (4, 4), (0, 0, 0, 128)).save(path)
    r, g, b = load_image(path).getpixel((1, 1))
    assert 120 <= r <= 135 and r == g == b


def test_palette_with_transparency(tmp_path):
    img = Image.new("P", (6, 6), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.putpixel((1, 1), 1)
    img.info["transparency"] = 0
    path = tmp_path / "p.png"
    img.save(path, transparency=0)
    out = load_image(path)
    assert out.getpixel((0, 0)) == (255, 255, 255)  # transparent index -> white
    assert out.getpixel((1, 1)) == (0, 0, 255)


def test_animated_gif_first_frame(tmp_path):
    frames = [Image.new("RGB", (10, 10), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    r, g, b = load_image(path).getpixel((5, 5))
    assert r > 200 and g < 50 and b < 50


def test_not_an_image(tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("just text")
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert "not a picture" in _one_line(info)


def test_truncated(tmp_path):
    path = tmp_path / "t.png"
    _rgb(200, 200).save(path)
    path.write_bytes(path.read_bytes()[:400])
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert "truncated" in _one_line(info) or "damaged" in _one_line(info)


def test_zero_bytes_dir_missing(tmp_path):
    empty = tmp_path / "empty.jpg"
    empty.write_bytes(b"")
    for target, word in [(empty, "empty"), (tmp_path, "folder"), (tmp_path / "x.png", "exist")]:
        with pytest.raises(ImageError) as info:
            load_image(target)
        assert word in _one_line(info)


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_unreadable(tmp_path):
    path = tmp_path / "locked.png"
    _rgb().save(path)
    path.chmod(0)
    with pytest.raises(ImageError, match="permission"):
        load_image(path)


def test_decompression_bomb(tmp_path, monkeypatch):
    path = tmp_path / "big.png"
    _rgb(100, 100).save(path)
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 1000)  # 10000 px > 2x the limit
    with pytest.raises(ImageError) as info:
        load_image(path)
    assert "too large" in _one_line(info)


# ----------------------------------------------------------------- sizes and tensors
def test_resize_longest_and_slivers():
    img = _rgb(300, 100)
    assert resize_longest(img, 60).size == (60, 20)
    assert resize_longest(_rgb(100, 300), 60).size == (20, 60)
    assert resize_longest(img, 300) is img
    with pytest.raises(ImageError, match="at least 16"):
        fit_size(1000, 10, 64, 16)


def test_tensor_round_trip():
    arr = np.asarray(_rgb(9, 7))
    t = to_tensor(Image.fromarray(arr))
    assert tuple(t.shape) == (1, 3, 7, 9) and t.is_contiguous()
    assert float(t.min()) >= 0 and float(t.max()) <= 1
    back = to_uint8(t)
    assert back.dtype == np.uint8 and np.array_equal(back, arr)
    assert to_uint8(t * 3 - 1).min() == 0 and to_uint8(t * 3 - 1).max() == 255  # clamped


def test_images_module_does_not_import_torch():
    import subprocess

    code = "import sys, nst_desktop.core.images; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


# ----------------------------------------------------------------- saving
META = {"version": "t", "settings": {"size": 64, "style_layers": {"relu1_1": 1.0}}, "ü": "é"}


@pytest.mark.parametrize("ext", [".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff", ".PNG"])
def test_save_formats_with_metadata(tmp_path, ext):
    arr = np.asarray(_rgb(24, 16))
    path = tmp_path / f"out{ext}"
    assert save_image(arr, path, metadata=META) == path
    with Image.open(path) as img:
        assert img.size == (24, 16)
        assert img.format == images.SAVE_FORMATS[ext.lower()]
        if ext.lower() in (".png", ".tif", ".tiff"):
            assert np.array_equal(np.asarray(img.convert("RGB")), arr)  # lossless
    assert read_metadata(path) == META
    assert sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_save_pil_image_without_metadata(tmp_path):
    path = save_image(_rgb(), tmp_path / "plain.png")
    assert read_metadata(path) is None
    assert load_image(path).size == (30, 20)


def test_overwrite_is_atomic_replace(tmp_path):
    path = tmp_path / "o.png"
    save_image(np.zeros((4, 4, 3), np.uint8), path)
    save_image(np.full((4, 4, 3), 200, np.uint8), path)
    assert load_image(path).getpixel((0, 0)) == (200, 200, 200)


def test_bad_extension(tmp_path):
    with pytest.raises(ImageError, match=r"\.png") as info:
        save_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "out.bmpx")
    _one_line(info)
    assert list(tmp_path.iterdir()) == []


def test_missing_folder(tmp_path):
    with pytest.raises(ImageError, match="does not exist"):
        save_image(np.zeros((4, 4, 3), np.uint8), tmp_path / "no" / "out.png")


def test_failed_save_leaves_nothing(tmp_path, monkeypatch):
    path = tmp_path / "keep.png"
    save_image(np.full((8, 8, 3), 7, np.uint8), path)
    original = path.read_bytes()

    def failing_save(self, fp, format=None, **kw):
        fp.write(b"\x89PNG partial")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(ImageError, match="full") as info:
        save_image(np.zeros((8, 8, 3), np.uint8), path, metadata=META)
    _one_line(info)
    assert path.read_bytes() == original  # the old file is untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["keep.png"]


def test_unexpected_error_mid_save_leaves_nothing(tmp_path, monkeypatch):
    def failing_save(self, fp, format=None, **kw):
        fp.write(b"partial")
        raise KeyboardInterrupt

    monkeypatch.setattr(Image.Image, "save", failing_save)
    with pytest.raises(KeyboardInterrupt):
        save_image(np.zeros((8, 8, 3), np.uint8), tmp_path / "x.png")
    assert list(tmp_path.iterdir()) == []


def test_read_metadata_is_defensive(tmp_path):
    path = tmp_path / "t.txt"
    path.write_text("no image")
    assert read_metadata(path) is None
    assert read_metadata(tmp_path / "missing.png") is None
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_itxt(images.SETTINGS_KEY, "[1, 2]")  # valid JSON but not an object
    bad = tmp_path / "list.png"
    _rgb().save(bad, pnginfo=info)
    assert read_metadata(bad) is None
    info = PngImagePlugin.PngInfo()
    info.add_itxt(images.SETTINGS_KEY, "{" * 100_000)  # huge and broken
    huge = tmp_path / "huge.png"
    _rgb().save(huge, pnginfo=info)
    assert read_metadata(huge) is None
