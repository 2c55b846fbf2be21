"""Tiled refinement benchmark: seams and losses against the whole run, memory and time by size.

1. Quality, at a size where the whole run fits: the same settings run whole and in tiles
   (``--tile``). Seam score = mean gradient magnitude across the tile borders (every box edge
   inside the picture) over the mean in the tiles' interiors (> 8 px from any border), on the
   final picture; for the whole run the same positions give its own ratio (about 1). Then the
   final content and style terms of both pictures, computed on the whole picture against the
   whole picture's targets.
2. Scaling: ``nst-desktop transfer`` under ``--max-memory`` at growing sizes, each a fresh process
   whose peak RSS is polled from /proc (VmHWM); wall and CPU time per megapixel of the result.
   The fixed cost (RSS after importing torch and loading the weights) is measured in its own
   process.

Usage:
  python benchmarks/tiles.py [--quality-size 256] [--tile 128] [--steps 20] [--tile-steps N]
                             [--sweeps 1] [--sizes 1024,2048] [--size-steps 2] [--max-memory 1.5GB]
                             [--skip-quality] [--skip-sizes] [--json out.json]
Weights are random (untrained): the numbers measure the machinery, not the look.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SAMPLES = ROOT / "resources" / "samples"
CONTENT, STYLE = SAMPLES / "content_landscape.png", SAMPLES / "style_swirls.png"


def cpu_line() -> str:
    """The CPU model and the vector flags that decide the speed of the convolutions."""
    model, flags = "?", set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and model == "?":
                model = line.split(":", 1)[1].strip()
            if line.startswith("flags") and not flags:
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    wanted = ("avx2", "fma", "avx512f", "avx512_bf16", "amx_bf16")
    return f"{model}; flags: " + " ".join(f for f in wanted if f in flags)


def seam_score(image: np.ndarray, boxes: list[tuple[int, int, int, int]]) -> float:
    """Mean gradient magnitude across box edges inside the picture / mean in the interiors."""
    gray = image.astype(np.float64).mean(axis=2)
    h, w = gray.shape
    gx = np.abs(np.diff(gray, axis=1))  # gx[:, x]: between columns x and x + 1
    gy = np.abs(np.diff(gray, axis=0))
    cols = sorted({e for t, left, b, r in boxes for e in (left, r) if 0 < e < w})
    rows = sorted({e for t, left, b, r in boxes for e in (t, b) if 0 < e < h})
    border = [gx[:, c - 1] for c in cols] + [gy[r - 1, :] for r in rows]
    if not border:
        return float("nan")
    far_x = np.ones(w - 1, bool)
    far_y = np.ones(h - 1, bool)
    for c in cols:
        far_x[max(0, c - 9) : c + 8] = False
    for r in rows:
        far_y[max(0, r - 9) : r + 8] = False
    rows_in, cols_in = far_y.nonzero()[0], far_x.nonzero()[0]
    inside = np.concatenate(
        [gx[np.ix_(rows_in, cols_in)].ravel(), gy[np.ix_(rows_in, cols_in)].ravel()]
    )
    return float(np.concatenate(border).mean() / inside.mean())


def whole_terms(settings: Any, inputs: Any, features: Any, pixels: np.ndarray) -> dict[str, float]:
    """The content and style terms of ``pixels`` against the whole picture's targets."""
    import torch

    from nst_desktop.core.images import resize_longest, to_tensor
    from nst_desktop.core.losses import Objective
    from nst_desktop.core.model import VGGFeatures

    h, w = pixels.shape[:2]
    content_t = to_tensor(resize_longest(inputs.content, max(h, w)))
    style_t = to_tensor(resize_longest(inputs.styles[0], round(max(h, w) * settings.style_scale)))
    content, style = settings.loss_layers()
    model = VGGFeatures(features, list(content) + list(style), settings.pool)
    objective = Objective(
        model,
        content_image=content_t,
        content_layers=content,
        style_images=[style_t],
        style_layers=style,
        content_weight=settings.content_weight,
        style_weight=settings.style_weight,
        tv_weight=settings.tv_weight,
        normalization=settings.normalization,
    )
    x = torch.from_numpy(pixels.copy()).permute(2, 0, 1)[None].float() / 255.0
    with torch.no_grad():
        _, terms = objective(x)
    return {"content": float(terms[0]), "style": float(terms[1])}


def quality(
    size: int, tile: int, steps: int, tile_steps: int = 0, sweeps: int = 1
) -> dict[str, Any]:
    """Whole and tiled run of the same settings; ``tile_steps`` (0: ``steps``) gives each tile
    its own budget, e.g. so that the tiles' evaluated pixels equal the whole final scale's."""
    import torch

    from nst_desktop.core import tiled
    from nst_desktop.core.images import load_image
    from nst_desktop.core.optimize import Inputs, run
    from nst_desktop.core.settings import RunSettings
    from nst_desktop.core.tiles import plan_tiles
    from nst_desktop.core.weights import load_random

    features = load_random(0).features
    inputs = Inputs(load_image(CONTENT, max_side=size), [load_image(STYLE, max_side=size)])
    settings = RunSettings(size=size, steps=steps, coarse_steps=steps, scales=2)
    knobs = {"tile": tile, "steps": tile_steps or steps, "tile_sweeps": sweeps}
    forced = RunSettings(**{**settings.to_dict(), **knobs})
    plan = plan_tiles(forced, inputs.content.size, None)
    assert plan is not None
    cpu = torch.device("cpu")
    out: dict[str, Any] = {
        "size": size, "tile": tile, "steps": steps, "tile_steps": tile_steps or steps,
        "sweeps": sweeps, "plan": plan.summary(),
    }  # fmt: skip
    boxes = plan.tiled[0].boxes
    for name, records in (
        ("whole", run(settings, inputs, features, cpu)),
        ("tiled", tiled.run(forced, inputs, features, cpu, plan)),
    ):
        t0 = time.perf_counter()
        last = None
        for rec in records:
            last = rec
        assert last is not None and last.image is not None
        out[name] = {
            "seconds": round(time.perf_counter() - t0, 1),
            "seam": round(seam_score(last.image, boxes), 4),
            **whole_terms(settings, inputs, features, last.image),
        }
        print(name, out[name], flush=True)
    return out


