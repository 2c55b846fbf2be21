"""Device choice: auto, explicit devices that exist or not, bfloat16 policy."""

from __future__ import annotations

import pytest
import torch

from nst_desktop.core import device as D
from nst_desktop.core.device import DeviceError, available_devices, resolve_device, use_bfloat16


def test_cpu_always_there():
    assert resolve_device("cpu") == torch.device("cpu")
    assert available_devices()[-1] == ("cpu", "CPU")
    assert "CPU" in D.describe(torch.device("cpu"))


def test_auto_prefers_cuda_then_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(D, "_mps_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    monkeypatch.setattr(D, "_mps_available", lambda: True)
    assert resolve_device("auto") == torch.device("mps")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert resolve_device("auto") == torch.device("cuda:0")


@pytest.mark.parametrize("name", ["cuda", "cuda:3", "mps", "tpu"])
def test_missing_devices_are_one_sentence(monkeypatch, name):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(D, "_mps_available", lambda: False)
    with pytest.raises(DeviceError) as info:
        resolve_device(name)
    text = str(info.value)
    assert "\n" not in text and "cpu" in text


def test_cuda_index_past_the_count(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    monkeypatch.setattr(torch.cuda, "device_count", lambda: 1)
    monkeypatch.setattr(torch.cuda, "get_device_name", lambda i=0: "Fake GPU")
    assert resolve_device("cuda:0") == torch.device("cuda:0")
    with pytest.raises(DeviceError, match="cuda:1"):
        resolve_device("cuda:1")


def test_bfloat16_policy(monkeypatch):
    cpu = torch.device("cpu")
    assert use_bfloat16("bfloat16", cpu) and not use_bfloat16("float32", cpu)
    assert not use_bfloat16("auto", cpu)
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert use_bfloat16("auto", torch.device("cuda:0"))
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert not use_bfloat16("auto", torch.device("cuda:0"))
