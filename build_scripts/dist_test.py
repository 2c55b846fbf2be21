"""Smoke test of the built bundle, run far from the repository's Python (``make dist-test``).

Each check runs a launcher of ``dist/nst-desktop/`` with a clean environment
(``PATH=/usr/bin:/bin``, ``HOME`` and the working directory a fresh temporary folder, no
PYTHONPATH, the project's .venv out of reach):

1. the bundled resources match the repository's ``resources/`` and ``VERSION`` matches the package;
2. ``nst-desktop-console --version`` prints that version;
3. a headless tiny run: a bundled sample content and style, random weights, 32 px, 3 steps;
4. the windowed launcher on the offscreen platform: the window must appear and the program must
   exit cleanly after a few seconds (a hook in ``launcher.py`` reports and quits).

Prints each step's time and exits non-zero on the first failure.
"""

from __future__ import annotations

import argparse
import importlib.util
import select
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from nst_desktop import __version__

REPO = Path(__file__).resolve().parents[1]


def _launcher_constant(name: str) -> str:
    """A constant of launcher.py (the line the probe prints), so the two never drift apart."""
    spec = importlib.util.spec_from_file_location(
        "_nst_launcher", Path(__file__).with_name("launcher.py")
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, name)


PROBE_SHOWN = _launcher_constant("PROBE_SHOWN")


class Failure(Exception):
    """A check failed; the message says which and why."""


def repo_version() -> str:
    return __version__


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """Nothing of the caller's environment: no PYTHONPATH, no venv, no TORCH_HOME, no display."""
    env = {"PATH": "/usr/bin:/bin", "HOME": str(home), "LANG": "C.UTF-8"}
    env.update(extra)
    return env


