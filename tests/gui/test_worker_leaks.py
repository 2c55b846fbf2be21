"""Run after run, the GUI worker must not leave threads or open files behind."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEventLoop

from nst_desktop.core.settings import RunSettings
from nst_desktop.gui.worker import RunJob, RunThread, WeightsCache


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


@pytest.mark.skipif(not Path("/proc/self/fd").is_dir(), reason="needs /proc")
def test_repeated_runs_leak_no_threads_or_files(qtbot, tmp_path):
    rng = np.random.default_rng(0)
    for name in ("c.png", "s.png"):
        Image.fromarray(rng.integers(0, 255, (32, 32, 3), dtype=np.uint8)).save(tmp_path / name)
    cache = WeightsCache()
    settings = RunSettings(size=32, steps=40, weights="random", optimizer="adam", save_every=10)

    def one_run() -> int:
        thread = RunThread(
            RunJob(settings, str(tmp_path / "c.png"), [str(tmp_path / "s.png")]), cache
        )
        thread.preview_interval = 0.0  # a preview every evaluation: the heaviest GUI traffic
        thread.snapshot_dir = tmp_path / "snaps"
        frames = []
        thread.preview.connect(lambda img, step, stage: frames.append(step))
        loop = QEventLoop()
        thread.finished.connect(loop.quit)
        thread.start()
        loop.exec()
        thread.wait()
        QCoreApplication.processEvents()
        thread.deleteLater()
        return len(frames)

    assert one_run() >= 40  # warm-up: torch's pool threads and caches are made here
    QCoreApplication.processEvents()
    fds, os_threads, py_threads = _fds(), _os_threads(), threading.active_count()
    for _ in range(4):
        assert one_run() >= 40
    QCoreApplication.processEvents()
    assert _fds() <= fds
    assert _os_threads() <= os_threads
    assert threading.active_count() <= py_threads
    assert len(list((tmp_path / "snaps").iterdir())) == 4  # steps 10..40, overwritten each run
