"""Undo and redo for every settings change: panel edits, presets, "Load settings", mode switches.

The undo stack listens to the window model: each change of ``model.settings`` becomes one
command holding the settings before and after; undoing sets the settings before back through the
model, so every view follows. Quick edits of the same knob (a slider dragged, a number typed)
merge into one step. The style images and their blend weights are inputs, not settings: undo
leaves them alone.

Usage::

    undo = SettingsUndo(model, parent)      # after the window restored its saved settings
    undo.add_menu(window.menuBar(), before=run_menu.menuAction())
"""

from __future__ import annotations

import time

from PySide6.QtCore import QObject
from PySide6.QtGui import QAction, QKeySequence, QUndoCommand, QUndoStack
from PySide6.QtWidgets import QMenu, QMenuBar

from nst_desktop.core.changes import settings_changes
from nst_desktop.core.settings import RunSettings
from nst_desktop.gui.model import RunState, WindowModel

MERGE_S = 1.5  # edits of one knob closer together than this are one undo step
_EDIT_ID = 1515


class _SettingsCommand(QUndoCommand):
    def __init__(self, owner: SettingsUndo, old: RunSettings, new: RunSettings) -> None:
        super().__init__()
        self.owner, self.old, self.new = owner, old, new
        self.fields = tuple(c.name for c in settings_changes(old, new))
        self.at = time.monotonic()
        self._first = True
        self.setText(_describe(old, new))

    def id(self) -> int:  # noqa: A003 (Qt API)
        return _EDIT_ID if len(self.fields) == 1 else -1

    def mergeWith(self, other: QUndoCommand) -> bool:  # noqa: N802 (Qt API)
        if not isinstance(other, _SettingsCommand) or other.fields != self.fields:
            return False
        if other.at - self.at > MERGE_S:
            return False
        self.new, self.at = other.new, other.at
        self.setObsolete(self.new == self.old)
        return True

    def redo(self) -> None:
        if self._first:  # pushed after the model changed: nothing to do the first time
            self._first = False
            return
        self.owner.apply(self.new)

    def undo(self) -> None:
        self.owner.apply(self.old)


class SettingsUndo(QObject):
    """See the module docstring."""

    def __init__(self, model: WindowModel, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.stack = QUndoStack(self)
        self._last = model.settings
        self._applying = False
        model.settingsChanged.connect(self._changed)
        model.runStateChanged.connect(self._run_state)
        self.undo_action = self.stack.createUndoAction(self, "Undo")
        self.undo_action.setShortcuts([QKeySequence(QKeySequence.StandardKey.Undo)])
        self.redo_action = self.stack.createRedoAction(self, "Redo")
        self.redo_action.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])

    def add_menu(self, bar: QMenuBar, before: QAction | None = None) -> QMenu:
        """An Edit menu with Undo and Redo, placed before ``before`` (or last)."""
        menu = QMenu("&Edit", bar)
        menu.addAction(self.undo_action)
        menu.addAction(self.redo_action)
        if before is not None:
            bar.insertMenu(before, menu)
        else:
            bar.addMenu(menu)
        return menu

    def apply(self, settings: RunSettings) -> None:
        """Set ``settings`` through the model without recording it as a new step."""
        self._applying = True
        try:
            self.model.set_settings(settings)
        finally:
            self._applying = False
        self._last = self.model.settings

    def _changed(self, settings: RunSettings) -> None:
        old, self._last = self._last, settings
        if self._applying or old == settings:
            return
        if {c.name for c in settings_changes(old, settings)} == {"style_blend"}:
            return  # the blend follows the style list, an input: not a step of its own
        self.stack.push(_SettingsCommand(self, old, settings))

    def _run_state(self, state: RunState) -> None:
        """No undo while a run runs: its settings are the run's."""
        idle = state == RunState.IDLE
        self.undo_action.setEnabled(idle and self.stack.canUndo())
        self.redo_action.setEnabled(idle and self.stack.canRedo())


def _describe(old: RunSettings, new: RunSettings) -> str:
    changes = settings_changes(old, new)
    if len(changes) == 1:
        return f"change of {changes[0].label}"
    return f"change of {len(changes)} settings"
