"""Weights: random, from files (good and hostile), the features-only cache, and the download path.

Downloads go to an HTTP server this module starts on 127.0.0.1; nothing leaves the machine.
"""

from __future__ import annotations

import dataclasses
import hashlib
import itertools
import pickle
from pathlib import Path

import pytest
import torch

from nst_desktop.core import weights
from nst_desktop.core.weights import (
    DownloadCancelled,
    WeightsError,
    download,
    features_cache_path,
    hub_checkpoint_path,
    load_torchvision,
    load_weights,
    missing_weights_message,
    torchvision_weights_available,
)


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def state() -> dict[str, torch.Tensor]:
    """A full-size VGG19 features state dict (about 80 MB) with distinctive values."""
    return weights.load_random(7).features.state_dict()


@pytest.fixture(scope="module")
def features_only_file(tmp_path_factory, state) -> Path:
    path = tmp_path_factory.mktemp("w") / "features.pth"
    torch.save(state, path)
    return path


@pytest.fixture(scope="module")
def full_file(tmp_path_factory, state) -> Path:
    """torchvision layout: 'features.N.*' plus a (tiny stand-in) classifier."""
    full = {f"features.{k}": v for k, v in state.items()}
    full["classifier.0.weight"] = torch.zeros(4, 8)
    full["classifier.0.bias"] = torch.zeros(4)
    path = tmp_path_factory.mktemp("w") / "vgg19-full.pth"
    torch.save(full, path)
    return path


def _same(features: torch.nn.Sequential, state: dict[str, torch.Tensor]) -> bool:
    got = features.state_dict()
    return got.keys() == state.keys() and all(torch.equal(got[k], state[k]) for k in state)


def _one_sentence(text: str) -> bool:
    return "\n" not in text and "Traceback" not in text and len(text) < 400


# ----------------------------------------------------------------- random
def test_random_is_seeded_and_labelled_untrained():
    a, b, c = weights.load_random(1), weights.load_random(1), weights.load_random(2)
    assert _same(a.features, b.features.state_dict())
    assert not _same(a.features, c.features.state_dict())
    assert not a.trained and "untrained" in a.label and "seed 1" in a.label
    w = a.features[0].weight
    assert 0.02 < float(w.detach().std()) < 0.5
    assert float(a.features[0].bias.detach().abs().max()) == 0.0
    assert load_weights("random", seed=1).label == a.label


# ----------------------------------------------------------------- files
def test_features_only_file(features_only_file, state):
    loaded = load_weights(str(features_only_file))
    assert loaded.trained and features_only_file.name in loaded.label
    assert _same(loaded.features, state)


def test_full_torchvision_file(full_file, state):
    assert _same(load_weights(str(full_file)).features, state)


def test_wrapped_and_prefixed_state_dicts(tmp_path, state):
    path = tmp_path / "wrapped.pt"
    torch.save({"state_dict": {f"module.features.{k}": v for k, v in state.items()}}, path)
    assert _same(load_weights(str(path)).features, state)


def _bad(tmp_path: Path, obj, name: str = "bad.pth") -> Path:
    path = tmp_path / name
    torch.save(obj, path)
    return path


def test_wrong_shapes(tmp_path, state):
    bad = dict(state)
    bad["0.weight"] = torch.zeros(32, 3, 3, 3)
    with pytest.raises(WeightsError, match="shape") as info:
        load_weights(str(_bad(tmp_path, bad)))
    assert _one_sentence(str(info.value))


def test_missing_keys_vgg16_like(tmp_path, state):
    # VGG16 has 13 convolutions: its features have no 16.*, 34.* etc. at these indices.
    bad = {k: v for k, v in state.items() if not k.startswith(("32.", "34."))}
    with pytest.raises(WeightsError, match="missing") as info:
        load_weights(str(_bad(tmp_path, bad)))
    assert _one_sentence(str(info.value))


