"""Fault matrix (issue 6), image rows: every odd or hostile input file, through the core loader
and, for a representative subset, through the CLI end to end (exit 2, one line, nothing written).

Valid-but-odd pictures must load as upright 8-bit RGB and drive a tiny run; see FAULTS.md.
"""

from __future__ import annotations

import builtins
import errno
import os
import struct
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from faults_helpers import FAST, cli_refuses, cli_succeeds, gradient, leftovers
from PIL import Image

from nst_desktop.core.images import ImageError, load_image


def _loader_refuses(path: Path) -> str:
    with pytest.raises(ImageError) as info:
        load_image(path)
    text = str(info.value)
    assert "\n" not in text and "Traceback" not in text
    return text


def _tiny_run(capsys, image: Path, tmp_path: Path, *extra: str) -> tuple[int, int]:
    """A 32 px, 2-evaluation transfer with ``image`` as content and style; the output's size."""
    out = tmp_path / "out.png"
    cli_succeeds(capsys, "transfer", image, image, "-o", out, *FAST, *extra)
    with Image.open(out) as img:
        assert img.mode == "RGB"
        return img.size


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


# ----------------------------------------------------------------- damaged or hostile files
def test_image_zero_bytes(capsys, tmp_path):
    path = tmp_path / "empty.png"
    path.write_bytes(b"")
    assert "empty.png is empty (0 bytes); choose another image." == _loader_refuses(path)
    line = cli_refuses(capsys, "transfer", path, path, "-o", tmp_path / "o.png", *FAST)
    assert "is empty (0 bytes)" in line
    assert sorted(p.name for p in tmp_path.iterdir()) == ["empty.png"]  # nothing written


def test_image_text_file_named_png(capsys, tmp_path):
    path = tmp_path / "notes.png"
    path.write_text("shopping list: eggs, milk\n")
    assert "is not a picture NST Desktop can open; choose a PNG, JPEG" in _loader_refuses(path)
    line = cli_refuses(capsys, "transfer", path, path, "-o", tmp_path / "o.png", *FAST)
    assert "notes.png is not a picture" in line
    assert not (tmp_path / "o.png").exists() and leftovers(tmp_path) == []


@pytest.mark.parametrize("fmt", ["PNG", "JPEG"])
def test_image_truncated_png_and_jpeg(tmp_path, fmt):
    noise = np.random.default_rng(0).integers(0, 256, (150, 200, 3), dtype=np.uint8)
    whole = tmp_path / f"whole.{fmt.lower()}"
    Image.fromarray(noise).save(whole, format=fmt)
    for keep in (0.5, 0.05):  # cut in the pixel data, and inside the headers
        path = tmp_path / f"cut.{fmt.lower()}"
        data = whole.read_bytes()
        path.write_bytes(data[: int(len(data) * keep)])
        text = _loader_refuses(path)
        assert text.startswith(f"cut.{fmt.lower()} is damaged or truncated (")
        assert text.endswith("); choose another copy.")


def test_image_decompression_bomb_header_claims_40000x40000(capsys, tmp_path):
    # A 100-byte PNG whose header claims 1.6 gigapixels (4.8 GB decoded): refused before decoding.
    ihdr = struct.pack(">IIBBBBB", 40000, 40000, 8, 2, 0, 0, 0)
    path = tmp_path / "bomb.png"
    path.write_bytes(
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", ihdr)
        + _png_chunk(b"IDAT", zlib.compress(b"\0" * 200))
        + _png_chunk(b"IEND", b"")
    )
    assert path.stat().st_size < 200
    text = _loader_refuses(path)
    assert "bomb.png is too large to open safely (more than 178,956,970 pixels)" in text
    assert "scale it down" in text
    line = cli_refuses(capsys, "style-rep", path, "-o", tmp_path / "o.png", *FAST)
    assert "too large to open safely" in line
    assert not (tmp_path / "o.png").exists()


def test_image_directory(capsys, tmp_path):
    folder = tmp_path / "holiday photos"
    folder.mkdir()
    assert _loader_refuses(folder) == f"{folder} is a folder; choose an image file inside it."
    line = cli_refuses(capsys, "content-rep", folder, "-o", tmp_path / "o.png", *FAST)
    assert "is a folder; choose an image file inside it." in line


