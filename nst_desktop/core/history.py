"""The run history: every finished run that made a picture, kept in the data folder.

Layout: ``<data>/history/<id>/`` holds ``result.png`` (with the run's settings embedded),
``thumb.jpg``, ``curve.json`` and ``entry.json``, the record, written last, so an entry without
one is a write that never finished. Every file is written atomically (core.files). Reading
trusts nothing: a damaged entry (unreadable or oversized record, missing picture, a pipe in
place of a file) is skipped with a warning, never an error. Unpinned entries beyond the user's
limits (:class:`Limits`) are removed, oldest first, after each new entry.

The CLI and the window both add entries through :func:`record_run`, called by core.session
when a run ends. Torch-free.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import stat
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from . import history_record as hr
from .files import check_regular, read_bounded, write_bytes
from .history_record import Entry, InputFile, RecordError
from .paths import data_dir

log = logging.getLogger(__name__)

#: The longest side of a thumbnail, in pixels.
THUMB_SIDE = 160
LIMITS_NAME = "limits.json"
#: Written once the old autosave folder's pictures have been moved into the history.
MIGRATED_NAME = ".autosave-migrated"
#: An entry folder without a record, older than this, is a write that died: it is removed.
STALE_S = 3600.0
#: The old autosave folder is migrated at most this many pictures (it kept 30).
MIGRATE_MAX = 200
MIGRATE_MAX_BYTES = 256 << 20


class HistoryError(Exception):
    """An entry cannot be found or changed; the message says what to do."""


@dataclass(frozen=True)
class Limits:
    """When unpinned entries are removed, oldest first: past either limit (pinned entries
    are neither counted nor removed)."""

    max_entries: int = 500
    max_bytes: int = 5 << 30  # 5 GB

    def to_dict(self) -> dict[str, int]:
        return {"max_entries": self.max_entries, "max_bytes": self.max_bytes}


@dataclass
class Scan:
    """What a listing found: entries newest first, the damaged ones as warnings, disk used."""

    entries: list[Entry]
    warnings: list[str]
    bytes: int = 0
    sizes: dict[str, int] | None = None


def history_dir() -> Path:
    return data_dir() / "history"


def autosave_dir() -> Path:
    """Where earlier versions kept finished runs; moved into the history on first use."""
    return data_dir() / "autosave"


class History:
    """The history folder: add, list, pin, delete and prune entries."""

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = Path(folder) if folder is not None else history_dir()

    # ------------------------------------------------------------------ writing
    def add(
        self,
        image: np.ndarray,
        record: dict[str, Any],
        *,
        metadata: dict[str, Any] | None = None,
        curve: Sequence[Sequence[float | None]] = (),
        created: float | None = None,
    ) -> Entry:
        """A new entry for ``image``; ``record`` holds the fields of the record (status,
        settings, inputs...). Raises OSError or ImageError when the disk refuses."""
        from PIL import Image

        from .images import save_image

        created = time.time() if created is None else created
        folder = self._new_folder(created)
        save_image(image, folder / hr.RESULT_NAME, metadata=metadata)
        thumb = Image.fromarray(np.ascontiguousarray(image), "RGB")
        thumb.thumbnail((THUMB_SIDE, THUMB_SIDE))
        save_image(thumb, folder / hr.THUMB_NAME, quality=85)
        write_bytes(folder / hr.CURVE_NAME, json.dumps(list(curve)).encode())
        data = {
            **record,
            "format": hr.RECORD_VERSION,
            "created": created,
            "size": [int(image.shape[1]), int(image.shape[0])],
            "pinned": bool(record.get("pinned", False)),
        }
        write_bytes(folder / hr.RECORD_NAME, json.dumps(data, indent=1).encode())
        return hr.parse_record(data, folder)

    def _new_folder(self, created: float) -> Path:
        self.folder.mkdir(parents=True, exist_ok=True)
        stem = time.strftime("%Y%m%d-%H%M%S", time.localtime(created))
        stem += f"-{int(created % 1 * 1e6):06d}"
        for n in range(1000):
            folder = self.folder / (stem if n == 0 else f"{stem}-{n}")
            try:
                folder.mkdir()
            except FileExistsError:
                continue
            return folder
        raise OSError(f"too many history entries named {stem}")

    # ------------------------------------------------------------------ reading
    def scan(self, *, sizes: bool = True) -> Scan:
        """Every readable entry, newest first; ``sizes`` also adds up the disk they use."""
        self.migrate_autosave()
        entries, warnings = [], []
        size_of: dict[str, int] = {}
        for folder in self._folders():
            try:
                entries.append(self._read(folder))
            except RecordError as exc:
                if _being_written(folder):
                    continue  # another run is writing it: not damaged, just not listed yet
                warnings.append(f"history entry {folder.name} was skipped: {exc}.")
                log.warning("history entry %s skipped: %s", folder.name, exc)
                continue
            if sizes:
                size_of[folder.name] = _folder_bytes(folder)
        entries.sort(key=lambda e: (e.created, e.id), reverse=True)
        return Scan(entries, warnings, sum(size_of.values()), size_of)

    def entries(self) -> list[Entry]:
        return self.scan(sizes=False).entries

    def get(self, entry_id: str) -> Entry:
        """The entry ``entry_id`` (or the one entry whose id starts with it)."""
        text = entry_id.strip()
        if not text or not all(c.isdigit() or c == "-" for c in text) or len(text) > 30:
            raise HistoryError(
                f"'{text[:40]}' is not a history id; 'nst-desktop history' lists them."
            )
        if hr.ID_PATTERN.match(text) and (self.folder / text).is_dir():
            matches = [self.folder / text]
        else:
            matches = [f for f in self._folders() if f.name.startswith(text)]
        if len(matches) != 1:
            what = "no history entry" if not matches else f"{len(matches)} history entries"
            raise HistoryError(
                f"There is {what} with the id {text}; 'nst-desktop history' lists them."
            )
        try:
            return self._read(matches[0])
        except RecordError as exc:
            raise HistoryError(f"The history entry {matches[0].name} is damaged: {exc}.") from None

    def _folders(self) -> Iterable[Path]:
        """The entry folders (real folders named like an id; links and other names are not
        this program's)."""
        try:
            items = list(os.scandir(self.folder))
        except OSError:
            return []
        return [
            Path(d.path)
            for d in items
            if hr.ID_PATTERN.match(d.name) and d.is_dir(follow_symlinks=False)
        ]

    def _read(self, folder: Path) -> Entry:
        try:
            raw = read_bounded(folder / hr.RECORD_NAME, hr.MAX_RECORD_BYTES)
        except FileNotFoundError:
            raise RecordError("its record is missing (a write that never finished)") from None
        except OSError as exc:
            raise RecordError(f"its record cannot be read ({exc.strerror or exc})") from None
        if len(raw) > hr.MAX_RECORD_BYTES:
            raise RecordError(f"its record is larger than {hr.MAX_RECORD_BYTES // 1024} KB")
        try:
            data = json.loads(raw)
        except (ValueError, RecursionError):
            raise RecordError("its record is not valid JSON") from None
        entry = hr.parse_record(data, folder)
        try:
            check_regular(entry.result)
        except FileNotFoundError:
            raise RecordError("its picture is missing") from None
        except OSError:
            raise RecordError("its picture is not a regular file") from None
        return entry

    # ------------------------------------------------------------------ changing
    def set_pinned(self, entry_id: str, pinned: bool) -> Entry:
        """Pin (kept whatever the limits) or unpin an entry; its record is rewritten."""
        entry = self.get(entry_id)
        raw = read_bounded(entry.folder / hr.RECORD_NAME, hr.MAX_RECORD_BYTES)
        data = json.loads(raw)
        data["pinned"] = bool(pinned)
        write_bytes(entry.folder / hr.RECORD_NAME, json.dumps(data, indent=1).encode())
        return replace(entry, pinned=bool(pinned))

    def delete(self, entry_id: str) -> None:
        entry = self.get(entry_id)
        _remove(entry.folder)

    # ------------------------------------------------------------------ limits
    def limits(self) -> Limits:
        """The user's limits; the defaults when none are set or the file is damaged."""
        try:
            data = json.loads(read_bounded(self.folder / LIMITS_NAME, 4096))
            entries, size = int(data["max_entries"]), int(data["max_bytes"])
        except (OSError, ValueError, KeyError, TypeError, RecursionError):
            return Limits()
        return Limits(max(1, min(entries, 100_000)), max(1 << 20, min(size, 1 << 50)))

    def set_limits(self, limits: Limits) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        write_bytes(self.folder / LIMITS_NAME, json.dumps(limits.to_dict()).encode())

    def prune(self, limits: Limits | None = None) -> list[str]:
        """Remove unpinned entries, oldest first, while past the limits; and folders of
        writes that died. Returns the ids removed."""
        limits = limits or self.limits()
        scan = self.scan()
        sizes = scan.sizes or {}
        unpinned = [e for e in scan.entries if not e.pinned]
        count, total = len(unpinned), sum(sizes.get(e.id, 0) for e in unpinned)
        removed = []
        for entry in reversed(unpinned):  # oldest first
            if count <= limits.max_entries and total <= limits.max_bytes:
                break
            _remove(entry.folder)
            removed.append(entry.id)
            count -= 1
            total -= sizes.get(entry.id, 0)
        self._remove_dead_writes({e.id for e in scan.entries})
        return removed

    def _remove_dead_writes(self, listed: set[str]) -> None:
        now = time.time()
        known = {hr.RESULT_NAME, hr.THUMB_NAME, hr.CURVE_NAME, hr.RECORD_NAME}
        for folder in self._folders():
            if folder.name in listed or (folder / hr.RECORD_NAME).exists():
                continue
            try:
                names = os.listdir(folder)
                old = now - folder.stat().st_mtime > STALE_S
            except OSError:
                continue
            if old and all(n in known or n.endswith(".part") for n in names):
                _remove(folder)

    # ------------------------------------------------------------------ the old autosave folder
    def migrate_autosave(self, source: Path | None = None) -> int:
        """Move the old autosave folder's pictures into entries, once; returns how many."""
        marker = self.folder / MIGRATED_NAME
        if marker.exists():
            return 0
        source = source or autosave_dir()
        moved = 0
        try:
            files = sorted(source.glob("*.png"))[:MIGRATE_MAX] if source.is_dir() else []
        except OSError:
            files = []
        for path in files:
            moved += self._migrate_one(path)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            write_bytes(marker, b"")
        except OSError as exc:
            log.warning("could not mark the autosave folder as moved: %s", exc)
        return moved

    def _migrate_one(self, path: Path) -> int:
        from .images import ImageError, open_image, read_metadata

        try:
            if check_regular(path).st_size > MIGRATE_MAX_BYTES:
                return 0
            image = np.asarray(open_image(path).image)
            meta = read_metadata(path) or {}
            created = _autosave_time(path)
        except (ImageError, OSError) as exc:
            log.warning("autosaved %s not moved into the history: %s", path.name, exc)
            return 0
        settings = meta.get("settings") if isinstance(meta.get("settings"), dict) else {}
        status = meta.get("status") if isinstance(meta.get("status"), str) else ""
        if status not in ("done", "stopped", "nonfinite", "error", "failed"):
            status = path.stem.rsplit("-", 1)[-1] if "-" in path.stem else "done"
            status = status if status in ("done", "stopped", "error") else "done"
        iterations = meta.get("iterations") if isinstance(meta.get("iterations"), int) else 0
        record = {"status": status, "settings": settings, "iterations": max(0, iterations)}
        for key in ("weights", "device"):
            if isinstance(meta.get(key), str):
                record[key] = meta[key]
        record["source"] = "autosave"
        try:
            self.add(image, record, metadata=meta or None, created=created)
            path.unlink()
        except (ImageError, OSError) as exc:
            log.warning("autosaved %s not moved into the history: %s", path.name, exc)
            return 0
        return 1


def _autosave_time(path: Path) -> float:
    """The start time an autosave's name holds (20250101-120000-done.png), else its mtime."""
    try:
        return time.mktime(time.strptime(path.name[:15], "%Y%m%d-%H%M%S"))
    except ValueError:
        return path.stat().st_mtime


def _being_written(folder: Path) -> bool:
    """A folder without a record, made moments ago: a write in progress."""
    try:
        young = time.time() - folder.stat().st_mtime < STALE_S
    except OSError:
        return False
    return young and not (folder / hr.RECORD_NAME).exists()


def _folder_bytes(folder: Path) -> int:
    total = 0
    try:
        for item in os.scandir(folder):
            st = item.stat(follow_symlinks=False)
            if stat.S_ISREG(st.st_mode):
                total += st.st_size
    except OSError:
        pass
    return total


def _remove(folder: Path) -> None:
    """Remove an entry folder (never through a link)."""
    try:
        if stat.S_ISDIR(folder.lstat().st_mode):
            shutil.rmtree(folder, ignore_errors=True)
    except OSError:
        pass


# --------------------------------------------------------------------------- from a run
def input_files(content: Path | None, styles: Iterable[tuple[Path, float]]) -> list[InputFile]:
    """The run's pictures with their absolute paths and sha256."""
    out = []
    if content is not None:
        out.append(InputFile("content", str(Path(content).absolute()), hr.file_sha256(content)))
    for path, weight in styles:
        out.append(InputFile("style", str(Path(path).absolute()), hr.file_sha256(path), weight))
    return out


def record_run(
    result: Any,
    *,
    inputs: list[InputFile],
    curve: hr.CurveSampler,
    seconds: float,
    source: str,
    history: History | None = None,
) -> Entry | None:
    """Keep a finished run (a core.session.RunResult) as a new entry, then prune; None when
    it made no picture. Raises OSError or ImageError when the disk refuses."""
    if result.image is None or result.iterations <= 0:
        return None
    history = history or History()
    meta = result.metadata
    last = curve.last
    record = {
        "status": str(result.status),
        "message": result.message,
        "iterations": result.iterations,
        "settings": meta.get("settings", {}),
        "inputs": [i.to_dict() for i in inputs],
        "weights": meta.get("weights", ""),
        "device": meta.get("device", ""),
        "source": source,
        "losses": dict(zip(hr.CURVE_TERMS, last[1:], strict=True)) if last else {},
        "seconds": round(seconds, 3),
    }
    record["losses"] = {k: v for k, v in record["losses"].items() if np.isfinite(v)}
    entry = history.add(result.image, record, metadata=meta, curve=curve.curve())
    removed = history.prune()
    if removed:
        log.info("history: removed %d old entries past the limits", len(removed))
    return entry
