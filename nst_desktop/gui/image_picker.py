"""Content and style pickers: thumbnails, file dialogs, drag & drop, recent files.

Usage::

    qs = QSettings()
    recent = RecentFiles(qs, "recent/images")
    content = ContentPicker(recent, qs)
    content.changed.connect(on_content)        # str: the new path
    content.error.connect(show_message)        # str: one sentence (ImageError's message)
    content.settingsDropped.connect(load_settings_from_image)   # str: path
    content.set_path("photo.jpg"); content.path(); content.image_array()

    styles = StylePicker(recent, qs)
    styles.changed.connect(on_styles)
    styles.set_entries([("a.png", 1.0), ("b.png", 0.5)]); styles.entries(); styles.add_path("c.png")

Files that carry NST Desktop settings (an exported result: ``core.images.read_metadata`` returns a
dict) and are *dropped* on a picker emit ``settingsDropped(path)``. By default the file is also used
as the image first (an artist may want to restyle a result), and the signal is emitted after that,
so the window can then offer or apply the settings; set ``use_settings_files_as_images = False``
to only emit the signal. Files chosen in the file dialog are always used as images.

Every error a user can cause (unreadable, missing, damaged file) is reported through ``error``
as one sentence; the previous choice stays.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PIL import Image
from PySide6.QtCore import QSettings, QSize, Qt, Signal
from PySide6.QtGui import (
    QColor,
    QDragEnterEvent,
    QDragLeaveEvent,
    QDropEvent,
    QPainter,
    QPen,
    QPixmap,
    QResizeEvent,
)
from PySide6.QtWidgets import (
    QDoubleSpinBox,
    QFileDialog,
    QFrame,
    QHBoxLayout,
    QLabel,
    QMenu,
    QScrollArea,
    QSizePolicy,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core.images import ImageError, load_image, read_metadata
from nst_desktop.gui.qimage import thumbnail_pixmap

IMAGE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff *.bmp *.gif);;All files (*)"
LAST_FOLDER_KEY = "pickers/last_folder"
#: image_array() keeps at most this many pixels on the longest side (it is only for display).
ARRAY_MAX_SIDE = 2048
_DROP_STYLE = "QToolButton, QFrame#drop {border: 2px dashed palette(highlight);}"


class RecentFiles:
    """A most-recent-first list of image paths kept in QSettings under ``key``."""

    def __init__(self, qsettings: QSettings, key: str, limit: int = 10) -> None:
        self._qs = qsettings
        self._key = key
        self._limit = max(1, int(limit))

    def _stored(self) -> list[str]:
        try:
            value = self._qs.value(self._key)
        except Exception:  # a value of an unknown type in a hand-edited file
            return []
        if isinstance(value, str):  # INI files read a one-element list back as a string
            value = [value]
        if not isinstance(value, (list, tuple)):
            return []
        return [v for v in value if isinstance(v, str) and v and "\0" not in v]

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
        self._qs.setValue(self._key, items[: self._limit])

    def clear(self) -> None:
        self._qs.remove(self._key)


def _local_files(event: QDragEnterEvent | QDropEvent) -> list[str]:
    mime = event.mimeData()
    if mime is None or not mime.hasUrls():
        return []
    return [u.toLocalFile() for u in mime.urls() if u.isLocalFile() and u.toLocalFile()]


def _has_settings(path: str) -> bool:
    try:
        return isinstance(read_metadata(path), dict)
    except Exception:  # never let a strange file break a drop
        return False


def _last_folder(qs: QSettings) -> str:
    value = qs.value(LAST_FOLDER_KEY)
    if isinstance(value, str) and value and Path(value).is_dir():
        return value
    return str(Path.home())


def _remember_folder(qs: QSettings, path: str) -> None:
    qs.setValue(LAST_FOLDER_KEY, str(Path(path).resolve().parent))


def _fill_recent_menu(menu: QMenu, recent: RecentFiles, choose) -> None:
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


class ContentPicker(QWidget):
    """One image (the photo whose shapes are kept): a thumbnail button plus a recent menu."""

    changed = Signal(str)
    error = Signal(str)
    settingsDropped = Signal(str)

    THUMB = 112

    def __init__(
        self, recent: RecentFiles, qsettings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.use_settings_files_as_images = True
        self._recent = recent
        self._qs = qsettings
        self._path: str | None = None
        self._array: np.ndarray | None = None
        self._name = ""

        self.button = QToolButton(self)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.button.setIconSize(QSize(self.THUMB, self.THUMB))
        self.button.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
        self.button.setMinimumHeight(self.THUMB + 36)
        self.button.clicked.connect(self.browse)
        self.menu = QMenu(self.button)
        self.menu.aboutToShow.connect(
            lambda: _fill_recent_menu(self.menu, self._recent, self._choose_recent)
        )
        self.button.setMenu(self.menu)
        self.button.setToolTip(
            "The photo or picture whose shapes and layout you want to keep. Click to choose a "
            "file, drop one here, or use the arrow for pictures you used recently."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        self._show_empty()

    # ------------------------------------------------------------------ public API
    def path(self) -> str | None:
        return self._path

    def image_array(self) -> np.ndarray | None:
        """The chosen image as H x W x 3 uint8, at most ARRAY_MAX_SIDE px (for before/after)."""
        return self._array

    def set_path(self, path: str | os.PathLike[str] | None) -> bool:
        """Use the image at ``path`` (None clears); on failure emit ``error`` and keep the old."""
        if path is None or os.fspath(path) == "":
            changed = self._path is not None
            self._path, self._array = None, None
            self._show_empty()
            if changed:
                self.changed.emit("")
            return True
        p = os.path.abspath(os.fspath(path))
        try:
            img = load_image(p)
        except ImageError as exc:
            self.error.emit(str(exc))
            return False
        self._apply(p, img)
        return True

    def browse(self) -> None:
        """Ask for a file (starting in the last folder used) and use it."""
        start = str(Path(self._path).parent) if self._path else _last_folder(self._qs)
        path, _ = QFileDialog.getOpenFileName(self, "Choose the content image", start, IMAGE_FILTER)
        if path:
            self.set_path(path)

    # ------------------------------------------------------------------ internals
    def _choose_recent(self, path: str) -> None:
        self.set_path(path)

    def _apply(self, path: str, img: Image.Image) -> None:
        small = img.copy()
        small.thumbnail((ARRAY_MAX_SIDE, ARRAY_MAX_SIDE), Image.Resampling.LANCZOS)
        self._array = np.asarray(small.convert("RGB"), dtype=np.uint8).copy()
        self._path = path
        self.button.setIcon(thumbnail_pixmap(img, self.THUMB, self.devicePixelRatioF()))
        self.button.setText(self._elide(Path(path).name))
        self._name = Path(path).name
        self.button.setToolTip(f"{path}\n{img.width} × {img.height} px\n\n" + self._help())
        self._recent.add(path)
        _remember_folder(self._qs, path)
        self.changed.emit(path)

    @staticmethod
    def _help() -> str:
        return "Click to choose another picture, or drop one here."

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self._path:
            self.button.setText(self._elide(self._name))

    def _elide(self, text: str) -> str:
        width = max(80, self.button.width() - 24)
        return self.button.fontMetrics().elidedText(text, Qt.TextElideMode.ElideMiddle, width)

    def _show_empty(self) -> None:
        self.button.setIcon(self._empty_icon())
        self.button.setText("Content image…\nclick or drop a file")

    def _empty_icon(self) -> QPixmap:
        """A dashed frame with a plus: 'a picture goes here'."""
        dpr = self.devicePixelRatioF()
        n = self.THUMB
        pm = QPixmap(round(n * dpr), round(n * dpr))
        pm.setDevicePixelRatio(dpr)
        pm.fill(Qt.GlobalColor.transparent)
        p = QPainter(pm)
        p.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        ink = QColor(self.palette().color(self.palette().ColorRole.Mid))
        p.setPen(QPen(ink, 2, Qt.PenStyle.DashLine))
        p.drawRoundedRect(6, 6, n - 12, n - 12, 8, 8)
        p.setPen(QPen(ink, 3))
        c, arm = n / 2, n / 8
        p.drawLine(round(c - arm), round(c), round(c + arm), round(c))
        p.drawLine(round(c), round(c - arm), round(c), round(c + arm))
        p.end()
        return pm

    # ------------------------------------------------------------------ drag & drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        if _local_files(event):
            event.acceptProposedAction()
            self.button.setStyleSheet(_DROP_STYLE)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 (Qt API)
        self.button.setStyleSheet("")

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        self.button.setStyleSheet("")
        files = _local_files(event)
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        path = files[0]
        if _has_settings(path):
            if self.use_settings_files_as_images:
                self.set_path(path)
            self.settingsDropped.emit(os.path.abspath(path))
        else:
            self.set_path(path)


class _StyleRow(QFrame):
    """One style: thumbnail, file name, blend weight, remove button."""

    THUMB = 48

    def __init__(self, path: str, img: Image.Image, weight: float, parent: QWidget) -> None:
        super().__init__(parent)
        self.path = path
        self.setFrameShape(QFrame.Shape.StyledPanel)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        thumb = QLabel(self)
        thumb.setFixedSize(self.THUMB, self.THUMB)
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        thumb.setPixmap(thumbnail_pixmap(img, self.THUMB, self.devicePixelRatioF()))
        self.name = QLabel(Path(path).name, self)
        self.name.setToolTip(f"{path}\n{img.width} × {img.height} px")
        self.name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.name.setMinimumWidth(40)
        self.weight = QDoubleSpinBox(self)
        self.weight.setRange(0.0, 100.0)
        self.weight.setDecimals(2)
        self.weight.setSingleStep(0.1)
        self.weight.setValue(weight)
        self.weight.setToolTip(
            "How much of this artwork goes into the mix. Weights are relative: two styles at "
            "1 and 1 blend half and half; 0 leaves this one out."
        )
        self.remove = QToolButton(self)
        self.remove.setText("✕")
        self.remove.setAutoRaise(True)
        self.remove.setToolTip("Take this artwork out of the mix.")
        self._full_name = Path(path).name
        row.addWidget(thumb)
        row.addWidget(self.name, 1)
        row.addWidget(self.weight)
        row.addWidget(self.remove)

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self.name.setText(
            self.name.fontMetrics().elidedText(
                self._full_name, Qt.TextElideMode.ElideMiddle, max(20, self.name.width())
            )
        )


class StylePicker(QWidget):
    """Several style images (artworks), each with a blend weight."""

    changed = Signal()
    error = Signal(str)
    settingsDropped = Signal(str)

    def __init__(
        self, recent: RecentFiles, qsettings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.use_settings_files_as_images = True
        self._recent = recent
        self._qs = qsettings
        self._rows: list[_StyleRow] = []

        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_layout.setSpacing(3)
        self._empty = QLabel("Drop artworks here, or press “Add style…”", self._list)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setStyleSheet("color: palette(mid); padding: 12px;")
        self._list_layout.addWidget(self._empty)
        self._list_layout.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("drop")
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self._list)
        self.scroll.setMinimumHeight(_StyleRow.THUMB + 24)
        self.scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)

        self.add_button = QToolButton(self)
        self.add_button.setText("Add style…")
        self.add_button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.add_button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextOnly)
        self.add_button.clicked.connect(self.browse)
        self.add_button.setToolTip(
            "Add an artwork whose brushwork, colours and textures you want to borrow. You can "
            "mix several; each one's weight says how much of it goes in."
        )
        self.menu = QMenu(self.add_button)
        self.menu.aboutToShow.connect(
            lambda: _fill_recent_menu(self.menu, self._recent, self.add_path)
        )
        self.add_button.setMenu(self.menu)
        self.setToolTip(
            "The artworks to borrow a style from. Drop several files here to add them all."
        )
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll, 1)
        layout.addWidget(self.add_button, 0, Qt.AlignmentFlag.AlignLeft)

    # ------------------------------------------------------------------ public API
    def entries(self) -> list[tuple[str, float]]:
        return [(r.path, float(r.weight.value())) for r in self._rows]

    def paths(self) -> list[str]:
        return [r.path for r in self._rows]

    def set_entries(self, entries: list[tuple[str, float]]) -> bool:
        """Replace the list; unreadable files are reported via ``error`` and left out.

        Emits ``changed`` once. Returns True when every entry could be used.
        """
        ok = True
        for row in list(self._rows):
            self._remove(row, emit=False)
        for path, weight in entries:
            ok = self._add(path, weight) and ok
        self.changed.emit()
        return ok

    def add_path(self, path: str | os.PathLike[str], weight: float = 1.0) -> bool:
        """Add one style image (a file already in the list is not added twice)."""
        added = self._add(path, weight)
        if added:
            self.changed.emit()
        return added

    def clear(self) -> None:
        if self._rows:
            for row in list(self._rows):
                self._remove(row, emit=False)
            self.changed.emit()

    def browse(self) -> None:
        start = str(Path(self._rows[-1].path).parent) if self._rows else _last_folder(self._qs)
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose style images", start, IMAGE_FILTER)
        added = False
        for p in paths:
            added = self._add(p, 1.0) or added
        if added:
            self.changed.emit()

    # ------------------------------------------------------------------ internals
    def _add(self, path: str | os.PathLike[str], weight: float) -> bool:
        p = os.path.abspath(os.fspath(path))
        if p in self.paths():
            return False
        try:
            img = load_image(p)
        except ImageError as exc:
            self.error.emit(str(exc))
            return False
        try:
            w = float(weight)
        except (TypeError, ValueError):
            w = 1.0
        w = min(100.0, max(0.0, w)) if np.isfinite(w) else 1.0
        row = _StyleRow(p, img, w, self._list)
        row.weight.valueChanged.connect(lambda _v: self.changed.emit())
        row.remove.clicked.connect(lambda _=False, r=row: self._remove(r))
        self._rows.append(row)
        self._list_layout.insertWidget(len(self._rows) - 1, row)
        self._empty.setVisible(False)
        self._recent.add(p)
        _remember_folder(self._qs, p)
        return True

    def _remove(self, row: _StyleRow, emit: bool = True) -> None:
        if row not in self._rows:
            return
        self._rows.remove(row)
        self._list_layout.removeWidget(row)
        row.hide()
        row.deleteLater()
        self._empty.setVisible(not self._rows)
        if emit:
            self.changed.emit()

    # ------------------------------------------------------------------ drag & drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        if _local_files(event):
            event.acceptProposedAction()
            self.scroll.setStyleSheet(_DROP_STYLE)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 (Qt API)
        self.scroll.setStyleSheet("")

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        self.scroll.setStyleSheet("")
        files = _local_files(event)
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        added, with_settings = False, []
        for f in files:
            has = _has_settings(f)
            if has:
                with_settings.append(os.path.abspath(f))
            if not has or self.use_settings_files_as_images:
                added = self._add(f, 1.0) or added
        if added:
            self.changed.emit()
        for f in with_settings:
            self.settingsDropped.emit(f)
