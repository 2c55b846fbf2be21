"""``nst-desktop variations`` and ``nst-desktop batch``: many runs from one command.

Each run goes through core.session like ``transfer`` (so each becomes a history entry); one that
fails is reported and the others go on; the weights are loaded once for all of them.
"""

from __future__ import annotations

import argparse
import dataclasses
from pathlib import Path
from typing import Any

from .core.settings import Mode, RunSettings, SettingsError

VARIATIONS_HELP = (
    "Run one look several times over one knob and write a labelled contact sheet, with each "
    "cell's picture beside it."
)
BATCH_HELP = "Apply one look (styles, preset, settings) to many photos: OUTDIR/<photo name>.png."


def add_commands(sub: Any) -> None:
    """Register ``variations`` and ``batch`` on the CLI's subparsers."""
    from .cli import _add_settings_options

    v = sub.add_parser("variations", help=VARIATIONS_HELP, description=VARIATIONS_HELP)
    v.set_defaults(handler=variations_command)
    v.add_argument("content", type=Path, metavar="CONTENT")
    v.add_argument("styles", type=Path, nargs="+", metavar="STYLE")
    v.add_argument("-o", "--output", type=Path, required=True, metavar="SHEET",
                   help="the contact sheet (.png .jpg .webp .tif); cells go beside it as "
                        "SHEET-01-seed-0.png, ...")  # fmt: skip
    v.add_argument("--vary", required=True, metavar="KNOB=V1,V2,...",
                   help="seed=0,1,2,3 | style-weight=25,50,100 | style-scale=0.5,1,2 | "
                        "preset=NAME1,NAME2 (2 to 16 values)")  # fmt: skip
    b = sub.add_parser("batch", help=BATCH_HELP, description=BATCH_HELP)
    b.set_defaults(handler=batch_command)
    b.add_argument("contents", type=Path, nargs="+", metavar="CONTENT")
    b.add_argument("-o", "--output-dir", type=Path, required=True, metavar="OUTDIR",
                   help="the folder for the results (made if missing)")  # fmt: skip
    b.add_argument("--style", type=Path, action="append", required=True, metavar="STYLE",
                   dest="styles", help="a style image; repeat it for a blend")  # fmt: skip
    for p in (v, b):
        p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
        p.add_argument("--no-history", action="store_true", help="keep no run in the history")
        _add_settings_options(p)


def _settings(args: argparse.Namespace) -> tuple[RunSettings, list[str]]:
    """The look, as ``transfer`` would read these options."""
    from .cli import settings_from_args

    return settings_from_args(argparse.Namespace(**{**vars(args), "command": Mode.TRANSFER}))


def variations_command(args: argparse.Namespace) -> int:
    from .cli import EXIT_FAIL, EXIT_OK, UsageError, _check_outputs, _say
    from .core.images import save_image
    from .core.session import RunInputs
    from .core.text import cap_warnings
    from .core.variations import cell_path, contact_sheet, parse_vary, variation_cells

    base, warnings = _settings(args)
    try:
        knob, values = parse_vary(args.vary)
        cells = variation_cells(base, knob, values)
    except SettingsError as exc:
        raise UsageError(str(exc)) from None
    for w in cap_warnings(warnings):
        _say(f"warning: {w}")
    _check_outputs(args)
    runner = _Runner(args)
    pictures: list[tuple[str, Any]] = []
    for i, cell in enumerate(cells):
        inputs = RunInputs.with_blend(args.content, args.styles, cell.settings.style_blend)
        result = runner.run(f"cell {i + 1}/{len(cells)}: {cell.label}", cell.settings, inputs)
        if result is None:  # interrupted, or every cell would fail alike
            break
        pictures.append((cell.label, result.image))
        if result.image is not None:
            save_image(
                result.image, cell_path(args.output, i, cell.label), metadata=result.metadata
            )
    pictures += [(c.label, None) for c in cells[len(pictures) :]]
    if any(img is not None for _, img in pictures):
        save_image(contact_sheet(knob, pictures), args.output, metadata={"variations": knob})
        runner.say(f"wrote {args.output} and {sum(i is not None for _, i in pictures)} cells")
    return runner.exit_status(EXIT_OK, EXIT_FAIL)


