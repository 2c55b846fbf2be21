"""Build the one-folder bundle ``dist/nst-desktop/`` with PyInstaller and print time and size.

Run with the project's environment: ``.venv/bin/python build_scripts/build.py`` (``make dist`` does
this and installs PyInstaller first). Extra arguments go to PyInstaller, e.g. ``--log-level WARN``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "build_scripts" / "nst_desktop.spec"
DIST = REPO / "dist"
WORK = REPO / "build" / "pyinstaller"
APP = DIST / "nst-desktop"


def folder_size(path: Path) -> int:
    """Bytes of the files under ``path`` (symbolic links not followed, not counted twice)."""
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def main(argv: list[str]) -> int:
    try:
        import PyInstaller  # noqa: F401
    except ImportError:
        print(
            "build: PyInstaller is not installed in this environment; "
            "run `make dist` or `.venv/bin/pip install -e '.[dist]'`.",
            file=sys.stderr,
        )
        return 2
    cmd = [
        sys.executable,
        "-m",
        "PyInstaller",
        "--noconfirm",
        "--distpath",
        str(DIST),
        "--workpath",
        str(WORK),
        *argv,
        str(SPEC),
    ]
    print("build:", " ".join(cmd), flush=True)
    started = time.monotonic()
    result = subprocess.run(cmd, cwd=REPO)
    seconds = time.monotonic() - started
    if result.returncode != 0:
        print(f"build: PyInstaller failed (exit {result.returncode}) after {seconds:.0f} s")
        return 1
    # The intermediate files are only a cache for the next build; they are as big as a few
    # hundred MB, so keep them out of the way unless asked.
    if os.environ.get("NST_KEEP_BUILD_DIR") != "1":
        shutil.rmtree(WORK, ignore_errors=True)
    size = folder_size(APP)
    print(f"build: {APP} built in {seconds:.0f} s; {size / 2**30:.2f} GiB")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
