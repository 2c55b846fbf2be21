"""Presets: every bundled one is valid and distinct; damaged files are skipped; user round trips."""

from __future__ import annotations

import dataclasses
import json

import numpy as np
import pytest
import torch
from PIL import Image

from nst_desktop.core import presets as P
from nst_desktop.core.optimize import DONE, Inputs, run
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.weights import load_random


def _bundled() -> list[P.Preset]:
    presets, warnings = P.list_presets()
    assert warnings == []
    return [p for p in presets if p.bundled]


def test_at_least_eight_bundled_presets_load_and_validate():
    bundled = _bundled()
    assert len(bundled) >= 8
    names = [p.name.casefold() for p in bundled]
    assert len(set(names)) == len(names)
    for preset in bundled:
        assert preset.description and len(preset.description) < 200
        assert not set(P.MACHINE_KNOBS) & set(preset.settings)
        # a full settings block: every non-machine field is set
        expected = {f.name for f in dataclasses.fields(RunSettings)} - set(P.MACHINE_KNOBS)
        assert set(preset.settings) == expected, preset.name
        settings, warnings = RunSettings.from_dict(preset.settings, strict=True)
        assert warnings == []
        settings.validate()


def test_bundled_presets_differ_meaningfully():
    bundled = _bundled()
    blocks = [json.dumps(p.settings, sort_keys=True) for p in bundled]
    assert len(set(blocks)) == len(blocks)
    base = RunSettings()
    for preset in bundled:
        new, changed, _ = P.apply_preset(preset, base)
        if preset.name.startswith("Paper"):
            continue  # the defaults are the paper's setting
        assert changed, f"{preset.name} changes nothing over the defaults"
        assert all(getattr(new, c) != getattr(base, c) for c in changed)


def test_paper_preset_is_the_papers_setting():
    p = P.find_preset("paper (gatys et al.)")
    s = p.settings
    assert s["content_layers"] == {"relu4_2": 1.0}
    assert s["style_layers"] == {f"relu{i}_1": 1.0 for i in range(1, 6)}
    assert (s["pool"], s["optimizer"], s["size"], s["init"]) == ("avg", "lbfgs", 512, "noise")


def test_mode_presets_exist():
    modes = {p.settings["mode"] for p in _bundled()}
    assert {"transfer", "style-rep", "content-rep"} <= modes
    assert any(p.settings["color"] == "luminance" for p in _bundled())


def test_apply_keeps_machine_knobs_and_reports_changes():
    current = RunSettings(device="cpu", threads=3, weights="random", size=700)
    preset = P.find_preset("Fast preview")
    new, changed, warnings = P.apply_preset(preset, current)
    assert (new.device, new.threads, new.weights) == ("cpu", 3, "random")
    assert new.size == 256 and new.steps == 100
    assert "size" in changed and "steps" in changed
    assert not {"device", "threads", "weights"} & set(changed)
    assert warnings == []
    # applying it again changes nothing
    assert P.apply_preset(preset, new)[1] == []


def test_partial_preset_keeps_other_values(tmp_path):
    f = tmp_path / "partial.json"
    f.write_text(json.dumps({"name": "Partial", "settings": {"tv_weight": 3.0}}))
    preset, warnings = P.load_preset_file(f)
    assert warnings == [] and preset.settings == {"tv_weight": 3.0}
    current = RunSettings(size=333, seed=9)
    new, changed, _ = P.apply_preset(preset, current)
    assert (new.size, new.seed, new.tv_weight) == (333, 9, 3.0) and changed == ["tv_weight"]


def test_partial_preset_that_clashes_falls_back_to_defaults(tmp_path):
    f = tmp_path / "c.json"
    f.write_text(json.dumps({"name": "C", "settings": {"mode": "content-rep"}}))
    preset, _ = P.load_preset_file(f)
    current = RunSettings(content_layers={"relu1_1": 1.0, "relu2_1": 1.0}, device="cpu")
    new, changed, warnings = P.apply_preset(preset, current)
    assert new.mode == "content-rep" and len(new.content_layers) == 1 and new.device == "cpu"
    assert warnings and "defaults" in warnings[0]


def test_find_by_slug_stem_and_path(tmp_path):
    assert P.find_preset("fast-preview").name == "Fast preview"
    assert P.find_preset("06_fast_preview").name == "Fast preview"
    path = P.bundled_dir() / "06_fast_preview.json"
    assert P.find_preset(str(path)).name == "Fast preview"
    with pytest.raises(P.PresetError, match="Fast preview"):
        P.find_preset("no such thing")
    with pytest.raises(P.PresetError, match="does not exist"):
        P.find_preset(str(tmp_path / "missing.json"))


