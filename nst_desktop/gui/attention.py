"""Progress where people look: the window title (and so the taskbar entry) reads
"37 % · NST Desktop" during a run, and so does the taskbar entry's progress bar where the desktop
draws one (gui/taskbar.py); a run that ends while the window is in the background asks
for attention (``QApplication.alert``) and, where the desktop has a tray, says so there."""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QApplication, QMainWindow, QSystemTrayIcon

from nst_desktop.gui.model import RunState, WindowModel
from nst_desktop.gui.progress import ProgressLine
from nst_desktop.gui.taskbar import TaskbarProgress

APP_TITLE = "NST Desktop"
TRAY_SHOWN_MS = 20_000  # the tray icon goes away again after its message


def progress_title(state: RunState, line: ProgressLine) -> str:
    """The window title for a run in ``state`` whose progress is ``line``."""
    if state == RunState.IDLE:
        return APP_TITLE
    if line.maximum <= 0:
        return f"Starting · {APP_TITLE}"
    percent = int(100 * min(max(line.value / line.maximum, 0.0), 1.0))
    word = {RunState.PAUSED: " paused", RunState.STOPPING: " stopping"}.get(state, "")
    return f"{percent} %{word} · {APP_TITLE}"


class Attention(QObject):
    """Keeps ``window``'s title on the run's progress and calls for attention at its end."""

    def __init__(self, window: QMainWindow, model: WindowModel) -> None:
        super().__init__(window)
        self.window = window
        self.model = model
        self.tray: QSystemTrayIcon | None = None
        self.taskbar = TaskbarProgress()
        self.alerts = 0  # how many ended runs asked for attention (tests read it)
        self._was_busy = model.busy
        model.progressChanged.connect(lambda _line: self._update_title())
        model.runStateChanged.connect(self._state_changed)
        self._update_title()

    def _update_title(self) -> None:
        state, line = self.model.run_state, self.model.progress
        self.window.setWindowTitle(progress_title(state, line))
        self.taskbar.show(state, line)

    def _state_changed(self, state: RunState) -> None:
        self._update_title()
        ended = self._was_busy and state == RunState.IDLE
        self._was_busy = state != RunState.IDLE
        if ended and not self.window.isActiveWindow():
            self.call_attention(f"The run ended: {self.model.progress.text}.")

    def call_attention(self, text: str) -> None:
        """Flash the taskbar entry, and show ``text`` in the tray where there is one."""
        self.alerts += 1
        QApplication.alert(self.window)
        if not QSystemTrayIcon.isSystemTrayAvailable():
            return
        if self.tray is None:
            self.tray = QSystemTrayIcon(self.window.windowIcon(), self)
            self.tray.setToolTip(APP_TITLE)
            self.tray.messageClicked.connect(self._raise_window)
            self.tray.activated.connect(lambda _reason: self._raise_window())
        self.tray.show()
        self.tray.showMessage(APP_TITLE, text, self.window.windowIcon(), 10_000)
        QTimer.singleShot(TRAY_SHOWN_MS, self.tray.hide)

    def _raise_window(self) -> None:
        self.window.showNormal()
        self.window.raise_()
        self.window.activateWindow()
