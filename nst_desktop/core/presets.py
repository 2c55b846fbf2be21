"""Bundled and user presets: named, described settings blocks an artist applies with one click.

A preset file is JSON: ``{"name", "description", "settings": {...}, "version": 1}``. The settings
block holds every :class:`RunSettings` field except the machine knobs (device, threads, weights,
weights_format), which belong to the computer, not to the look, and except files: a start image
that is a file is the user's own choice, so a preset never names one. Files are untrusted: every
value is validated against :class:`RunSettings`, and a damaged file is skipped with a warning,
never a crash. A block that sets the weights but no ``normalization`` was written for the
paper's formulas (see :func:`~.settings.stored_without_normalization`).

Presets are looks: applying one sets the layers, weights, colours, start image and optimizer and
leaves the chosen quality (size, iterations, scales) and the seed alone, unless the file says the
preset is about quality (``"quality": true``, as "Fast preview" and "Large print").
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import NotARegularFileError, describe_write_error, read_bounded, write_bytes
from .paths import data_dir, resources_dir
from .settings import (
    INIT_CHOICES,
    MACHINE_KNOBS,
    RunSettings,
    SettingsError,
    _check_field,
    _coerce,
)
from .text import cap_warnings

FORMAT_VERSION = 1
MAX_PRESET_BYTES = 64 * 1024
MAX_NAME_CHARS = 80
MAX_DESCRIPTION_CHARS = 300
_TOP_KEYS = ("name", "description", "settings", "version", "quality")
#: What the user chose for the cost of a run; only a quality preset sets these.
QUALITY_KNOBS = ("size", "steps", "scales", "coarse_steps")
#: The user's own, never part of a look: the seed and the snapshot interval.
OWN_KNOBS = ("seed", "save_every")


class PresetError(Exception):
    """A preset cannot be read, found or written; the message says what to do."""


@dataclass(frozen=True)
class Preset:
    """One preset. ``settings`` holds validated values of the fields the file sets."""

    name: str
    description: str
    settings: dict[str, Any]
    path: Path | None
    bundled: bool
    quality: bool = False  # about quality: it sets size and iterations too

    def to_file_dict(self) -> dict[str, Any]:
        data = {
            "name": self.name,
            "description": self.description,
            "settings": dict(self.settings),
            "version": FORMAT_VERSION,
        }
        if self.quality:
            data["quality"] = True
        return data


# --------------------------------------------------------------------------- folders
def bundled_dir() -> Path:
    return resources_dir() / "presets"


def user_dir() -> Path:
    return data_dir() / "presets"


def pictures_dir() -> Path:
    """The bundled presets' example pictures (``resources/make_preset_pictures.py``)."""
    return resources_dir() / "preset_pictures"


def picture_path(preset: Preset) -> Path | None:
    """The example picture of a bundled preset; None for a user preset, a layer sweep (a grid
    of studies, not one picture) or a picture that is not there."""
    if not preset.bundled or preset.path is None:
        return None
    path = pictures_dir() / f"{preset.path.stem}.png"
    return path if path.is_file() else None


def pictures_note() -> str:
    """One sentence on what the example pictures show, from their ``pictures.json``."""
    try:
        info = json.loads(read_bounded(pictures_dir() / "pictures.json", MAX_PRESET_BYTES))
        trained = info["trained"] is True
    except (OSError, ValueError, KeyError, TypeError, NotARegularFileError):
        return ""
    redo = "python resources/make_preset_pictures.py"
    if trained:
        return f"The pictures show each look on the bundled samples (remade by: {redo})."
    return (
        "The pictures were made with untrained weights: they show no real style, only roughly "
        f"how each preset starts. To remake them with the ImageNet weights, run: {redo}"
    )


