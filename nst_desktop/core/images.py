"""Images in and out: robust loading, resizing, tensor conversion, atomic saving with settings.

Every failure a user can cause raises :class:`ImageError` with one sentence saying what to do.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from .files import atomic_file, describe_write_error

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
_TIFF_DESCRIPTION = 270
_EXIF_USER_COMMENT = 0x9286
_EXIF_IFD = 0x8769


class ImageError(Exception):
    """An image cannot be read or written; the message tells the user what to do."""


# --------------------------------------------------------------------------- loading
def load_image(path: str | os.PathLike[str]) -> Image.Image:
    """Open any image Pillow reads as upright 8-bit RGB (alpha composited on white)."""
    p = Path(path)
    name = p.name or str(p)
    if p.is_dir():
        raise ImageError(f"{p} is a folder; choose an image file inside it.")
    if not p.exists():
        raise ImageError(f"{p} does not exist; check the path.")
    try:
        if p.stat().st_size == 0:
            raise ImageError(f"{name} is empty (0 bytes); choose another image.")
        with Image.open(p) as img:
            img.seek(0)  # animated GIF/WebP/APNG: the first frame
            img.load()
            img = ImageOps.exif_transpose(img) or img
            return to_rgb(img)
    except ImageError:
        raise
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
            f"{name} is not an image Pillow can read; choose a PNG, JPEG, WebP, TIFF, BMP or GIF."
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise ImageError(
            f"{name} is damaged or truncated ({str(exc)[:80]}); choose another copy."
        ) from None


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
    return img.resize((w, h), Image.Resampling.LANCZOS, reducing_gap=3.0)


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
        with Image.open(path) as img:
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
