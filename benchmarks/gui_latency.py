"""How responsive the window stays during a run, and how many preview frames reach the screen.

A 10 ms QTimer runs in the GUI thread; its lateness (actual interval minus 10 ms) is what a user
feels as lag. Measured first with the window idle, then during a run (random weights, so no
download). Preview fps counts paints that drew a new frame.

    .venv/bin/python benchmarks/gui_latency.py --size 256 --seconds 30
    QT_QPA_PLATFORM=offscreen .venv/bin/python benchmarks/gui_latency.py --json
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {"p50_ms": float("nan"), "p99_ms": float("nan"), "max_ms": float("nan"), "n": 0}
    a = np.asarray(values) * 1000
    return {
        "p50_ms": float(np.percentile(a, 50)),
        "p99_ms": float(np.percentile(a, 99)),
        "max_ms": float(a.max()),
        "n": len(values),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=256)
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the measured run")
    parser.add_argument("--idle-seconds", type=float, default=3.0)
    parser.add_argument("--optimizer", default="lbfgs", choices=("lbfgs", "adam"))
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)

    from PySide6.QtCore import QElapsedTimer, QSettings, QTimer
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance() or QApplication([])
    from nst_desktop.gui.main_window import MainWindow

    tmp = tempfile.mkdtemp(prefix="nst-gui-latency-")
    window = MainWindow(QSettings(str(Path(tmp) / "prefs.ini"), QSettings.Format.IniFormat))
    window.resize(1280, 820)
    window.show()
    while not window.runs.engine_ready:
        app.processEvents()
        time.sleep(0.01)
    window.model.update_settings(
        weights="random", size=args.size, steps=100_000, optimizer=args.optimizer
    )

    clock = QElapsedTimer()
    late: dict[str, list[float]] = {"idle": [], "run": []}
    phase = ["idle"]
    last = [0.0]

    def tick() -> None:
        now = clock.nsecsElapsed() / 1e9
        if last[0]:
            late[phase[0]].append(max(0.0, now - last[0] - 0.010))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(timer.timerType().PreciseTimer)
    timer.timeout.connect(tick)
    clock.start()
    timer.start(10)

    def spin(seconds: float, until=None) -> None:
        end = time.monotonic() + seconds
        while time.monotonic() < end and not (until and until()):
            app.processEvents()
            time.sleep(0.001)

    spin(args.idle_seconds)
    if not window.start_run():
        print("could not start:", window.message_bar.text(), file=sys.stderr)
        return 1
    live = window.model.runs.live
    spin(120, until=lambda: live.last is not None)  # targets computed
    phase[0] = "run"
    last[0] = 0.0
    frames0, step0 = window.preview.frames_shown, live.last.step
    started = time.monotonic()
    spin(args.seconds)
    elapsed = time.monotonic() - started
    frames = window.preview.frames_shown - frames0
    steps = live.last.step - step0
    window.stop_run()
    spin(60, until=lambda: window.model.run_state == "idle")
    timer.stop()
    window.close()
    result = {
        "platform": app.platformName(),
        "size": args.size,
        "optimizer": args.optimizer,
        "seconds": round(elapsed, 1),
        "iterations_per_s": round(steps / elapsed, 2),
        "preview_fps": round(frames / elapsed, 1),
        "timer_lateness_idle": _percentiles(late["idle"]),
        "timer_lateness_run": _percentiles(late["run"]),
    }
    if args.json:
        print(json.dumps(result, indent=2))
    else:
        print(f"platform {result['platform']}, {args.size} px {args.optimizer}, {elapsed:.0f} s")
        print(f"iterations/s {result['iterations_per_s']}, preview fps {result['preview_fps']}")
        for key in ("idle", "run"):
            p = result[f"timer_lateness_{key}"]
            print(
                f"10 ms timer lateness ({key}): p50 {p['p50_ms']:.2f} ms, "
                f"p99 {p['p99_ms']:.2f} ms, max {p['max_ms']:.1f} ms (n={p['n']})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
