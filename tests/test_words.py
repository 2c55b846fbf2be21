"""Words people read: times as "3 min 20 s", download failures without "[Errno -2]"."""

from __future__ import annotations

import socket
import subprocess
import sys
import urllib.error

import pytest

from nst_desktop.core.text import duration


@pytest.mark.parametrize(
    ("seconds", "said"),
    [
        (0, "0 s"),
        (0.01, "under 0.1 s"),
        (0.43, "0.4 s"),
        (3.0, "3 s"),
        (42.4, "42 s"),
        (200, "3 min 20 s"),
        (120, "2 min"),
        (8640, "2 h 24 min"),
        (7200, "2 h"),
        (float("nan"), "?"),
        (float("inf"), "?"),
        (-1, "?"),
    ],
)
def test_duration_in_words(seconds, said):
    assert duration(seconds) == said


def test_duration_needs_no_torch():
    code = "import sys, nst_desktop.core.text as t; t.duration(3); print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_a_failed_name_lookup_reads_as_words():
    from nst_desktop.core.weights import _reason

    lookup = urllib.error.URLError(socket.gaierror(-2, "Name or service not known"))
    assert "Errno" not in _reason(lookup) and "network" in _reason(lookup)
    refused = urllib.error.URLError(ConnectionRefusedError(111, "Connection refused"))
    assert _reason(refused) == "Connection refused"
