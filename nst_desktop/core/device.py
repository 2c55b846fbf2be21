"""Choosing where to compute: auto (CUDA, then MPS, then CPU) or an explicit device."""

from __future__ import annotations

from collections.abc import Callable

import torch

from .memguard import Reading

# torch's own thread count, read when the engine is first imported, before any run sets one.
# torch.set_num_threads acts on the calling thread only, so "auto" sets this count in every thread
# a run starts in: a worker thread and the main thread after a --threads 1 run would otherwise
# compute with different counts and give different pixels.
AUTO_THREADS = torch.get_num_threads()


class DeviceError(Exception):
    """The chosen device is not there; the message says what is."""


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def available_devices() -> list[tuple[str, str]]:
    """(settings value, label) for every usable device, best first."""
    found: list[tuple[str, str]] = []
    if torch.cuda.is_available():
        for i in range(torch.cuda.device_count()):
            found.append((f"cuda:{i}", f"GPU {i}: {torch.cuda.get_device_name(i)}"))
    if _mps_available():
        found.append(("mps", "Apple GPU (MPS)"))
    found.append(("cpu", "CPU"))
    return found


def resolve_device(name: str) -> torch.device:
    """The torch device for a settings value, or :class:`DeviceError` saying what exists."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda:0")
        if _mps_available():
            return torch.device("mps")
        return torch.device("cpu")
    if name == "cpu":
        return torch.device("cpu")
    here = ", ".join(value for value, _ in available_devices())
    if name == "mps":
        if _mps_available():
            return torch.device("mps")
        raise DeviceError(f"Apple's MPS is not available here; choose one of: auto, {here}.")
    if name == "cuda" or name.startswith("cuda:"):
        index = int(name.partition(":")[2] or 0)
        if torch.cuda.is_available() and index < torch.cuda.device_count():
            return torch.device(f"cuda:{index}")
        raise DeviceError(f"There is no CUDA device {name} here; choose one of: auto, {here}.")
    raise DeviceError(f"Unknown device '{name}'; choose one of: auto, {here}.")


def use_bfloat16(precision: str, device: torch.device) -> bool:
    """Whether to run the network in bfloat16 autocast.

    Runs started by the CLI or the window never get 'auto' here: the session resolves it by
    measurement first (core/precision.py). For direct engine callers (benchmarks, tests)
    'auto' is bfloat16 on CUDA GPUs with native bfloat16 and float32 elsewhere.
    """
    if precision == "bfloat16":
        return True
    if precision == "float32":
        return False
    if device.type == "cuda":
        return torch.cuda.is_bf16_supported()
    return False


def describe(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    if device.type == "mps":
        return "Apple GPU (MPS)"
    return f"CPU ({torch.get_num_threads()} threads)"


def memory_reader(device: torch.device) -> Callable[[], Reading | None] | None:
    """What the memory guard reads for a GPU (None for the CPU: the host's memory is read).

    CUDA: the driver's free memory (other programs included) plus what torch's allocator holds
    unused, against the device's total. MPS: Metal's recommended working set (beyond it the
    unified memory swaps) less what torch has allocated.
    """
    if device.type == "cuda":

        def cuda() -> Reading | None:
            try:
                free, total = torch.cuda.mem_get_info(device)
                cached = torch.cuda.memory_reserved(device) - torch.cuda.memory_allocated(device)
            except (RuntimeError, AssertionError, ValueError):
                return None
            return Reading(int(free + cached), int(total), "GPU memory")

        return cuda
    if device.type == "mps":

        def mps() -> Reading | None:
            try:
                limit = int(torch.mps.recommended_max_memory())
                used = int(torch.mps.current_allocated_memory())
            except (AttributeError, RuntimeError):
                return None
            return Reading(limit - used, limit, "GPU memory")

        return mps
    return None