def peak_of(cmd: list[str]) -> tuple[int, float, float, int]:
    """Run ``cmd``; (exit status, wall seconds, CPU seconds, peak RSS in bytes).

    The CPU seconds (user + system, from the reaped child's rusage) are what a busy machine
    disturbs least; the peak is VmHWM polled every 0.2 s.
    """
    t0 = time.perf_counter()
    log = tempfile.TemporaryFile()
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)
    peak, status, usage = 0, None, None
    while status is None:
        try:
            for line in Path(f"/proc/{proc.pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    peak = max(peak, int(line.split()[1]) * 1024)
        except OSError:
            pass
        pid, raw, ru = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            status, usage = os.waitstatus_to_exitcode(raw), ru
        else:
            time.sleep(0.2)
    proc.returncode = status
    if status:
        log.seek(0)
        print(log.read()[-2000:].decode(errors="replace"), flush=True)
    cpu = usage.ru_utime + usage.ru_stime if usage else float("nan")
    return status, time.perf_counter() - t0, cpu, peak


FIXED = (
    "import torch; from nst_desktop.core.weights import load_random; f = load_random(0).features; "
    "import time; time.sleep(0.5)"
)


def sizes(which: list[int], steps: int, ceiling: str, out_dir: Path) -> dict[str, Any]:
    _, _, fixed_cpu, fixed = peak_of([sys.executable, "-c", FIXED])
    print(f"fixed cost (torch + weights): {fixed / 2**20:.0f} MiB", flush=True)
    rows = []
    for size in which:
        target = out_dir / f"tiles_{size}.png"
        cmd = [sys.executable, "-m", "nst_desktop", "transfer", str(CONTENT), str(STYLE)]
        cmd += ["-o", str(target), "--size", str(size), "--max-memory", ceiling, "-q"]
        cmd += ["--weights", "random", "--steps", str(steps), "--coarse-steps", str(steps)]
        code, seconds, cpu, peak = peak_of(cmd)
        from PIL import Image

        w, h = Image.open(target).size if code == 0 else (0, 0)
        row = {
            "size": size,
            "exit": code,
            "seconds": round(seconds, 1),
            "megapixels": round(w * h / 1e6, 3),
            "seconds_per_mp": round(seconds / max(w * h / 1e6, 1e-9), 1),
            "cpu_seconds": round(cpu, 1),
            "cpu_seconds_per_mp": round((cpu - fixed_cpu) / max(w * h / 1e6, 1e-9), 1),
            "peak_rss_mib": round(peak / 2**20),
            "ceiling_plus_fixed_mib": None,
        }
        from nst_desktop.core.settings import parse_memory

        row["ceiling_plus_fixed_mib"] = round(((parse_memory(ceiling) or 0) + fixed) / 2**20)
        print(row, flush=True)
        rows.append(row)
    return {
        "fixed_mib": round(fixed / 2**20),
        "fixed_cpu_seconds": round(fixed_cpu, 1),
        "ceiling": ceiling,
        "steps": steps,
        "rows": rows,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quality-size", type=int, default=256)
    ap.add_argument("--tile", type=int, default=128)
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--tile-steps", type=int, default=0, help="steps per tile (0: --steps)")
    ap.add_argument("--sweeps", type=int, default=1, help="tile sweeps of the tiled run")
    ap.add_argument("--sizes", default="1024,2048")
    ap.add_argument("--size-steps", type=int, default=2)
    ap.add_argument("--max-memory", default="1.5GB")
    ap.add_argument("--skip-quality", action="store_true")
    ap.add_argument("--skip-sizes", action="store_true")
    ap.add_argument("--json", type=Path)
    ap.add_argument("--out-dir", type=Path, default=Path("/tmp"))
    args = ap.parse_args()
    print("CPU:", cpu_line(), flush=True)
    result: dict[str, Any] = {"cpu": cpu_line()}
    if not args.skip_quality:
        result["quality"] = quality(
            args.quality_size, args.tile, args.steps, args.tile_steps, args.sweeps
        )
    if not args.skip_sizes:
        which = [int(s) for s in args.sizes.split(",") if s]
        result["sizes"] = sizes(which, args.size_steps, args.max_memory, args.out_dir)
    text = json.dumps(result, indent=2)
    print(text)
    if args.json:
        args.json.write_text(text)


if __name__ == "__main__":
    main()
