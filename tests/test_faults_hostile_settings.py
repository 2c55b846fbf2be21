"""Fault matrix, hostile presets and text (issue 19): presets never choose files, pipes in the
presets folder, warning floods, a byte-order mark, and untrusted text on a terminal line.
See FAULTS.md.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import unicodedata
from pathlib import Path

import pytest

from nst_desktop.core import presets
from nst_desktop.core.presets import (
    PresetError,
    apply_preset,
    list_presets,
    load_preset_file,
    save_user_preset,
)
from nst_desktop.core.settings import RunSettings
from nst_desktop.core.text import MAX_WARNINGS, cap_warnings, one_line

posix_only = pytest.mark.skipif(sys.platform == "win32", reason="named pipes are POSIX")


def _preset(path: Path, settings: dict, name: str = "Odd", raw: bool = False) -> Path:
    text = json.dumps({"name": name, "settings": settings, "version": 1})
    path.write_bytes(text.encode("utf-8") if not raw else text)
    return path


def _within(seconds: float, call):
    """``call``'s result; fails (instead of hanging the suite) when it does not return."""
    out: list = []
    thread = threading.Thread(
        target=lambda: out.append(_capture(call)), daemon=True, name="hostile-settings-call"
    )
    thread.start()
    thread.join(seconds)
    assert not thread.is_alive(), "it hung"
    kind, value = out[0]
    if kind == "error":
        raise value
    return value


def _capture(call):
    try:
        return "value", call()
    except BaseException as exc:  # noqa: BLE001 - handed back to the test
        return "error", exc


# ----------------------------------------------------------------- 10: presets never name files
def test_a_preset_cannot_point_the_start_image_at_a_file(tmp_path):
    secret = tmp_path / "private.png"
    secret.write_bytes(b"not for a preset to choose")
    look = {"style_weight": 40, "normalization": "relative"}
    path = _preset(tmp_path / "sneaky.json", {"init": str(secret), **look})
    preset, warnings = load_preset_file(path)
    assert preset.settings == look
    assert warnings == [
        "sneaky.json: 'init' names a file; a preset cannot choose files, so it was ignored"
    ]
    current = RunSettings(init="content")
    new, changed, _ = apply_preset(preset, current)
    assert new.init == "content" and changed == ["style_weight"]
    # A preset made in code (or by an older version) is filtered when applied, too.
    forged = presets.Preset("F", "", {"init": str(secret)}, None, False)
    assert apply_preset(forged, current)[0].init == "content"
    # The user's own start image is not written into a preset they save.
    mine = save_user_preset("Mine", "", RunSettings(init=str(secret), steps=7))
    stored = json.loads(mine.path.read_text())["settings"]
    assert "init" not in stored and stored["steps"] == 7
    kept = save_user_preset("Noise", "", RunSettings(init="noise"))
    assert json.loads(kept.path.read_text())["settings"]["init"] == "noise"


# ----------------------------------------------------------------- 14 and 20: pipes, floods, BOM
@posix_only
def test_a_named_pipe_as_a_preset_or_in_the_presets_folder_never_hangs(tmp_path):
    fifo = tmp_path / "look.json"
    os.mkfifo(fifo)
    with pytest.raises(PresetError) as info:
        _within(10, lambda: load_preset_file(fifo))
    assert str(info.value) == "Preset look.json is a named pipe, not a file; choose a .json file."
    folder = presets.user_dir()
    folder.mkdir(parents=True)
    os.mkfifo(folder / "pipe.json")
    _preset(folder / "good.json", {"steps": 12}, name="Good")
    found, warnings = _within(10, list_presets)
    assert "Good" in [p.name for p in found]
    assert "Preset pipe.json is a named pipe, not a file; choose a .json file. It was skipped." in (
        warnings
    )
    assert not any("empty" in w for w in warnings)


def test_one_bad_preset_cannot_flood_the_log(tmp_path):
    block = {f"knob{i:04d}": i for i in range(3000)}
    path = _preset(tmp_path / "flood.json", {**block, "steps": 9})
    assert path.stat().st_size < presets.MAX_PRESET_BYTES
    preset, warnings = load_preset_file(path)
    assert preset.settings == {"steps": 9}
    assert len(warnings) == MAX_WARNINGS
    assert warnings[0] == "flood.json: unknown setting 'knob0000' was ignored"
    assert warnings[-1] == "flood.json: 2989 more problems like these were not listed"
    assert all("\n" not in w for w in warnings)


def test_a_preset_saved_with_a_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    text = json.dumps({"name": "Notepad", "settings": {"steps": 33}})
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    preset, warnings = load_preset_file(path)
    assert preset.name == "Notepad" and preset.settings == {"steps": 33} and warnings == []


def test_cap_warnings_keeps_short_lists_whole():
    assert cap_warnings(["a", "b"], limit=3) == ["a", "b"]
    assert cap_warnings(list("abcde"), limit=3, about="x.json") == [
        "a",
        "b",
        "x.json: 3 more problems like these were not listed",
    ]


# ----------------------------------------------------------------- 12: one safe terminal line
HOSTILE = [
    "\x1b[2J\x1b[Hcleared",  # clear the screen
    "\x1b]0;pwned\x07title",  # set the window title
    "\x1b]52;c;cm0gLXJmIH4=\x07clip",  # write the clipboard (OSC 52)
    "\x9b31mC1 CSI",  # the one-byte CSI
    "fake\rnst-desktop: done",  # overwrite the line
    "two\nlines\u2028three\u2029four\x85five",  # every kind of line break
    "gnp.\u202eexe",  # right-to-left override: shows as 'exe.png'
    "zero\u200bwidth\ufeffmarks",
    "bell\x07back\x08space\x7fdel\x00nul",
    "bytes \udcff\udcfe from a non-UTF-8 name",
]


@pytest.mark.parametrize("text", HOSTILE)
def test_untrusted_text_is_one_safe_line(text):
    line = one_line(text)
    assert "\n" not in line and "\r" not in line
    for ch in line:
        assert unicodedata.category(ch) not in ("Cc", "Cf", "Cs", "Zl", "Zp"), repr(ch)
    line.encode("utf-8")  # printable on any UTF-8 terminal (no lone surrogates)


def test_one_line_shows_what_it_escaped_and_keeps_ordinary_names():
    assert one_line("\x1b[31mred") == "\\x1b[31mred"
    assert one_line("a\nb\tc") == "a\\nb\\tc"
    assert one_line("gnp.\u202eexe") == "gnp.\\u202eexe"
    assert one_line("caf\udce9.png") == "caf\\xe9.png"
    assert one_line("Straße in 東京 – 🎨.png") == "Straße in 東京 – 🎨.png"
    assert one_line("x" * 50, limit=10) == "x" * 10 + "…"
    assert one_line("\x1b" * 20, limit=10) == "\\x1b\\x1b…"  # never cut inside an escape
