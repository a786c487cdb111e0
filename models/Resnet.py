# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""ResNet backbones for the long-tailed CIFAR runs, and the loaders that put checkpoints into them.

The ImageNet-layout nets keep mindcv's parameter names so its ImageNet checkpoints load as they
are; ResNet-32 is the small CIFAR net that Cui et al. (CVPR 2019) report their results with.
"""

import logging
import math
import os

import mindspore as ms
from mindspore import nn, ops
from mindspore.common import initializer as init

from model_utils.errors import UserInputError

logger = logging.getLogger(__name__)

# Every net here names its last layer `classifier`, as mindcv does; the trainer needs the bias
# name to keep it out of weight decay.
HEAD_CELL_NAME = "classifier"

# How many offending names an error message lists before it only counts the rest.
_MAX_NAMES_IN_ERROR = 5


class BasicBlock(nn.Cell):
    """Two 3x3 convolutions with a residual connection (the block of ResNet-18/34/32).

    Args:
        in_channels (int): channels of the block's input.
        channels (int): channels of both convolutions and of the output.
        stride (int): stride of the first convolution; 2 halves height and width. Default: 1.
        down_sample (nn.Cell, optional): maps the input onto the output's shape when the two
            differ (a 1x1 convolution with batch norm, or a parameter-free zero-padding cell).
            Default: None, the identity.

    Inputs:
        x (Tensor): float32, shape (N, in_channels, H, W).

    Outputs:
        Tensor: float32, shape (N, channels, H / stride, W / stride).
    """

    expansion = 1

    def __init__(self, in_channels, channels, stride=1, down_sample=None):
        super().__init__()
        self.conv1 = nn.Conv2d(
            in_channels, channels, kernel_size=3, stride=stride, pad_mode="pad", padding=1
        )
        self.bn1 = nn.BatchNorm2d(channels)
        self.relu = nn.ReLU()
        self.conv2 = nn.Conv2d(channels, channels, kernel_size=3, pad_mode="pad", padding=1)
        self.bn2 = nn.BatchNorm2d(channels)
        self.down_sample = down_sample

    def construct(self, x):
        # residual branch
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))

        # shortcut, then the sum
        shortcut = x
        if self.down_sample is not None:
            shortcut = self.down_sample(x)
        return self.relu(out + shortcut)


class Bottleneck(nn.Cell):
    """1x1 reduce, 3x3, 1x1 expand (x4) with a residual connection (the block of ResNet-50).

    The stride sits on the 3x3 convolution, as in mindcv and torchvision, so that ImageNet
    checkpoints trained that way behave the same here.

    Args:
        in_channels (int): channels of the block's input.
        channels (int): channels of the inner convolutions; the output has 4 x channels.
        stride (int): stride of the 3x3 convolution. Default: 1.
        down_sample (nn.Cell, optional): projection of the input onto the output's shape.
            Default: None, the identity.

    Inputs:
        x (Tensor): float32, shape (N, in_channels, H, W).

    Outputs:
        Tensor: float32, shape (N, 4 * channels, H / stride, W / stride).
    """

    expansion = 4

    def __init__(self, in_channels, channels, stride=1, down_sample=None):
        super().__init__()
        out_channels = channels * self.expansion
        self.conv1 = nn.Conv2d(in_channels, channels, kernel_size=1)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(
            channels, channels, kernel_size=3, stride=stride, pad_mode="pad", padding=1
        )
        self.bn2 = nn.BatchNorm2d(channels)
        self.conv3 = nn.Conv2d(channels, out_channels, kernel_size=1)
        self.bn3 = nn.BatchNorm2d(out_channels)
        self.relu = nn.ReLU()
        self.down_sample = down_sample

    def construct(self, x):
        # residual branch
        out = self.relu(self.bn1(self.conv1(x)))
        out = self.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))

        # shortcut, then the sum
        shortcut = x
        if self.down_sample is not None:
            shortcut = self.down_sample(x)
        return self.relu(out + shortcut)


class ZeroPadShortcut(nn.Cell):
    """The paper's parameter-free shortcut ("option A") for a stage that halves the resolution.

    It keeps every second pixel in each direction and pads the channels with zeros on both
    sides, so the shortcut adds no weights; He et al. use it for their CIFAR ResNets.

    Args:
        in_channels (int): channels of the input.
        out_channels (int): channels of the output; out_channels - in_channels must be even.

    Inputs:
        x (Tensor): float32, shape (N, in_channels, H, W).

    Outputs:
        Tensor: float32, shape (N, out_channels, ceil(H / 2), ceil(W / 2)).
    """

    def __init__(self, in_channels, out_channels):
        super().__init__()
        # A 1x1 max-pool of stride 2 keeps pixels (0, 0), (0, 2), ... as x[..., ::2, ::2] does;
        # the gradient of that strided slice fails in PYNATIVE mode on CPU (MindSpore 2.10).
        self.subsample = nn.MaxPool2d(kernel_size=1, stride=2)
        self.pad_each_side = (out_channels - in_channels) // 2

    def construct(self, x):
        # subsample, then zero channels either side
        kept = self.subsample(x)
        zeros = ops.zeros_like(kept)[:, : self.pad_each_side]
        return ops.concat((zeros, kept, zeros), axis=1)


class GlobalAvgPool(nn.Cell):
    """Averages each feature map to one value: (N, C, H, W) -> (N, C), float32."""

    def construct(self, x):
        return ops.mean(x, axis=(2, 3), keep_dims=False)


class ImageNetResNet(nn.Cell):
    """ResNet with the ImageNet layout and mindcv's parameter names.

    7x7 stride-2 stem, 3x3 stride-2 max-pool, four stages (64/128/256/512 channels, stride 2 from
    the second on, 1x1 convolution + batch-norm projections where the shape changes), global
    average pool and a dense head. On 32x32 CIFAR input the last stage sees 1x1 maps.

    Args:
        block (type): BasicBlock or Bottleneck.
        blocks_per_stage (Sequence[int]): four block counts, e.g. (3, 4, 6, 3) for ResNet-34.
        num_classes (int): outputs of the head.

    Inputs:
        x (Tensor): float32, shape (N, 3, H, W); H and W of 32 or more.

    Outputs:
        Tensor: float32 logits, shape (N, num_classes).
    """

    def __init__(self, block, blocks_per_stage, num_classes):
        super().__init__()
        # stem
        self.conv1 = nn.Conv2d(3, 64, kernel_size=7, stride=2, pad_mode="pad", padding=3)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU()
        self.max_pool = nn.MaxPool2d(kernel_size=3, stride=2, pad_mode="same")

        # four stages
        self._channels = 64
        self.layer1 = self._make_stage(block, 64, blocks_per_stage[0], stride=1)
        self.layer2 = self._make_stage(block, 128, blocks_per_stage[1], stride=2)
        self.layer3 = self._make_stage(block, 256, blocks_per_stage[2], stride=2)
        self.layer4 = self._make_stage(block, 512, blocks_per_stage[3], stride=2)

        # head
        self.pool = GlobalAvgPool()
        self.classifier = nn.Dense(self._channels, num_classes)

    def _make_stage(self, block, channels, num_blocks, stride):
        """Builds one stage; only its first block changes stride or width."""
        out_channels = channels * block.expansion
        projection = None
        if stride != 1 or self._channels != out_channels:
            projection = nn.SequentialCell(
                [
                    nn.Conv2d(self._channels, out_channels, kernel_size=1, stride=stride),
                    nn.BatchNorm2d(out_channels),
                ]
            )
        blocks = [block(self._channels, channels, stride=stride, down_sample=projection)]
        self._channels = out_channels
        blocks += [block(out_channels, channels) for _ in range(1, num_blocks)]
        return nn.SequentialCell(blocks)

    def construct(self, x):
        # stem
        x = self.max_pool(self.relu(self.bn1(self.conv1(x))))

        # stages
        x = self.layer4(self.layer3(self.layer2(self.layer1(x))))

        # head
        return self.classifier(self.pool(x))


class CifarResNet(nn.Cell):
    """The CIFAR ResNet of He et al. (2016), 6n + 2 layers: ResNet-32 has n = 5.

    3x3 convolution to 16 channels, three stages of n basic blocks (16/32/64 channels, stride 2
    at the start of stages 2 and 3, zero-padding "option A" shortcuts there), global average pool
    and a dense head.

    Args:
        blocks_per_stage (int): n, the basic blocks in each of the three stages.
        num_classes (int): outputs of the head.

    Inputs:
        x (Tensor): float32, shape (N, 3, H, W), normally 32x32.

    Outputs:
        Tensor: float32 logits, shape (N, num_classes).
    """

    def __init__(self, blocks_per_stage, num_classes):
        super().__init__()
        # stem
        self.conv1 = nn.Conv2d(3, 16, kernel_size=3, pad_mode="pad", padding=1)
        self.bn1 = nn.BatchNorm2d(16)
        self.relu = nn.ReLU()

        # three stages
        self.layer1 = self._make_stage(16, 16, blocks_per_stage, stride=1)
        self.layer2 = self._make_stage(16, 32, blocks_per_stage, stride=2)
        self.layer3 = self._make_stage(32, 64, blocks_per_stage, stride=2)

        # head
        self.pool = GlobalAvgPool()
        self.classifier = nn.Dense(64, num_classes)

    @staticmethod
    def _make_stage(in_channels, channels, num_blocks, stride):
        """Builds one stage; the first block subsamples and zero-pads its shortcut if needed."""
        shortcut = None
        if stride != 1 or in_channels != channels:
            shortcut = ZeroPadShortcut(in_channels, channels)
        blocks = [BasicBlock(in_channels, channels, stride=stride, down_sample=shortcut)]
        blocks += [BasicBlock(channels, channels) for _ in range(1, num_blocks)]
        return nn.SequentialCell(blocks)

    def construct(self, x):
        # stem
        x = self.relu(self.bn1(self.conv1(x)))

        # stages
        x = self.layer3(self.layer2(self.layer1(x)))

        # head
        return self.classifier(self.pool(x))


def _check_num_classes(num_classes):
    """Rejects class counts a classifier cannot have (bools, non-integers, fewer than 2)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, int) or num_classes < 2:
        raise UserInputError(f"num_classes: got {num_classes!r}; expected an integer of at least 2")


