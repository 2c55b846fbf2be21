"""Drives the real entry point (``python -m nst_desktop``) from inside its process, for the
subprocess tests: it brings the window to one phase and then ends it as a user would.

Launched as ``python -c "<DRIVER_CODE>"`` with ``NST_TEST_PHASE`` (see :data:`PHASES`),
``NST_TEST_TRY`` and, for the kill tests, ``NST_TEST_ACTION``. It patches ``QApplication.exec``
to add a polling timer, then runs the package's ``__main__`` unchanged. It prints ``PHASE name``
when the phase is reached (the test checks it was) and ``CLOSING`` before it closes.
"""

from __future__ import annotations

import os
import time

PHASES = ("loading", "probe", "targets", "running", "paused", "done", "dialog")
#: The code a test passes to ``python -c`` (the driver's folder first on sys.path).
DRIVER_CODE = (
    "import sys, runpy; sys.path.insert(0, {folder!r}); import window_driver; "
    "window_driver.install(); runpy.run_module('nst_desktop', run_name='__main__')"
)


def install() -> None:
    from PySide6.QtWidgets import QApplication

    original = QApplication.exec

    def exec_with_driver(*_args):
        from nst_desktop.gui.main_window import MainWindow

        window = next(w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow))
        driver = Driver(window, os.environ.get("NST_TEST_PHASE", ""))
        driver.begin()
        return original()

    QApplication.exec = staticmethod(exec_with_driver)


def say(text: str) -> None:
    print(text, flush=True)


class Driver:
    def __init__(self, window, phase: str) -> None:
        self.w = window
        self.phase = phase
        self.attempt = int(os.environ.get("NST_TEST_TRY", "0"))
        self.t0 = time.monotonic()
        self.closing = False
        self.paused_at = 0.0

    def begin(self) -> None:
        from PySide6.QtCore import QTimer

        w = self.w
        from nst_desktop.gui import closing

        # On a loaded machine a run may pass closing.LONG_RUN_S before the phase: the question
        # a close then asks is answered with its default (it has its own tests).
        closing.confirm_end = lambda _parent, _minutes: (True, False)
        action = os.environ.get("NST_TEST_ACTION", "")
        if action:
            self._act(action)
            return
        if self.phase in ("targets", "running", "paused", "done"):
            steps = 3 if self.phase == "done" else 100_000
            w.model.update_settings(weights="random", size=32, steps=steps, scales=1)
            if self.phase == "targets":
                w.loader.ready.connect(self._slow_targets)
            w.start_run()  # starts as soon as the engine is ready
        if self.phase == "probe":
            w.model.update_settings(weights="random", size=32)
        self.timer = QTimer()
        self.timer.setInterval(5)
        self.timer.timeout.connect(self.poll)
        self.timer.start()
        if self.phase == "loading":
            QTimer.singleShot(300 * self.attempt, lambda: self.reached(not w.runs.engine_ready))

    def _act(self, action: str) -> None:
        """The kill tests: make the changes of ``action`` (then wait to be killed), or run."""
        w = self.w
        if action == "edit":
            folder = os.environ["NST_TEST_IMAGES"]
            w.model.set_content(os.path.join(folder, "photo.png"))
            w.model.set_styles(
                [(os.path.join(folder, "a.png"), 0.25), (os.path.join(folder, "b.png"), 2.0)]
            )
            w.model.update_settings(size=96, steps=77, weights="random", lbfgs_history=42)
            say("EDITED")
            from PySide6.QtCore import QTimer

            saves = w.state_saver.saves  # the debounced save must come without a close
            self.timer = QTimer()
            self.timer.setInterval(20)
            self.timer.timeout.connect(
                lambda: w.state_saver.saves > saves and not self.closing and self._say("SAVED")
            )
            self.timer.start()
        elif action == "report":
            import json

            state = {"content": w.model.content_path, "styles": w.model.styles}
            say("STATE " + json.dumps({**state, "settings": w.model.settings.to_dict()}))
            w.close()
        elif action == "run":
            w.model.update_settings(weights="random", size=32, steps=100_000, scales=1)
            w.start_run()
            from PySide6.QtCore import QTimer

            self.timer = QTimer()
            self.timer.setInterval(20)
            self.timer.timeout.connect(
                lambda: self._step() >= 3 and not self.closing and self._say_running()
            )
            self.timer.start()

    def _say_running(self) -> None:
        self._say("RUNNING")

    def _say(self, word: str) -> None:
        self.closing = True
        say(word)

    def _slow_targets(self, _devices) -> None:
        """Stretch the target computation so the test can close the window during it."""
        from nst_desktop.core import optimize

        real = optimize.Objective

        def slow(*args, **kwargs):
            time.sleep(1.0)
            return real(*args, **kwargs)

        optimize.Objective = slow

    def _step(self) -> int:
        live = self.w.model.runs.live
        return live.last.step if live is not None and live.last is not None else 0

    def poll(self) -> None:
        if self.closing:
            return
        w = self.w
        if self.phase == "probe":
            from nst_desktop.gui.jobs import running_jobs

            if w.runs.engine_ready:
                self.reached(any(j.name == "planner-probe" for j in running_jobs()))
        elif self.phase == "targets":
            if w.status_label.text().startswith("Computing the targets"):
                self.reached(True)
        elif self.phase == "running":
            if self._step() >= 2:
                self.reached(True)
        elif self.phase == "paused":
            if self._step() >= 2 and not self.paused_at:
                w.toggle_pause()
                self.paused_at = time.monotonic()
            elif self.paused_at and time.monotonic() - self.paused_at > 0.3:
                self.reached(w.model.run_state == "paused")
        elif self.phase == "done":
            last = w.model.runs.last_result
            if last is not None and w.model.run_state == "idle":
                self.reached(last.status == "done")
        elif self.phase == "dialog" and w.runs.engine_ready:
            self.open_dialog()

    def open_dialog(self) -> None:
        """A modal dialog: About, or the weights question of a first run without weights."""
        from PySide6.QtCore import QTimer

        self.closing = True
        QTimer.singleShot(400, lambda: self.reached(True))
        if self.attempt % 2:
            w = self.w
            w.model.update_settings(weights="torchvision", size=32)
            QTimer.singleShot(0, w.start_run)
        else:
            QTimer.singleShot(0, self.w.about)

    def reached(self, ok: bool) -> None:
        self.closing = True
        say(f"PHASE {self.phase}" if ok else f"MISSED {self.phase}")
        say("CLOSING")
        if self.attempt == 1:
            self.w.quit_action.trigger()  # Ctrl+Q
        else:
            self.w.close()
