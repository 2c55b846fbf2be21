"""Launching the real entry point (``python -m nst_desktop``) offscreen, driven by
``window_driver.py``, with private folders; helpers for the subprocess tests."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from window_driver import DRIVER_CODE

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
#: Lines a healthy offscreen Qt prints on stderr (not ours to fix).
QT_NOISE = ("This plugin does not support propagateSizeHints()",)


@dataclass
class Launch:
    proc: subprocess.Popen
    home: Path

    @property
    def fault_log(self) -> Path:
        return self.home / "data" / "logs" / "faults.log"

    def finish(self, timeout: float = 540) -> tuple[int, str, str]:
        """Wait for the process (the ceiling is for a machine under heavy load); a process
        still there after it is killed, so no test leaves one behind."""
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            raise
        return self.proc.returncode, out, err

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.communicate()

    def wait_for(self, word: str, timeout: float = 540) -> None:
        """Read stdout until a line ``word`` (the driver's report)."""
        import selectors
        import time

        sel = selectors.DefaultSelector()
        sel.register(self.proc.stdout, selectors.EVENT_READ)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if sel.select(timeout=1.0):
                line = self.proc.stdout.readline()
                if not line:
                    break
                if line.strip() == word:
                    return
        self.kill()
        raise AssertionError(f"the window never said {word}")


def launch(home: Path, **env: str) -> Launch:
    """Start the window with its folders under ``home``; ``env`` adds NST_TEST_* values."""
    environ = dict(os.environ)
    environ.update(
        QT_QPA_PLATFORM="offscreen",
        NST_DESKTOP_DATA_DIR=str(home / "data"),
        NST_DESKTOP_CACHE_DIR=str(home / "cache"),
        XDG_CONFIG_HOME=str(home / "config"),
        TORCH_HOME=str(home / "torch"),
        PYTHONPATH=os.pathsep.join([str(ROOT), environ.get("PYTHONPATH", "")]),
        OMP_NUM_THREADS="1",
        **env,
    )
    code = DRIVER_CODE.format(folder=str(HERE))
    proc = subprocess.Popen(
        [sys.executable, "-c", code],
        env=environ,
        cwd=str(home),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    return Launch(proc, home)


def unexpected_stderr(err: str) -> list[str]:
    return [line for line in err.splitlines() if line.strip() and line.strip() not in QT_NOISE]
