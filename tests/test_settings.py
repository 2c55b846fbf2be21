"""Settings: defaults, ranges, JSON, untrusted input, layer specs, modes, CLI parity."""

from __future__ import annotations

import dataclasses
import json
import math

import pytest

from nst_desktop.core import settings as S
from nst_desktop.core.settings import (
    RunSettings,
    SettingsError,
    applies,
    default,
    field_meta,
    format_layer_spec,
    parse_layer_spec,
)

FIELDS = dataclasses.fields(RunSettings)


def test_defaults_validate():
    assert RunSettings().validate() == RunSettings()
    for mode in S.MODES:
        RunSettings(mode=mode).validate()


@pytest.mark.parametrize("f", FIELDS, ids=lambda f: f.name)
def test_every_default_is_within_its_range_and_documented(f):
    meta = field_meta(f.name)
    value = default(f.name)
    assert meta["help"] and meta["label"]
    assert set(meta["modes"]) <= set(S.MODES) and meta["modes"]
    if meta["choices"] is not None:
        assert value in meta["choices"]
    if meta["min"] is not None and isinstance(value, (int, float)) and value is not None:
        assert meta["min"] <= value <= meta["max"]
    if meta["min"] is not None:
        assert meta["min"] <= meta["max"]


def test_paper_defaults():
    s = RunSettings()
    assert s.pool == "avg" and s.init == "noise" and s.optimizer == "lbfgs"
    assert list(s.style_layers) == ["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"]
    assert s.effective_lr == 1.0 and RunSettings(optimizer="adam").effective_lr == 0.02
    assert RunSettings(lr=0.3).effective_lr == 0.3
    # mutable defaults are not shared between instances
    a, b = RunSettings(), RunSettings()
    a.style_layers["relu5_4"] = 1.0
    a.style_blend.append(1.0)
    assert "relu5_4" not in b.style_layers and b.style_blend == []


def test_json_round_trip():
    s = RunSettings(
        mode="style-rep",
        size=77,
        lr=0.5,
        style_layers={"relu1_1": 0.5, "conv3_1": 2.0},
        style_blend=[1.0, 3.0],
        lbfgs_line_search=True,
        init="/some/file.png",
        device="cuda:1",
    )
    back, warnings = RunSettings.from_json(s.to_json())
    assert back == s and warnings == []
    assert json.loads(s.to_json())["style_layers"] == {"relu1_1": 0.5, "conv3_1": 2.0}


def test_unknown_keys_warn_or_raise():
    s, warnings = RunSettings.from_dict({"size": 64, "colour": "x"}, strict=False)
    assert s.size == 64 and len(warnings) == 1 and "colour" in warnings[0]
    with pytest.raises(SettingsError, match="colour"):
        RunSettings.from_dict({"colour": "x"}, strict=True)


@pytest.mark.parametrize(
    "key, value",
    [
        ("size", "big"),
        ("size", 8),
        ("size", 1e9),
        ("size", 64.5),
        ("size", True),
        ("steps", float("nan")),
        ("lr", -1.0),
        ("lr", float("inf")),
        ("optimizer", "sgd"),
        ("pool", None),
        ("lbfgs_line_search", "yes"),
        ("content_layers", {"relu9_9": 1.0}),
        ("content_layers", {"relu4_2": -1.0}),
        ("content_layers", ["relu4_2"]),
        ("style_layers", {"relu1_1": "heavy"}),
        ("style_blend", [1, "x"]),
        ("style_blend", [1.0] * 100),
        ("style_blend", [-1.0]),
        ("device", "tpu"),
        ("device", "cuda:x"),
        ("init", ""),
        ("weights", ""),
        ("init", "x" * 5000),
        ("seed", -1),
        ("color", "sepia"),
    ],
)
def test_bad_values(key, value):
    with pytest.raises(SettingsError) as info:
        RunSettings.from_dict({key: value}, strict=True)
    assert "\n" not in str(info.value)
    base = RunSettings(size=99)
    s, warnings = RunSettings.from_dict({key: value, "tv_weight": 0.5}, base=base, strict=False)
    assert len(warnings) == 1
    assert getattr(s, key) == getattr(base, key)  # the bad entry kept the base value
    assert s.tv_weight == 0.5 and s.size == 99


def test_integral_floats_are_accepted_for_ints():
    s, w = RunSettings.from_dict({"size": 64.0, "lr": 1, "style_blend": [1, 2]})
    assert s.size == 64 and isinstance(s.size, int) and s.lr == 1.0 and s.style_blend == [1.0, 2.0]
    assert w == []


def test_not_an_object():
    for data in ([1, 2], "text", None, 3):
        with pytest.raises(SettingsError):
            RunSettings.from_dict(data)


def test_cross_field_validation():
    with pytest.raises(SettingsError, match="exactly one"):
        RunSettings(mode="content-rep", content_layers={"relu1_1": 1, "relu2_1": 1}).validate()
    with pytest.raises(SettingsError, match="style layer"):
        RunSettings(style_layers={}).validate()
    with pytest.raises(SettingsError, match="both 0"):
        RunSettings(content_weight=0, style_weight=0).validate()
    with pytest.raises(SettingsError, match="noise"):
        RunSettings(mode="style-rep", init="content").validate()
    # non-strict: an invalid combination falls back to the base settings, with a warning
    s, w = RunSettings.from_dict({"content_weight": 0, "style_weight": 0}, strict=False)
    assert s == RunSettings() and len(w) == 1


