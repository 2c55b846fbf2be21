"""What the window tells the artist besides the picture, as values the model holds: a message
(with the action it offers and the conditions under which it stops being true) and the pre-run
estimate line. The message bar and the run bar show them (gui/message_bar.py, gui/run_bar.py)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class Clear(StrEnum):
    """When a message stops being true."""

    CONTENT = "a content photo is chosen"
    STYLES = "a style image is chosen"
    SETTINGS_VALID = "the settings are valid"
    SETTINGS_CHANGED = "the settings change"
    INPUTS_CHANGED = "an input changes"
    RUN_STARTS = "a run starts"


@dataclass(frozen=True)
class Message:
    text: str
    kind: str = "error"  # error | warning | info
    action_text: str = ""
    action: Callable[[], Any] | None = None
    clears: frozenset[Clear] = frozenset({Clear.RUN_STARTS})


@dataclass(frozen=True)
class EstimateLine:
    text: str = ""
    warn: bool = False
