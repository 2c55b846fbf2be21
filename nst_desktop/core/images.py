"""Images in and out: robust loading, resizing, tensor conversion, atomic saving with settings.

Every failure a user can cause raises :class:`ImageError` with one sentence saying what to do.
"""

from __future__ import annotations

import contextlib
import functools
import io
import json
import math
import os
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
from PIL import Image, ImageCms, ImageOps, PngImagePlugin, UnidentifiedImageError

from .files import NotARegularFileError, atomic_file, describe_write_error, open_regular

if TYPE_CHECKING:  # torch is imported where tensors are made: the window loads images without it
    import torch

#: Key of the settings JSON in PNG text chunks (and marker inside other formats' metadata).
SETTINGS_KEY = "nst-desktop"
SAVE_FORMATS = {
    ".png": "PNG",
    ".jpg": "JPEG",
    ".jpeg": "JPEG",
    ".webp": "WEBP",
    ".tif": "TIFF",
    ".tiff": "TIFF",
}
#: The formats the loader opens; the README lists them. Others are refused unopened.
READ_FORMATS = ("PNG", "JPEG", "WEBP", "TIFF", "BMP", "GIF")
#: One image may decode to at most this many pixels (240 MB as RGB); Pillow's own refusal
#: starts at 179 million, which decodes to 1.7 GB on the way.
MAX_IMAGE_PIXELS = 80_000_000
#: All the images of one run together, as kept after reading (see :class:`PixelBudget`).
MAX_TOTAL_PIXELS = 250_000_000
#: Images read for a run keep at least this many times the side the run uses (Pillow's own
#: reducing gap in resize_longest), so reading them smaller costs no sharpness.
REDUCE_MARGIN = 3.0
#: Embedded colour profiles larger than this are ignored (real ones are under 1 MB).
MAX_ICC_BYTES = 4 << 20
_INTENT = ImageCms.Intent.RELATIVE_COLORIMETRIC
_TIFF_DESCRIPTION = 270
_EXIF_USER_COMMENT = 0x9286
_EXIF_IFD = 0x8769


# Pillow warns from 89 million pixels on; this program refuses from MAX_IMAGE_PIXELS (below
# that) with its own sentence, and a warning would add lines to the CLI's one-line errors.
warnings.filterwarnings("ignore", category=Image.DecompressionBombWarning)


class ImageError(Exception):
    """An image cannot be read or written; the message tells the user what to do."""


# --------------------------------------------------------------------------- loading
@dataclass(frozen=True)
class LoadedImage:
    """A decoded input and how it relates to the file: front ends tell the user when the
    program read it smaller than it is."""

    image: Image.Image
    name: str
    #: The upright size in the file (after the EXIF orientation).
    original_size: tuple[int, int]

    @property
    def reduced(self) -> bool:
        return self.image.size != self.original_size

    @property
    def note(self) -> str | None:
        """One sentence for the user when the image was read smaller than the file; else None."""
        if not self.reduced:
            return None
        (w, h), (rw, rh) = self.original_size, self.image.size
        return (
            f"{self.name} is {w}x{h} px; it was read at {rw}x{rh}, which is all this run needs, "
            "to save memory."
        )


class PixelBudget:
    """The pixels all the images of one run may hold together (content, up to 16 styles, the
    start image): many large inputs must not exhaust the memory before the run begins."""

    def __init__(self, total: int | None = None) -> None:
        self.total = MAX_TOTAL_PIXELS if total is None else total
        self.used = 0

    def take(self, name: str, size: tuple[int, int]) -> None:
        n = size[0] * size[1]
        if self.used + n > self.total:
            raise ImageError(
                f"The images are too large together: with {name} they hold "
                f"{(self.used + n) / 1e6:.0f} megapixels, more than the "
                f"{self.total / 1e6:.0f} NST Desktop keeps for one run; use fewer or smaller "
                "style images."
            )
        self.used += n


def load_image(
    path: str | os.PathLike[str],
    *,
    max_side: int | None = None,
    budget: PixelBudget | None = None,
) -> Image.Image:
    """Open an image as upright 8-bit sRGB (alpha composited on white); see :func:`open_image`."""
    return open_image(path, max_side=max_side, budget=budget).image


