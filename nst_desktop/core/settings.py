"""One dataclass per run: every knob, its default, its valid range and an artist-readable help text.

The CLI options, the GUI controls and preset files are all derived from or validated against
:class:`RunSettings`, so a default or a range is defined here and nowhere else.
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from .layers import LAYER_INDEX, RELU_LAYERS, STUDY_LAYERS


class Mode(StrEnum):
    """What a run makes; the values are the CLI's subcommands and the settings files' strings."""

    TRANSFER = "transfer"
    CONTENT_REP = "content-rep"
    STYLE_REP = "style-rep"
    SWEEP = "sweep"

    @property
    def label(self) -> str:
        return MODE_LABELS[self]

    @property
    def uses_content(self) -> bool:
        return self is not Mode.STYLE_REP

    @property
    def uses_styles(self) -> bool:
        return self is not Mode.CONTENT_REP

    @property
    def is_study(self) -> bool:
        """The studies start from noise or a file: the content or style picture shows nothing."""
        return self is not Mode.TRANSFER


MODES = tuple(Mode)
MODE_LABELS = {
    Mode.TRANSFER: "Style transfer",
    Mode.CONTENT_REP: "Content representation",
    Mode.STYLE_REP: "Style representation",
    Mode.SWEEP: "Layer sweep",
}
#: Settings that describe the computer, not the picture: never taken from a preset or a picture.
MACHINE_KNOBS = ("device", "threads", "weights", "weights_format", "max_memory", "tile")
OPTIMIZERS = ("lbfgs", "adam")
POOLS = ("avg", "max")
INIT_CHOICES = ("noise", "content", "style")
PRECISIONS = ("float32", "bfloat16", "auto")
COLORS = ("none", "luminance", "histogram")
NORMALIZATIONS = ("paper", "relative")
WEIGHTS_FORMATS = ("auto", "torchvision", "caffe")
DEFAULT_LR = {"lbfgs": 1.0, "adam": 0.02}
#: Embedded or imported settings larger than this are refused unread.
MAX_SETTINGS_BYTES = 64 * 1024
MAX_LAYERS = len(LAYER_INDEX)
MAX_STYLES = 16
#: The smallest tile and memory ceiling a run accepts (relu5_1 needs 16 px; overheads ~130 MB).
MIN_TILE = 32
MIN_MEMORY = 256 * 2**20


class SettingsError(ValueError):
    """A setting a user chose is invalid; the message says which and what is allowed."""


def knob(
    default: Any,
    help: str,
    *,
    label: str,
    min: float | None = None,
    max: float | None = None,
    choices: tuple[str, ...] | None = None,
    modes: tuple[str, ...] = MODES,
    log: bool = False,
    cli: str | None = None,
) -> Any:
    """A dataclass field carrying the metadata the CLI, the GUI and validation read."""
    meta = {
        "help": help,
        "label": label,
        "min": min,
        "max": max,
        "choices": choices,
        "modes": modes,
        "log": log,
        "cli": cli,
    }
    if isinstance(default, (dict, list)):
        return field(default_factory=lambda: type(default)(default), metadata=meta)
    return field(default=default, metadata=meta)


_TRANSFER = (Mode.TRANSFER,)
_STYLE_MODES = tuple(m for m in Mode if m.uses_styles)
_CONTENT_MODES = tuple(m for m in Mode if m.uses_content)


@dataclass
class RunSettings:
    """Every knob of one run. Images themselves are not settings; they are inputs."""

    mode: Mode = knob(
        Mode.TRANSFER,
        "What to make: a stylized picture, or one of the two studies of what VGG19 layers keep.",
        label="Mode",
        choices=MODES,
    )
    size: int = knob(
        512,
        "Longest side of the result in pixels. Bigger is sharper but slower and needs more memory.",
        label="Size (px)",
        min=16,
        max=8192,
    )
    steps: int = knob(
        500,
        "How many times the image is improved (one forward and backward pass each).",
        label="Iterations",
        min=1,
        max=100_000,
    )
    optimizer: str = knob(
        "lbfgs",
        "L-BFGS converges in fewer iterations; Adam uses less memory and is steadier on big "
        "images.",
        label="Optimizer",
        choices=OPTIMIZERS,
    )
    lr: float | None = knob(
        None,
        "Step size. Empty means the optimizer's own default (L-BFGS 1.0, Adam 0.02).",
        label="Learning rate",
        min=1e-6,
        max=100.0,
        log=True,
    )
    lbfgs_history: int = knob(
        100,
        "How many past steps L-BFGS remembers; more is smoother but uses more memory.",
        label="L-BFGS history",
        min=1,
        max=1000,
    )
    lbfgs_line_search: bool = knob(
        False,
        "Let L-BFGS try several step lengths in every iteration (strong Wolfe); each try "
        "counts as an iteration. Off, it searches only until it has learned the curvature, "
        "as at the start from the content image.",
        label="L-BFGS line search",
    )
    pool: str = knob(
        "avg",
        "How VGG19 shrinks images between blocks. Average pooling (the paper's choice) gives "
        "smoother results; max pooling is the network's original.",
        label="Pooling",
        choices=POOLS,
    )
    init: str = knob(
        "noise",
        "Where the picture starts: white noise, the content photo, the style image, or a file "
        "(the window also offers the picture on screen). A run from an earlier result starts "
        "L-BFGS with an empty history, so its first few steps are close to gradient steps.",
        label="Start from",
    )
    seed: int = knob(
        0,
        "The same seed with the same settings and device gives the same picture; on a CPU "
        "also with the same number of threads (another count can change the pixels).",
        label="Seed",
        min=0,
        max=2**31 - 1,
    )
    content_layers: dict[str, float] = knob(
        {"relu4_2": 1.0},
        "Layer(s) whose activations the result must share with the content photo. Shallow layers "
        "keep exact pixels; deep layers keep only the arrangement of objects.",
        label="Content layers",
        modes=_CONTENT_MODES,
        cli="content-layer",
    )
    style_layers: dict[str, float] = knob(
        {name: 1.0 for name in STUDY_LAYERS},
        "Layers whose texture statistics (Gram matrices) the result must share with the style "
        "images. Shallow layers carry fine texture and colour; deep layers carry bigger strokes.",
        label="Style layers",
        modes=_STYLE_MODES,
    )
    content_weight: float = knob(
        1.0,
        "How strongly the result holds on to the content photo.",
        label="Content weight",
        min=0.0,
        max=1e9,
        modes=_TRANSFER,
        log=True,
    )
    style_weight: float = knob(
        3.6,
        "How strongly the result takes on the style. Raise it for a bolder painting.",
        label="Style weight",
        min=0.0,
        max=1e12,
        modes=_TRANSFER,
        log=True,
    )
    tv_weight: float = knob(
        0.0,
        "Smoothing: removes speckle and checkerboard noise; too much makes the result muddy.",
        label="Smoothness (TV)",
        min=0.0,
        max=1e6,
        log=True,
    )
    normalization: str = knob(
        "relative",
        "How the content and style terms are measured. 'relative' divides each layer's term by "
        "the size of its own target, so a look holds on any VGG19 (ImageNet, Caffe, your own "
        "file); 'paper' is Gatys et al.'s formulas, whose balance depends on the network.",
        label="Loss balance",
        choices=NORMALIZATIONS,
    )
    style_blend: list[float] = knob(
        [],
        "Relative weight of each style image (empty: all equal).",
        label="Style blend",
        modes=_STYLE_MODES,
        min=0.0,
        max=1e6,
    )
    style_scale: float = knob(
        1.0,
        "Size of the style image relative to the result: smaller gives finer brush strokes.",
        label="Style scale",
        min=0.1,
        max=4.0,
        modes=_STYLE_MODES,
    )
    color: str = knob(
        "none",
        "Keep the content photo's colours: 'luminance' transfers brightness only, 'histogram' "
        "matches the result's colours to the photo.",
        label="Keep colours",
        choices=COLORS,
        modes=_TRANSFER,
    )
    precision: str = knob(
        "auto",
        "bfloat16 runs the network faster where the hardware supports it; 'auto' measures both, "
        "each also in the channels-last memory layout, once on this computer (a few seconds) "
        "and uses bfloat16 only where it is at least 1.3x faster and keeps the loss within 5%, "
        "channels-last only where it is at least 1.1x faster.",
        label="Precision",
        choices=PRECISIONS,
    )
    scales: int = knob(
        1,
        "Coarse-to-fine: optimize at smaller sizes first (each step up is x sqrt 2). It saves "
        "the most with Adam (the single-size loss in 0.35-0.5 of the time); with L-BFGS, a tenth "
        "to a fifth from 512 px up.",
        label="Scales",
        min=1,
        max=8,
    )
    coarse_steps: int = knob(
        100,
        "Iterations at each coarser scale before the final size (coarse-to-fine only).",
        label="Steps per coarse scale",
        min=1,
        max=100_000,
    )
    tile_sweeps: int = knob(
        1,
        "Print sizes that do not fit in memory are refined in overlapping tiles; each sweep "
        "passes over every tile once (more sweeps: smoother joins, longer runs).",
        label="Tile sweeps",
        min=1,
        max=100,
    )
    save_every: int = knob(
        0,
        "Save a snapshot every N iterations (0: never).",
        label="Snapshot every",
        min=0,
        max=100_000,
    )
    device: str = knob(
        "auto",
        "Where to compute: auto picks a CUDA GPU, then Apple MPS, then the CPU.",
        label="Device",
    )
    weights: str = knob(
        "torchvision",
        "The trained VGG19: 'torchvision' (ImageNet, downloaded once, 548 MB), 'caffe' (the "
        "network neural-style used; many artists find its colours more vivid; 548 MB), a file, "
        "or 'random' (untrained; only for tests).",
        label="Weights",
    )
    weights_format: str = knob(
        "auto",
        "The input a weights file expects: 'torchvision' (RGB, ImageNet mean and std) or "
        "'caffe' (BGR in 0-255 minus the Caffe mean, as neural-style's vgg19-d01eb7cb.pth). "
        "'auto' knows the published files by their hash and name and takes any other file as "
        "torchvision; the downloads always use their own.",
        label="Weights format",
        choices=WEIGHTS_FORMATS,
    )
    threads: int = knob(
        0,
        "CPU threads for the computation (0: all cores). Another count adds the sums in "
        "another order, so the pixels can differ slightly; pictures record the count used.",
        label="CPU threads",
        min=0,
        max=1024,
    )

    max_memory: str = knob(
        "",
        "Memory the run may use, like 3GB or 800MB; larger pictures are refined in tiles to "
        "stay under it. Empty: what is free, less a margin.",
        label="Memory ceiling",
    )
    tile: int = knob(
        0,
        "Refine the final size in tiles of N px (0: only when the picture does not fit the "
        "memory ceiling, with the largest tile that fits).",
        label="Tile size (px)",
        min=0,
        max=8192,
    )

    def __post_init__(self) -> None:
        if isinstance(self.mode, str) and self.mode in _MODE_VALUES:
            self.mode = Mode(self.mode)

    # ----------------------------------------------------------------- derived values
    @property
    def effective_lr(self) -> float:
        return self.lr if self.lr is not None else DEFAULT_LR[self.optimizer]

    def style_blend_for(self, n_styles: int) -> list[float]:
        """Normalized blend weights for n style images (equal when none were given)."""
        if n_styles <= 0:
            return []
        weights = list(self.style_blend) or [1.0] * n_styles
        if len(weights) != n_styles:
            raise SettingsError(
                f"--style-blend has {len(weights)} weights but there are {n_styles} style images; "
                "give one weight per style image."
            )
        total = sum(weights)
        if total <= 0:
            raise SettingsError("The style blend weights add up to 0; give at least one a weight.")
        return [w / total for w in weights]

    def loss_layers(self) -> tuple[dict[str, float], dict[str, float]]:
        """Content and style layers this mode actually optimizes."""
        if self.mode == Mode.CONTENT_REP:
            return dict(self.content_layers), {}
        if self.mode == Mode.STYLE_REP:
            return {}, dict(self.style_layers)
        return dict(self.content_layers), dict(self.style_layers)

    # ----------------------------------------------------------------- validation
    def validate(self) -> RunSettings:
        """Raise :class:`SettingsError` on the first invalid value; return self when valid."""
        for f in dataclasses.fields(self):
            _check_field(f, getattr(self, f.name))
        if self.mode == Mode.CONTENT_REP and len(self.content_layers) != 1:
            raise SettingsError(
                "Content representation reconstructs from exactly one layer; choose one content "
                "layer (for example relu4_1)."
            )
        if self.mode in _CONTENT_MODES and self.mode != Mode.SWEEP and not self.content_layers:
            if self.mode == Mode.CONTENT_REP or self.content_weight > 0:
                raise SettingsError("Choose at least one content layer (for example relu4_2).")
        if self.mode in (Mode.TRANSFER, Mode.STYLE_REP) and not self.style_layers:
            raise SettingsError("Choose at least one style layer (for example relu1_1).")
        if self.mode == Mode.TRANSFER and self.content_weight == 0 and self.style_weight == 0:
            raise SettingsError("Content and style weights are both 0; raise at least one.")
        if self.mode in _STUDIES and self.init in ("content", "style"):
            raise SettingsError(
                f"The {MODE_LABELS[self.mode].lower()} starts from noise or a file, not from the "
                f"{self.init} image (that would show nothing); choose init 'noise'."
            )
        return self

    # ----------------------------------------------------------------- JSON
    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, sort_keys=False)

    @classmethod
    def from_dict(
        cls, data: Any, *, base: RunSettings | None = None, strict: bool = True
    ) -> tuple[RunSettings, list[str]]:
        """Build settings from untrusted data (JSON, presets, image metadata).

        Returns the settings and a list of warnings. With ``strict`` any problem raises
        :class:`SettingsError`; otherwise bad entries are dropped (keeping ``base``'s value)
        and reported as warnings. The result is always valid.
        """
        if not isinstance(data, dict):
            raise SettingsError("Settings must be a JSON object of name: value pairs.")
        settings = dataclasses.replace(base) if base is not None else cls()
        if stored_without_normalization(data):
            settings.normalization = "paper"
        warnings: list[str] = []
        names = {f.name: f for f in dataclasses.fields(cls)}
        for key, value in data.items():
            problem = None
            if key not in names:
                problem = f"unknown setting {key!r:.42} was ignored"  # repr: one line
            else:
                try:
                    value = _coerce(names[key], value)
                    _check_field(names[key], value)
                    setattr(settings, key, value)
                except SettingsError as exc:
                    problem = str(exc)
            if problem:
                if strict:
                    raise SettingsError(problem[0].upper() + problem[1:])
                warnings.append(problem)
        try:
            settings.validate()
        except SettingsError as exc:
            if strict:
                raise
            warnings.append(f"{exc} Defaults were restored.")
            settings = dataclasses.replace(base).validate() if base is not None else cls()
        return settings, warnings

    @classmethod
    def from_json(cls, text: str, **kwargs: Any) -> tuple[RunSettings, list[str]]:
        if len(text.encode("utf-8", "replace")) > MAX_SETTINGS_BYTES:
            raise SettingsError("The settings are larger than 64 KB and were not read.")
        try:
            data = json.loads(text)
        except (ValueError, RecursionError) as exc:
            raise SettingsError(f"The settings are not valid JSON ({exc}).") from None
        return cls.from_dict(data, **kwargs)


def stored_without_normalization(data: Any) -> bool:
    """Whether stored settings were made with the paper's formulas without saying so.

    Every settings record written before ``normalization`` existed (an exported picture, a user
    preset, the window's saved settings) names the content and style weights, and those weights
    meant the paper's terms. Such a record loads as 'paper' so it reproduces its pixels; a
    partial block that sets neither weight (a preset that only smooths, say) keeps the current
    normalization.
    """
    return (
        isinstance(data, dict)
        and "normalization" not in data
        and ("content_weight" in data or "style_weight" in data)
    )


def field_meta(name: str) -> dict[str, Any]:
    """Metadata (help, label, min, max, choices, modes, ...) of one setting."""
    return dict(_FIELDS[name].metadata)


def default(name: str) -> Any:
    return getattr(RunSettings(), name)


def applies(name: str, mode: str) -> bool:
    """Whether a setting has an effect in a mode (the GUI disables it otherwise)."""
    return mode in _FIELDS[name].metadata["modes"]


def parse_layer_spec(text: str) -> dict[str, float]:
    """Parse ``relu1_1:0.5,relu2_1`` (weight defaults to 1) into an ordered dict."""
    result: dict[str, float] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        name, _, weight = part.partition(":")
        name = name.strip()
        if name not in LAYER_INDEX:
            raise SettingsError(
                f"Unknown VGG19 layer '{name}'; use names like relu4_2 ({', '.join(RELU_LAYERS)})."
            )
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise SettingsError(f"Layer weight '{weight}' for {name} is not a number.") from None
        result[name] = w
    return result


def format_layer_spec(layers: dict[str, float]) -> str:
    return ",".join(name if w == 1.0 else f"{name}:{w:g}" for name, w in layers.items())


# --------------------------------------------------------------------------- internals
_FIELDS = {f.name: f for f in dataclasses.fields(RunSettings)}
_MODE_VALUES = frozenset(MODES)
_STUDIES = tuple(m for m in Mode if m.is_study)


def _coerce(f: dataclasses.Field, value: Any) -> Any:
    """Convert JSON values to the field's type, refusing anything that is not plainly it."""
    kind = f.type
    name = f.name
    if kind == "bool":
        if not isinstance(value, bool):
            raise SettingsError(f"'{name}' must be true or false, not {value!r:.40}")
        return value
    if kind == "int":
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"'{name}' must be a whole number, not {value!r:.40}")
        if isinstance(value, float) and (not math.isfinite(value) or value != int(value)):
            raise SettingsError(f"'{name}' must be a whole number, not {value!r:.40}")
        _as_float(value, name)  # a 400-digit JSON integer must not overflow the range check
        return int(value)
    if kind in ("float", "float | None"):
        if value is None and kind == "float | None":
            return None
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"'{name}' must be a number, not {value!r:.40}")
        return _as_float(value, name)
    if kind in ("str", "Mode"):
        if not isinstance(value, str) or len(value) > 4096:
            raise SettingsError(f"'{name}' must be a short text, not {value!r:.40}")
        return Mode(value) if kind == "Mode" and value in _MODE_VALUES else value
    if kind == "dict[str, float]":
        if not isinstance(value, dict) or len(value) > MAX_LAYERS:
            raise SettingsError(f"'{name}' must map layer names to weights, like {{'relu4_2': 1}}")
        out = {}
        for k, v in value.items():
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise SettingsError(f"'{name}': the weight of {k!r:.40} must be a number")
            out[str(k)] = _as_float(v, name)
        return out
    if kind == "list[float]":
        if not isinstance(value, list) or len(value) > MAX_STYLES:
            raise SettingsError(f"'{name}' must be a list of at most {MAX_STYLES} numbers")
        if any(isinstance(v, bool) or not isinstance(v, (int, float)) for v in value):
            raise SettingsError(f"'{name}' must be a list of numbers")
        return [_as_float(v, name) for v in value]
    raise AssertionError(f"no coercion for {kind}")  # pragma: no cover - a new field type


