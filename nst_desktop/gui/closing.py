"""Ending things in the window: a question before long work ends, dialogs that close with the
window, and SIGTERM/SIGHUP read as a close.

Usage::

    guard = EndGuard(qsettings, parent=window)
    guard.run_started()                 # the run's clock starts
    if guard.may_end_run(busy=True):    # asks when the run has gone on for LONG_RUN_S
        runs.stop()
    close_dialogs(window)               # a close with a dialog open ends the dialog too
    handlers = install_signal_handlers(window.close_without_asking)
    ...
    handlers.restore()
"""

from __future__ import annotations

import logging
import signal
import socket
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QSettings, QSocketNotifier, QTimer
from PySide6.QtWidgets import QApplication, QCheckBox, QDialog, QMessageBox, QWidget

log = logging.getLogger(__name__)

#: A run that has gone on this long is not ended by Esc, Stop or a close without a question.
LONG_RUN_S = 30.0
#: The preference that the "Don't ask again" box clears.
ASK_KEY = "ask/before_ending_long_runs"
#: The clock runs are timed by (tests replace it).
now: Callable[[], float] = time.monotonic


def confirm_end(parent: QWidget | None, minutes: float) -> tuple[bool, bool]:
    """Ask whether to end a long run: (stop it?, don't ask again?). Stopping is the default."""
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle("End the run?")
    box.setText(f"This run has been going for {minutes:.0f} min. Stop it?")
    box.setInformativeText("Stopping keeps the picture as it is now; you can Continue it later.")
    stop = box.addButton("Stop and keep the picture", QMessageBox.ButtonRole.AcceptRole)
    keep = box.addButton("Keep running", QMessageBox.ButtonRole.RejectRole)
    box.setDefaultButton(stop)
    box.setEscapeButton(keep)
    again = QCheckBox("Don't ask again")
    box.setCheckBox(again)
    box.exec()
    return box.clickedButton() is not keep, again.isChecked()


class EndGuard(QObject):
    """Times the run and asks before a long one ends (see the module docstring)."""

    def __init__(self, qs: QSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.qs = qs
        self.window = parent
        self.started: float | None = None

    def run_started(self) -> None:
        self.started = now()

    def run_ended(self) -> None:
        self.started = None

    @property
    def asks(self) -> bool:
        value = self.qs.value(ASK_KEY, True)
        return value not in (False, "false", "0", 0)

    def may_end_run(self, busy: bool) -> bool:
        """True when the run may end now: no run, a short one, no questions wanted, or yes."""
        if not busy or self.started is None or now() - self.started < LONG_RUN_S or not self.asks:
            return True
        stop, dont_ask = confirm_end(self.window, (now() - self.started) / 60)
        if dont_ask:
            self.qs.setValue(ASK_KEY, False)
            self.qs.sync()
        return stop


def close_dialogs(window: QWidget) -> None:
    """Reject every open dialog, so a close never leaves one (and its event loop) behind."""
    for widget in QApplication.topLevelWidgets():
        if widget is not window and isinstance(widget, QDialog) and widget.isVisible():
            widget.reject()
            widget.hide()  # a message box without an escape button ignores reject()


class SignalHandlers:
    """SIGTERM and SIGHUP call ``on_signal`` in the GUI thread, through the event loop.

    Python runs a signal handler only between bytecodes; the wakeup socket makes the event loop
    return to Python at once (the usual recipe), and the handler only schedules ``on_signal``.
    """

    def __init__(self, on_signal: Callable[[], None]) -> None:
        self.on_signal = on_signal
        self._previous: dict[int, Any] = {}
        self._old_fd = -1
        self._read, self._write = socket.socketpair()
        for sock in (self._read, self._write):
            sock.setblocking(False)
        self._notifier = QSocketNotifier(self._read.fileno(), QSocketNotifier.Type.Read)
        self._notifier.activated.connect(self._drain)
        self._old_fd = signal.set_wakeup_fd(self._write.fileno())
        for name in ("SIGTERM", "SIGHUP"):
            number = getattr(signal, name, None)
            if number is not None:
                self._previous[number] = signal.signal(number, self._handle)

    def _handle(self, number: int, _frame: Any) -> None:
        log.info("signal %d: closing the window", number)
        QTimer.singleShot(0, self.on_signal)

    def _drain(self) -> None:
        try:
            self._read.recv(256)
        except OSError:
            pass

    def restore(self) -> None:
        for number, handler in self._previous.items():
            signal.signal(number, handler)
        signal.set_wakeup_fd(self._old_fd)
        self._notifier.setEnabled(False)
        self._read.close()
        self._write.close()


def install_signal_handlers(on_signal: Callable[[], None]) -> SignalHandlers | None:
    """SignalHandlers, or None where signals cannot be set (not the main thread)."""
    try:
        return SignalHandlers(on_signal)
    except (ValueError, OSError) as exc:
        log.warning("no signal handlers: %s", exc)
        return None