def _deny_reading(monkeypatch, path: Path) -> None:
    """What the OS does for a file without read permission: open() raises EACCES.

    Simulated because the suite may run as root, who reads anything.
    """
    real_open, real_os_open = builtins.open, os.open

    def denied(file) -> bool:
        return isinstance(file, (str, os.PathLike)) and os.fspath(file) == str(path)

    def guarded_open(file, *args, **kwargs):
        if denied(file):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_open(file, *args, **kwargs)

    def guarded_os_open(file, *args, **kwargs):
        if denied(file):
            raise PermissionError(errno.EACCES, "Permission denied", str(path))
        return real_os_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded_open)
    monkeypatch.setattr(os, "open", guarded_os_open)


def test_image_without_read_permission(capsys, tmp_path, monkeypatch):
    path = tmp_path / "locked.png"
    gradient().save(path)
    _deny_reading(monkeypatch, path)
    expected = "locked.png cannot be read (no permission); check the file's rights."
    assert _loader_refuses(path) == expected
    line = cli_refuses(capsys, "transfer", path, path, "-o", tmp_path / "o.png", *FAST)
    assert line == f"nst-desktop: {expected}"
    assert not (tmp_path / "o.png").exists()


@pytest.mark.skipif(sys.platform == "win32" or os.geteuid() == 0, reason="root reads anything")
def test_image_without_read_permission_real_chmod(tmp_path):
    path = tmp_path / "locked.png"
    gradient().save(path)
    path.chmod(0)
    assert "no permission" in _loader_refuses(path)


# ----------------------------------------------------------------- valid but odd pictures
def test_image_cmyk_jpeg(capsys, tmp_path):
    path = tmp_path / "print.jpg"
    Image.new("CMYK", (40, 30), (0, 255, 255, 0)).save(path, quality=95)  # pure red in print
    assert Image.open(path).mode == "CMYK"
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (40, 30)
    r, g, b = img.getpixel((20, 15))
    assert r > 240 and g < 15 and b < 15
    assert _tiny_run(capsys, path, tmp_path) == (32, 24)


def test_image_16bit_grayscale_png(capsys, tmp_path):
    ramp = np.tile(np.linspace(0, 65535, 40).round().astype(np.uint16), (30, 1))
    ramp[:, 20] = 128 * 257  # exactly mid-grey in 16 bits
    path = tmp_path / "scan16.png"
    Image.fromarray(ramp).save(path)
    assert Image.open(path).mode.startswith("I")
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (40, 30)
    assert img.getpixel((0, 0)) == (0, 0, 0) and img.getpixel((39, 0)) == (255, 255, 255)
    assert img.getpixel((20, 5)) == (128, 128, 128)  # scaled by 1/257, not clipped at 255
    assert _tiny_run(capsys, path, tmp_path) == (32, 24)


def test_image_palette_png_with_transparency(capsys, tmp_path):
    img = Image.new("P", (40, 30), 0)
    img.putpalette([255, 0, 0, 0, 0, 255] + [0] * 762)
    img.paste(1, (10, 10, 30, 20))
    path = tmp_path / "logo.png"
    img.save(path, transparency=0)
    out = load_image(path)
    assert out.mode == "RGB"
    assert out.getpixel((0, 0)) == (255, 255, 255)  # the transparent red index shows white
    assert out.getpixel((20, 15)) == (0, 0, 255)
    assert _tiny_run(capsys, path, tmp_path) == (32, 24)


def test_image_la(capsys, tmp_path):
    arr = np.zeros((30, 40, 2), np.uint8)
    arr[..., 1] = 128  # black at half opacity
    arr[:, 20:, 1] = 255  # opaque black on the right
    path = tmp_path / "shadow.png"
    Image.fromarray(arr, "LA").save(path)
    out = load_image(path)
    assert out.mode == "RGB"
    left, right = out.getpixel((5, 5)), out.getpixel((35, 5))
    assert 125 <= left[0] <= 129 and left[0] == left[1] == left[2]  # composited on white
    assert right == (0, 0, 0)
    assert _tiny_run(capsys, path, tmp_path) == (32, 24)


