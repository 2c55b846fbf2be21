"""The memory guard: ends a run with an out-of-memory failure before the computer starts swapping.

A run of a huge image grows its memory for minutes (the targets, then the first evaluation); once
the kernel swaps, the whole machine stalls and the run never ends by itself. The guard keeps a
*reserve* free on every memory it watches and ends the run when the reserve would be touched:

* the host (Linux): ``MemAvailable`` of ``/proc/meminfo`` (what can be allocated without
  swapping); the reserve is ``max(1 GiB, 5 % of MemTotal)``;
* a CUDA device: the driver's free memory plus what torch's allocator holds but does not use,
  against the device's total, with the same rule for the reserve;
* Apple's MPS: torch's allocated memory against Metal's recommended working set (beyond it, the
  unified memory swaps), same reserve rule.

It acts in two ways: a watchdog thread samples every :data:`INTERVAL_S` seconds and stops the run
(the session's stop flag, honoured between layers, styles, scales and evaluations); and before
each layer of the network the pass asks :meth:`MemoryGuard.headroom` how much it may still
allocate, so one huge allocation (a 17 GB first layer at 8192 px) is refused before it is made.

``NST_DESKTOP_MEMORY_RESERVE_MB`` overrides the reserve (in MiB): more keeps more free for other
programs. No torch here: the device readers are built in ``optimize``.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass

log = logging.getLogger(__name__)

#: Seconds between the watchdog's samples.
INTERVAL_S = 0.2
#: The reserve is the larger of these: a floor, and a share of the memory's total.
RESERVE_FLOOR = 2**30
RESERVE_SHARE = 0.05
RESERVE_ENV = "NST_DESKTOP_MEMORY_RESERVE_MB"


@dataclass(frozen=True)
class Reading:
    """One memory's state: what can still be allocated without swapping, and its total."""

    available: int
    total: int
    name: str = "memory"  # "memory" (the computer's) or "GPU memory"


Reader = Callable[[], Reading | None]


def reserve_bytes(total: int) -> int:
    """What the guard keeps free of a memory of ``total`` bytes (see the module docstring)."""
    override = os.environ.get(RESERVE_ENV, "").strip()
    if override:
        try:
            return max(0, int(float(override) * 2**20))
        except ValueError:
            log.warning("ignoring %s=%r: not a number of MiB", RESERVE_ENV, override)
    return max(RESERVE_FLOOR, int(RESERVE_SHARE * total))


def host_reading() -> Reading | None:
    """The computer's memory from /proc/meminfo (Linux); None elsewhere or when unreadable."""
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            text = f.read(512)  # MemTotal and MemAvailable are its first and third lines
    except OSError:
        return None
    found: dict[str, int] = {}
    for line in text.splitlines():
        key, _, rest = line.partition(":")
        if key in ("MemAvailable", "MemTotal"):
            try:
                found[key] = int(rest.split()[0]) * 1024
            except (ValueError, IndexError):
                return None
    if len(found) < 2:
        return None
    return Reading(found["MemAvailable"], found["MemTotal"])


