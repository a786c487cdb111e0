# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Tests for models/Resnet.py: sizes, mindcv-compatible names, forward shapes in both execution
modes, head-bias initialisation and the two checkpoint loaders."""

import logging
import math

import mindspore as ms
import numpy as np
import pytest
from mindspore import nn

from model_utils.errors import UserInputError
from models import Resnet

# Names and shapes read off mindcv/models/resnet.py (mindspore-lab/mindcv, 2025 snapshot):
# stem conv1/bn1, stages layer1..layer4 of blocks with conv1/bn1/conv2/bn2(/conv3/bn3), the
# projection as down_sample.0 (1x1 conv) and down_sample.1 (batch norm), head `classifier`.
MINDCV_RESNET18_NAMES = {
    "conv1.weight": (64, 3, 7, 7),
    "bn1.gamma": (64,),
    "bn1.beta": (64,),
    "bn1.moving_mean": (64,),
    "bn1.moving_variance": (64,),
    "layer1.0.conv1.weight": (64, 64, 3, 3),
    "layer1.1.bn2.gamma": (64,),
    "layer2.0.conv1.weight": (128, 64, 3, 3),
    "layer2.0.down_sample.0.weight": (128, 64, 1, 1),
    "layer2.0.down_sample.1.moving_variance": (128,),
    "layer4.1.bn2.beta": (512,),
    "classifier.weight": (10, 512),
    "classifier.bias": (10,),
}
MINDCV_RESNET50_NAMES = {
    "layer1.0.conv3.weight": (256, 64, 1, 1),
    "layer1.0.down_sample.0.weight": (256, 64, 1, 1),
    "layer3.5.bn3.gamma": (1024,),
    "classifier.weight": (10, 2048),
}


def mindcv_layout_names(blocks_per_stage, bottleneck):
    """Every parameter name of mindcv's ImageNet ResNet, generated from its naming rules."""
    bn = ("gamma", "beta", "moving_mean", "moving_variance")
    convs = 3 if bottleneck else 2
    names = ["conv1.weight"] + [f"bn1.{p}" for p in bn]
    for stage, count in enumerate(blocks_per_stage, start=1):
        for block in range(count):
            prefix = f"layer{stage}.{block}"
            for k in range(1, convs + 1):
                names += [f"{prefix}.conv{k}.weight"] + [f"{prefix}.bn{k}.{p}" for p in bn]
            if block == 0 and (stage > 1 or bottleneck):
                names += [f"{prefix}.down_sample.0.weight"]
                names += [f"{prefix}.down_sample.1.{p}" for p in bn]
    return set(names + ["classifier.weight", "classifier.bias"])


def trainable_count_imagenet_basic(blocks_per_stage, num_classes):
    """Trainable parameters of a basic-block ImageNet ResNet, from the layer formulas."""
    total = 3 * 64 * 7 * 7 + 2 * 64
    in_ch = 64
    for stage, count in enumerate(blocks_per_stage):
        ch = 64 * 2**stage
        for block in range(count):
            block_in = in_ch if block == 0 else ch
            total += 9 * block_in * ch + 9 * ch * ch + 2 * 2 * ch
            if block == 0 and stage > 0:
                total += block_in * ch + 2 * ch
        in_ch = ch
    return total + 512 * num_classes + num_classes


def trainable_count_cifar(n, num_classes):
    """Trainable parameters of the 6n+2 CIFAR ResNet with option-A shortcuts."""
    total = 3 * 16 * 9 + 2 * 16
    for in_ch, ch in ((16, 16), (16, 32), (32, 64)):
        total += 9 * in_ch * ch + 9 * ch * ch + 4 * ch
        total += (n - 1) * (2 * 9 * ch * ch + 4 * ch)
    return total + 64 * num_classes + num_classes


def param_values(net):
    """name -> float64 numpy copy of every parameter."""
    return {name: p.asnumpy().astype(np.float64) for name, p in net.parameters_dict().items()}


@pytest.fixture(params=[ms.GRAPH_MODE, ms.PYNATIVE_MODE], ids=["graph", "pynative"])
def exec_mode(request):
    """Runs a test in one execution mode and restores the previous mode afterwards."""
    previous = ms.get_context("mode")
    ms.set_context(mode=request.param)
    yield request.param
    ms.set_context(mode=previous)