# --------------------------------------------------------------------------- damaged files
@pytest.mark.parametrize(
    "content, match",
    [
        ("{not json", "not valid JSON"),
        ("[1, 2]", "not a JSON object"),
        ('{"settings": {}}', "no name"),
        ('{"name": "  ", "settings": {}}', "no name"),
        ('{"name": "X"}', "no settings"),
        ('{"name": "X", "settings": [1]}', "no settings"),
        (
            '{"name": "X", "settings": {"mode": "content-rep", "content_layers": '
            '{"relu1_1": 1, "relu2_1": 1}}}',
            "valid run",
        ),
        (b"\xff\xfe\x00garbage", "not valid JSON"),
    ],
)
def test_damaged_files_are_rejected_with_a_sentence(tmp_path, content, match):
    f = tmp_path / "bad.json"
    f.write_bytes(content if isinstance(content, bytes) else content.encode())
    with pytest.raises(P.PresetError, match=match):
        P.load_preset_file(f)


def test_huge_file_is_refused_unread(tmp_path):
    f = tmp_path / "huge.json"
    f.write_text('{"name": "H", "settings": {}, "description": "' + "x" * 70_000 + '"}')
    with pytest.raises(P.PresetError, match="larger than 64 KB"):
        P.load_preset_file(f)


def test_bad_fields_are_dropped_with_warnings(tmp_path):
    f = tmp_path / "w.json"
    data = {
        "name": "W",
        "colour": "x",
        "version": 7,
        "settings": {
            "size": "big",
            "steps": -5,
            "tv_weight": 2.0,
            "device": "cuda",
            "bogus": 1,
            "style_layers": {"relu9_9": 1},
        },
    }
    f.write_text(json.dumps(data))
    preset, warnings = P.load_preset_file(f)
    assert preset.settings == {"tv_weight": 2.0}
    text = " ".join(warnings)
    for word in ("colour", "newer", "size", "Iterations", "device", "bogus", "relu9_9"):
        assert word in text, word


def test_list_presets_skips_damaged_user_files(tmp_path):
    folder = P.user_dir()
    folder.mkdir(parents=True)
    (folder / "broken.json").write_text("{oops")
    (folder / "list.json").write_text("[]")
    (folder / "ok.json").write_text(json.dumps({"name": "Mine", "settings": {"size": 300}}))
    presets, warnings = P.list_presets()
    user = [p for p in presets if not p.bundled]
    assert [p.name for p in user] == ["Mine"]
    assert len(warnings) == 2 and all("skipped" in w for w in warnings)
    assert presets[0].bundled  # bundled first


# --------------------------------------------------------------------------- user presets
def test_save_rename_delete_round_trip():
    s = RunSettings(size=321, tv_weight=4.0, style_layers={"relu2_1": 2.0}, device="cpu")
    saved = P.save_user_preset("My look", "warm and soft", s)
    assert saved.path is not None and saved.path.parent == P.user_dir() and not saved.bundled
    on_disk = json.loads(saved.path.read_text())
    assert on_disk["version"] == 1 and "device" not in on_disk["settings"]
    found = P.find_preset("my look")
    assert found.settings["size"] == 321 and found.description == "warm and soft"
    new, _, _ = P.apply_preset(found, RunSettings(device="cuda", threads=2))
    assert new.style_layers == {"relu2_1": 2.0} and new.device == "cuda" and new.threads == 2

    with pytest.raises(P.PresetError, match="already exists"):
        P.save_user_preset("MY LOOK", "", s)
    again = P.save_user_preset("My look", "v2", dataclasses.replace(s, size=400), overwrite=True)
    assert again.path == saved.path and P.find_preset("My look").settings["size"] == 400

    renamed = P.rename_user_preset(again, "Evening")
    assert not saved.path.exists() and renamed.path.exists()
    assert P.find_preset("evening").settings["size"] == 400
    with pytest.raises(P.PresetError):
        P.find_preset("My look")

    P.delete_user_preset(renamed)
    assert not renamed.path.exists()
    assert all(p.bundled for p in P.list_presets()[0])


def test_bundled_presets_are_protected():
    paper = P.find_preset("Paper (Gatys et al.)")
    with pytest.raises(P.PresetError, match="bundled"):
        P.save_user_preset("paper (gatys et al.)", "", RunSettings())
    with pytest.raises(P.PresetError, match="bundled"):
        P.delete_user_preset(paper)
    with pytest.raises(P.PresetError, match="bundled"):
        P.rename_user_preset(paper, "Other")
    with pytest.raises(P.PresetError, match="name"):
        P.save_user_preset("   ", "", RunSettings())
    assert paper.path.exists()