def process_rss() -> int | None:
    """This process's resident memory in bytes (Linux: /proc/self/statm), None if unknown."""
    try:
        with open("/proc/self/statm", encoding="ascii") as f:
            pages = int(f.read().split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return pages * os.sysconf("SC_PAGE_SIZE")


def amount(n: int) -> str:
    """Bytes in words: "17.3 GB", "240 MB"."""
    return f"{n / 2**30:.1f} GB" if n >= 2**30 else f"{max(1, round(n / 2**20))} MB"


class MemoryGuardError(MemoryError):
    """The guard ended the run; ``str()`` says which memory ran low, in plain words."""

    def __init__(self, reading: Reading, reserve: int, needed: int = 0) -> None:
        self.reading, self.reserve, self.needed = reading, reserve, needed
        if needed:
            text = (
                f"the next step needs about {amount(needed)} of {reading.name} but only "
                f"{amount(max(0, reading.available))} is free"
            )
        else:
            text = f"only {amount(max(0, reading.available))} of {reading.name} was left free"
        super().__init__(
            f"{text} (the guard keeps {amount(reserve)} free so the computer does not swap)"
        )

    def sentence(self, outcome: str, *, cli: bool = False) -> str:
        """The one-sentence failure: ``outcome`` says what became of the run (", so the run
        stopped and kept ..." or " before the run began")."""
        remedy = "--size" if cli else "the size"
        adam = "--optimizer adam" if cli else "Adam instead of L-BFGS"
        ways = f"lower {remedy}, use {adam}, or close other programs"
        return f"Out of memory: {self}{outcome}; {ways}."


class MemoryGuard:
    """Watches one compute memory (and optionally the host's too) for a run.

    ``compute``: the memory the network's tensors live in (the host's on the CPU, the device's
    on a GPU); ``others``: memories that are only watched. ``on_trip`` is called once, from the
    thread that noticed, with the error (the session stops the run with it).
    """

    def __init__(
        self,
        compute: Reader | None,
        others: tuple[Reader, ...] = (),
        *,
        on_trip: Callable[[MemoryGuardError], None] | None = None,
        interval: float = INTERVAL_S,
    ) -> None:
        self.compute = compute
        self.others = others
        self.on_trip = on_trip
        self.interval = interval
        self.error: MemoryGuardError | None = None
        self.peak_rss = process_rss() or 0
        self._lock = threading.Lock()
        self._quit = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def for_host(cls, **kwargs) -> MemoryGuard:
        return cls(host_reading, **kwargs)

    # ------------------------------------------------------------------ checks
    def headroom(self) -> int | None:
        """Bytes the compute memory can still take before the reserve; None if unknown.

        Raises :class:`MemoryGuardError` when there is none (or the guard has tripped).
        """
        if self.error is not None:
            raise self.error
        reading = self.compute() if self.compute is not None else None
        if reading is None:
            return None
        reserve = reserve_bytes(reading.total)
        if reading.available < reserve:
            self._trip(MemoryGuardError(reading, reserve))
            self.check()
        return reading.available - reserve

    def refuse(self, needed: int) -> None:
        """A pass is about to allocate ``needed`` bytes more than :meth:`headroom` allows."""
        reading = self.compute() if self.compute is not None else None
        if reading is not None:
            self._trip(MemoryGuardError(reading, reserve_bytes(reading.total), needed))
        self.check()

    def check(self) -> None:
        """Raise the guard's error if any watched memory is below its reserve."""
        if self.error is None:
            self._sample()
        if self.error is not None:
            raise self.error

    def _sample(self) -> None:
        rss = process_rss()
        if rss is not None and rss > self.peak_rss:
            self.peak_rss = rss
        for reader in (self.compute, *self.others):
            reading = reader() if reader is not None else None
            if reading is None:
                continue
            reserve = reserve_bytes(reading.total)
            if reading.available < reserve:
                self._trip(MemoryGuardError(reading, reserve))
                return

    def _trip(self, error: MemoryGuardError) -> None:
        with self._lock:
            if self.error is not None:
                return
            self.error = error
        log.warning("memory guard: %s (peak RSS %d MB)", error, self.peak_rss >> 20)
        if self.on_trip is not None:
            self.on_trip(error)

    # ------------------------------------------------------------------ the watchdog
    def start(self) -> MemoryGuard:
        """Start the watchdog thread (stopped and joined by :meth:`close`)."""
        if self._thread is None:
            self._thread = threading.Thread(target=self._watch, name="memory-guard", daemon=True)
            self._thread.start()
        return self

    def _watch(self) -> None:
        while not self._quit.wait(self.interval):
            try:
                self._sample()
            except Exception:  # noqa: BLE001 - a failing reader must not end the run
                log.exception("memory guard: a reading failed")
                return
            if self.error is not None:
                return

    def close(self) -> None:
        self._quit.set()
        thread, self._thread = self._thread, None
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout=5)
        rss = process_rss()
        if rss is not None and rss > self.peak_rss:
            self.peak_rss = rss

    def __enter__(self) -> MemoryGuard:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


__all__ = [
    "MemoryGuard",
    "MemoryGuardError",
    "Reading",
    "host_reading",
    "process_rss",
    "reserve_bytes",
]