def test_huge_json_rejected_unread():
    text = json.dumps({"init": "x" * (S.MAX_SETTINGS_BYTES + 10)})
    with pytest.raises(SettingsError, match="64 KB"):
        RunSettings.from_json(text)
    with pytest.raises(SettingsError, match="JSON"):
        RunSettings.from_json("{not json")
    with pytest.raises(SettingsError):
        RunSettings.from_json("[" * 50_000 + "]" * 50_000)


def test_style_blend_for():
    s = RunSettings(style_blend=[1.0, 3.0])
    assert s.style_blend_for(2) == [0.25, 0.75]
    assert RunSettings().style_blend_for(3) == pytest.approx([1 / 3] * 3)
    with pytest.raises(SettingsError, match="one weight per style"):
        s.style_blend_for(3)
    with pytest.raises(SettingsError, match="0"):
        RunSettings(style_blend=[0.0, 0.0]).style_blend_for(2)


def test_layer_spec_round_trip():
    spec = "relu1_1:0.5,relu2_1,conv3_1:2,pool4:0.125"
    parsed = parse_layer_spec(spec)
    assert parsed == {"relu1_1": 0.5, "relu2_1": 1.0, "conv3_1": 2.0, "pool4": 0.125}
    assert list(parsed) == ["relu1_1", "relu2_1", "conv3_1", "pool4"]
    assert format_layer_spec(parsed) == spec
    assert parse_layer_spec(format_layer_spec(parsed)) == parsed
    assert parse_layer_spec(" relu4_2 , ") == {"relu4_2": 1.0}
    for bad in ("relu6_1", "relu1_1:heavy", "Relu1_1"):
        with pytest.raises(SettingsError):
            parse_layer_spec(bad)


def test_applies_per_mode():
    assert applies("style_weight", "transfer") and not applies("style_weight", "style-rep")
    assert applies("style_layers", "style-rep") and not applies("style_layers", "content-rep")
    assert applies("content_layers", "content-rep") and not applies("content_layers", "style-rep")
    assert applies("color", "transfer") and not applies("color", "sweep")
    for name in ("size", "steps", "optimizer", "seed", "pool", "device", "weights"):
        assert all(applies(name, m) for m in S.MODES), name


def test_cli_has_an_option_for_every_field():
    from nst_desktop.cli import build_parser

    parser = build_parser()
    sub = next(a for a in parser._actions if a.dest == "command")
    names = {f.name for f in FIELDS} - {"mode"}  # the subcommand is the mode
    # every mode is a command (history, variations and batch are the other commands)
    assert set(S.MODES) <= set(sub.choices)
    for command, p in ((m, sub.choices[m]) for m in S.MODES):
        dests = {a.dest for a in p._actions}
        assert names <= dests, (command, names - dests)
        for f in FIELDS:
            if f.name == "mode":
                continue
            action = next(a for a in p._actions if a.dest == f.name)
            if f.metadata["choices"]:
                assert tuple(action.choices) == f.metadata["choices"], f.name
            assert f.metadata["help"][:30] in action.help.replace("%%", "%"), f.name


def test_ranges_are_finite_numbers():
    for f in FIELDS:
        for key in ("min", "max"):
            v = f.metadata[key]
            assert v is None or math.isfinite(v), (f.name, key)


# ----------------------------------------------------------------- loss normalization
def test_new_settings_are_relative_and_stored_ones_keep_theirs():
    assert RunSettings().normalization == "relative" and RunSettings().weights_format == "auto"
    for norm in S.NORMALIZATIONS:
        s = RunSettings(normalization=norm, style_weight=7.0)
        assert RunSettings.from_json(s.to_json())[0] == s


@pytest.mark.parametrize("strict", [True, False])
def test_stored_settings_without_normalization_load_as_paper(strict):
    """Pictures, presets and window settings from before the field used the paper's formulas."""
    old = RunSettings().to_dict()
    del old["normalization"]
    s, _ = RunSettings.from_dict(old, strict=strict)
    assert s.normalization == "paper"
    assert RunSettings.from_json(json.dumps(old))[0].normalization == "paper"
    base = RunSettings(normalization="relative")
    assert RunSettings.from_dict({"style_weight": 500}, base=base)[0].normalization == "paper"
    assert RunSettings.from_dict({"content_weight": 2}, base=base)[0].normalization == "paper"


def test_a_block_without_weights_keeps_the_current_normalization():
    for norm in S.NORMALIZATIONS:
        base = RunSettings(normalization=norm)
        assert RunSettings.from_dict({"tv_weight": 3.0}, base=base)[0].normalization == norm
        assert RunSettings.from_dict({}, base=base)[0].normalization == norm
    said = {"style_weight": 5.0, "normalization": "relative"}
    assert RunSettings.from_dict(said, base=RunSettings(normalization="paper"))[
        0
    ].normalization == ("relative")


def test_bad_normalization_and_weights_format_are_refused():
    with pytest.raises(SettingsError, match="Loss balance"):
        RunSettings.from_dict({"normalization": "gatys"})
    with pytest.raises(SettingsError, match="Weights format"):
        RunSettings.from_dict({"weights_format": "onnx"})
