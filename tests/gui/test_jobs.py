"""Background jobs: non-daemon threads, cancellable, tracked, joined with a bounded wait."""

from __future__ import annotations

import threading
import time

from nst_desktop.gui.jobs import BackgroundJob, cancel_and_join_all, running_jobs


def test_a_job_reports_its_result_in_the_gui_thread(qtbot):
    seen = {}

    def work(job):
        seen["thread"] = threading.current_thread()
        job.report(0.5)
        return 42

    job = BackgroundJob("planner-probe", work)
    got, progress = [], []
    job.progressed.connect(progress.append)
    job.succeeded.connect(got.append)
    with qtbot.waitSignal(job.ended, timeout=5000):
        job.start()
    qtbot.waitUntil(lambda: got == [42])
    assert progress == [0.5]
    assert seen["thread"].name == "planner-probe" and not seen["thread"].daemon
    assert job.join(1) and running_jobs() == []


def test_cancel_and_join_all_stops_every_job_within_the_wait(qtbot):
    started = threading.Event()

    def patient(job):
        started.set()
        while not job.cancelled:
            time.sleep(0.01)
        return "cancelled"

    jobs = [BackgroundJob("weights-download", patient).start() for _ in range(2)]
    assert started.wait(5) and len(running_jobs()) == 2
    assert cancel_and_join_all(timeout=5) == []  # none left when the wait ended
    assert not any(j.is_alive() for j in jobs)


def test_a_job_that_does_not_listen_is_named_not_waited_for_forever(qtbot):
    release = threading.Event()
    job = BackgroundJob("engine-loader", lambda job: release.wait(10)).start()
    try:
        assert cancel_and_join_all(timeout=0.2) == ["engine-loader"]
    finally:
        release.set()
        assert job.join(5)


def test_a_failure_is_reported_not_raised(qtbot):
    def broken(job):
        raise ValueError("no")

    job = BackgroundJob("planner-probe", broken)
    errors = []
    job.failed.connect(errors.append)
    with qtbot.waitSignal(job.ended, timeout=5000):
        job.start()
    qtbot.waitUntil(lambda: len(errors) == 1)
    assert isinstance(errors[0], ValueError)
