"""Take docs/screenshot.png: the real window mid-run (Basic view), on the bundled samples; and
docs/screenshot_focus.png: the same run in focus mode (F11).

Run under a display, e.g. ``xvfb-run -s "-screen 0 1400x900x24" .venv/bin/python
docs/make_screenshot.py``. Uses the ImageNet weights when they are on this computer, else
random weights (then the picture shows no real style, and the caption should say so).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=Path(__file__).with_name("screenshot.png"))
    parser.add_argument(
        "--focus-out", type=Path, default=Path(__file__).with_name("screenshot_focus.png")
    )
    parser.add_argument("--step", type=int, default=40, help="iteration at which to take it")
    parser.add_argument("--size", type=int, default=0, help="0: the window's first-run quality")
    parser.add_argument("--steps", type=int, default=0, help="0: the window's first-run quality")
    args = parser.parse_args()

    import os

    # a fresh data folder: the history strip shows a first launch, not this computer's runs
    os.environ.setdefault("NST_DESKTOP_DATA_DIR", tempfile.mkdtemp(prefix="nst-shot-"))
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    app = QApplication([])
    from nst_desktop.core.paths import resources_dir
    from nst_desktop.core.weights import torchvision_weights_available
    from nst_desktop.gui.main_window import MainWindow

    prefs = Path(tempfile.mkdtemp()) / "prefs.ini"
    window = MainWindow(QSettings(str(prefs), QSettings.Format.IniFormat))
    window.resize(1360, 860)
    window.show()

    def spin(until, limit: float = 600) -> None:
        end = time.monotonic() + limit
        while not until() and time.monotonic() < end:
            app.processEvents()
            time.sleep(0.005)

    spin(lambda: window.runs.engine_ready)
    samples = resources_dir() / "samples"
    window.content_picker.set_path(samples / "content_landscape.png")
    window.style_picker.set_entries([(str(samples / "style_swirls.png"), 1.0)])
    if not torchvision_weights_available():
        window.model.update_settings(weights="random")
    if args.size:
        window.model.update_settings(size=args.size)
    if args.steps:
        window.model.update_settings(steps=args.steps)
    window.model.update_settings(init="content")
    # The planner's probe must not share the CPU with the run, or the estimate reads high.
    spin(lambda: window.estimator.calibrations.get("cpu") is not None, limit=120)
    window.estimator.update()
    window.start_run()
    live = window.model.runs.live
    spin(lambda: live.last is not None and live.last.step >= args.step)
    for _ in range(20):  # let the last preview paint
        app.processEvents()
        time.sleep(0.01)
    shot = _grab(window)
    shot.save(str(args.out))
    window.view_actions.set_focus_mode(True)
    for _ in range(30):  # the picture takes the room, the next frame paints
        app.processEvents()
        time.sleep(0.02)
    focus = _grab(window)
    focus.save(str(args.focus_out))
    window.view_actions.set_focus_mode(False)
    window.runs.stop()  # not window.stop_run(): a long run would ask first, and nobody answers
    spin(lambda: window.model.run_state == "idle")
    window.close()
    print(f"wrote {args.out} ({shot.width()} x {shot.height()}) and {args.focus_out}")
    return 0


def _grab(window):
    screen = window.screen()
    shot = screen.grabWindow(0, 0, 0, window.width(), window.height())
    if shot.isNull() or shot.width() < 100:
        shot = window.grab()
    return shot


if __name__ == "__main__":
    sys.exit(main())
