"""Choosing where to compute: auto (CUDA, then MPS, then CPU) or an explicit device."""

from __future__ import annotations

import torch


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
