"""What the image pickers share: recent files, the last folder, drops, and display copies.

Usage::

    recent = RecentFiles(qs, "recent/images")
    recent.add("photo.jpg"); recent.paths()
    shown = load_display("photo.jpg")     # DisplayImage: a <= 2048 px copy; raises ImageError
    label.setText(fit_name(shown.name, label.fontMetrics(), label.width()))  # 1-2 lines

:func:`load_display` keeps the last few pictures, so the picker that shows a thumbnail and the
window model that needs the photo for before/after decode a file once.
"""

from __future__ import annotations

import os
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QDragEnterEvent, QDropEvent, QFontMetrics
from PySide6.QtWidgets import QMenu

from nst_desktop.core.images import load_image, read_metadata
from nst_desktop.gui import prefs

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)"
LAST_FOLDER_KEY = "pickers/last_folder"
#: Display copies keep at most this many pixels on the longest side (they are only shown).
ARRAY_MAX_SIDE = 2048
DROP_STYLE = "QToolButton, QFrame#drop {border: 2px dashed palette(highlight);}"
_CACHE_SIZE = 6


@dataclass(frozen=True)
class DisplayImage:
    """A picture as the window shows it: its path, full size, and a small RGB copy."""

    path: str
    width: int
    height: int
    small: Image.Image  # at most ARRAY_MAX_SIDE on its longest side
    array: np.ndarray  # the same pixels, H x W x 3 uint8

    @property
    def name(self) -> str:
        return Path(self.path).name


_cache: OrderedDict[tuple[str, int, int], DisplayImage] = OrderedDict()
_cache_lock = threading.Lock()


def load_display(path: str | os.PathLike[str]) -> DisplayImage:
    """The picture at ``path`` for display; raises core.images.ImageError with one sentence."""
    p = os.path.abspath(os.fspath(path))
    try:
        st = os.stat(p)
        key = (p, st.st_mtime_ns, st.st_size)
    except OSError:
        key = (p, 0, 0)
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    img = load_image(p)
    small = img.copy()
    small.thumbnail((ARRAY_MAX_SIDE, ARRAY_MAX_SIDE), Image.Resampling.LANCZOS)
    small = small.convert("RGB")
    shown = DisplayImage(p, img.width, img.height, small, np.asarray(small, np.uint8).copy())
    with _cache_lock:
        _cache[key] = shown
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return shown


class RecentFiles:
    """A most-recent-first list of image paths kept in QSettings under ``key``."""

    def __init__(self, qsettings: QSettings, key: str, limit: int = 10) -> None:
        self._qs = qsettings
        self._key = key
        self._limit = max(1, int(limit))

    def _stored(self) -> list[str]:
        value = prefs.read_value(self._qs, self._key)
        if isinstance(value, str):  # INI files read a one-element list back as a string
            value = [value]
        if not isinstance(value, (list, tuple)):
            return []
        paths = (prefs.decode_path(v, self._key) for v in value[: self._limit * 4])
        return [p for p in paths if p]

    def paths(self) -> list[str]:
        """Stored paths that still exist as files, most recent first, without duplicates."""
        out: list[str] = []
        for p in self._stored():
            try:
                ok = Path(p).is_file()
            except (OSError, ValueError):
                ok = False
            if ok and p not in out:
                out.append(p)
        return out[: self._limit]

    def add(self, path: str | os.PathLike[str]) -> None:
        p = os.path.abspath(os.fspath(path))
        items = [p] + [q for q in self._stored() if q != p]
        self._qs.setValue(self._key, [prefs.encode_path(q) for q in items[: self._limit]])

    def clear(self) -> None:
        self._qs.remove(self._key)


def local_files(event: QDragEnterEvent | QDropEvent) -> list[str]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def has_settings(path: str) -> bool:
    try:
        return isinstance(read_metadata(path), dict)
    except Exception:  # never let a strange file break a drop
        return False


def last_folder(qs: QSettings) -> str:
    value = qs.value(LAST_FOLDER_KEY)
    if isinstance(value, str) and value and Path(value).is_dir():
        return value
    return str(Path.home())


def remember_folder(qs: QSettings, path: str) -> None:
    qs.setValue(LAST_FOLDER_KEY, str(Path(path).resolve().parent))


def fill_recent_menu(menu: QMenu, recent: RecentFiles, choose) -> None:
    menu.clear()
    paths = recent.paths()
    if not paths:
        a = menu.addAction("No recent images")
        a.setEnabled(False)
        return
    for p in paths:
        a = menu.addAction(Path(p).name)
        a.setToolTip(p)
        a.triggered.connect(lambda _=False, p=p: choose(p))
    menu.addSeparator()
    menu.addAction("Clear recent images", recent.clear)


#: Where a file name may wrap onto its second line: after these characters.
_BREAKS = " _-.·"


def fit_name(text: str, metrics: QFontMetrics, width: int) -> str:
    """``text`` as whole as ``width`` allows: one line, else two (wrapped after ``_``, ``-``,
    ``.`` or a space where one falls late enough), else two with the second cut at its end."""
    width = max(1, width)
    if metrics.horizontalAdvance(text) <= width:
        return text
    cut = 1
    while cut < len(text) and metrics.horizontalAdvance(text[: cut + 1]) <= width:
        cut += 1
    ext = text.rfind(".")  # "landscape." over "png" reads badly: not before the extension
    soft = max((i + 1 for i, ch in enumerate(text[:cut]) if ch in _BREAKS and i != ext), default=0)
    if soft >= cut // 3 and soft < len(text):
        cut = soft
    first, rest = text[:cut], text[cut:]
    return first + "\n" + metrics.elidedText(rest, Qt.TextElideMode.ElideRight, width)
