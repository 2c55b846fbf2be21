"""Two pictures of the history made ready to compare: a result (right) against another result
or its photo (left), the left one scaled to the right one's size so the split can lay one over
the other. No Qt here: the compare view shows what this makes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nst_desktop.core.history_record import Entry
from nst_desktop.core.images import ImageError, open_image


@dataclass(frozen=True)
class Comparison:
    """Two pictures side by side: ``left`` before, ``right`` after, what each is called
    ("01:07 · style weight 0.3", "Photo"), one line naming both, and what differs."""

    left: Any  # H x W x 3 uint8
    right: Any
    left_caption: str
    right_caption: str
    differences: tuple[str, ...] = ()
    caption: str = ""


def compare_files(
    left: Path, labels: tuple[str, str, str], right: Entry, diffs: tuple[str, ...]
) -> Comparison | str:
    """The comparison, or the sentence saying why a picture cannot be read; ``labels`` are the
    left and right sides' names and the line naming both (core.compare.run_labels)."""
    import numpy as np

    try:
        after = open_image(right.result).image
        before = open_image(left).image
    except ImageError as exc:
        return f"Cannot compare: {exc}"
    if before.size != after.size:
        before = before.resize(after.size)
    return Comparison(np.asarray(before), np.asarray(after), *labels[:2], diffs, labels[2])
