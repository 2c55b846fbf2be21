"""Starting the app, the Help menu, and what an unexpected error looks like to the user."""

from __future__ import annotations

import logging
import sys

from PySide6.QtCore import QSettings
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QApplication, QMessageBox

from nst_desktop import cli
from nst_desktop.gui import app as gui_app
from nst_desktop.gui.main_window import MainWindow, history_dir
from nst_desktop.logs import log_dir, log_file


def _shown_windows() -> list[MainWindow]:
    return [
        w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()
    ]


def test_no_arguments_opens_the_window(qtbot, monkeypatch):
    seen = []

    def fake_exec(*_args):
        windows = _shown_windows()
        seen.extend(w.windowTitle() for w in windows)
        for w in windows:
            qtbot.waitUntil(lambda w=w: w.runs.engine_ready, timeout=60_000)
            w.close()
        return 0

    monkeypatch.setattr(sys, "excepthook", sys.excepthook)  # main() installs its own
    monkeypatch.setattr(QApplication, "exec", staticmethod(fake_exec))
    assert cli.main([]) == 0
    assert seen == ["NST Desktop"]
    assert _shown_windows() == []  # the window is deleted before main() returns
    assert QApplication.applicationName() == "NST Desktop"
    assert sys.excepthook is not sys.__excepthook__


def test_unexpected_error_is_logged_and_the_user_gets_an_apology(qtbot, monkeypatch):
    monkeypatch.setattr(sys, "excepthook", sys.excepthook)
    told = []
    monkeypatch.setattr(QMessageBox, "warning", staticmethod(lambda *a: told.append(a[2])))
    from nst_desktop.logs import setup_logging

    setup_logging()
    gui_app._install_excepthook()
    try:
        raise ValueError("a bug deep inside")
    except ValueError:
        sys.excepthook(*sys.exc_info())
    for h in logging.getLogger("nst_desktop").handlers:
        h.flush()
    assert told and told[0].startswith("Sorry") and str(log_file()) in told[0]
    assert "Traceback" not in told[0]
    text = log_file().read_text(encoding="utf-8")
    assert "ValueError: a bug deep inside" in text and "Traceback" in text


def test_help_opens_the_log_folder_and_about_tells_where_things_are(qtbot, tmp_path, monkeypatch):
    w = MainWindow(
        QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat), load_engine=False
    )
    qtbot.addWidget(w)
    opened = []
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: opened.append(url)))
    about = []
    monkeypatch.setattr(QMessageBox, "about", staticmethod(lambda *a: about.append(a[2])))
    help_menu = next(a.menu() for a in w.menuBar().actions() if a.text() == "&Help")
    actions = {a.text(): a for a in help_menu.actions()}
    actions["Open log folder"].trigger()
    assert opened and opened[0].toLocalFile() == str(log_dir())
    assert log_dir().is_dir()
    actions["About NST Desktop"].trigger()
    assert str(log_file()) in about[0] and str(history_dir()) in about[0]


def test_the_window_modules_do_not_import_torch():
    """The window shows in about 1 s because torch (2+ s) loads behind it; an import of torch
    at module level in any of the window's modules would silently undo that."""
    import subprocess

    code = (
        "import importlib, pkgutil, sys, nst_desktop.gui as g\n"
        "for m in pkgutil.iter_modules(g.__path__):\n"
        "    importlib.import_module('nst_desktop.gui.' + m.name)\n"
        "print('torch' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
