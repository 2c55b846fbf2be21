"""Run after run, the GUI worker must not leave threads or open files behind."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from PySide6.QtCore import QCoreApplication, QEventLoop

from nst_desktop.core.session import SnapshotTarget
from nst_desktop.core.settings import RunSettings
from nst_desktop.gui.worker import RunJob, RunThread, WeightsCache


def _fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def _os_threads() -> int:
    return len(os.listdir("/proc/self/task"))


def _thread_names() -> list[str]:
    names = []
    for tid in os.listdir("/proc/self/task"):
        try:
            names.append(Path(f"/proc/self/task/{tid}/comm").read_text().strip())
        except OSError:  # exited while we looked
            pass
    return sorted(names)


def _settled_thread_count(quiet: float = 0.3, timeout: float = 5.0) -> int:
    """The OS thread count once it has stopped changing (threads of the last run exiting)."""
    deadline = time.monotonic() + timeout
    count, since = _os_threads(), time.monotonic()
    while time.monotonic() < deadline and time.monotonic() - since < quiet:
        QCoreApplication.processEvents()
        time.sleep(0.02)
        if (now := _os_threads()) != count:
            count, since = now, time.monotonic()
    return count


def _threads_after_exit(limit: int, timeout: float = 10.0) -> int:
    """The OS thread count once finished threads have really gone.

    QThread.wait() returns before the pthread is reaped, and the OpenMP team a worker
    thread started is torn down by that thread's exit, asynchronously. Those threads are
    on their way out, not leaked, so give them time; a real leak stays past the timeout.
    """
    deadline = time.monotonic() + timeout
    while _os_threads() > limit and time.monotonic() < deadline:
        QCoreApplication.processEvents()
        time.sleep(0.02)
    return _os_threads()


def _python_threads() -> int:
    """Threads Python started. A QThread that runs Python code (and logs) is filed as a
    "Dummy-N" thread object that Python never forgets (the threading docs say so); whether its
    OS thread ended is what the OS thread count checks."""
    return sum(not t.name.startswith("Dummy-") for t in threading.enumerate())


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
        thread.snapshots = SnapshotTarget(tmp_path / "snaps", "step")
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
    os_threads = _settled_thread_count()
    fds, py_threads, names = _fds(), _python_threads(), _thread_names()
    for _ in range(4):
        assert one_run() >= 40
    QCoreApplication.processEvents()
    assert _fds() <= fds
    assert _threads_after_exit(os_threads) <= os_threads, (names, _thread_names())
    assert _python_threads() <= py_threads, [t.name for t in threading.enumerate()]
    assert len(list((tmp_path / "snaps").iterdir())) == 4  # steps 10..40, overwritten each run