def open_image(
    path: str | os.PathLike[str],
    *,
    max_side: int | None = None,
    budget: PixelBudget | None = None,
) -> LoadedImage:
    """Open an image in one of :data:`READ_FORMATS` as upright 8-bit sRGB.

    ``max_side`` is the longest side the caller will use: larger images are read smaller (a
    JPEG is decoded at 1/2, 1/4 or 1/8 scale, others reduced right after decoding), keeping at
    least :data:`REDUCE_MARGIN` times that side so the final resize is as sharp as from the full
    image. Pure and thread-safe: a window decodes off its UI thread with it.
    """
    p = Path(path)
    name = p.name or str(p)
    with _image_errors(p, name), open_regular(p) as f:
        _check_not_empty(f, name)
        loaded = _decode(f, name, max_side)
    if budget is not None:
        budget.take(name, loaded.image.size)
    return loaded


def check_image_file(path: str | os.PathLike[str]) -> None:
    """Raise :class:`ImageError` with the loader's sentence when ``path`` cannot be an image
    (missing, a folder, a pipe or device, unreadable, empty), without decoding or waiting.

    For callers that read only part of a file, such as its settings (:func:`read_metadata`
    answers None for all of these).
    """
    p = Path(path)
    name = p.name or str(p)
    with _image_errors(p, name), open_regular(p) as f:
        _check_not_empty(f, name)


def _check_not_empty(f: BinaryIO, name: str) -> None:
    if os.fstat(f.fileno()).st_size == 0:
        raise ImageError(f"{name} is empty (0 bytes); choose another image.")