# --------------------------------------------------------------------------- reading
def load_preset_file(
    path: str | os.PathLike[str], *, bundled: bool = False
) -> tuple[Preset, list[str]]:
    """Read and validate one preset file; returns the preset and warnings about ignored parts.

    Raises :class:`PresetError` when the file is unusable (unreadable, too big, not JSON, no
    name, or settings that do not make a valid run).
    """
    p = Path(path)
    label = p.name
    try:
        raw = read_bounded(p, MAX_PRESET_BYTES)
    except FileNotFoundError:
        raise PresetError(f"Preset file {p} does not exist; check the path.") from None
    except IsADirectoryError:
        raise PresetError(f"{p} is a folder; choose a preset .json file.") from None
    except NotARegularFileError as exc:
        raise PresetError(
            f"Preset {label} is {exc.kind}, not a file; choose a .json file."
        ) from None
    except OSError as exc:
        raise PresetError(
            f"Preset {label} cannot be read ({exc.strerror or exc}); check the file."
        ) from None
    if len(raw) > MAX_PRESET_BYTES:
        raise PresetError(
            f"Preset {label} is larger than {MAX_PRESET_BYTES // 1024} KB and was not read; "
            "a preset file is a small JSON file."
        )
    try:
        data = json.loads(raw.decode("utf-8-sig"))  # editors on Windows may write a BOM
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PresetError(f"Preset {label} is not valid JSON; fix or delete the file.") from None
    preset, warnings = preset_from_dict(data, path=p, bundled=bundled, label=label)
    return preset, warnings


def preset_from_dict(
    data: Any, *, path: Path | None = None, bundled: bool = False, label: str = "preset"
) -> tuple[Preset, list[str]]:
    """Validate parsed preset JSON (see the module docstring for the format)."""
    if not isinstance(data, dict):
        raise PresetError(f"Preset {label} is not a JSON object with a name and settings.")
    warnings = [f"{label}: unknown key {k!r:.42} was ignored" for k in data if k not in _TOP_KEYS]
    name = data.get("name")
    if not isinstance(name, str) or not name.strip():
        raise PresetError(f'Preset {label} has no name; add a "name" entry.')
    name = _clean_name(name, label)
    description = data.get("description", "")
    if not isinstance(description, str):
        warnings.append(f"{label}: the description is not text and was ignored")
        description = ""
    description = " ".join(description.split())[:MAX_DESCRIPTION_CHARS]
    version = data.get("version", FORMAT_VERSION)
    if isinstance(version, bool) or not isinstance(version, int):
        warnings.append(f"{label}: the version is not a whole number and was ignored")
    elif version > FORMAT_VERSION:
        warnings.append(
            f"{label}: made by a newer NST Desktop (format {version}); unknown parts are ignored"
        )
    block = data.get("settings")
    if not isinstance(block, dict):
        raise PresetError(f"Preset '{name}' has no settings block; add a \"settings\" object.")
    settings, found = _validate_block(block, name)
    warnings += [f"{label}: {w}" for w in found]
    quality = data.get("quality", False)
    if not isinstance(quality, bool):
        warnings.append(f"{label}: 'quality' is not true or false and was ignored")
        quality = False
    preset = Preset(name, description, settings, path, bundled, quality)
    return preset, cap_warnings(warnings, about=label)


def _validate_block(block: dict[str, Any], name: str) -> tuple[dict[str, Any], list[str]]:
    """Keep the valid, non-machine entries of a settings block; refuse a block that cannot run.

    A bad entry is dropped with a warning (applying the preset then keeps the user's value);
    entries that are each fine but together make no valid run refuse the whole preset.
    """
    fields = {f.name: f for f in dataclasses.fields(RunSettings)}
    kept: dict[str, Any] = {}
    warnings: list[str] = []
    for key, value in block.items():
        if key in MACHINE_KNOBS:
            warnings.append(f"'{key}' is a setting of the computer, not the look, and was ignored")
        elif names_a_file(key, value):
            warnings.append("'init' names a file; a preset cannot choose files, so it was ignored")
        elif key not in fields:
            warnings.append(f"unknown setting {key!r:.42} was ignored")  # repr: one line
        else:
            try:
                value = _coerce(fields[key], value)
                _check_field(fields[key], value)
            except SettingsError as exc:
                warnings.append(f"{exc} (kept the current value)")
                continue
            kept[key] = value
    try:
        settings, _ = RunSettings.from_dict(kept, base=RunSettings(), strict=True)
    except SettingsError as exc:
        raise PresetError(f"Preset '{name}' does not make a valid run: {exc}") from None
    return {k: getattr(settings, k) for k in kept}, warnings


def names_a_file(key: str, value: Any) -> bool:
    """A setting whose value is a path on this computer (only ``init`` can be, besides the
    machine knob ``weights``): presets never carry one."""
    return key == "init" and value not in INIT_CHOICES


