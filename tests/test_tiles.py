"""Tiled refinement (core/tiles.py, core/tiled.py): the geometry covers every pixel once in
weight, a tiled run stops with a whole picture, one tile is the untiled run, and the command
line takes a memory ceiling and a tile size."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch
from PIL import Image

from nst_desktop import cli
from nst_desktop.core import tile_targets, tiled
from nst_desktop.core.optimize import DONE, STOPPED, Inputs, RunControl, run
from nst_desktop.core.regions import Regions
from nst_desktop.core.settings import RunSettings, SettingsError, parse_memory
from nst_desktop.core.stages import StageKind
from nst_desktop.core.tiles import (
    feather_weights,
    margin_for,
    overlap_for,
    padded,
    plan_tiles,
    spans,
    tile_boxes,
)
from nst_desktop.core.weights import load_random

CPU = torch.device("cpu")

SHAPES = [(96, 96), (97, 61), (61, 97), (200, 333), (48, 48), (49, 1), (1000, 257)]
TILES = [32, 48, 64, 100]


@pytest.mark.parametrize("tile", TILES)
@pytest.mark.parametrize("shape", SHAPES)
def test_boxes_cover_every_pixel_and_weights_add_up_to_one(shape, tile):
    h, w = shape
    overlap = overlap_for(tile)
    boxes = tile_boxes(h, w, tile, overlap)
    covered = np.zeros(shape, int)
    total = np.zeros(shape, np.float64)
    for (t, left, b, r), weight in zip(boxes, feather_weights(h, w, tile, overlap), strict=True):
        assert 0 <= t < b <= h and 0 <= left < r <= w
        assert b - t <= tile and r - left <= tile
        assert weight.shape == (b - t, r - left) and weight.min() > 0
        covered[t:b, left:r] += 1
        total[t:b, left:r] += weight
    assert covered.min() >= 1
    np.testing.assert_allclose(total, 1.0, atol=1e-6)


def test_spans_overlap_as_asked_and_stay_equal():
    parts = spans(1000, 100, 25)
    sizes = {b - a for a, b in parts}
    assert len(sizes) == 1 and sizes.pop() <= 100
    overlaps = [parts[k][1] - parts[k + 1][0] for k in range(len(parts) - 1)]
    assert all(24 <= o <= 26 for o in overlaps)
    # the ramps of one span's two sides never meet: next-but-one starts after this one ends
    assert all(parts[k + 2][0] >= parts[k][1] for k in range(len(parts) - 2))
    assert spans(80, 100, 25) == [(0, 80)]


def test_padding_stays_inside_and_is_aligned():
    assert padded((0, 0, 48, 48), 16, 96, 96) == (0, 0, 64, 64)
    assert padded((40, 40, 96, 90), 16, 96, 96) == (24, 24, 96, 96)
    assert all(margin_for(t) % 16 == 0 for t in (32, 100, 1000))


def test_memory_sizes_parse_and_refuse_with_one_sentence():
    assert parse_memory("3GB") == 3 * 2**30
    assert parse_memory("1.5GB") == int(1.5 * 2**30)
    assert parse_memory("800MB") == 800 * 2**20
    assert parse_memory("") is None
    for bad in ("3", "lots", "-1GB", "1e3GB", "10MB"):
        with pytest.raises(SettingsError, match=r"^Memory size .*\.$"):
            parse_memory(bad)


def test_the_plan_tiles_only_what_does_not_fit():
    small = RunSettings(size=64, steps=3)
    assert plan_tiles(small, (64, 48), 8 * 2**30) is None  # fits: the run is unchanged
    assert plan_tiles(RunSettings(mode="sweep", size=64, tile=32), (64, 48), None) is None
    big = RunSettings(size=4096, steps=20)
    p = plan_tiles(big, (3000, 2000), int(1.5 * 2**30))
    assert p is not None and p.tiled[0].shape == (2731, 4096)
    assert p.peak_bytes <= 1.5 * 2**30
    assert p.whole and all(s.size < 4096 for s in p.whole)
    assert sum(s.kind == StageKind.TILE for s in p.stages) == len(p.tiled[0].boxes)
    assert "tiles" in p.summary() and "1.5 GB" in p.summary()
    with pytest.raises(SettingsError, match="memory ceiling"):
        plan_tiles(big, (3000, 2000), 300 * 2**20)


@pytest.fixture(scope="module")
def engine():
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:72, 0:96]
    content = np.stack([x * 2, y * 3, (x + y)], -1).clip(0, 255).astype(np.uint8)
    style = rng.integers(0, 255, (40, 40, 3), dtype=np.uint8)
    inputs = Inputs(Image.fromarray(content), [Image.fromarray(style)])
    return inputs, load_random(0).features


def test_stop_mid_tile_hands_back_the_whole_picture(engine):
    inputs, features = engine
    settings = RunSettings(size=96, steps=3, coarse_steps=1, tile=48, optimizer="adam")
    p = plan_tiles(settings, inputs.content.size, None)
    assert len(p.tiled[0].boxes) == 6
    control = RunControl()
    records = []
    for rec in tiled.run(settings, inputs, features, torch.device("cpu"), p, control=control):
        records.append(rec)
        if rec.stage == 2 and not rec.stage_done:  # the first evaluation of tile 2
            control.stop()
    last = records[-1]
    assert last.status == STOPPED and last.stage_label.startswith("tile 2/6")
    assert last.image is not None and last.image.shape == (72, 96, 3)
    assert sum(r.final for r in records) == 1


def test_one_tile_over_everything_is_the_untiled_run(engine):
    inputs, features = engine
    settings = RunSettings(
        size=64, steps=3, coarse_steps=2, scales=2, tile=64, normalization="relative"
    )
    p = plan_tiles(settings, inputs.content.size, None)
    assert len(p.tiled[0].boxes) == 1 and len(p.whole) == 1
    whole = list(run(settings, inputs, features, torch.device("cpu")))
    tiles = list(tiled.run(settings, inputs, features, torch.device("cpu"), p))
    assert whole[-1].status == tiles[-1].status == DONE
    assert [r.step for r in whole] == [r.step for r in tiles]
    assert tiles[-1].loss == whole[-1].loss
    np.testing.assert_array_equal(tiles[-1].image, whole[-1].image)


def test_the_picture_keeps_what_each_tile_was_judged_on(engine, monkeypatch):
    """A tile is optimized through the blend that pastes it: the loss of its last image is the
    loss of the picture's crop after the paste, and nothing outside its box moves."""
    from nst_desktop.core import optimize
    from nst_desktop.core.losses import Objective

    inputs, features = engine
    settings = RunSettings(size=96, steps=3, coarse_steps=1, tile=48)
    p = plan_tiles(settings, inputs.content.size, None)
    seen: list[tuple] = []
    kept: list[torch.Tensor] = []
    records = optimize._StageLoop.records

    def keep_last(self, start):
        yield from records(self, start)
        kept.append(self.kept.detach().clone())

    tile_optimize = tiled._Tile.optimize

    def watch(self, model, stage, content_img, targets, step0, bf16):
        before = self.canvas.clone()
        made = tiled._objective
        objectives = []
        monkeypatch.setattr(
            tiled, "_objective", lambda *a: objectives.append(made(*a)) or objectives[-1]
        )
        yield from tile_optimize(self, model, stage, content_img, targets, step0, bf16)
        monkeypatch.setattr(tiled, "_objective", made)
        seen.append((self, before, self.canvas.clone(), objectives[0]))

    monkeypatch.setattr(optimize._StageLoop, "records", keep_last)
    monkeypatch.setattr(tiled._Tile, "optimize", watch)
    for _ in tiled.run(settings, inputs, features, torch.device("cpu"), p):
        pass
    tiles = kept[-len(seen) :]  # the whole scales' loops come first
    assert len(seen) == len(p.tiled[0].boxes) == 6
    for (tile, before, after, objective), last in zip(seen, tiles, strict=True):
        t, left, b, r = tile.box
        moved = (after != before).any(dim=1)[0]
        assert not moved[:t].any() and not moved[b:].any()
        assert not moved[:, :left].any() and not moved[:, r:].any()
        assert moved[t:b, left:r].any()
        ct, cl, cb, cr = tile.crop
        with torch.no_grad():
            judged = float(objective(last)[0])
            pasted = float(Objective.__call__(objective, after[:, :, ct:cb, cl:cr])[0])
        assert pasted == pytest.approx(judged, rel=1e-5)


