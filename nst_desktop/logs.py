"""Diagnostics: a rotating log file in the app's data folder and faulthandler for hard crashes."""

from __future__ import annotations

import faulthandler
import logging
import logging.handlers
from pathlib import Path

from .core.paths import data_dir

_fault_file = None


def log_dir() -> Path:
    return data_dir() / "logs"


def log_file() -> Path:
    return log_dir() / "nst-desktop.log"


def setup_logging(level: int = logging.INFO) -> Path | None:
    """Log to a rotating file (1 MB x 3); None when the folder is not writable."""
    global _fault_file
    root = logging.getLogger("nst_desktop")
    for h in list(root.handlers):
        if getattr(h, "_nst_file", False):
            if Path(h.baseFilename) == log_file().absolute():
                return log_file()
            root.removeHandler(h)  # the data folder moved (tests, a portable install)
            h.close()
    try:
        log_dir().mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(
            log_file(), maxBytes=1_000_000, backupCount=3, encoding="utf-8"
        )
    except OSError:
        return None
    handler._nst_file = True  # type: ignore[attr-defined]
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    root.addHandler(handler)
    root.setLevel(level)
    if _fault_file is None:
        try:
            _fault_file = open(log_dir() / "faults.log", "a", encoding="utf-8")  # noqa: SIM115
            faulthandler.enable(_fault_file)
        except OSError:
            faulthandler.enable()
    return log_file()