@pytest.fixture(scope="module")
def resnet34_10():
    """One ResNet-34 for 10 classes, shared because building it takes about a second."""
    return Resnet.resnet34(10)


def test_resnet34_has_the_model_zoo_parameter_count(resnet34_10):
    trainable = sum(p.size for p in resnet34_10.trainable_params())
    with_moving_stats = sum(p.size for p in resnet34_10.get_parameters())

    assert trainable == 21_289_802
    assert trainable == trainable_count_imagenet_basic((3, 4, 6, 3), 10)
    assert round(with_moving_stats / 1e6, 2) == 21.31


def test_resnet32_has_the_paper_parameter_count():
    net = Resnet.resnet32(10)
    trainable = sum(p.size for p in net.trainable_params())

    assert trainable == trainable_count_cifar(5, 10)
    assert abs(trainable - 0.46e6) / 0.46e6 < 0.01


def test_imagenet_nets_use_mindcv_parameter_names():
    r18 = {name: tuple(p.shape) for name, p in Resnet.resnet18(10).parameters_dict().items()}
    r50 = {name: tuple(p.shape) for name, p in Resnet.resnet50(10).parameters_dict().items()}

    assert set(r18) == mindcv_layout_names((2, 2, 2, 2), bottleneck=False)
    assert set(r50) == mindcv_layout_names((3, 4, 6, 3), bottleneck=True)
    for name, shape in MINDCV_RESNET18_NAMES.items():
        assert r18[name] == shape, name
    for name, shape in MINDCV_RESNET50_NAMES.items():
        assert r50[name] == shape, name
    assert "layer1.0.down_sample.0.weight" not in r18


@pytest.mark.parametrize("arch", ["resnet32", "resnet34"])
def test_forward_gives_one_logit_row_per_image(exec_mode, arch, resnet34_10):
    net = resnet34_10 if arch == "resnet34" else Resnet.get_network(arch, 7)
    classes = 10 if arch == "resnet34" else 7
    net.set_train(False)
    x = np.random.default_rng(0).standard_normal((2, 3, 32, 32)).astype(np.float32)

    logits = net(ms.Tensor(x)).asnumpy()

    assert logits.shape == (2, classes)
    assert logits.dtype == np.float32
    assert np.all(np.isfinite(logits))


def test_graph_and_pynative_modes_agree():
    net = Resnet.resnet32(4)
    net.set_train(False)
    x = ms.Tensor(np.random.default_rng(1).standard_normal((2, 3, 32, 32)).astype(np.float32))
    previous = ms.get_context("mode")

    try:
        ms.set_context(mode=ms.PYNATIVE_MODE)
        eager = net(x).asnumpy()
        ms.set_context(mode=ms.GRAPH_MODE)
        graph = net(x).asnumpy()
    finally:
        ms.set_context(mode=previous)

    np.testing.assert_allclose(graph, eager, rtol=1e-5, atol=1e-5)


def test_zero_pad_shortcut_subsamples_and_pads_channels():
    x = np.random.default_rng(2).standard_normal((2, 16, 8, 8)).astype(np.float32)
    expected = np.zeros((2, 32, 4, 4))
    expected[:, 8:24] = x.astype(np.float64)[:, :, 0::2, 0::2]

    out = Resnet.ZeroPadShortcut(16, 32)(ms.Tensor(x)).asnumpy()

    np.testing.assert_array_equal(out, expected)


class _WeightedSum(nn.Cell):
    """sum(cell(x) * weights): its gradient with respect to x is the cell's vector-Jacobian."""

    def __init__(self, cell, weights):
        super().__init__()
        self.cell = cell
        self.weights = ms.Tensor(weights)

    def construct(self, x):
        return (self.cell(x) * self.weights).sum()


@pytest.mark.parametrize("mode", [ms.GRAPH_MODE, ms.PYNATIVE_MODE], ids=["graph", "pynative"])
@pytest.mark.parametrize("size", [8, 7])
def test_zero_pad_shortcut_gradient_lands_on_the_kept_pixels(mode, size):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 16, size, size)).astype(np.float32)
    half = (size + 1) // 2
    upstream = rng.standard_normal((2, 32, half, half)).astype(np.float32)
    expected = np.zeros(x.shape)
    expected[:, :, 0::2, 0::2] = upstream[:, 8:24]
    shortcut = Resnet.ZeroPadShortcut(16, 32)
    previous = ms.get_context("mode")

    try:
        ms.set_context(mode=mode)
        grad = ms.grad(_WeightedSum(shortcut, upstream))(ms.Tensor(x))
    finally:
        ms.set_context(mode=previous)

    np.testing.assert_array_equal(grad.asnumpy(), expected)


