"""Writing files so that a crash, a kill or a full disk never leaves a half-written one.

Every file the program writes (pictures, time-lapses, presets, weights, history records) goes
through :func:`atomic_file`: a temporary file in the same folder, flushed to disk, given the mode
an ordinary ``open(path, "w")`` would give, then renamed over the target in one step.
"""

from __future__ import annotations

import errno
import os
import stat
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only when the ``with`` block ends normally.

    Any exception (the writer's own, or an OSError of the disk) removes the temporary file and
    propagates unchanged; :func:`describe_write_error` turns an OSError into a sentence.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix="." + target.name[:64] + ".", suffix=".part", dir=folder)
    try:
        with os.fdopen(fd, "wb") as out:
            yield out
            out.flush()
            os.fsync(out.fileno())
        os.chmod(tmp, new_file_mode(target))  # mkstemp makes 0600: other users could not read it
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_bytes(path: str | os.PathLike[str], data: bytes) -> Path:
    """``data`` to ``path`` atomically (see :func:`atomic_file`)."""
    with atomic_file(path) as out:
        out.write(data)
    return Path(path)


def describe_write_error(exc: OSError, path: str | os.PathLike[str]) -> str:
    """One sentence with a way forward for a failed write of ``path``."""
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    if isinstance(exc, FileNotFoundError):
        return f"The folder {folder} does not exist; choose another place."
    if isinstance(exc, PermissionError) or exc.errno == errno.EROFS:
        return f"Cannot write to {folder} (no permission); choose another folder."
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return f"The disk holding {folder} is full; free some space or choose another place."
    return f"Could not save {target.name} ({exc.strerror or exc}); try another place."


def new_file_mode(path: Path) -> int:
    """The mode ``open(path, "w")`` would give: kept when overwriting, else 0o666 less the umask."""
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except OSError:
        return 0o666 & ~_umask()


def _umask() -> int:
    """The process umask, read without changing it where the system allows.

    ``os.umask`` can only be read by setting it, which races with threads creating files at the
    same moment (the window saves while the run thread writes snapshots); Linux reports it in
    /proc, so the set-and-restore is only the fallback elsewhere.
    """
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask
