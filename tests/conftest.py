"""Suite-wide isolation: offscreen Qt, private app folders, and no network at all."""

from __future__ import annotations

import os
import socket

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