def _initialize(net, num_classes, head_bias_prior):
    """He-normal convolutions, unit/zero batch norm, default dense weights, chosen head bias.

    With head_bias_prior the head bias is -log(C - 1), so that a sigmoid output starts at the
    prior 1/C for every class; this keeps sigmoid and focal losses from a huge first loss on
    the many negatives (the initialisation Cui et al. take from the focal-loss paper).
    """
    # convolutions and batch norm
    for _, cell in net.cells_and_names():
        if isinstance(cell, nn.Conv2d):
            he_normal = init.HeNormal(mode="fan_out", nonlinearity="relu")
            cell.weight.set_data(init.initializer(he_normal, cell.weight.shape, ms.float32))
        elif isinstance(cell, nn.BatchNorm2d):
            cell.gamma.set_data(init.initializer("ones", cell.gamma.shape, ms.float32))
            cell.beta.set_data(init.initializer("zeros", cell.beta.shape, ms.float32))

    # head bias (the dense weight keeps MindSpore's default uniform initialisation)
    bias_value = -math.log(num_classes - 1) if head_bias_prior else 0.0
    bias = net.classifier.bias
    bias.set_data(init.initializer(init.Constant(bias_value), bias.shape, ms.float32))


def _build(net_factory, num_classes, head_bias_prior):
    """Validates the class count, builds the net and initialises it."""
    _check_num_classes(num_classes)
    net = net_factory()
    _initialize(net, num_classes, head_bias_prior)
    return net


