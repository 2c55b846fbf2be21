"""Draw the bundled sample images with numpy and Pillow (nothing is downloaded).

A first launch opens with a content and a style image already loaded, so they must exist in
the repository; this script is how they were made and how to remake them. It is deterministic:
the same numpy and Pillow give the same pixels.

    python resources/make_samples.py [OUT_DIR]      (default: resources/samples)
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

SEED = 20240611
STYLE_SIDE = 512


# --------------------------------------------------------------------------- helpers
def _smooth_noise(rng: np.random.Generator, h: int, w: int, cell: int) -> np.ndarray:
    """Value noise in [0, 1]: a coarse random grid upsampled smoothly (bicubic)."""
    gh, gw = h // cell + 3, w // cell + 3
    grid = (rng.random((gh, gw)) * 255).astype(np.uint8)
    big = Image.fromarray(grid, "L").resize((gw * cell, gh * cell), Image.Resampling.BICUBIC)
    arr = np.asarray(big, dtype=np.float32)[cell : cell + h, cell : cell + w] / 255.0
    return arr


def _fractal(rng: np.random.Generator, h: int, w: int, cells: tuple[int, ...]) -> np.ndarray:
    total = np.zeros((h, w), np.float32)
    amp_sum = 0.0
    for i, cell in enumerate(cells):
        amp = 0.5**i
        total += amp * _smooth_noise(rng, h, w, cell)
        amp_sum += amp
    return total / amp_sum


def _ridge(rng: np.random.Generator, w: int, base: float, amp: float, waves: int) -> np.ndarray:
    """A 1-D mountain profile (y per column) as a sum of sines with falling amplitudes."""
    x = np.linspace(0, 1, w)
    y = np.full(w, base, np.float64)
    for k in range(1, waves + 1):
        y += amp / k**1.1 * np.sin(2 * np.pi * (k * x * rng.uniform(0.6, 1.4) + rng.random()))
    return y


def _lerp(a: np.ndarray, b: np.ndarray, t: np.ndarray) -> np.ndarray:
    return a + (b - a) * t[..., None]


def _to_image(arr: np.ndarray) -> Image.Image:
    return Image.fromarray(np.clip(arr * 255 + 0.5, 0, 255).astype(np.uint8), "RGB")


def _c(*rgb: int) -> np.ndarray:
    return np.array(rgb, np.float32) / 255.0


# --------------------------------------------------------------------------- content
def content_landscape(w: int = 768, h: int = 512) -> Image.Image:
    """A lake at sunset: sky, sun, three layers of hills, trees, a house, and a reflection."""
    rng = np.random.default_rng(SEED)
    horizon = int(h * 0.62)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    # sky: deep blue at the top to warm peach at the horizon, with soft clouds
    t = np.clip(yy / horizon, 0, 1) ** 1.3
    sky = _lerp(np.broadcast_to(_c(38, 72, 140), (h, w, 3)), _c(250, 196, 150), t)
    sun_x, sun_y = w * 0.68, horizon * 0.55
    d = np.hypot(xx - sun_x, yy - sun_y)
    glow = np.exp(-d / 120.0)[..., None]
    sky = sky * (1 - 0.55 * glow) + _c(255, 220, 160) * 0.55 * glow
    clouds = _fractal(rng, h, w, (96, 48, 24))
    band = np.exp(-(((yy / horizon) - 0.35) ** 2) / 0.02)
    cmask = np.clip((clouds - 0.5) * 3.0, 0, 1) * band
    sky = _lerp(sky, _c(255, 236, 220), cmask * 0.8)
    disk = np.clip(34 - d, 0, 1)[..., None]
    img = sky * (1 - disk) + _c(255, 244, 214) * disk

    # three ranges of hills, far (hazy blue) to near (dark green), with textured slopes
    ranges = [
        (horizon - 150, 40, 7, _c(112, 128, 170), _c(150, 160, 190)),
        (horizon - 80, 30, 6, _c(70, 110, 100), _c(110, 140, 120)),
        (horizon - 30, 18, 5, _c(46, 86, 52), _c(90, 120, 60)),
    ]
    for base, amp, waves, dark, light in ranges:
        top = _ridge(rng, w, base, amp, waves)
        top += 4 * (_smooth_noise(rng, 1, w, 6)[0] - 0.5)
        mask = yy >= top[None, :]
        tex = _fractal(rng, h, w, (40, 12, 4))
        shade = np.clip((yy - top[None, :]) / 120.0, 0, 1) * 0.5 + tex * 0.5
        col = _lerp(np.broadcast_to(light, (h, w, 3)), dark, shade)
        img = np.where(mask[..., None], col, img)
    img[horizon:] = 0  # everything below the horizon is lake (filled by the reflection)

    land = _to_image(img)
    draw = ImageDraw.Draw(land)
    # a shore strip, a house and trees stand on the far bank
    shore = horizon - 6
    draw.rectangle([0, shore, w, horizon], fill=(78, 98, 50))
    hx, hy = int(w * 0.24), shore
    draw.rectangle([hx, hy - 34, hx + 52, hy], fill=(214, 190, 150))
    draw.polygon([(hx - 8, hy - 34), (hx + 26, hy - 60), (hx + 60, hy - 34)], fill=(150, 52, 40))
    draw.rectangle([hx + 8, hy - 24, hx + 20, hy - 12], fill=(255, 220, 120))
    draw.rectangle([hx + 32, hy - 22, hx + 42, hy], fill=(92, 60, 40))
    for _ in range(14):
        tx = int(rng.uniform(0.02, 0.98) * w)
        if abs(tx - (hx + 26)) < 45:
            continue
        th = int(rng.uniform(30, 70))
        tw = th // 3
        green = tuple(int(v) for v in rng.integers(25, 60, 3) * np.array([0.8, 1.6, 0.8]))
        draw.rectangle([tx - 2, shore - th // 4, tx + 2, shore], fill=(70, 45, 30))
        draw.polygon(
            [(tx - tw, shore - th // 4), (tx, shore - th), (tx + tw, shore - th // 4)], fill=green
        )

    top_part = np.asarray(land, np.float32) / 255.0
    # lake: mirrored scene, rippled sideways, darkened and tinted, with bright ripple lines
    depth = h - horizon
    rows = np.arange(depth)
    src_rows = np.clip(horizon - 1 - rows, 0, horizon - 1)
    ripple = 3.0 * np.sin(rows[:, None] * 0.55 + xx[:depth] * 0.03) * (1 + rows[:, None] / 60)
    src_cols = np.clip((xx[:depth] + ripple).astype(int), 0, w - 1)
    refl = top_part[src_rows[:, None], src_cols]
    fade = (rows / depth)[:, None, None]
    water = refl * (0.78 - 0.25 * fade) + _c(20, 40, 70) * (0.22 + 0.25 * fade)
    streaks = _fractal(rng, depth, w, (64, 8))
    lines = (np.sin(rows[:, None] * 1.7 + streaks * 9) > 0.93) * (1 - fade[..., 0]) * 0.25
    water = water + lines[..., None]
    out = top_part.copy()
    out[horizon:] = water
    out += (rng.random((h, w, 1)) - 0.5) * 0.02  # a little film grain
    return _to_image(out)


# --------------------------------------------------------------------------- styles
def _flow_lic(field: np.ndarray, noise: np.ndarray, length: int, step: float) -> np.ndarray:
    """Line integral convolution: smear noise along a unit vector field (brush strokes)."""
    h, w = noise.shape
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    acc = noise.copy()
    for sign in (1.0, -1.0):
        px, py = xx.copy(), yy.copy()
        for _ in range(length):
            ix = np.clip(px.astype(np.int32), 0, w - 1)
            iy = np.clip(py.astype(np.int32), 0, h - 1)
            px += sign * step * field[iy, ix, 0]
            py += sign * step * field[iy, ix, 1]
            iy = np.clip(py.astype(np.int32), 0, h - 1)
            ix = np.clip(px.astype(np.int32), 0, w - 1)
            acc += noise[iy, ix]
    return acc / (2 * length + 1)


def style_swirls(side: int = STYLE_SIDE) -> Image.Image:
    """Starry swirls: vortices of blue and yellow dabs, painted along a swirling flow."""
    rng = np.random.default_rng(SEED + 1)
    h = w = side
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # flow: a gentle horizontal wind plus several vortices of different sizes and senses
    vx = np.full((h, w), 0.6, np.float32) + 0.4 * np.sin(yy / 47.0)
    vy = 0.25 * np.sin(xx / 61.0 + 1.0)
    centres = []
    for _ in range(7):
        cx, cy = rng.uniform(0, w), rng.uniform(0, h)
        r = rng.uniform(35, 110)
        sense = rng.choice([-1.0, 1.0])
        dx, dy = xx - cx, yy - cy
        d2 = dx * dx + dy * dy
        strength = 2.2 * np.exp(-d2 / (2 * r * r))
        vx += sense * -dy / np.sqrt(d2 + 1) * strength
        vy += sense * dx / np.sqrt(d2 + 1) * strength
        centres.append((cx, cy, r))
    norm = np.sqrt(vx * vx + vy * vy) + 1e-6
    field = np.stack([vx / norm, vy / norm], -1)

    # streak texture at two scales: fat dabs and fine bristles
    coarse = np.kron(rng.random((h // 4 + 1, w // 4 + 1)), np.ones((4, 4)))[:h, :w]
    fine = rng.random((h, w)).astype(np.float32)
    tex = 0.7 * _flow_lic(field, coarse.astype(np.float32), 16, 1.5)
    tex += 0.3 * _flow_lic(field, fine, 10, 1.0)
    tex = (tex - tex.mean()) / (tex.std() + 1e-6)

    # colour: night blues everywhere, yellow-white rings around the vortices and a moon
    hue = _fractal(rng, h, w, (128, 48))
    base = _lerp(np.broadcast_to(_c(18, 40, 110), (h, w, 3)), _c(60, 120, 190), hue)
    ring = np.zeros((h, w), np.float32)
    for cx, cy, r in centres[:4]:
        d = np.hypot(xx - cx, yy - cy)
        ring = np.maximum(ring, np.exp(-((d - r * 0.55) ** 2) / (2 * (r * 0.18) ** 2)))
        ring = np.maximum(ring, np.exp(-(d**2) / (2 * (r * 0.15) ** 2)))
    base = _lerp(base, _c(245, 205, 70), np.clip(ring * 1.1, 0, 1))
    band = np.clip(np.sin(yy / 23.0 + hue * 6) * 0.5 + 0.5, 0, 1) ** 4 * (1 - ring)
    base = _lerp(base, _c(120, 190, 210), band * 0.6)
    out = base * (1 + 0.28 * tex[..., None]) + 0.05 * tex[..., None]
    # dark cypress-like flame on the left, painted with the same texture
    flame = np.abs(xx - w * 0.16 - 10 * np.sin(yy / 30)) < (yy / h) ** 1.5 * w * 0.09
    out = np.where(flame[..., None], _c(25, 45, 25) * (1 + 0.5 * tex[..., None]), out)
    return _to_image(out)


def style_mosaic(side: int = STYLE_SIDE) -> Image.Image:
    """Stained glass: Voronoi panes of jewel colours, each with its own shading, in dark lead."""
    rng = np.random.default_rng(SEED + 2)
    h = w = side
    # panes at several scales: big ones at the edges, small ones in a central rose window
    pts_list: list[np.ndarray] = []
    for _ in range(6000):
        p = rng.random(2) * side
        r = np.hypot(*(p - side / 2)) / (side / 2)
        spacing = 16 if r < 0.45 else (26 if r < 0.8 else 40)
        if not pts_list or np.hypot(*(np.array(pts_list) - p).T).min() >= spacing:
            pts_list.append(p)
    pts = np.array(pts_list)
    n = len(pts)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    # nearest and second-nearest pane centre per pixel; each centre only reaches its
    # neighbourhood (panes are at most ~40 px apart, so 120 px is far beyond any lead line)
    best = np.full((h, w), np.inf, np.float32)
    second = np.full((h, w), np.inf, np.float32)
    label = np.zeros((h, w), np.int32)
    reach = 120
    for i, (px, py) in enumerate(pts.astype(np.float32)):
        x0, x1 = max(0, int(px) - reach), min(w, int(px) + reach)
        y0, y1 = max(0, int(py) - reach), min(h, int(py) + reach)
        b, s2, lab = best[y0:y1, x0:x1], second[y0:y1, x0:x1], label[y0:y1, x0:x1]
        d = np.sqrt((xx[y0:y1, x0:x1] - px) ** 2 + (yy[y0:y1, x0:x1] - py) ** 2)
        closer = d < b
        s2[...] = np.where(closer, b, np.minimum(s2, d))
        lab[closer] = i
        b[closer] = d[closer]
    edge = second - best

    palette = np.array(
        [
            _c(170, 20, 40),
            _c(25, 60, 160),
            _c(20, 130, 80),
            _c(235, 170, 30),
            _c(110, 40, 140),
            _c(230, 110, 30),
            _c(60, 160, 200),
            _c(240, 225, 170),
        ]
    )
    pane = palette[rng.integers(0, len(palette), n)]
    pane = np.clip(pane * rng.uniform(0.75, 1.15, (n, 1)), 0, 1)
    col = pane[label]
    # per-pane light: a tilt in a random direction, plus streaky glass and fine grain
    tilt = rng.uniform(-1, 1, (n, 2)) * 0.004
    rel_x = xx - pts[label, 0]
    rel_y = yy - pts[label, 1]
    light = 1 + tilt[label, 0] * rel_x + tilt[label, 1] * rel_y
    streak = _fractal(rng, h, w, (32, 8, 3))
    col = col * (light * (0.8 + 0.4 * streak))[..., None]
    col += (rng.random((h, w, 1)) - 0.5) * 0.06
    lead = np.clip((edge - 2.0) / 1.5, 0, 1)[..., None]
    leadcol = _c(28, 24, 22) + 0.08 * streak[..., None]
    out = col * lead + leadcol * (1 - lead)
    # a thick frame and a bright rim to each pane, like light through glass
    rim = np.exp(-((edge - 4.5) ** 2) / 2.0)[..., None] * 0.25
    out = out + rim * (1 - out)
    frame = 10
    out[:frame], out[-frame:], out[:, :frame], out[:, -frame:] = (leadcol[:frame],) * 2 + (
        leadcol[:, :frame],
    ) * 2
    return _to_image(out)


def style_strokes(side: int = STYLE_SIDE) -> Image.Image:
    """Bold impasto: layered directional strokes in warm earth colours, big to small."""
    rng = np.random.default_rng(SEED + 3)
    canvas = Image.new("RGB", (side, side), (196, 160, 110))
    draw = ImageDraw.Draw(canvas)
    palette = np.array(
        [
            (205, 110, 45),
            (150, 60, 35),
            (230, 190, 110),
            (120, 120, 60),
            (70, 90, 70),
            (245, 230, 200),
            (60, 40, 35),
            (200, 70, 60),
            (90, 110, 140),
        ],
        np.float32,
    )
    colour_field = _fractal(rng, side, side, (160, 64))
    angle_field = _fractal(rng, side, side, (256,)) * 1.6 - 0.9
    # palette index from a low-frequency field so colours form regions, with random accents
    passes = [(450, 70, 130, 18, 30), (900, 35, 70, 9, 16), (1100, 14, 30, 3, 7)]
    for count, lmin, lmax, wmin, wmax in passes:
        for _ in range(count):
            x, y = rng.uniform(-20, side + 20), rng.uniform(-20, side + 20)
            ix, iy = int(np.clip(x, 0, side - 1)), int(np.clip(y, 0, side - 1))
            a = angle_field[iy, ix] + rng.normal(0, 0.15)
            length = rng.uniform(lmin, lmax)
            width = rng.uniform(wmin, wmax)
            k = int(colour_field[iy, ix] * len(palette) * 1.3 + rng.normal(0, 0.7))
            base = palette[k % len(palette)] * rng.uniform(0.85, 1.1)
            dx, dy = np.cos(a), np.sin(a)
            px, py = -dy, dx
            bristles = max(3, int(width / 2))
            for b in range(bristles):
                off = (b / (bristles - 1) - 0.5) * width
                shade = base * rng.uniform(0.8, 1.18)
                lw = max(1, int(width / bristles) + 1)
                trim = rng.uniform(0, 0.2) * length
                x0 = x + px * off - dx * (length / 2 - trim)
                y0 = y + py * off - dy * (length / 2 - trim)
                x1 = x + px * off + dx * (length / 2 - rng.uniform(0, 0.2) * length)
                y1 = y + py * off + dy * (length / 2 - rng.uniform(0, 0.2) * length)
                fill = tuple(int(v) for v in np.clip(shade, 0, 255))
                draw.line([(x0, y0), (x1, y1)], fill=fill, width=lw)
    # a touch of softness and canvas grain so it reads as paint, not vector lines
    canvas = canvas.filter(ImageFilter.SMOOTH)
    arr = np.asarray(canvas, np.float32) / 255.0
    arr = arr + (_fractal(rng, side, side, (6, 2))[..., None] - 0.5) * 0.06
    return _to_image(arr)


SAMPLES: dict[str, Callable[[], Image.Image]] = {
    "content_landscape.png": content_landscape,
    "style_swirls.png": style_swirls,
    "style_mosaic.png": style_mosaic,
    "style_strokes.png": style_strokes,
}


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    out = Path(args[0]) if args else Path(__file__).resolve().parent / "samples"
    out.mkdir(parents=True, exist_ok=True)
    for name, make in SAMPLES.items():
        path = out / name
        make().save(path, format="PNG", optimize=True)
        print(f"{path} ({path.stat().st_size // 1024} KB)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
