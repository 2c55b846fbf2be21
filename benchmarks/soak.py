"""Soak test (issue 6): thousands of evaluations with a preview every evaluation, as the window
asks at small sizes, while watching resident memory, threads, open file handles and live
tensors. Each run is driven from a fresh worker thread, as the window's run thread does.

Usage:
  python benchmarks/soak.py [--gui] [--evals 2000] [--size 64] [--per-run 200] [--every 100]
                            [--optimizers lbfgs,adam] [--json out.json]

Prints one row per sample and the growth from the sample at --from-eval (default 200: the
allocator and torch's thread pools have settled by then) to the last one. Random weights (no
download); the CPU unless --device says otherwise.

The probes (rss_bytes, open_fds, thread_counts, live_tensors) and soak() are importable, for
tests/test_soak_small.py and for a soak of the GUI worker::

    spec = importlib.util.spec_from_file_location("soak", ROOT / "benchmarks" / "soak.py")
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))


# --------------------------------------------------------------------------- probes
def rss_bytes() -> int:
    """Resident set size now (Linux /proc/self/statm); elsewhere the peak from getrusage."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024


def trimmed_rss_bytes() -> int:
    """Resident set size after glibc returns its free pages (malloc_trim): what is really in
    use, without the allocator's slack, which comes and goes by several MB between samples."""
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass  # not glibc: the plain figure
    return rss_bytes()


def open_fds() -> int:
    """Open file descriptors of this process (the listing's own handle is not counted)."""
    for folder in ("/proc/self/fd", "/dev/fd"):
        try:
            return len(os.listdir(folder)) - 1
        except OSError:
            continue
    return -1


def thread_counts() -> tuple[int, int]:
    """(Python threads, OS threads): the second includes torch's and OpenMP's native pools."""
    try:
        native = len(os.listdir("/proc/self/task"))
    except OSError:
        native = -1
    return threading.active_count(), native


def live_tensors() -> int:
    """torch tensors reachable by the garbage collector (a leaked graph or state shows here)."""
    import warnings

    import torch

    count = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # isinstance() on deprecated module attributes warns
        for obj in gc.get_objects():
            try:
                if isinstance(obj, torch.Tensor):
                    count += 1
            except ReferenceError:  # a dead weak proxy
                pass
    return count


def type_counts() -> Counter[str]:
    """Live garbage-collected objects per type: whatever leaks once per evaluation (a record, a
    dict, a list of previews' owners) grows here by the number of evaluations."""
    return Counter(type(obj).__qualname__ for obj in gc.get_objects())


def grown_types(before: Counter[str], after: Counter[str], at_least: int) -> dict[str, int]:
    """Types whose live count rose by ``at_least`` or more."""
    return {k: after[k] - before[k] for k in after if after[k] - before[k] >= at_least}


@dataclass
class Sample:
    evals: int
    seconds: float
    rss_mb: float
    trimmed_rss_mb: float
    fds: int
    py_threads: int
    os_threads: int
    tensors: int


def sample(evals: int, start: float) -> Sample:
    """All probes at once, after a full collection (cycles are not leaks; only what survives)."""
    gc.collect()
    py, native = thread_counts()
    return Sample(
        evals,
        round(time.perf_counter() - start, 2),
        round(rss_bytes() / 2**20, 2),
        round(trimmed_rss_bytes() / 2**20, 2),
        open_fds(),
        py,
        native,
        live_tensors(),
    )


