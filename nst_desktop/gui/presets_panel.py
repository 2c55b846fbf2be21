"""The preset picker: one click applies a preset and says what it changed; the list marks the
preset the current settings match (none when none does); each bundled look shows its example
picture (``resources/preset_pictures``) as its icon; user presets are saved, renamed, deleted,
imported and exported here.

Usage::

    panel = PresetPanel(current=lambda: model.settings, normalize=model.normalized)
    panel.presetApplied.connect(model.set_settings)    # (RunSettings, [changed field names])
    panel.status.connect(statusbar.showMessage)        # one line after each action
    model.settingsChanged.connect(panel.show_settings)  # marks the matching preset

Dialogs are the static QInputDialog / QFileDialog / QMessageBox functions, so tests can
monkeypatch them. No torch here: the panel is built before torch is imported.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QAction, QFont, QIcon, QPixmap
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QListWidget,
    QListWidgetItem,
    QMenu,
    QMessageBox,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.core import presets as P
from nst_desktop.core.changes import describe_changes, settings_changes
from nst_desktop.core.settings import RunSettings

_PRESET_ROLE = Qt.ItemDataRole.UserRole + 1
MATCH_MARK = "✓ "
ICON_SIZE = QSize(64, 48)
_FILTER = "Presets (*.json);;All files (*)"


class PresetPanel(QWidget):
    """A list of bundled then user presets, with Apply and a menu to manage user presets."""

    #: (new RunSettings, names of the fields whose values changed)
    presetApplied = Signal(object, list)
    #: one line describing the last action (for a status bar)
    status = Signal(str)

    def __init__(
        self,
        current: Callable[[], RunSettings],
        normalize: Callable[[RunSettings], RunSettings] | None = None,
        parent: QWidget | None = None,
    ):
        super().__init__(parent)
        self._current = current
        #: What the owner makes of applied settings (the window keeps the blend with the styles),
        #: so the report lists what really changes.
        self._normalize = normalize or (lambda settings: settings)
        self._presets: list[P.Preset] = []
        self._shown_warnings: set[str] = set()

        self.list = QListWidget()
        self.list.setObjectName("presetList")
        self.list.setAlternatingRowColors(True)
        self.list.setIconSize(ICON_SIZE)
        #: under the list: what the example pictures show (untrained weights or the real look)
        self.pictures_note = QLabel(P.pictures_note())
        self.pictures_note.setWordWrap(True)
        self.pictures_note.setObjectName("presetPicturesNote")
        self.pictures_note.setStyleSheet("color: palette(mid); font-size: small;")
        self.pictures_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.pictures_note.setVisible(bool(self.pictures_note.text()))
        self.list.setToolTip(
            "A click applies a preset. Presets set the look and keep your size and "
            "iterations, except the ones about quality. ✓ marks the preset your settings match."
            + (f"\n{self.pictures_note.text()}" if self.pictures_note.text() else "")
        )
        self.list.itemClicked.connect(lambda _item: self.apply_selected())  # one click
        self.list.itemActivated.connect(lambda _item: self.apply_selected())  # Enter
        self.matching: str | None = None  # the name of the preset the settings match
        self.list.currentItemChanged.connect(lambda *_: self._selection_changed())

        self.description = QLabel()
        self.description.setWordWrap(True)
        self.description.setObjectName("presetDescription")
        self.changes = QLabel()
        self.changes.setWordWrap(True)
        self.changes.setObjectName("presetChanges")
        self.warnings = QLabel()
        self.warnings.setWordWrap(True)
        self.warnings.setObjectName("presetWarnings")
        self.warnings.setStyleSheet("color: #a05a00; font-size: small;")
        self.warnings.hide()

        self.save_action = QAction("Save current settings as…", self)
        self.rename_action = QAction("Rename…", self)
        self.delete_action = QAction("Delete", self)
        self.import_action = QAction("Import…", self)
        self.export_action = QAction("Export…", self)
        self.save_action.triggered.connect(self.save_current)
        self.rename_action.triggered.connect(self.rename_selected)
        self.delete_action.triggered.connect(self.delete_selected)
        self.import_action.triggered.connect(self.import_file)
        self.export_action.triggered.connect(self.export_selected)
        menu = QMenu(self)
        menu.addAction(self.save_action)
        menu.addAction(self.rename_action)
        menu.addAction(self.delete_action)
        menu.addSeparator()
        menu.addAction(self.import_action)
        menu.addAction(self.export_action)
        self.manage_button = QToolButton()
        self.manage_button.setText("Manage")
        self.manage_button.setMenu(menu)
        self.manage_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.save_button = QPushButton("Save as…")
        self.save_button.setToolTip("Save the current settings as your own preset.")
        self.save_button.clicked.connect(self.save_current)

        buttons = QHBoxLayout()
        buttons.addWidget(self.save_button)
        buttons.addStretch(1)
        buttons.addWidget(self.manage_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.list, 1)
        layout.addWidget(self.pictures_note)
        layout.addWidget(self.description)
        layout.addLayout(buttons)
        layout.addWidget(self.changes)
        layout.addWidget(self.warnings)
        self.refresh()

    # ----------------------------------------------------------------- state
    def presets(self) -> list[P.Preset]:
        return list(self._presets)

    def selected(self) -> P.Preset | None:
        item = self.list.currentItem()
        return item.data(_PRESET_ROLE) if item is not None else None

    def select(self, name: str) -> bool:
        """Select a preset by name (case-insensitive); False when there is none."""
        for row in range(self.list.count()):
            preset = self.list.item(row).data(_PRESET_ROLE)
            if preset is not None and preset.name.casefold() == name.casefold():
                self.list.setCurrentRow(row)
                return True
        return False

    def refresh(self, select: str | None = None) -> None:
        """Re-read the preset folders; damaged files are reported once in the warning label."""
        keep = select or (self.selected().name if self.selected() else None)
        self._presets, warnings = P.list_presets()
        self.list.clear()
        bundled = [p for p in self._presets if p.bundled]
        user = [p for p in self._presets if not p.bundled]
        for preset in bundled:
            self._add_item(preset)
        if user:
            header = QListWidgetItem("Your presets")
            header.setFlags(Qt.ItemFlag.NoItemFlags)
            font = QFont(header.font())
            font.setBold(True)
            header.setFont(font)
            self.list.addItem(header)
            for preset in user:
                self._add_item(preset)
        self._mark_matching(select=not (keep and self.select(keep)))
        fresh = [w for w in warnings if w not in self._shown_warnings]
        self._shown_warnings.update(fresh)
        self._show_warnings(fresh)
        self._selection_changed()

    def _add_item(self, preset: P.Preset) -> None:
        item = QListWidgetItem(preset.name)
        item.setData(_PRESET_ROLE, preset)
        item.setToolTip(preset.description or preset.name)
        path = P.picture_path(preset)
        pixmap = QPixmap(str(path)) if path is not None else QPixmap()
        if not pixmap.isNull():  # a damaged file draws no icon, as a missing one
            item.setIcon(QIcon(pixmap))
        self.list.addItem(item)

    def show_settings(self, _settings: RunSettings | None = None) -> None:
        """Mark (and select) the preset the current settings match; none when none does."""
        self._mark_matching()

    def _matches(self, preset: P.Preset, current: RunSettings) -> bool:
        try:
            new, _, _ = P.apply_preset(preset, current)
        except P.PresetError:
            return False
        return not settings_changes(current, self._normalize(new))

    def _mark_matching(self, select: bool = True) -> None:
        current = self._current()
        self.matching = None
        match_row = -1
        for row in range(self.list.count()):
            item = self.list.item(row)
            preset = item.data(_PRESET_ROLE)
            if preset is None:
                continue
            hit = self.matching is None and self._matches(preset, current)
            item.setText((MATCH_MARK if hit else "") + preset.name)
            if hit:
                self.matching, match_row = preset.name, row
        if select:
            self.list.setCurrentRow(match_row)  # -1: nothing is highlighted

    def _show_warnings(self, warnings: list[str]) -> None:
        if warnings:
            shown = warnings[:3]
            more = f" (and {len(warnings) - 3} more)" if len(warnings) > 3 else ""
            self.warnings.setText("\n".join(shown) + more)
            self.warnings.setToolTip("\n".join(warnings))
        self.warnings.setVisible(bool(warnings))

    def _selection_changed(self) -> None:
        preset = self.selected()
        self.description.setText(preset.description if preset else "")
        is_user = preset is not None and not preset.bundled
        self.export_action.setEnabled(preset is not None)
        self.rename_action.setEnabled(is_user)
        self.delete_action.setEnabled(is_user)

    # ----------------------------------------------------------------- actions
    def apply_selected(self) -> None:
        preset = self.selected()
        if preset is None:
            return
        old = self._current()
        try:
            new, _, warnings = P.apply_preset(preset, old)
        except P.PresetError as exc:
            self._error("Cannot apply the preset", str(exc))
            return
        new = self._normalize(new)
        changes = settings_changes(old, new)
        changed = [c.name for c in changes]
        if changes:
            self.changes.setText(f"Changed: {describe_changes(changes)}.")
            self.changes.setToolTip("\n".join(str(c) for c in changes))
        else:
            self.changes.setText("The settings already match this preset.")
            self.changes.setToolTip("")
        self._show_warnings(warnings)
        self.status.emit(f"Applied preset '{preset.name}' ({len(changed)} settings changed).")
        self.presetApplied.emit(new, changed)

    def save_current(self) -> None:
        suggestion = ""
        sel = self.selected()
        if sel is not None and not sel.bundled:
            suggestion = sel.name
        name, ok = QInputDialog.getText(
            self, "Save preset", "Name of the new preset:", text=suggestion
        )
        if not ok or not name.strip():
            return
        description, ok = QInputDialog.getText(
            self, "Save preset", "One line describing the look (optional):"
        )
        if not ok:
            return
        try:
            settings = self._current()
            overwrite = False
            key = " ".join(name.split()).casefold()
            existing = next(
                (p for p in self._presets if not p.bundled and p.name.casefold() == key), None
            )
            if existing is not None:
                answer = QMessageBox.question(
                    self,
                    "Replace preset?",
                    f"A preset named '{existing.name}' already exists. Replace it?",
                )
                if answer != QMessageBox.StandardButton.Yes:
                    return
                overwrite = True
            preset = P.save_user_preset(name, description, settings, overwrite=overwrite)
        except P.PresetError as exc:
            self._error("Cannot save the preset", str(exc))
            return
        self.refresh(select=preset.name)
        self.status.emit(f"Saved preset '{preset.name}'.")

    def rename_selected(self) -> None:
        preset = self.selected()
        if preset is None or preset.bundled:
            return
        name, ok = QInputDialog.getText(self, "Rename preset", "New name:", text=preset.name)
        if not ok or not name.strip() or name.strip() == preset.name:
            return
        try:
            renamed = P.rename_user_preset(preset, name)
        except P.PresetError as exc:
            self._error("Cannot rename the preset", str(exc))
            return
        self.refresh(select=renamed.name)
        self.status.emit(f"Renamed preset to '{renamed.name}'.")

    def delete_selected(self) -> None:
        preset = self.selected()
        if preset is None or preset.bundled:
            return
        answer = QMessageBox.question(
            self, "Delete preset?", f"Delete your preset '{preset.name}'? This cannot be undone."
        )
        if answer != QMessageBox.StandardButton.Yes:
            return
        try:
            P.delete_user_preset(preset)
        except P.PresetError as exc:
            self._error("Cannot delete the preset", str(exc))
            return
        self.refresh()
        self.status.emit(f"Deleted preset '{preset.name}'.")

    def import_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(self, "Import preset", "", _FILTER)
        if not path:
            return
        try:
            preset = P.import_preset(path)
        except P.PresetError as exc:
            self._error("Cannot import the preset", str(exc))
            return
        self.refresh(select=preset.name)
        self.status.emit(f"Imported preset '{preset.name}'.")

    def export_selected(self) -> None:
        preset = self.selected()
        if preset is None:
            return
        suggested = f"{P.slug(preset.name)}.json"
        path, _ = QFileDialog.getSaveFileName(self, "Export preset", suggested, _FILTER)
        if not path:
            return
        target = Path(path)
        if not target.suffix:
            target = target.with_suffix(".json")
        try:
            P.export_preset(preset, target)
        except P.PresetError as exc:
            self._error("Cannot export the preset", str(exc))
            return
        self.status.emit(f"Exported preset '{preset.name}' to {target}.")

    def _error(self, title: str, text: str) -> None:
        QMessageBox.warning(self, title, text)
        self.status.emit(text)