@pytest.mark.parametrize("mode", [ms.GRAPH_MODE, ms.PYNATIVE_MODE], ids=["graph", "pynative"])
def test_resnet32_trains_a_step_in_both_modes(mode):
    rng = np.random.default_rng(4)
    images = ms.Tensor(rng.standard_normal((4, 3, 32, 32)).astype(np.float32))
    labels = ms.Tensor(np.array([0, 1, 2, 3], dtype=np.int32))
    net = Resnet.resnet32(4)
    loss = nn.SoftmaxCrossEntropyWithLogits(sparse=True, reduction="mean")
    step = nn.TrainOneStepCell(
        nn.WithLossCell(net, loss), nn.Momentum(net.trainable_params(), 0.1, 0.9)
    )
    step.set_train(True)
    before = net.conv1.weight.asnumpy().copy()
    previous = ms.get_context("mode")

    try:
        ms.set_context(mode=mode)
        value = float(step(images, labels).asnumpy())
    finally:
        ms.set_context(mode=previous)

    assert np.isfinite(value)
    assert not np.array_equal(net.conv1.weight.asnumpy(), before)


@pytest.mark.parametrize("num_classes", [2, 10, 100])
def test_head_bias_prior_is_minus_log_c_minus_one(num_classes):
    with_prior = Resnet.get_network("resnet32", num_classes, head_bias_prior=True)
    without = Resnet.get_network("resnet32", num_classes)

    bias_on = with_prior.parameters_dict()[Resnet.head_bias_name(with_prior)].asnumpy()
    bias_off = without.parameters_dict()[Resnet.head_bias_name(without)].asnumpy()

    np.testing.assert_allclose(bias_on, np.full(num_classes, -math.log(num_classes - 1)), 1e-6)
    np.testing.assert_array_equal(bias_off, np.zeros(num_classes))


def test_head_bias_prior_gives_sigmoid_probability_one_over_c():
    net = Resnet.resnet32(10, head_bias_prior=True)
    bias = net.classifier.bias.asnumpy().astype(np.float64)

    np.testing.assert_allclose(1.0 / (1.0 + np.exp(-bias)), np.full(10, 0.1), rtol=1e-6)


def test_head_bias_name_is_a_trainable_parameter():
    for arch in ("resnet18", "resnet32"):
        net = Resnet.get_network(arch, 5)
        trainable = [p.name for p in net.trainable_params()]
        assert Resnet.head_bias_name(net) == "classifier.bias"
        assert "classifier.bias" in trainable


def test_convolutions_use_he_normal_fan_out():
    # 64 x 64 x 3 x 3 filters: fan_out = 64 * 9, so std = sqrt(2 / 576)
    weight = Resnet.resnet32(10).parameters_dict()["layer3.1.conv1.weight"].asnumpy()
    expected_std = math.sqrt(2.0 / (64 * 9))

    assert abs(float(weight.std()) - expected_std) / expected_std < 0.05
    assert abs(float(weight.mean())) < 0.05 * expected_std


def test_unknown_arch_lists_the_choices():
    with pytest.raises(UserInputError, match="resnet18, resnet32, resnet34, resnet50") as err:
        Resnet.get_network("resnet101", 10)
    assert "resnet101" in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("bad", [1, 0, 2.5, True, "10"])
def test_bad_class_count_is_rejected(bad):
    with pytest.raises(UserInputError, match="num_classes"):
        Resnet.get_network("resnet32", bad)


