# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Tests for CBloss.py: weights and losses against float64 numpy (and exact decimal) references
written from the paper's formulas, gradients against finite differences, GRAPH-mode training,
deferred re-weighting in a compiled graph, and the errors raised for bad input."""

import decimal
import math

import mindspore as ms
import numpy as np
import pytest
from mindspore import Parameter, Tensor, nn

from CBloss import CB_loss, CBLoss, class_balanced_weights
from model_utils.errors import UserInputError

# CIFAR-10-LT with imbalance ratio 100 (Cui et al. 2019, table 1 setting).
CIFAR10_LT_100 = [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50]
# A 100-class long tail from 500 down to 5 images, built the same way.
CIFAR100_LT_100 = [int(500 * 0.01 ** (c / 99)) for c in range(100)]
COUNTS = {10: CIFAR10_LT_100, 100: CIFAR100_LT_100}

LOSS_TYPES = ["softmax", "sigmoid", "focal"]
BETAS = [0.0, 0.9, 0.999, 0.9999, 1.0]
GAMMAS = [0.0, 0.5, 1.0, 2.0]


# ---------------------------------------------------------------------------------------------
# Independent float64 references, written from the formulas of Cui et al. 2019 section 4.
# ---------------------------------------------------------------------------------------------


def ref_weights(counts, beta):
    """w_c = (1 - beta) / (1 - beta^n_c), 1/n_c at beta = 1, scaled to sum to C (plain float64)."""
    n = np.asarray(counts, dtype=np.float64)
    raw = 1.0 / n if beta == 1.0 else (1.0 - beta) / (1.0 - beta**n)
    return raw * (len(n) / raw.sum())


def decimal_weights(counts, beta):
    """The same weights in 60-digit decimal arithmetic on the exact binary value of beta."""
    with decimal.localcontext() as ctx:
        ctx.prec = 60
        b = decimal.Decimal(beta)
        raw = [1 / decimal.Decimal(n) if b == 1 else (1 - b) / (1 - b**n) for n in counts]
        total = sum(raw)
        return np.array([float(r * len(counts) / total) for r in raw])


def ref_loss(logits, labels, class_weights, loss_type, gamma):
    """The class-balanced loss in float64, term by term as the paper writes it."""
    z = np.asarray(logits, dtype=np.float64)
    y = np.asarray(labels)
    n, c = z.shape
    w = np.asarray(class_weights, dtype=np.float64)[y]

    if loss_type == "softmax":
        # -log(e^{z_y} / sum_j e^{z_j}) = log(1 + sum_{j != y} e^{z_j - z_y})
        diff = np.exp(z - z[np.arange(n), y][:, None])
        diff[np.arange(n), y] = 0.0
        return np.mean(w * np.log1p(diff.sum(axis=1)))

    # binary cross-entropy of each class against the one-hot target
    t = np.eye(c)[y]
    bce = np.where(t == 1, np.log1p(np.exp(-z)), np.log1p(np.exp(z)))
    if loss_type == "focal":
        # (1 - p_t)^gamma with p_t the probability given to the target
        one_minus_pt = np.where(t == 1, 1.0 / (1.0 + np.exp(z)), 1.0 / (1.0 + np.exp(-z)))
        bce = bce * one_minus_pt**gamma
    return np.sum(w[:, None] * bce) / n


def ref_gradient(logits, labels, class_weights, loss_type, gamma, step):
    """Central finite differences of ref_loss with respect to each logit."""
    z = np.asarray(logits, dtype=np.float64)
    grad = np.zeros_like(z)
    for index in np.ndindex(z.shape):
        up, down = z.copy(), z.copy()
        up[index] += step
        down[index] -= step
        grad[index] = (
            ref_loss(up, labels, class_weights, loss_type, gamma)
            - ref_loss(down, labels, class_weights, loss_type, gamma)
        ) / (2 * step)
    return grad


def make_batches(num_classes, seed):
    """Three (logits, labels) pairs: one random row, one confident correct row, 64 mixed rows."""
    rng = np.random.default_rng(seed)

    # batch of 1, logits anywhere in [-50, 50] with both ends present
    random_row = rng.uniform(-50, 50, (1, num_classes))
    random_row[0, :2] = [50.0, -50.0]
    random_label = rng.integers(0, num_classes, 1)

    # batch of 1 whose softmax loss is ~e^-30: a float32 log-sum-exp would round it to 0
    confident_label = rng.integers(0, num_classes, 1)
    confident_row = rng.uniform(-50, 20, (1, num_classes))
    confident_row[0, confident_label] = 50.0

    # batch of 64 with per-row scales from 0.1 to 50
    scales = rng.choice([0.1, 3.0, 50.0], size=(64, 1))
    mixed = rng.uniform(-1, 1, (64, num_classes)) * scales
    mixed[0, 0], mixed[1, -1] = 50.0, -50.0
    mixed_labels = rng.integers(0, num_classes, 64)

    pairs = [(random_row, random_label), (confident_row, confident_label), (mixed, mixed_labels)]
    return [(z.astype(np.float32), y.astype(np.int32)) for z, y in pairs]


def call(loss_fn, logits, labels):
    """Run a loss Cell on numpy inputs and return a Python float."""
    return float(loss_fn(Tensor(logits), Tensor(labels)).asnumpy())


@pytest.fixture
def graph_mode():
    """Run a test in GRAPH mode and put the previous (PYNATIVE) mode back afterwards."""
    previous = ms.get_context("mode")
    ms.set_context(mode=ms.GRAPH_MODE)
    yield
    ms.set_context(mode=previous)


# ---------------------------------------------------------------------------------------------
# Weights
# ---------------------------------------------------------------------------------------------


def test_weights_hand_worked_examples():
    # counts [1, 2], beta = 0.5: raw (1 - .5)/(1 - .5) = 1 and .5/(1 - .25) = 2/3, sum 5/3;
    # scaled to sum 2: [1 * 6/5, 2/3 * 6/5] = [1.2, 0.8].
    np.testing.assert_allclose(class_balanced_weights([1, 2], 0.5), [1.2, 0.8], rtol=1e-15)

    # counts [1, 2, 4], beta = 0.5: raw [1, 2/3, .5/(1 - 1/16) = 8/15] = [15, 10, 8] / 15,
    # sum 33/15; scaled to sum 3: [15, 10, 8] / 11.
    expected = np.array([15, 10, 8]) / 11
    np.testing.assert_allclose(class_balanced_weights([1, 2, 4], 0.5), expected, rtol=1e-15)

    # beta = 1 is inverse frequency: raw [1, 1/2, 1/4], sum 7/4, scaled: [12, 6, 3] / 7.
    expected = np.array([12, 6, 3]) / 7
    np.testing.assert_allclose(class_balanced_weights([1, 2, 4], 1.0), expected, rtol=1e-15)

    # beta = 0 is no re-weighting at all.
    np.testing.assert_array_equal(class_balanced_weights([1, 2, 4], 0.0), [1.0, 1.0, 1.0])


def test_weights_cifar10_lt():
    weights = class_balanced_weights(CIFAR10_LT_100, 0.9999)

    assert weights.dtype == np.float64 and weights.shape == (10,)
    assert weights.sum() == pytest.approx(10.0, rel=1e-14)
    assert np.all(np.diff(weights) > 0), weights
    np.testing.assert_allclose(weights, decimal_weights(CIFAR10_LT_100, 0.9999), rtol=1e-13)


@pytest.mark.parametrize(
    "beta", [1e-3, 0.3, 0.5, 0.9, 0.999, 0.9999, 1 - 1e-6, 1 - 1e-9, 1 - 1e-12, 1 - 2**-52]
)
@pytest.mark.parametrize("counts", [CIFAR10_LT_100, CIFAR100_LT_100, [1, 2, 3, 10**6]])
def test_weights_match_exact_decimal(counts, beta):
    weights = class_balanced_weights(counts, beta)
    np.testing.assert_allclose(weights, decimal_weights(counts, beta), rtol=1e-13)
    assert weights.sum() == pytest.approx(len(counts), rel=1e-14)


def test_weights_tend_to_inverse_frequency():
    # 1 - beta^n = n(1 - beta)(1 + O(n(1 - beta))): at 1 - beta = 1e-12 and n <= 5000 the
    # weights agree with the beta = 1 limit to ~n * 1e-12.
    near = class_balanced_weights(CIFAR10_LT_100, 1 - 1e-12)
    limit = class_balanced_weights(CIFAR10_LT_100, 1.0)
    np.testing.assert_allclose(limit, ref_weights(CIFAR10_LT_100, 1.0), rtol=1e-15)
    np.testing.assert_allclose(near, limit, rtol=1e-8)
    assert not np.array_equal(near, limit)


def test_cell_stores_weights_as_frozen_parameter():
    loss_fn = CBLoss(CIFAR10_LT_100, "focal", 0.9999, 2.0)

    assert isinstance(loss_fn.class_weights, Parameter)
    assert not loss_fn.class_weights.requires_grad
    assert loss_fn.class_weights.dtype == ms.float32
    np.testing.assert_allclose(
        loss_fn.class_weights.asnumpy(), ref_weights(CIFAR10_LT_100, 0.9999), rtol=1e-7
    )
    np.testing.assert_allclose(loss_fn.weights, ref_weights(CIFAR10_LT_100, 0.9999), rtol=1e-12)
    assert loss_fn.trainable_params() == []


# ---------------------------------------------------------------------------------------------
# Loss values
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("num_classes", [10, 100])
@pytest.mark.parametrize("gamma", GAMMAS)
@pytest.mark.parametrize("beta", BETAS)
@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_loss_matches_float64_reference(loss_type, beta, gamma, num_classes):
    counts = COUNTS[num_classes]
    loss_fn = CBLoss(counts, loss_type=loss_type, beta=beta, gamma=gamma)
    weights = ref_weights(counts, beta)

    for logits, labels in make_batches(num_classes, seed=num_classes):
        expected = ref_loss(logits, labels, weights, loss_type, gamma)
        got = call(loss_fn, logits, labels)
        assert got == pytest.approx(expected, rel=1e-5), (logits.shape, got, expected)


def test_loss_hand_worked_example():
    # counts [1, 2], beta = 0.5 -> weights [1.2, 0.8] (see test_weights_hand_worked_examples).
    # Row 0: logits [0, 0], label 0. Row 1: logits [ln 3, 0], label 1.
    logits = np.array([[0.0, 0.0], [math.log(3.0), 0.0]], np.float32)
    labels = np.array([0, 1], np.int32)

    # softmax: row 0 -log(1/2) = ln 2; row 1 -log(1/4) = 2 ln 2.
    # (1.2 ln 2 + 0.8 * 2 ln 2) / 2 = 1.4 ln 2
    got = call(CBLoss([1, 2], "softmax", 0.5), logits, labels)
    assert got == pytest.approx(1.4 * math.log(2), rel=1e-6)

    # sigmoid: row 0 ln 2 + ln 2; row 1 -log(1 - 3/4) + -log(1/2) = 3 ln 2.
    # (1.2 * 2 ln 2 + 0.8 * 3 ln 2) / 2 = 2.4 ln 2
    got = call(CBLoss([1, 2], "sigmoid", 0.5), logits, labels)
    assert got == pytest.approx(2.4 * math.log(2), rel=1e-6)

    # focal, gamma = 1: row 0 (1/2) ln 2 * 2 = ln 2; row 1 (3/4) 2 ln 2 + (1/2) ln 2 = 2 ln 2.
    # (1.2 ln 2 + 0.8 * 2 ln 2) / 2 = 1.4 ln 2
    got = call(CBLoss([1, 2], "focal", 0.5, gamma=1.0), logits, labels)
    assert got == pytest.approx(1.4 * math.log(2), rel=1e-6)


def test_beta_zero_softmax_is_plain_cross_entropy():
    rng = np.random.default_rng(7)
    logits = rng.normal(0, 4, (32, 10)).astype(np.float32)
    labels = rng.integers(0, 10, 32).astype(np.int32)

    # mean of log-sum-exp minus the true logit, in float64
    z = logits.astype(np.float64)
    top = z.max(axis=1)
    log_sum_exp = top + np.log(np.exp(z - top[:, None]).sum(axis=1))
    plain = np.mean(log_sum_exp - z[np.arange(32), labels])

    got = call(CBLoss(CIFAR10_LT_100, "softmax", beta=0.0), logits, labels)
    assert got == pytest.approx(plain, rel=1e-6)


def test_focal_gamma_zero_is_sigmoid_exactly():
    logits, labels = make_batches(10, seed=3)[2]
    focal = call(CBLoss(CIFAR10_LT_100, "focal", 0.999, gamma=0.0), logits, labels)
    sigmoid = call(CBLoss(CIFAR10_LT_100, "sigmoid", 0.999), logits, labels)
    assert focal == sigmoid


def test_cb_loss_function_matches_reference():
    logits, labels = make_batches(10, seed=5)[2]
    weights = ref_weights(CIFAR10_LT_100, 0.999)

    for loss_type in LOSS_TYPES:
        got = CB_loss(Tensor(labels), Tensor(logits), CIFAR10_LT_100, 10, loss_type, 0.999, 0.5)
        expected = ref_loss(logits, labels, weights, loss_type, 0.5)
        assert float(got.asnumpy()) == pytest.approx(expected, rel=1e-5)


# ---------------------------------------------------------------------------------------------
# Gradients
# ---------------------------------------------------------------------------------------------

GRADIENT_CASES = [("softmax", 0.0), ("sigmoid", 0.0), ("focal", 0.5), ("focal", 2.0)]


@pytest.mark.parametrize("loss_type,gamma", GRADIENT_CASES)
def test_gradient_matches_finite_differences(loss_type, gamma):
    counts = [40, 10, 5, 2]
    rng = np.random.default_rng(11)
    logits = rng.uniform(-4, 4, (3, 4)).astype(np.float32)
    logits[0, :2] = 0.0  # softplus and argmax ties at exactly 0 need the right subgradient
    labels = np.array([0, 2, 3], np.int32)
    loss_fn = CBLoss(counts, loss_type, beta=0.99, gamma=gamma)

    got = ms.grad(loss_fn, grad_position=0)(Tensor(logits), Tensor(labels)).asnumpy()
    expected = ref_gradient(logits, labels, ref_weights(counts, 0.99), loss_type, gamma, 1e-6)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6)


@pytest.mark.parametrize("loss_type,gamma", GRADIENT_CASES)
def test_gradient_finite_at_magnitude_50(loss_type, gamma):
    counts = [40, 10, 5, 2]
    logits = np.array([[50, -50, 50, -50], [-50, 50, 0, 3], [50, 49, -50, -1]], np.float32)
    labels = np.array([0, 0, 2], np.int32)
    loss_fn = CBLoss(counts, loss_type, beta=0.99, gamma=gamma)

    got = ms.grad(loss_fn, grad_position=0)(Tensor(logits), Tensor(labels)).asnumpy()
    expected = ref_gradient(logits, labels, ref_weights(counts, 0.99), loss_type, gamma, 1e-4)
    assert np.all(np.isfinite(got)), got
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-6 * np.abs(expected).max())


# ---------------------------------------------------------------------------------------------
# GRAPH mode: training and deferred re-weighting
# ---------------------------------------------------------------------------------------------


class TinyClassifier(nn.Cell):
    """One Dense layer: the smallest network that can learn a fixed batch."""

    def __init__(self, in_features, num_classes, seed):
        super().__init__()
        rng = np.random.default_rng(seed)
        weight = Tensor(rng.normal(0, 0.3, (num_classes, in_features)).astype(np.float32))
        self.dense = nn.Dense(in_features, num_classes, weight_init=weight, bias_init="zeros")

    def construct(self, x):
        return self.dense(x)


def fixed_batch(num_classes, seed=0):
    rng = np.random.default_rng(seed)
    features = rng.normal(0, 1, (16, 8)).astype(np.float32)
    labels = rng.integers(0, num_classes, 16).astype(np.int32)
    return features, labels


@pytest.mark.parametrize("loss_type", LOSS_TYPES)
def test_graph_train_step_decreases_loss(graph_mode, loss_type):
    counts = [300, 100, 30, 10]
    features, labels = fixed_batch(4)
    net = TinyClassifier(8, 4, seed=1)
    loss_fn = CBLoss(counts, loss_type, beta=0.999, gamma=2.0)
    net_with_loss = nn.WithLossCell(net, loss_fn)
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.1, momentum=0.9)
    train_step = nn.TrainOneStepCell(net_with_loss, optimizer)
    train_step.set_train(True)

    # the first step reports the loss of the initial weights
    initial_logits = features @ net.dense.weight.asnumpy().T
    expected = ref_loss(initial_logits, labels, ref_weights(counts, 0.999), loss_type, 2.0)
    losses = [float(train_step(Tensor(features), Tensor(labels)).asnumpy()) for _ in range(8)]
    assert losses[0] == pytest.approx(expected, rel=1e-5)

    # and training lowers it
    assert losses[-1] < 0.8 * losses[0], losses
    assert all(np.isfinite(losses))
    assert "cb_class_weights" not in " ".join(p.name for p in train_step.trainable_params())


def test_drw_switch_reaches_compiled_train_step(graph_mode):
    counts = [300, 100, 30, 10]
    features, labels = fixed_batch(4, seed=2)
    net = TinyClassifier(8, 4, seed=3)
    loss_fn = CBLoss(counts, "focal", beta=0.999, gamma=1.0)
    optimizer = nn.Momentum(net.trainable_params(), learning_rate=0.05, momentum=0.9)
    train_step = nn.TrainOneStepCell(nn.WithLossCell(net, loss_fn), optimizer)
    train_step.set_train(True)

    def step_and_expect(class_weights):
        logits = features @ net.dense.weight.asnumpy().T + net.dense.bias.asnumpy()
        expected = ref_loss(logits, labels, class_weights, "focal", 1.0)
        return float(train_step(Tensor(features), Tensor(labels)).asnumpy()), expected

    # plain weights first (DRW stage 1), then class-balanced, then plain again
    loss_fn.use_balanced(False)
    plain_loss, plain_expected = step_and_expect(np.ones(4))
    loss_fn.use_balanced(True)
    balanced_loss, balanced_expected = step_and_expect(ref_weights(counts, 0.999))
    loss_fn.use_balanced(False)
    again_loss, again_expected = step_and_expect(np.ones(4))

    assert plain_loss == pytest.approx(plain_expected, rel=1e-5)
    assert balanced_loss == pytest.approx(balanced_expected, rel=1e-5)
    assert again_loss == pytest.approx(again_expected, rel=1e-5)
    assert abs(balanced_loss - plain_loss) > 0.1 * plain_loss


def test_set_class_weights_reaches_jitted_function():
    loss_fn = CBLoss(CIFAR10_LT_100, "softmax", beta=0.9999)
    logits, labels = make_batches(10, seed=9)[2]

    @ms.jit
    def evaluate(z, y):
        return loss_fn(z, y)

    first = float(evaluate(Tensor(logits), Tensor(labels)).asnumpy())
    custom = np.linspace(0.5, 2.0, 10)
    loss_fn.set_class_weights(custom)
    second = float(evaluate(Tensor(logits), Tensor(labels)).asnumpy())

    cb_weights = ref_weights(CIFAR10_LT_100, 0.9999)
    assert first == pytest.approx(ref_loss(logits, labels, cb_weights, "softmax", 0), rel=1e-5)
    assert second == pytest.approx(ref_loss(logits, labels, custom, "softmax", 0), rel=1e-5)
    np.testing.assert_allclose(loss_fn.weights, cb_weights, rtol=1e-12)


# ---------------------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------------------


def assert_names(error_info, *words):
    """The message's first line must name every word (GRAPH mode appends a traceback)."""
    first_line = str(error_info.value).splitlines()[0]
    for word in words:
        assert word in first_line, first_line


