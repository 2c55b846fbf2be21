"""Text from files the user did not make (a picture's settings, file names, preset warnings),
made safe to show: one terminal line, no escape codes, no flood.

A file name or a settings value can carry ESC sequences (which recolour, retitle or clear a
terminal, or write its clipboard), carriage returns and newlines (which forge or hide lines), and
bidirectional overrides (which show a name backwards). Front ends print such text through
:func:`one_line`, and lists of warnings through :func:`cap_warnings`.
"""

from __future__ import annotations

import math
import unicodedata

#: Unicode categories escaped: controls, format characters (bidi overrides, zero-width),
#: unpaired surrogates (undecodable bytes of a file name), line and paragraph separators.
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}
#: How many warnings about one file are shown before the rest are summarized.
MAX_WARNINGS = 12


def escape_char(ch: str) -> str:
    """``ch`` itself when it is safe to print, else a visible escape such as ``\\x1b``."""
    if unicodedata.category(ch) not in _UNSAFE_CATEGORIES:
        return ch
    code = ord(ch)
    if ch in _NAMED:
        return _NAMED[ch]
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8 (os.fsdecode's surrogateescape)
        return f"\\x{code - 0xDC00:02x}"
    if code < 0x100:
        return f"\\x{code:02x}"
    if code < 0x10000:
        return f"\\u{code:04x}"
    return f"\\U{code:08x}"


def one_line(text: object, limit: int = 300) -> str:
    """``text`` as one printable line: unsafe characters escaped, at most ``limit`` characters
    (cut with an ellipsis, never inside an escape)."""
    out: list[str] = []
    length = 0
    for ch in str(text):
        piece = escape_char(ch)
        if length + len(piece) > limit:
            out.append("…")
            break
        out.append(piece)
        length += len(piece)
    return "".join(out)


def cap_warnings(warnings: list[str], limit: int = MAX_WARNINGS, about: str = "") -> list[str]:
    """The first warnings and one line counting the rest: a hostile file cannot flood a log
    or a terminal with thousands of lines."""
    if len(warnings) <= limit:
        return list(warnings)
    rest = len(warnings) - (limit - 1)
    where = f"{about}: " if about else ""
    return [*warnings[: limit - 1], f"{where}{rest} more problems like these were not listed"]


def duration(seconds: float) -> str:
    """A time as people say it: "0.4 s", "42 s", "3 min 20 s", "2 h 24 min"; "?" unknown."""
    if not isinstance(seconds, (int, float)) or not math.isfinite(seconds) or seconds < 0:
        return "?"
    if seconds == 0:
        return "0 s"
    if seconds < 0.05:
        return "under 0.1 s"
    if seconds < 9.95:
        return f"{seconds:.1f} s".replace(".0 s", " s")
    whole = int(round(seconds))
    if whole < 60:
        return f"{whole} s"
    if whole < 3600:
        m, s = divmod(whole, 60)
        return f"{m} min {s} s" if s else f"{m} min"
    minutes = int(round(seconds / 60))
    h, m = divmod(minutes, 60)
    return f"{h} h {m} min" if m else f"{h} h"
