"""Start the window: it paints at once, the engine loads behind it, no traceback reaches users."""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Sequence
from types import TracebackType
from typing import Any

log = logging.getLogger(__name__)
#: How long the application waits at exit for its background jobs (a probe's last pass, an
#: ``import torch`` on a slow disk); past it the process ends without tearing torch down.
JOIN_AT_EXIT_S = 60.0


def _install_excepthook() -> None:
    """An unexpected error is logged with its traceback; the user sees a short apology."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    from nst_desktop.logs import log_file

    showing = [False]

    def hook(kind: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
        if issubclass(kind, KeyboardInterrupt):
            QApplication.quit()
            return
        log.critical("unexpected error", exc_info=(kind, exc, tb))
        if showing[0] or QApplication.instance() is None:
            return
        showing[0] = True
        try:
            QMessageBox.warning(
                QApplication.activeWindow(),
                "Sorry",
                "Sorry, something went wrong inside NST Desktop. Your pictures are kept; the "
                f"details are in {log_file()}.",
            )
        finally:
            showing[0] = False

    sys.excepthook = hook


def main(argv: Sequence[str] = ()) -> int:
    started = time.perf_counter()
    from PySide6.QtCore import QCoreApplication, Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    from nst_desktop import __version__
    from nst_desktop.logs import setup_logging

    setup_logging()
    QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
        Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
    )
    QCoreApplication.setOrganizationName("nst-desktop")
    QCoreApplication.setApplicationName("NST Desktop")
    QCoreApplication.setApplicationVersion(__version__)
    # the launcher (nst-desktop.desktop) the taskbar matches the window and its progress with
    QGuiApplication.setDesktopFileName("nst-desktop")
    created = QApplication.instance() is None
    app = QApplication.instance() or QApplication([sys.argv[0] if sys.argv else "nst-desktop"])
    _install_excepthook()
    from nst_desktop.gui.closing import install_signal_handlers
    from nst_desktop.gui.main_window import MainWindow

    window = MainWindow()
    window.closed.connect(app.quit, Qt.ConnectionType.QueuedConnection)  # a dialog may be left
    handlers = install_signal_handlers(window.close_without_asking)
    window.show()
    log.info(
        "window shown %.2f s after start (version %s)", time.perf_counter() - started, __version__
    )
    code = int(app.exec())
    if handlers is not None:
        handlers.restore()
    _end(window, app if created else None, code)
    return code


def _end(window: Any, app: Any, code: int) -> None:
    """Nothing may outlive the application: the run and every job are stopped and joined
    first (torch work on a thread during interpreter teardown aborts the process), then the
    window and the application are deleted in order."""
    from PySide6.QtCore import QCoreApplication, QEvent

    from nst_desktop.gui.jobs import cancel_and_join_all
    from nst_desktop.gui.worker import running_threads

    window.runs.shutdown()  # closeEvent did this, unless the loop ended another way
    left = cancel_and_join_all(timeout=JOIN_AT_EXIT_S)
    left += ["run"] * bool(running_threads())  # a run wedged past its stop wait
    if left and app is not None:  # a pass that cannot be interrupted (a wedged device):
        # ending here beats tearing torch down under a thread still inside it
        log.error("exiting with background jobs still running: %s", ", ".join(left))
        logging.shutdown()
        os._exit(code)
    try:
        window.closed.disconnect()
    except (RuntimeError, TypeError):  # nothing connected any more
        pass
    if app is None:  # a host's application lives on: no stale quit may reach its next loop
        QCoreApplication.removePostedEvents(QCoreApplication.instance(), QEvent.Type.MetaCall)
    window.deleteLater()
    QCoreApplication.sendPostedEvents(None, QEvent.Type.DeferredDelete)
    if app is not None:
        app.shutdown()