def _clean_name(name: str, label: str) -> str:
    name = " ".join(name.split())
    if len(name) > MAX_NAME_CHARS:
        raise PresetError(
            f"Preset {label}: the name is longer than {MAX_NAME_CHARS} characters; shorten it."
        )
    if any(ord(c) < 32 for c in name):
        raise PresetError(f"Preset {label}: the name contains control characters; retype it.")
    return name


def list_presets() -> tuple[list[Preset], list[str]]:
    """Bundled presets (in file-name order) then user presets (by name), plus warnings.

    Damaged files are skipped with a warning, never raised.
    """
    presets: list[Preset] = []
    warnings: list[str] = []
    for folder, bundled in ((bundled_dir(), True), (user_dir(), False)):
        found: list[Preset] = []
        try:
            files = sorted(folder.glob("*.json"))
        except OSError:
            files = []
        for path in files:
            try:
                preset, problems = load_preset_file(path, bundled=bundled)
            except PresetError as exc:
                warnings.append(f"{exc} It was skipped.")
                continue
            warnings += problems
            found.append(preset)
        if not bundled:
            found.sort(key=lambda p: p.name.casefold())
        presets += found
    return presets, warnings


def preset_names() -> list[str]:
    return [p.name for p in list_presets()[0]]


def find_preset(name_or_path: str | os.PathLike[str]) -> Preset:
    """A preset by name (case-insensitive; bundled first) or by the path of a .json file."""
    text = str(name_or_path).strip()
    p = Path(text).expanduser()
    if text.lower().endswith(".json") or os.sep in text or "/" in text:
        if p.is_file():
            return load_preset_file(p)[0]
        raise PresetError(f"Preset file {text} does not exist; check the path.")
    presets, _ = list_presets()
    key = text.casefold()
    for match in (
        lambda q: q.name.casefold() == key,
        lambda q: slug(q.name) == slug(text),
        lambda q: q.path is not None and q.path.stem.casefold() == key,
    ):
        for preset in presets:
            if match(preset):
                return preset
    names = ", ".join(f"'{q.name}'" for q in presets) or "none"
    raise PresetError(f"No preset is named '{text}'; choose one of: {names}.")


# --------------------------------------------------------------------------- applying
def apply_preset(preset: Preset, current: RunSettings) -> tuple[RunSettings, list[str], list[str]]:
    """The preset's settings over ``current``; machine knobs stay as they are, and so do the
    quality and the seed unless the preset is about quality (see the module docstring).

    Returns the new settings, the names of the fields whose values changed, and warnings.
    """
    kept = (*MACHINE_KNOBS, *OWN_KNOBS, *(() if preset.quality else QUALITY_KNOBS))
    wanted = {k: v for k, v in preset.settings.items() if k not in kept and not names_a_file(k, v)}
    warnings: list[str] = []
    try:
        new, warnings = RunSettings.from_dict(wanted, base=current, strict=True)
    except SettingsError:
        # the preset's partial block clashes with a current value it does not set: start that
        # preset from the defaults instead (it was validated against them), keep the machine
        defaults = RunSettings(**{k: getattr(current, k) for k in kept})
        try:
            new, warnings = RunSettings.from_dict(wanted, base=defaults, strict=False)
        except SettingsError as exc:
            raise PresetError(f"Preset '{preset.name}' cannot be applied: {exc}") from None
        warnings.append(
            f"preset '{preset.name}' did not fit the current settings, so the settings it does "
            "not set were reset to their defaults"
        )
    for k in kept:
        setattr(new, k, getattr(current, k))
    changed = [
        f.name
        for f in dataclasses.fields(RunSettings)
        if getattr(new, f.name) != getattr(current, f.name)
    ]
    return new, changed, warnings


def settings_block(settings: RunSettings) -> dict[str, Any]:
    """Everything but the machine knobs and a start image file, as stored in a preset file."""
    return {
        k: v
        for k, v in settings.to_dict().items()
        if k not in MACHINE_KNOBS and not names_a_file(k, v)
    }


# --------------------------------------------------------------------------- user presets
def slug(name: str) -> str:
    """A file-name-safe form of a preset name (``Soft blend`` -> ``soft-blend``)."""
    s = re.sub(r"[^a-z0-9]+", "-", name.casefold()).strip("-")
    return s[:60] or "preset"


