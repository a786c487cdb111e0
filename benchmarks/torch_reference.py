# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""PyTorch versions of the benchmarked train step, written for the comparison only.

The same networks as models/Resnet.py (ResNet-34 in the ImageNet layout, the CIFAR ResNet-32
with zero-padding "option A" shortcuts; no convolution bias, as MindSpore's nn.Conv2d), the
same class-balanced focal loss and SGD with momentum and weight decay. Imported only by the
PyTorch worker, so the benchmark runs without torch installed.
"""

import torch
import torch.nn.functional as F
from torch import nn


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with batch norm and a residual connection."""

    def __init__(self, in_channels, channels, stride=1, shortcut=None):
        super().__init__()
        self.conv1 = nn.Conv2d(in_channels, channels, 3, stride=stride, padding=1, bias=False)
        self.bn1 = nn.BatchNorm2d(channels)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1, bias=False)
        self.bn2 = nn.BatchNorm2d(channels)
        self.shortcut = shortcut

    def forward(self, x):
        # residual branch
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))

        # shortcut, then the sum
        identity = x if self.shortcut is None else self.shortcut(x)
        return F.relu(out + identity)


class ZeroPadShortcut(nn.Module):
    """Every second pixel, channels zero-padded on both sides (no weights)."""

    def __init__(self, in_channels, out_channels):
        super().__init__()
        self.pad = (out_channels - in_channels) // 2

    def forward(self, x):
        return F.pad(x[:, :, ::2, ::2], (0, 0, 0, 0, self.pad, self.pad))


def _projection(in_channels, out_channels, stride):
    """1x1 convolution with batch norm: the ImageNet ResNets' shortcut when shapes change."""
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, 1, stride=stride, bias=False),
        nn.BatchNorm2d(out_channels),
    )


def _zero_pad(in_channels, out_channels, stride):
    """The CIFAR ResNets' parameter-free shortcut (stride 2 is built in)."""
    return ZeroPadShortcut(in_channels, out_channels)


class _ResNet(nn.Module):
    """Stem, stages of basic blocks, average pool and a dense head.

    Args:
        stem (nn.Module): maps the images to `channels` feature maps.
        channels (int): channels after the stem.
        plan (Sequence[tuple]): (width, blocks, stride of the first block) per stage.
        shortcut (callable): (in_channels, out_channels, stride) -> module, used where a
            block changes the shape.
        num_classes (int): outputs of the head.
    """

    def __init__(self, stem, channels, plan, shortcut, num_classes):
        super().__init__()
        self.stem = stem
        blocks = []
        for width, count, stride in plan:
            for index in range(count):
                step = stride if index == 0 else 1
                changes = step != 1 or channels != width
                mapped = shortcut(channels, width, step) if changes else None
                blocks.append(BasicBlock(channels, width, step, mapped))
                channels = width
        self.stages = nn.Sequential(*blocks)
        self.classifier = nn.Linear(channels, num_classes)

    def forward(self, x):
        x = self.stages(self.stem(x))
        return self.classifier(x.mean(dim=(2, 3)))


def imagenet_resnet34(num_classes):
    """7x7/2 stem, 3x3/2 max-pool, stages of 3-4-6-3 basic blocks, average pool, dense head."""
    stem = nn.Sequential(
        nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False),
        nn.BatchNorm2d(64),
        nn.ReLU(),
        nn.MaxPool2d(3, stride=2, padding=1),
    )
    plan = ((64, 3, 1), (128, 4, 2), (256, 6, 2), (512, 3, 2))
    return _ResNet(stem, 64, plan, _projection, num_classes)


def cifar_resnet32(num_classes):
    """3x3 stem to 16 channels, three stages of 5 basic blocks (16/32/64), pool, dense head."""
    stem = nn.Sequential(nn.Conv2d(3, 16, 3, padding=1, bias=False), nn.BatchNorm2d(16), nn.ReLU())
    plan = ((16, 5, 1), (32, 5, 2), (64, 5, 2))
    return _ResNet(stem, 16, plan, _zero_pad, num_classes)


NETWORKS = {"resnet34": imagenet_resnet34, "resnet32": cifar_resnet32}


def cb_focal_loss(logits, labels, class_weights, gamma):
    """sum over classes of w_y * (1 - p_t)^gamma * BCE, divided by the batch size.

    Args:
        logits (torch.Tensor): float32 (N, C).
        labels (torch.Tensor): int64 (N,).
        class_weights (torch.Tensor): float32 (C,), the class-balanced weights.
        gamma (float): focusing parameter.

    Returns:
        torch.Tensor: float32 scalar.
    """
    targets = F.one_hot(labels, logits.shape[1]).to(logits.dtype)
    bce = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    probs = torch.sigmoid(logits)
    p_true = targets * probs + (1.0 - targets) * (1.0 - probs)
    focal = (1.0 - p_true) ** gamma * bce
    return (class_weights[labels].unsqueeze(1) * focal).sum() / logits.shape[0]


class TorchTrainStep:
    """Forward, loss, backward and an SGD step on fixed random inputs.

    Args:
        arch (str): "resnet34" or "resnet32".
        class_weights (Sequence[float]): the loss's per-class weights, length C.
        batch_size (int): images per step.
        lr, momentum, weight_decay, gamma (float): as in the MindSpore step.
        threads (int): torch.set_num_threads value.
        seed (int): seed of the inputs and the initial weights.
    """

    def __init__(
        self, arch, class_weights, batch_size, lr, momentum, weight_decay, gamma, threads, seed=0
    ):
        torch.manual_seed(seed)
        torch.set_num_threads(threads)
        num_classes = len(class_weights)
        self.net = NETWORKS[arch](num_classes).train()
        self.weights = torch.tensor(class_weights, dtype=torch.float32)
        self.gamma = gamma
        self.optimizer = torch.optim.SGD(
            self.net.parameters(), lr=lr, momentum=momentum, weight_decay=weight_decay
        )
        self.images = torch.randn(batch_size, 3, 32, 32)
        self.labels = torch.randint(0, num_classes, (batch_size,))

    def __call__(self):
        """One step; returns the loss as a float."""
        self.optimizer.zero_grad(set_to_none=True)
        loss = cb_focal_loss(self.net(self.images), self.labels, self.weights, self.gamma)
        loss.backward()
        self.optimizer.step()
        return float(loss)
