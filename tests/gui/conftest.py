"""GUI test rules: no modal dialog may wait for a click, and no QThread may outlive its test."""

from __future__ import annotations

import threading
import time

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