def save_user_preset(
    name: str, description: str, settings: RunSettings, *, overwrite: bool = False
) -> Preset:
    """Store the current settings as a user preset (refuses bundled names and empty names)."""
    name = _check_new_name(name)
    try:
        settings.validate()
    except SettingsError as exc:
        raise PresetError(f"These settings cannot be saved as a preset: {exc}") from None
    existing = _user_preset_named(name)
    if existing is not None and not overwrite:
        raise PresetError(
            f"A preset named '{existing.name}' already exists; choose another name or replace it."
        )
    preset = Preset(
        name,
        " ".join(description.split())[:MAX_DESCRIPTION_CHARS],
        settings_block(settings),
        None,
        False,
    )
    path = existing.path if existing is not None and existing.path else _free_path(name)
    return _write_user(preset, path)


def rename_user_preset(preset: Preset, new_name: str) -> Preset:
    """Give a user preset a new name (and file); bundled presets cannot be renamed."""
    _check_user(preset, "renamed")
    new_name = _check_new_name(new_name)
    other = _user_preset_named(new_name)
    if other is not None and other.path != preset.path:
        raise PresetError(f"A preset named '{other.name}' already exists; choose another name.")
    renamed = dataclasses.replace(preset, name=new_name)
    old = preset.path
    target = old if old is not None and old.stem == slug(new_name) else _free_path(new_name)
    result = _write_user(renamed, target)
    if old is not None and old != target:
        try:
            old.unlink(missing_ok=True)
        except OSError as exc:
            raise PresetError(
                f"The preset was saved as '{new_name}' but the old file could not be removed "
                f"({exc.strerror or exc}); delete {old} by hand."
            ) from None
    return result


def delete_user_preset(preset: Preset) -> None:
    """Remove a user preset's file; bundled presets cannot be deleted."""
    _check_user(preset, "deleted")
    assert preset.path is not None
    try:
        preset.path.unlink(missing_ok=True)
    except OSError as exc:
        raise PresetError(
            f"Could not delete preset '{preset.name}' ({exc.strerror or exc}); check the folder "
            f"{preset.path.parent}."
        ) from None


def import_preset(path: str | os.PathLike[str]) -> Preset:
    """Validate a preset file and copy it into the user folder (renamed if the name is taken)."""
    preset, _ = load_preset_file(path)
    taken = {q.name.casefold() for q in list_presets()[0]}
    name = preset.name
    n = 2
    while name.casefold() in taken:
        suffix = f" ({n})"
        name = preset.name[: MAX_NAME_CHARS - len(suffix)] + suffix
        n += 1
    copy = dataclasses.replace(preset, name=name, path=None, bundled=False)
    return _write_user(copy, _free_path(name))


def export_preset(preset: Preset, path: str | os.PathLike[str]) -> Path:
    """Write a preset to a file of the user's choice (the same format as the user folder)."""
    return _atomic_write_json(Path(path), preset.to_file_dict())


def _check_user(preset: Preset, what: str) -> None:
    if preset.bundled or preset.path is None:
        raise PresetError(
            f"'{preset.name}' is a bundled preset and cannot be {what}; save a copy under "
            "another name instead."
        )


def _check_new_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        raise PresetError("A preset needs a name; type one.")
    name = _clean_name(name, f"'{name[:40]}'")
    try:
        bundled = [q for q in list_presets()[0] if q.bundled]
    except OSError:  # pragma: no cover - list_presets already swallows these
        bundled = []
    for q in bundled:
        if q.name.casefold() == name.casefold() or slug(q.name) == slug(name):
            raise PresetError(f"'{q.name}' is the name of a bundled preset; choose another name.")
    return name


def _user_preset_named(name: str) -> Preset | None:
    for q in list_presets()[0]:
        if not q.bundled and q.name.casefold() == name.casefold():
            return q
    return None


def _free_path(name: str) -> Path:
    folder = user_dir()
    base = slug(name)
    path = folder / f"{base}.json"
    n = 2
    while path.exists():
        path = folder / f"{base}-{n}.json"
        n += 1
    return path


def _write_user(preset: Preset, path: Path) -> Preset:
    path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write_json(path, preset.to_file_dict())
    return dataclasses.replace(preset, path=path, bundled=False)


def _atomic_write_json(path: Path, data: dict[str, Any]) -> Path:
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    try:
        return write_bytes(path, text.encode("utf-8"))
    except OSError as exc:
        raise PresetError(describe_write_error(exc, path)) from None