def test_image_1bit(capsys, tmp_path):
    arr = (np.indices((30, 40)).sum(0) // 5 % 2).astype(bool)  # a coarse checkerboard
    path = tmp_path / "fax.png"
    Image.fromarray(arr).save(path)
    assert Image.open(path).mode == "1"
    out = load_image(path)
    assert out.mode == "RGB"
    assert {out.getpixel((x, 0)) for x in range(10)} == {(0, 0, 0), (255, 255, 255)}
    assert _tiny_run(capsys, path, tmp_path) == (32, 24)


def test_image_exif_orientation_6_comes_out_upright(capsys, tmp_path):
    stored = gradient(48, 24)
    stored.paste((255, 0, 0), (0, 0, 8, 8))  # red at the stored top-left
    exif = Image.Exif()
    exif[0x0112] = 6  # the camera was turned: rotate 90 degrees clockwise to display
    path = tmp_path / "phone.jpg"
    stored.save(path, exif=exif.tobytes(), quality=100)
    img = load_image(path)
    assert img.size == (24, 48)  # portrait, as the photographer saw it
    r, g, _ = img.getpixel((20, 3))  # the stored top-left is now the top-right
    assert r > 200 and g < 80
    # The result is upright too: one evaluation from the content keeps the start image.
    out = tmp_path / "out.png"
    args = ["transfer", path, path, "-o", out, *FAST, "--steps", "1", "--init", "content"]
    cli_succeeds(capsys, *args)
    with Image.open(out) as result:
        assert result.size == (16, 32)
        r, g, _ = result.convert("RGB").getpixel((14, 2))
        assert r > 200 and g < 80
        r, g, _ = result.convert("RGB").getpixel((1, 2))
        assert r < 100  # and not at the top-left


def test_image_animated_gif_uses_the_first_frame(capsys, tmp_path):
    frames = [Image.new("RGB", (40, 30), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    path = tmp_path / "anim.gif"
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=50, loop=0)
    assert Image.open(path).n_frames == 3
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (40, 30)
    r, g, b = img.getpixel((20, 15))
    assert r > 200 and g < 50 and b < 50
    assert _tiny_run(capsys, path, tmp_path) == (32, 24)


def test_image_8x8_is_enlarged_with_a_note(capsys, tmp_path):
    """8x8 is too small for relu5_1 (needs 16 px); the run enlarges it to --size and says so."""
    path = tmp_path / "icon.png"
    gradient(8, 8).save(path)
    assert load_image(path).size == (8, 8)
    out = tmp_path / "out.png"
    args = ["transfer", path, path, "-o", out, "--weights", "random", "--size", "32"]
    err = cli_succeeds(capsys, *args, "--steps", "2")
    assert "note: icon.png is only 8x8 px, so it is enlarged about 4x; expect a soft" in err
    with Image.open(out) as img:
        assert img.size == (32, 32)
    # At the smallest size the deepest default layer still fits (16 px in, 1 px at relu5_1).
    assert _tiny_run(capsys, path, tmp_path, "--size", "16") == (16, 16)


def test_image_1x4000_strip_is_refused_clearly(capsys, tmp_path):
    path = tmp_path / "strip.png"
    Image.new("RGB", (1, 4000), (90, 20, 200)).save(path)
    img = load_image(path)
    assert img.mode == "RGB" and img.size == (1, 4000)
    good = tmp_path / "good.png"
    gradient().save(good)
    expected = (
        "nst-desktop: The image is 1x4000 px; at size 32 its short side would be 1 px, but the "
        "chosen layers need at least 16 px. Crop it to a less extreme shape, raise the size, or "
        "use shallower layers."
    )
    out = tmp_path / "o.png"
    assert cli_refuses(capsys, "transfer", path, good, "-o", out, *FAST) == expected
    # As a style image the same: refused, not a 1-pixel-wide texture.
    line = cli_refuses(capsys, "transfer", good, path, "-o", out, *FAST)
    assert "less extreme shape" in line
    assert not out.exists() and leftovers(tmp_path) == []


def test_image_path_with_spaces_and_non_ascii(capsys, tmp_path):
    folder = tmp_path / "my pictures" / "Ünïcödé 画像 ñ"
    folder.mkdir(parents=True)
    content, style = folder / "café au lait.png", folder / "стиль №2.jpg"
    gradient().save(content)
    gradient(30, 30).rotate(90).save(style)
    assert load_image(content).size == (48, 36) and load_image(style).size == (30, 30)
    out = folder / "résultat final 🎨.png"
    cli_succeeds(capsys, "transfer", content, style, "-o", out, *FAST)
    assert load_image(out).size == (32, 24)
    # An error about such a path is still one line, with the name intact.
    line = cli_refuses(capsys, "transfer", folder / "ça n'existe pas.png", style, "-o", out, *FAST)
    assert "ça n'existe pas.png does not exist" in line