def batch_command(args: argparse.Namespace) -> int:
    from .cli import EXIT_FAIL, EXIT_OK, UsageError, _check_writable, _say
    from .core.images import ImageError, save_image
    from .core.session import RunInputs
    from .core.text import cap_warnings

    settings, warnings = _settings(args)
    for w in cap_warnings(warnings):
        _say(f"warning: {w}")
    try:
        args.output_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise UsageError(f"Cannot make the folder {args.output_dir} ({exc.strerror}).") from None
    _check_writable(args.output_dir)
    runner = _Runner(args, stop_on_input_error=False)
    taken: set[str] = set()
    for i, content in enumerate(args.contents):
        out = _unique(args.output_dir, content.stem, taken)
        inputs = RunInputs.with_blend(content, args.styles, settings.style_blend)
        result = runner.run(f"{i + 1}/{len(args.contents)}: {content.name}", settings, inputs)
        if result is None:
            break
        if result.image is not None:
            try:
                save_image(result.image, out, metadata=result.metadata)
            except ImageError as exc:
                runner.failed.append(f"{content.name}: {exc}")
                continue
            runner.say(f"wrote {out}")
    for line in cap_warnings(runner.failed, about="batch"):
        _say(f"failed: {line}")
    runner.say(f"{len(args.contents) - len(runner.failed)} of {len(args.contents)} photos done")
    return runner.exit_status(EXIT_OK, EXIT_FAIL, report=False)


def _unique(folder: Path, stem: str, taken: set[str]) -> Path:
    """``folder/stem.png``, or ``stem-2.png`` when two photos share a name."""
    name, n = stem, 1
    while name.lower() in taken:
        n += 1
        name = f"{stem}-{n}"
    taken.add(name.lower())
    return folder / f"{name}.png"


class _Runner:
    """Runs one session after another, sharing the weights and the Ctrl-C handling."""

    def __init__(self, args: argparse.Namespace, *, stop_on_input_error: bool = True) -> None:
        from .cli import _weights_provider

        self.args = args
        self.quiet = args.quiet
        self.stop_on_input_error = stop_on_input_error
        self.failed: list[str] = []
        self.interrupted = False
        self._provide = _weights_provider(args.quiet)
        self._weights: dict[tuple[str, str], Any] = {}

    def weights(self, source: str, fmt: str, cancelled: Any) -> Any:
        if (source, fmt) not in self._weights:
            self._weights[source, fmt] = self._provide(source, fmt, cancelled)
        return self._weights[source, fmt]

    def say(self, text: str) -> None:
        from .cli import Progress

        Progress(self.quiet).message(text)

    def run(self, label: str, settings: RunSettings, inputs: Any) -> Any:
        """One run; its result, or None when the rest should not run (Ctrl-C, or an input
        error every run would share)."""
        from .cli import Progress, _interrupts_stop, _tell
        from .core.failures import Failure, RunStatus
        from .core.session import RunSession
        from .core.stages import plan

        self.say(label)
        progress = Progress(self.quiet, plan(settings))
        session = RunSession(
            dataclasses.replace(settings, mode=Mode.TRANSFER), inputs, weights=self.weights,
            cli=True, history=not self.args.no_history,
        )  # fmt: skip
        session.on_event = lambda event: _tell(event, session, progress)
        with _interrupts_stop(session) as interrupted:
            for rec in session.records():
                progress.update(rec)
        result = session.result
        if interrupted[0]:
            self.interrupted = True
            self.failed.append(f"{label}: interrupted")
            return None
        if result.status != RunStatus.DONE:
            self.failed.append(f"{label}: {result.message}")
            if result.failure == Failure.INPUT and self.stop_on_input_error:
                return None
        return result

    def exit_status(self, ok: int, fail: int, *, report: bool = True) -> int:
        """``fail`` when any run failed (each said once when ``report``), else ``ok``."""
        from .cli import _say
        from .core.text import cap_warnings

        if report:
            for line in cap_warnings(self.failed, about="variations"):
                _say(f"failed: {line}")
        if self.interrupted:
            _say("interrupted.")
        return fail if self.failed else ok
