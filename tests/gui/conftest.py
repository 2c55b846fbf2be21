"""GUI test rules: no modal dialog may wait for a click, and no QThread may outlive its test."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import pytest
from PySide6.QtWidgets import QDialog, QFileDialog, QInputDialog, QMessageBox

from nst_desktop.gui.worker import running_threads

_MODALS = [
    (QMessageBox, ("question", "warning", "critical", "information", "about")),
    (
        QFileDialog,
        ("getOpenFileName", "getOpenFileNames", "getSaveFileName", "getExistingDirectory"),
    ),
    (QInputDialog, ("getText", "getItem", "getInt", "getDouble")),
]


@pytest.fixture(autouse=True)
def _no_unpatched_modal_dialogs(monkeypatch):
    """A test that opens a dialog it did not patch fails at once instead of hanging."""

    def refuse(name):
        def modal(*_args, **_kwargs):
            raise AssertionError(f"unpatched modal dialog {name} opened in a test")

        return staticmethod(modal)

    for cls, names in _MODALS:
        for name in names:
            monkeypatch.setattr(cls, name, refuse(f"{cls.__name__}.{name}"))
    monkeypatch.setattr(QDialog, "exec", lambda self: refuse("QDialog.exec").__func__())


@pytest.fixture(autouse=True)
def _no_thread_left_running():
    """Fail any test that leaves a run thread (or a download/engine thread) running."""
    yield
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        qthreads = running_threads()
        helpers = [
            t
            for t in threading.enumerate()
            if t.name in ("weights-download", "weights-check", "engine-loader", "planner-probe")
            and t.is_alive()
        ]
        if not qthreads and not helpers:
            return
        time.sleep(0.02)
    for t in running_threads():
        t.stop()
        t.wait(10_000)
    raise AssertionError(f"threads left running: {qthreads} {[t.name for t in helpers]}")


@pytest.fixture
def small_window(qtbot, tmp_path):
    """A shown window with its engine loaded, a random 32 px photo and style and random weights;
    ``small_window(seed, **settings)`` makes it, and it is closed without a question after."""
    import numpy as np
    from PIL import Image
    from PySide6.QtCore import QSettings

    from nst_desktop.gui.main_window import MainWindow

    made = []

    def make(seed: int, **settings):
        rng = np.random.default_rng(seed)
        photo, art = Path(tmp_path) / "photo.png", Path(tmp_path) / "art.png"
        for path in (photo, art):
            Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(path)
        w = MainWindow(QSettings(str(tmp_path / "p.ini"), QSettings.Format.IniFormat))
        qtbot.addWidget(w)
        w.show()
        qtbot.waitUntil(lambda: w.runs.engine_ready, timeout=60_000)
        w.model.set_content(str(photo))
        w.model.set_styles([(str(art), 1.0)])
        w.model.update_settings(weights="random", size=32, scales=1, **settings)
        made.append(w)
        return w

    yield make
    for w in made:
        w.close_without_asking()


@pytest.fixture
def window_without_engine(qtbot, tmp_path):
    """A shown window that loads no engine: for what the knobs, menus and model do."""
    from PySide6.QtCore import QSettings

    from nst_desktop.gui.main_window import MainWindow

    qs = QSettings(str(tmp_path / "prefs.ini"), QSettings.Format.IniFormat)
    w = MainWindow(qs, load_engine=False)
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()
