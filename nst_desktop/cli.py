"""``nst-desktop``: the window with no arguments, or a headless run over the same core generator.

torch is imported only after the options are parsed, so ``--threads`` reaches
``torch.set_num_threads`` before any torch work and ``--help`` stays instant.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import logging
import os
import signal
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, NoReturn

from . import __version__
from .cli_regions import RegionUsageError, add_region_options, regions_from_args
from .core.settings import (
    MODE_LABELS,
    Mode,
    RunSettings,
    SettingsError,
    parse_layer_spec,
)
from .core.stages import Stage, plan, remaining_seconds
from .core.text import cap_warnings, duration, one_line

log = logging.getLogger("nst_desktop.cli")

EXIT_OK, EXIT_FAIL, EXIT_USAGE = 0, 1, 2
#: Longest line the CLI prints (messages name paths and a URL; a flood is cut).
_LINE_LIMIT = 2000
#: Settings that the subcommand, not an option, decides.
_NOT_OPTIONS = {"mode"}
_COMMANDS = {
    Mode.TRANSFER: "Stylize CONTENT with one or more STYLE images.",
    Mode.CONTENT_REP: "Reconstruct IMAGE from white noise through one layer's activations.",
    Mode.STYLE_REP: "Synthesize IMAGE's texture from white noise (Gram matrices of chosen layers).",
    Mode.SWEEP: "Both studies as labelled grids: content at relu1_1..relu5_1, style cumulatively.",
}


class UsageError(Exception):
    """Bad input or usage: one line on stderr, exit status 2."""


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # one line, not usage + error
        raise UsageError(f"{message} (see '{self.prog} --help')")


def _option_name(field: dataclasses.Field) -> str:
    return "--" + (field.metadata.get("cli") or field.name.replace("_", "-"))


def _add_settings_options(parser: argparse.ArgumentParser) -> None:
    """One option per RunSettings field; help, choices and defaults come from the dataclass."""
    defaults = RunSettings()
    group = parser.add_argument_group("settings (defaults from the settings dataclass)")
    for f in dataclasses.fields(RunSettings):
        if f.name in _NOT_OPTIONS:
            continue
        meta = f.metadata
        default = getattr(defaults, f.name)
        shown = "optimizer default" if default is None else default
        if default == "":
            shown = "automatic"
        if isinstance(default, dict):
            shown = ",".join(f"{k}:{v:g}" if v != 1 else k for k, v in default.items())
        if isinstance(default, list):
            shown = ",".join(map(str, default)) or "equal"
        rng = ""
        if meta["min"] is not None and not isinstance(default, (dict, list)):
            rng = f" [{_num(meta['min'])}..{_num(meta['max'])}]"
        help_text = f"{meta['help']} (default: {shown}){rng}".replace("%", "%%")
        kwargs: dict[str, Any] = {"dest": f.name, "default": argparse.SUPPRESS, "help": help_text}
        if f.type == "bool":
            kwargs["action"] = argparse.BooleanOptionalAction
        elif meta["choices"]:
            kwargs["choices"] = meta["choices"]
        elif f.type == "int":
            kwargs["type"], kwargs["metavar"] = int, "N"
        elif f.type in ("float", "float | None"):
            kwargs["type"], kwargs["metavar"] = float, "X"
        elif f.type == "dict[str, float]":
            kwargs["type"], kwargs["metavar"] = _layer_spec, "NAME[:w],..."
        elif f.type == "list[float]":
            kwargs["type"], kwargs["metavar"] = _parse_floats, "w1,w2,..."
        else:
            kwargs["metavar"] = {
                "init": "noise|content|style|PATH",
                "device": "auto|cpu|cuda[:i]|mps",
                "weights": "torchvision|caffe|random|PATH",
                "max_memory": "SIZE",
            }.get(f.name, "VALUE")
        group.add_argument(_option_name(f), **kwargs)
    group.add_argument(
        "--preset",
        metavar="NAME|FILE",
        help="Start from a bundled or saved preset, or a JSON file (a look keeps the size, "
        "iterations and seed; quality presets such as 'Fast preview' set them).",
    )
    group.add_argument(
        "--settings-from",
        metavar="IMAGE",
        type=Path,
        help="Start from the settings embedded in an image this program exported.",
    )


def _num(value: float) -> str:
    """Integers in full (a seed's range must not read 2.14748e+09), other numbers short."""
    exact = float(value).is_integer() and str(int(abs(value))).rstrip("0") != "1"
    return str(int(value)) if exact else f"{value:g}"


def _layer_spec(text: str) -> dict[str, float]:
    """parse_layer_spec for argparse: its message verbatim, not 'invalid parse_layer_spec value'."""
    try:
        return parse_layer_spec(text)
    except SettingsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _parse_floats(text: str) -> list[float]:
    try:
        return [float(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"'{text}' is not a comma-separated list of numbers"
        ) from None


def build_parser() -> argparse.ArgumentParser:
    """The parser; each subcommand sets ``handler``, the function ``main`` calls with the args."""
    parser = _Parser(
        prog="nst-desktop",
        description="Neural Style Transfer (Gatys et al.) on VGG19. Without a command, opens the "
        "window.",
        epilog="Exit status: 0 done; 2 bad input or usage, or a run that does not fit the free "
        "memory (see --force); 1 anything else (the memory guard ending a run: out of memory). "
        "Ctrl-C (or SIGTERM, SIGHUP) stops and saves the current image.",
    )
    parser.add_argument("--version", action="version", version=f"nst-desktop {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    for mode, help_text in _COMMANDS.items():
        _add_run_command(sub, mode, help_text)
    from .cli_batch import add_commands
    from .cli_history import add_history_command

    add_commands(sub)
    add_history_command(sub)
    return parser


def _add_run_command(sub: Any, mode: Mode, help_text: str) -> None:
    """A subcommand that makes a picture: its inputs, output, extras and every setting."""
    p = sub.add_parser(str(mode), help=help_text, description=help_text)
    p.set_defaults(handler=run_command)
    if mode == Mode.TRANSFER:
        p.add_argument("content", type=Path, metavar="CONTENT")
        p.add_argument("styles", type=Path, nargs="+", metavar="STYLE")
        add_region_options(p)
    elif mode == Mode.SWEEP:
        p.add_argument("content", type=Path, metavar="CONTENT")
        p.add_argument("styles", type=Path, nargs=1, metavar="STYLE")
    else:
        p.add_argument("image", type=Path, metavar="IMAGE")
    out_help = "output image (.png .jpg .webp .tif)"
    if mode == Mode.SWEEP:
        out_help += "; also writes NAME-content and NAME-style grids beside it"
    p.add_argument("-o", "--output", type=Path, required=True, metavar="OUT", help=out_help)
    if mode != Mode.SWEEP:
        p.add_argument(
            "--timelapse",
            type=Path,
            metavar="FILE.gif|webp",
            help="also write the run as an animated GIF or WebP (about 100 frames)",
        )
    if mode == Mode.CONTENT_REP:
        p.add_argument(
            "--layer",
            type=str,
            metavar="NAME",
            help="the layer to reconstruct from (same as --content-layer NAME)",
        )
    if mode == Mode.STYLE_REP:
        p.add_argument(
            "--layers",
            type=_layer_spec,
            metavar="NAME[:w],...",
            help="style layers (same as --style-layers)",
        )
    p.add_argument("--quiet", "-q", action="store_true", help="no progress output")
    p.add_argument(
        "--force",
        action="store_true",
        help="start even when the memory estimate says the run does not fit the device's free "
        "memory (without it such a run is refused with exit status 2); the memory guard still "
        "ends it before the computer swaps",
    )
    p.add_argument("--no-history", action="store_true", help="do not keep this run in the history")
    _add_settings_options(p)


def settings_from_args(args: argparse.Namespace) -> tuple[RunSettings, list[str]]:
    """Defaults < --settings-from < --preset < explicit options; returns settings and warnings."""
    warnings: list[str] = []
    settings = RunSettings()
    picture_meta = None
    if args.settings_from is not None:
        settings, picture_meta = _picture_settings(args.settings_from, settings, warnings)
    if args.preset:
        settings = _preset_settings(args.preset, settings, warnings)
    explicit = {
        f.name: getattr(args, f.name)
        for f in dataclasses.fields(RunSettings)
        if f.name not in _NOT_OPTIONS and hasattr(args, f.name)
    }
    if getattr(args, "layer", None):
        explicit["content_layers"] = parse_layer_spec(args.layer)
    if getattr(args, "layers", None):
        explicit["style_layers"] = args.layers
    explicit["mode"] = Mode(args.command)
    settings = dataclasses.replace(settings, **explicit)
    if Mode(args.command).is_study and "init" not in explicit:
        if settings.init in ("content", "style"):
            settings = dataclasses.replace(settings, init="noise")
    if picture_meta is not None:
        warnings += _threads_warning(args.settings_from, picture_meta, settings.threads)
    return settings.validate(), warnings


def _picture_settings(
    image: Path, base: RunSettings, warnings: list[str]
) -> tuple[RunSettings, dict]:
    """--settings-from: what a picture may set (core.session.settings_from_picture's rule)."""
    from .core.images import read_metadata
    from .core.session import settings_from_picture

    meta = read_metadata(image)
    if not meta or not isinstance(meta.get("settings"), dict):
        raise UsageError(
            f"{image} carries no NST Desktop settings; choose a PNG/JPEG/WebP/"
            "TIFF exported by NST Desktop."
        )
    settings, found = settings_from_picture(meta["settings"], base)
    warnings += [f"{image.name}: {w}" for w in found]
    return settings, meta


def _threads_warning(image: Path, meta: dict, threads: int) -> list[str]:
    """Another CPU thread count than the picture's can change L-BFGS's pixels: say so."""
    from .core.session import threads_in_use, threads_note

    note = threads_note(meta, threads_in_use(threads))
    return [f"{image.name}: {note}"] if note else []


def _preset_settings(name: str, base: RunSettings, warnings: list[str]) -> RunSettings:
    from .core.presets import apply_preset, find_preset, load_preset_file

    text = name.strip()
    path = Path(text).expanduser()
    if (text.lower().endswith(".json") or os.sep in text or "/" in text) and path.is_file():
        preset, found = load_preset_file(path)  # what was dropped from the file is said
        warnings += [f"preset {w}" for w in found]
    else:
        preset = find_preset(text)
    settings, _, found = apply_preset(preset, base)
    warnings += [f"preset {name}: {w}" for w in found]
    return settings


class Progress:
    """A one-line progress bar on a terminal; periodic plain lines otherwise."""

    def __init__(self, quiet: bool, stages: Sequence[Stage] = (), stream=None) -> None:
        self.quiet = quiet
        self.stages = stages  # for an ETA that knows coarse scales are quicker per iteration
        # sys.stderr looked up now, not at import: it may have been redirected since.
        self.stream = stream if stream is not None else sys.stderr
        self.tty = self.stream.isatty()
        self.last_print = 0.0
        self.first: tuple[int, float] | None = None

    def update(self, rec) -> None:  # rec: StepRecord
        if self.quiet:
            return
        now = time.perf_counter()
        if self.first is None:
            self.first = (rec.step, rec.elapsed)
        if not rec.final and now - self.last_print < (0.2 if self.tty else 5.0):
            return
        self.last_print = now
        done_steps = rec.step - self.first[0]
        spent = rec.elapsed - self.first[1]
        rate = done_steps / spent if spent > 0 else 0.0
        eta = remaining_seconds(self.stages, rec.step, rec.elapsed, since=self.first)
        width = 24
        filled = int(width * rec.step / max(1, rec.total))
        bar = "#" * filled + "-" * (width - filled)
        stage = f" {rec.stage_label}" if rec.stage_label else ""
        line = (
            f"[{bar}] {rec.step}/{rec.total}{stage}  loss {rec.loss:.4g} "
            f"(content {rec.content:.3g}, style {rec.style:.3g}, tv {rec.tv:.3g})  "
            f"{rate:.2f} it/s  ETA {_clock(eta)}"
        )
        if self.tty:
            self._write("\r" + line[:200].ljust(120) + ("\n" if rec.final else ""))
        else:
            self._write(line + "\n")

    def message(self, text: str) -> None:
        if not self.quiet:
            self._write(one_line(text, _LINE_LIMIT) + "\n")

    def _write(self, text: str) -> None:
        """A terminal that is gone (SIGHUP, a closed pipe) ends the output, not the run."""
        try:
            self.stream.write(text)
            self.stream.flush()
        except (OSError, ValueError):
            self.quiet = True


def _clock(seconds: float) -> str:
    return duration(seconds)


def run_command(args: argparse.Namespace) -> int:
    """One headless run through core.session; the exit status of the CLI contract."""
    from .core.session import ImagePolicy, RunInputs, RunSession, SnapshotTarget

    settings, warnings = settings_from_args(args)
    regions = None
    if Mode(args.command) == Mode.TRANSFER:
        try:
            regions = regions_from_args(args, warnings)
        except RegionUsageError as exc:
            raise UsageError(str(exc)) from None
    for w in cap_warnings(warnings):
        _say(f"warning: {w}")
    _check_outputs(args)
    _check_against_inputs(args, settings)
    progress = Progress(args.quiet, plan(settings))
    mode = Mode(args.command)
    if mode == Mode.STYLE_REP:
        inputs = RunInputs.with_blend(None, [args.image], settings.style_blend)
    elif mode == Mode.CONTENT_REP:
        inputs = RunInputs.of(args.image)
    else:
        inputs = RunInputs.with_blend(args.content, args.styles, settings.style_blend)
        inputs = dataclasses.replace(inputs, regions=regions)
    if not args.force:
        _check_fit(settings, inputs)
    recorder = None
    if getattr(args, "timelapse", None) is not None:
        from .core.timelapse import FrameRecorder

        recorder = FrameRecorder(every=max(1, settings.steps // 100))
    session = RunSession(
        settings,
        inputs,
        weights=_weights_provider(args.quiet),
        images=ImagePolicy(timelapse=recorder),
        snapshots=SnapshotTarget.beside(args.output),
        cli=True,
        history=not args.no_history,
    )
    session.on_event = lambda event: _tell(event, session, progress)
    with _interrupts_stop(session) as interrupted:
        for rec in session.records():
            progress.update(rec)
        return _conclude(args, session, progress, interrupted[0])  # a signal here: still saved


def _check_fit(settings: RunSettings, inputs: Any) -> None:
    """Refuse, in seconds, a run whose estimated peak memory does not fit the device's free
    memory (less the memory guard's reserve); the line names the largest size that fits."""
    from .core import planner
    from .core.inputs import run_aspect

    if (device := planner.device_without_torch(settings.device)) is None:
        from .core.device import DeviceError, resolve_device

        try:
            device = str(resolve_device(settings.device))
        except DeviceError:
            return  # the session says so, in its own words

    styles = [s.path for s in inputs.styles]
    aspect = run_aspect(settings.mode, inputs.content, styles)
    fit = planner.check_fit(settings, device, aspect)
    if not fit.fits:
        raise UsageError(fit.sentence(settings.size, cli=True))


def _check_outputs(args: argparse.Namespace) -> None:
    """Refuse an output the run could not write before the run, not after it."""
    from .core.images import SAVE_FORMATS

    if args.output.suffix.lower() not in SAVE_FORMATS:
        raise UsageError(
            f"Cannot write '{args.output.name}'; end the name in .png, .jpg, .webp or .tif."
        )
    if not args.output.parent.is_dir():
        raise UsageError(f"The folder {args.output.parent} does not exist; create it first.")
    _check_writable(args.output.parent)
    timelapse = getattr(args, "timelapse", None)
    if timelapse is not None:
        from .core.timelapse import TIMELAPSE_FORMATS

        if timelapse.suffix.lower() not in TIMELAPSE_FORMATS:
            raise UsageError(f"Cannot write '{timelapse.name}'; end the name in .gif or .webp.")
        if not timelapse.parent.is_dir():
            raise UsageError(f"The folder {timelapse.parent} does not exist; create it first.")
        _check_writable(timelapse.parent)


def _check_against_inputs(args: argparse.Namespace, settings: RunSettings) -> None:
    """Refuse, before the run, a name too long to write and an output that is an input."""
    from .core.outputs import OutputError, check_outputs, planned_outputs, run_inputs

    read = [getattr(args, "content", None), getattr(args, "image", None), args.settings_from]
    inputs = run_inputs([*read, *(getattr(args, "styles", None) or [])], settings)
    written = planned_outputs(args.output, settings, getattr(args, "timelapse", None))
    try:
        check_outputs(written, inputs)
    except OutputError as exc:
        raise UsageError(str(exc)) from None


def _weights_provider(quiet: bool) -> Any:
    """The CLI's weights: downloaded when missing, with progress on a terminal."""

    def download_progress(done: int, total: int) -> None:
        if not quiet and sys.stderr.isatty():
            share = f"{100 * done / total:.0f}%" if total else f"{done >> 20} MB"
            sys.stderr.write(f"\rdownloading VGG19 weights: {share}")
            sys.stderr.flush()

    def provide(source: str, fmt: str, cancelled: Any) -> Any:
        from .core.weights import load_weights

        return load_weights(source, fmt=fmt, progress=download_progress, cancelled=cancelled)

    return provide


def _tell(event: Any, session: Any, progress: Progress) -> None:
    """The session's notes and warnings, and one line saying what runs where."""
    from .core.session import Phase

    if event.phase == Phase.NOTE:
        progress.message(f"note: {event.text}")
    elif event.phase == Phase.WARNING:
        _say(f"warning: {event.text}")
    elif event.phase == Phase.TARGETS:
        progress.stages = session.stages  # a tiled run's plan has its tiles as stages
        s = session.settings
        progress.message(
            f"{MODE_LABELS[s.mode]} at {s.size} px, {s.steps} iterations, "
            f"{s.optimizer} on {session.where()}"
        )


#: Signals that stop a run and keep its picture: Ctrl-C, ``kill`` and a closed terminal/logout.
_STOP_SIGNALS = tuple(
    getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGHUP") if hasattr(signal, name)
)


@contextlib.contextmanager
def _interrupts_stop(session: Any) -> Iterator[list[bool]]:
    """Ctrl-C, SIGTERM or SIGHUP stop the run and keep its picture; a second one leaves at once."""
    interrupted = [False]

    def on_signal(signum: int, frame: Any) -> None:
        if interrupted[0]:
            raise KeyboardInterrupt
        interrupted[0] = True
        session.control.stop()

    previous = {sig: signal.signal(sig, on_signal) for sig in _STOP_SIGNALS}
    try:
        yield interrupted
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _conclude(args: argparse.Namespace, session: Any, progress: Progress, interrupted: bool) -> int:
    """Write what the run made and say how it ended; the exit status."""
    from .core.failures import Failure, RunStatus

    result = session.result
    assert result is not None
    if result.image is None:  # nothing ran: bad input, no weights, or stopped before the start
        if interrupted or result.status == RunStatus.STOPPED:
            print("nst-desktop: interrupted.", file=sys.stderr)
            return EXIT_FAIL
        _say(_failure_text(result, args))
        return EXIT_USAGE if result.failure == Failure.INPUT else EXIT_FAIL
    _write_result(args, session, result)
    recorder = session.images.timelapse
    if recorder is not None and len(recorder):
        from .core.timelapse import save_timelapse

        save_timelapse(args.timelapse, recorder.frames, metadata=result.metadata)
        progress.message(f"wrote {args.timelapse} ({len(recorder)} frames)")
    if result.status == RunStatus.DONE:
        progress.message(f"wrote {args.output}")
        return EXIT_OK
    if interrupted:
        print(
            f"nst-desktop: interrupted; saved the current image to {args.output}", file=sys.stderr
        )
        return EXIT_FAIL
    _say(f"{_failure_text(result, args)} Saved it to {args.output}.")
    return EXIT_FAIL


def _failure_text(result: Any, args: argparse.Namespace) -> str:
    if not result.unexpected:
        return result.message
    text = f"unexpected error: {result.message}"
    log_path = getattr(args, "log_path", None)
    return text + (f" Details are in {log_path}." if log_path is not None else "")


def _write_result(args: argparse.Namespace, session: Any, result: Any) -> None:
    """The picture (a sweep: its three grids); what fails to save is kept in the temp folder."""
    from .core.images import ImageError, save_image
    from .core.outputs import grid_path

    if session.mode == Mode.SWEEP:
        pictures = [
            (grid, grid_path(args.output, key)) for key, grid in session.sweep_pictures().items()
        ]
    else:
        pictures = [(result.image, args.output)]
    failed: list[tuple[Any, Path]] = []
    first_error = ""
    for pixels, target in pictures:
        try:
            save_image(pixels, target, metadata=result.metadata)
        except ImageError as exc:
            first_error = first_error or str(exc)
            failed.append((pixels, target))
    if failed:
        raise UsageError(f"{first_error} {_rescue(failed, result.metadata)}")


def _say(text: str) -> None:
    """One line on stderr; text from files the user did not make is escaped (core.text)."""
    try:
        print(f"nst-desktop: {one_line(text, _LINE_LIMIT)}", file=sys.stderr)
    except (OSError, ValueError):  # no terminal any more (SIGHUP): the exit status still tells
        pass


def _check_writable(folder: Path) -> None:
    """Refuse an output folder that takes no file before the run, not after it."""
    try:
        fd, probe = tempfile.mkstemp(prefix=".nst-desktop-", suffix=".part", dir=folder)
    except OSError as exc:
        raise UsageError(
            f"Cannot write to {folder} ({exc.strerror or exc}); choose another folder."
        ) from None
    os.close(fd)
    os.unlink(probe)


def _rescue(pictures: list[tuple[Any, Path]], metadata: dict) -> str:
    """After results could not be saved where asked: keep them in the temp folder instead."""
    from .core.images import ImageError, save_image
    from .core.outputs import rescue_path

    kept = []
    for pixels, target in pictures:
        try:
            kept.append(
                save_image(
                    pixels, rescue_path(target, Path(tempfile.gettempdir())), metadata=metadata
                )
            )
        except ImageError:
            pass
    if not kept:
        return "The result could not be saved anywhere else either."
    where = ", ".join(map(str, kept))
    if len(kept) < len(pictures):
        return f"Part of the result was saved to {where} instead; the rest could not be saved."
    return f"The result{'s were' if len(kept) > 1 else ' was'} saved to {where} instead."


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv:
        from .gui.app import main as gui_main

        return gui_main([])
    from .logs import setup_logging

    log_path = setup_logging()
    if log_path is None:  # no writable log folder: tracebacks must still stay off the terminal
        logging.getLogger("nst_desktop").addHandler(logging.NullHandler())
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            raise UsageError(
                "choose a command: " + ", ".join([*_COMMANDS, "variations", "batch", "history"])
            )
        args.log_path = log_path
        return args.handler(args)
    except KeyboardInterrupt:
        print("nst-desktop: interrupted.", file=sys.stderr)
        return EXIT_FAIL
    except UsageError as exc:
        _say(str(exc))
        return EXIT_USAGE
    except Exception as exc:  # noqa: BLE001 - the edge where every error becomes one line
        from .core.failures import Failure
        from .core.session import classify_failure

        report = classify_failure(exc, cli=True)
        text = report.message
        if report.unexpected:
            log.exception("unexpected error")
            text = f"unexpected error: {text}"
            if log_path is not None:
                text += f" Details are in {log_path}."
        _say(text)
        return EXIT_USAGE if report.kind == Failure.INPUT else EXIT_FAIL


if __name__ == "__main__":
    sys.exit(main())
