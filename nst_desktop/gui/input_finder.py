"""Where the pictures a run was made from are now: at the path recorded, else a file of the same
name beside its result (or beside the picture that names them), checked against the content
recorded. No Qt here: the history model (gui/history_model.py) restores what this finds."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nst_desktop.core.history_record import Entry, InputFile, file_sha256


def locate(item: InputFile, beside: Path) -> str | None:
    """The input at its path, else a file of the same name beside ``beside``."""
    for candidate in (Path(item.path), beside / item.name):
        if candidate.is_file():
            return str(candidate)
    return None


def entry_inputs(entry: Entry) -> tuple[dict[int, str], list[str]]:
    """Each input's path now (by its index in ``entry.inputs``), and the problems in words: a
    missing input, or one whose content has changed since the run (still used)."""
    found: dict[int, str] = {}
    problems: list[str] = []
    for i, item in enumerate(entry.inputs):
        path = locate(item, entry.result.parent)
        if path is None:
            problems.append(f"{item.role} {item.name} is missing (was {item.path})")
        elif item.sha256 and file_sha256(Path(path)) != item.sha256:
            found[i] = path
            problems.append(f"{item.role} {item.name} has changed since that run")
        else:
            found[i] = path
    return found, problems


def verified_inputs(files: Sequence[InputFile], beside: Path) -> tuple[dict[int, str], list[str]]:
    """The inputs a picture records that are here with the very content recorded (a picture
    someone sent must not point the program at other files), and the names of the others."""
    found: dict[int, str] = {}
    missing: list[str] = []
    for i, item in enumerate(files):
        where = locate(item, beside)
        if where is not None and item.sha256 and file_sha256(Path(where)) == item.sha256:
            found[i] = where
        else:
            missing.append(f"{item.role} {item.name}")
    return found, missing


def by_role(
    files: Sequence[InputFile], found: dict[int, str]
) -> tuple[list[str], list[tuple[str, float]]]:
    """The found content pictures, and the found styles with their blend weights, in order."""
    content = [found[i] for i, f in enumerate(files) if f.role == "content" and i in found]
    styles = [(found[i], f.weight) for i, f in enumerate(files) if f.role == "style" and i in found]
    return content, styles
