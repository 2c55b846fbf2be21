"""Entry script of the PyInstaller bundle: both launchers run this, then ``nst_desktop.cli.main``.

``NST_DESKTOP_DIST_PROBE=SECONDS`` (used only by ``build_scripts/dist_test.py``) makes the window
report on stderr when it is first shown, then quit by itself after SECONDS, so the smoke test
can time launch-to-window and check a clean exit without reaching into the GUI's code.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import time

PROBE_ENV = "NST_DESKTOP_DIST_PROBE"
PROBE_SHOWN = "nst-dist-probe: window shown"


def _install_window_probe(seconds: float) -> None:
    """Wrap ``QApplication.exec`` so the running event loop reports its first window and quits."""
    from PySide6.QtCore import QTimer
    from PySide6.QtWidgets import QApplication

    original = QApplication.exec
    started = time.monotonic()

    def exec_with_probe(*_args: object) -> int:
        app = QApplication.instance()
        poll = QTimer(app)

        def check() -> None:
            if any(w.isVisible() for w in QApplication.topLevelWidgets()):
                poll.stop()
                waited = time.monotonic() - started
                print(f"{PROBE_SHOWN} ({waited:.2f} s after launcher start)", file=sys.stderr)
                sys.stderr.flush()
                QTimer.singleShot(int(seconds * 1000), QApplication.quit)

        poll.timeout.connect(check)
        poll.start(20)
        return original()

    QApplication.exec = staticmethod(exec_with_probe)  # type: ignore[method-assign]


def main() -> int:
    multiprocessing.freeze_support()
    # A windowed launcher on Windows has no console: print() to None would fail, so discard.
    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115
    probe = os.environ.get(PROBE_ENV)
    if probe:
        _install_window_probe(float(probe))
    from nst_desktop.cli import main as cli_main

    return cli_main()


if __name__ == "__main__":
    sys.exit(main())
