"""The Caffe VGG19: its input convention, its recognition, its download, and the weights' labels.

The real file cannot be downloaded here: every test writes a random VGG19 of its own and, where
the published hash matters, makes that file's hash the published one for the test.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
import shutil
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from nst_desktop import cli
from nst_desktop.core import weights
from nst_desktop.core.images import read_metadata
from nst_desktop.core.model import VGGFeatures
from nst_desktop.core.weights import (
    CAFFE_FILENAME,
    DownloadCancelled,
    WeightsError,
    features_cache_path,
    file_sha256,
    hub_checkpoint_path,
    load_published,
    load_weights,
)


@pytest.fixture(scope="module")
def caffe_file(tmp_path_factory) -> Path:
    """A random VGG19 in the Caffe file's layout: ``features.N`` plus a (tiny) classifier."""
    state = weights.load_random(11).features.state_dict()
    full = {f"features.{k}": v for k, v in state.items()}
    full["classifier.1.weight"] = torch.zeros(4, 8)  # the original file's key names
    full["classifier.1.bias"] = torch.zeros(4)
    path = tmp_path_factory.mktemp("caffe") / "my-caffe-vgg19.pth"
    torch.save(full, path)
    return path


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _publish(monkeypatch, data_or_path: bytes | Path, **changes) -> None:
    """Make this file the published Caffe VGG19 (its hash is what recognition checks)."""
    data = data_or_path.read_bytes() if isinstance(data_or_path, Path) else data_or_path
    prefix = hashlib.sha256(data).hexdigest()[:8]
    spec = dataclasses.replace(weights.PUBLISHED["caffe"], hash_prefix=prefix, **changes)
    monkeypatch.setitem(weights.PUBLISHED, "caffe", spec)


# ----------------------------------------------------------------- the input convention
def _first_conv_input(features, image: torch.Tensor) -> torch.Tensor:
    model = VGGFeatures(features, ["relu1_1"])
    seen = []
    handle = model.body[0].register_forward_hook(lambda m, args, out: seen.append(args[0]))
    model(image)
    handle.remove()
    return seen[0]


def test_the_extractor_feeds_a_caffe_file_bgr_0_255_minus_the_mean(caffe_file):
    features = load_weights(str(caffe_file), fmt="caffe").features
    assert features.convention == "caffe"
    image = torch.rand(1, 3, 8, 8, generator=torch.Generator().manual_seed(2))
    got = _first_conv_input(features, image)
    r, g, b = image[0]
    expected = torch.stack([b * 255 - 103.939, g * 255 - 116.779, r * 255 - 123.68])[None]
    assert torch.allclose(got, expected, atol=1e-4)
    # the same file read as torchvision's: RGB, ImageNet mean and std
    plain = load_weights(str(caffe_file), fmt="torchvision").features
    got = _first_conv_input(plain, image)
    mean = torch.tensor([0.485, 0.456, 0.406]).view(3, 1, 1)
    std = torch.tensor([0.229, 0.224, 0.225]).view(3, 1, 1)
    assert torch.allclose(got, ((image[0] - mean) / std)[None], atol=1e-6)


def test_the_convention_survives_the_move_to_a_device(caffe_file):
    features = load_weights(str(caffe_file), fmt="caffe").features.to("cpu")
    assert VGGFeatures(features, ["relu1_1"]).convention == "caffe"


