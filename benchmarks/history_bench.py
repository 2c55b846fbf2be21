"""The run history at scale: disk per entry, listing 500 entries, the window's start with them.

    .venv/bin/python benchmarks/history_bench.py [--entries 500] [--size 512]

Entries are real ones (History.add of a stylized-looking picture at --size), copied to make
--entries; the window is built offscreen without the engine, so only the history's cost shows.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]


def _picture(size: int) -> np.ndarray:
    """Something as hard to compress as a result: smooth colour plus fine texture."""
    h, w = size * 3 // 4, size
    y, x = np.mgrid[0:h, 0:w]
    rng = np.random.default_rng(0)
    base = np.stack([np.sin(x / 17.0), np.cos(y / 23.0), np.sin((x + y) / 31.0)], -1)
    noise = rng.normal(0, 0.25, (h, w, 3))
    return ((base + noise) * 60 + 128).clip(0, 255).astype(np.uint8)


def make_history(folder: Path, entries: int, size: int) -> dict[str, float]:
    from nst_desktop.core import history_record as hr
    from nst_desktop.core.history import History

    history = History(folder)
    curve = [[s, 1e5 / s, 1e3, 1e5 / s, 10.0] for s in range(1, 257)]
    record = {"status": "done", "iterations": 300, "settings": {"mode": "transfer", "size": size}}
    started = time.perf_counter()
    first = history.add(_picture(size), record, curve=curve)
    add_s = time.perf_counter() - started
    per_file = {p.name: p.stat().st_size for p in first.folder.iterdir()}
    data = json.loads((first.folder / hr.RECORD_NAME).read_text())
    for n in range(1, entries):
        copy = folder / f"20200101-000000-{n:06d}"
        shutil.copytree(first.folder, copy)
        data["created"] = 1_600_000_000 + n
        (copy / hr.RECORD_NAME).write_text(json.dumps(data))
    return {"add_s": add_s, "entry_bytes": sum(per_file.values()), **per_file}


def time_listing(data_dir: Path, repeats: int = 5) -> dict[str, float]:
    from nst_desktop.core.history import History

    history = History(data_dir / "history")
    scans = []
    for _ in range(repeats):
        started = time.perf_counter()
        history.scan()
        scans.append(time.perf_counter() - started)
    env = {**os.environ, "NST_DESKTOP_DATA_DIR": str(data_dir), "PYTHONPATH": str(ROOT)}
    cli = []
    for _ in range(3):
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "nst_desktop", "history", "--json"], env=env,
                       check=True, capture_output=True)  # fmt: skip
        cli.append(time.perf_counter() - started)
    return {"scan_s": statistics.median(scans), "cli_history_json_s": statistics.median(cli)}


def time_window(data_dir: Path) -> dict[str, float]:
    """Build and show the window, then wait for the list and the thumbnails in view."""
    os.environ["NST_DESKTOP_DATA_DIR"] = str(data_dir)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from nst_desktop.gui.main_window import MainWindow

    app = QApplication.instance() or QApplication([])
    qs = QSettings(str(data_dir / "prefs.ini"), QSettings.Format.IniFormat)
    started = time.perf_counter()
    w = MainWindow(qs, load_engine=False)
    w.show()
    app.processEvents()
    shown = time.perf_counter() - started
    while not w.model.history.loaded:
        _spin(app)
    listed = time.perf_counter() - started
    strip = w.history_strip
    while strip.thumbs_busy or (w.model.history.entries and not strip.thumb_seconds):
        _spin(app)
    thumbs = time.perf_counter() - started
    w.close()
    return {"window_shown_s": shown, "list_in_s": listed, "all_thumbs_s": thumbs,
            "thumb_read_s": w.history_strip.thumb_seconds}  # fmt: skip


def _spin(app) -> None:
    """One turn of the event loop. Not a tight loop: each call of processEvents from Python
    leaks a reference to None in this PySide6, which a tight loop would exhaust."""
    app.processEvents()
    time.sleep(0.0005)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=500)
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--window", choices=("empty", "full"), help=argparse.SUPPRESS)
    parser.add_argument("--data", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.window:  # one window start per process, so nothing is warm from the other
        print(json.dumps(time_window(args.data)))
        return
    with tempfile.TemporaryDirectory() as tmp:
        full, empty = Path(tmp) / "full", Path(tmp) / "empty"
        empty.mkdir()
        out = {"entries": args.entries, "size": args.size}
        out.update(make_history(full / "history", args.entries, args.size))
        out.update(time_listing(full))
        for name, folder in (("empty", empty), ("full", full)):
            runs = []
            for _ in range(3):
                proc = subprocess.run(
                    [sys.executable, __file__, "--window", name, "--data", str(folder)],
                    check=True, capture_output=True, text=True,
                    env={**os.environ, "PYTHONPATH": str(ROOT)},
                )  # fmt: skip
                runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
            for key in runs[0]:
                out[f"{name}_{key}"] = statistics.median(r[key] for r in runs)
        print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