@pytest.mark.parametrize(
    "obj",
    [[1, 2, 3], {"a": 1}, torch.zeros(3), {"0.weight": "text"}],
    ids=["list", "dict", "tensor", "non-tensor values"],
)
def test_not_a_state_dict(tmp_path, obj):
    with pytest.raises(WeightsError) as info:
        load_weights(str(_bad(tmp_path, obj)))
    assert _one_sentence(str(info.value))


def test_integer_tensors_refused(tmp_path, state):
    bad = {k: v.to(torch.int32) for k, v in state.items()}
    with pytest.raises(WeightsError, match="floating"):
        load_weights(str(_bad(tmp_path, bad)))


def test_truncated_file(tmp_path, features_only_file):
    data = features_only_file.read_bytes()
    path = tmp_path / "truncated.pth"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(WeightsError, match="truncated") as info:
        load_weights(str(path))
    assert _one_sentence(str(info.value))


@pytest.mark.parametrize("content", [b"", b"hello, not a pickle", b"PK\x03\x04broken zip"])
def test_garbage_files(tmp_path, content):
    path = tmp_path / "garbage.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError) as info:
        load_weights(str(path))
    assert _one_sentence(str(info.value))


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(WeightsError, match="does not exist"):
        load_weights(str(tmp_path / "nope.pth"))
    with pytest.raises(WeightsError):
        load_weights(str(tmp_path))