@contextlib.contextmanager
def _image_errors(p: Path, name: str) -> Iterator[None]:
    """Every way reading an image can fail, as the one sentence the user gets."""
    try:
        yield
    except ImageError:
        raise
    except FileNotFoundError:
        raise ImageError(f"{p} does not exist; check the path.") from None
    except IsADirectoryError:
        raise ImageError(f"{p} is a folder; choose an image file inside it.") from None
    except NotARegularFileError as exc:
        raise ImageError(f"{name} is {exc.kind}, not an image file; choose a file.") from None
    except Image.DecompressionBombError:
        raise ImageError(
            f"{name} is too large to open safely (more than {2 * Image.MAX_IMAGE_PIXELS:,} "
            "pixels); scale it down in an image editor first."
        ) from None
    except PermissionError:
        raise ImageError(
            f"{name} cannot be read (no permission); check the file's rights."
        ) from None
    except UnidentifiedImageError:
        raise ImageError(
            f"{name} is not a picture NST Desktop can open; choose a PNG, JPEG, WebP, TIFF, "
            "BMP or GIF."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(
            f"{name} is damaged or truncated ({str(exc)[:80]}); choose another copy."
        ) from None


def _decode(f: BinaryIO, name: str, max_side: int | None) -> LoadedImage:
    # formats=: Pillow recognizes a file by its content, whatever its name; anything else
    # (PostScript above all, which Pillow would hand to Ghostscript) is never parsed.
    with Image.open(f, formats=READ_FORMATS) as img:
        img.seek(0)  # animated GIF/WebP/APNG: the first frame
        in_file = img.size
        if max_side and img.format in ("JPEG", "MPO") and max(img.size) > max_side * REDUCE_MARGIN:
            scale = max_side * REDUCE_MARGIN / max(img.size)
            img.draft(None, (math.ceil(img.width * scale), math.ceil(img.height * scale)))
        if img.width * img.height > MAX_IMAGE_PIXELS:
            w, h = in_file
            raise ImageError(
                f"{name} is {w}x{h} px ({w * h / 1e6:.0f} megapixels), more than the "
                f"{MAX_IMAGE_PIXELS / 1e6:.0f} NST Desktop reads per image; scale it down in an "
                "image editor first."
            )
        img.load()
        decoded = img.size
        icc = img.info.get("icc_profile")
        img = ImageOps.exif_transpose(img) or img
        turned = img.size != decoded
        rgb = to_srgb(img, icc)
    if max_side:
        factor = int(max(rgb.size) / (max_side * REDUCE_MARGIN))
        # A sliver is not reduced: its short side would round up to 1 px and change its shape
        # (and its size in the message that refuses it).
        if factor >= 2 and min(rgb.size) >= 16 * factor:
            rgb = rgb.reduce(factor)
    return LoadedImage(rgb, name, (in_file[1], in_file[0]) if turned else in_file)


# --------------------------------------------------------------------------- colour profiles
def to_srgb(img: Image.Image, icc: object = None) -> Image.Image:
    """RGB in sRGB: an embedded profile (Adobe RGB, ProPhoto, Display P3, a CMYK press
    profile) is converted from; without one, or with a damaged one, sRGB is assumed."""
    profile = _source_profile(icc)
    space = {"RGB": "RGB", "GRAY": "L", "CMYK": "CMYK"}.get(_space(profile))
    if profile is None or space is None:
        return to_rgb(img)
    alpha = None
    if img.mode in ("RGBA", "LA", "PA", "RGBa", "La") or "transparency" in img.info:
        rgba = img.convert("RGBA")
        alpha = rgba.getchannel("A")
        img = rgba.convert("RGB" if space == "CMYK" else space)
    elif img.mode == "P":
        img = img.convert("RGB")
    elif img.mode.startswith("I") or img.mode == "F":
        img = to_rgb(img).convert("L")
    rgb = None
    if img.mode == space:
        try:
            rgb = ImageCms.profileToProfile(
                img, profile, _srgb_profile(), renderingIntent=_INTENT, outputMode="RGB"
            )
        except (ImageCms.PyCMSError, OSError, ValueError):
            rgb = None
    if rgb is None:
        rgb = to_rgb(img)
    return to_rgb(_with_alpha(rgb, alpha)) if alpha is not None else rgb


def _with_alpha(img: Image.Image, alpha: Image.Image) -> Image.Image:
    rgba = img.convert("RGB").convert("RGBA")
    rgba.putalpha(alpha)
    return rgba


def _source_profile(icc: object) -> ImageCms.ImageCmsProfile | None:
    """The embedded profile when converting from it changes anything; None for sRGB or junk."""
    if not isinstance(icc, bytes) or not icc or len(icc) > MAX_ICC_BYTES:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        description = ImageCms.getProfileDescription(profile) or ""
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None
    if "sRGB" in description:
        return None  # the colour space this program works in already
    return profile


def _space(profile: ImageCms.ImageCmsProfile | None) -> str:
    try:
        return str(profile.profile.xcolor_space).strip() if profile is not None else ""
    except (AttributeError, ImageCms.PyCMSError):
        return ""


@functools.cache
def _srgb_profile() -> ImageCms.ImageCmsProfile:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


@functools.cache
def srgb_icc() -> bytes:
    """An sRGB ICC profile to embed in exports, so colour-managed viewers show them as meant."""
    return _srgb_profile().tobytes()


def to_rgb(img: Image.Image) -> Image.Image:
    """Convert any Pillow mode to RGB, keeping 16-bit range and flattening alpha onto white."""
    if img.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
        arr = np.asarray(img, dtype=np.float64)
        top = 65535.0 if img.mode.startswith("I;16") or arr.max() > 255 else 255.0
        arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        img = Image.fromarray(arr, "L")
    elif img.mode == "F":
        arr = np.nan_to_num(np.asarray(img, dtype=np.float64))
        top = 1.0 if arr.max() <= 1.0 else 255.0
        img = Image.fromarray(np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8), "L")
    if img.mode == "P":
        img = img.convert("RGBA" if "transparency" in img.info else "RGB")
    if img.mode in ("LA", "La", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        white = Image.new("RGBA", img.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, img).convert("RGB")
    if img.mode != "RGB":
        img = img.convert("RGB")
    return img


def fit_size(width: int, height: int, longest: int, min_side: int = 1) -> tuple[int, int]:
    """Size with the longest side ``longest`` and the aspect ratio kept; refuses slivers."""
    scale = longest / max(width, height)
    w, h = max(1, round(width * scale)), max(1, round(height * scale))
    if min(w, h) < min_side:
        raise ImageError(
            f"The image is {width}x{height} px; at size {longest} its short side would be "
            f"{min(w, h)} px, but the chosen layers need at least {min_side} px. Crop it to a "
            "less extreme shape, raise the size, or use shallower layers."
        )
    return w, h


def resize_longest(img: Image.Image, longest: int, min_side: int = 1) -> Image.Image:
    w, h = fit_size(img.width, img.height, longest, min_side)
    if (w, h) == img.size:
        return img
    return img.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=REDUCE_MARGIN)


