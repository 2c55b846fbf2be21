"""Performance benchmark: the engine against the floor, memory, weight loading, start-up, and
the fast-mode / coarse-to-fine / channels-last variants. Prints tables and writes JSON.

The *floor* is one forward and backward pass of the truncated VGG19 (the default layer set) on a
[0,1] image that requires grad. The engine's seconds per evaluation are the median gaps between
consecutive StepRecords of ``core.optimize.run`` (previews every 10 steps). Floor and engine are
measured interleaved in the same process, so load from other processes hits both alike; each
size and optimizer runs in a fresh subprocess so that the peak RSS (VmHWM) is its own.

Usage:
  python benchmarks/bench.py [--sizes 256,512,1024] [--steps N] [--quick] [--json out.json]
                             [--weights random|torchvision|PATH] [--device cpu|cuda]
  --quick: sizes 128,256, few steps, small variant runs (checks that the script works).
Weight-load timing writes a random full-size torchvision-format file (~0.6 GB) to a temp dir.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- helpers
def vm_hwm_bytes() -> int | None:
    """Peak resident set size of this process (Linux), in bytes."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _images(size: int):
    import numpy as np
    from PIL import Image

    from nst_desktop.core.paths import resources_dir

    samples = resources_dir() / "samples"
    content, style = samples / "content_landscape.png", samples / "style_swirls.png"
    if content.is_file() and style.is_file():
        from nst_desktop.core.images import load_image

        return load_image(content), load_image(style)
    # No samples yet: structured synthetic pictures (random-noise images would make white-noise
    # init almost optimal for the style and every comparison meaningless).
    yy, xx = np.mgrid[0:size, 0:size] / size
    content = np.stack([xx, yy, 1 - xx * yy], axis=-1)
    for cx, cy, r in ((0.3, 0.4, 0.15), (0.7, 0.6, 0.22), (0.5, 0.2, 0.08)):
        content[(xx - cx) ** 2 + (yy - cy) ** 2 < r * r] = (0.9, 0.5 - r, 0.2 + r)
    style = np.stack(
        [
            0.5 + 0.5 * np.sin(40 * xx + 10 * np.sin(8 * yy)),
            0.5 + 0.5 * np.sin(25 * yy + 5 * xx),
            0.5 + 0.5 * np.cos(30 * (xx + yy)),
        ],
        axis=-1,
    )
    as_img = lambda a: Image.fromarray((np.clip(a, 0, 1) * 255).astype(np.uint8))  # noqa: E731
    return as_img(content), as_img(style)


def _features(weights: str):
    from nst_desktop.core.weights import load_weights

    return load_weights(weights, allow_download=False).features


def _floor_fn(features, size: int, device, channels_last: bool = False, bf16: bool = False):
    """One forward+backward of the truncated VGG19 used by the default settings, on an image of
    the shape the engine optimizes (the content picture's, longest side ``size``), in the mode
    the engine would run it: weights converted once (``engine_features``), the float32 image
    brought to the network's dtype and layout by the model itself."""
    import torch

    from nst_desktop.core.images import resize_longest
    from nst_desktop.core.model import VGGFeatures, engine_features
    from nst_desktop.core.settings import RunSettings

    s = RunSettings()
    net = engine_features(features, device, bfloat16=bf16, channels_last=channels_last)
    model = VGGFeatures(net, list(s.content_layers) + list(s.style_layers), s.pool).to(device)
    w, h = resize_longest(_images(size)[0], size, 16).size
    x = torch.rand(1, 3, h, w, device=device).requires_grad_(True)

    def step() -> None:
        out = model(x)
        loss = sum(o.float().mean() for o in out.values())
        loss.backward()
        x.grad = None
        _sync(device)

    return step


