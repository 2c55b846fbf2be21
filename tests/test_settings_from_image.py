"""Exports remember their settings, and a run restored from them reproduces the same pixels."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from nst_desktop import cli
from nst_desktop.core.images import read_metadata, save_image
from nst_desktop.core.settings import RunSettings


@pytest.fixture()
def inputs(tmp_path):
    yy, xx = np.mgrid[0:24, 0:32]
    content = np.stack([xx * 8, yy * 10, (xx + yy) * 4], -1).astype(np.uint8)
    style = np.random.default_rng(5).integers(0, 256, (20, 20, 3), dtype=np.uint8)
    Image.fromarray(content).save(tmp_path / "c.png")
    Image.fromarray(style).save(tmp_path / "s.png")
    return tmp_path / "c.png", tmp_path / "s.png"


def _run(inputs, out, *extra) -> np.ndarray:
    """A CLI run; the weights are this computer's choice, never taken from a picture."""
    c, s = inputs
    code = cli.main(["transfer", str(c), str(s), "-o", str(out), "-q", "--weights", "random",
                     *extra])  # fmt: skip
    assert code == 0
    return np.asarray(Image.open(out).convert("RGB"))


TINY = [
    "--size", "32", "--steps", "4", "--weights", "random", "--seed", "7",
    "--content-layer", "relu2_1", "--style-layers", "relu1_1,relu2_1:0.5",
    "--style-weight", "20", "--tv-weight", "0.01", "--optimizer", "adam", "--lr", "0.05",
]  # fmt: skip


def test_png_export_embeds_full_settings_and_version(inputs, tmp_path):
    _run(inputs, tmp_path / "a.png", *TINY)
    meta = read_metadata(tmp_path / "a.png")
    assert meta["version"] and meta["status"] == "done" and meta["iterations"] == 4
    settings, warnings = RunSettings.from_dict(meta["settings"], strict=True)
    assert warnings == []
    assert settings.seed == 7 and settings.optimizer == "adam" and settings.lr == 0.05
    assert settings.style_layers == {"relu1_1": 1.0, "relu2_1": 0.5}
    assert settings.content_layers == {"relu2_1": 1.0} and settings.weights == "random"
    assert set(meta["settings"]) == set(RunSettings().to_dict())


def test_settings_from_image_reproduces_pixels(inputs, tmp_path):
    first = _run(inputs, tmp_path / "a.png", *TINY)
    again = _run(inputs, tmp_path / "b.png", "--settings-from", str(tmp_path / "a.png"))
    assert np.array_equal(first, again)
    restored = RunSettings.from_dict(read_metadata(tmp_path / "b.png")["settings"])[0]
    assert restored == RunSettings.from_dict(read_metadata(tmp_path / "a.png")["settings"])[0]
    # the comparison can fail: another seed gives another picture
    other = _run(inputs, tmp_path / "other.png", "--settings-from", str(tmp_path / "a.png"),
                 "--seed", "8")  # fmt: skip
    assert not np.array_equal(first, other)
    assert read_metadata(tmp_path / "other.png")["settings"]["seed"] == 8  # options win


@pytest.mark.parametrize("suffix", [".jpg", ".webp", ".tif"])
def test_other_formats_carry_settings(inputs, tmp_path, suffix):
    png = _run(inputs, tmp_path / "a.png", *TINY)
    out = tmp_path / f"a{suffix}"
    _run(inputs, out, *TINY)
    meta = read_metadata(out)
    assert meta is not None and meta["settings"] == read_metadata(tmp_path / "a.png")["settings"]
    if suffix == ".tif":  # lossless: the same pixels
        assert np.array_equal(np.asarray(Image.open(out).convert("RGB")), png)
    again = _run(inputs, tmp_path / "b.png", "--settings-from", str(out))
    assert np.array_equal(again, png)


def test_core_round_trip_through_every_format(tmp_path):
    settings = RunSettings(size=77, style_blend=[1.0, 3.0], color="luminance", lr=None)
    pixels = np.zeros((8, 8, 3), np.uint8)
    for suffix in (".png", ".jpg", ".jpeg", ".webp", ".tif", ".tiff"):
        path = save_image(pixels, tmp_path / f"x{suffix}",
                          metadata={"version": "t", "settings": settings.to_dict()})  # fmt: skip
        data = read_metadata(path)
        assert RunSettings.from_dict(data["settings"], strict=True)[0] == settings, suffix


def test_settings_from_a_foreign_image_is_a_usage_error(inputs, tmp_path, capsys):
    plain = tmp_path / "plain.png"
    Image.new("RGB", (8, 8)).save(plain)
    c, s = inputs
    code = cli.main(["transfer", str(c), str(s), "-o", str(tmp_path / "o.png"),
                     "--settings-from", str(plain)])  # fmt: skip
    assert code == 2
    err = capsys.readouterr().err
    assert "carries no NST Desktop settings" in err and "Traceback" not in err


def test_damaged_embedded_settings_warn_and_fall_back(inputs, tmp_path, capsys):
    bad = {"settings": {"size": 32, "steps": 2, "weights": "random", "tv_weight": "lots",
                        "frobnicate": 1}}  # fmt: skip
    img = save_image(np.zeros((8, 8, 3), np.uint8), tmp_path / "bad.png", metadata=bad)
    out = _run(inputs, tmp_path / "o.png", "--settings-from", str(img))
    assert out.shape[1] == 32
    err = capsys.readouterr().err
    assert "tv_weight" in err and "frobnicate" in err
    assert read_metadata(tmp_path / "o.png")["settings"]["tv_weight"] == 0.0


def test_an_image_from_before_normalization_reproduces_its_pixels(inputs, tmp_path):
    """Its settings carry no 'normalization': they were the paper's formulas, so they load so."""
    paper = _run(inputs, tmp_path / "a.png", *TINY, "--normalization", "paper")
    meta = read_metadata(tmp_path / "a.png")
    del meta["settings"]["normalization"]
    old = save_image(paper, tmp_path / "old.png", metadata=meta)
    again = _run(inputs, tmp_path / "b.png", "--settings-from", str(old))
    assert np.array_equal(again, paper)
    assert read_metadata(tmp_path / "b.png")["settings"]["normalization"] == "paper"
    # the rule matters: the same settings with today's default balance paint another picture
    relative = _run(inputs, tmp_path / "rel.png", *TINY)
    assert read_metadata(tmp_path / "rel.png")["settings"]["normalization"] == "relative"
    assert not np.array_equal(relative, paper)
