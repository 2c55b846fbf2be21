"""The style picker: several artworks, each with a blend weight.

Usage::

    styles = StylePicker(recent, qs)
    styles.edited.connect(model.set_styles)    # [(path, weight), ...] after every user edit
    styles.changed.connect(...)                # the same moment, without the list
    styles.set_entries([("a.png", 1.0), ("b.png", 0.5)]); styles.entries(); styles.add_path("c.png")
    styles.show_entries(entries)               # show a choice made elsewhere, without signals

Unreadable files are reported through ``error`` as one sentence and left out.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent, QDropEvent, QResizeEvent
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

from nst_desktop.core.images import ImageError
from nst_desktop.gui.picker_support import (
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
from nst_desktop.gui.regions import region_color

MAX_WEIGHT = 100.0
EMPTY_HINT = "Drop artworks here, or press “Add style…”"
BLEND_HINT = "Drop more artworks here to blend"


def clamp_weight(weight: object) -> float:
    """A blend weight the spin box can hold: 0..100, 1 for anything that is not a number."""
    try:
        w = float(weight)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return 1.0
    return min(MAX_WEIGHT, max(0.0, w)) if math.isfinite(w) else 1.0


class _StyleRow(QFrame):
    """One style: thumbnail, file name, blend weight, remove button."""

    THUMB = 44

    def __init__(self, shown: DisplayImage, weight: float, parent: QWidget) -> None:
        super().__init__(parent)
        self.path = shown.path
        self.setFrameShape(QFrame.Shape.StyledPanel)
        # as tall as its name needs: when the rows do not fit, the list scrolls
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)
        row = QHBoxLayout(self)
        row.setContentsMargins(4, 4, 4, 4)
        row.setSpacing(4)  # a narrow panel keeps the remove button in view
        self.swatch = QLabel(self)  # the colour of this style's region (gui/regions.py)
        self.swatch.setFixedSize(6, self.THUMB)
        self.swatch.setToolTip("The colour of this style's region on the picture (Regions tab).")
        row.addWidget(self.swatch)
        thumb = QLabel(self)
        thumb.setFixedSize(self.THUMB, self.THUMB)
        thumb.setAlignment(Qt.AlignmentFlag.AlignCenter)
        thumb.setPixmap(thumbnail_pixmap(shown.small, self.THUMB, self.devicePixelRatioF()))
        self.name = QLabel(shown.name, self)
        self.name.setToolTip(f"{shown.path}\n{shown.width} × {shown.height} px")
        self.name.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.name.setMinimumWidth(40)
        self.weight = QDoubleSpinBox(self)
        self.weight.setRange(0.0, MAX_WEIGHT)
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
        self.remove.setFixedWidth(22)
        self.remove.setToolTip("Take this artwork out of the mix.")
        self.file_name = shown.name
        self._full_name = shown.name
        # the name has a line of its own, as wide as the row, so a narrow panel still shows it
        weight_row = QHBoxLayout()
        weight_row.setSpacing(4)
        weight_row.addWidget(QLabel("weight", self))
        weight_row.addWidget(self.weight)
        weight_row.addStretch(1)
        weight_row.addWidget(self.remove)
        text = QVBoxLayout()
        text.setSpacing(2)
        text.addWidget(self.name)
        text.addLayout(weight_row)
        row.addWidget(thumb, 0, Qt.AlignmentFlag.AlignTop)
        row.addLayout(text, 1)

    def set_number(self, number: int) -> None:
        """Show the name as "1 · swirls.png": the number says which style is which."""
        self._full_name = f"{number} · {self.file_name}"
        self._fit()

    def _fit(self) -> None:
        self.name.setText(fit_name(self._full_name, self.name.fontMetrics(), self.name.width()))

    def resizeEvent(self, event: QResizeEvent) -> None:  # noqa: N802 (Qt API)
        super().resizeEvent(event)
        self._fit()


class StylePicker(QWidget):
    """Several style images (artworks), each with a blend weight."""

    changed = Signal()
    edited = Signal(list)  # [(path, weight), ...]
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
        self._quiet = False

        self._list = QWidget()
        self._list_layout = QVBoxLayout(self._list)
        self._list_layout.setContentsMargins(0, 0, 0, 0)
        self._list_layout.setSpacing(3)
        self._empty = QLabel(EMPTY_HINT, self._list)
        self._empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self._empty.setWordWrap(True)
        self._empty.setStyleSheet("color: palette(mid); padding: 12px;")
        self._list_layout.addWidget(self._empty)
        self._list_layout.addStretch(1)
        self.scroll = QScrollArea(self)
        self.scroll.setObjectName("drop")
        self.scroll.setWidgetResizable(True)
        self.scroll.setWidget(self._list)
        self.scroll.setMinimumHeight(2 * _StyleRow.THUMB + 44)  # two rows, names on two lines
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
            lambda: fill_recent_menu(self.menu, self._recent, self.add_path)
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
        ok = self._replace(entries)
        self._emit()
        return ok

    def show_entries(self, entries: list[tuple[str, float]]) -> None:
        """Show a list chosen elsewhere (the window model's); emits nothing."""
        if [(p, clamp_weight(w)) for p, w in entries] == self.entries():
            return
        self._quiet = True
        try:
            if [p for p, _ in entries] == self.paths():
                for row, (_, w) in zip(self._rows, entries, strict=True):
                    row.weight.setValue(clamp_weight(w))
            else:
                self._replace(entries)
        finally:
            self._quiet = False

    def add_path(self, path: str | os.PathLike[str], weight: float = 1.0) -> bool:
        """Add one style image (a file already in the list is not added twice)."""
        added = self._add(path, weight)
        if added:
            self._emit()
        return added

    def clear(self) -> None:
        if self._rows:
            for row in list(self._rows):
                self._remove(row, emit=False)
            self._emit()

    def browse(self) -> None:
        start = str(Path(self._rows[-1].path).parent) if self._rows else last_folder(self._qs)
        paths, _ = QFileDialog.getOpenFileNames(self, "Choose style images", start, IMAGE_FILTER)
        added = False
        for p in paths:
            added = self._add(p, 1.0) or added
        if added:
            self._emit()

    # ------------------------------------------------------------------ internals
    def _emit(self) -> None:
        if not self._quiet:
            self.changed.emit()
            self.edited.emit(self.entries())

    def _replace(self, entries: list[tuple[str, float]]) -> bool:
        ok = True
        for row in list(self._rows):
            self._remove(row, emit=False)
        for path, weight in entries:
            ok = self._add(path, weight) and ok
        return ok

    def _add(self, path: str | os.PathLike[str], weight: float) -> bool:
        p = os.path.abspath(os.fspath(path))
        if p in self.paths():
            return False
        try:
            shown = load_display(p)
        except ImageError as exc:
            self.error.emit(str(exc))
            return False
        row = _StyleRow(shown, clamp_weight(weight), self._list)
        row.weight.valueChanged.connect(lambda _v: self._emit())
        row.remove.clicked.connect(lambda _=False, r=row: self._remove(r))
        self._rows.append(row)
        self._list_layout.insertWidget(len(self._rows) - 1, row)
        self._recolor()
        row.set_number(len(self._rows))
        self._show_hint()
        self._recent.add(p)
        remember_folder(self._qs, p)
        return True

    def _show_hint(self) -> None:
        """The list's free room says what it is for: the first drop, then a blend (two rows fill
        it, so from there on the hint would only make it scroll)."""
        self._empty.setText(EMPTY_HINT if not self._rows else BLEND_HINT)
        self._empty.setVisible(len(self._rows) <= 1)

    def _recolor(self) -> None:
        """Each row shows its region's colour: the colour of its place in the list."""
        for i, row in enumerate(self._rows):
            r, g, b = region_color(i)
            row.swatch.setStyleSheet(f"background: rgb({r}, {g}, {b}); border-radius: 2px;")

    def _remove(self, row: _StyleRow, emit: bool = True) -> None:
        if row not in self._rows:
            return
        self._rows.remove(row)
        self._list_layout.removeWidget(row)
        for number, other in enumerate(self._rows, 1):
            other.set_number(number)
        row.hide()
        row.deleteLater()
        self._recolor()
        self._show_hint()
        if emit:
            self._emit()

    # ------------------------------------------------------------------ drag & drop
    def dragEnterEvent(self, event: QDragEnterEvent) -> None:  # noqa: N802 (Qt API)
        if local_files(event):
            event.acceptProposedAction()
            self.scroll.setStyleSheet(DROP_STYLE)
        else:
            event.ignore()

    def dragLeaveEvent(self, event: QDragLeaveEvent) -> None:  # noqa: N802 (Qt API)
        self.scroll.setStyleSheet("")

    def dropEvent(self, event: QDropEvent) -> None:  # noqa: N802 (Qt API)
        self.scroll.setStyleSheet("")
        files = local_files(event)
        if not files:
            event.ignore()
            return
        event.acceptProposedAction()
        added, with_settings = False, []
        for f in files:
            has = has_settings(f)
            if has:
                with_settings.append(os.path.abspath(f))
            if not has or self.use_settings_files_as_images:
                added = self._add(f, 1.0) or added
        if added:
            self._emit()
        for f in with_settings:
            self.settingsDropped.emit(f)
