"""The content picker (one photo: thumbnail, file dialog, drop, recent files), and the style
picker's import point.

Usage::

    recent = RecentFiles(qs, "recent/images")
    content = ContentPicker(recent, qs)
    content.changed.connect(on_content)        # str: the new path ("" when cleared)
    content.error.connect(show_message)        # str: one sentence (ImageError's message)
    content.settingsDropped.connect(load_settings_from_image)   # str: path
    content.set_path("photo.jpg"); content.path(); content.image_array()
    content.show_image(display_image)          # show a choice made elsewhere, without signals

    styles = StylePicker(recent, qs)           # see style_picker.py

Files that carry NST Desktop settings (an exported result) and are *dropped* emit
``settingsDropped(path)``, after being used as the image (an artist may restyle a result) unless
``use_settings_files_as_images`` is False. Files chosen in the file dialog are always images.
Every error a user can cause is reported through ``error`` as one sentence; the old choice stays.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
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
from PySide6.QtWidgets import QFileDialog, QMenu, QSizePolicy, QToolButton, QVBoxLayout, QWidget

from nst_desktop.core.images import ImageError
from nst_desktop.gui.picker_support import (
    ARRAY_MAX_SIDE,
    DROP_STYLE,
    IMAGE_FILTER,
    DisplayImage,
    RecentFiles,
    fill_recent_menu,
    fit_name,
    has_settings,
    last_folder,
    load_display,
    local_files,
    remember_folder,
)
from nst_desktop.gui.qimage import thumbnail_pixmap
from nst_desktop.gui.style_picker import StylePicker

__all__ = ["ARRAY_MAX_SIDE", "ContentPicker", "RecentFiles", "StylePicker"]


class ContentPicker(QWidget):
    """One image (the photo whose shapes are kept): a thumbnail button plus a recent menu."""

    changed = Signal(str)
    error = Signal(str)
    settingsDropped = Signal(str)

    THUMB = 104

    def __init__(
        self, recent: RecentFiles, qsettings: QSettings, parent: QWidget | None = None
    ) -> None:
        super().__init__(parent)
        self.setAcceptDrops(True)
        self.use_settings_files_as_images = True
        self._recent = recent
        self._qs = qsettings
        self._shown: DisplayImage | None = None

        self.button = QToolButton(self)
        self.button.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.button.setPopupMode(QToolButton.ToolButtonPopupMode.MenuButtonPopup)
        self.button.setIconSize(QSize(self.THUMB, self.THUMB))
        # the width is the thumbnail's, not the name's: a long name wraps; the styles get the rest
        self.button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Preferred)
        self.button.setFixedWidth(self.THUMB + 24)
        self.button.setMinimumHeight(self.THUMB + 16 + 2 * self.fontMetrics().lineSpacing())
        self.button.clicked.connect(self.browse)
        self.menu = QMenu(self.button)
        self.menu.aboutToShow.connect(
            lambda: fill_recent_menu(self.menu, self._recent, self.set_path)
        )
        self.button.setMenu(self.menu)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.button)
        self.show_image(None)

    # ------------------------------------------------------------------ public API
    def path(self) -> str | None:
        return self._shown.path if self._shown is not None else None

    def image_array(self) -> np.ndarray | None:
        """The chosen image as H x W x 3 uint8, at most ARRAY_MAX_SIDE px (for before/after)."""
        return self._shown.array if self._shown is not None else None

    def set_path(self, path: str | os.PathLike[str] | None) -> bool:
        """Use the image at ``path`` (None clears); on failure emit ``error`` and keep the old."""
        if path is None or os.fspath(path) == "":
            had = self._shown is not None
            self.show_image(None)
            if had:
                self.changed.emit("")
            return True
        try:
            shown = load_display(path)
        except ImageError as exc:
            self.error.emit(str(exc))
            return False
        self.show_image(shown)
        self._recent.add(shown.path)
        remember_folder(self._qs, shown.path)
        self.changed.emit(shown.path)
        return True

    def show_image(self, shown: DisplayImage | None) -> None:
        """Show a choice (the window model's); emits nothing."""
        self._shown = shown
        if shown is None:
            self.button.setIcon(self._empty_icon())
            self.button.setText("Content image…\nclick or drop a file")
            self.button.setToolTip(
                "The photo or picture whose shapes and layout you want to keep. Click to choose "
                "a file, drop one here, or use the arrow for pictures you used recently."
            )
            return
        self.button.setIcon(thumbnail_pixmap(shown.small, self.THUMB, self.devicePixelRatioF()))
        self.button.setText(self._fit(shown.name))
        self.button.setToolTip(
            f"{shown.path}\n{shown.width} × {shown.height} px\n\n"
            "Click to choose another picture, or drop one here."
        )

    def browse(self) -> None:
        """Ask for a file (starting in the last folder used) and use it."""
        start = str(Path(self._shown.path).parent) if self._shown else last_folder(self._qs)
        path, _ = QFileDialog.getOpenFileName(self, "Choose the content image", start, IMAGE_FILTER)
        if path:
            self.set_path(path)

    # ------------------------------------------------------------------ internals
    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        if self._shown is not None:
            self.button.setText(self._fit(self._shown.name))

    def _fit(self, text: str) -> str:
        """The whole name, on two lines if need be, cut at its end only when that is too little."""
        return fit_name(text, self.button.fontMetrics(), max(60, self.button.width() - 16))

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
        if local_files(event):
            event.acceptProposedAction()
            self.button.setStyleSheet(DROP_STYLE)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 (Qt API)
        self.button.setStyleSheet("")

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        self.button.setStyleSheet("")
        files = local_files(event)
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        path = files[0]
        if has_settings(path):
            if self.use_settings_files_as_images:
                self.set_path(path)
            self.settingsDropped.emit(os.path.abspath(path))
        else:
            self.set_path(path)
