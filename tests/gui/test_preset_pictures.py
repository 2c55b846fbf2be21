"""Each bundled look has an example picture, shown as its icon in the presets list; a missing or
damaged picture shows no icon; the script that renders them runs through the core session."""

from __future__ import annotations

import importlib.util
import json

import pytest
from PIL import Image

from nst_desktop.core import presets as P
from nst_desktop.core.paths import resources_dir
from nst_desktop.core.settings import RunSettings
from nst_desktop.gui.presets_panel import _PRESET_ROLE, PresetPanel


def _script():
    path = resources_dir() / "make_preset_pictures.py"
    spec = importlib.util.spec_from_file_location("make_preset_pictures", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _panel(qtbot):
    panel = PresetPanel(lambda: RunSettings(weights="random"))
    qtbot.addWidget(panel)
    return panel


def _icons(panel) -> dict[str, bool]:
    """Each listed preset's name: whether its entry shows an icon."""
    items = [panel.list.item(r) for r in range(panel.list.count())]
    return {i.data(_PRESET_ROLE).name: not i.icon().isNull() for i in items if i.data(_PRESET_ROLE)}


def test_every_bundled_look_has_a_picture_and_the_list_shows_it(qtbot):
    script = _script()
    bundled = [p for p in P.list_presets()[0] if p.bundled]
    with_picture = [p for p in bundled if script.needs_picture(p)]
    assert len(with_picture) >= 10 and len(with_picture) < len(bundled)  # not the sweep
    total = 0
    for preset in with_picture:
        path = P.picture_path(preset)
        assert path is not None, f"no example picture for {preset.name}"
        with Image.open(path) as im:
            assert im.format == "PNG" and max(im.size) <= 128
        total += path.stat().st_size
    assert total < 300 * 1024
    icons = _icons(_panel(qtbot))
    assert all(icons[p.name] for p in with_picture)
    assert not any(icons[p.name] for p in bundled if not script.needs_picture(p))


def test_the_note_says_which_weights_made_the_pictures(qtbot):
    info = json.loads((P.pictures_dir() / "pictures.json").read_text(encoding="utf-8"))
    panel = _panel(qtbot)
    note = panel.pictures_note.text()
    assert "make_preset_pictures.py" in note and note in panel.list.toolTip()
    assert ("untrained" in note) == (not info["trained"])
    assert ("untrained" in info["weights"]) == (not info["trained"])


def test_missing_or_damaged_pictures_show_no_icon(qtbot, tmp_path, monkeypatch):
    (tmp_path / "01_paper.png").write_bytes(b"not a png")
    (tmp_path / "pictures.json").write_text("{broken", encoding="utf-8")
    monkeypatch.setattr(P, "pictures_dir", lambda: tmp_path)
    panel = _panel(qtbot)
    assert panel.list.count() >= 10
    assert not any(_icons(panel).values())
    assert panel.pictures_note.text() == "" and panel.pictures_note.isHidden()
    assert panel.select("Paper (Gatys et al.)")
    panel.apply_selected()  # a look without a picture still applies


def test_the_script_renders_a_preset_through_the_session(tmp_path):
    script = _script()
    preset = P.find_preset("Keep my colours")
    settings = script.preset_settings(preset, "random", 32, 2)
    assert settings.color == "luminance" and settings.size == 32 and settings.steps == 2
    target = tmp_path / "keep.png"
    label = script.render(preset, target, weights="random", size=32, steps=2)
    assert "untrained" in label
    with Image.open(target) as im:
        assert max(im.size) == 32 and im.mode == "RGB"


@pytest.mark.parametrize("steps", [500, 1000, 100])
def test_the_examples_take_a_tenth_of_the_presets_iterations_within_bounds(steps):
    script = _script()
    preset = P.Preset("x", "", {"steps": steps}, None, bundled=True, quality=True)
    own = script.preset_settings(preset, "random", 64, None).steps
    assert script.MIN_STEPS <= own <= script.MAX_STEPS and own == max(
        script.MIN_STEPS, min(script.MAX_STEPS, steps // 10)
    )