def test_the_running_sums_follow_the_picture_tile_after_tile(engine, monkeypatch):
    """The whole-picture style term rests on running sums of F Fᵀ; after every tile they are
    the picture's own sums, computed afresh, not a drift of the boxes' crop features."""
    inputs, features = engine
    settings = RunSettings(size=96, steps=2, coarse_steps=1, tile=48)
    p = plan_tiles(settings, inputs.content.size, None)
    made = tiled.global_targets
    seen: dict = {}

    def keep(ctx, model, *a):
        seen["ctx"], seen["model"], seen["targets"] = ctx, model, made(ctx, model, *a)
        return seen["targets"]

    tile_optimize = tiled._Tile.optimize
    gaps: list[float] = []

    def check(self, *a):
        yield from tile_optimize(self, *a)
        running = seen["targets"].picture
        fresh, _ = tile_targets.feature_sums(
            seen["ctx"], seen["model"], self.canvas, list(running), gram=True, bf16=False
        )
        gaps.append(max(float((running[k] - fresh[k]).norm() / fresh[k].norm()) for k in fresh))

    monkeypatch.setattr(tiled, "global_targets", keep)
    monkeypatch.setattr(tiled._Tile, "optimize", check)
    for _ in tiled.run(settings, inputs, features, CPU, p):
        pass
    assert len(gaps) == len(p.tiled[0].boxes) == 6
    assert max(gaps) < 1e-4, gaps


