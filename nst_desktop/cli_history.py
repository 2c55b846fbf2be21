"""``nst-desktop history``: list, show, pin, unpin and delete the run history; set its limits.

Records are read back from a folder anyone can edit, so every text from them is printed through
core.text.one_line, and a damaged entry is a warning on stderr, never an error.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from .core.text import cap_warnings, one_line

HELP = "List the run history (every run that made a picture), newest first."
EPILOG = (
    "Every run of the window and of the command line that made a picture is kept in the data "
    "folder's history/ (NST_DESKTOP_DATA_DIR), with its settings, inputs and loss curve. "
    "Unpinned entries are removed, oldest first, past the limits ('history limits')."
)


def add_history_command(sub: Any) -> None:
    """Register ``history`` and its actions on the CLI's subparsers."""
    p = sub.add_parser("history", help=HELP, description=HELP, epilog=EPILOG)
    p.set_defaults(handler=history_command)
    p.add_argument("--json", action="store_true", help="print the entries as a JSON list")
    p.add_argument("--limit", type=int, metavar="N", help="only the newest N entries")
    hs = p.add_subparsers(dest="history_command", metavar="[ACTION]")
    show = hs.add_parser("show", help="print one entry: its record, inputs and settings")
    show.add_argument("id", metavar="ID", help="an id from the list (a unique start is enough)")
    show.add_argument("--json", action="store_true", help="print it as JSON, with its curve")
    for name, text in (
        ("pin", "keep an entry whatever the limits"),
        ("unpin", "let the limits remove an entry again"),
        ("delete", "remove an entry and its pictures"),
    ):
        action = hs.add_parser(name, help=text, description=text)
        action.add_argument("id", metavar="ID")
    limits = hs.add_parser("limits", help="show or set when unpinned entries are removed")
    limits.add_argument("--entries", type=int, metavar="N", help="keep at most N entries")
    limits.add_argument("--size", type=float, metavar="GB", help="keep at most GB gigabytes")


def history_command(args: argparse.Namespace) -> int:
    """The ``history`` command and its actions; the exit status."""
    from .cli import UsageError
    from .core.history import History, HistoryError

    history = History()
    action = args.history_command or "list"
    try:
        if action == "list":
            return _list(history, args)
        if action == "show":
            return _show(history, args)
        if action == "limits":
            return _limits(history, args)
        if action == "delete":
            entry = history.get(args.id)
            history.delete(entry.id)
            print(f"deleted {entry.id}")
            return 0
        entry = history.set_pinned(args.id, action == "pin")
        print(f"{entry.id} {'pinned' if entry.pinned else 'unpinned'}")
        return 0
    except HistoryError as exc:
        raise UsageError(str(exc)) from None


def _list(history: Any, args: argparse.Namespace) -> int:
    scan = history.scan()
    _warn(scan.warnings)
    entries = scan.entries[: args.limit] if args.limit and args.limit > 0 else scan.entries
    if args.json:
        json.dump([e.to_dict() for e in entries], sys.stdout, indent=1)
        print()
        return 0
    for e in entries:
        print(_line(e))
    limits = history.limits()
    print(
        f"{len(scan.entries)} entries, {_mb(scan.bytes)} in {one_line(history.folder, 500)}; "
        f"kept: {limits.max_entries} entries or {_gb(limits.max_bytes)} (pinned always).",
        file=sys.stderr,
    )
    return 0


def _line(e: Any) -> str:
    when = time.strftime("%Y-%m-%d %H:%M", time.localtime(e.created))
    names = ", ".join(i.name for i in e.inputs) or "-"
    pin = "*" if e.pinned else " "
    return one_line(
        f"{e.id} {pin} {e.status:<9} {e.mode:<12} {e.iterations:>6} it  "
        f"{e.size[0]}x{e.size[1]}  {when}  {names}",
        400,
    )


def _show(history: Any, args: argparse.Namespace) -> int:
    from .core.history_record import read_curve

    entry = history.get(args.id)
    if args.json:
        data = entry.to_dict()
        data["curve"] = [[step, terms] for step, terms in read_curve(entry.folder)]
        json.dump(data, sys.stdout, indent=1)
        print()
        return 0
    when = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(entry.created))
    rows = [
        ("id", entry.id + ("  (pinned)" if entry.pinned else "")),
        ("made", f"{when} by the {entry.source or 'unknown'}"),
        ("status", f"{entry.status}: {entry.message}" if entry.message else entry.status),
        ("mode", entry.mode),
        ("iterations", f"{entry.iterations} in {entry.seconds:.1f} s"),
        ("picture", f"{entry.result} ({entry.size[0]}x{entry.size[1]})"),
        ("weights", entry.weights or "-"),
        ("device", entry.device or "-"),
    ]
    rows += [(f"{i.role}", _input_text(i)) for i in entry.inputs]
    if entry.losses:
        rows.append(("losses", ", ".join(f"{k} {v:.4g}" for k, v in entry.losses.items())))
    for label, value in rows:
        print(one_line(f"{label + ':':<12}{value}", 2000))
    print("settings:")
    for key, value in entry.settings.items():
        print(one_line(f"  {key}: {json.dumps(value)}", 2000))
    return 0


def _input_text(i: Any) -> str:
    from pathlib import Path

    from .core.history_record import file_sha256

    weight = f" (blend weight {i.weight:g})" if i.role == "style" else ""
    if not Path(i.path).is_file():
        state = "missing"
    elif i.sha256 and file_sha256(Path(i.path)) != i.sha256:
        state = "changed since"
    else:
        state = ""
    return f"{i.path}{weight}" + (f" [{state}]" if state else "")


def _limits(history: Any, args: argparse.Namespace) -> int:
    from .cli import UsageError
    from .core.history import Limits

    limits = history.limits()
    if args.entries is not None or args.size is not None:
        if (args.entries is not None and args.entries < 1) or (
            args.size is not None and not 0.001 <= args.size <= 1e6
        ):
            raise UsageError("--entries must be 1 or more and --size between 0.001 and 1e6 GB.")
        limits = Limits(
            args.entries if args.entries is not None else limits.max_entries,
            int(args.size * (1 << 30)) if args.size is not None else limits.max_bytes,
        )
        history.set_limits(limits)
        removed = history.prune(limits)
        if removed:
            print(f"removed {len(removed)} old entries past the new limits", file=sys.stderr)
    print(f"kept: {limits.max_entries} entries or {_gb(limits.max_bytes)}; pinned ones always")
    return 0


def _warn(warnings: list[str]) -> None:
    for w in cap_warnings(warnings, about="history"):
        print(f"nst-desktop: warning: {one_line(w, 500)}", file=sys.stderr)


def _mb(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def _gb(n: int) -> str:
    return f"{n / (1 << 30):g} GB"