@pytest.mark.parametrize(
    "kwargs,words",
    [
        ({"loss_type": "cross_entropy"}, ["loss_type", "cross_entropy", "softmax"]),
        ({"loss_type": "Focal"}, ["loss_type", "Focal"]),
        ({"beta": -0.1}, ["beta", "-0.1", "[0, 1]"]),
        ({"beta": 1.5}, ["beta", "1.5", "[0, 1]"]),
        ({"beta": float("nan")}, ["beta", "nan"]),
        ({"beta": "0.9"}, ["beta", "0.9"]),
        ({"gamma": -1.0}, ["gamma", "-1.0", ">= 0"]),
        ({"gamma": float("inf")}, ["gamma", "inf"]),
        ({"samples_per_cls": [10, 0, 5]}, ["samples_per_cls[1]", "0.0", "> 0"]),
        ({"samples_per_cls": [10, 5, -3]}, ["samples_per_cls[2]", "-3.0", "> 0"]),
        ({"samples_per_cls": [10, float("nan")]}, ["samples_per_cls[1]", "nan"]),
        ({"samples_per_cls": []}, ["samples_per_cls", "[]"]),
        ({"samples_per_cls": [[1, 2], [3, 4]]}, ["samples_per_cls", "1-D"]),
        ({"samples_per_cls": ["a", "b"]}, ["samples_per_cls", "'a'"]),
    ],
)
def test_bad_constructor_arguments(kwargs, words):
    arguments = {"samples_per_cls": [10, 5, 2], "loss_type": "focal", "beta": 0.9, "gamma": 2.0}
    arguments.update(kwargs)
    with pytest.raises(UserInputError) as error_info:
        CBLoss(**arguments)
    assert_names(error_info, *words)
    assert "\n" not in str(error_info.value)


