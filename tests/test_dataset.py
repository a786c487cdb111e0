# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Tests of the long-tailed CIFAR input pipeline against independent numpy references.

Synthetic full-size files (tests/cifar_fixtures.py) encode each record's index and a flip-visible
pattern in the pixels, so every yielded image can be traced back to its record.
"""

import hashlib
import io
import os
import tarfile
import time
import urllib.error
from decimal import ROUND_FLOOR, Decimal, getcontext

import cifar_fixtures as cf
import numpy as np
import pytest

import dataset
from model_utils.errors import UserInputError

# Published per-channel statistics, written out here rather than read from the code under test.
CIFAR10_MEAN = np.array([0.4914, 0.4822, 0.4465])
CIFAR10_STD = np.array([0.2470, 0.2435, 0.2616])
CIFAR100_MEAN = np.array([0.5071, 0.4865, 0.4409])
CIFAR100_STD = np.array([0.2673, 0.2564, 0.2762])
CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz"

# The CIFAR-10 exponential profiles with n_max = 5000, as published for long-tailed CIFAR.
CIFAR10_EXP_COUNTS = {
    10: [5000, 3871, 2997, 2320, 1796, 1391, 1077, 834, 645, 500],
    50: [5000, 3237, 2096, 1357, 878, 568, 368, 238, 154, 100],
    100: [5000, 2997, 1796, 1077, 645, 387, 232, 139, 83, 50],
    200: [5000, 2775, 1540, 854, 474, 263, 146, 81, 45, 25],
}


# ---------------------------------------------------------------------------------------------
# Independent references
# ---------------------------------------------------------------------------------------------


def exact_exp_counts(n_max, ratio, num_classes):
    """floor(n_max * ratio ** (-c / (C - 1))) in 50-digit decimal arithmetic."""
    getcontext().prec = 50
    counts = []
    for c in range(num_classes):
        value = Decimal(n_max) * Decimal(ratio) ** (Decimal(-c) / Decimal(num_classes - 1))
        counts.append(int(value.to_integral_value(rounding=ROUND_FLOOR)))
    return counts


def protocol_indices(labels, counts):
    """LDAM-DRW selection with the legacy global generator: seed(0), shuffle per class."""
    saved = np.random.get_state()
    try:
        np.random.seed(0)
        picked = []
        for cls, want in enumerate(counts):
            members = np.where(labels == cls)[0]
            np.random.shuffle(members)
            picked.extend(members[:want].tolist())
    finally:
        np.random.set_state(saved)
    return np.array(picked, dtype=np.int64)


def to_pixels(images_chw, mean, std):
    """Undo normalization: float [B, 3, 32, 32] -> uint8 HWC [B, 32, 32, 3], checking that the
    values land on whole pixel levels (they do only with the right mean and std)."""
    values = (images_chw.transpose(0, 2, 3, 1).astype(np.float64) * std + mean) * 255.0
    pixels = np.rint(values)
    assert np.abs(values - pixels).max() < 0.01
    assert pixels.min() >= 0 and pixels.max() <= 255
    return pixels.astype(np.uint8)


def crop_flip_candidates(image):
    """All 162 results of a 4-pixel-padded 32x32 crop, with and without a width flip:
    (flipped [162] bool, images [162, 32, 32, 3])."""
    flags, crops = [], []
    for flipped, source in ((False, image), (True, image[:, ::-1])):
        padded = np.pad(source, ((4, 4), (4, 4), (0, 0)))
        for dy in range(9):
            for dx in range(9):
                flags.append(flipped)
                crops.append(padded[dy : dy + 32, dx : dx + 32])
    return np.array(flags), np.stack(crops)


def collect(pipeline, mean, std, num_epochs=1):
    """Per epoch: (record ids [N], labels [N], pixels uint8 [N, 32, 32, 3], batch sizes)."""
    iterator = pipeline.create_dict_iterator(output_numpy=True, num_epochs=num_epochs)
    epochs = []
    for _ in range(num_epochs):
        pixels, labels, sizes = [], [], []
        for row in iterator:
            assert row["image"].dtype == np.float32 and row["label"].dtype == np.int32
            assert row["image"].shape[1:] == (3, 32, 32)
            pixels.append(to_pixels(row["image"], mean, std))
            labels.append(row["label"])
            sizes.append(row["label"].shape[0])
        pixels = np.concatenate(pixels)
        epochs.append((cf.record_ids_of(pixels), np.concatenate(labels), pixels, sizes))
    return epochs


def collect_one(pipeline, mean, std):
    """One epoch of collect."""
    return collect(pipeline, mean, std)[0]


def one_line_error(func, *args, **kwargs):
    """Run func expecting a UserInputError; return its single-line message."""
    with pytest.raises(UserInputError) as info:
        func(*args, **kwargs)
    message = str(info.value)
    assert "\n" not in message and message
    return message


# ---------------------------------------------------------------------------------------------
# Synthetic data (module-scoped: the files are full size, ~180 MB per dataset)
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def c10(tmp_path_factory):
    """data_root whose cifar10_dataset_directory holds synthetic CIFAR-10, and its labels."""
    root = tmp_path_factory.mktemp("c10root")
    labels = cf.write_cifar10(root / "cifar10_dataset_directory")
    return root, labels


@pytest.fixture(scope="module")
def c100(tmp_path_factory):
    """data_root whose cifar-100-binary holds synthetic CIFAR-100, and its fine labels."""
    root = tmp_path_factory.mktemp("c100root")
    labels = cf.write_cifar100(root / "cifar-100-binary")
    return root, labels


# ---------------------------------------------------------------------------------------------
# Class counts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("ratio", sorted(CIFAR10_EXP_COUNTS))
def test_cifar10_exp_counts_are_the_published_lists(ratio):
    assert dataset.get_img_num_per_cls("cifar10", "exp", ratio) == CIFAR10_EXP_COUNTS[ratio]


def test_cifar10_ratio_100_keeps_12406_images():
    assert sum(dataset.get_img_num_per_cls("cifar10", "exp", 100)) == 12406


@pytest.mark.parametrize("name,num_classes,n_max", [("cifar10", 10, 5000), ("cifar100", 100, 500)])
@pytest.mark.parametrize("ratio", [1, 2, 5, 10, 20, 50, 100, 200, 500])
def test_exp_counts_match_exact_arithmetic(name, num_classes, n_max, ratio):
    expected = exact_exp_counts(n_max, ratio, num_classes)
    assert dataset.get_img_num_per_cls(name, "exp", ratio) == expected


def test_exp_counts_with_small_n_max():
    assert dataset.get_img_num_per_cls("cifar10", "exp", 10, n_max=50) == exact_exp_counts(
        50, 10, 10
    )


def test_step_counts():
    assert dataset.get_img_num_per_cls("cifar10", "step", 10) == [5000] * 5 + [500] * 5
    assert dataset.get_img_num_per_cls("cifar10", "step", 3) == [5000] * 5 + [1666] * 5
    assert dataset.get_img_num_per_cls("cifar100", "step", 100) == [500] * 50 + [5] * 50


@pytest.mark.parametrize("imb_type", ["exp", "step"])
def test_ratio_one_keeps_the_balanced_set(imb_type):
    assert dataset.get_img_num_per_cls("cifar10", imb_type, 1) == [5000] * 10
    assert dataset.get_img_num_per_cls("cifar100", imb_type, 1) == [500] * 100


def test_largest_ratio_keeps_one_image_and_beyond_is_rejected():
    assert dataset.get_img_num_per_cls("cifar10", "exp", 5000)[-1] == 1
    message = one_line_error(dataset.get_img_num_per_cls, "cifar10", "exp", 5001)
    assert "class 9" in message and "largest allowed imb_ratio is 5000" in message
    message = one_line_error(dataset.get_img_num_per_cls, "cifar100", "step", 600)
    assert "class 50" in message and "largest allowed imb_ratio is 500" in message


@pytest.mark.parametrize("bad", [0.5, 0, -3, float("nan"), float("inf"), "100", True, None])
def test_bad_imb_ratio_is_rejected(bad):
    message = one_line_error(dataset.get_img_num_per_cls, "cifar10", "exp", bad)
    assert "imb_ratio" in message and ">= 1" in message


def test_unknown_dataset_and_imb_type_are_rejected():
    message = one_line_error(dataset.get_img_num_per_cls, "cifar1000", "exp", 10)
    assert "cifar1000" in message and "cifar10" in message and "cifar100" in message
    message = one_line_error(dataset.get_img_num_per_cls, "cifar10", "linear", 10)
    assert "imb_type" in message and "linear" in message and "exp" in message


# ---------------------------------------------------------------------------------------------
# Which images: the LDAM-DRW protocol
# ---------------------------------------------------------------------------------------------


def test_selection_matches_the_global_seed_protocol_fast_and_leaves_global_state():
    labels = np.random.RandomState(7).randint(0, 10, size=50000)
    counts = [int(n) for n in np.minimum(CIFAR10_EXP_COUNTS[100], np.bincount(labels))]
    expected = protocol_indices(labels, counts)
    before = np.random.get_state()[1].copy()

    start = time.perf_counter()
    chosen = dataset.select_lt_indices(labels, counts)
    elapsed = time.perf_counter() - start

    np.testing.assert_array_equal(chosen, expected)
    assert chosen.dtype == np.int64
    assert elapsed < 0.5, f"selection took {elapsed:.3f} s"
    np.testing.assert_array_equal(np.random.get_state()[1], before)


def test_selection_is_repeatable_and_rejects_overdraw():
    labels = np.repeat(np.arange(3), 4)
    first = dataset.select_lt_indices(labels, [4, 2, 1])
    np.testing.assert_array_equal(first, dataset.select_lt_indices(labels, [4, 2, 1]))
    np.testing.assert_array_equal(first, protocol_indices(labels, [4, 2, 1]))
    message = one_line_error(dataset.select_lt_indices, labels, [4, 5, 1])
    assert "counts[1]=5" in message and "4 records" in message


def test_subset_digest_is_sha256_of_int64_little_endian():
    indices = np.array([5, 0, 49999, 3])
    expected = hashlib.sha256(b"".join(int(i).to_bytes(8, "little") for i in indices))
    assert dataset.subset_digest(indices) == expected.hexdigest()
    assert dataset.subset_digest(indices[::-1]) != expected.hexdigest()


@pytest.mark.parametrize("num_shards", [1, 2, 3, 4])
def test_shards_partition_the_subset(num_shards):
    subset = np.random.RandomState(1).permutation(101)
    shards = [dataset.shard_indices(subset, num_shards, s) for s in range(num_shards)]
    together = np.concatenate(shards)
    assert together.size == subset.size and len(set(together.tolist())) == subset.size
    assert set(together.tolist()) == set(subset.tolist())
    assert max(s.size for s in shards) - min(s.size for s in shards) <= 1


# ---------------------------------------------------------------------------------------------
# Reading and locating files
# ---------------------------------------------------------------------------------------------


def test_read_labels_match_the_written_files(c10, c100):
    root, labels = c10
    np.testing.assert_array_equal(dataset.read_labels(root, "cifar10", "train"), labels["train"])
    np.testing.assert_array_equal(dataset.read_labels(root, "cifar10", "test"), labels["test"])
    root, labels = c100
    np.testing.assert_array_equal(dataset.read_labels(root, "cifar100", "train"), labels["train"])
    np.testing.assert_array_equal(dataset.read_labels(root, "cifar100", "test"), labels["test"])
    message = one_line_error(dataset.read_labels, root, "cifar100", "val")
    assert "split" in message and "val" in message


def test_resolve_accepts_the_three_layouts(c10, tmp_path):
    root, _ = c10
    source = root / "cifar10_dataset_directory"
    assert dataset.resolve_data_dir(root, "cifar10") == str(source)
    assert dataset.resolve_data_dir(source, "cifar10") == str(source)
    tarball_layout = tmp_path / "cifar-10-batches-bin"
    cf.link_copy(source, tarball_layout)
    assert dataset.resolve_data_dir(tmp_path, "cifar10") == str(tarball_layout)


def test_missing_folder_names_files_url_and_where_to_unpack(tmp_path):
    missing = tmp_path / "nowhere"
    message = one_line_error(dataset.resolve_data_dir, missing, "cifar10")
    for piece in (str(missing), "data_batch_1.bin", "test_batch.bin", "cifar-10-binary.tar.gz"):
        assert piece in message
    assert CIFAR10_URL in message and "cifar-10-batches-bin" in message
    message = one_line_error(dataset.load_test, tmp_path, "cifar100")
    assert "train.bin" in message and "cifar-100-binary.tar.gz" in message


def test_partial_folder_names_the_missing_files(c10, tmp_path):
    root, _ = c10
    partial = cf.link_copy(
        root / "cifar10_dataset_directory", tmp_path, skip={"data_batch_4.bin", "test_batch.bin"}
    )
    message = one_line_error(dataset.load_train_lt, partial, batch_size=4)
    assert str(partial) in message and "lacks data_batch_4.bin, test_batch.bin" in message


def _with_replaced_file(c10_root, folder, name, data):
    """Link the synthetic CIFAR-10 files into folder, with name replaced by bytes data."""
    cf.link_copy(c10_root / "cifar10_dataset_directory", folder, skip={name})
    (folder / name).write_bytes(data)
    return folder / name


def test_size_not_whole_records_is_rejected(c10, tmp_path):
    root, _ = c10
    path = _with_replaced_file(root, tmp_path, "test_batch.bin", bytes(3073 * 10000 - 7))
    message = one_line_error(dataset.load_test, tmp_path)
    assert str(path) in message and "not a whole number of 3073-byte" in message


def test_wrong_record_count_is_rejected(c10, tmp_path):
    root, _ = c10
    path = _with_replaced_file(root, tmp_path, "data_batch_2.bin", bytes(3073 * 100))
    message = one_line_error(dataset.load_train_lt, tmp_path, batch_size=4)
    assert str(path) in message and "holds 100 records, expected 10000" in message


def test_label_outside_class_range_is_rejected(c10, tmp_path):
    root, _ = c10
    records = np.fromfile(root / "cifar10_dataset_directory" / "test_batch.bin", np.uint8)
    records = records.reshape(-1, 3073).copy()
    records[123, 0] = 10
    path = _with_replaced_file(root, tmp_path, "test_batch.bin", records.tobytes())
    message = one_line_error(dataset.load_test, tmp_path)
    assert str(path) in message and "record 123 has label 10" in message and "0..9" in message


def test_cifar100_checks_the_fine_label_only(c100, tmp_path):
    root, _ = c100
    records = np.fromfile(root / "cifar-100-binary" / "test.bin", np.uint8).reshape(-1, 3074)
    records = records.copy()
    records[5, 0] = 200  # coarse label: not used, not checked
    (tmp_path / "train.bin").symlink_to(root / "cifar-100-binary" / "train.bin")
    (tmp_path / "test.bin").write_bytes(records.tobytes())
    assert dataset.read_labels(tmp_path, "cifar100", "test").max() == 99
    records[77, 1] = 100
    (tmp_path / "test.bin").write_bytes(records.tobytes())
    message = one_line_error(dataset.read_labels, tmp_path, "cifar100", "test")
    assert "record 77 has label 100" in message and "0..99" in message


def test_extra_bin_file_that_mindspore_would_read_is_rejected(c10, tmp_path):
    root, _ = c10
    source = root / "cifar10_dataset_directory"
    cf.link_copy(source, tmp_path)
    (tmp_path / "data_batch_6.bin").symlink_to(source / "data_batch_1.bin")
    message = one_line_error(dataset.read_labels, tmp_path, "cifar10", "train")
    assert "data_batch_6.bin" in message and str(tmp_path) in message


# ---------------------------------------------------------------------------------------------
# Training pipeline
# ---------------------------------------------------------------------------------------------


def test_train_pipeline_yields_the_subset_with_crop_flip_and_normalization(c10, tmp_path):
    root, labels = c10
    n_max = cf.CIFAR10_SMALL_COUNT
    expected_counts = exact_exp_counts(n_max, 10, 10)
    expected = protocol_indices(labels["train"], expected_counts)
    index_file = tmp_path / "subset_indices.txt"

    counts, pipeline = dataset.load_train_lt(
        root,
        imb_ratio=10,
        batch_size=16,
        drop_remainder=False,
        index_file=str(index_file),
    )
    ids, got_labels, pixels, sizes = collect_one(pipeline, CIFAR10_MEAN, CIFAR10_STD)

    # the subset, its global counts, and labels aligned with the records
    assert counts == expected_counts
    assert sorted(ids.tolist()) == sorted(expected.tolist())
    np.testing.assert_array_equal(got_labels, labels["train"][ids])
    assert sizes[-1] == sum(expected_counts) % 16 and all(s == 16 for s in sizes[:-1])

    # the index file: the indices in selection order and the digest of their int64 bytes
    np.testing.assert_array_equal(np.loadtxt(index_file, dtype=np.int64), expected)
    digest = hashlib.sha256(expected.astype("<i8").tobytes()).hexdigest()
    assert digest in index_file.read_text()

    # each image is a 4-padded crop of its record, flipped or not; both happen
    flips = set()
    for record, image in zip(ids, pixels):
        flags, candidates = crop_flip_candidates(cf.pattern_image(record))
        match = np.all(candidates == image, axis=(1, 2, 3))
        assert match.any(), f"record {record}: not a crop/flip of the original"
        flips.update(flags[match].tolist())
    assert flips == {False, True}


def test_train_value_range_matches_normalized_extremes(c10):
    root, _ = c10
    _, pipeline = dataset.load_train_lt(root, imb_ratio=50, batch_size=200, drop_remainder=False)
    images = np.concatenate(
        [row[0] for row in pipeline.create_tuple_iterator(output_numpy=True, num_epochs=1)]
    )
    low = -CIFAR10_MEAN / CIFAR10_STD
    high = (1 - CIFAR10_MEAN) / CIFAR10_STD
    red = images[:, 0]
    assert float(red.min()) == pytest.approx(low[0], abs=1e-5)
    assert float(red.max()) == pytest.approx(high[0], abs=1e-5)
    for channel in range(3):
        assert images[:, channel].min() >= low[channel] - 1e-5
        assert images[:, channel].max() <= high[channel] + 1e-5


def test_train_order_reshuffles_each_epoch_and_repeats_with_the_seed(c10):
    root, _ = c10

    def epoch_orders(seed):
        _, pipeline = dataset.load_train_lt(
            root, imb_ratio=10, batch_size=32, seed=seed, drop_remainder=False
        )
        return [ids for ids, *_ in collect(pipeline, CIFAR10_MEAN, CIFAR10_STD, num_epochs=2)]

    first, second = epoch_orders(3), epoch_orders(3)
    assert [a.tolist() for a in first] == [b.tolist() for b in second]
    assert first[0].tolist() != first[1].tolist()
    assert sorted(first[0].tolist()) == sorted(first[1].tolist())
    assert epoch_orders(4)[0].tolist() != first[0].tolist()


def test_two_shards_are_disjoint_and_cover_the_subset(c10):
    root, labels = c10
    expected_counts = exact_exp_counts(cf.CIFAR10_SMALL_COUNT, 5, 10)
    assert sum(expected_counts) % 2 == 0  # an even subset splits without a remainder
    expected = protocol_indices(labels["train"], expected_counts)

    shards = []
    for shard_id in range(2):
        counts, pipeline = dataset.load_train_lt(
            root, imb_ratio=5, batch_size=5, num_shards=2, shard_id=shard_id
        )
        assert counts == expected_counts  # global, not per shard
        ids, got_labels, _, _ = collect_one(pipeline, CIFAR10_MEAN, CIFAR10_STD)
        np.testing.assert_array_equal(got_labels, labels["train"][ids])
        shards.append(set(ids.tolist()))
    assert not shards[0] & shards[1]
    assert shards[0] | shards[1] == set(expected.tolist())


def test_uneven_shards_take_the_same_number_of_steps(c10):
    root, _ = c10
    total = sum(exact_exp_counts(cf.CIFAR10_SMALL_COUNT, 10, 10))
    steps, seen = [], []
    for shard_id in range(3):
        _, pipeline = dataset.load_train_lt(
            root, imb_ratio=10, batch_size=8, num_shards=3, shard_id=shard_id
        )
        ids, _, _, sizes = collect_one(pipeline, CIFAR10_MEAN, CIFAR10_STD)
        steps.append(len(sizes))
        seen.append(set(ids.tolist()))
    assert steps == [(total // 3) // 8] * 3
    assert not (seen[0] & seen[1]) and not (seen[0] & seen[2]) and not (seen[1] & seen[2])


def test_cifar100_pipeline_uses_fine_labels(c100):
    root, labels = c100
    expected_counts = exact_exp_counts(cf.CIFAR100_SMALL_COUNT, 10, 100)
    expected = protocol_indices(labels["train"], expected_counts)

    counts, pipeline = dataset.load_train_lt(
        root, dataset="cifar100", imb_ratio=10, batch_size=64, drop_remainder=False
    )
    assert pipeline.get_col_names() == ["image", "label"]
    ids, got_labels, _, _ = collect_one(pipeline, CIFAR100_MEAN, CIFAR100_STD)
    assert counts == expected_counts
    assert sorted(ids.tolist()) == sorted(expected.tolist())
    np.testing.assert_array_equal(got_labels, labels["train"][ids])


def test_bad_pipeline_arguments_are_rejected(c10):
    root, _ = c10
    cases = [
        (dict(batch_size=0), "batch_size=0"),
        (dict(num_parallel_workers=0), "num_parallel_workers=0"),
        (dict(seed=-1), "seed=-1"),
        (dict(shard_id=0), "give both or neither"),
        (dict(num_shards=2, shard_id=2), "shard_id=2"),
        (dict(imb_type="linear"), "imb_type='linear'"),
        (dict(dataset="mnist"), "dataset='mnist'"),
        (dict(imb_ratio=10, batch_size=100, num_shards=2, shard_id=0), "batch_size <= 99"),
    ]
    for kwargs, piece in cases:
        message = one_line_error(dataset.load_train_lt, root, **kwargs)
        assert piece in message, (kwargs, message)


# ---------------------------------------------------------------------------------------------
# Test pipeline
# ---------------------------------------------------------------------------------------------


def test_test_pipeline_yields_every_image_in_order_unaugmented(c10):
    root, labels = c10
    pipeline = dataset.load_test(root, batch_size=64)
    ids, got_labels, pixels, sizes = collect_one(pipeline, CIFAR10_MEAN, CIFAR10_STD)

    assert sum(sizes) == 10000 and len(sizes) == 157 and sizes[-1] == 10000 % 64
    np.testing.assert_array_equal(ids, np.arange(10000))
    np.testing.assert_array_equal(got_labels, labels["test"])
    for record in (0, 4321, 9999):
        np.testing.assert_array_equal(pixels[record], cf.pattern_image(record))


def test_cifar100_test_pipeline(c100):
    root, labels = c100
    pipeline = dataset.load_test(root, "cifar100", batch_size=300)
    ids, got_labels, _, sizes = collect_one(pipeline, CIFAR100_MEAN, CIFAR100_STD)
    assert sum(sizes) == 10000 and sizes[-1] == 10000 % 300
    np.testing.assert_array_equal(ids, np.arange(10000))
    np.testing.assert_array_equal(got_labels, labels["test"])


# ---------------------------------------------------------------------------------------------
# Download and ensure_dataset (no network: file:// URLs and a failing urlopen)
# ---------------------------------------------------------------------------------------------


def _tarball(path, members):
    """Write a .tar.gz holding {name: bytes}; return its MD5."""
    with tarfile.open(path, "w:gz") as tar:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.md5(path.read_bytes()).hexdigest()


def _official_like_members():
    names = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin", "batches.meta.txt"]
    return {f"cifar-10-batches-bin/{name}": name.encode() for name in names}


def _no_network(*args, **kwargs):
    raise urllib.error.URLError("no network here")


def test_download_verifies_md5_and_unpacks(tmp_path, monkeypatch):
    archive = tmp_path / "src.tar.gz"
    md5 = _tarball(archive, _official_like_members())
    root = tmp_path / "data"

    unpacked = dataset.download_cifar(root, "cifar10", url=archive.as_uri(), md5=md5)
    assert unpacked == str(root / "cifar-10-batches-bin")
    assert (root / "cifar-10-batches-bin" / "data_batch_3.bin").read_bytes() == b"data_batch_3.bin"
    assert not [p for p in os.listdir(root) if p.endswith(".part")]

    # once present, ensure_dataset does not fetch again
    monkeypatch.setattr(dataset.urllib.request, "urlopen", _no_network)
    assert dataset.ensure_dataset(root, "cifar10", download=True) == unpacked


def test_download_rejects_a_wrong_md5(tmp_path):
    archive = tmp_path / "src.tar.gz"
    _tarball(archive, _official_like_members())
    root = tmp_path / "data"
    message = one_line_error(dataset.download_cifar, root, url=archive.as_uri(), md5="0" * 32)
    assert "expected " + "0" * 32 in message
    assert os.listdir(root) == []


@pytest.mark.parametrize("bad_name", ["../escape.bin", "/tmp/absolute.bin"])
def test_download_refuses_members_outside_the_folder(tmp_path, bad_name):
    archive = tmp_path / "src.tar.gz"
    members = _official_like_members()
    members[bad_name] = b"bad"
    md5 = _tarball(archive, members)
    root = tmp_path / "data"
    message = one_line_error(dataset.download_cifar, root, url=archive.as_uri(), md5=md5)
    assert bad_name in message
    assert not (tmp_path / "escape.bin").exists()
    assert not (root / "cifar-10-batches-bin").exists()


def test_ensure_dataset_without_network_gives_one_clear_line(tmp_path, monkeypatch):
    monkeypatch.setattr(dataset.urllib.request, "urlopen", _no_network)
    root = tmp_path / "data"
    message = one_line_error(dataset.ensure_dataset, root, "cifar10", download=True)
    for piece in (CIFAR10_URL, str(root), "data_batch_1.bin", "tar -xzf cifar-10-binary.tar.gz"):
        assert piece in message
    assert "no network here" in message
    assert not [p for p in os.listdir(root) if p.endswith(".part")]

    # without download: the same facts, no attempt
    message = one_line_error(dataset.ensure_dataset, root, "cifar10", download=False)
    for piece in (CIFAR10_URL, str(root), "data_batch_1.bin", "cifar-10-batches-bin"):
        assert piece in message


def test_ensure_dataset_returns_a_present_folder(c10):
    root, _ = c10
    folder = dataset.ensure_dataset(root, "cifar10", download=False)
    assert folder == str(root / "cifar10_dataset_directory")


# ---------------------------------------------------------------------------------------------
# Real CIFAR-10
# ---------------------------------------------------------------------------------------------


@pytest.mark.real_data
def test_real_cifar10_long_tail_and_test_split(cifar10_dir):
    # the subset: read labels, count, select, in well under a second
    start = time.perf_counter()
    labels = dataset.read_labels(cifar10_dir, "cifar10", "train")
    counts = dataset.get_img_num_per_cls("cifar10", "exp", 100)
    subset = dataset.select_lt_indices(labels, counts)
    elapsed = time.perf_counter() - start
    assert elapsed < 1.0, f"building the subset took {elapsed:.3f} s"
    assert np.bincount(labels, minlength=10).tolist() == [5000] * 10
    assert subset.size == 12406
    assert np.bincount(labels[subset], minlength=10).tolist() == CIFAR10_EXP_COUNTS[100]
    np.testing.assert_array_equal(subset, protocol_indices(labels, CIFAR10_EXP_COUNTS[100]))

    # the training pipeline yields exactly that subset's classes
    num_each_class, pipeline = dataset.load_train_lt(
        cifar10_dir, imb_ratio=100, batch_size=256, drop_remainder=False
    )
    assert num_each_class == CIFAR10_EXP_COUNTS[100]
    yielded = np.concatenate(
        [row[1] for row in pipeline.create_tuple_iterator(output_numpy=True, num_epochs=1)]
    )
    assert np.bincount(yielded, minlength=10).tolist() == CIFAR10_EXP_COUNTS[100]

    # the test split: all 10,000 images, labels in file order
    test = dataset.load_test(cifar10_dir, batch_size=128)
    test_labels = np.concatenate(
        [row[1] for row in test.create_tuple_iterator(output_numpy=True, num_epochs=1)]
    )
    assert test_labels.size == 10000
    np.testing.assert_array_equal(test_labels, dataset.read_labels(cifar10_dir, "cifar10", "test"))
