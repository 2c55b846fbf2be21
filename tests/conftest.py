"""Suite-wide isolation: offscreen Qt, private app folders, and no network at all."""

from __future__ import annotations

import http.server
import os
import socket
import threading

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")


@pytest.fixture(autouse=True)
def _private_app_dirs(tmp_path_factory, monkeypatch):
    """Each test gets empty cache/data folders and torch hub dir, so nothing leaks between tests."""
    base = tmp_path_factory.mktemp("appdirs")
    monkeypatch.setenv("NST_DESKTOP_CACHE_DIR", str(base / "cache"))
    monkeypatch.setenv("NST_DESKTOP_DATA_DIR", str(base / "data"))
    monkeypatch.setenv("TORCH_HOME", str(base / "torch"))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(base / "config"))
    # 'auto' precision would measure bfloat16 in every process (seconds each on a CPU that
    # emulates it); tests/test_precision.py lifts this to test the measuring itself.
    monkeypatch.setenv("NST_DESKTOP_AUTO_PRECISION", "float32")


_real_connect = socket.socket.connect


def _loopback_only(self, address):
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, str) and not (
        host.startswith("127.") or host in ("localhost", "::1") or host.startswith("/")
    ):
        raise OSError(f"tests may not reach the network (tried {address!r})")
    return _real_connect(self, address)


@pytest.fixture(autouse=True)
def _no_network(monkeypatch):
    monkeypatch.setattr(socket.socket, "connect", _loopback_only)


class LocalServer:
    """Serves in-memory files on 127.0.0.1; '/short/...' promises all bytes and sends half;
    '/stall/...' promises all bytes, sends 1000 and then nothing until :meth:`release` (or
    :data:`STALL_LIMIT_S`), as a server that has stopped answering."""

    STALL_LIMIT_S = 30.0

    def __init__(self, files: dict[str, bytes]) -> None:
        files_ = files
        released = self.released = threading.Event()

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                if self.path.startswith("/stall/"):
                    data = files_.get(self.path.removeprefix("/stall"), b"")
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(data)))
                    self.end_headers()
                    self.wfile.write(data[:1000])
                    self.wfile.flush()
                    released.wait(LocalServer.STALL_LIMIT_S)
                    self.close_connection = True
                    return
                name = self.path.removeprefix("/short")
                data = files_.get(name)
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

    def release(self) -> None:
        """End every stalled answer (the connection closes short of its promised length)."""
        self.released.set()

    def close(self) -> None:
        self.release()
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def serve_files():
    """Start a LocalServer on 127.0.0.1 for a dict of path -> bytes; it stops after the test."""
    servers: list[LocalServer] = []

    def start(files: dict[str, bytes]) -> LocalServer:
        servers.append(LocalServer(files))
        return servers[-1]

    yield start
    for s in servers:
        s.close()