def test_a_style_source_that_vanishes_at_a_layer_gives_the_whole_style_there(engine, monkeypatch):
    """As the whole run does (core/guided.py): where a source mask is empty at a layer's
    depth, the style's Gram matrix there is the whole image's, never one of nothing."""
    from nst_desktop.core import optimize
    from nst_desktop.core.images import to_tensor
    from nst_desktop.core.model import VGGFeatures

    inputs, features = engine
    settings = RunSettings(size=96, steps=1, coarse_steps=1, tile=48)
    p = plan_tiles(settings, inputs.content.size, None)
    ctx = optimize.run_context(settings, inputs, features, CPU, kind=tiled._Context, plan=p)
    layers = ["relu1_1", "relu3_1", "relu5_1"]
    model = VGGFeatures(features, layers, settings.pool)
    image = to_tensor(inputs.styles[0].resize((64, 64)))
    corner = torch.zeros(1, 1, 64, 64)
    corner[..., :16, :16] = 1.0  # a sixteenth of the style image
    whole = tile_targets.style_grams(ctx, model, image, layers, False, None)
    part = tile_targets.style_grams(ctx, model, image, layers, False, corner)
    for k in layers:
        assert not torch.allclose(part[k], whole[k], rtol=0.05), k
    monkeypatch.setattr(tile_targets, "EMPTY_SHARE", 0.1)  # the corner now counts as vanished
    vanished = tile_targets.style_grams(ctx, model, image, layers, False, corner)
    for k in layers:
        torch.testing.assert_close(vanished[k], whole[k])


def test_the_command_line_takes_a_ceiling_and_a_tile_size(capsys, tmp_path, engine):
    inputs, _ = engine
    content, style = tmp_path / "c.png", tmp_path / "s.png"
    inputs.content.save(content)
    inputs.styles[0].save(style)
    out = tmp_path / "out.png"
    args = ["transfer", content, style, "-o", out, "--weights", "random", "--size", "48"]
    args += ["--steps", "1", "--coarse-steps", "1", "--max-memory", "2GB", "--tile", "32"]
    code = cli.main([str(a) for a in args])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "plan: whole at" in err and "tiles of up to 32 px" in err
    assert Image.open(out).size == (48, 36)
    for bad in (["--max-memory", "lots"], ["--max-memory", "3"], ["--tile", "8"]):
        code = cli.main([str(a) for a in args[:-4] + bad])
        err = capsys.readouterr().err.strip()
        assert code == 2 and len(err.splitlines()) == 1 and "Traceback" not in err, err


def _guided_style(settings, inputs, features, regions, pixels) -> float:
    """The style term of ``pixels`` with ``regions``, computed on the whole picture."""
    from nst_desktop.core.images import resize_longest, to_tensor
    from nst_desktop.core.losses import Objective
    from nst_desktop.core.model import VGGFeatures
    from nst_desktop.core.optimize import _region_args

    h, w = pixels.shape[:2]
    styles = [to_tensor(resize_longest(s, max(h, w))) for s in inputs.styles]
    content, style = settings.loss_layers()
    objective = Objective(
        VGGFeatures(features, list(content) + list(style), settings.pool),
        content_image=to_tensor(resize_longest(inputs.content, max(h, w))),
        content_layers=content,
        style_images=styles,
        style_layers=style,
        content_weight=1.0,
        style_weight=1.0,
        tv_weight=0.0,
        normalization=settings.normalization,
        **_region_args(regions, "transfer", styles, (w, h), CPU),
    )
    x = torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        return float(objective(x)[1][1])