# ----------------------------------------------------------------- through the command line
@pytest.fixture(scope="module")
def pics(tmp_path_factory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("pics")
    y, x = np.mgrid[0:32, 0:40]
    Image.fromarray(np.stack([x * 6, y * 7, 200 - x * 2], -1).astype(np.uint8)).save(d / "c.png")
    noise = np.random.default_rng(3).integers(0, 256, (24, 24, 3), dtype=np.uint8)
    Image.fromarray(noise).save(d / "s.png")
    return d / "c.png", d / "s.png"


def _transfer(pics, out: Path, *extra) -> np.ndarray:
    c, s = pics
    argv = ["transfer", str(c), str(s), "-o", str(out), "-q", "--size", "32", "--steps", "3"]
    assert cli.main([*argv, *map(str, extra)]) == 0
    return np.asarray(Image.open(out).convert("RGB"))


def test_a_caffe_file_runs_through_the_cli_and_is_named(pics, caffe_file, tmp_path):
    caffe = _transfer(
        pics, tmp_path / "a.png", "--weights", caffe_file, "--weights-format", "caffe"
    )
    meta = read_metadata(tmp_path / "a.png")
    assert meta["settings"]["weights_format"] == "caffe"
    label = meta["weights"]
    assert caffe_file.name in label and _sha(caffe_file)[:8] in label and "Caffe input" in label
    # the format reaches the network: the same file read as torchvision's paints another picture
    plain = _transfer(pics, tmp_path / "b.png", "--weights", caffe_file)
    assert "Caffe" not in read_metadata(tmp_path / "b.png")["weights"]
    assert not np.array_equal(caffe, plain)


def test_weights_caffe_without_network_is_one_sentence(pics, tmp_path, monkeypatch, capsys):
    _publish(monkeypatch, b"x", url="http://127.0.0.1:9/vgg19-d01eb7cb.pth")  # refused at once
    c, s = pics
    code = cli.main(["transfer", str(c), str(s), "-o", str(tmp_path / "o.png"), "-q",
                     "--weights", "caffe"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert str(hub_checkpoint_path("caffe")) in err and "Caffe VGG19" in err
    assert hub_checkpoint_path("caffe").name == CAFFE_FILENAME


# ----------------------------------------------------------------- recognition and labels
def test_the_published_file_is_recognised_by_its_hash(caffe_file, monkeypatch):
    _publish(monkeypatch, caffe_file)
    loaded = load_weights(str(caffe_file))  # format 'auto'
    assert loaded.features.convention == "caffe"
    assert loaded.label == f"Caffe VGG19 (file {caffe_file.name})"
    forced = load_weights(str(caffe_file), fmt="torchvision")
    assert forced.features.convention == "torchvision" and "torchvision input" in forced.label


def test_neural_style_pt_copy_is_recognised_by_its_name(caffe_file, tmp_path):
    # neural-style-pt re-saves the download under the same name with renamed classifier keys
    copy = tmp_path / CAFFE_FILENAME
    shutil.copy(caffe_file, copy)
    loaded = load_weights(str(copy))
    assert loaded.features.convention == "caffe"
    assert loaded.label == (
        f"custom weights {CAFFE_FILENAME} (SHA-256 {_sha(copy)[:8]}, Caffe input)"
    )


def test_other_files_take_torchvision_input_and_name_their_hash(caffe_file):
    loaded = load_weights(str(caffe_file))
    assert loaded.features.convention == "torchvision"
    assert loaded.label == f"custom weights {caffe_file.name} (SHA-256 {_sha(caffe_file)[:8]})"
    assert load_weights("random").label == "random (untrained, seed 0)"
    random_caffe = load_weights("random", fmt="caffe")
    assert random_caffe.features.convention == "caffe" and "untrained" in random_caffe.label


def test_a_file_is_hashed_once_until_it_changes(tmp_path, monkeypatch):
    path = tmp_path / "w.pth"
    path.write_bytes(b"weights" * 1000)
    calls = []
    hash_file = weights._file_sha256

    def counting(p):
        calls.append(p)
        return hash_file(p)

    monkeypatch.setattr(weights, "_file_sha256", counting)
    real = hashlib.sha256
    digest = real(path.read_bytes()).hexdigest()
    assert file_sha256(path) == digest and len(calls) == 1
    assert file_sha256(path) == digest and len(calls) == 1  # remembered
    path.write_bytes(b"other" * 1000)
    os.utime(path, ns=(1, 1))
    assert file_sha256(path) == real(path.read_bytes()).hexdigest() and len(calls) == 2
    # a damaged or hostile record is ignored, never trusted
    record = weights.cache_dir() / weights.HASHES_NAME
    st = path.stat()
    stamp = f'[{st.st_size}, {st.st_mtime_ns}, "0000"]'
    for junk in ("{oops", "[1, 2]", f'{{"{path.resolve()}": {stamp}}}', '{"a": {"b": 1}}'):
        record.write_text(junk)
        assert file_sha256(path) == real(path.read_bytes()).hexdigest()
    record.write_bytes(b" " * (weights.MAX_HASH_RECORD_BYTES + 1))
    assert file_sha256(path) == real(path.read_bytes()).hexdigest()


def test_the_hash_record_stays_small(tmp_path):
    for i in range(weights.MAX_HASHES + 5):
        f = tmp_path / f"w{i}.pth"
        f.write_bytes(bytes([i]))
        file_sha256(f)
    record = weights.cache_dir() / weights.HASHES_NAME
    assert len(weights._read_hashes()) == weights.MAX_HASHES
    assert record.stat().st_size < weights.MAX_HASH_RECORD_BYTES


# ----------------------------------------------------------------- the download
def test_caffe_download_checks_the_hash_then_caches(caffe_file, monkeypatch, serve_files):
    data = caffe_file.read_bytes()
    srv = serve_files(
        {"/vgg19-d01eb7cb.pth": data, "/other.pth": data[:-1] + bytes([data[-1] ^ 1])}
    )
    _publish(monkeypatch, data)
    with pytest.raises(WeightsError, match="damaged"):
        load_published("caffe", url=srv.url + "/other.pth")
    hub = hub_checkpoint_path("caffe")
    assert not hub.exists() and not list(hub.parent.glob("*"))
    with pytest.raises(DownloadCancelled):
        load_published("caffe", url=srv.url + "/vgg19-d01eb7cb.pth", cancelled=lambda: True)
    assert not hub.exists()
    calls = []
    loaded = load_published(
        "caffe", url=srv.url + "/vgg19-d01eb7cb.pth", progress=lambda d, t: calls.append((d, t))
    )
    assert calls[-1] == (len(data), len(data))
    assert hub.read_bytes() == data and hub.name == CAFFE_FILENAME
    assert (
        loaded.features.convention == "caffe" and loaded.label == "Caffe VGG19" and loaded.trained
    )
    cache = features_cache_path("caffe")
    assert cache.is_file() and cache != features_cache_path("torchvision")
    hub.unlink()  # later starts need only the features cache
    again = load_weights("caffe", allow_download=False)
    assert again.features.convention == "caffe"
    assert all(
        torch.equal(a, b)
        for a, b in zip(
            again.features.state_dict().values(),
            loaded.features.state_dict().values(),
            strict=True,
        )
    )
