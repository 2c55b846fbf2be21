"""Take docs/history.png (the window with its history strip) and docs/compare.png (the compare
window), from the real window on the bundled samples.

    QT_QPA_PLATFORM=offscreen .venv/bin/python docs/make_history_screenshots.py

Four short runs over style weights (128 px, 8 iterations: about a minute on a free 2-core
machine) go through the window's queue into a private history folder; then the strip shows
them and two that are not neighbours are compared, as a Ctrl-click chooses them. Random weights
are used unless the ImageNet weights are on this computer (with random weights the pictures
show the style's colours and a coarse texture, no real brush strokes).
"""

from __future__ import annotations

import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
DOCS = Path(__file__).resolve().parent


def main() -> int:
    started = time.monotonic()
    data = Path(tempfile.mkdtemp())
    os.environ["NST_DESKTOP_DATA_DIR"] = str(data)
    from PySide6.QtCore import QSettings
    from PySide6.QtTest import QTest
    from PySide6.QtWidgets import QApplication

    _app = QApplication([])  # kept: the window needs it alive
    from nst_desktop.core.paths import resources_dir
    from nst_desktop.core.weights import torchvision_weights_available
    from nst_desktop.gui.main_window import MainWindow

    window = MainWindow(QSettings(str(data / "prefs.ini"), QSettings.Format.IniFormat))
    window.resize(1360, 900)
    window.show()

    def spin(until, limit: float = 900) -> None:
        end = time.monotonic() + limit
        while not until() and time.monotonic() < end:
            QTest.qWait(20)  # a Python loop over processEvents leaks references to None

    spin(lambda: window.runs.engine_ready)
    samples = resources_dir() / "samples"
    window.model.set_content(str(samples / "content_landscape.png"))
    window.model.set_styles([(str(samples / "style_swirls.png"), 1.0)])
    if not torchvision_weights_available():
        window.model.update_settings(weights="random")
    window.model.update_settings(size=128, steps=8, init="content")
    queue = window.model.queue
    photo = window.model.content_path
    weights = (0.3, 1.0, 3.0, 10.0)  # around the default 3.6 ("relative" balance)
    queue.add_many([(f"style weight {w:g}", photo, {"style_weight": w, "seed": i})
                    for i, w in enumerate(weights)])  # fmt: skip
    spin(lambda: not queue.going and window.model.run_state == "idle")
    history = window.model.history
    spin(lambda: len(history.entries) == len(weights))
    first, third = history.entries[-1].id, history.entries[1].id
    history.select(third)
    history.set_other(first)  # as a Ctrl-click on the oldest thumbnail does: marked ⇆
    spin(lambda: window.history_strip.thumbs_pending == 0, limit=10)
    QTest.qWait(300)
    window.grab().save(str(DOCS / "history.png"))
    history.compare_with_previous()
    view = window.compare_view
    view.resize(960, 760)
    QTest.qWait(300)
    view.grab().save(str(DOCS / "compare.png"))
    view.close()
    window.close()
    took = time.monotonic() - started
    print(f"wrote {DOCS / 'history.png'} and {DOCS / 'compare.png'} in {took:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
