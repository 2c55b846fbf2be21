"""Per-user folders for the app's cache (weights) and data (presets, logs).

``NST_DESKTOP_CACHE_DIR`` and ``NST_DESKTOP_DATA_DIR`` override them (tests, portable installs).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

APP = "nst-desktop"


def _platform_dir(kind: str) -> Path:
    home = Path.home()
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(home / "AppData" / "Local")
        return Path(base) / APP / ("Cache" if kind == "cache" else "Data")
    if sys.platform == "darwin":
        sub = "Caches" if kind == "cache" else "Application Support"
        return home / "Library" / sub / APP
    env = "XDG_CACHE_HOME" if kind == "cache" else "XDG_DATA_HOME"
    default = home / (".cache" if kind == "cache" else ".local/share")
    return Path(os.environ.get(env) or default) / APP


def cache_dir() -> Path:
    return Path(os.environ.get("NST_DESKTOP_CACHE_DIR") or _platform_dir("cache"))


def data_dir() -> Path:
    return Path(os.environ.get("NST_DESKTOP_DATA_DIR") or _platform_dir("data"))


def resources_dir() -> Path:
    """The bundled ``resources/`` folder: beside the package, or inside a PyInstaller bundle."""
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle:
        return Path(bundle) / "resources"
    return Path(__file__).resolve().parents[2] / "resources"
