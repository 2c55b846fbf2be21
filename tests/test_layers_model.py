"""The layer table against torchvision's VGG19, and the feature extractor built from it."""

from __future__ import annotations

import pytest
import torch
import torchvision
from torch import nn

from nst_desktop.core import layers
from nst_desktop.core.model import IMAGENET_MEAN, IMAGENET_STD, VGGFeatures
from nst_desktop.core.weights import load_random

KIND = {"conv": nn.Conv2d, "relu": nn.ReLU, "pool": nn.MaxPool2d}


@pytest.fixture(scope="module")
def tv_features() -> nn.Sequential:
    """torchvision's own vgg19().features (untrained; building it once costs ~2 s)."""
    return torchvision.models.vgg19(weights=None).features


@pytest.fixture(scope="module")
def features() -> nn.Sequential:
    return load_random(0).features


def test_layer_names_match_torchvision_module_types(tv_features):
    assert len(layers.LAYER_NAMES) == len(tv_features) == 37
    for index, name in enumerate(layers.LAYER_NAMES):
        kind = name.rstrip("0123456789_")
        assert isinstance(tv_features[index], KIND[kind]), (name, index, tv_features[index])
        assert layers.layer_index(name) == index


def test_design_table_spot_checks():
    # Independent of the generator in layers.py: DESIGN.md's table, written out.
    expected = {
        "conv1_1": 0, "relu1_1": 1, "pool1": 4, "relu2_1": 6, "pool2": 9, "relu3_1": 11,
        "relu3_4": 17, "pool3": 18, "relu4_1": 20, "relu4_2": 22, "pool4": 27, "relu5_1": 29,
        "conv5_4": 34, "relu5_4": 35, "pool5": 36,
    }  # fmt: skip
    assert {k: layers.LAYER_INDEX[k] for k in expected} == expected
    assert layers.STUDY_LAYERS == ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def test_channels_per_layer(tv_features):
    out_ch = 3
    for index, name in enumerate(layers.LAYER_NAMES):
        module = tv_features[index]
        if isinstance(module, nn.Conv2d):
            out_ch = module.out_channels
        assert layers.layer_channels(name) == out_ch, name


def test_downsampling():
    assert layers.downsampling("relu1_2") == 1
    assert layers.downsampling("pool1") == 2
    assert layers.downsampling("relu5_1") == 16
    assert layers.min_input_side("pool5") == 32


def test_unknown_layer_is_one_clear_sentence():
    with pytest.raises(ValueError, match="relu4_2") as info:
        layers.layer_index("relu6_1")
    assert "\n" not in str(info.value)


def test_skeleton_matches_torchvision_state_dict(tv_features, features):
    ours = {k: tuple(v.shape) for k, v in features.state_dict().items()}
    theirs = {k: tuple(v.shape) for k, v in tv_features.state_dict().items()}
    assert ours == theirs


def test_truncation_builds_nothing_past_the_deepest_layer(features):
    model = VGGFeatures(features, ["relu1_1", "relu2_1"])
    assert len(model.body) == layers.LAYER_INDEX["relu2_1"] + 1 == 7
    assert model.last == 6
    out = model(torch.rand(1, 3, 16, 16))
    assert set(out) == {"relu1_1", "relu2_1"}
    assert out["relu2_1"].shape == (1, 128, 8, 8)
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == sum(p.numel() for p in features[:7].parameters())


def test_pooling_choice(features):
    avg = VGGFeatures(features, ["relu3_1"], pool="avg")
    mx = VGGFeatures(features, ["relu3_1"], pool="max")
    assert not any(isinstance(m, nn.MaxPool2d) for m in avg.body)
    assert sum(isinstance(m, nn.AvgPool2d) for m in avg.body) == 2
    assert sum(isinstance(m, nn.MaxPool2d) for m in mx.body) == 2
    img = torch.rand(1, 3, 16, 16)
    assert not torch.equal(avg(img)["relu3_1"], mx(img)["relu3_1"])
    # the source network is not modified by building an extractor from it
    assert isinstance(features[4], nn.MaxPool2d)