class _Payload:
    """Unpickling this would create a file: the proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, "w"))


@pytest.mark.parametrize("writer", ["torch", "pickle"])
def test_hostile_pickle_does_not_run(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.pth"
    obj = {"0.weight": _Payload(marker)}
    if writer == "torch":
        torch.save(obj, path)
    else:
        path.write_bytes(pickle.dumps(obj))
    with pytest.raises(WeightsError) as info:
        load_weights(str(path))
    assert not marker.exists()
    assert _one_sentence(str(info.value))


# ----------------------------------------------------------------- torchvision file and cache
def test_no_weights_no_network_names_the_path():
    assert not torchvision_weights_available()
    with pytest.raises(WeightsError) as info:
        load_weights("torchvision", allow_download=False)
    text = str(info.value)
    assert str(hub_checkpoint_path()) in text and "vgg19-dcbb9e9d.pth" in text
    assert _one_sentence(text) and text == missing_weights_message()


def test_download_refused_by_the_network_names_the_path():
    with pytest.raises(WeightsError) as info:
        load_torchvision(url="http://127.0.0.1:9/vgg19.pth")  # discard port: refused
    assert str(hub_checkpoint_path()) in str(info.value)
    assert not hub_checkpoint_path().exists()
    assert not list(hub_checkpoint_path().parent.glob("*.part"))


def test_hub_checkpoint_honours_torch_home(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "th"))
    assert hub_checkpoint_path() == tmp_path / "th" / "hub" / "checkpoints" / "vgg19-dcbb9e9d.pth"


def test_features_cache_is_made_after_a_torchvision_load(full_file, state):
    hub = hub_checkpoint_path()
    hub.parent.mkdir(parents=True)
    hub.write_bytes(full_file.read_bytes())
    assert torchvision_weights_available() and not features_cache_path().exists()
    first = load_weights("torchvision", allow_download=False)
    assert first.trained and "torchvision" in first.label
    assert _same(first.features, state)
    cache = features_cache_path()
    assert cache.is_file()
    assert cache.stat().st_size < hub.stat().st_size + 1  # features only, never bigger
    assert set(torch.load(cache, weights_only=True)) == set(state)
    hub.unlink()  # later starts need only the cache
    assert _same(load_weights("torchvision", allow_download=False).features, state)
    assert not list(cache.parent.glob("*.part"))


def test_damaged_cache_is_rebuilt_from_the_hub_file(full_file, state):
    hub = hub_checkpoint_path()
    hub.parent.mkdir(parents=True)
    hub.write_bytes(full_file.read_bytes())
    cache = features_cache_path()
    cache.parent.mkdir(parents=True, exist_ok=True)
    cache.write_bytes(b"damaged")
    assert _same(load_weights("torchvision", allow_download=False).features, state)
    assert cache.stat().st_size > 1000


# ----------------------------------------------------------------- download
def _publish(monkeypatch, source: str, data: bytes) -> None:
    """Make ``data`` the published file of ``source`` (its hash is what the download checks)."""
    spec = dataclasses.replace(weights.PUBLISHED[source], hash_prefix=_prefix(data))
    monkeypatch.setitem(weights.PUBLISHED, source, spec)


def _prefix(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:8]


PAYLOAD = bytes(range(256)) * 12_000  # 3 MB: more than one progress report
PREFIX = hashlib.sha256(PAYLOAD).hexdigest()[:8]


@pytest.fixture
def server(serve_files):
    return serve_files({"/w.pth": PAYLOAD})


def _leftovers(folder: Path) -> list[Path]:
    return sorted(folder.iterdir()) if folder.exists() else []


def test_download_good_hash(server, tmp_path):
    dest = tmp_path / "dl" / "w.pth"
    calls: list[tuple[int, int]] = []
    out = download(
        server.url + "/w.pth", dest, hash_prefix=PREFIX, progress=lambda d, t: calls.append((d, t))
    )
    assert out == dest and dest.read_bytes() == PAYLOAD
    assert calls[-1] == (len(PAYLOAD), len(PAYLOAD))
    # Reads return at most 1 MiB and a report follows each MiB, so no gap reaches 2 MiB,
    # however the bytes happen to arrive.
    done = [0] + [d for d, _ in calls]
    gaps = [b - a for a, b in itertools.pairwise(done)]
    assert len(calls) >= 2 and all(0 < g < 2 << 20 for g in gaps), gaps
    assert _leftovers(dest.parent) == [dest]


def test_download_bad_hash_keeps_nothing(server, tmp_path):
    dest = tmp_path / "dl" / "w.pth"
    with pytest.raises(WeightsError, match="damaged") as info:
        download(server.url + "/w.pth", dest, hash_prefix="00000000")
    assert _one_sentence(str(info.value))
    assert _leftovers(dest.parent) == []


def test_download_interrupted_keeps_nothing(server, tmp_path):
    dest = tmp_path / "dl" / "w.pth"
    for prefix in (PREFIX, None):  # without a hash to catch it, the length check must
        with pytest.raises(WeightsError) as info:
            download(server.url + "/short/w.pth", dest, hash_prefix=prefix)
        assert _one_sentence(str(info.value))
        assert _leftovers(dest.parent) == []


def test_download_cancelled_keeps_nothing(server, tmp_path):
    dest = tmp_path / "dl" / "w.pth"
    seen = []
    with pytest.raises(DownloadCancelled):
        download(
            server.url + "/w.pth",
            dest,
            hash_prefix=PREFIX,
            progress=lambda d, t: seen.append(d),
            cancelled=lambda: len(seen) >= 1,
        )
    assert _leftovers(dest.parent) == []


def test_download_404_is_one_sentence(server, tmp_path):
    dest = tmp_path / "dl" / "w.pth"
    with pytest.raises(WeightsError) as info:
        download(server.url + "/missing.pth", dest, hash_prefix=PREFIX)
    assert _one_sentence(str(info.value))
    assert _leftovers(dest.parent) == []


def test_torchvision_load_downloads_then_caches(full_file, state, monkeypatch, serve_files):
    data = full_file.read_bytes()
    srv = serve_files({"/vgg19.pth": data})
    _publish(monkeypatch, "torchvision", data)
    calls = []
    loaded = load_torchvision(
        url=srv.url + "/vgg19.pth", progress=lambda d, t: calls.append((d, t))
    )
    assert _same(loaded.features, state)
    assert hub_checkpoint_path().read_bytes() == data
    assert features_cache_path().is_file()
    assert calls and calls[-1] == (len(data), len(data))
