"""A chosen weights file is checked when chosen: not a VGG19 / custom weights / a published
network known by its hash."""

from __future__ import annotations

import dataclasses
import hashlib
from pathlib import Path

import pytest
import torch

from nst_desktop.core import weights as W


@pytest.fixture(scope="module")
def vgg19_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("w") / "my_vgg19.pth"
    torch.save(W.load_random(3).features.state_dict(), path)
    return path


def test_a_file_that_is_not_a_vgg19_is_told_so(tmp_path):
    other = tmp_path / "resnet.pth"
    torch.save({"conv1.weight": torch.zeros(4, 3, 7, 7)}, other)
    with pytest.raises(W.WeightsError, match="this is not a VGG19 weights file"):
        W.check_weights_file(other)
    not_a_dict = tmp_path / "list.pth"
    torch.save([torch.zeros(2)], not_a_dict)
    with pytest.raises(W.WeightsError, match="this is not a VGG19 weights file"):
        W.check_weights_file(not_a_dict)


def test_a_vgg19_that_is_not_published_is_custom_weights(vgg19_file):
    check = W.check_weights_file(vgg19_file)
    assert check.published is None
    assert check.label == "custom weights my_vgg19.pth"
    assert "Custom weights" in check.sentence and "published" in check.sentence
    assert W.load_file(vgg19_file).label.startswith("custom weights my_vgg19.pth (SHA-256 ")


def test_the_imagenet_file_is_known_by_its_hash(tmp_path, monkeypatch):
    fake = tmp_path / "vgg19-dcbb9e9d.pth"
    fake.write_bytes(b"a small stand-in for the 548 MB file")
    digest = hashlib.sha256(fake.read_bytes()).hexdigest()
    monkeypatch.setattr(W, "read_state_file", lambda path: {})
    monkeypatch.setattr(W, "features_state", lambda state, source: {})
    spec = dataclasses.replace(W.PUBLISHED["torchvision"], hash_prefix=digest[:8])
    monkeypatch.setitem(W.PUBLISHED, "torchvision", spec)
    check = W.check_weights_file(fake)
    assert (check.published, check.sentence) == ("torchvision", "")
    assert check.label == spec.label