def test_rename_refuses_a_taken_name():
    a = P.save_user_preset("A", "", RunSettings())
    P.save_user_preset("B", "", RunSettings())
    with pytest.raises(P.PresetError, match="already exists"):
        P.rename_user_preset(a, "b")


def test_import_and_export(tmp_path):
    src = P.find_preset("Bold strokes")
    out = P.export_preset(src, tmp_path / "bold.json")
    loaded, warnings = P.load_preset_file(out)
    assert warnings == [] and loaded.settings == src.settings and loaded.name == src.name
    imported = P.import_preset(out)  # the bundled name is taken: a numbered copy
    assert imported.name == "Bold strokes (2)" and not imported.bundled
    assert imported.path.parent == P.user_dir()
    assert P.find_preset("bold strokes (2)").settings == src.settings
    again = P.import_preset(out)
    assert again.name == "Bold strokes (3)"
    bad = tmp_path / "bad.json"
    bad.write_text("{")
    with pytest.raises(P.PresetError):
        P.import_preset(bad)
    assert len([p for p in P.list_presets()[0] if not p.bundled]) == 2


def test_export_to_missing_folder_leaves_nothing(tmp_path):
    with pytest.raises(P.PresetError, match="does not exist"):
        P.export_preset(P.find_preset("Soft blend"), tmp_path / "nope" / "x.json")
    assert not (tmp_path / "nope").exists()


# --------------------------------------------------------------------------- loss balance
PAPER_PRESETS = {"Paper (Gatys et al.)", "Texture synthesis", "Content study", "Layer sweep"}


def test_looks_are_relative_and_the_paper_and_studies_are_paper():
    bundled = _bundled()
    assert PAPER_PRESETS <= {p.name for p in bundled}
    for preset in bundled:
        expected = "paper" if preset.name in PAPER_PRESETS else "relative"
        assert preset.settings["normalization"] == expected, preset.name


def test_an_old_user_preset_applies_with_the_papers_formulas():
    folder = P.user_dir()
    folder.mkdir(parents=True)
    block = P.settings_block(RunSettings(style_weight=500.0))
    del block["normalization"]  # saved before the field existed
    (folder / "old.json").write_text(json.dumps({"name": "Old look", "settings": block}))
    new, changed, warnings = P.apply_preset(P.find_preset("Old look"), RunSettings())
    assert new.normalization == "paper" and new.style_weight == 500.0 and warnings == []
    assert "normalization" in changed


def test_every_bundled_preset_runs():
    """Each preset, shrunk to 40 px and 2 iterations a stage, runs to the end on random weights."""
    features = load_random(0).features
    rng = np.random.default_rng(1)
    content = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    style = Image.fromarray(rng.integers(0, 256, (32, 32, 3), dtype=np.uint8))
    for preset in _bundled():
        settings, _, _ = P.apply_preset(preset, RunSettings(weights="random", device="cpu"))
        small = dataclasses.replace(settings, size=40, steps=2, coarse_steps=2)
        final = list(run(small, Inputs(content, [style]), features, torch.device("cpu")))[-1]
        assert final.status == DONE and final.image is not None, preset.name
        assert np.isfinite(final.loss), preset.name


def test_a_look_keeps_the_chosen_quality_and_seed_a_quality_preset_sets_it():
    current = RunSettings(size=300, steps=40, scales=2, coarse_steps=20, seed=7, save_every=10)
    for preset in _bundled():
        new, changed, _ = P.apply_preset(preset, current)
        quality = {k: getattr(new, k) for k in P.QUALITY_KNOBS}
        if preset.quality:
            assert new.size == preset.settings["size"], preset.name
        else:
            assert quality == {"size": 300, "steps": 40, "scales": 2, "coarse_steps": 20}
            assert not set(P.QUALITY_KNOBS) & set(changed), preset.name
        assert (new.seed, new.save_every) == (7, 10), preset.name
    assert {p.name for p in _bundled() if p.quality} >= {"Fast preview"}
    assert not P.find_preset("Fine texture").quality


def test_the_quality_flag_round_trips_and_a_bad_one_is_ignored(tmp_path):
    f = tmp_path / "q.json"
    f.write_text(json.dumps({"name": "Q", "quality": True, "settings": {"size": 128}}))
    preset, warnings = P.load_preset_file(f)
    assert preset.quality and warnings == [] and preset.to_file_dict()["quality"] is True
    assert P.apply_preset(preset, RunSettings(size=512))[0].size == 128
    f.write_text(json.dumps({"name": "Q", "quality": "yes", "settings": {"size": 128}}))
    preset, warnings = P.load_preset_file(f)
    assert not preset.quality and "quality" in warnings[0]
    assert P.apply_preset(preset, RunSettings(size=512))[0].size == 512
