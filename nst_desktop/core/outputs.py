"""Where a run writes, checked before the run: a long run must not end unable to save, or by
overwriting the photo it was made from.

A front end lists every file a run will write (:func:`planned_outputs`) and every file it reads,
then :func:`check_outputs` refuses a name the folder's file system cannot hold and an output
that is one of the inputs (the same file, also through a symbolic or hard link). When saving
fails after all (a disk that fills during the run), :func:`rescue_path` names a place in the
temporary folder short enough to always be valid.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path

from .settings import Mode, RunSettings

#: Names longer than this many bytes are refused where the file system does not say its limit.
DEFAULT_NAME_MAX = 255
#: Bytes of an output's stem kept in a rescue name (with the suffix it stays far below any limit).
RESCUE_STEM_BYTES = 64
#: The grids a sweep writes beside its output, as ``NAME-KEY.EXT`` (see core.grid.sweep_grids).
SWEEP_GRID_KEYS = ("content", "style")


class OutputError(ValueError):
    """A run's output cannot be written as asked; the message says what to do instead."""


def planned_outputs(
    output: Path, settings: RunSettings, timelapse: Path | None = None
) -> list[Path]:
    """Every file a run with ``settings`` writes for ``-o output``: the picture, a sweep's
    grids beside it, the numbered snapshots (the longest number) and the time-lapse."""
    paths = [output]
    if settings.mode == Mode.SWEEP:
        paths += [grid_path(output, key) for key in SWEEP_GRID_KEYS]
    elif settings.save_every > 0:
        last = settings.steps + settings.coarse_steps * max(0, settings.scales - 1)
        digits = max(5, len(str(last)))
        paths.append(output.with_name(f"{output.stem}_{'9' * digits}{output.suffix}"))
    if timelapse is not None:
        paths.append(timelapse)
    return paths


def grid_path(output: Path, key: str) -> Path:
    """Where a sweep's grid ``key`` goes beside ``output`` ("" is the output itself)."""
    return output.with_name(f"{output.stem}-{key}{output.suffix}") if key else output


def run_inputs(paths: Iterable[Path | str | None], settings: RunSettings) -> list[Path]:
    """The files a run reads: ``paths`` and a start image given as a file."""
    found = [Path(p) for p in paths if p is not None and str(p)]
    if settings.init not in ("noise", "content", "style"):
        found.append(Path(settings.init))
    return found


def check_outputs(outputs: Sequence[Path], inputs: Iterable[Path]) -> None:
    """Raise :class:`OutputError` for a name too long for its folder, or an output that is
    one of ``inputs`` (or one output written twice)."""
    for path in outputs:
        derived = path.stem != outputs[0].stem and path.stem.startswith(outputs[0].stem)
        problem = name_problem(path, beside=outputs[0] if derived else None)
        if problem:
            raise OutputError(problem)
    inputs = list(inputs)
    for path in outputs:
        same = next((p for p in inputs if same_file(path, p)), None)
        if same is not None:
            which = "one of the inputs" if _same_path(path, same) else f"the input {same}"
            raise OutputError(
                f"{path} is {which}, and writing the result there would destroy it; choose "
                "another output name."
            )


def name_problem(path: Path, beside: Path | None = None) -> str | None:
    """A sentence when ``path``'s name is longer than its folder's file system allows;
    ``beside``: the output whose name ``path`` extends (a snapshot's, a sweep grid's)."""
    size = len(os.fsencode(path.name))
    limit = name_limit(path.parent)
    if size <= limit:
        return None
    what = f"The file name {_short(path.name)}"
    if beside is not None:
        what += f", which the run writes beside {_short(beside.name)},"
    return (
        f"{what} is {size} bytes long, more than the {limit} the folder {path.parent} allows; "
        "choose a shorter output name."
    )


def name_limit(folder: Path) -> int:
    """The longest file name, in bytes, the file system of ``folder`` accepts."""
    try:
        limit = os.pathconf(folder if str(folder) else ".", "PC_NAME_MAX")
    except (OSError, ValueError, AttributeError):  # no such folder, or not a POSIX system
        return DEFAULT_NAME_MAX
    return limit if isinstance(limit, int) and limit > 0 else DEFAULT_NAME_MAX


def same_file(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` are one file: the same path, a symbolic link to it, or a hard
    link (same device and inode). A path that does not exist is no file."""
    try:
        sa, sb = os.stat(a), os.stat(b)
    except (OSError, ValueError):
        return False
    return (sa.st_dev, sa.st_ino) == (sb.st_dev, sb.st_ino)


def _same_path(a: Path, b: Path) -> bool:
    """Whether ``a`` and ``b`` name a file by the same way (not through a link)."""
    return os.path.abspath(a) == os.path.abspath(b)


def rescue_path(target: Path, folder: Path) -> Path:
    """A PNG in ``folder`` for a result that could not be written to ``target``: the start of
    stem's start and end, cut at characters, so a long name cannot make the rescue fail too."""
    raw = os.fsencode(target.stem)
    if len(raw) > RESCUE_STEM_BYTES:  # keep the end too: a sweep's grids differ only there
        raw = raw[: RESCUE_STEM_BYTES - 24] + b"~" + raw[-23:]
    stem = raw.decode("utf-8", "ignore") or "result"
    return folder / f"{stem}-rescued-{os.getpid()}.png"


def _short(name: str) -> str:
    return name if len(name) <= 40 else name[:24] + "…" + name[-12:]