def _as_float(value: int | float, name: str) -> float:
    """float(value), refusing integers beyond float's range (JSON allows any number of digits)."""
    try:
        return float(value)
    except OverflowError:
        raise SettingsError(f"'{name}' is a number far too large to use.") from None


def _check_field(f: dataclasses.Field, value: Any) -> None:
    meta = f.metadata
    name, label = f.name, meta["label"]
    lo, hi, choices = meta["min"], meta["max"], meta["choices"]

    def in_range(v: float, what: str) -> None:
        if not math.isfinite(v):
            raise SettingsError(f"{what} must be a finite number.")
        if lo is not None and v < lo or hi is not None and v > hi:
            raise SettingsError(f"{what} is {v:g}; it must be between {lo:g} and {hi:g}.")

    if choices is not None and value not in choices:
        raise SettingsError(f"{label} {value!r:.42} is not one of: {', '.join(choices)}.")
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        in_range(float(value), label)
    if isinstance(value, dict):
        for layer, weight in value.items():
            if layer not in LAYER_INDEX:
                raise SettingsError(
                    f"{label}: unknown VGG19 layer {layer!r:.42}; use names like relu4_2."
                )
            if not math.isfinite(weight) or weight < 0 or weight > 1e6:
                raise SettingsError(f"{label}: the weight of {layer} must be between 0 and 1e6.")
    if isinstance(value, list):
        for v in value:
            in_range(v, label)
    if name == "init" and not value:
        raise SettingsError("Start from: choose noise, content, style or an image file.")
    if name == "device" and not _valid_device_name(value):
        raise SettingsError(f"Device {value!r:.42} is not auto, cpu, cuda, cuda:N or mps.")
    if name == "max_memory":
        parse_memory(value)
    if name == "tile" and 0 < value < MIN_TILE:
        raise SettingsError(
            f"Tile size {value} px is too small; give 0 (automatic) or at least {MIN_TILE} px."
        )
    if name == "weights" and not value:
        raise SettingsError("Weights: choose torchvision, random or a weights file.")