def run(cmd: list[str], env: dict[str, str], cwd: Path, timeout: float) -> tuple[str, float]:
    started = time.monotonic()
    try:
        proc = subprocess.run(
            cmd, env=env, cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    except subprocess.TimeoutExpired as exc:
        raise Failure(f"{Path(cmd[0]).name} {' '.join(cmd[1:])} took over {timeout:.0f} s") from exc
    seconds = time.monotonic() - started
    if proc.returncode != 0:
        raise Failure(
            f"{Path(cmd[0]).name} {' '.join(cmd[1:])} exited {proc.returncode}\n"
            f"--- stdout\n{proc.stdout[-3000:]}\n--- stderr\n{proc.stderr[-3000:]}"
        )
    return proc.stdout + proc.stderr, seconds


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from the PNG header (no Pillow needed to check the output)."""
    head = path.read_bytes()[:24]
    if head[:8] != b"\x89PNG\r\n\x1a\n":
        raise Failure(f"{path} is not a PNG file")
    return struct.unpack(">II", head[16:24])


def _files(folder: Path) -> set[Path]:
    if not folder.is_dir():
        return set()
    found = {p.relative_to(folder) for p in folder.rglob("*") if p.is_file()}
    return {p for p in found if "__pycache__" not in p.parts}


def check_resources(app: Path, version: str) -> str:
    internal = app / "_internal"
    for rel in ("presets", "samples", "icons", "preset_pictures"):
        want = _files(REPO / "resources" / rel)
        have = _files(internal / "resources" / rel)
        if want - have:
            missing = ", ".join(sorted(map(str, want - have))[:5])
            raise Failure(f"resources/{rel} not fully bundled; missing {missing}")
    if not (internal / "resources" / "nst-desktop.desktop").is_file():
        raise Failure("resources/nst-desktop.desktop (the Linux launcher) is not bundled")
    for where in (app / "VERSION", internal / "VERSION"):
        if not where.is_file() or where.read_text().strip() != version:
            raise Failure(f"{where} is missing or does not say {version}")
    return f"resources and VERSION {version} bundled"


def check_window(exe: Path, env: dict[str, str], cwd: Path, seconds: float, timeout: float) -> str:
    """Start the windowed launcher; it must show a window, then exit 0 when the probe quits it."""
    env = dict(env, QT_QPA_PLATFORM="offscreen", NST_DESKTOP_DIST_PROBE=str(seconds))
    started = time.monotonic()
    proc = subprocess.Popen(
        [str(exe)], env=env, cwd=cwd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    shown_at = None
    lines: list[str] = []
    try:
        while proc.poll() is None and time.monotonic() - started < timeout:
            ready, _, _ = select.select([proc.stderr], [], [], 0.1)
            if ready:
                line = proc.stderr.readline()
                lines.append(line)
                if shown_at is None and line.startswith(PROBE_SHOWN):
                    shown_at = time.monotonic() - started
        if proc.poll() is None:
            raise Failure(f"the window did not exit within {timeout:.0f} s")
    finally:
        if proc.poll() is None:
            proc.kill()
        out, err = proc.communicate()
    lines.append(err)
    log = "".join(lines)[-3000:]
    if shown_at is None:
        raise Failure(f"the window never appeared (exit {proc.returncode})\n{out[-1000:]}{log}")
    if proc.returncode != 0:
        raise Failure(f"the window exited {proc.returncode} after appearing\n{log}")
    return f"window shown {shown_at:.1f} s after launch, closed cleanly"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("app", nargs="?", type=Path, default=REPO / "dist" / "nst-desktop")
    parser.add_argument("--window-seconds", type=float, default=3.0)
    parser.add_argument("--timeout", type=float, default=300.0, help="per step, in seconds")
    args = parser.parse_args(argv)
    app: Path = args.app.resolve()
    console, windowed = app / "nst-desktop-console", app / "nst-desktop"
    if sys.platform == "win32":
        console, windowed = console.with_suffix(".exe"), windowed.with_suffix(".exe")
    if not console.is_file() or not windowed.is_file():
        print(f"dist-test: no bundle at {app}; run `make dist` first.", file=sys.stderr)
        return 2
    version = repo_version()
    tmp = Path(tempfile.mkdtemp(prefix="nst-dist-test-"))
    home, work = tmp / "home", tmp / "work"
    home.mkdir()
    work.mkdir()
    env = clean_env(home)
    total = time.monotonic()
    try:
        steps = [
            ("bundle contents", lambda: (check_resources(app, version), 0.0)),
            ("--version", lambda: run([str(console), "--version"], env, work, args.timeout)),
            (
                "tiny transfer",
                lambda: tiny_run(console, env, work, app, args.timeout),
            ),
            (
                "window (offscreen)",
                lambda: timed(check_window, windowed, env, work, args.window_seconds, args.timeout),
            ),
        ]
        for name, step in steps:
            text, seconds = step()
            if name == "--version" and f"nst-desktop {version}" not in text:
                raise Failure(
                    f"--version printed {text.strip()!r}, expected 'nst-desktop {version}'"
                )
            summary = text.strip().splitlines()[-1] if text.strip() else ""
            print(f"dist-test: ok  {name:<20} {seconds:6.1f} s  {summary}", flush=True)
    except Failure as exc:
        print(f"dist-test: FAILED {exc}", file=sys.stderr)
        return 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"dist-test: all checks passed in {time.monotonic() - total:.1f} s ({app})")
    return 0


def timed(fn, *args) -> tuple[str, float]:  # noqa: ANN001 - a tiny helper
    started = time.monotonic()
    text = fn(*args)
    return text, time.monotonic() - started


def tiny_run(console: Path, env: dict[str, str], work: Path, app: Path, timeout: float):
    # The bundled samples: check_resources has already made sure they are there.
    samples = app / "_internal" / "resources" / "samples"
    content, style = samples / "content_landscape.png", samples / "style_swirls.png"
    out = work / "x.png"
    cmd = [str(console), "transfer", str(content), str(style), "-o", str(out)]
    cmd += ["--weights", "random", "--size", "32", "--steps", "3"]
    text, seconds = run(cmd, env, work, timeout)
    if not out.is_file():
        raise Failure(f"the tiny run exited 0 but wrote no {out.name}")
    width, height = png_size(out)
    if max(width, height) != 32:
        raise Failure(
            f"the tiny run wrote a {width}x{height} image, expected 32 px on its long side"
        )
    return f"{text.strip()}\n{width}x{height} PNG written", seconds


if __name__ == "__main__":
    sys.exit(main())