def resnet18(num_classes, head_bias_prior=False):
    """ResNet-18, ImageNet layout (11.18 M trainable parameters for 10 classes).

    Args:
        num_classes (int): outputs of the head, at least 2.
        head_bias_prior (bool): start the head bias at -log(C - 1) instead of 0. Default: False.

    Returns:
        ImageNetResNet: maps float32 (N, 3, H, W) to float32 logits (N, num_classes).
    """
    return _build(
        lambda: ImageNetResNet(BasicBlock, (2, 2, 2, 2), num_classes),
        num_classes,
        head_bias_prior,
    )


def resnet34(num_classes, head_bias_prior=False):
    """ResNet-34, ImageNet layout, the model zoo's network (21.29 M trainable for 10 classes).

    Args:
        num_classes (int): outputs of the head, at least 2.
        head_bias_prior (bool): start the head bias at -log(C - 1) instead of 0. Default: False.

    Returns:
        ImageNetResNet: maps float32 (N, 3, H, W) to float32 logits (N, num_classes).
    """
    return _build(
        lambda: ImageNetResNet(BasicBlock, (3, 4, 6, 3), num_classes),
        num_classes,
        head_bias_prior,
    )


def resnet50(num_classes, head_bias_prior=False):
    """ResNet-50, ImageNet layout with bottleneck blocks (23.53 M trainable for 10 classes).

    Args:
        num_classes (int): outputs of the head, at least 2.
        head_bias_prior (bool): start the head bias at -log(C - 1) instead of 0. Default: False.

    Returns:
        ImageNetResNet: maps float32 (N, 3, H, W) to float32 logits (N, num_classes).
    """
    return _build(
        lambda: ImageNetResNet(Bottleneck, (3, 4, 6, 3), num_classes),
        num_classes,
        head_bias_prior,
    )