def test_bad_weights_function_arguments():
    with pytest.raises(UserInputError) as error_info:
        class_balanced_weights([3, 0], 0.9)
    assert_names(error_info, "samples_per_cls[1]")
    with pytest.raises(UserInputError) as error_info:
        class_balanced_weights([3, 2], 2.0)
    assert_names(error_info, "beta", "2.0")


def test_class_dimension_mismatch_pynative():
    loss_fn = CBLoss(CIFAR10_LT_100, "sigmoid")
    labels = Tensor(np.zeros(4, np.int32))

    with pytest.raises(UserInputError) as error_info:
        loss_fn(Tensor(np.zeros((4, 9), np.float32)), labels)
    assert_names(error_info, "samples_per_cls has 10 classes", "(4, 9)")

    with pytest.raises(UserInputError) as error_info:
        loss_fn(Tensor(np.zeros((4, 10), np.float32)), Tensor(np.zeros(3, np.int32)))
    assert_names(error_info, "labels shape=(3,)", "(4,)")


def test_class_dimension_mismatch_graph(graph_mode):
    loss_fn = CBLoss(CIFAR10_LT_100, "focal")
    with pytest.raises(UserInputError) as error_info:
        loss_fn(Tensor(np.zeros((2, 12), np.float32)), Tensor(np.zeros(2, np.int32)))
    assert_names(error_info, "samples_per_cls has 10 classes", "(2, 12)")