def _reference_outputs(features: nn.Sequential, names, image, pool):
    """A plain pass with out-of-place ReLUs and explicit normalization."""
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    x = (image - mean) / std
    out = {}
    last = max(layers.LAYER_INDEX[n] for n in names)
    for i, module in enumerate(list(features)[: last + 1]):
        if isinstance(module, nn.ReLU):
            x = torch.relu(x)
        elif isinstance(module, nn.MaxPool2d):
            x = nn.functional.avg_pool2d(x, 2) if pool == "avg" else nn.functional.max_pool2d(x, 2)
        else:
            x = module(x)
        if layers.LAYER_NAMES[i] in names:
            out[layers.LAYER_NAMES[i]] = x.clone()
    return out


@pytest.mark.parametrize("pool", ["avg", "max"])
def test_outputs_match_reference_with_conv_and_relu_targets(features, pool):
    """A conv output that is itself a target is not overwritten by the in-place ReLU after it."""
    names = ["conv1_1", "relu1_1", "conv1_2", "relu2_1", "conv2_2", "pool2", "relu3_1"]
    torch.manual_seed(0)
    image = torch.rand(1, 3, 16, 16)
    got = VGGFeatures(features, names, pool)(image)
    ref = _reference_outputs(features, names, image, pool)
    assert set(got) == set(names)
    for name in names:
        torch.testing.assert_close(got[name], ref[name], msg=name)
    assert (got["conv1_1"] < 0).any()  # the pre-activation survived


def test_relu_after_a_target_conv_is_not_inplace(features):
    model = VGGFeatures(features, ["conv1_1", "conv2_1", "relu2_2"])
    for i, module in enumerate(model.body):
        if isinstance(module, nn.ReLU) and layers.LAYER_NAMES[i - 1] in ("conv1_1", "conv2_1"):
            assert not module.inplace, i


def test_gradients_through_conv_and_relu_targets(features):
    names = ["conv1_2", "relu1_2", "relu2_1"]
    torch.manual_seed(1)
    model = VGGFeatures(features, names)
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    out = model(x)
    sum(v.square().mean() for v in out.values()).backward()
    x_ref = x.detach().clone().requires_grad_(True)
    ref = _reference_outputs(features, names, x_ref, "avg")
    sum(v.square().mean() for v in ref.values()).backward()
    torch.testing.assert_close(x.grad, x_ref.grad)


def test_frozen_and_eval(features):
    model = VGGFeatures(features, ["relu2_1"])
    assert not model.training
    assert all(not p.requires_grad for p in model.parameters())
    model.train()
    assert not model.training and all(not m.training for m in model.modules())
    x = torch.rand(1, 3, 8, 8, requires_grad=True)
    model(x)["relu2_1"].sum().backward()
    assert x.grad is not None
    assert all(p.grad is None for p in model.parameters())


def test_normalization_is_the_first_step(features):
    model = VGGFeatures(features, ["conv1_1"])
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    # An image equal to the ImageNet mean is all zeros after normalization: conv1_1 gives its bias.
    img = mean.expand(1, 3, 6, 6).clone()
    conv = features[0]
    with torch.no_grad():
        conv_b = nn.Conv2d(3, 64, 3, padding=1)
        conv_b.load_state_dict(conv.state_dict())
        conv_b.bias.fill_(0.25)
        feats = nn.Sequential(conv_b, *list(features)[1:])
    out = VGGFeatures(feats, ["conv1_1"])(img)["conv1_1"]
    torch.testing.assert_close(out, torch.full_like(out, 0.25))
    assert model.mean.tolist() == mean.tolist()


def test_needs_a_layer(features):
    with pytest.raises(ValueError):
        VGGFeatures(features, [])
