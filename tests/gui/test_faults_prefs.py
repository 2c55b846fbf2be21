"""Fault matrix, the window's own files (issue 19): a damaged preferences file never stops the
window from opening, and a path with bytes that are not UTF-8 comes back as the same path.
See FAULTS.md.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QSettings
from PySide6.QtGui import QDesktopServices

from nst_desktop.core.settings import RunSettings
from nst_desktop.gui.main_window import MainWindow
from nst_desktop.gui.picker_support import RecentFiles

DEEP = "[" * 90_000  # under the text limit, far over json's recursion limit
DAMAGED = {
    "a deeply nested style list": f'[run]\ncontent=\nstyles="{DEEP}"\n',
    "deeply nested settings": f'[run]\ncontent=\nsettings="{{\\"size\\": {DEEP}"\n',
    "huge values": "[run]\ncontent=" + "a" * 3_000_000 + "\nsettings=" + "b" * 200_000 + "\n",
    "lists where text belongs": "[run]\ncontent=a, b\nstyles=1, 2\nsettings=1, 2\n"
    "[recent]\nimages=" + ", ".join(["x"] * 5000) + "\n[window]\nopen_groups=Look, Machine\n",
    "values of unknown types": "[run]\ncontent=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x3xyz)\n"
    "styles=@Variant(\\0\\0\\0\\xff)\n[window]\ngeometry=@ByteArray(\\xff\\xfe)\n"
    "open_groups=@Variant(\\0\\0\\0\\xff)\n"
    "[recent]\nimages=@Variant(\\0\\0\\0\\x7f\\0\\0\\0\\x03abc)\n",
    "wrong types in the style entries": '[run]\ncontent=\nstyles="[[1, 2], [\\"x\\", true], '
    '[\\"y\\", 1e999], [\\"z\\", -1], [[\\"a\\"], 1], {\\"a\\": 1}]"\n',
    "a damaged stored path": "[run]\ncontent=fsbytes:***\n",
}


@pytest.mark.parametrize("text", DAMAGED.values(), ids=DAMAGED.keys())
def test_a_damaged_preferences_file_still_opens_the_window(qtbot, tmp_path, caplog, text):
    """A preferences file written by hand or damaged on disk: each bad value is dropped with a
    log line, the window opens with the defaults, and it can save its preferences again."""
    path = tmp_path / "NST Desktop.conf"
    path.write_text(text, encoding="utf-8")
    qs = QSettings(str(path), QSettings.Format.IniFormat)
    with caplog.at_level(logging.WARNING):
        w = MainWindow(qs, load_engine=False)
    qtbot.addWidget(w)
    assert w.model.settings == RunSettings()
    assert w.style_picker.paths() == [] and w.model.groups.open == frozenset()
    w.save_state()
    assert QSettings(str(path), QSettings.Format.IniFormat).value("run/styles") is not None
    assert any("dropped" in r.getMessage() for r in caplog.records), caplog.text


@pytest.mark.skipif(sys.platform != "linux", reason="file names are bytes on Linux")
def test_a_path_with_bytes_that_are_not_utf8_is_restored_exactly(qtbot, tmp_path):
    """A photo named with a byte that is not UTF-8 (Latin-1 "é"): saved and restored, the
    window's photo, styles and recent list name that same file, not a look-alike."""
    folder = os.fsencode(tmp_path)
    names = [folder + b"/caf\xe9.png", folder + b"/caf.png", folder + b"/st\xffyle.png"]
    pixels = np.random.default_rng(0).integers(0, 255, (24, 32, 3), dtype=np.uint8)
    for name in names:
        Image.fromarray(pixels).save(name, format="PNG")
    photo, style = os.fsdecode(names[0]), os.fsdecode(names[2])
    ini = str(tmp_path / "prefs.ini")
    qs = QSettings(ini, QSettings.Format.IniFormat)
    w = MainWindow(qs, load_engine=False)
    qtbot.addWidget(w)
    w.model.set_content(photo)
    w.model.set_styles([(style, 0.5)])
    RecentFiles(qs, "recent/images").add(photo)
    w.save_state()
    again = QSettings(ini, QSettings.Format.IniFormat)
    w2 = MainWindow(again, load_engine=False)
    qtbot.addWidget(w2)
    assert w2.model.content_path == photo and os.fsencode(photo) == names[0]
    assert w2.model.styles == [(style, 0.5)]
    assert photo in RecentFiles(again, "recent/images").paths()
    assert Path(w2.model.content_path).read_bytes() == Path(photo).read_bytes()


def test_an_unwritable_data_folder_is_told_once_and_the_menu_says_why(
    qtbot, tmp_path, monkeypatch, caplog
):
    """The data folder cannot be made (a file stands where a folder should be, which stops
    root too): the window says at start where pictures will not be kept and why, and the
    menu actions that open its folders say so instead of failing."""
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    data = blocker / "data"
    monkeypatch.setenv("NST_DESKTOP_DATA_DIR", str(data))
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url)))
    with caplog.at_level(logging.WARNING):
        w = MainWindow(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat),
                       load_engine=False)  # fmt: skip
    qtbot.addWidget(w)
    text = w.message_bar.text()
    assert text.startswith(
        f"Pictures will not be kept in the history: NST Desktop cannot write to {data}"
    )
    assert "(Not a directory)" in text and "Export the pictures you want to keep" in text
    assert [r.getMessage() for r in caplog.records if "history is off" in r.getMessage()] == [
        f"the history is off: cannot write to {data / 'history'} (Not a directory)"
    ]
    menus = {a.text(): a.menu() for a in w.menuBar().actions()}
    for menu, name, what in (("&File", "Open history folder", "history folder"),
                             ("&Help", "Open log folder", "log folder")):  # fmt: skip
        action = next(a for a in menus[menu].actions() if a.text() == name)
        action.trigger()  # no exception: the excepthook's "Sorry" never shows
        assert w.message_bar.text().startswith(f"The {what} {data}")
        assert "cannot be made (Not a directory)" in w.message_bar.text()
    assert opened == []


def test_a_folder_the_desktop_cannot_open_is_shown_as_a_path_to_copy(
    window_without_engine, qtbot, tmp_path, monkeypatch
):
    from PySide6.QtGui import QGuiApplication

    from nst_desktop.core.history import history_dir
    from nst_desktop.gui.data_folder import FolderPathDialog
    from nst_desktop.logs import log_dir

    w = window_without_engine
    asked = []
    monkeypatch.setattr(
        QDesktopServices, "openUrl", staticmethod(lambda url: asked.append(url) or False)
    )
    menus = {a.text(): a.menu() for a in w.menuBar().actions()}
    for menu, name, folder in (("&File", "Open history folder", history_dir()),
                               ("&Help", "Open log folder", log_dir())):  # fmt: skip
        next(a for a in menus[menu].actions() if a.text() == name).trigger()
        dialogs = [d for d in w.findChildren(FolderPathDialog) if d.isVisible()]
        assert len(dialogs) == 1 and asked[-1].toLocalFile() == str(folder)
        dialog = dialogs[0]
        assert dialog.path.text() == str(folder) and dialog.path.isReadOnly()
        assert dialog.path.selectedText() == str(folder)  # selectable, selected
        QGuiApplication.clipboard().clear()
        dialog.copy_button.click()
        assert QGuiApplication.clipboard().text() == str(folder)
        dialog.close()
        qtbot.waitUntil(lambda: not w.findChildren(FolderPathDialog))  # deleted on close
    assert len(asked) == 2
