"""Writing files so that a crash, a kill or a full disk never leaves a half-written one.

Every file the program writes (pictures, time-lapses, presets, weights, history records) goes
through :func:`atomic_file`: a temporary file in the same folder, flushed to disk, given the mode
an ordinary ``open(path, "w")`` would give, then renamed over the target in one step. The
temporary file is locked while it is written, so a later writer can tell one left by a killed
process (:func:`remove_stale_parts`) from one still being written.

Every file the program reads that the user did not make goes through :func:`open_regular`: a
named pipe or a device would make a read block forever or never end.
"""

from __future__ import annotations

import errno
import glob
import os
import stat
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import BinaryIO

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: an open file cannot be deleted anyway
    fcntl = None  # type: ignore[assignment]

#: A temporary file younger than this is never taken for a stale one (it may not be locked yet).
STALE_AFTER_S = 5.0


class NotARegularFileError(OSError):
    """The path is a named pipe, a device or a socket: reading it could block or never end."""

    def __init__(self, path: str | os.PathLike[str], mode: int) -> None:
        self.kind = special_kind(mode)
        super().__init__(errno.EINVAL, f"{os.fspath(path)} is {self.kind}, not a file")


@contextmanager
def atomic_file(path: str | os.PathLike[str]) -> Iterator[BinaryIO]:
    """Yield a binary file that replaces ``path`` only when the ``with`` block ends normally.

    Any exception (the writer's own, or an OSError of the disk) removes the temporary file and
    propagates unchanged; :func:`describe_write_error` turns an OSError into a sentence.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    fd, tmp = tempfile.mkstemp(prefix=_part_prefix(target), suffix=".part", dir=folder)
    _lock(fd)
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


# --------------------------------------------------------------------------- temporary files
def _part_prefix(target: Path) -> str:
    name = os.fsencode(target.name)[:64].decode("utf-8", "ignore")  # bytes: the limit counts them
    return "." + name + "."


def _lock(fd: int) -> bool:
    """An exclusive lock on an open file, held until it is closed (or its process dies)."""
    if fcntl is None:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:  # held by a live writer, or a file system without locks
        return False
    return True


def remove_stale_parts(path: str | os.PathLike[str]) -> list[Path]:
    """Delete the temporary files of writes of ``path`` whose writer died (killed, crashed).

    A writer still at work holds its file's lock, so its file is left alone; so is one younger
    than :data:`STALE_AFTER_S`. Returns what was removed.
    """
    target = Path(path)
    folder = target.parent if str(target.parent) else Path(".")
    removed: list[Path] = []
    pattern = glob.escape(_part_prefix(target)) + "*.part"
    try:
        candidates = list(folder.glob(pattern))
    except OSError:
        return removed
    now = time.time()
    for part in candidates:
        try:
            st = part.lstat()
            if not stat.S_ISREG(st.st_mode) or now - st.st_mtime < STALE_AFTER_S:
                continue
            fd = os.open(part, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
        except OSError:
            continue
        try:
            if _lock(fd):
                part.unlink()
                removed.append(part)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed


# --------------------------------------------------------------------------- reading
def special_kind(mode: int) -> str:
    """What a file that is not a regular file is, in plain words."""
    if stat.S_ISDIR(mode):
        return "a folder"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    if stat.S_ISSOCK(mode):
        return "a socket"
    return "not a regular file"


def check_regular(path: str | os.PathLike[str]) -> os.stat_result:
    """The file's status; raises FileNotFoundError, IsADirectoryError or NotARegularFileError."""
    st = os.stat(path)
    if stat.S_ISDIR(st.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", os.fspath(path))
    if not stat.S_ISREG(st.st_mode):
        raise NotARegularFileError(path, st.st_mode)
    return st


def open_regular(path: str | os.PathLike[str]) -> BinaryIO:
    """Open a regular file for binary reading; never blocks on a named pipe or a device.

    The path is checked before it is opened (opening some devices acts on them) and the open
    file again (the path may have been swapped in between); it is opened non-blocking, so not
    even a pipe swapped in at that moment can hang it.
    """
    check_regular(path)
    nonblock = getattr(os, "O_NONBLOCK", 0)
    flags = os.O_RDONLY | nonblock | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_BINARY", 0)
    fd = os.open(path, flags)
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            raise NotARegularFileError(path, mode)
        if nonblock:
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_bounded(path: str | os.PathLike[str], limit: int) -> bytes:
    """At most ``limit + 1`` bytes of a regular file (one more than allowed tells "too big")."""
    with open_regular(path) as f:
        return f.read(limit + 1)