# --------------------------------------------------------------------------- the soak
def _pictures(size: int):
    import numpy as np
    from PIL import Image

    y, x = np.mgrid[0:size, 0 : size * 4 // 3]
    content = np.stack([x * 3 % 256, y * 5 % 256, (x + y) * 2 % 256], -1).astype(np.uint8)
    stripes = ((np.sin(x * 0.7 + y * 0.3) + 1) * 127).astype(np.uint8)
    style = np.stack([stripes, 255 - stripes, np.full_like(stripes, 80)], -1)
    return Image.fromarray(content), Image.fromarray(style[:size, :size])


def soak(
    evals: int = 2000,
    size: int = 64,
    per_run: int = 200,
    every: int = 100,
    optimizers: Sequence[str] = ("lbfgs", "adam"),
    *,
    device: str = "cpu",
    features=None,
    on_sample: Callable[[Sample], None] | None = None,
) -> list[Sample]:
    """Run ``evals`` evaluations as consecutive runs of ``per_run`` (optimizers taking turns),
    each consumed in a new thread with a preview every evaluation; sample every ``every``."""
    import torch
    from PIL import Image

    from nst_desktop.core.optimize import Inputs, run
    from nst_desktop.core.settings import RunSettings
    from nst_desktop.core.weights import load_random

    features = features if features is not None else load_random(0).features
    content, style = _pictures(size)
    inputs = Inputs(content, [style])
    samples: list[Sample] = []
    start = time.perf_counter()
    done = 0
    index = 0
    failure: list[BaseException] = []

    def one_run(settings: RunSettings, before: int) -> None:
        shown = None  # the window keeps only the latest preview on screen
        try:
            for rec in run(settings, inputs, features, torch.device(device), want_image=1):
                if rec.image is not None:
                    shown = Image.fromarray(rec.image)
                if rec.final:
                    if rec.status != "done":
                        raise RuntimeError(f"run ended {rec.status}: {rec.message}")
                    continue
                total = before + rec.step
                if total % every == 0:
                    samples.append(sample(total, start))
                    if on_sample is not None:
                        on_sample(samples[-1])
        except BaseException as exc:  # noqa: BLE001 - handed to the caller's thread
            failure.append(exc)
        del shown

    while done < evals:
        steps = min(per_run, evals - done)
        settings = RunSettings(
            size=size,
            steps=steps,
            weights="random",
            optimizer=optimizers[index % len(optimizers)],
            seed=0,  # runs of one optimizer are then identical: equal samples are expected
        )
        worker = threading.Thread(target=one_run, args=(settings, done), name=f"soak-run-{index}")
        worker.start()
        worker.join()
        if failure:
            raise failure[0]
        done += steps
        index += 1
    return samples


def soak_gui(
    evals: int = 2000,
    size: int = 64,
    per_run: int = 200,
    every: int = 100,
    optimizers: Sequence[str] = ("lbfgs", "adam"),
    *,
    device: str = "cpu",
    on_sample: Callable[[Sample], None] | None = None,
) -> list[Sample]:
    """The same soak through the window's RunThread, with every preview drawn in a PreviewView
    (offscreen platform unless a display is set)."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    import tempfile

    from PySide6.QtCore import QCoreApplication, QEventLoop
    from PySide6.QtWidgets import QApplication

    from nst_desktop.core.settings import RunSettings
    from nst_desktop.gui.preview import PreviewView
    from nst_desktop.gui.worker import RunJob, RunThread, WeightsCache

    app = QApplication.instance() or QApplication([])
    folder = Path(tempfile.mkdtemp(prefix="nst-soak-"))
    for name, picture in zip(("content.png", "style.png"), _pictures(size), strict=True):
        picture.save(folder / name)
    view = PreviewView()
    view.resize(400, 300)
    view.show()
    cache = WeightsCache()
    samples: list[Sample] = []
    start = time.perf_counter()
    done = 0
    index = 0
    while done < evals:
        steps = min(per_run, evals - done)
        settings = RunSettings(
            size=size,
            steps=steps,
            weights="random",
            optimizer=optimizers[index % len(optimizers)],
            seed=0,
            device=device,
        )
        thread = RunThread(
            RunJob(settings, str(folder / "content.png"), [str(folder / "style.png")]), cache
        )
        thread.preview_interval = 0.0  # a preview every evaluation
        before = done
        outcome: list = []

        def on_progress(p, before=before) -> None:
            total = before + p.step
            if not p.stage_done and total % every == 0:
                samples.append(sample(total, start))
                if on_sample is not None:
                    on_sample(samples[-1])

        thread.progress.connect(on_progress)
        thread.preview.connect(lambda image, step, stage: view.set_image(image))
        thread.outcome.connect(outcome.append)
        loop = QEventLoop()
        thread.finished.connect(loop.quit)
        thread.start()
        loop.exec()
        thread.wait()
        QCoreApplication.processEvents()
        thread.deleteLater()
        QCoreApplication.processEvents()
        if not outcome or outcome[0].status != "done":
            raise RuntimeError(f"run ended {outcome[0].status if outcome else '?'}")
        done += steps
        index += 1
    view.close()
    del app
    return samples


def _slope(points: Sequence[tuple[int, float]]) -> float:
    """Least-squares MB per 1000 evaluations: a trend, where endpoints only show noise."""
    if len(points) < 2:
        return 0.0
    mx = sum(x for x, _ in points) / len(points)
    my = sum(y for _, y in points) / len(points)
    var = sum((x - mx) ** 2 for x, _ in points)
    return 1000 * sum((x - mx) * (y - my) for x, y in points) / var if var else 0.0


def growth(samples: Sequence[Sample], from_eval: int, period: int = 1) -> dict[str, float]:
    """Memory: last sample minus the first at or after ``from_eval``, the spread and the trend
    over that window. Counts: against the first sample in the same phase as the last one
    (``period``: evaluations per cycle of optimizers), where equal counts are expected."""
    window = [s for s in samples if s.evals >= from_eval] or list(samples)
    base, last = window[0], window[-1]
    same = next((s for s in window if (last.evals - s.evals) % period == 0), base)
    return {
        "from_eval": base.evals,
        "to_eval": last.evals,
        "rss_mb": round(last.rss_mb - base.rss_mb, 2),
        "trimmed_rss_mb": round(last.trimmed_rss_mb - base.trimmed_rss_mb, 2),
        "rss_spread_mb": round(max(s.rss_mb for s in window) - min(s.rss_mb for s in window), 2),
        "trimmed_spread_mb": round(
            max(s.trimmed_rss_mb for s in window) - min(s.trimmed_rss_mb for s in window), 2
        ),
        "rss_mb_per_1000": round(_slope([(s.evals, s.rss_mb) for s in window]), 2),
        "trimmed_mb_per_1000": round(_slope([(s.evals, s.trimmed_rss_mb) for s in window]), 2),
        "counts_from_eval": same.evals,
        "fds": last.fds - same.fds,
        "py_threads": last.py_threads - same.py_threads,
        "os_threads": last.os_threads - same.os_threads,
        "tensors": last.tensors - same.tensors,
    }


def main(argv: Sequence[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--evals", type=int, default=2000)
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--per-run", type=int, default=200, help="evaluations per run (new thread)")
    p.add_argument("--every", type=int, default=100, help="sample every N evaluations")
    p.add_argument("--optimizers", default="lbfgs,adam")
    p.add_argument("--from-eval", type=int, default=200, help="growth is measured from here")
    p.add_argument("--device", default="cpu")
    p.add_argument("--json", type=Path, help="also write samples and growth as JSON")
    p.add_argument(
        "--gui", action="store_true", help="through the window's RunThread and preview widget"
    )
    args = p.parse_args(argv)

    header = (
        f"{'evals':>6} {'s':>8} {'RSS MB':>9} {'trimmed':>9} {'fds':>4} {'py thr':>6} "
        f"{'os thr':>6} {'tensors':>7}"
    )
    print(header)

    def show(s: Sample) -> None:
        print(
            f"{s.evals:>6} {s.seconds:>8.1f} {s.rss_mb:>9.1f} {s.trimmed_rss_mb:>9.1f} "
            f"{s.fds:>4} {s.py_threads:>6} "
            f"{s.os_threads:>6} {s.tensors:>7}",
            flush=True,
        )

    samples = (soak_gui if args.gui else soak)(
        args.evals,
        args.size,
        args.per_run,
        args.every,
        [o.strip() for o in args.optimizers.split(",") if o.strip()],
        device=args.device,
        on_sample=show,
    )
    optimizers = [o.strip() for o in args.optimizers.split(",") if o.strip()]
    g = growth(samples, args.from_eval, args.per_run * len(optimizers))
    print(
        f"evaluations {g['from_eval']} to {g['to_eval']}: RSS {g['rss_mb']:+.1f} MB "
        f"(spread {g['rss_spread_mb']:.1f} MB, trend {g['rss_mb_per_1000']:+.2f} MB per 1000 "
        f"evaluations); after malloc_trim {g['trimmed_rss_mb']:+.1f} MB (spread "
        f"{g['trimmed_spread_mb']:.1f} MB, trend {g['trimmed_mb_per_1000']:+.2f} MB per 1000)"
    )
    print(
        f"evaluations {g['counts_from_eval']} to {g['to_eval']} (same optimizer and phase): "
        f"fds {g['fds']:+d}, threads {g['py_threads']:+d} Python / {g['os_threads']:+d} OS, "
        f"tensors {g['tensors']:+d}"
    )
    if args.json:
        payload = {"args": {k: str(v) for k, v in vars(args).items()}, "growth": g}
        payload["samples"] = [asdict(s) for s in samples]
        args.json.write_text(json.dumps(payload, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
