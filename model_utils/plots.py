# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""PNG figures of a run: learning curves, per-class accuracy against class size, confusion.

Figures are built with matplotlib's object API (no pyplot), so no display or backend choice is
needed and nothing global is touched.
"""

import numpy as np
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

# Up to this many classes (or epochs) each gets its own tick; more would overlap.
_ALL_TICKS_UP_TO = 20


def plot_curves(records, path):
    """Train loss and test top-1 per epoch, side by side.

    Args:
        records (list[dict]): metrics.jsonl rows with "epoch", "train_loss", "top1".
        path (str): PNG to write.
    """
    epochs = [row["epoch"] for row in records]
    figure = Figure(figsize=(10, 4))
    left, right = figure.subplots(1, 2)
    left.plot(epochs, [row["train_loss"] for row in records], marker="o")
    left.set(xlabel="epoch", ylabel="training loss", title="Loss")
    right.plot(epochs, [row["top1"] for row in records], marker="o", label="top-1")
    for group, marker in (("many", "^"), ("medium", "s"), ("few", "v")):
        values = [row.get(group) for row in records]
        if any(v is not None for v in values):
            shown = [np.nan if v is None else v for v in values]
            right.plot(epochs, shown, marker=marker, linestyle="--", label=group)
    right.set(xlabel="epoch", ylabel="test accuracy (%)", title="Accuracy")
    right.legend()
    for axis in (left, right):
        if len(epochs) <= _ALL_TICKS_UP_TO:
            axis.set_xticks(epochs)
            axis.set_xlim(min(epochs) - 0.5, max(epochs) + 0.5)
        else:
            axis.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def plot_per_class(per_class, train_counts, path):
    """Per-class test accuracy as bars, with each class's training count on a second axis."""
    classes = np.arange(len(per_class))
    figure = Figure(figsize=(max(6, 0.5 * len(classes)), 4))
    axis = figure.subplots()
    axis.bar(classes, [np.nan if v is None else v for v in per_class], color="tab:blue")
    axis.set(xlabel="class", ylabel="test accuracy (%)", ylim=(0, 100))
    counts_axis = axis.twinx()
    counts_axis.plot(classes, train_counts, color="tab:red", marker="o")
    counts_axis.set_ylabel("training images", color="tab:red")
    counts_axis.set_ylim(bottom=0)
    _class_ticks(axis.set_xticks, len(classes))
    axis.set_title("Per-class accuracy against class size")
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def plot_confusion(confusion, path):
    """Row-normalised confusion matrix (rows: true class) as a heat map."""
    matrix = np.asarray(confusion, dtype=np.float64)
    rows = matrix.sum(axis=1, keepdims=True)
    normalised = np.divide(matrix, rows, out=np.zeros_like(matrix), where=rows > 0)
    size = max(5, 0.5 * len(matrix))
    figure = Figure(figsize=(size, size))
    axis = figure.subplots()
    image = axis.imshow(normalised, cmap="Blues", vmin=0, vmax=1)
    axis.set(xlabel="predicted class", ylabel="true class", title="Confusion matrix")
    _class_ticks(axis.set_xticks, len(matrix))
    _class_ticks(axis.set_yticks, len(matrix))
    if len(matrix) <= 20:
        for (row, col), value in np.ndenumerate(normalised):
            colour = "white" if value > 0.5 else "black"
            axis.text(col, row, f"{value:.2f}", ha="center", va="center", color=colour, size=7)
    figure.colorbar(image, ax=axis, fraction=0.046)
    figure.tight_layout()
    figure.savefig(path, dpi=100)


def _class_ticks(set_ticks, num_classes):
    """One tick per class when they fit; matplotlib's own choice otherwise."""
    if num_classes <= _ALL_TICKS_UP_TO:
        set_ticks(np.arange(num_classes))