def test_bad_cb_loss_arguments():
    logits = Tensor(np.zeros((2, 3), np.float32))
    labels = Tensor(np.array([0, 2], np.int32))

    with pytest.raises(UserInputError) as error_info:
        CB_loss(labels, logits, [5, 3, 1], 10, "focal", 0.9, 2.0)
    assert_names(error_info, "num_of_classes=10", "3")

    with pytest.raises(UserInputError) as error_info:
        CB_loss(Tensor(np.array([0, 3], np.int32)), logits, [5, 3, 1], 3, "focal", 0.9, 2.0)
    assert_names(error_info, "labels", "3", "[0, 3)")

    with pytest.raises(UserInputError) as error_info:
        CB_loss(labels, logits, [5, 3, 1, 1], 4, "softmax", 0.9, 2.0)
    assert_names(error_info, "samples_per_cls has 4 classes", "(2, 3)")


def test_bad_drw_arguments():
    loss_fn = CBLoss([5, 3, 1], "softmax")

    with pytest.raises(UserInputError) as error_info:
        loss_fn.set_class_weights([1.0, 1.0])
    assert_names(error_info, "weights", "3 finite numbers")
    with pytest.raises(UserInputError) as error_info:
        loss_fn.set_class_weights([1.0, -1.0, 1.0])
    assert_names(error_info, "weights", "-1.0")
    with pytest.raises(UserInputError) as error_info:
        loss_fn.use_balanced("yes")
    assert_names(error_info, "flag", "'yes'")