def test_tiles_give_each_region_its_own_style(engine):
    """Two styles, each with half of the picture: the tiles refine each half toward its own
    style, so the result's guided style term is far lower than that of the run with the masks
    swapped (the whole pass before the tiles is one step: the tiles make the difference)."""
    inputs, features = engine
    h, w = inputs.content.size[1], inputs.content.size[0]
    left = np.zeros((h, w), np.float32)
    left[:, : w // 2] = 1.0
    y, x = np.mgrid[0:40, 0:40]
    stripes = np.stack([(x % 8 < 4) * 255, (y % 6 < 3) * 200, x * 0 + 40], -1).astype(np.uint8)
    two = Inputs(inputs.content, [inputs.styles[0], Image.fromarray(stripes)])
    settings = RunSettings(
        size=64, steps=12, coarse_steps=1, tile=32, optimizer="adam", lr=0.05, init="content"
    )
    p = plan_tiles(settings, two.content.size, None)
    assert len(p.tiled[0].boxes) > 2 and p.whole[0].steps == 1
    as_painted = Regions({0: left, 1: 1.0 - left})
    swapped = Regions({0: 1.0 - left, 1: left})
    images = {}
    for name, regions in (("painted", as_painted), ("swapped", swapped)):
        guided = Inputs(two.content, two.styles, regions)
        last = list(tiled.run(settings, guided, features, CPU, p))[-1]
        assert last.status == DONE
        images[name] = last.image
    painted = _guided_style(settings, two, features, as_painted, images["painted"])
    crossed = _guided_style(settings, two, features, as_painted, images["swapped"])
    assert painted < 0.7 * crossed, (painted, crossed)


def test_a_tiles_style_term_is_the_whole_pictures(engine):
    """Left half one texture, right half another: the style term a tile optimizes is the whole
    picture's (scaled by the crop's share), not that of the tile's own Gram matrix, so refining
    the tiles one by one descends the whole picture's loss."""
    from nst_desktop.core import optimize
    from nst_desktop.core.images import to_tensor
    from nst_desktop.core.losses import Objective
    from nst_desktop.core.model import VGGFeatures
    from nst_desktop.core.stages import plan as plan_stages

    inputs, features = engine
    settings = RunSettings(size=96, steps=1, coarse_steps=1, tile=48, normalization="paper")
    p = plan_tiles(settings, inputs.content.size, None)
    ctx = optimize.run_context(settings, inputs, features, CPU, kind=tiled._Context, plan=p)
    stage = plan_stages(settings)[-1]
    stage = dataclasses.replace(stage, style_layers={"relu3_1": 1.0})  # one layer: one share
    style_layers = dict(stage.style_layers)
    model = VGGFeatures(features, list(style_layers), settings.pool)
    rng = np.random.default_rng(3)
    pixels = rng.integers(0, 255, (72, 96, 3), dtype=np.uint8)
    pixels[:, 48:] = pixels[:, 48:] // 4 + 150  # the right half: another texture
    canvas = to_tensor(Image.fromarray(pixels))
    style = to_tensor(inputs.styles[0].resize((96, 96)))
    whole = Objective(
        model, content_image=None, content_layers={}, style_images=[style],
        style_layers=style_layers, content_weight=0.0, style_weight=settings.style_weight,
        tv_weight=0.0,
    )  # fmt: skip
    with torch.no_grad():
        whole_style = float(whole(canvas)[1][1])
    grams = {k: whole.style_targets[k] for k in style_layers}
    targets = tile_targets.Targets(grams, {})
    targets.picture, targets.cells = tile_targets.feature_sums(
        ctx, model, canvas, list(style_layers), gram=True, bf16=False
    )
    box = p.tiled[0].boxes[0]  # the top left tile: all of the first texture
    tile = tiled._Tile(ctx, box, torch.ones(1, 1, 1, 1), canvas, lambda x: x)
    t, left, b, r = tile.crop
    crop = canvas[:, :, t:b, left:r]
    objective = tiled._objective(model, settings, stage, None, targets, False, tile.crop)
    with torch.no_grad():
        own = float(objective(crop)[1][1])  # the tile's own Gram matrix against the target
        assert tile._whole_style(objective, model, crop, targets, False)
        term = float(objective(crop)[1][1])
    d = tile_targets.DOWN["relu3_1"]
    share = (crop.shape[-2] // d) * (crop.shape[-1] // d) / targets.cells["relu3_1"]
    assert term * share == pytest.approx(whole_style, rel=0.1)
    assert abs(own / whole_style - 1) > 0.3  # the two aims differ on this picture