def _method_objective(
    features, size: int, device, content, style, *, bf16: bool = False, channels_last: bool = False
):
    """The default objective (network + Gram matrices + losses) in the given mode."""
    from nst_desktop.core.images import resize_longest, to_tensor
    from nst_desktop.core.losses import Objective
    from nst_desktop.core.model import VGGFeatures, engine_features
    from nst_desktop.core.settings import RunSettings

    s = RunSettings()
    net = engine_features(features, device, bfloat16=bf16, channels_last=channels_last)
    model = VGGFeatures(net, list(s.content_layers) + list(s.style_layers), s.pool).to(device)
    return Objective(
        model,
        content_image=to_tensor(resize_longest(content, size, 16), device),
        content_layers=s.content_layers,
        style_images=[to_tensor(resize_longest(style, size, 16), device)],
        style_layers=s.style_layers,
        content_weight=s.content_weight,
        style_weight=s.style_weight,
        tv_weight=s.tv_weight,
        bfloat16=bf16,
        normalization=s.normalization,
    )


def _method_floor_fn(
    features, size: int, device, content, style, *, bf16: bool = False, channels_last: bool = False
):
    """The default objective (network + Gram matrices + losses) in a bare loop: what any
    implementation of the method must pay per evaluation, so engine/method-floor is pure overhead.
    """
    import torch

    from nst_desktop.core.images import resize_longest

    objective = _method_objective(
        features, size, device, content, style, bf16=bf16, channels_last=channels_last
    )
    w, h = resize_longest(content, size, 16).size
    x = torch.rand(1, 3, h, w, device=device).requires_grad_(True)

    def step() -> None:
        loss, _ = objective(x)
        loss.backward()
        x.grad = None
        _sync(device)

    return step


def _sync(device) -> None:
    import torch

    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _timed(fn) -> float:
    t = time.perf_counter()
    fn()
    return time.perf_counter() - t


def _engine_gaps(settings, inputs, features, device, want_image=10, channels_last=False, out=None):
    """Seconds between consecutive evaluations (first two dropped: warm-up), final loss, curve.
    ``out`` (a list) receives the final record."""
    from nst_desktop.core.optimize import run

    records = run(
        settings, inputs, features, device, want_image=want_image, channels_last=channels_last
    )
    recs = []
    for r in records:
        recs.append((r.elapsed, r.loss, r.stage, r.final))
        if r.final and out is not None:
            out.append(r)
    steps = [r for r in recs if not r[3]]
    gaps = [b[0] - a[0] for a, b in zip(steps[1:], steps[2:], strict=False)]
    return gaps, recs


