"""Shared pieces of the fault-matrix tests (tests/test_faults_*.py, issue 6; see FAULTS.md).

Not a test module: the CLI outcome checks every row repeats, a picture maker, and a loopback
HTTP server for the download rows.
"""

from __future__ import annotations

import http.server
import threading
from pathlib import Path

import numpy as np
from PIL import Image

from nst_desktop import cli

#: A tiny run: random weights, 32 px, 2 evaluations, no progress output.
FAST = ["--weights", "random", "--size", "32", "--steps", "2", "--quiet"]


def run_cli(capsys, *args) -> tuple[int, str]:
    """Run ``nst-desktop ARGS`` in-process; exit code and everything written to stderr."""
    code = cli.main([str(a) for a in args])
    return code, capsys.readouterr().err


def cli_refuses(capsys, *args) -> str:
    """The CLI contract for a user-caused error: exit 2, one line on stderr, no traceback."""
    code, err = run_cli(capsys, *args)
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1 and lines[0].startswith("nst-desktop: "), err
    assert "Traceback" not in err
    return lines[0]


def cli_succeeds(capsys, *args) -> str:
    code, err = run_cli(capsys, *args)
    assert code == 0, err
    assert "Traceback" not in err
    return err


def leftovers(folder: Path) -> list[str]:
    """Temporary or partial files a failed write must not leave behind."""
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".part"))


def gradient(w: int = 48, h: int = 36) -> Image.Image:
    """An RGB picture with structure (x, y and diagonal ramps)."""
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x * 255 // max(1, w - 1), y * 255 // max(1, h - 1), (x + y) % 256], -1)
    return Image.fromarray(arr.astype(np.uint8))


class LoopbackServer:
    """Serves in-memory files on 127.0.0.1; '/short/NAME' promises all of NAME and sends half."""

    def __init__(self, files: dict[str, bytes]) -> None:
        served = files

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                name = self.path.removeprefix("/short")
                data = served.get(name)
                if data is None:
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.path.startswith("/short"):
                    self.wfile.write(data[: len(data) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return
                self.wfile.write(data)

            def log_message(self, *args):
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
        self.thread.join(10)
