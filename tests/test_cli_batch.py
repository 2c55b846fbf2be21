"""``nst-desktop variations`` and ``nst-desktop batch``: a contact sheet with its cells, one look
over many photos; a bad photo is reported and skipped, and every run joins the history."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nst_desktop import cli
from nst_desktop.core.history import History
from nst_desktop.core.images import read_metadata
from nst_desktop.core.settings import RunSettings, SettingsError
from nst_desktop.core.variations import cell_path, parse_vary, variation_cells

FAST = ["--weights", "random", "--size", "32", "--steps", "2", "--quiet"]


@pytest.fixture
def pics(tmp_path) -> dict[str, Path]:
    rng = np.random.default_rng(5)
    paths = {n: tmp_path / f"{n}.png" for n in ("photo", "photo2", "art")}
    for path in paths.values():
        Image.fromarray(rng.integers(0, 255, (24, 32, 3), dtype=np.uint8)).save(path)
    paths["broken"] = tmp_path / "broken.jpg"
    paths["broken"].write_bytes(b"\xff\xd8 not really a jpeg")
    return paths


def _cli(capsys, *args) -> tuple[int, str]:
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def test_variations_write_the_sheet_and_one_picture_per_cell(capsys, pics, tmp_path):
    sheet = tmp_path / "sheet.png"
    code, err = _cli(capsys, "variations", pics["photo"], pics["art"], "-o", sheet,
                     "--vary", "seed=0,1,2", *FAST)  # fmt: skip
    assert code == 0, err
    cells = [cell_path(sheet, i, f"seed {i}") for i in range(3)]
    assert [c.name for c in cells] == [f"sheet-0{i + 1}-seed-{i}.png" for i in range(3)]
    assert [read_metadata(c)["settings"]["seed"] for c in cells] == [0, 1, 2]
    with Image.open(sheet) as img:
        assert img.width > 3 * 32
    assert sorted(e.settings["seed"] for e in History().entries()) == [0, 1, 2]


def test_variations_refuse_a_bad_vary_before_any_run(capsys, pics, tmp_path):
    for vary, words in (("colour=1,2", "KNOB is one of"), ("seed=1", "2 to 16 values"),
                        ("style-weight=1,x", "'x' is not a number"),
                        ("style-scale=1,99", "style-scale=99")):  # fmt: skip
        code, err = _cli(capsys, "variations", pics["photo"], pics["art"], "-o",
                         tmp_path / "s.png", "--vary", vary, *FAST)  # fmt: skip
        assert code == 2 and words in err and len(err.strip().splitlines()) == 1, err
    assert History().entries() == []


def test_variation_cells_over_weights_and_presets():
    base = RunSettings(style_weight=10)
    cells = variation_cells(base, *parse_vary("style_weight=25, 50,100"))
    assert [(c.label, c.settings.style_weight) for c in cells] == [
        ("style weight 25", 25.0), ("style weight 50", 50.0), ("style weight 100", 100.0),
    ]  # fmt: skip
    with pytest.raises(SettingsError, match="No preset is named 'no such preset'"):
        variation_cells(base, "preset", ["no such preset", "x"])
    presets = variation_cells(base, *parse_vary("preset=Strong style,Soft blend"))
    assert [c.label for c in presets] == ["preset Strong style", "preset Soft blend"]
    assert presets[0].settings != presets[1].settings


def test_batch_over_photos_one_broken_and_two_of_the_same_name(capsys, pics, tmp_path):
    other = tmp_path / "other"
    other.mkdir()
    (other / "photo.png").write_bytes(pics["photo2"].read_bytes())
    out = tmp_path / "results"
    code, err = _cli(capsys, "batch", "-o", out, "--style", pics["art"], pics["photo"],
                     pics["broken"], other / "photo.png", *FAST)  # fmt: skip
    assert code == 1  # one failed
    assert sorted(p.name for p in out.iterdir()) == ["photo-2.png", "photo.png"]
    failed = [line for line in err.splitlines() if "failed" in line]
    assert len(failed) == 1 and "broken.jpg" in failed[0] and "Traceback" not in err
    assert len(History().entries()) == 2