# --------------------------------------------------------------------------- child: one size
def child_engine(size: int, optimizer: str, steps: int, weights: str, device_name: str) -> dict:
    """Floor and engine interleaved in rounds; peak memory of this process at the end."""
    import torch

    from nst_desktop.core.device import resolve_device
    from nst_desktop.core.optimize import Inputs
    from nst_desktop.core.settings import RunSettings

    device = resolve_device(device_name)
    features = _features(weights).to(device)
    content, style = _images(size)
    inputs = Inputs(content, [style])
    base_rss = vm_hwm_bytes()
    floor = _floor_fn(features, size, device)
    method = _method_floor_fn(features, size, device, content, style)
    floor()  # warm-up
    method()
    rounds = 3
    per = max(3, steps // rounds)
    floor_t: list[float] = []
    method_t: list[float] = []
    engine_t: list[float] = []
    for _ in range(rounds):
        floor_t += [_timed(floor) for _ in range(per)]
        method_t += [_timed(method) for _ in range(per)]
        settings = RunSettings(size=size, steps=per + 2, optimizer=optimizer, weights=weights)
        engine_t += _engine_gaps(settings, inputs, features, device)[0]
    del floor, method
    peak = vm_hwm_bytes()
    cuda_peak = torch.cuda.max_memory_allocated(device) if device.type == "cuda" else None
    f, e = statistics.median(floor_t), statistics.median(engine_t)
    m = statistics.median(method_t)
    return {
        "size": size,
        "optimizer": optimizer,
        "floor_s": f,
        "engine_s": e,
        "method_floor_s": m,
        "ratio": e / f,
        "ratio_method": e / m,
        "rss_before_run_bytes": base_rss,
        "peak_rss_bytes": peak,
        "cuda_max_allocated_bytes": cuda_peak,
        "evaluations": len(engine_t),
    }


def child_variants(size: int, reps: int, weights: str, device_name: str, bf16: bool) -> dict:
    """Floor with channels-last and (optionally) bfloat16 autocast, interleaved with float32."""
    from nst_desktop.core.device import resolve_device

    device = resolve_device(device_name)
    features = _features(weights).to(device)
    variants = {"float32": _floor_fn(features, size, device)}
    variants["channels_last"] = _floor_fn(features, size, device, channels_last=True)
    if bf16:
        variants["bfloat16"] = _floor_fn(features, size, device, bf16=True)
    for fn in variants.values():
        fn()
    times: dict[str, list[float]] = {k: [] for k in variants}
    for _ in range(reps):
        for k, fn in variants.items():
            times[k].append(_timed(fn))
    med = {k: statistics.median(v) for k, v in times.items()}
    return {
        "size": size,
        "seconds": med,
        "speedup": {k: med["float32"] / v for k, v in med.items()},
    }


def child_precision_quality(size: int, steps: int, weights: str, device_name: str) -> dict:
    """float32 vs bfloat16 engine runs: s/eval and final loss at equal evaluations."""
    import numpy as np

    from nst_desktop.core.device import resolve_device
    from nst_desktop.core.optimize import Inputs, run
    from nst_desktop.core.settings import RunSettings

    device = resolve_device(device_name)
    features = _features(weights).to(device)
    content, style = _images(size)
    out: dict[str, Any] = {"size": size, "steps": steps}
    images = {}
    for precision in ("float32", "bfloat16"):
        s = RunSettings(size=size, steps=steps, weights=weights, precision=precision)
        start = time.perf_counter()
        recs = list(run(s, Inputs(content, [style]), features, device))
        out[precision] = {
            "s_per_eval": (time.perf_counter() - start) / steps,
            "final_loss": recs[-1].loss,
        }
        images[precision] = recs[-1].image.astype(np.float64)
    out["loss_rel_diff"] = abs(out["bfloat16"]["final_loss"] / out["float32"]["final_loss"] - 1)
    out["mean_abs_pixel_diff"] = float(np.abs(images["float32"] - images["bfloat16"]).mean())
    out["speedup"] = out["float32"]["s_per_eval"] / out["bfloat16"]["s_per_eval"]
    return out


def child_coarse(
    size: int, steps: int, coarse_steps: int, weights: str, device_name: str, optimizer: str
) -> dict:
    """Loss-vs-seconds at the full size for 1 scale and for 2 and 3 scales."""
    from nst_desktop.core.device import resolve_device
    from nst_desktop.core.optimize import Inputs, plan, run
    from nst_desktop.core.settings import RunSettings

    device = resolve_device(device_name)
    features = _features(weights).to(device)
    content, style = _images(size)
    curves: dict[str, list[tuple[float, float]]] = {}
    warm = RunSettings(size=size // 2, steps=3, weights=weights)
    for _ in run(warm, Inputs(content, [style]), features, device):
        pass  # the first run of a process pays one-off costs; keep them out of the curves
    for scales in (1, 2, 3):
        s = RunSettings(
            size=size,
            steps=steps,
            weights=weights,
            scales=scales,
            coarse_steps=coarse_steps,
            optimizer=optimizer,
        )
        last = len(plan(s)) - 1
        curves[str(scales)] = [
            (r.elapsed, r.loss)
            for r in run(s, Inputs(content, [style]), features, device)
            if r.stage == last and r.loss == r.loss  # NaN-free records of the full size
        ]
    target = curves["1"][-1][1]
    hits = {k: next((t for t, loss in c if loss <= target), None) for k, c in curves.items()}
    base_time = hits["1"]  # the record that first had that loss (the final record repeats it)
    reach = {
        k: {"seconds_to_single_scale_loss": hit, "ratio": hit / base_time if hit else None}
        for k, hit in hits.items()
    }
    return {
        "size": size,
        "optimizer": optimizer,
        "steps": steps,
        "coarse_steps": coarse_steps,
        "reach": reach,
        "curves": curves,
        "single_scale_final_loss": target,
    }


def child_gui_worker(size: int, steps: int, weights: str) -> dict:
    """The engine alone vs the GUI's RunThread (offscreen, previews at 12/s), same settings.

    Rounds alternate the two so machine noise hits both; s/eval is the last record's elapsed
    time over its step (target computation included in both alike).
    """
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import QCoreApplication, QEventLoop
    from PySide6.QtWidgets import QApplication

    from nst_desktop.core.device import resolve_device
    from nst_desktop.core.optimize import Inputs, run
    from nst_desktop.core.settings import RunSettings
    from nst_desktop.gui.worker import RunJob, RunThread, WeightsCache

    app = QApplication.instance() or QApplication([])
    content, style = _images(size)
    tmp = Path(tempfile.mkdtemp(prefix="nst-bench-gui-"))
    content.save(tmp / "c.png")
    style.save(tmp / "s.png")
    settings = RunSettings(size=size, steps=steps, weights=weights, device="cpu")
    cache = WeightsCache()
    features = cache.get(weights).features
    device = resolve_device("cpu")

    def engine() -> float:
        recs = list(run(settings, Inputs(content, [style]), features, device, want_image=5))
        return recs[-1].elapsed / recs[-1].step

    def gui() -> tuple[float, int]:
        thread = RunThread(RunJob(settings, str(tmp / "c.png"), [str(tmp / "s.png")]), cache)
        got: dict[str, Any] = {"frames": 0}
        thread.progress.connect(lambda p: got.__setitem__("last", p))
        thread.preview.connect(lambda *a: got.__setitem__("frames", got["frames"] + 1))
        loop = QEventLoop()
        thread.finished.connect(loop.quit)
        thread.start()
        loop.exec()
        QCoreApplication.processEvents()
        last = got["last"]
        return last.elapsed / last.step, got["frames"]

    engine()  # warm-up
    e_times, g_times, frames = [], [], []
    for _ in range(3):
        e_times.append(engine())
        g, f = gui()
        g_times.append(g)
        frames.append(f)
    del app
    e, g = statistics.median(e_times), statistics.median(g_times)
    return {
        "size": size,
        "steps": steps,
        "engine_s_per_eval": e,
        "gui_worker_s_per_eval": g,
        "gui_over_engine": g / e,
        "previews_per_run": statistics.median(frames),
    }


def child_weight_load(tmp: str) -> dict:
    """Full torchvision-format file vs the features-only cache, through the real load paths."""
    import torch

    from nst_desktop.core import weights as W

    os.environ["NST_DESKTOP_CACHE_DIR"] = str(Path(tmp) / "cache")
    os.environ["TORCH_HOME"] = str(Path(tmp) / "torch")
    gen = torch.Generator().manual_seed(0)
    state = {
        f"features.{k}": torch.randn(shape, generator=gen) * 0.01
        for k, shape in W.expected_shapes().items()
    }
    head = {
        "classifier.0": (4096, 25088),
        "classifier.3": (4096, 4096),
        "classifier.6": (1000, 4096),
    }
    for name, (o, i) in head.items():
        state[f"{name}.weight"] = torch.randn((o, i), generator=gen) * 0.01
        state[f"{name}.bias"] = torch.zeros(o)
    full = W.hub_checkpoint_path()
    full.parent.mkdir(parents=True, exist_ok=True)
    torch.save(state, full)
    feats_only = Path(tmp) / "features_only.pth"
    torch.save({k: v for k, v in state.items() if k.startswith("features.")}, feats_only)
    del state
    out = {"full_file_bytes": full.stat().st_size, "features_file_bytes": feats_only.stat().st_size}
    out["load_file_full_s"] = _timed(lambda: W.load_file(full))
    out["load_file_features_only_s"] = _timed(lambda: W.load_file(feats_only))
    out["torchvision_first_s"] = _timed(lambda: W.load_torchvision(allow_download=False))
    assert W.features_cache_path().is_file()
    out["torchvision_cached_s"] = _timed(lambda: W.load_torchvision(allow_download=False))
    return out


def launch_times() -> dict:
    """Seconds from spawning Python to a shown window (offscreen), and to CLI --help."""
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    code = (
        "import time, sys; t0 = float(sys.argv[1])\n"
        "from PySide6.QtWidgets import QApplication\n"
        "a = QApplication([])\n"
        "from nst_desktop.gui.main_window import MainWindow\n"
        "w = MainWindow(); w.show(); a.processEvents()\n"
        "print(time.time() - t0, flush=True)\n"
        "import os; os._exit(0)\n"
    )
    res: dict[str, Any] = {}
    for key, args in {
        "window_shown_s": [sys.executable, "-c", code],
        "import_torch_s": [
            sys.executable,
            "-c",
            "import torch, time, sys; print(time.time() - float(sys.argv[1]))",
        ],
    }.items():
        vals = []
        for _ in range(3):
            proc = subprocess.run(
                args + [repr(time.time())], capture_output=True, text=True, env=env, cwd=ROOT
            )
            try:
                vals.append(float(proc.stdout.strip().splitlines()[-1]))
            except (ValueError, IndexError):
                res[key + "_error"] = proc.stderr.strip()[-300:]
                break
        res[key] = statistics.median(vals) if vals else None
    t = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "nst_desktop", "--help"], capture_output=True, env=env, cwd=ROOT
    )
    res["cli_help_s"] = time.perf_counter() - t
    res["note"] = "window_shown_s: the app's MainWindow shown (the engine loads behind it)"
    return res


