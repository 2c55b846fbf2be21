"""The window's data folders (the run history, logs) when they cannot be written.

The history is what keeps a picture when the window closes mid-run or a run fails; if its folder
cannot take a file, the user is told once, at start, where pictures will not be kept and why,
and the menu actions that open a folder say so plainly instead of failing. Where the desktop
has no file manager to open a folder with, a small dialog shows its path to copy.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

from PySide6.QtCore import Qt, QUrl
from PySide6.QtGui import QDesktopServices, QGuiApplication
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from nst_desktop.gui.model import Clear, WindowModel

log = logging.getLogger(__name__)


def folder_problem(folder: Path) -> str | None:
    """Why ``folder`` cannot take a new file (made if missing), or None when it can."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, probe = tempfile.mkstemp(prefix=".nst-desktop-", suffix=".part", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return exc.strerror or str(exc)
    return None


def warn_if_history_is_off(model: WindowModel, folder: Path) -> bool:
    """Tell the user (message bar and log) when ``folder`` cannot keep the runs' pictures;
    True when it can."""
    reason = folder_problem(folder)
    if reason is None:
        return True
    log.warning("the history is off: cannot write to %s (%s)", folder, reason)
    model.show_message(
        f"Pictures will not be kept in the history: NST Desktop cannot write to {folder} "
        f"({reason}). "
        "Export the pictures you want to keep, or make that folder writable (or set "
        "NST_DESKTOP_DATA_DIR to a folder you can write) and start again.",
        "warning",
        clears=frozenset(),  # until dismissed: it stays true for the whole session
    )
    return False


def open_folder(model: WindowModel, folder: Path, what: str, parent: QWidget | None = None) -> bool:
    """Show ``folder`` in the file manager; when it cannot be made, say so in the window; when
    the desktop cannot open it, show its path to copy (a :class:`FolderPathDialog`)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        log.warning("cannot open the %s %s: %s", what, folder, exc)
        model.show_message(
            f"The {what} {folder} cannot be made ({exc.strerror or exc}), so there is nothing "
            "to open; check that its parent folder exists and is writable.",
            clears={Clear.RUN_STARTS, Clear.INPUTS_CHANGED},
        )
        return False
    if QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
        return True
    log.info("the desktop did not open the %s %s", what, folder)
    FolderPathDialog(folder, what, parent).open()  # not modal: nothing waits on it
    return False


class FolderPathDialog(QDialog):
    """The path of a folder the desktop could not open, selectable, with *Copy*."""

    def __init__(self, folder: Path, what: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(f"The {what} — NST Desktop")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        note = QLabel(
            f"This desktop has no program set to open folders, so the {what} could not be "
            "shown. It is here; copy the path into your file manager or a terminal:"
        )
        note.setWordWrap(True)
        self.path = QLineEdit(str(folder))
        self.path.setReadOnly(True)
        self.path.selectAll()
        self.copy_button = QPushButton("Copy")
        self.copy_button.setToolTip("Copy the path to the clipboard.")
        self.copy_button.clicked.connect(self._copy)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(self.copy_button)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(note)
        layout.addLayout(row)
        layout.addWidget(buttons)
        self.resize(560, self.sizeHint().height())

    def _copy(self) -> None:
        QGuiApplication.clipboard().setText(self.path.text())
        self.copy_button.setText("Copied")
