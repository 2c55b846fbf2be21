"""Values read from and written to QSettings, treated as untrusted input.

The preferences file can be damaged, hand-edited or left by another version: every value is
read through :func:`read_value` and checked like user input, and one that does not pass is
dropped with a log line, so the window always opens. Paths are stored losslessly: a name with
bytes that are not UTF-8 (which QSettings would drop) is kept as its bytes in base64.
"""

from __future__ import annotations

import base64
import binascii
import json
import logging
import math
import os
from typing import Any

from PySide6.QtCore import QSettings

log = logging.getLogger(__name__)

#: The longest text value read back (settings JSON, a style list): anything longer is damage.
MAX_TEXT = 100_000
#: Marks a path stored as the base64 of its bytes (see :func:`encode_path`).
PATH_BYTES = "fsbytes:"


def read_value(qs: QSettings, key: str) -> Any:
    """``qs.value(key)``, or None when the stored value cannot even be decoded."""
    try:
        value = qs.value(key)
    except Exception as exc:  # noqa: BLE001 - an unknown type in a damaged file
        log.warning("preference %s dropped: it could not be read (%s)", key, exc)
        return None
    if value is None and qs.contains(key):  # Qt could not decode it (an unknown type)
        log.warning("preference %s dropped: it could not be read", key)
    return value


def read_text(qs: QSettings, key: str) -> str:
    """A text preference; anything else stored there reads as empty, with a log line."""
    value = read_value(qs, key)
    if value is None or (isinstance(value, str) and len(value) <= MAX_TEXT):
        return value or ""
    log.warning("preference %s dropped: %s", key, _kind(value))
    return ""


def read_json(qs: QSettings, key: str) -> Any:
    """The JSON stored as text under ``key``, or None (damaged, too deep, too long)."""
    text = read_text(qs, key)
    if not text:
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError) as exc:
        log.warning("preference %s dropped: not valid JSON (%s)", key, str(exc)[:80])
        return None


def read_path(qs: QSettings, key: str) -> str:
    return decode_path(read_text(qs, key), key)


def style_entries(data: Any, limit: int) -> list[tuple[str, float]]:
    """``[[path, weight], ...]`` as stored; entries that are not that are dropped and logged."""
    if data is None:
        return []
    if not isinstance(data, list):
        log.warning("preference run/styles dropped: %s, not a list", _kind(data))
        return []
    entries, bad = [], 0
    for item in data[:limit]:
        if (
            isinstance(item, list)
            and len(item) == 2
            and isinstance(item[0], str)
            and isinstance(item[1], (int, float))
            and not isinstance(item[1], bool)
            and math.isfinite(item[1])
            and 0 <= item[1] <= 1e6
        ):
            path = decode_path(item[0], "run/styles")
            if path:
                entries.append((path, float(item[1])))
                continue
        bad += 1
    if bad:
        log.warning("preference run/styles: %d damaged entries dropped", bad)
    return entries


def encode_path(path: str) -> str:
    """``path`` as text QSettings keeps intact: itself when it is plain UTF-8, else its
    bytes (``os.fsencode``) in base64 after :data:`PATH_BYTES`."""
    try:
        path.encode("utf-8")
        if not path.startswith(PATH_BYTES):
            return path
    except UnicodeEncodeError:  # undecodable bytes, kept by Python as lone surrogates
        pass
    return PATH_BYTES + base64.b64encode(os.fsencode(path)).decode("ascii")


def decode_path(value: Any, key: str = "path") -> str:
    """The path :func:`encode_path` stored; "" (with a log line) for anything damaged."""
    if not isinstance(value, str) or "\0" in value:
        if value:
            log.warning("preference %s dropped: %s, not a path", key, _kind(value))
        return ""
    if not value.startswith(PATH_BYTES):
        return value
    try:
        raw = base64.b64decode(value[len(PATH_BYTES) :].encode("ascii"), validate=True)
    except (ValueError, binascii.Error):
        log.warning("preference %s dropped: a damaged stored path", key)
        return ""
    return "" if b"\0" in raw else os.fsdecode(raw)


def _kind(value: Any) -> str:
    if isinstance(value, str):
        return f"text of {len(value)} characters"
    return f"a value of type {type(value).__name__}"
