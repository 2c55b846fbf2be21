"""Fault matrix (issue 6), fuzzing row: hypothesis throws random and mutated inputs at the image
loader and at every settings parser (JSON text, parsed dicts, presets, settings embedded in a
picture through the CLI). Each must give a valid result or its own error class, nothing else.

Bounded to stay fast (about 150 examples per test) and derandomized so the suite cannot flake;
for a deeper search run with NST_FUZZ_EXAMPLES=5000 NST_FUZZ_RANDOM=1.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
from faults_helpers import PROPHOTO, matrix_icc
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, PngImagePlugin

from nst_desktop import cli
from nst_desktop.core.images import SETTINGS_KEY, ImageError, load_image, read_metadata
from nst_desktop.core.presets import PresetError, preset_from_dict
from nst_desktop.core.settings import RunSettings, SettingsError

EXAMPLES = int(os.environ.get("NST_FUZZ_EXAMPLES", "150"))
FUZZ = settings(
    max_examples=EXAMPLES,
    deadline=None,
    derandomize=not os.environ.get("NST_FUZZ_RANDOM"),
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


@pytest.fixture(scope="module")
def workdir():
    with tempfile.TemporaryDirectory(prefix="nst-fuzz-") as d:
        yield Path(d)


# ----------------------------------------------------------------- the image loader
def _seed_files() -> dict[str, bytes]:
    """Small valid files in every format the loader meets, to mutate."""
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (12, 16, 3), dtype=np.uint8))
    out: dict[str, bytes] = {}

    def add(name: str, img: Image.Image, fmt: str, **kw) -> None:
        buf = io.BytesIO()
        img.save(buf, format=fmt, **kw)
        out[name] = buf.getvalue()

    add("png", rgb, "PNG")
    add("png-rgba", rgb.convert("RGBA"), "PNG")
    add("png-palette", rgb.convert("P"), "PNG", transparency=0)
    add("png-16bit", Image.fromarray(rng.integers(0, 65535, (12, 16), dtype=np.uint16)), "PNG")
    add("jpeg", rgb, "JPEG", quality=80)
    add("jpeg-progressive", rgb, "JPEG", progressive=True)
    add("jpeg-cmyk", rgb.convert("CMYK"), "JPEG")
    exif = Image.Exif()
    exif[0x0112] = 6
    add("jpeg-exif", rgb, "JPEG", exif=exif.tobytes())
    add("gif", rgb, "GIF", save_all=True, append_images=[rgb.rotate(90)], duration=40)
    add("webp", rgb, "WEBP")
    add("bmp", rgb, "BMP")
    add("tiff", rgb, "TIFF", compression="tiff_deflate")
    # Embedded colour profiles take the loader through littleCMS: mutate those bytes too.
    wide = matrix_icc("ProPhoto RGB (fuzz)", PROPHOTO, 1.8)
    add("png-icc", rgb, "PNG", icc_profile=wide)
    add("jpeg-icc", rgb, "JPEG", icc_profile=wide)
    add("tiff-icc", rgb, "TIFF", icc_profile=wide)
    add("png-apng", rgb, "PNG", save_all=True, append_images=[rgb.rotate(180)])
    return out


def _foreign_files() -> dict[str, bytes]:
    """Valid files of formats Pillow reads but the loader must refuse unopened (some, like DDS,
    SPIDER and BLP, had damaged files escape Pillow's error handling)."""
    rgb = Image.fromarray(np.random.default_rng(1).integers(0, 256, (12, 16, 3), dtype=np.uint8))
    out: dict[str, bytes] = {}
    for fmt, mode in [("BLP", "P"), ("DDS", "RGB"), ("SPIDER", "F"), ("ICO", "RGB"),
                      ("PCX", "RGB"), ("TGA", "RGB"), ("PPM", "RGB"), ("SGI", "RGB"),
                      ("EPS", "RGB"), ("XBM", "1"), ("MSP", "1"), ("DIB", "RGB"),
                      ("QOI", "RGB"), ("JPEG2000", "RGB"), ("AVIF", "RGB")]:  # fmt: skip
        buf = io.BytesIO()
        try:
            rgb.convert(mode).save(buf, format=fmt)
        except (KeyError, OSError, ValueError):  # a codec this Pillow was built without
            continue
        out[fmt] = buf.getvalue()
    return out


SEEDS = _seed_files()
FOREIGN = _foreign_files()
_mutation = st.tuples(
    st.sampled_from(["set", "cut", "insert", "big-number"]),
    st.floats(0, 1, exclude_max=True),
    st.binary(min_size=1, max_size=8),
)


def _mutate(data: bytes, mutations: list[tuple[str, float, bytes]]) -> bytes:
    buf = bytearray(data)
    for op, where, payload in mutations:
        pos = int(where * len(buf)) if buf else 0
        if op == "set" and buf:
            buf[pos] = payload[0]
        elif op == "cut":
            del buf[pos:]
        elif op == "insert":
            buf[pos:pos] = payload
        elif buf:  # sizes, lengths and offsets are where parsers are weakest
            buf[pos : pos + 4] = (b"\xff\xff\xff\xff", b"\x00\x00\x00\x00", b"\x7f\xff\xff\xff")[
                payload[0] % 3
            ]
    return bytes(buf)


def _load_only_rgb_or_image_error(path: Path) -> None:
    try:
        img = load_image(path)
    except ImageError as exc:
        text = str(exc)
        assert text and "\n" not in text
        return
    assert img.mode == "RGB" and img.width >= 1 and img.height >= 1


@FUZZ
@given(data=st.binary(max_size=4096), suffix=st.sampled_from([".png", ".jpg", ".gif", ""]))
def test_fuzz_image_loader_random_bytes(workdir, data, suffix):
    path = workdir / f"random{suffix}"
    path.write_bytes(data)
    _load_only_rgb_or_image_error(path)


@FUZZ
@given(seed=st.sampled_from(sorted(SEEDS)), mutations=st.lists(_mutation, min_size=1, max_size=6))
def test_fuzz_image_loader_mutated_files(workdir, seed, mutations):
    path = workdir / "mutated.img"
    path.write_bytes(_mutate(SEEDS[seed], mutations))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Pillow warns about odd EXIF/TIFF tags: not our concern
        _load_only_rgb_or_image_error(path)


def test_fuzz_foreign_formats_are_refused_unopened(workdir):
    """Only the formats the README lists are opened: every other format, even a valid file,
    gets the one sentence naming the formats that work."""
    assert {"DDS", "SPIDER", "EPS", "BLP"} <= set(FOREIGN)
    for fmt, data in FOREIGN.items():
        path = workdir / f"foreign.{fmt.lower()}"
        path.write_bytes(data)
        with pytest.raises(ImageError, match="choose a PNG, JPEG, WebP, TIFF, BMP or GIF"):
            load_image(path)


@FUZZ
@given(seed=st.sampled_from(sorted(FOREIGN)), mutations=st.lists(_mutation, max_size=4))
def test_fuzz_foreign_formats_mutated(workdir, seed, mutations):
    path = workdir / "foreign.img"
    path.write_bytes(_mutate(FOREIGN[seed], mutations))
    _load_only_rgb_or_image_error(path)


def test_fuzz_seed_files_all_load():
    """The mutation seeds themselves are good pictures (the fuzzing starts from valid files)."""
    for name, data in SEEDS.items():
        img = load_image_from_bytes(data)
        assert img.mode == "RGB" and img.size in ((16, 12), (12, 16)), name


def load_image_from_bytes(data: bytes) -> Image.Image:
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "seed"
        path.write_bytes(data)
        return load_image(path)


# ----------------------------------------------------------------- the settings parsers
FIELDS = sorted(RunSettings().to_dict())
_json_scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats(allow_nan=True, allow_infinity=True)
    | st.text(max_size=30)
    | st.sampled_from(["relu1_1", "relu4_2", "cuda:0", "cpu", "lbfgs", "adam", "avg", "noise"])
)
json_values = st.recursive(
    _json_scalars,
    lambda inner: (
        st.lists(inner, max_size=5) | st.dictionaries(st.text(max_size=10), inner, max_size=5)
    ),
    max_leaves=20,
)
_near_valid = {
    "content_layers": st.dictionaries(
        st.sampled_from(["relu1_1", "relu4_2", "conv5_4", "relu9_9", ""]),
        st.floats(allow_nan=True) | st.integers(),
        max_size=4,
    ),
    "style_blend": st.lists(st.floats() | st.integers() | st.booleans(), max_size=20),
    "size": st.integers(min_value=-10, max_value=10_000) | st.floats(),
}
settings_dicts = st.dictionaries(
    st.sampled_from(FIELDS) | st.text(max_size=12),
    json_values,
    max_size=8,
).flatmap(
    lambda d: st.fixed_dictionaries(
        {k: v for k, v in _near_valid.items() if k in d or len(d) % 2}
    ).map(lambda extra: {**d, **extra})
)


