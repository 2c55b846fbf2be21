"""Variations: one look run several times over one knob (seeds, style weights, style scales or
presets), and the labelled contact sheet of the results. Torch-free: the runs go through
core.session like any other, and each becomes a history entry.

Usage::

    knob, values = parse_vary("style-weight=25,50,100")
    cells = variation_cells(base_settings, knob, values)   # [Cell(label, settings), ...]
    sheet = contact_sheet(knob, [(cell.label, picture_or_None), ...])
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .grid import make_grid
from .settings import RunSettings, SettingsError

#: The knobs --vary takes, and the settings field each sets ("preset" applies a preset).
VARY_KNOBS = {"seed": "seed", "style-weight": "style_weight", "style-scale": "style_scale",
              "preset": ""}  # fmt: skip
#: At most this many cells per sheet (each is a full run).
MAX_CELLS = 16


@dataclass(frozen=True)
class Cell:
    label: str  # "seed 3", "style weight 50", "preset Bold"
    settings: RunSettings


def parse_vary(text: str) -> tuple[str, list[str]]:
    """``KNOB=V1,V2,...`` into the knob and its values; raises SettingsError with a sentence."""
    knob, sep, rest = text.partition("=")
    knob = knob.strip().lower().replace("_", "-")
    if not sep or knob not in VARY_KNOBS:
        raise SettingsError(
            f"'{text[:60]}' is not KNOB=V1,V2,...; KNOB is one of {', '.join(VARY_KNOBS)} "
            "(for example --vary seed=0,1,2,3)."
        )
    values = [v.strip() for v in rest.split(",") if v.strip()]
    if not 2 <= len(values) <= MAX_CELLS:
        raise SettingsError(f"--vary {knob} needs 2 to {MAX_CELLS} values, got {len(values)}.")
    return knob, values


def variation_cells(base: RunSettings, knob: str, values: Sequence[str]) -> list[Cell]:
    """One checked settings per value; a bad value raises SettingsError naming it."""
    cells = []
    for value in values:
        if knob == "preset":
            from .presets import PresetError, apply_preset, find_preset

            try:
                settings, _, _ = apply_preset(find_preset(value), base)
            except PresetError as exc:
                raise SettingsError(f"--vary preset: {exc}") from None
            settings = dataclasses.replace(settings, mode=base.mode)
            cells.append(Cell(f"preset {value[:40]}", settings.validate()))
            continue
        field = VARY_KNOBS[knob]
        try:
            number: float = int(value) if field == "seed" else float(value)
        except ValueError:
            raise SettingsError(f"--vary {knob}: '{value[:40]}' is not a number.") from None
        settings = dataclasses.replace(base, **{field: number})
        try:
            settings.validate()
        except SettingsError as exc:
            raise SettingsError(f"--vary {knob}={value[:40]}: {exc}") from None
        cells.append(Cell(f"{knob.replace('-', ' ')} {value[:40]}", settings))
    return cells


def contact_sheet(knob: str, cells: Sequence[tuple[str, np.ndarray | None]]) -> Image.Image:
    """The results in one labelled row (a cell that made no picture is an empty box)."""
    return make_grid([(f"Variations over {knob.replace('-', ' ')}", list(cells))])


def cell_path(sheet: Path, index: int, label: str) -> Path:
    """Where a cell's picture goes: beside the sheet, ``SHEET-02-seed-1.png``."""
    slug = re.sub(r"[^A-Za-z0-9.]+", "-", label).strip("-")[:40]
    return sheet.with_name(f"{sheet.stem}-{index + 1:02d}-{slug}{sheet.suffix}")