def resnet32(num_classes, head_bias_prior=False):
    """ResNet-32 for CIFAR, the paper's network (0.46 M parameters for 10 classes).

    Uses the parameter-free zero-padding shortcut (option A), as He et al. did on CIFAR.
    No ImageNet checkpoint exists for it: train it from scratch.

    Args:
        num_classes (int): outputs of the head, at least 2.
        head_bias_prior (bool): start the head bias at -log(C - 1) instead of 0. Default: False.

    Returns:
        CifarResNet: maps float32 (N, 3, 32, 32) to float32 logits (N, num_classes).
    """
    return _build(lambda: CifarResNet(5, num_classes), num_classes, head_bias_prior)


ARCHS = {
    "resnet18": resnet18,
    "resnet32": resnet32,
    "resnet34": resnet34,
    "resnet50": resnet50,
}


def get_network(arch, num_classes, head_bias_prior=False):
    """Builds the network the config names.

    Args:
        arch (str): one of ARCHS: "resnet18", "resnet32", "resnet34", "resnet50".
        num_classes (int): outputs of the head, at least 2.
        head_bias_prior (bool): start the head bias at -log(C - 1) (for sigmoid and focal
            losses) instead of 0. Default: False.

    Returns:
        nn.Cell: maps float32 (N, 3, 32, 32) to float32 logits (N, num_classes).

    Raises:
        UserInputError: unknown arch or a class count below 2.
    """
    if arch not in ARCHS:
        raise UserInputError(f"arch: got {arch!r}; expected one of {', '.join(sorted(ARCHS))}")
    return ARCHS[arch](num_classes, head_bias_prior=head_bias_prior)


def head_bias_name(net):
    """Name of the head's bias parameter (e.g. "classifier.bias"), to exclude it from decay.

    Args:
        net (nn.Cell): a network built by this module.

    Returns:
        str: the parameter's name as it appears in net.trainable_params() and checkpoints.
    """
    return getattr(net, HEAD_CELL_NAME).bias.name


def _read_checkpoint(ckpt_path, what):
    """Reads a checkpoint into a name -> Parameter dict, or says in one line why it cannot."""
    if not os.path.isfile(ckpt_path):
        raise UserInputError(f"{what}: no such file {ckpt_path!r}; expected a MindSpore .ckpt file")
    try:
        return ms.load_checkpoint(ckpt_path)
    except (ValueError, RuntimeError, TypeError, OSError) as err:
        reason = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise UserInputError(
            f"{what}: {ckpt_path!r} is not a readable MindSpore checkpoint ({reason})"
        ) from err


def _shape(param):
    """Shape of a Parameter or Tensor as a plain tuple of ints."""
    return tuple(int(dim) for dim in param.shape)


def _name_list(items):
    """Joins the first few entries for an error message and counts the rest."""
    shown = ", ".join(items[:_MAX_NAMES_IN_ERROR])
    if len(items) > _MAX_NAMES_IN_ERROR:
        shown += f" and {len(items) - _MAX_NAMES_IN_ERROR} more"
    return shown