def _valid(result) -> None:
    settings_, warnings_ = result
    assert isinstance(settings_, RunSettings) and settings_.validate() is settings_
    assert isinstance(warnings_, list) and all(_one_short_line(w) for w in warnings_)


def _one_short_line(text: str) -> bool:
    """Messages are printed one per line (CLI) or in a status bar: hostile text stays inside."""
    return isinstance(text, str) and bool(text) and "\n" not in text and len(text) < 400


@FUZZ
@given(data=settings_dicts | json_values)
def test_fuzz_settings_from_dict(data):
    try:
        _valid(RunSettings.from_dict(data, strict=True))
    except SettingsError:
        pass
    if not isinstance(data, dict):
        with pytest.raises(SettingsError):
            RunSettings.from_dict(data, strict=False)
        return
    _valid(RunSettings.from_dict(data, strict=False))  # lenient: always a valid result


@FUZZ
@given(text=st.text(max_size=200) | settings_dicts.map(json.dumps))
def test_fuzz_settings_from_json(text):
    for strict in (True, False):
        try:
            _valid(RunSettings.from_json(text, strict=strict))
        except SettingsError as exc:
            assert _one_short_line(str(exc))


@FUZZ
@given(
    block=settings_dicts | json_values,
    name=st.text(max_size=90) | st.none(),
    extra=st.dictionaries(st.text(max_size=8), json_values, max_size=3),
)
def test_fuzz_preset_parser(block, name, extra):
    data = {**extra, "name": name, "settings": block}
    try:
        preset, found = preset_from_dict(data)
    except PresetError as exc:
        assert _one_short_line(str(exc))
        return
    assert all(_one_short_line(w) for w in found)
    _valid(RunSettings.from_dict(preset.settings, strict=True))


@FUZZ
@given(
    text=st.text(max_size=300)
    | st.fixed_dictionaries({"settings": settings_dicts | json_values}).map(json.dumps)
)
def test_fuzz_settings_embedded_in_an_image(workdir, text):
    """read_metadata on a hostile settings chunk, then the CLI's own merge of it."""
    path = workdir / "embedded.png"
    info = PngImagePlugin.PngInfo()
    info.add_itxt(SETTINGS_KEY, text, zip=bool(len(text) % 2))
    Image.new("RGB", (2, 2)).save(path, pnginfo=info)
    meta = read_metadata(path)
    assert meta is None or isinstance(meta, dict)
    args = cli.build_parser().parse_args(
        ["transfer", "c.png", "s.png", "-o", "o.png", "--settings-from", str(path)]
    )
    try:
        _valid(cli.settings_from_args(args))
    except (cli.UsageError, SettingsError) as exc:
        assert _one_short_line(str(exc))
