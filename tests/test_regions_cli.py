"""Regions on the command line: --style-mask, --outside, the record in the picture, and refusals."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from nst_desktop import cli
from nst_desktop.core.images import read_metadata, save_image
from nst_desktop.core.regions import (
    EMBED_BUDGET,
    Regions,
    decode_regions,
    encode_regions,
    read_mask,
)

ROOT = Path(__file__).resolve().parents[1]
SMALL = ["--weights", "random", "--size", "32", "--quiet", "--style-layers", "relu1_1,relu2_1"]
SMALL += ["--content-layer", "relu2_1"]
#: Red-minus-blue of the left half over the right half, in 8-bit levels; measured about 300 at
#: 64 px / 30 steps and about 200 at 32 px / 12 steps (a solid red or blue style gives ±255).
MARGIN = 60


@pytest.fixture(scope="module")
def pics(tmp_path_factory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("regions")
    y, x = np.mgrid[0:48, 0:64]
    g = (100 + 40 * np.sin(x * 0.3) + 30 * np.cos(y * 0.25)).clip(0, 255)
    photo = Image.fromarray(np.stack([g, g, g], -1).astype(np.uint8))
    ImageDraw.Draw(photo).ellipse([20, 10, 44, 38], fill=(200, 200, 200))
    rng = np.random.default_rng(0)
    paths = {k: d / f"{k}.png" for k in ("photo", "red", "blue", "left", "right")}
    photo.save(paths["photo"])
    for name, rgb in (("red", (220, 30, 30)), ("blue", (30, 30, 220))):
        arr = np.asarray(rgb, float) + rng.normal(0, 25, (48, 48, 1))
        Image.fromarray(arr.clip(0, 255).astype(np.uint8)).save(paths[name])
    mask = np.zeros((30, 40), np.uint8)  # another size and shape than the photo: resized to it
    mask[:, :20] = 255
    Image.fromarray(mask).save(paths["left"])
    Image.fromarray(255 - mask).save(paths["right"])
    (d / "text.png").write_text("not an image")
    paths["text"] = d / "text.png"
    return paths


def red_minus_blue(path: Path) -> tuple[float, float]:
    a = np.asarray(Image.open(path).convert("RGB"), dtype=np.float64)
    rb = a[..., 0] - a[..., 2]
    half = a.shape[1] // 2
    return float(rb[:, :half].mean()), float(rb[:, half:].mean())


def test_done_when_left_red_right_blue(pics, tmp_path):
    out = tmp_path / "out.png"
    argv = [sys.executable, "-m", "nst_desktop", "transfer", pics["photo"], pics["red"],
            pics["blue"], "--style-mask", f"1:{pics['left']}", "--style-mask",
            f"2:{pics['right']}", "-o", out, "--weights", "random", "--size", "64",
            "--steps", "30", "--quiet"]  # fmt: skip
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    env.update({k: v for k, v in __import__("os").environ.items() if k.startswith("NST_")})
    proc = subprocess.run(
        [str(a) for a in argv], capture_output=True, text=True, env=env, timeout=600
    )
    assert proc.returncode == 0, proc.stderr
    left, right = red_minus_blue(out)
    assert left - right > MARGIN and left > 0 > right, (left, right)


def run_cli(capsys, *args) -> tuple[int, str]:
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def test_settings_from_restores_the_embedded_masks_not_the_files(capsys, pics, tmp_path):
    left, right = tmp_path / "left.png", tmp_path / "right.png"
    left.write_bytes(pics["left"].read_bytes())
    right.write_bytes(pics["right"].read_bytes())
    first = tmp_path / "first.png"
    code, err = run_cli(capsys, "transfer", pics["photo"], pics["red"], pics["blue"],
                        "--style-mask", f"1:{left}", "--style-mask", f"2:{right}",
                        "--outside", "keep", "-o", first, "--steps", "12", *SMALL)  # fmt: skip
    assert code == 0, err
    record = read_metadata(first)["regions"]
    assert record["outside"] == "keep"
    assert [(m["style"], m["name"], m["size"]) for m in record["masks"]] == [
        (1, "left.png", [40, 30]),
        (2, "right.png", [40, 30]),
    ]
    assert all(len(m["sha256"]) == 64 and m["png"] for m in record["masks"])
    # The masks' files are gone, and a file now sits where the record names one: a picture
    # may not make the program read it, so the run uses the embedded masks.
    left.unlink()
    right.write_bytes(pics["left"].read_bytes())
    again = tmp_path / "again.png"
    code, err = run_cli(capsys, "transfer", pics["photo"], pics["red"], pics["blue"],
                        "--settings-from", first, "-o", again, *SMALL)  # fmt: skip
    assert code == 0, err
    assert read_metadata(again)["regions"]["masks"][0]["png"] == record["masks"][0]["png"]
    assert read_metadata(again)["settings"]["steps"] == 12
    l1, r1 = red_minus_blue(again)
    assert l1 - r1 > MARGIN, (l1, r1)


@pytest.mark.parametrize(
    ("option", "words"),
    [
        ("0:{left}", "start at 1"),
        ("3:{left}", "only 2 style images"),
        ("{left}", "is not I:PATH"),
        ("x:{left}", "is not I:PATH"),
        ("1:{missing}", "does not exist"),
        ("1:{text}", "not a picture"),
        ("1:{folder}", "is a folder"),
    ],
)
def test_bad_masks_are_refused_in_one_line(capsys, pics, tmp_path, option, words):
    spec = option.format(
        left=pics["left"], missing=tmp_path / "gone.png", text=pics["text"], folder=tmp_path
    )
    out = tmp_path / "out.png"
    code, err = run_cli(capsys, "transfer", pics["photo"], pics["red"], pics["blue"],
                        "--style-mask", spec, "-o", out, "--steps", "1", *SMALL)  # fmt: skip
    assert code == 2, err
    assert words in err and "--style-mask" in err and err.count("\n") == 1, err
    assert "Traceback" not in err and not out.exists()


def test_a_transparent_mask_counts_its_transparent_pixels_as_outside(tmp_path):
    rgba = np.zeros((4, 6, 4), np.uint8)
    rgba[..., :3] = 255
    rgba[:, :3, 3] = 255  # left opaque white, right transparent white
    Image.fromarray(rgba, "RGBA").save(tmp_path / "m.png")
    m = read_mask(tmp_path / "m.png")
    assert m.shape == (4, 6) and m[:, :3].min() == 1.0 and m[:, 3:].max() == 0.0


def test_embedded_masks_stay_within_the_metadata_limit(tmp_path):
    rng = np.random.default_rng(1)
    noisy = {i: rng.random((300, 400)).astype(np.float32) for i in range(16)}
    record = encode_regions(Regions(noisy, "keep"))
    used = sum(len(m.get("png", "")) for m in record["masks"])
    assert used <= EMBED_BUDGET
    path = save_image(
        np.zeros((8, 8, 3), np.uint8), tmp_path / "x.jpg", metadata={"regions": record}
    )
    assert read_metadata(path) is not None  # the whole record still reads back
    restored, warnings = decode_regions(record)
    assert warnings == [] or all("not embedded" in w for w in warnings)
    one = encode_regions(Regions({0: noisy[0]}))
    back, warnings = decode_regions(json.loads(json.dumps(one)))
    assert warnings == [] and back is not None and max(back.masks[0].shape) == 128


def _png_b64(size: tuple[int, int]) -> str:
    buf = io.BytesIO()
    Image.new("L", size, 255).save(buf, format="PNG")
    return base64.b64encode(buf.getvalue()).decode()


@pytest.mark.parametrize(
    "record",
    [
        "not a dict",
        {"masks": "nope"},
        {"masks": [{"style": 1, "png": "!!!not base64"}]},
        {"masks": [{"style": 1, "png": base64.b64encode(b"GIF89a....").decode()}]},
        {"masks": [{"style": 1, "png": _png_b64((4000, 10))}]},  # beyond the embedded size
        {"masks": [{"style": 99, "png": _png_b64((8, 8))}]},
        {"masks": [{"style": True, "png": _png_b64((8, 8))}]},
        {"masks": [{"style": 1, "path": "/etc/passwd"}]},  # a path alone is never read
        {"masks": [{"style": 1, "png": "A" * 70_000}]},
        {"masks": [{}] * 17},
    ],
)
def test_hostile_region_records_are_dropped_with_a_warning(record):
    regions, warnings = decode_regions(record)
    assert regions is None and warnings


def test_a_good_record_restores_with_its_outside_choice():
    regions, warnings = decode_regions(
        {"outside": "keep", "masks": [{"style": 2, "png": _png_b64((8, 6))}]}
    )
    assert warnings == [] and regions is not None and regions.outside == "keep"
    assert list(regions.masks) == [1] and regions.masks[1].shape == (6, 8)


def test_notes_name_an_empty_region_and_an_unused_style():
    regions = Regions({0: np.zeros((4, 4), np.float32)}, "keep")
    notes = regions.notes(2)
    assert any("style 1's region is empty" in n for n in notes)
    assert any("style 2 has no region" in n for n in notes)
    assert Regions({0: np.ones((4, 4), np.float32)}, "styles").notes(2) == []


def test_style_source_masks_are_recorded_and_an_all_black_one_refused(capsys, pics, tmp_path):
    out = tmp_path / "out.png"
    code, err = run_cli(capsys, "transfer", pics["photo"], pics["red"], "--style-source-mask",
                        f"1:{pics['left']}", "-o", out, "--steps", "2", *SMALL)  # fmt: skip
    assert code == 0, err
    record = read_metadata(out)["regions"]
    assert record["masks"] == [] and [m["style"] for m in record["sources"]] == [1]
    restored, warnings = decode_regions(record)
    assert warnings == [] and restored is not None and list(restored.sources) == [0]
    black = tmp_path / "black.png"
    Image.new("L", (8, 8), 0).save(black)
    code, err = run_cli(capsys, "transfer", pics["photo"], pics["red"], "--style-source-mask",
                        f"1:{black}", "-o", tmp_path / "x.png", "--steps", "2", *SMALL)  # fmt: skip
    assert code == 2 and "all black" in err and err.count("\n") == 1, err
