"""The bundled sample images exist, are usable, and are remade identically by their script."""

from __future__ import annotations

import importlib.util

import numpy as np
import pytest
from PIL import Image

from nst_desktop.core.images import load_image
from nst_desktop.core.paths import resources_dir

NAMES = ("content_landscape.png", "style_swirls.png", "style_mosaic.png", "style_strokes.png")


def _script():
    path = resources_dir() / "make_samples.py"
    spec = importlib.util.spec_from_file_location("make_samples", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("name", NAMES)
def test_sample_exists_and_is_sane(name):
    path = resources_dir() / "samples" / name
    assert path.stat().st_size < 600 * 1024
    with Image.open(path) as im:
        assert im.format == "PNG" and im.mode == "RGB"
        w, h = im.size
    assert 256 <= min(w, h) and max(w, h) <= 1024
    arr = np.asarray(load_image(path), np.float32)
    # not flat: real structure at fine and coarse scales
    assert arr.std() > 25
    assert np.abs(np.diff(arr, axis=1)).mean() > 2


def test_content_is_landscape_and_styles_square():
    with Image.open(resources_dir() / "samples" / NAMES[0]) as im:
        assert im.width > im.height
    for name in NAMES[1:]:
        with Image.open(resources_dir() / "samples" / name) as im:
            assert im.width == im.height


def test_script_is_deterministic_and_matches_committed(tmp_path):
    module = _script()
    assert module.main([str(tmp_path)]) == 0
    for name in NAMES:
        fresh = np.asarray(Image.open(tmp_path / name))
        committed = np.asarray(Image.open(resources_dir() / "samples" / name))
        assert fresh.shape == committed.shape
        # the same numpy/Pillow reproduce the pixels; allow tiny drift from other versions
        assert np.abs(fresh.astype(np.int16) - committed).mean() < 2.0, name
    again = tmp_path / "again"
    module.main([str(again)])
    for name in NAMES:
        assert (again / name).read_bytes() == (tmp_path / name).read_bytes()
