"""The main window's small questions: settings from a picture, a file it names, About.

Text from a picture is untrusted: file names are shown as one escaped line of plain text.
"""

from __future__ import annotations

import sys
from pathlib import Path

from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from nst_desktop import __version__
from nst_desktop.core.history import history_dir
from nst_desktop.core.text import one_line
from nst_desktop.logs import log_file

PICTURE_FILTER = "Images (*.png *.jpg *.jpeg *.webp *.tif *.tiff)"


def ask_use_settings(parent: QWidget, path: str) -> bool:
    """A dropped picture made with NST Desktop: take its settings?"""
    answer = QMessageBox.question(
        parent,
        "Use its settings?",
        f"{one_line(Path(path).name)} was made with NST Desktop. Use the settings it was made "
        "with?",
    )
    return answer == QMessageBox.StandardButton.Yes


def pick_settings_picture(parent: QWidget) -> str:
    """The picture to take settings from ("" when none was chosen)."""
    path, _ = QFileDialog.getOpenFileName(
        parent, "Load settings from a picture made with NST Desktop", "", PICTURE_FILTER
    )
    return path


def confirm_start_file(parent: QWidget, path: str) -> bool:
    """A picture may name any file here as its start image: the user decides. The name is
    untrusted: one escaped line, after a first line Qt cannot take for markup."""
    answer = QMessageBox.question(
        parent,
        "Use a file from this computer?",
        "The picture's settings start from this file on this computer:\n\n"
        f"{one_line(path)}\n\nA picture someone sent you could name any file here. Use "
        "this file as the start image?",
        QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
        QMessageBox.StandardButton.No,
    )
    return answer == QMessageBox.StandardButton.Yes


def show_about(parent: QWidget) -> None:
    torch_version = "not loaded yet"
    if "torch" in sys.modules:
        torch_version = sys.modules["torch"].__version__
    QMessageBox.about(
        parent,
        "About NST Desktop",
        f"<b>NST Desktop {__version__}</b><br>Neural style transfer after Gatys, Ecker and "
        f"Bethge (2016).<br>PyTorch {torch_version}<br><br>Log file: {log_file()}<br>"
        f"Run history: {history_dir()}",
    )
