"""Fault matrix (issue 6), soak row, small: 150 evaluations at 32 px with a preview every
evaluation, in three runs on fresh worker threads (L-BFGS, Adam, L-BFGS), must not leak file
handles, threads, tensors or memory. The full soak is benchmarks/soak.py (2,000 at 64 px).

Samples are taken at the last evaluation of runs 1 and 3: the same optimizer, seed and phase,
so equal counts are expected exactly (tensors, file handles, threads), and no object type may
grow by 50 or more (a leak of one record per evaluation grows by 100; leak-free, the largest
change measured was 6). Memory is compared after malloc_trim, i.e. what is in use rather than
the allocator's slack, which alone moves the plain RSS by up to ~11 MB between such samples.

Why 20 MB: leak-free, the trimmed RSS moved by at most 3.3 MB between the two samples in
repeated runs; keeping one forward pass's activations per evaluation (a native-memory leak the
tensor count might not see, e.g. inside torch) adds 37 MB over these 100 evaluations at 32 px.
20 MB is 6x the noise and below that leak. Leaked previews (numpy, 2 KB each at this size) are
too small to see here; benchmarks/soak.py at 64 px over 2,000 evaluations is the check for them.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def soak_module():
    spec = importlib.util.spec_from_file_location("nst_soak", ROOT / "benchmarks" / "soak.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["nst_soak"] = module
    spec.loader.exec_module(module)
    yield module
    sys.modules.pop("nst_soak", None)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_soak_small_no_growth_in_memory_threads_or_file_handles(soak_module):
    from nst_desktop.core.weights import load_random

    features = load_random(0).features
    # Warm-up: torch's thread pools, both optimizers' first use, the allocator's arenas.
    soak_module.soak(20, 32, per_run=10, every=10, optimizers=("lbfgs", "adam"), features=features)
    types = []
    samples = soak_module.soak(
        150,
        32,
        per_run=50,
        every=50,
        optimizers=("lbfgs", "adam"),
        features=features,
        on_sample=lambda _: types.append(soak_module.type_counts()),
    )
    assert [s.evals for s in samples] == [50, 100, 150]
    first, last = samples[0], samples[-1]
    # No growth; fewer is fine (a thread or file of an earlier test may still be closing).
    assert last.fds <= first.fds  # no file handle left open per run or per preview
    assert last.py_threads <= first.py_threads and last.os_threads <= first.os_threads
    assert last.tensors == first.tensors  # no tensor (graph, optimizer state) outlives its run
    assert soak_module.grown_types(types[0], types[-1], 50) == {}  # nothing kept per evaluation
    growth = last.trimmed_rss_mb - first.trimmed_rss_mb
    assert growth < 20.0, f"resident memory grew by {growth:.1f} MB over 100 evaluations"
