"""Draw the application icon: ``resources/icons/nst-desktop.png`` (256 px) and ``.ico``.

Deterministic (no randomness, no fonts), so the committed files can be regenerated exactly:
``python resources/make_icon.py``. The motif is the app in one picture: a photo's horizon on the
left melting into brush swirls on the right.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SIZE = 256
OUT = Path(__file__).resolve().parent / "icons"
ICO_SIZES = [(16, 16), (24, 24), (32, 32), (48, 48), (64, 64), (128, 128), (256, 256)]


def draw(size: int = SIZE) -> Image.Image:
    s = size * 4  # drawn large, then shrunk: smooth edges without antialiasing support
    y, x = np.mgrid[0:s, 0:s] / s
    # Sky to ground on the left (the photo) ...
    sky = np.stack([0.35 + 0.4 * y, 0.55 + 0.3 * y, 0.95 - 0.25 * y], -1)
    ground = np.stack([0.25 + 0.2 * y, 0.55 - 0.1 * y, 0.3 + 0.0 * y], -1)
    photo = np.where((y > 0.62 + 0.05 * np.sin(x * 7))[..., None], ground, sky)
    # ... swirls of warm paint on the right (the style) ...
    r = np.hypot(x - 0.78, y - 0.42)
    angle = np.arctan2(y - 0.42, x - 0.78)
    band = 0.5 + 0.5 * np.sin(28 * r + 3 * angle)
    paint = np.stack([0.95 - 0.2 * band, 0.55 + 0.3 * band, 0.15 + 0.35 * (1 - band)], -1)
    # ... blended by a soft diagonal: the transfer in progress.
    t = np.clip((x + 0.35 * y - 0.45) / 0.35, 0, 1)[..., None]
    rgb = (photo * (1 - t) + paint * t).clip(0, 1)
    img = Image.fromarray((rgb * 255).astype(np.uint8)).convert("RGBA")
    mask = Image.new("L", (s, s), 0)
    ImageDraw.Draw(mask).rounded_rectangle([0, 0, s - 1, s - 1], radius=s // 5, fill=255)
    img.putalpha(mask)
    # A white brush stroke rising to the right, thinning as a real one does.
    stroke = Image.new("L", (s, s), 0)
    d = ImageDraw.Draw(stroke)
    for i in range(200):
        u = i / 199
        cx = s * (0.16 + 0.68 * u)
        cy = s * (0.84 - 0.22 * u + 0.07 * math.sin(u * math.pi))
        w = s * 0.04 * math.sin(min(u * 4, 1) * math.pi / 2) * (1 - u) ** 0.6 + s * 0.004
        d.ellipse([cx - w, cy - w, cx + w, cy + w], fill=235)
    stroke = stroke.filter(ImageFilter.GaussianBlur(s / 400))
    white = Image.new("RGBA", (s, s), (255, 255, 255, 255))
    img = Image.composite(white, img, Image.fromarray(np.minimum(stroke, mask)))
    return img.resize((size, size), Image.Resampling.LANCZOS)


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    icon = draw()
    icon.save(OUT / "nst-desktop.png", optimize=True)
    icon.save(OUT / "nst-desktop.ico", sizes=ICO_SIZES)
    print(f"wrote {OUT / 'nst-desktop.png'} and {OUT / 'nst-desktop.ico'}")


if __name__ == "__main__":
    main()