_MEMORY_UNITS = {"KB": 2**10, "MB": 2**20, "GB": 2**30, "TB": 2**40}


def parse_memory(text: str) -> int | None:
    """Bytes of a memory size like ``3GB``, ``1.5GB`` or ``800MB`` (units of 1024, as the planner
    reports them; KiB/MiB/GiB/TiB too); None for empty text (automatic)."""
    raw = text.strip()
    if not raw:
        return None
    match = re.fullmatch(r"(\d+(?:\.\d*)?|\.\d+)\s*([KMGT])(?:I?B)?", raw.upper())
    if match is None:
        raise SettingsError(
            f"Memory size {raw!r:.40} is not a size; write it like 3GB, 1.5GB or 800MB."
        )
    size = float(match.group(1)) * _MEMORY_UNITS[match.group(2) + "B"]
    if size < MIN_MEMORY:
        raise SettingsError(f"Memory size {raw:.40} is too small for any run; give at least 256MB.")
    if size > 2**50:
        raise SettingsError(f"Memory size {raw:.40} is larger than any computer; give less.")
    return int(size)


def _valid_device_name(name: str) -> bool:
    if name in ("auto", "cpu", "cuda", "mps"):
        return True
    head, _, idx = name.partition(":")
    return head == "cuda" and idx.isdigit()
