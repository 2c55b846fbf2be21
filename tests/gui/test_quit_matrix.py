"""The quit matrix: the real window process, closed (window close or Ctrl+Q) during each phase,
three launches each, ends with status 0, nothing on stderr and an empty fault log.

The three launches of a phase run side by side to keep the matrix near a minute on two cores.
"""

from __future__ import annotations

import time

import pytest
from launch import launch, unexpected_stderr
from window_driver import PHASES

TRIES = 3


@pytest.mark.timeout(1200)
@pytest.mark.parametrize("phase", PHASES)
def test_closing_in_every_phase_exits_cleanly(phase, tmp_path):
    started = time.monotonic()
    launches = []
    for attempt in range(TRIES):
        home = tmp_path / f"try{attempt}"
        home.mkdir()
        launches.append(launch(home, NST_TEST_PHASE=phase, NST_TEST_TRY=str(attempt)))
    rows = []
    try:
        for attempt, run in enumerate(launches):
            code, out, err = run.finish()
            faults = run.fault_log.read_text() if run.fault_log.exists() else ""
            rows.append((attempt, code, out, unexpected_stderr(err), faults))
    finally:
        for run in launches:
            run.kill()
    print(f"{phase}: {time.monotonic() - started:.1f} s for {TRIES} launches")
    for attempt, code, out, err, faults in rows:
        print(f"  try {attempt}: exit {code}, stderr clean {not err}, fault log empty {not faults}")
        assert f"PHASE {phase}" in out.split("\n"), f"try {attempt} missed the phase: {out!r}"
        assert code == 0, (attempt, err)
        assert err == [], err
        assert faults == ""