def load_pretrained(net, ckpt_path):
    """Loads every parameter whose name and shape match; skips (and logs) the rest.

    Meant for ImageNet weights: a 1000-class head does not fit a 10-class net, so the head
    keeps its initialisation and everything else loads. Checkpoint entries the net does not
    have (optimizer moments, step counters) are ignored.

    Args:
        net (nn.Cell): network to fill in place.
        ckpt_path (str): path of a MindSpore .ckpt file.

    Returns:
        tuple[list[str], list[str]]: (loaded_names, skipped_names); skipped_names are the
        network parameters left as initialised (absent from the checkpoint or of another shape).

    Raises:
        UserInputError: the file is missing, is not a checkpoint, or no parameter matches.
    """
    # read
    ckpt = _read_checkpoint(ckpt_path, "pretrained_model")

    # split into matching and skipped
    matching, skipped = {}, []
    for name, param in net.parameters_dict().items():
        if name not in ckpt:
            skipped.append(name)
            logger.info("pretrained: skipped %s %s (not in the checkpoint)", name, _shape(param))
        elif _shape(ckpt[name]) != _shape(param):
            skipped.append(name)
            logger.info(
                "pretrained: skipped %s: checkpoint shape %s, network shape %s",
                name,
                _shape(ckpt[name]),
                _shape(param),
            )
        else:
            matching[name] = ckpt[name]
    if not matching:
        raise UserInputError(
            f"pretrained_model: no parameter of {ckpt_path!r} matches the network by name and "
            f"shape (checkpoint has e.g. {_name_list(sorted(ckpt))}); expected a checkpoint of "
            "the same architecture"
        )

    # load
    ms.load_param_into_net(net, matching)
    loaded = sorted(matching)
    logger.info(
        "pretrained: loaded %d of %d parameters from %s, skipped %d",
        len(loaded),
        len(loaded) + len(skipped),
        ckpt_path,
        len(skipped),
    )
    return loaded, skipped


def maybe_load_pretrained(net, ckpt_path):
    """load_pretrained, or nothing (logged once) when the path is empty.

    Args:
        net (nn.Cell): network to fill in place.
        ckpt_path (str or None): the config's pretrained_model; "" or None trains from scratch.

    Returns:
        tuple[list[str], list[str]]: (loaded_names, skipped_names); both empty from scratch.
    """
    if not ckpt_path:
        logger.info("pretrained_model is empty: training from scratch")
        return [], []
    return load_pretrained(net, ckpt_path)


def load_checkpoint_strict(net, ckpt_path):
    """Loads a checkpoint that must hold every network parameter with the same shape.

    For evaluation and export, where a partial load would silently give a wrong model.
    Extra entries (optimizer moments, learning_rate, global_step, epoch_num) are ignored.

    Args:
        net (nn.Cell): network to fill in place.
        ckpt_path (str): path of a MindSpore .ckpt file.

    Returns:
        list[str]: names of the loaded parameters (all of the network's).

    Raises:
        UserInputError: the file is missing or not a checkpoint, or parameters are missing or
            of another shape (e.g. a checkpoint of another arch or class count); the one-line
            message names the first few of them.
    """
    # read
    ckpt = _read_checkpoint(ckpt_path, "checkpoint")

    # check every parameter before touching the net
    params = net.parameters_dict()
    missing = [name for name in params if name not in ckpt]
    mismatched = [
        f"{name} (checkpoint {_shape(ckpt[name])}, network {_shape(param)})"
        for name, param in params.items()
        if name in ckpt and _shape(ckpt[name]) != _shape(param)
    ]
    if missing or mismatched:
        problems = []
        if missing:
            problems.append(f"{len(missing)} missing: {_name_list(missing)}")
        if mismatched:
            problems.append(f"{len(mismatched)} of another shape: {_name_list(mismatched)}")
        raise UserInputError(
            f"checkpoint: {ckpt_path!r} does not fit the network ({'; '.join(problems)}); "
            "expected a checkpoint of the same arch and num_classes"
        )

    # load
    ms.load_param_into_net(net, {name: ckpt[name] for name in params}, strict_load=True)
    logger.info("loaded %d parameters from %s", len(params), ckpt_path)
    return list(params)
