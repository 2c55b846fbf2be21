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


# ----------------------------------------------------------------- colour profiles
#: ProPhoto RGB (ROMM): primaries adapted to D50 as ICC stores them, gamma 1.8.
PROPHOTO = {
    "r": (0.7977, 0.2880, 0.0000),
    "g": (0.1352, 0.7119, 0.0000),
    "b": (0.0313, 0.0001, 0.8249),
}


def matrix_icc(description: str, primaries: dict[str, tuple[float, float, float]], gamma: float
               ) -> bytes:  # fmt: skip
    """A minimal ICC v2 RGB display profile (matrix and gamma curves), built from its numbers
    so the tests need no profile file from the system."""
    import struct

    def s15(v: float) -> bytes:
        return struct.pack(">i", round(v * 65536))

    def xyz(v: tuple[float, float, float]) -> bytes:
        return b"XYZ \0\0\0\0" + b"".join(s15(c) for c in v)

    text = description.encode("ascii") + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + b"\0" * 12 + b"\0" * 67
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    d50 = (0.9642, 1.0, 0.8249)
    tags = [
        (b"desc", desc),
        (b"cprt", b"text\0\0\0\0" + b"none\0"),
        (b"wtpt", xyz(d50)),
        (b"rXYZ", xyz(primaries["r"])),
        (b"gXYZ", xyz(primaries["g"])),
        (b"bXYZ", xyz(primaries["b"])),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, body = b"", b""
    for sig, data in tags:
        data += b"\0" * (-len(data) % 4)
        table += sig + struct.pack(">II", offset + len(body), len(data))
        body += data
    size = offset + len(body)
    header = (
        struct.pack(">I", size) + b"\0\0\0\0" + bytes([2, 0x10, 0, 0]) + b"mntrRGB XYZ "
        + b"\0" * 12 + b"acsp" + b"\0" * 24 + b"\0\0\0\0" + b"".join(s15(c) for c in d50)
        + b"\0" * 48
    )  # fmt: skip
    assert len(header) == 128
    return header + struct.pack(">I", len(tags)) + table + body