def planner_rows(sizes: list[int], device_name: str, weights: str) -> list[dict]:
    from nst_desktop.core import planner
    from nst_desktop.core.device import resolve_device
    from nst_desktop.core.images import resize_longest
    from nst_desktop.core.settings import RunSettings

    device = resolve_device(device_name)
    cal = planner.probe(device, _features(weights))
    rows = []
    for size in sizes:
        w, h = resize_longest(_images(size)[0], size, 16).size  # the engine's shape
        for opt in ("lbfgs", "adam"):
            settings = RunSettings(size=size, optimizer=opt)
            est = planner.estimate(settings, str(device), cal, min(w, h) / max(w, h))
            rows.append(
                {
                    "size": size,
                    "optimizer": opt,
                    "seconds_per_iter": est.seconds_per_iter,
                    "peak_bytes": est.peak_bytes,
                    "fits": est.fits,
                }
            )
    return rows


# --------------------------------------------------------------------------- driver
def _child(kind: str, *args: Any, timeout: float = 1800) -> dict:
    """Run one measurement in a fresh interpreter (own VmHWM) and return its JSON."""
    cmd = [sys.executable, __file__, "--_child", json.dumps([kind, *args])]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd=ROOT)
    if proc.returncode != 0:
        return {"error": proc.stderr.strip().splitlines()[-1:] or ["failed"]}
    return json.loads(proc.stdout.strip().splitlines()[-1])


