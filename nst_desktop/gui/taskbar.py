"""The run's progress on the taskbar or dock entry, besides the window title.

On Linux desktops this is the Unity LauncherEntry D-Bus API: the signal ``Update`` of interface
``com.canonical.Unity.LauncherEntry`` with the application's URI
(``application://nst-desktop.desktop``) and ``{"progress": 0..1, "progress-visible": bool}``.
KDE Plasma's task manager, GNOME's Dash to Dock / Ubuntu Dock and Unity draw it on the entry of
the ``nst-desktop.desktop`` launcher. Without QtDBus or a session bus nothing is sent and nothing
fails. On Windows and macOS this module does nothing: there the title's "37 % · NST Desktop"
(gui/attention.py) is what the taskbar shows.

Usage (gui/attention.py drives it from the same place as the title)::

    taskbar = TaskbarProgress()            # or TaskbarProgress(emit=fake) in a test
    taskbar.show(model.run_state, model.progress)
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable
from typing import Any

from nst_desktop.gui.model import RunState
from nst_desktop.gui.progress import ProgressLine

log = logging.getLogger(__name__)

DESKTOP_ID = "nst-desktop"  # the launcher's file name without ".desktop"
APP_URI = f"application://{DESKTOP_ID}.desktop"
OBJECT_PATH = "/com/nst_desktop/LauncherEntry"
INTERFACE = "com.canonical.Unity.LauncherEntry"

#: Sends one LauncherEntry property dict.
Emitter = Callable[[dict[str, Any]], None]


def dbus_emitter() -> Emitter | None:
    """A function that sends ``Update`` on the session bus; None off Linux/BSD, without QtDBus,
    or without a session bus."""
    if not sys.platform.startswith(("linux", "freebsd", "openbsd", "netbsd")):
        return None
    try:
        from PySide6.QtDBus import QDBusConnection, QDBusMessage
    except ImportError:
        return None
    bus = QDBusConnection.sessionBus()
    if not bus.isConnected():
        return None

    def emit(properties: dict[str, Any]) -> None:
        message = QDBusMessage.createSignal(OBJECT_PATH, INTERFACE, "Update")
        message.setArguments([APP_URI, properties])  # (s, a{sv})
        bus.send(message)

    return emit


def launcher_properties(state: RunState, line: ProgressLine) -> dict[str, Any]:
    """What the entry shows for a run in ``state`` at ``line``: hidden when idle, whole
    percents during a run (so a fast run does not flood the bus)."""
    if state == RunState.IDLE:
        return {"progress": 0.0, "progress-visible": False}
    fraction = line.value / line.maximum if line.maximum > 0 else 0.0
    return {"progress": round(min(max(fraction, 0.0), 1.0), 2), "progress-visible": True}


class TaskbarProgress:
    """Sends the run's progress to the taskbar entry when it changes (see the module docstring)."""

    def __init__(self, emit: Emitter | None = None) -> None:
        self._emit = emit if emit is not None else dbus_emitter()
        self._last: dict[str, Any] | None = None

    @property
    def active(self) -> bool:
        """Whether there is somewhere to send the progress."""
        return self._emit is not None

    def show(self, state: RunState, line: ProgressLine) -> None:
        properties = launcher_properties(state, line)
        if self._emit is None or properties == self._last:
            return
        if self._last is None and not properties["progress-visible"]:
            return  # nothing shown yet: nothing to clear
        self._last = properties
        try:
            self._emit(properties)
        except Exception:  # noqa: BLE001 - a taskbar that went away must not cost the run
            log.debug("taskbar progress is off: the D-Bus signal failed", exc_info=True)
            self._emit = None
