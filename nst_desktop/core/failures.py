"""How a run ends and why it failed, in a module without torch so the window can import it early.

Front ends choose their way forward (a smaller size, the CPU) from the kind, never by reading the
words of a message. Both are StrEnums: metadata, logs and JSON keep the plain strings.
"""

from __future__ import annotations

from enum import StrEnum


class RunStatus(StrEnum):
    """Where a run stands; every status but RUNNING ends it."""

    RUNNING = "running"
    DONE = "done"
    STOPPED = "stopped"
    NONFINITE = "nonfinite"  # the loss became infinite or NaN
    ERROR = "error"  # the computation failed after it began (see Failure)
    FAILED = "failed"  # the run never began: bad input, no weights, no device

    @property
    def final(self) -> bool:
        return self is not RunStatus.RUNNING


class Failure(StrEnum):
    """Why a run failed; INPUT is the user's to fix (a file, a setting, the weights, a device)."""

    INPUT = "input"
    OUT_OF_MEMORY = "out-of-memory"
    DEVICE_LOST = "device-lost"
    COMPUTATION = "computation"


OUT_OF_MEMORY = Failure.OUT_OF_MEMORY
DEVICE_LOST = Failure.DEVICE_LOST
COMPUTATION = Failure.COMPUTATION
