"""Fault matrix (issue 6), weights rows, end to end through the CLI: a wrong, damaged or hostile
weights file and a bad or broken download each end in one line and exit 2, and no half file is
ever used. The core-level cases are in tests/test_weights.py (see FAULTS.md).
"""

from __future__ import annotations

import hashlib
import pickle
from pathlib import Path

import pytest
import torch
from faults_helpers import FAST, LoopbackServer, cli_refuses, gradient, leftovers
from torch import nn

from nst_desktop.core import weights
from nst_desktop.core.weights import WeightsError, download, hub_checkpoint_path, load_weights

#: FAST without its --weights: each test here names its own weights.
TINY = [a for a in FAST if a not in ("--weights", "random")]


@pytest.fixture(scope="module")
def vgg16_file(tmp_path_factory) -> Path:
    """A real VGG16 ``features`` state dict: the classic wrong download (13 convs, not 16)."""
    layers: list[nn.Module] = []
    channels = 3
    for v in [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512]:
        if v == "M":
            layers.append(nn.MaxPool2d(2))
        else:
            layers += [nn.Conv2d(channels, v, 3, padding=1), nn.ReLU()]
            channels = v
    path = tmp_path_factory.mktemp("w") / "vgg16-397923af.pth"
    torch.save({f"features.{k}": v for k, v in nn.Sequential(*layers).state_dict().items()}, path)
    return path


@pytest.fixture(scope="module")
def pics(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("pics")
    gradient().save(d / "c.png")
    gradient(30, 30).save(d / "s.png")
    return d / "c.png", d / "s.png"


def test_weights_wrong_architecture(capsys, pics, tmp_path, vgg16_file):
    out = tmp_path / "o.png"
    line = cli_refuses(capsys, "transfer", *pics, "-o", out, *TINY, "--weights", vgg16_file)
    assert "vgg16-397923af.pth: this is not a VGG19 weights file (missing" in line
    assert "choose vgg19-dcbb9e9d.pth" in line
    assert not out.exists()


def test_weights_truncated_file(capsys, pics, tmp_path, vgg16_file):
    cut = tmp_path / "vgg19-cut.pth"
    data = vgg16_file.read_bytes()
    cut.write_bytes(data[: len(data) // 2])
    line = cli_refuses(capsys, "transfer", *pics, "-o", tmp_path / "o.png", *TINY,
                       "--weights", cut)  # fmt: skip
    assert "vgg19-cut.pth could not be read as a weights file (it may be truncated" in line
    assert line.endswith("download it again.")


class _Payload:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["torch.save", "plain pickle"])
def test_weights_pickle_that_would_run_code_does_not_run(capsys, pics, tmp_path, writer, recwarn):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    obj = {"features.0.weight": _Payload(marker)}
    if writer == "torch.save":
        torch.save(obj, path)
    else:
        path.write_bytes(pickle.dumps(obj))
    line = cli_refuses(capsys, "transfer", *pics, "-o", tmp_path / "o.png", *TINY,
                       "--weights", path)  # fmt: skip
    assert "evil.pth is not a VGG19 weights file: it holds more than plain numbers" in line
    assert line.endswith("choose a torchvision VGG19 .pth file.")
    assert "Unsupported" not in line and "operand" not in line
    assert not marker.exists()  # the payload never ran
    # torch's pickle-protocol UserWarning would be more lines on a real terminal's stderr.
    assert [str(w.message) for w in recwarn if issubclass(w.category, UserWarning)] == []
    with pytest.raises(WeightsError):
        load_weights(str(path))
    assert not marker.exists()


def _use_server(monkeypatch, url: str) -> None:
    """Point the torchvision download at the loopback server (nothing leaves the machine)."""
    monkeypatch.setitem(weights.load_torchvision.__kwdefaults__, "url", url)


def test_weights_download_with_a_wrong_hash(capsys, pics, tmp_path, monkeypatch):
    payload = b"\x00not the vgg19 file" * 100_000  # 1.9 MB whose SHA-256 is not dcbb9e9d...
    assert not hashlib.sha256(payload).hexdigest().startswith(weights.TORCHVISION_HASH_PREFIX)
    server = LoopbackServer({"/vgg19.pth": payload})
    try:
        _use_server(monkeypatch, server.url + "/vgg19.pth")
        line = cli_refuses(capsys, "transfer", *pics, "-o", tmp_path / "o.png", *TINY,
                           "--weights", "torchvision")  # fmt: skip
    finally:
        server.close()
    assert "The downloaded weights are damaged (SHA-256 " in line
    assert "expected dcbb9e9d...); nothing was kept." in line
    hub = hub_checkpoint_path()
    assert not hub.exists() and leftovers(hub.parent) == []


def test_weights_download_interrupted_halfway(capsys, pics, tmp_path, monkeypatch):
    payload = bytes(range(256)) * 12_000  # 3 MB, several chunks
    server = LoopbackServer({"/vgg19.pth": payload})
    try:
        _use_server(monkeypatch, server.url + "/short/vgg19.pth")
        line = cli_refuses(capsys, "transfer", *pics, "-o", tmp_path / "o.png", *TINY,
                           "--weights", "torchvision")  # fmt: skip
        assert "The download stopped after 1536000 of 3072000 bytes; try again." in line
        hub = hub_checkpoint_path()
        assert not hub.exists() and leftovers(hub.parent) == []

        # Ctrl-C (or any exception) in the middle of the transfer: the .part file goes too.
        def interrupt(done: int, total: int) -> None:
            if done > 0:
                raise KeyboardInterrupt

        with pytest.raises(KeyboardInterrupt):
            download(server.url + "/vgg19.pth", hub, hash_prefix=None, progress=interrupt)
        assert not hub.exists() and leftovers(hub.parent) == []
    finally:
        server.close()


def test_weights_half_file_left_by_a_killed_process_is_never_used(tmp_path):
    """A SIGKILL mid-download leaves NAME.xxxx.part behind; only the exact, verified name loads."""
    hub = hub_checkpoint_path()
    hub.parent.mkdir(parents=True)
    state = weights.load_random(3).features.state_dict()
    stale = hub.parent / f"{hub.name}.k1ll3d.part"
    torch.save(state, stale)  # even a complete, loadable file under the .part name
    with pytest.raises(WeightsError) as info:
        load_weights("torchvision", allow_download=False)
    assert str(info.value) == weights.missing_weights_message()
    assert not hub.exists() and not weights.features_cache_path().exists()