def to_tensor(img: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    """(1, 3, H, W) float32 in [0, 1], contiguous (L-BFGS needs a flat view)."""
    arr = np.asarray(img.convert("RGB"), dtype=np.uint8)
    import torch

    t = torch.from_numpy(arr.copy()).permute(2, 0, 1).unsqueeze(0).contiguous()
    return t.to(device=device, dtype=torch.float32).div_(255.0)


def to_uint8(image: torch.Tensor) -> np.ndarray:
    """An H x W x 3 uint8 copy on the CPU (safe to hand to another thread)."""
    t = image.detach()
    if t.dim() == 4:
        t = t[0]
    import torch

    t = t.clamp(0, 1).mul(255).round_().to(torch.uint8).permute(1, 2, 0).contiguous()
    return t.cpu().numpy()


# --------------------------------------------------------------------------- saving
def save_image(
    pixels: np.ndarray | Image.Image,
    path: str | os.PathLike[str],
    *,
    metadata: dict[str, Any] | None = None,
    quality: int = 95,
) -> Path:
    """Write PNG/JPEG/WebP/TIFF by extension through a temporary file and an atomic rename.

    ``metadata`` (settings and version) is embedded as JSON where the format allows, so the
    picture remembers how it was made. An interrupted or failed save leaves no partial file.
    """
    p = Path(path)
    fmt = SAVE_FORMATS.get(p.suffix.lower())
    if fmt is None:
        raise ImageError(f"Cannot save as '{p.suffix or p.name}'; use .png, .jpg, .webp or .tif.")
    img = pixels if isinstance(pixels, Image.Image) else Image.fromarray(pixels, "RGB")
    kwargs = _metadata_kwargs(fmt, metadata) if metadata else {}
    kwargs["icc_profile"] = srgb_icc()  # the pixels are sRGB: say so to colour-managed viewers
    if fmt in ("JPEG", "WEBP"):
        kwargs["quality"] = quality
    if fmt == "TIFF":
        kwargs["compression"] = "tiff_deflate"
    try:
        with atomic_file(p) as out:
            img.save(out, format=fmt, **kwargs)
    except OSError as exc:
        raise ImageError(describe_write_error(exc, p)) from None
    return p


def _metadata_kwargs(fmt: str, metadata: dict[str, Any]) -> dict[str, Any]:
    text = json.dumps(metadata, separators=(",", ":"))
    if fmt == "PNG":
        info = PngImagePlugin.PngInfo()
        info.add_itxt(SETTINGS_KEY, text, zip=True)
        return {"pnginfo": info}
    if fmt == "TIFF":
        return {"tiffinfo": {_TIFF_DESCRIPTION: f"{SETTINGS_KEY}:{text}"}}
    exif = Image.Exif()
    exif.get_ifd(_EXIF_IFD)[_EXIF_USER_COMMENT] = f"{SETTINGS_KEY}:{text}"
    return {"exif": exif.tobytes()}


def read_metadata(path: str | os.PathLike[str]) -> dict[str, Any] | None:
    """The embedded metadata of an image saved by :func:`save_image`, or None.

    The text is untrusted: callers validate it (RunSettings.from_dict) before any use.
    """
    try:
        with open_regular(path) as f, Image.open(f, formats=READ_FORMATS) as img:
            text = _embedded_text(img)
    except (OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        return None
    if not text or len(text) > 64 * 1024:
        return None
    try:
        data = json.loads(text)
    except (ValueError, RecursionError):
        return None
    return data if isinstance(data, dict) else None


def _embedded_text(img: Image.Image) -> str | None:
    prefix = SETTINGS_KEY + ":"
    if isinstance(img.info.get(SETTINGS_KEY), str):
        return img.info[SETTINGS_KEY]
    desc = getattr(img, "tag_v2", {}).get(_TIFF_DESCRIPTION) if img.format == "TIFF" else None
    if isinstance(desc, str) and desc.startswith(prefix):
        return desc[len(prefix) :]
    comment = img.getexif().get_ifd(_EXIF_IFD).get(_EXIF_USER_COMMENT)
    if isinstance(comment, bytes):
        comment = comment.decode("utf-8", "replace")
    if isinstance(comment, str) and comment.startswith(prefix):
        return comment[len(prefix) :]
    return None