CHILDREN = {
    "engine": child_engine,
    "variants": child_variants,
    "precision": child_precision_quality,
    "coarse": child_coarse,
    "gui": child_gui_worker,
    "weights": child_weight_load,
}


def _mb(n: int | None) -> str:
    return "-" if n is None else f"{n / 2**20:.0f} MB"


def _machine() -> dict:
    import platform

    import torch

    cpu = "unknown"
    flags: set[str] = set()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name") and cpu == "unknown":
                cpu = line.split(":", 1)[1].strip()
            if line.startswith("flags"):
                flags = set(line.split(":", 1)[1].split())
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "avx512_bf16": "avx512_bf16" in flags,
        "amx_bf16": "amx_bf16" in flags,
        "torch": torch.__version__,
        "python": platform.python_version(),
        "cuda": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
    }


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--sizes", default="256,512,1024")
    p.add_argument("--steps", type=int, default=12, help="timed evaluations per measurement")
    p.add_argument("--quick", action="store_true")
    p.add_argument("--json", dest="json_out")
    p.add_argument("--weights", default="random")
    p.add_argument("--device", default="cpu")
    p.add_argument("--variant-size", type=int, default=512, help="size for bf16/channels-last")
    p.add_argument("--coarse-size", type=int, default=512)
    p.add_argument("--coarse-steps", type=int, default=100, help="full-size steps, single scale")
    p.add_argument(
        "--coarse-scale-steps", type=int, default=0, help="steps per coarse scale (0: half)"
    )
    p.add_argument("--coarse-optimizer", default="lbfgs", help="lbfgs, adam or lbfgs,adam")
    p.add_argument(
        "--skip",
        default="",
        help="comma list of: engine,variants,precision,coarse,gui,weights,launch,planner",
    )
    p.add_argument("--_child", help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a._child:
        kind, *args = json.loads(a._child)
        print(json.dumps(CHILDREN[kind](*args)))
        return 0
    sizes = [int(s) for s in a.sizes.split(",") if s]
    if a.quick:
        sizes, a.steps, a.variant_size, a.coarse_size, a.coarse_steps = [128, 256], 6, 128, 128, 20
    skip = set(a.skip.split(","))
    machine = _machine()
    results: dict[str, Any] = {"machine": machine, "args": vars(a) | {"sizes": sizes}}
    print(f"# machine: {machine}")

    if "engine" not in skip:
        print("\n## engine vs floor (s per evaluation, median; previews every 10 steps)")
        print("floor = network fwd+bwd; method = + Gram matrices and losses; peak = process VmHWM")
        print(
            f"{'size':>5} {'opt':>6} {'floor s':>9} {'method s':>9} {'engine s':>9} "
            f"{'eng/floor':>9} {'eng/meth':>9} {'peak':>9} {'pre-run':>9}"
        )
        rows = []
        for size in sizes:
            for opt in ("lbfgs", "adam"):
                r = _child("engine", size, opt, a.steps, a.weights, a.device)
                rows.append(r)
                if "error" in r:
                    print(f"{size:>5} {opt:>6} error: {r['error']}")
                    continue
                peak = r["cuda_max_allocated_bytes"] or r["peak_rss_bytes"]
                print(
                    f"{size:>5} {opt:>6} {r['floor_s']:9.4f} {r['method_floor_s']:9.4f} "
                    f"{r['engine_s']:9.4f} {r['ratio']:9.3f} {r['ratio_method']:9.3f} "
                    f"{_mb(peak):>9} {_mb(r['rss_before_run_bytes']):>9}",
                    flush=True,
                )
        results["engine"] = rows

    if "gui" not in skip:
        r = _child("gui", sizes[0], a.steps, a.weights)
        results["gui_worker"] = r
        if "gui_over_engine" in r:
            print(
                f"\n## GUI worker path at {r['size']} px: engine {r['engine_s_per_eval']:.4f} s, "
                f"RunThread {r['gui_worker_s_per_eval']:.4f} s per evaluation "
                f"(x{r['gui_over_engine']:.3f}), {r['previews_per_run']:.0f} previews per run"
            )
        else:
            print(f"\n## GUI worker path: {r}")

    if "variants" not in skip:
        bf16_ok = machine["cuda"] is not None or machine["avx512_bf16"] or machine["amx_bf16"]
        size = a.variant_size if bf16_ok else min(a.variant_size, 64)
        print(f"\n## floor variants at {a.variant_size} px (speed-up vs float32, interleaved)")
        r = _child("variants", a.variant_size, max(3, a.steps // 2), a.weights, a.device, False)
        results["variants"] = r
        print(f"channels_last x{r['speedup']['channels_last']:.3f}" if "speedup" in r else r)
        # bfloat16 without native support is emulated and very slow: measure it at a small size.
        r = _child("variants", size, 3, a.weights, a.device, True)
        results["variants_bf16"] = r
        if "speedup" in r:
            print(
                f"bfloat16 at {size} px: x{r['speedup']['bfloat16']:.3f} "
                f"({r['seconds']['float32']:.4f} s -> {r['seconds']['bfloat16']:.4f} s)"
            )
        if not bf16_ok:
            print("(no avx512_bf16/amx on this CPU and no CUDA: bfloat16 is emulated)")

    if "precision" not in skip:
        bf16_ok = machine["cuda"] is not None or machine["avx512_bf16"] or machine["amx_bf16"]
        size = a.variant_size if bf16_ok else 64
        r = _child("precision", size, a.steps, a.weights, a.device)
        results["precision"] = r
        if "speedup" in r:
            print(
                f"\n## float32 vs bfloat16 engine at {size} px, {a.steps} evaluations: "
                f"speed-up x{r['speedup']:.3f}, final loss f32 {r['float32']['final_loss']:.4g} "
                f"bf16 {r['bfloat16']['final_loss']:.4g} (rel diff {r['loss_rel_diff']:.2%}), "
                f"mean |pixel diff| {r['mean_abs_pixel_diff']:.2f}/255"
            )

    for optimizer in a.coarse_optimizer.split(",") if "coarse" not in skip else ():
        cs = a.coarse_scale_steps or max(1, a.coarse_steps // 2)
        r = _child("coarse", a.coarse_size, a.coarse_steps, cs, a.weights, a.device, optimizer)
        results.setdefault("coarse_to_fine", []).append(r)
        if "reach" in r:
            print(
                f"\n## coarse-to-fine, {optimizer}, at {a.coarse_size} px ({a.coarse_steps} "
                f"full-size steps; {cs} per coarse scale): time to reach the 1-scale final loss "
                f"{r['single_scale_final_loss']:.4g}"
            )
            for k, v in r["reach"].items():
                hit = v["seconds_to_single_scale_loss"]
                txt = f"{hit:.2f} s ({v['ratio']:.2f} of 1-scale)" if hit else "not reached"
                print(f"  scales={k}: {txt}")
            for k, curve in r["curves"].items():
                pts = curve[:: max(1, len(curve) // 8)] + curve[-1:]
                print(f"  curve scales={k}: " + " ".join(f"{t:.1f}s:{v:.3g}" for t, v in pts))

    if "weights" not in skip:
        print("\n## weight load (random tensors in VGG19's real shapes; writes ~0.6 GB to tmp)")
        with tempfile.TemporaryDirectory() as tmp:
            r = _child("weights", tmp)
        results["weight_load"] = r
        for k, v in r.items():
            print(f"  {k}: {_mb(v) if k.endswith('bytes') else f'{v:.3f} s'}")

    if "launch" not in skip:
        r = launch_times()
        results["launch"] = r
        print(
            f"\n## launch: window shown {r.get('window_shown_s')} s, import torch "
            f"{r.get('import_torch_s')} s, cli --help {r['cli_help_s']:.2f} s ({r['note']})"
        )

    if "planner" not in skip:
        try:
            rows = planner_rows(sizes, a.device, a.weights)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not crash
            rows = [{"error": str(exc)}]
        results["planner"] = rows
        print("\n## planner estimates (compare with the engine table above)")
        for r in rows:
            if "error" in r:
                print(r)
                continue
            print(
                f"{r['size']:>5} {r['optimizer']:>6} {r['seconds_per_iter']:9.4f} s/iter "
                f"{_mb(r['peak_bytes']):>9} fits={r['fits']}"
            )

    if a.json_out:
        Path(a.json_out).write_text(json.dumps(results, indent=2))
        print(f"\nJSON written to {a.json_out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
