# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Top-1, per-class and many/medium/few-shot accuracy over the whole test set.

Long-tailed results hide in the tail: overall top-1 is dominated by the head classes, so every
evaluation also reports each class and the three groups by training count.
"""

import numpy as np
from mindspore.train import ConfusionMatrix


def predict(net, dataset):
    """Runs the network in inference mode over every batch of `dataset`.

    Args:
        net (mindspore.nn.Cell): maps (N, 3, H, W) float32 to (N, C) logits.
        dataset (mindspore.dataset.Dataset): yields "image" and "label" columns.

    Returns:
        tuple(np.ndarray, np.ndarray): predicted classes and true labels, int64, shape (N,).
    """
    net.set_train(False)
    predictions, labels = [], []
    for batch in dataset.create_dict_iterator(num_epochs=1):
        logits = net(batch["image"])
        predictions.append(logits.argmax(axis=1).asnumpy().astype(np.int64))
        labels.append(batch["label"].asnumpy().astype(np.int64))
    return np.concatenate(predictions), np.concatenate(labels)


def summarize(predictions, labels, num_classes, train_counts, many_shot_thr, few_shot_thr):
    """Accuracy figures of one evaluation, in percent.

    Args:
        predictions (np.ndarray): predicted class per image, shape (N,).
        labels (np.ndarray): true class per image, shape (N,).
        num_classes (int): number of classes C.
        train_counts (Sequence[int]): training images per class, length C; defines the groups.
        many_shot_thr (int): classes with more training images than this are many-shot.
        few_shot_thr (int): classes with fewer training images than this are few-shot.

    Returns:
        dict: "top1", "num_images", "per_class" (list of C, None for a class absent from the
        test set), "many"/"medium"/"few" (mean per-class accuracy of the group, None when the
        group is empty) and "confusion" (C x C list, rows are true classes).
    """
    # MindSpore's metric counts the pairs; rows are true classes
    metric = ConfusionMatrix(num_classes=num_classes, normalize="no_norm")
    metric.update(np.asarray(predictions), np.asarray(labels))
    with np.errstate(invalid="ignore", divide="ignore"):
        # eval() also normalises by predicted counts; a class never predicted divides by zero
        confusion = np.rint(metric.eval()).astype(np.int64)
    support = confusion.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_class = 100.0 * np.diag(confusion) / support
    counts = np.asarray(train_counts)

    # Groups by training count; a group's figure is the mean of its classes' accuracies.
    groups = {
        "many": counts > many_shot_thr,
        "medium": (counts <= many_shot_thr) & (counts >= few_shot_thr),
        "few": counts < few_shot_thr,
    }
    result = {
        "top1": float(100.0 * np.mean(predictions == labels)) if len(labels) else 0.0,
        "num_images": int(len(labels)),
        "per_class": [None if np.isnan(v) else float(v) for v in per_class],
        "confusion": confusion.tolist(),
    }
    for name, members in groups.items():
        values = per_class[members & (support > 0)]
        result[name] = float(values.mean()) if len(values) else None
    return result


def format_group(value):
    """Accuracy text for logs: two decimals, or n/a for an empty group."""
    return "n/a" if value is None else f"{value:.2f}%"
