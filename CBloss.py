# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Class-balanced loss for long-tailed classification, as a MindSpore Cell.

Reference: Yin Cui, Menglin Jia, Tsung-Yi Lin, Yang Song and Serge Belongie, "Class-Balanced
Loss Based on Effective Number of Samples", CVPR 2019 (section 4 and the authors' release).

Why re-weight by the effective number: adding more images of a class brings diminishing returns,
because new images increasingly overlap with ones already seen. The paper models this with the
effective number of samples E_n = (1 - beta^n) / (1 - beta), which grows almost like n for a rare
class and saturates near 1 / (1 - beta) for a frequent one. Each class is weighted by the inverse
of its effective number, and the weights are rescaled to sum to the number of classes, so beta = 0
means no re-weighting and beta -> 1 means weighting by inverse class frequency. Every example
takes the weight of its true class, in front of a softmax, sigmoid or focal loss.
"""

import logging
import math
import numbers

import mindspore as ms
import numpy as np
from mindspore import Parameter, Tensor, nn, ops

from model_utils.errors import UserInputError

logger = logging.getLogger(__name__)

LOSS_TYPES = ("softmax", "sigmoid", "focal")


def _check_beta(beta):
    """Return beta as a float, or raise when it is not a number in [0, 1]."""
    if isinstance(beta, bool) or not isinstance(beta, numbers.Real) or not 0.0 <= beta <= 1.0:
        raise UserInputError(
            f"beta={beta!r} is not allowed: use a number in [0, 1] "
            "(0 = no re-weighting, 1 = inverse class frequency)"
        )
    return float(beta)


def _check_gamma(gamma):
    """Return gamma as a float, or raise when it is not a finite number >= 0."""
    if (
        isinstance(gamma, bool)
        or not isinstance(gamma, numbers.Real)
        or not math.isfinite(gamma)
        or gamma < 0
    ):
        raise UserInputError(
            f"gamma={gamma!r} is not allowed: use a finite number >= 0 (0 = no focal term)"
        )
    return float(gamma)


def _check_loss_type(loss_type):
    """Return loss_type, or raise when it is not one of LOSS_TYPES."""
    if not isinstance(loss_type, str) or loss_type not in LOSS_TYPES:
        raise UserInputError(f"loss_type={loss_type!r} is not allowed: use one of {LOSS_TYPES}")
    return loss_type


def _check_counts(samples_per_cls):
    """Return the class counts as a 1-D float64 array, or raise when one is not a count > 0."""

    # shape and type
    try:
        counts = np.asarray(samples_per_cls)
    except (TypeError, ValueError) as err:
        raise UserInputError(
            f"samples_per_cls={samples_per_cls!r} is not allowed: "
            f"use a 1-D list of per-class counts > 0 ({err})"
        ) from err
    if (
        counts.ndim != 1
        or counts.size == 0
        or counts.dtype == np.bool_
        or not np.issubdtype(counts.dtype, np.number)
        or np.iscomplexobj(counts)
    ):
        raise UserInputError(
            f"samples_per_cls={samples_per_cls!r} is not allowed: "
            "use a non-empty 1-D list of per-class counts > 0"
        )
    counts = counts.astype(np.float64)

    # every class needs at least one sample, or its weight is infinite
    bad = np.flatnonzero(~(np.isfinite(counts) & (counts > 0)))
    if bad.size:
        index = int(bad[0])
        raise UserInputError(
            f"samples_per_cls[{index}]={counts[index]!r} is not allowed: every class needs a "
            "finite count > 0 (a class with no samples would get an infinite weight)"
        )
    return counts


def class_balanced_weights(samples_per_cls, beta):
    """Per-class weights from the effective number of samples (Cui et al. 2019, eq. 1-2).

    w_c = (1 - beta) / (1 - beta^n_c), rescaled so that the weights sum to C. beta = 1 is taken
    as its limit, w_c proportional to 1 / n_c. 1 - beta^n is computed as -expm1(n * log(beta))
    with log(beta) = log1p(beta - 1), so beta close to 1 (0.9999, 1 - 1e-12) loses no digits to
    cancellation.

    Args:
        samples_per_cls (sequence of numbers): training-set count n_c of each class, length C,
            every count > 0.
        beta (float): in [0, 1]. 0 gives equal weights, 1 gives inverse class frequency.

    Returns:
        numpy.ndarray: float64, shape (C,), summing to C; larger for rarer classes when beta > 0.

    Raises:
        UserInputError: beta outside [0, 1], or a count that is missing, zero or negative.
    """

    # inputs
    beta = _check_beta(beta)
    counts = _check_counts(samples_per_cls)
    num_classes = counts.size

    # unnormalised weights (1 - beta) / (1 - beta^n), with the two end points as limits
    if beta == 0.0:
        raw = np.ones_like(counts)
    elif beta == 1.0:
        raw = 1.0 / counts
    else:
        # beta - 1 is exact for beta >= 0.5 (Sterbenz), so log1p keeps every digit there
        log_beta = math.log1p(beta - 1.0) if beta >= 0.5 else math.log(beta)
        raw = (1.0 - beta) / -np.expm1(counts * log_beta)

    # rescale to sum to C
    return raw * (num_classes / raw.sum())


@ms.constexpr
def _check_shapes(logits_shape, labels_shape, num_classes):
    """Raise when the static input shapes do not fit the class counts (runs at graph compile)."""
    if len(logits_shape) != 2 or logits_shape[0] < 1:
        raise UserInputError(
            f"logits shape={tuple(logits_shape)} is not allowed: use (N, C) with N >= 1"
        )
    if logits_shape[1] != num_classes:
        raise UserInputError(
            f"samples_per_cls has {num_classes} classes but logits shape={tuple(logits_shape)} "
            f"has {logits_shape[1]}: the logits' class dimension must equal len(samples_per_cls)"
        )
    if tuple(labels_shape) != (logits_shape[0],):
        raise UserInputError(
            f"labels shape={tuple(labels_shape)} is not allowed: use ({logits_shape[0]},), one "
            "class index per row of logits"
        )
    return True


def _softplus(x):
    """log(1 + exp(x)) without overflow; the gradient at exactly 0 is the true 0.5."""
    positive = x > 0
    zeros = ops.zeros_like(x)
    return ops.where(positive, x, zeros) + ops.log1p(ops.exp(ops.where(positive, -x, x)))


def _softmax_cross_entropy(logits, labels):
    """Per-row -log softmax(z)[y], shape (N,), accurate even when the loss is tiny.

    Written as (z_max - z_y) + log1p(sum over j != argmax of exp(z_j - z_max)): both terms are
    >= 0, so a confident correct row keeps its relative precision in float32 instead of
    rounding to 0 as log(sum exp) - z_y does.
    """

    # the largest logit of each row and the logit of the true class
    top = ops.argmax(logits, -1, keepdim=True)
    top_logit = ops.gather_elements(logits, 1, top)
    true_logit = ops.gather_elements(logits, 1, labels.reshape((-1, 1)))

    # the other classes' mass relative to the largest one, each term in (0, 1]
    is_top = ops.one_hot(top.reshape(-1), logits.shape[-1], 1, 0) > 0
    rest = ops.where(is_top, ops.zeros_like(logits), ops.exp(logits - top_logit)).sum(-1)

    return (top_logit - true_logit).reshape(-1) + ops.log1p(rest)


class CBLoss(nn.Cell):
    r"""Class-balanced softmax, sigmoid or focal loss (Cui et al. 2019, section 4).

    With class counts n_c, C classes, a batch of N logits z_i (rows of length C) and labels y_i:

        w_c = C * v_c / sum_k v_k,   v_c = (1 - beta) / (1 - beta^n_c)   (v_c = 1/n_c at beta=1)

        softmax: L = 1/N * sum_i w_{y_i} * (-log softmax(z_i)[y_i])

        sigmoid: L = 1/N * sum_i sum_j w_{y_i} * BCE(z_ij, t_ij)
                 BCE(z, t) = -t log sigmoid(z) - (1 - t) log(1 - sigmoid(z)),  t_ij = [j == y_i]

        focal:   L = 1/N * sum_i sum_j w_{y_i} * M_ij * BCE(z_ij, t_ij),  M_ij = (1 - p_ij)^gamma
                 p_ij = sigmoid(z_ij) if t_ij = 1 else 1 - sigmoid(z_ij)
                 M_ij = exp(-gamma * t_ij * z_ij - gamma * log(1 + exp(-z_ij)))

    The modulator M is evaluated as exp(-gamma * softplus(s * z)) with s = 2t - 1, which equals
    the expression above for t in {0, 1}, never takes a power of 0 (so gamma < 1 keeps finite
    gradients) and makes gamma = 0 give the sigmoid loss exactly. Every BCE term is
    softplus(-s * z). The focal term multiplies each element before any reduction.

    The weights are computed once in float64 and kept in the non-trainable Parameter
    ``class_weights`` (float32, shape (C,)). ``use_balanced(False)`` switches to all-ones weights
    and ``use_balanced(True)`` back, for deferred re-weighting (DRW); ``set_class_weights`` loads
    any other weights. Both write into the Parameter's existing storage (``ops.assign``), so a
    compiled graph (GRAPH mode, ``mindspore.jit``, ``nn.TrainOneStepCell``) sees the new values
    without recompiling.

    Args:
        samples_per_cls (sequence of numbers): training-set count of each class, length C, all > 0.
        loss_type (str): "softmax", "sigmoid" or "focal". Default: "focal".
        beta (float): effective-number hyper-parameter in [0, 1]. Default: 0.9999.
        gamma (float): focusing parameter >= 0, used by "focal" only. Default: 2.0.

    Inputs:
        - **logits** (Tensor) - float32 (float16 is cast up), shape (N, C).
        - **labels** (Tensor) - int32 class indices in [0, C), shape (N,). Labels are not
          range-checked inside the Cell (a compiled graph cannot inspect data); ``CB_loss`` does.

    Outputs:
        Tensor, float32 scalar.

    Raises:
        UserInputError: bad loss_type, beta, gamma or samples_per_cls at construction; logits
            whose class dimension is not C, or labels not of shape (N,), at the first call with
            that shape (in GRAPH mode, at compile time).

    Attributes:
        weights (numpy.ndarray): the class-balanced weights, float64, shape (C,) (a copy).
        class_weights (Parameter): the weights in use, float32, shape (C,), not trainable.
        num_classes (int): C.
        loss_type, beta, gamma: the validated constructor arguments.
    """

    def __init__(self, samples_per_cls, loss_type="focal", beta=0.9999, gamma=2.0):
        super().__init__()

        # hyper-parameters, all checked before any weight is computed
        self.loss_type = _check_loss_type(loss_type)
        self.beta = _check_beta(beta)
        self.gamma = _check_gamma(gamma)

        # weights: float64 copy for users, float32 Parameter for the graph
        self._cb_weights = class_balanced_weights(samples_per_cls, self.beta)
        self.num_classes = int(self._cb_weights.size)
        self.class_weights = Parameter(
            Tensor(self._cb_weights.astype(np.float32)),
            name="cb_class_weights",
            requires_grad=False,
        )
        logger.debug(
            "CBLoss(%s, beta=%g, gamma=%g) class weights: %s",
            self.loss_type,
            self.beta,
            self.gamma,
            np.array2string(self._cb_weights, precision=4),
        )

    @property
    def weights(self):
        """numpy.ndarray: the class-balanced weights, float64, shape (C,), summing to C."""
        return self._cb_weights.copy()

    def set_class_weights(self, weights):
        """Replace the per-class weights used by the loss, in place (no recompilation needed).

        Args:
            weights (sequence of numbers): length C, finite and >= 0.

        Raises:
            UserInputError: wrong length, or a negative or non-finite weight.
        """

        # validate
        values = np.asarray(weights, dtype=np.float64)
        if values.shape != (self.num_classes,) or not np.all(np.isfinite(values) & (values >= 0)):
            raise UserInputError(
                f"weights={weights!r} is not allowed: use {self.num_classes} finite numbers >= 0 "
                "(one per class)"
            )

        # copy into the Parameter's existing storage
        # NOTE: after Parameter.set_data, a function compiled with mindspore.jit that reaches
        # this Cell through a closure kept using the old values (MindSpore 2.10, measured);
        # ops.assign writes in place and is seen by jit functions and compiled Cells alike.
        ops.assign(self.class_weights, Tensor(values.astype(np.float32)))

    def use_balanced(self, flag):
        """Switch between the class-balanced weights (True) and all-ones weights (False).

        Deferred re-weighting trains with plain weights first and turns the class-balanced ones
        on for the last epochs; this call does the switch between steps.

        Args:
            flag (bool): True for the class-balanced weights, False for plain (all 1) weights.
        """
        if not isinstance(flag, (bool, np.bool_)):
            raise UserInputError(f"flag={flag!r} is not allowed: use True or False")
        self.set_class_weights(self._cb_weights if flag else np.ones(self.num_classes))

    def extend_repr(self):
        return (
            f"loss_type={self.loss_type}, beta={self.beta}, gamma={self.gamma}, "
            f"num_classes={self.num_classes}"
        )

    def construct(self, logits, labels):
        # static shape check
        _check_shapes(logits.shape, labels.shape, self.num_classes)
        logits = ops.cast(logits, ms.float32)
        batch_size = logits.shape[0]

        # weight of each example's true class
        example_weights = ops.gather(self.class_weights, labels, 0)

        # softmax: weighted mean of the cross-entropy
        if self.loss_type == "softmax":
            return (example_weights * _softmax_cross_entropy(logits, labels)).mean()

        # sigmoid / focal: signed margins s * z, s = +1 for the true class and -1 elsewhere
        targets = ops.one_hot(labels, self.num_classes, 1.0, 0.0)
        margins = (2.0 * targets - 1.0) * logits
        elementwise = _softplus(-margins)
        if self.loss_type == "focal":
            elementwise = elementwise * ops.exp(-self.gamma * _softplus(margins))

        # sum over classes and batch, divided by the batch size
        return (example_weights * elementwise.sum(-1)).sum() / batch_size


def CB_loss(labels, logits, samples_per_cls, num_of_classes, loss_type, beta, gamma):
    """The model-zoo functional API, kept for old callers; built on ``CBLoss``.

    Builds a ``CBLoss`` on each call (cheap: C float64 numbers), so in a training loop prefer one
    ``CBLoss`` Cell. Unlike the Cell, it also checks that every label lies in [0, C).

    Args:
        labels (Tensor or array): int class indices, shape (N,).
        logits (Tensor or array): float32, shape (N, C).
        samples_per_cls (sequence of numbers): count of each class, length C, all > 0.
        num_of_classes (int): C; must equal len(samples_per_cls) and the logits' last dimension.
        loss_type (str): "softmax", "sigmoid" or "focal".
        beta (float): in [0, 1].
        gamma (float): >= 0, used by "focal" only.

    Returns:
        Tensor: float32 scalar loss, as ``CBLoss(samples_per_cls, loss_type, beta, gamma)``.

    Raises:
        UserInputError: any bad argument, including a label outside [0, C).
    """

    # inputs as tensors
    logits = logits if isinstance(logits, Tensor) else Tensor(np.asarray(logits, np.float32))
    labels = labels if isinstance(labels, Tensor) else Tensor(np.asarray(labels, np.int32))

    # the class count must agree everywhere
    loss_fn = CBLoss(samples_per_cls, loss_type=loss_type, beta=beta, gamma=gamma)
    if isinstance(num_of_classes, bool) or num_of_classes != loss_fn.num_classes:
        raise UserInputError(
            f"num_of_classes={num_of_classes!r} is not allowed: it must equal "
            f"len(samples_per_cls)={loss_fn.num_classes}"
        )
    label_values = labels.asnumpy()
    outside = (label_values < 0) | (label_values >= loss_fn.num_classes)
    if np.any(outside):
        raise UserInputError(
            f"labels contain {label_values[outside][0]!r}, which is not allowed: "
            f"use class indices in [0, {loss_fn.num_classes})"
        )

    return loss_fn(logits, labels)
