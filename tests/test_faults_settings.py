"""Fault matrix (issue 6), settings rows through the CLI: preset files with unknown keys, wrong
types or out-of-range values, and settings embedded in an image that are huge, malformed or
hostile. Bad entries are dropped with a warning, clashing ones restore the defaults, nothing in
them is executed, and an unusable block is one line with exit 2. See FAULTS.md.
"""

from __future__ import annotations

import json
import pickle
import struct
import zlib
from pathlib import Path

import pytest
from faults_helpers import FAST, cli_refuses, cli_succeeds, gradient
from PIL import Image, PngImagePlugin

from nst_desktop.core.images import SETTINGS_KEY, read_metadata
from nst_desktop.core.settings import RunSettings

DEFAULTS = RunSettings()


@pytest.fixture(scope="module")
def pics(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("pics")
    gradient().save(d / "c.png")
    gradient(30, 30).rotate(90).save(d / "s.png")
    return d / "c.png", d / "s.png"


def _png_with_text(path: Path, text: str | bytes) -> Path:
    """A picture whose settings chunk holds ``text`` verbatim (as an attacker would write it)."""
    info = PngImagePlugin.PngInfo()
    if isinstance(text, bytes):
        info.add_text(SETTINGS_KEY, text.decode("latin-1"))
    else:
        info.add_itxt(SETTINGS_KEY, text, zip=len(text) > 1000)
    gradient(8, 8).save(path, pnginfo=info)
    return path


def _warnings(err: str) -> list[str]:
    lines = err.strip().splitlines()
    assert all(line.startswith("nst-desktop: warning: ") for line in lines), err
    return lines


# ----------------------------------------------------------------- preset files
def test_preset_json_unknown_keys_wrong_types_out_of_range(capsys, pics, tmp_path):
    """Core: tests/test_presets.py::test_bad_fields_are_dropped_with_warnings. Here the CLI."""
    preset = tmp_path / "odd.json"
    preset.write_text(
        '{"name": "Odd", "colour": "red", "settings": {"bogus": 1, "tv_weight": "lots", '
        '"style_weight": 1e99, "steps": -5, "pool": 3, "color": "sepia", "seed": 1'
        + "0" * 400
        + ', "content_weight": 1e400, "style_scale": 2.0}}'
    )
    out = tmp_path / "o.png"
    err = cli_succeeds(capsys, "transfer", *pics, "-o", out, *FAST, "--preset", preset)
    text = " ".join(_warnings(err))
    for word in ("colour", "bogus", "tv_weight", "Style weight", "Iterations", "'pool'",
                 "sepia", "'seed' is a number far too large", "finite"):  # fmt: skip
        assert word in text, word
    used = read_metadata(out)["settings"]
    assert used["style_scale"] == 2.0  # the one good entry is applied
    for key in ("tv_weight", "style_weight", "pool", "color", "seed", "content_weight"):
        assert used[key] == getattr(DEFAULTS, key), key


def test_preset_json_that_makes_no_valid_run(capsys, pics, tmp_path):
    preset = tmp_path / "clash.json"
    preset.write_text(
        json.dumps({"name": "Clash", "settings": {"content_weight": 0, "style_weight": 0}})
    )
    line = cli_refuses(
        capsys, "transfer", *pics, "-o", tmp_path / "o.png", *FAST, "--preset", preset
    )
    assert "Preset 'Clash' does not make a valid run: Content and style weights are both 0" in line
    assert not (tmp_path / "o.png").exists()


# ----------------------------------------------------------------- settings embedded in an image
def _zip_bomb_png(path: Path) -> Path:
    """An 8x8 PNG whose compressed settings chunk inflates to 20 MB (the text limit is 64 KB)."""
    comp = zlib.compressobj(9)
    body = comp.compress(b'{"settings": {"size": 64}, "pad": "')
    for _ in range(20):
        body += comp.compress(b" " * (1 << 20))
    body += comp.compress(b'"}') + comp.flush()
    itxt = SETTINGS_KEY.encode() + b"\0\x01\x00\0\0" + body
    gradient(8, 8).save(path)
    data = path.read_bytes()
    end = data.rindex(b"IEND") - 4
    crc = zlib.crc32(b"iTXt" + itxt) & 0xFFFFFFFF
    chunk = struct.pack(">I", len(itxt)) + b"iTXt" + itxt + struct.pack(">I", crc)
    path.write_bytes(data[:end] + chunk + data[end:])
    assert path.stat().st_size < 100_000
    return path


def test_settings_embedded_in_an_image_huge(capsys, pics, tmp_path):
    big = {"settings": {"size": 64}, "pad": "x" * 200_000}  # valid, but over the 64 KB limit
    cases = [
        _png_with_text(tmp_path / "big.png", json.dumps(big)),
        _zip_bomb_png(tmp_path / "z.png"),
    ]
    for image in cases:
        assert read_metadata(image) is None  # refused unread, not parsed
        line = cli_refuses(capsys, "transfer", *pics, "-o", tmp_path / "o.png", *FAST,
                           "--settings-from", image)  # fmt: skip
        assert f"{image} carries no NST Desktop settings" in line
    assert not (tmp_path / "o.png").exists()


@pytest.mark.parametrize(
    "text",
    [
        '{"settings": {"size": 64',  # cut short
        "[1, 2, 3]",  # not an object
        '{"settings": [["size", 64]]}',  # settings not an object
        '{"settings": "size=64"}',
        "[" * 100_000 + "]" * 100_000,  # nesting that would exhaust the parser's stack
        b"\xff\xfe{\x00s\x00}",  # not text
        "",
    ],
    ids=["truncated", "list", "settings-list", "settings-text", "deep", "binary", "empty"],
)
def test_settings_embedded_in_an_image_malformed(capsys, pics, tmp_path, text):
    image = _png_with_text(tmp_path / "bad.png", text)
    line = cli_refuses(capsys, "transfer", *pics, "-o", tmp_path / "o.png", *FAST,
                       "--settings-from", image)  # fmt: skip
    assert line == (
        f"nst-desktop: {image} carries no NST Desktop settings; choose a PNG/JPEG/WebP/TIFF "
        "exported by NST Desktop."
    )


def test_settings_embedded_in_an_image_hostile_values(capsys, pics, tmp_path):
    """Each entry is refused with a warning; values that clash restore the defaults."""
    hostile = {
        "version": "<script>alert(1)</script>",
        "settings": {
            "__class__": "os.system",
            "mode": "sweep",  # never taken from a picture: the command decides
            "device": "cuda:0; rm -rf ~",  # ignored unread: the device is this computer's
            "init": "x" * 5000,
            "style_layers": {"relu1_1'); import os; ('": 1.0},
            "content_layers": {"relu4_2": float("inf")},
            "steps": [500],
            "size": {"$gt": 0},
            "tv_weight": 1e300,
            "content_weight": 0,
            "style_weight": 0,  # together with content_weight: no run, so defaults come back
        },
    }
    image = tmp_path / "hostile.png"
    image.write_bytes(b"")
    text = json.dumps(hostile)  # (inf is written as Infinity, which Python's JSON accepts)
    _png_with_text(image, text)
    out = tmp_path / "o.png"
    err = cli_succeeds(capsys, "transfer", *pics, "-o", out, *FAST, "--settings-from", image)
    lines = _warnings(err)
    joined = " ".join(lines)
    assert "Device" not in joined
    for word in ("__class__", "short text", "relu1_1", "Content layers", "steps",
                 "size", "Smoothness", "Defaults were restored"):  # fmt: skip
        assert word in joined, word
    used = read_metadata(out)["settings"]
    assert used["mode"] == "transfer" and used["device"] == DEFAULTS.device
    assert used["style_layers"] == DEFAULTS.style_layers and used["init"] == DEFAULTS.init
    assert used["content_weight"] == DEFAULTS.content_weight
    assert used["style_weight"] == DEFAULTS.style_weight


class _Payload:
    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_settings_embedded_in_an_image_never_executed(capsys, pics, tmp_path):
    """A picture may name files (weights, start image): they are never used, so a picture
    someone sent cannot point the program at local files; a user's own choice of the same
    files is read as data, never run."""
    marker = tmp_path / "pwned"
    evil = tmp_path / "evil.pth"
    evil.write_bytes(pickle.dumps({"features.0.weight": _Payload(marker)}))
    block = {"settings": {"weights": str(evil), "init": str(evil), "seed": 3}}
    image = _png_with_text(tmp_path / "i.png", json.dumps(block))
    out = tmp_path / "o.png"
    err = cli_succeeds(capsys, "transfer", *pics, "-o", out, *FAST, "--settings-from", image)
    assert _warnings(err) == [
        "nst-desktop: warning: i.png: its start picture (evil.pth) was not used: a picture may "
        "not point at files on this computer; choose a start picture yourself"
    ]
    used = read_metadata(out)["settings"]
    assert (used["weights"], used["init"], used["seed"]) == ("random", "noise", 3)
    assert not marker.exists()
    # The same files chosen by the user: read as data, and refused as what they are not.
    tiny = [a for a in FAST if a not in ("--weights", "random")]
    line = cli_refuses(capsys, "transfer", *pics, "-o", tmp_path / "p.png", *tiny,
                       "--weights", evil)  # fmt: skip
    assert "evil.pth is not a VGG19 weights file: it holds more than plain numbers" in line
    assert not marker.exists()
    line = cli_refuses(capsys, "transfer", *pics, "-o", tmp_path / "p.png", *FAST,
                       "--init", evil)  # fmt: skip
    assert "evil.pth is not a picture NST Desktop can open" in line
    assert not marker.exists() and not (tmp_path / "p.png").exists()


def test_settings_embedded_in_other_formats_are_validated_alike(pics, tmp_path):
    """JPEG/WebP carry the block in EXIF, TIFF in its description; the same checks apply
    (the CLI's merge of the embedded block, without a run)."""
    from nst_desktop import cli
    from nst_desktop.core.images import save_image

    bad = {"settings": {"size": "huge", "frobnicate": True, "steps": 3}}
    for suffix in (".jpg", ".webp", ".tif"):
        image = save_image(Image.new("RGB", (8, 8)), tmp_path / f"x{suffix}", metadata=bad)
        args = cli.build_parser().parse_args(
            [
                "transfer",
                *map(str, pics),
                "-o",
                str(tmp_path / "o.png"),
                "--settings-from",
                str(image),
            ]
        )
        settings, warnings = cli.settings_from_args(args)
        assert settings.steps == 3 and settings.size == DEFAULTS.size
        assert [w.split(": ", 1)[0] for w in warnings] == [image.name, image.name]
        assert "'size' must be a whole number" in warnings[0] and "frobnicate" in warnings[1]
