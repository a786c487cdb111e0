# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Synthetic CIFAR-10/100 files in the official binary layout, for tests of the input pipeline.

MindSpore's CIFAR readers take a fixed record count from each file (10,000 per CIFAR-10 batch
file; 50,000 / 10,000 for CIFAR-100), so the files are full size; the pixels say which record an
image came from and whether it was flipped, and the class sizes are chosen so that subsets stay
small. Nothing here imports the code under test.
"""

import os

import numpy as np

SIDE = 32
PLANE = SIDE * SIDE

# Red at column w is RAMP[w]: 0 at the left edge, 255 at the right, so a flip is visible.
RAMP = (np.arange(SIDE) * 255 // (SIDE - 1)).astype(np.uint8)

CIFAR10_TRAIN_FILES = tuple(f"data_batch_{i}.bin" for i in range(1, 6))
CIFAR10_TEST_FILE = "test_batch.bin"
CIFAR10_RECORDS_PER_FILE = 10000
CIFAR100_TRAIN_FILE = "train.bin"
CIFAR100_TEST_FILE = "test.bin"
CIFAR100_TRAIN_RECORDS = 50000
CIFAR100_TEST_RECORDS = 10000

# Default class sizes: one small class sets n_max (the fewest images of any class), so the
# long-tailed subsets have tens of images, not thousands. It is not the last class on purpose.
CIFAR10_SMALL_CLASS, CIFAR10_SMALL_COUNT = 3, 50
CIFAR100_SMALL_CLASS, CIFAR100_SMALL_COUNT = 41, 20


def pattern_image(record_id):
    """HWC uint8 [32, 32, 3] image of a record: red = RAMP across the width, green and blue
    = the record's index as two base-256 digits (uniform over the image)."""
    image = np.empty((SIDE, SIDE, 3), np.uint8)
    image[:, :, 0] = RAMP[None, :]
    image[:, :, 1] = record_id // 256
    image[:, :, 2] = record_id % 256
    return image


def record_ids_of(images_hwc):
    """Record indices [N] of uint8 HWC images [N, 32, 32, 3], possibly cropped or flipped, read
    from the centre pixel: a 4-pixel crop shift never moves it outside the original image."""
    centre = np.asarray(images_hwc)[:, SIDE // 2, SIDE // 2].astype(np.int64)
    return centre[:, 1] * 256 + centre[:, 2]


def class_counts(total, num_classes, small_class, small_count):
    """Per-class sizes [C] summing to total: small_class gets small_count, the rest share
    what is left as evenly as possible (lower classes get the extra ones)."""
    others = [c for c in range(num_classes) if c != small_class]
    share, extra = divmod(total - small_count, len(others))
    counts = np.full(num_classes, share, np.int64)
    counts[others[:extra]] += 1
    counts[small_class] = small_count
    return counts


def interleaved_labels(counts, seed):
    """Labels [sum(counts)] with counts[c] copies of class c, in a fixed-seed shuffled order."""
    labels = np.repeat(np.arange(len(counts)), counts)
    return labels[np.random.RandomState(seed).permutation(labels.size)]


def make_records(labels, coarse_labels=None):
    """Records uint8 [N, label bytes + 3072]: (coarse label byte,) label byte, then the red,
    green and blue planes of pattern_image(i) for record i."""
    labels = np.asarray(labels)
    count = labels.size
    label_bytes = 1 if coarse_labels is None else 2
    records = np.empty((count, label_bytes + 3 * PLANE), np.uint8)

    # label bytes
    if coarse_labels is not None:
        records[:, 0] = coarse_labels
    records[:, label_bytes - 1] = labels

    # channel planes, CHW as in the official files
    planes = records[:, label_bytes:].reshape(count, 3, SIDE, SIDE)
    ids = np.arange(count)
    planes[:, 0] = RAMP[None, None, :]
    planes[:, 1] = (ids // 256)[:, None, None]
    planes[:, 2] = (ids % 256)[:, None, None]
    return records


def write_cifar10(folder, train_labels=None, test_labels=None):
    """Write data_batch_1..5.bin, test_batch.bin and batches.meta.txt into folder.

    Args:
        folder (str): destination, created if needed.
        train_labels (array): int [50000]; default CIFAR10_SMALL_COUNT images of class
            CIFAR10_SMALL_CLASS and the rest spread over the other classes.
        test_labels (array): int [10000]; default 1,000 per class.

    Returns:
        dict: {"train": labels [50000], "test": labels [10000]} as written (file order).
    """
    os.makedirs(folder, exist_ok=True)
    total = CIFAR10_RECORDS_PER_FILE * len(CIFAR10_TRAIN_FILES)
    if train_labels is None:
        counts = class_counts(total, 10, CIFAR10_SMALL_CLASS, CIFAR10_SMALL_COUNT)
        train_labels = interleaved_labels(counts, seed=10)
    if test_labels is None:
        test_labels = interleaved_labels(np.full(10, 1000), seed=11)

    # five training files of 10,000 records, then the test file
    train = make_records(train_labels)
    for index, name in enumerate(CIFAR10_TRAIN_FILES):
        start = index * CIFAR10_RECORDS_PER_FILE
        train[start : start + CIFAR10_RECORDS_PER_FILE].tofile(os.path.join(folder, name))
    make_records(test_labels).tofile(os.path.join(folder, CIFAR10_TEST_FILE))
    with open(os.path.join(folder, "batches.meta.txt"), "w") as f:
        f.write("".join(f"class_{c}\n" for c in range(10)))
    return {"train": np.asarray(train_labels), "test": np.asarray(test_labels)}


def write_cifar100(folder, train_labels=None, test_labels=None):
    """Write train.bin and test.bin (coarse label = fine // 5) into folder.

    Args:
        folder (str): destination, created if needed.
        train_labels (array): fine labels int [50000]; default CIFAR100_SMALL_COUNT images of
            class CIFAR100_SMALL_CLASS and the rest spread over the other classes.
        test_labels (array): fine labels int [10000]; default 100 per class.

    Returns:
        dict: {"train": fine labels [50000], "test": fine labels [10000]} (file order).
    """
    os.makedirs(folder, exist_ok=True)
    if train_labels is None:
        counts = class_counts(
            CIFAR100_TRAIN_RECORDS, 100, CIFAR100_SMALL_CLASS, CIFAR100_SMALL_COUNT
        )
        train_labels = interleaved_labels(counts, seed=100)
    if test_labels is None:
        test_labels = interleaved_labels(np.full(100, 100), seed=101)

    # fine label in the second byte, as in the official files
    for name, fine in ((CIFAR100_TRAIN_FILE, train_labels), (CIFAR100_TEST_FILE, test_labels)):
        fine = np.asarray(fine)
        make_records(fine, coarse_labels=fine // 5).tofile(os.path.join(folder, name))
    return {"train": np.asarray(train_labels), "test": np.asarray(test_labels)}


def link_copy(source, dest, skip=()):
    """Make dest a folder of symbolic links to source's files (except skip), so a test can
    replace one file without rewriting the others."""
    os.makedirs(dest, exist_ok=True)
    for name in os.listdir(source):
        if name not in skip:
            os.symlink(os.path.join(source, name), os.path.join(dest, name))
    return dest