def test_pretrained_loads_all_but_a_head_of_other_size(tmp_path, caplog):
    source = Resnet.resnet18(1000)
    path = str(tmp_path / "imagenet.ckpt")
    ms.save_checkpoint(source, path)
    expected = param_values(source)
    net = Resnet.resnet18(10)
    head_before = net.classifier.weight.asnumpy().copy()
    caplog.set_level(logging.INFO, logger=Resnet.__name__)

    loaded, skipped = Resnet.load_pretrained(net, path)

    values = param_values(net)
    assert sorted(skipped) == ["classifier.bias", "classifier.weight"]
    assert set(loaded) == set(values) - {"classifier.bias", "classifier.weight"}
    for name in loaded:
        np.testing.assert_array_equal(values[name], expected[name], err_msg=name)
    np.testing.assert_array_equal(net.classifier.weight.asnumpy(), head_before)
    assert "classifier.weight" in caplog.text and "(1000, 512)" in caplog.text
    assert "(10, 512)" in caplog.text


def test_empty_pretrained_path_trains_from_scratch(caplog):
    net = Resnet.resnet32(3)
    before = param_values(net)
    caplog.set_level(logging.INFO, logger=Resnet.__name__)

    assert Resnet.maybe_load_pretrained(net, "") == ([], [])

    assert "from scratch" in caplog.text
    after = param_values(net)
    assert all(np.array_equal(before[name], after[name]) for name in before)


def test_pretrained_with_nothing_matching_is_rejected(tmp_path):
    path = str(tmp_path / "other.ckpt")
    ms.save_checkpoint(
        [{"name": "encoder.w", "data": ms.Tensor(np.ones((3, 3), np.float32))}], path
    )

    with pytest.raises(UserInputError, match="no parameter") as err:
        Resnet.load_pretrained(Resnet.resnet32(3), path)
    assert path in str(err.value)


@pytest.mark.parametrize("loader", [Resnet.load_pretrained, Resnet.load_checkpoint_strict])
def test_not_a_checkpoint_names_the_path(tmp_path, loader):
    path = tmp_path / "notes.ckpt"
    path.write_bytes(b"these are not protobuf bytes")

    with pytest.raises(UserInputError, match="not a readable MindSpore checkpoint") as err:
        loader(Resnet.resnet32(3), str(path))
    assert str(path) in str(err.value)
    assert "\n" not in str(err.value)


@pytest.mark.parametrize("loader", [Resnet.load_pretrained, Resnet.load_checkpoint_strict])
def test_missing_checkpoint_file_names_the_path(tmp_path, loader):
    path = str(tmp_path / "absent.ckpt")

    with pytest.raises(UserInputError, match="no such file") as err:
        loader(Resnet.resnet32(3), path)
    assert path in str(err.value)


def test_strict_loader_restores_every_parameter_and_ignores_optimizer_state(tmp_path):
    source = Resnet.resnet32(3)
    path = str(tmp_path / "trained.ckpt")
    extras = {"epoch_num": 4, "global_step": ms.Tensor(np.array([40], np.int32))}
    ms.save_checkpoint(source, path, append_dict=extras)
    expected = param_values(source)
    net = Resnet.resnet32(3)

    loaded = Resnet.load_checkpoint_strict(net, path)

    values = param_values(net)
    assert set(loaded) == set(expected)
    for name in expected:
        np.testing.assert_array_equal(values[name], expected[name], err_msg=name)


def test_strict_loader_names_a_head_of_other_size(tmp_path):
    path = str(tmp_path / "ten.ckpt")
    ms.save_checkpoint(Resnet.resnet32(10), path)

    with pytest.raises(UserInputError) as err:
        Resnet.load_checkpoint_strict(Resnet.resnet32(4), path)

    message = str(err.value)
    assert "classifier.weight (checkpoint (10, 64), network (4, 64))" in message
    assert "classifier.bias (checkpoint (10,), network (4,))" in message
    assert "conv1.weight" not in message
    assert "\n" not in message


def test_strict_loader_names_missing_parameters_of_another_arch(tmp_path):
    path = str(tmp_path / "cifar.ckpt")
    ms.save_checkpoint(Resnet.resnet32(10), path)
    net = Resnet.resnet18(10)
    before = param_values(net)

    with pytest.raises(UserInputError, match="missing: ") as err:
        Resnet.load_checkpoint_strict(net, path)

    # resnet32 has no layer4 and no projection weights (its shortcuts are parameter-free)
    assert "layer2.0.down_sample.0.weight" in str(err.value)
    assert "conv1.weight (checkpoint (16, 3, 3, 3), network (64, 3, 7, 7))" in str(err.value)
    assert " more" in str(err.value)
    after = param_values(net)
    assert all(np.array_equal(before[name], after[name]) for name in before)
