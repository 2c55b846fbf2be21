"""Continuing a run (core.session.continuation + RunSession(first_step=...)): the window's
Continue and the CLI recipe go on from the picture, count their steps on, and end no worse."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from nst_desktop.core.images import read_metadata, save_image
from nst_desktop.core.session import ImagePolicy, RunInputs, RunSession, continuation
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random

_WEIGHTS = {}


def _random_weights(source, fmt, cancelled):
    if "w" not in _WEIGHTS:
        _WEIGHTS["w"] = load_random(0)
    return _WEIGHTS["w"]


@pytest.fixture
def inputs(tmp_path):
    rng = np.random.default_rng(5)
    for name in ("c.png", "s.png"):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(tmp_path / name)
    return RunInputs.of(tmp_path / "c.png", [(tmp_path / "s.png", 1.0)])


def _run(settings, inputs, first_step=0):
    session = RunSession(
        settings,
        inputs,
        weights=_random_weights,
        images=ImagePolicy(preview=lambda step: True),
        first_step=first_step,
    )
    records = list(session.records())
    return session.result, records


def test_continuing_starts_from_the_picture_counts_on_and_ends_no_worse(inputs, tmp_path):
    settings = RunSettings(
        size=32, steps=8, weights="random", device="cpu", scales=2, coarse_steps=4
    )
    first, records = _run(settings, inputs)
    assert first.status == "done" and first.iterations == 8 + settings.coarse_steps
    done, loss_before = first.iterations, records[-1].loss
    picture = save_image(first.image, tmp_path / "result.png", metadata=first.metadata)

    more = continuation(settings, picture, 8)
    assert (more.init, more.steps, more.scales) == (str(picture), 8, 1)
    assert more.content_weight == settings.content_weight and more.seed == settings.seed
    second, records = _run(more, inputs, first_step=done)
    assert records[0].step == done + 1 and records[0].total == done + 8
    assert np.array_equal(records[0].image, first.image)  # it starts from the picture
    assert second.status == "done" and second.iterations == done + 8
    assert second.metadata["iterations"] == done + 8
    assert records[-1].loss <= loss_before
    assert read_metadata(picture)["iterations"] == done
