# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Long-tailed CIFAR-10/100 input pipelines read from the official binary release.

The class-balanced loss is only meaningful on imbalanced data, so this module cuts the
long-tailed training subset (the LDAM-DRW protocol), checks the files, and serves both splits.
"""

import hashlib
import http.client
import logging
import math
import os
import shutil
import tarfile
import tempfile
import urllib.error
import urllib.request
from dataclasses import dataclass
from numbers import Real

import mindspore as ms
import mindspore.dataset as ds
import mindspore.dataset.transforms as transforms
import mindspore.dataset.vision as vision
import numpy as np

from model_utils.errors import UserInputError

logger = logging.getLogger(__name__)

IMB_TYPES = ("exp", "step")
IMAGE_BYTES = 32 * 32 * 3

# NOTE: the LDAM-DRW protocol seeds NumPy with 0 once before choosing images; a private
# RandomState(0) draws the same stream without touching the global generator.
SUBSET_SEED = 0

# Counts are floored after rounding to this many decimals, so that floating-point error in
# n_max * ratio**(-c / (C - 1)) cannot drop an image (5000 * 10**-1.0 evaluates to 499.999...).
_COUNT_DECIMALS = 6


@dataclass(frozen=True)
class CifarSpec:
    """What differs between CIFAR-10 and CIFAR-100 in the official binary release.

    records_per_file gives, for each split, every file name in read order with the number of
    records MindSpore's reader takes from it (it reads exactly that many, whatever the size).
    """

    name: str
    num_classes: int
    images_per_class: int
    label_bytes: int
    label_column: int
    records_per_file: dict
    mindspore_key: dict
    zoo_dir: str
    archive_dir: str
    archive: str
    url: str
    md5: str
    mean: tuple
    std: tuple

    @property
    def record_bytes(self):
        return self.label_bytes + IMAGE_BYTES

    def files(self, split):
        return list(self.records_per_file[split])


DATASETS = {
    "cifar10": CifarSpec(
        name="cifar10",
        num_classes=10,
        images_per_class=5000,
        label_bytes=1,
        label_column=0,
        records_per_file={
            "train": {f"data_batch_{i}.bin": 10000 for i in range(1, 6)},
            "test": {"test_batch.bin": 10000},
        },
        mindspore_key={"train": "data_batch", "test": "test_batch"},
        zoo_dir="cifar10_dataset_directory",
        archive_dir="cifar-10-batches-bin",
        archive="cifar-10-binary.tar.gz",
        url="https://www.cs.toronto.edu/~kriz/cifar-10-binary.tar.gz",
        md5="c32a1d4ab5d03f1284b67883e8d87530",
        mean=(0.4914, 0.4822, 0.4465),
        std=(0.2470, 0.2435, 0.2616),
    ),
    "cifar100": CifarSpec(
        name="cifar100",
        num_classes=100,
        images_per_class=500,
        label_bytes=2,
        label_column=1,
        records_per_file={"train": {"train.bin": 50000}, "test": {"test.bin": 10000}},
        mindspore_key={"train": "train", "test": "test"},
        zoo_dir="cifar100_dataset_directory",
        archive_dir="cifar-100-binary",
        archive="cifar-100-binary.tar.gz",
        url="https://www.cs.toronto.edu/~kriz/cifar-100-binary.tar.gz",
        md5="03b5dce01913d631647c71ecec9e9cb8",
        mean=(0.5071, 0.4865, 0.4409),
        std=(0.2673, 0.2564, 0.2762),
    ),
}


def get_spec(dataset):
    """Return the CifarSpec for "cifar10" or "cifar100"; anything else is a UserInputError."""
    if dataset not in DATASETS:
        raise UserInputError(f"dataset={dataset!r} is unknown; allowed: {sorted(DATASETS)}")
    return DATASETS[dataset]


# ---------------------------------------------------------------------------------------------
# Locating, checking and downloading the files
# ---------------------------------------------------------------------------------------------


def _candidate_dirs(data_root, spec):
    """Folders searched for the binaries, in order of preference."""
    return [
        data_root,
        os.path.join(data_root, spec.zoo_dir),
        os.path.join(data_root, spec.archive_dir),
    ]


def _all_files(spec):
    return spec.files("train") + spec.files("test")


def _how_to_get(data_root, spec):
    """The shared tail of every 'files missing' message: where to get them and where to put them."""
    return (
        f"get the official binary release {spec.url} (MD5 {spec.md5}) and unpack it with "
        f"`tar -xzf {spec.archive} -C {data_root}`, which creates "
        f"{os.path.join(data_root, spec.archive_dir)}"
    )


def _find_complete_dir(data_root, spec):
    """First candidate folder holding every expected file, or None."""
    for folder in _candidate_dirs(data_root, spec):
        if all(os.path.isfile(os.path.join(folder, name)) for name in _all_files(spec)):
            return folder
    return None


def resolve_data_dir(data_root, dataset="cifar10"):
    """Find the folder holding the binary files of one dataset under data_root.

    Accepted layouts, tried in this order: data_root itself holds the .bin files;
    data_root/cifar10_dataset_directory (the model zoo's name; cifar100_dataset_directory for
    CIFAR-100); data_root/cifar-10-batches-bin (what the official tarball unpacks to;
    cifar-100-binary for CIFAR-100). Only the presence of the files is checked here; their
    sizes and labels are checked when they are read.

    Args:
        data_root (str): folder given by the user.
        dataset (str): "cifar10" or "cifar100". Default "cifar10".

    Returns:
        str: the folder holding all of the expected files.

    Raises:
        UserInputError: no candidate folder holds all files; the message names the folders
            searched, the files expected (or those missing from a partial folder) and how to
            get them.
    """
    spec = get_spec(dataset)
    data_root = os.fspath(data_root)

    # a complete folder wins
    found = _find_complete_dir(data_root, spec)
    if found is not None:
        return found

    # a partial folder: name what it lacks
    expected = _all_files(spec)
    for folder in _candidate_dirs(data_root, spec):
        present = [n for n in expected if os.path.isfile(os.path.join(folder, n))]
        if present:
            missing = [n for n in expected if n not in present]
            raise UserInputError(
                f"{spec.name} data folder {folder} lacks {', '.join(missing)} "
                f"(expected {', '.join(expected)}); {_how_to_get(data_root, spec)}"
            )

    # nothing at all
    where = "does not exist" if not os.path.isdir(data_root) else "holds no CIFAR binaries"
    searched = ", ".join(_candidate_dirs(data_root, spec))
    raise UserInputError(
        f"{spec.name} data_root {data_root} {where}: looked for {', '.join(expected)} in "
        f"{searched}; {_how_to_get(data_root, spec)}"
    )


def _check_mindspore_file_set(data_dir, spec, split):
    """Reject extra .bin files that MindSpore's reader would also pick up for this split.

    NOTE: mirrors the file filter of MindSpore's CIFAR source op (cifar_op.cc): every *.bin in
    the folder whose name contains "data_batch"/"test_batch" (CIFAR-10) or "train"/"test"
    (CIFAR-100), in sorted order. An extra file would shift the row numbers the sampler uses.
    """
    key = spec.mindspore_key[split]
    read = sorted(
        name
        for name in os.listdir(data_dir)
        if name.endswith(".bin") and key in name and os.path.isfile(os.path.join(data_dir, name))
    )
    extra = [name for name in read if name not in spec.records_per_file[split]]
    if extra:
        raise UserInputError(
            f"data folder {data_dir} holds {', '.join(extra)} besides the official "
            f"{', '.join(spec.files(split))}; MindSpore's {spec.name} reader would read them too "
            f"and shift the record indices: move them out of the folder"
        )


def _read_label_column(path, spec, expected_records):
    """Labels [N] int64 of one binary file, read without decoding images in Python."""
    record = spec.record_bytes

    # size must be a whole number of official records
    size = os.path.getsize(path)
    if size % record:
        raise UserInputError(
            f"{path}: size {size} bytes is not a whole number of {record}-byte {spec.name} "
            f"records ({spec.label_bytes} label byte(s) + {IMAGE_BYTES} pixel bytes); the file is "
            f"truncated or not from the binary release {spec.url}"
        )
    count = size // record
    if count != expected_records:
        raise UserInputError(
            f"{path}: holds {count} records, expected {expected_records} as in the official "
            f"release (MindSpore's {spec.name} reader takes exactly {expected_records} from it)"
        )

    # label column of the record matrix
    records = np.memmap(path, dtype=np.uint8, mode="r", shape=(count, record))
    labels = np.array(records[:, spec.label_column], dtype=np.int64)
    del records

    # labels must name a class
    bad = np.flatnonzero(labels >= spec.num_classes)
    if bad.size:
        raise UserInputError(
            f"{path}: record {int(bad[0])} has label {int(labels[bad[0]])}, outside "
            f"0..{spec.num_classes - 1} for {spec.name} ({bad.size} such records)"
        )
    return labels


def _read_labels_in(data_dir, spec, split):
    _check_mindspore_file_set(data_dir, spec, split)
    parts = [
        _read_label_column(os.path.join(data_dir, name), spec, expected)
        for name, expected in spec.records_per_file[split].items()
    ]
    return np.concatenate(parts)


def read_labels(data_root, dataset="cifar10", split="train"):
    """Class labels of every record of one split, in the order MindSpore's reader yields rows.

    The files are read with np.memmap and only the label column is taken, so no image is
    decoded. CIFAR-100 records carry a coarse then a fine label byte; the fine label is used.

    Args:
        data_root (str): any folder accepted by resolve_data_dir.
        dataset (str): "cifar10" or "cifar100". Default "cifar10".
        split (str): "train" or "test". Default "train".

    Returns:
        np.ndarray: int64 [N] labels in 0..num_classes-1 (N = 50000 train, 10000 test).

    Raises:
        UserInputError: missing files, a size that is not a whole number of records or not
            the official record count, a label outside the class range, or extra .bin files.
    """
    spec = get_spec(dataset)
    if split not in ("train", "test"):
        raise UserInputError(f"split={split!r} is unknown; allowed: 'train', 'test'")
    return _read_labels_in(resolve_data_dir(data_root, dataset), spec, split)


def _md5_of(path):
    digest = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _one_line(err):
    return " ".join(str(err).split()) or type(err).__name__


def _fetch(url, archive, md5, timeout, data_root, spec):
    """Download url to a temporary file beside archive, check its MD5, then rename it."""
    fd, part = tempfile.mkstemp(prefix=spec.archive + ".", suffix=".part", dir=data_root)
    try:
        # stream to the temporary file, hashing as we go
        digest = hashlib.md5(usedforsecurity=False)
        try:
            with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout) as src:
                for chunk in iter(lambda: src.read(1 << 20), b""):
                    digest.update(chunk)
                    out.write(chunk)
        except (OSError, http.client.HTTPException) as err:
            raise UserInputError(
                f"could not download {url} into {data_root} ({_one_line(err)}); download it by "
                f"hand and unpack it with `tar -xzf {spec.archive} -C {data_root}` so that "
                f"{os.path.join(data_root, spec.archive_dir)} holds {', '.join(_all_files(spec))}"
            ) from err

        # only a verified archive gets the final name
        if digest.hexdigest() != md5:
            raise UserInputError(
                f"downloaded {url} has MD5 {digest.hexdigest()}, expected {md5}: it is corrupt or "
                f"not the official release; retry, or fetch it by hand into {data_root}"
            )
        os.replace(part, archive)
    finally:
        if os.path.exists(part):
            os.remove(part)


def _safe_unpack(archive, dest):
    """Unpack a tar archive into dest, refusing members that could escape or are not plain."""
    dest_real = os.path.realpath(dest)
    with tarfile.open(archive, "r:*") as tar:
        members = tar.getmembers()

        # check every member before writing anything
        for member in members:
            target = os.path.realpath(os.path.join(dest_real, member.name))
            inside = target == dest_real or target.startswith(dest_real + os.sep)
            if os.path.isabs(member.name) or ".." in member.name.split("/") or not inside:
                raise UserInputError(
                    f"archive {archive}: member {member.name!r} points outside {dest}; refusing "
                    f"to unpack it (not the official release)"
                )
            if not (member.isfile() or member.isdir()):
                raise UserInputError(
                    f"archive {archive}: member {member.name!r} is a link or special file; "
                    f"refusing to unpack it (the official release holds only plain files)"
                )

        # write folders, then files through a temporary name
        for member in members:
            target = os.path.join(dest_real, member.name)
            if member.isdir():
                os.makedirs(target, exist_ok=True)
                continue
            os.makedirs(os.path.dirname(target), exist_ok=True)
            part = target + ".part"
            with tar.extractfile(member) as src, open(part, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            os.replace(part, target)


def download_cifar(data_root, dataset="cifar10", url=None, md5=None, timeout=60.0):
    """Download the official binary release into data_root, verify it, and unpack it.

    The archive is written to a temporary name and renamed only once its MD5 matches; an
    archive already present with the right MD5 is reused. Members are unpacked one by one after
    checking that none is absolute, climbs out with "..", or is a link or device.

    Args:
        data_root (str): folder that receives the archive and the unpacked folder.
        dataset (str): "cifar10" or "cifar100". Default "cifar10".
        url (str): source; default the official address (tests pass a file:// URL).
        md5 (str): expected MD5 hex digest of the archive; default the official one.
        timeout (float): seconds to wait for the server. Default 60.

    Returns:
        str: the unpacked folder, data_root/cifar-10-batches-bin or data_root/cifar-100-binary.

    Raises:
        UserInputError: the download failed (one line naming the URL, the folder and how to do
            it by hand), the MD5 did not match, or the archive holds an unsafe member.
    """
    spec = get_spec(dataset)
    url = url or spec.url
    md5 = md5 or spec.md5
    data_root = os.fspath(data_root)
    os.makedirs(data_root, exist_ok=True)
    archive = os.path.join(data_root, spec.archive)

    # fetch unless a verified archive is already here
    if os.path.isfile(archive) and _md5_of(archive) == md5:
        logger.info("reusing verified archive %s", archive)
    else:
        logger.info("downloading %s to %s", url, archive)
        _fetch(url, archive, md5, timeout, data_root, spec)

    # unpack
    _safe_unpack(archive, data_root)
    logger.info("unpacked %s into %s", archive, data_root)
    return os.path.join(data_root, spec.archive_dir)


def ensure_dataset(data_root, dataset="cifar10", download=False):
    """Return the folder with the binaries, downloading them first if allowed and needed.

    Args:
        data_root (str): folder given by the user (see resolve_data_dir for the layouts).
        dataset (str): "cifar10" or "cifar100". Default "cifar10".
        download (bool): fetch the official release when the files are missing. Default False.

    Returns:
        str: the folder holding all expected files.

    Raises:
        UserInputError: files missing and download is False, or the download failed; one line
            naming the folder, the expected files, the URL and where to unpack it.
    """
    spec = get_spec(dataset)
    data_root = os.fspath(data_root)

    # present already, or not allowed to fetch: resolve (raises with the how-to)
    if not download or _find_complete_dir(data_root, spec) is not None:
        return resolve_data_dir(data_root, dataset)

    # fetch, then look again
    download_cifar(data_root, dataset)
    return resolve_data_dir(data_root, dataset)


# ---------------------------------------------------------------------------------------------
# The long-tailed subset
# ---------------------------------------------------------------------------------------------


def _check_choice(name, value, allowed):
    if value not in allowed:
        raise UserInputError(f"{name}={value!r} is unknown; allowed: {list(allowed)}")


def _check_int(name, value, low, high=None):
    ok = isinstance(value, (int, np.integer)) and not isinstance(value, bool)
    if not ok or value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in {low}..{high}"
        raise UserInputError(f"{name}={value!r} is invalid; allowed: an integer {allowed}")
    return int(value)


def get_img_num_per_cls(dataset="cifar10", imb_type="exp", imb_ratio=100, n_max=None):
    """Images kept per class by the long-tail profile (Cui et al. 2019; LDAM-DRW).

    exp: n_c = floor(n_max * imb_ratio ** (-c / (C - 1))) for class c = 0..C-1, so class 0 keeps
    n_max and the last class n_max / imb_ratio. step: the first C // 2 classes keep n_max, the
    rest floor(n_max / imb_ratio). The power is rounded to 6 decimals before flooring so that
    floating-point error cannot drop an image. imb_ratio = 1 keeps the balanced set.

    Args:
        dataset (str): "cifar10" or "cifar100". Default "cifar10".
        imb_type (str): "exp" or "step". Default "exp".
        imb_ratio (float): largest over smallest class count, >= 1. Default 100.
        n_max (int): images of the largest class; default the official per-class count (5000
            for CIFAR-10, 500 for CIFAR-100). load_train_lt passes the fewest images any class
            has in the files, which equals the official count on the real data.

    Returns:
        list[int]: C counts, class 0 first (CIFAR-10 at 100: 5000 2997 ... 83 50, 12,406 in all).

    Raises:
        UserInputError: unknown dataset or imb_type, imb_ratio < 1 or not finite, or so large
            that a class would keep no image (the message names the class and the largest
            allowed ratio, which is n_max).
    """
    spec = get_spec(dataset)
    _check_choice("imb_type", imb_type, IMB_TYPES)
    is_number = isinstance(imb_ratio, Real) and not isinstance(imb_ratio, bool)
    if not is_number or not math.isfinite(imb_ratio) or imb_ratio < 1:
        raise UserInputError(f"imb_ratio={imb_ratio!r} is invalid; allowed: a number >= 1")
    n_max = spec.images_per_class if n_max is None else _check_int("n_max", n_max, 1)
    num_classes = spec.num_classes

    # profile in float64
    classes = np.arange(num_classes, dtype=np.float64)
    if imb_type == "exp":
        raw = n_max * float(imb_ratio) ** (-classes / (num_classes - 1))
    else:
        raw = np.where(classes < num_classes // 2, float(n_max), n_max / float(imb_ratio))
    counts = np.floor(np.round(raw, _COUNT_DECIMALS)).astype(np.int64)

    # every class must keep at least one image
    empty = np.flatnonzero(counts == 0)
    if empty.size:
        raise UserInputError(
            f"imb_ratio={imb_ratio!r} leaves class {int(empty[0])} of {spec.name} with 0 images "
            f"under the {imb_type} profile (n_max={n_max}); the largest allowed imb_ratio is "
            f"{n_max}"
        )
    return [int(c) for c in counts]


def select_lt_indices(labels, counts):
    """Record indices of the long-tailed subset, by the LDAM-DRW protocol.

    With one generator seeded with 0 (np.random.RandomState(0), the same stream as the legacy
    np.random.seed(0), but leaving the global generator alone), for each class c in ascending
    order: take that class's record indices in file order, shuffle them, keep the first
    counts[c]. The per-class picks are concatenated in class order.

    Args:
        labels (array-like): integer [N] class of each record, in reader order.
        counts (sequence of int): [C] images to keep per class.

    Returns:
        np.ndarray: int64 [sum(counts)] record indices, class 0's first.

    Raises:
        UserInputError: labels not a 1-D integer array, or a class with fewer records than
            asked for.
    """
    labels = np.asarray(labels)
    if labels.ndim != 1 or not np.issubdtype(labels.dtype, np.integer):
        raise UserInputError(
            f"labels has shape {labels.shape} and dtype {labels.dtype}; allowed: a 1-D integer "
            f"array"
        )

    # one shuffle per class, from a single stream
    rng = np.random.RandomState(SUBSET_SEED)
    picked = []
    for cls, want in enumerate(counts):
        members = np.where(labels == cls)[0]
        if want > members.size:
            raise UserInputError(
                f"counts[{cls}]={want} exceeds the {members.size} records of class {cls}"
            )
        rng.shuffle(members)
        picked.append(members[:want])
    return np.concatenate(picked).astype(np.int64)


def subset_digest(indices):
    """SHA-256 hex digest of the indices as int64 little-endian bytes, in the given order."""
    return hashlib.sha256(np.asarray(indices, dtype="<i8").tobytes()).hexdigest()


def write_index_file(path, indices, note=""):
    """Write indices as text, one per line, after '#' header lines with the count and digest.

    The digest (subset_digest) is of the int64 little-endian bytes, not of the text, so it can be
    recomputed from the array alone. np.loadtxt(path, dtype=np.int64) reads the indices back.
    The file is written under a temporary name and renamed, so ranks may write the same path.

    Args:
        path (str): destination, e.g. <output>/subset_indices.txt.
        indices (array-like): int [K] record indices.
        note (str): one extra header line (e.g. dataset and ratio). Default "".

    Returns:
        str: the SHA-256 hex digest written in the header.
    """
    indices = np.asarray(indices, dtype=np.int64)
    digest = subset_digest(indices)
    header = [f"count {indices.size}", f"sha256(int64 little-endian) {digest}"]
    if note:
        header.insert(0, " ".join(note.split()))

    # write beside the target, then rename
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, part = tempfile.mkstemp(prefix=os.path.basename(path) + ".", suffix=".part", dir=folder)
    with os.fdopen(fd, "w") as out:
        out.write("".join(f"# {line}\n" for line in header))
        out.write("".join(f"{i}\n" for i in indices.tolist()))
    os.replace(part, path)
    return digest


def shard_indices(indices, num_shards, shard_id):
    """Shard shard_id's part of the subset: every num_shards-th index from position shard_id.

    Shards are disjoint and together cover the subset; their sizes differ by at most one.
    """
    return np.asarray(indices)[shard_id::num_shards]


# ---------------------------------------------------------------------------------------------
# Pipelines
# ---------------------------------------------------------------------------------------------


def _source(spec, data_dir, usage, num_parallel_workers, sampler=None):
    """MindSpore reader over the binaries with columns ("image" HWC uint8, "label")."""
    if spec.name == "cifar10":
        return ds.Cifar10Dataset(
            data_dir,
            usage=usage,
            sampler=sampler,
            shuffle=None if sampler is not None else False,
            num_parallel_workers=num_parallel_workers,
        )
    data = ds.Cifar100Dataset(
        data_dir,
        usage=usage,
        sampler=sampler,
        shuffle=None if sampler is not None else False,
        num_parallel_workers=num_parallel_workers,
    )
    return data.project(["image", "fine_label"]).rename(["fine_label"], ["label"])


def _finish(data, spec, augment, batch_size, drop_remainder, num_parallel_workers):
    """Image transforms, int32 labels and batching shared by both splits."""
    ops = [vision.RandomCrop(32, padding=4), vision.RandomHorizontalFlip()] if augment else []
    ops += [
        vision.Rescale(1.0 / 255.0, 0.0),
        vision.Normalize(mean=list(spec.mean), std=list(spec.std)),
        vision.HWC2CHW(),
    ]
    data = data.map(ops, input_columns="image", num_parallel_workers=num_parallel_workers)
    data = data.map(
        transforms.TypeCast(ms.int32),
        input_columns="label",
        num_parallel_workers=num_parallel_workers,
    )
    return data.batch(batch_size, drop_remainder=drop_remainder)


def load_train_lt(
    data_root,
    dataset="cifar10",
    imb_type="exp",
    imb_ratio=100,
    batch_size=64,
    seed=1,
    num_shards=None,
    shard_id=None,
    num_parallel_workers=2,
    drop_remainder=True,
    index_file=None,
):
    """Long-tailed training pipeline over the official binaries.

    The subset comes from get_img_num_per_cls (with n_max = the fewest images any class has in
    the files: 5000 / 500 on the real data, smaller on synthetic test files) and
    select_lt_indices. Each epoch a SubsetRandomSampler reshuffles it; the order and the
    augmentation are seeded by mindspore.dataset.config.set_seed(seed), which this call sets
    for the whole process. Images: random 32x32 crop of the image padded by 4 zero pixels,
    random horizontal flip, scale to [0, 1], per-channel normalize, HWC to CHW.

    With num_shards, shard shard_id reads shard_indices(subset, num_shards, shard_id), disjoint
    from the other shards. NOTE: shards may differ in size by one, so every shard is cut to the
    step count of the smallest one, keeping ranks in step; up to num_shards - 1 images per epoch
    are skipped for that, different ones each epoch.

    Args:
        data_root (str): folder accepted by resolve_data_dir.
        dataset (str): "cifar10" or "cifar100". Default "cifar10".
        imb_type (str): "exp" or "step". Default "exp".
        imb_ratio (float): largest over smallest class count, >= 1. Default 100.
        batch_size (int): images per batch. Default 64.
        seed (int): dataset seed, 0..2**32-1. Default 1.
        num_shards (int): number of data-parallel ranks, or None for one. Default None.
        shard_id (int): this rank, 0..num_shards-1; given exactly when num_shards is.
        num_parallel_workers (int): reader and map workers. Default 2.
        drop_remainder (bool): drop the last incomplete batch. Default True.
        index_file (str): if given, the chosen indices are written there (write_index_file).

    Returns:
        tuple: (num_each_class, dataset). num_each_class is list[int] [C], the class counts of
        the whole subset (not of this shard). dataset yields "image" float32 [B, 3, 32, 32]
        and "label" int32 [B].

    Raises:
        UserInputError: bad argument or bad files (see read_labels and get_img_num_per_cls).
    """
    spec = get_spec(dataset)
    _check_choice("imb_type", imb_type, IMB_TYPES)
    batch_size = _check_int("batch_size", batch_size, 1)
    seed = _check_int("seed", seed, 0, 2**32 - 1)
    num_parallel_workers = _check_int("num_parallel_workers", num_parallel_workers, 1)
    if (num_shards is None) != (shard_id is None):
        raise UserInputError(
            f"num_shards={num_shards!r} and shard_id={shard_id!r}: give both or neither"
        )
    if num_shards is not None:
        num_shards = _check_int("num_shards", num_shards, 1)
        shard_id = _check_int("shard_id", shard_id, 0, num_shards - 1)

    # labels and the subset
    data_dir = resolve_data_dir(data_root, dataset)
    labels = _read_labels_in(data_dir, spec, "train")
    n_max = int(np.bincount(labels, minlength=spec.num_classes).min())
    if n_max == 0:
        empty = int(np.flatnonzero(np.bincount(labels, minlength=spec.num_classes) == 0)[0])
        raise UserInputError(
            f"{data_dir}: class {empty} has no training image; the files are not a full "
            f"{spec.name} training split"
        )
    counts = get_img_num_per_cls(dataset, imb_type, imb_ratio, n_max=n_max)
    subset = select_lt_indices(labels, counts)
    digest = subset_digest(subset)
    logger.info(
        "%s %s imb_ratio=%s: %d training images (n_max=%d), per class %s, sha256 %s",
        spec.name,
        imb_type,
        imb_ratio,
        subset.size,
        n_max,
        counts,
        digest,
    )
    if index_file is not None:
        note = f"{spec.name} imb_type={imb_type} imb_ratio={imb_ratio} from {data_dir}"
        write_index_file(index_file, subset, note=note)
        logger.info("wrote subset indices to %s", index_file)

    # this rank's part, and a step count every rank reaches
    mine, per_rank = subset, subset.size
    if num_shards is not None:
        mine = shard_indices(subset, num_shards, shard_id)
        per_rank = subset.size // num_shards
    if per_rank == 0 or (drop_remainder and per_rank < batch_size):
        raise UserInputError(
            f"batch_size={batch_size} with num_shards={num_shards} leaves no batch: each rank "
            f"gets {per_rank} of the {subset.size} subset images; allowed: batch_size <= "
            f"{per_rank} (or fewer shards)"
        )
    steps = per_rank // batch_size if drop_remainder else math.ceil(per_rank / batch_size)

    # pipeline
    ds.config.set_seed(seed)
    data = _source(
        spec, data_dir, "train", num_parallel_workers, sampler=ds.SubsetRandomSampler(mine.tolist())
    )
    data = _finish(data, spec, True, batch_size, drop_remainder, num_parallel_workers)
    if num_shards is not None:
        data = data.take(steps)
    return counts, data


def epoch_iterator(data, seed, epoch):
    """A one-epoch iterator whose order and augmentation depend only on (seed, epoch).

    MindSpore's samplers and random transforms take their seeds when an iterator is created,
    so a fresh iterator after set_seed per epoch lets a resumed run see exactly the batches
    the uninterrupted run would have seen from that epoch on.

    Args:
        data (mindspore.dataset.Dataset): e.g. the pipeline of load_train_lt.
        seed (int): the run's seed, >= 0.
        epoch (int): 1-based epoch number.

    Returns:
        iterator: of (image, label) Tensor tuples for one pass over data.
    """
    ds.config.set_seed((seed * 1_000_003 + epoch) % 2**32)
    return data.create_tuple_iterator(num_epochs=1)


def load_test(data_root, dataset="cifar10", batch_size=100, num_parallel_workers=2):
    """Test pipeline: every test image once, in file order, without augmentation.

    Args:
        data_root (str): folder accepted by resolve_data_dir.
        dataset (str): "cifar10" or "cifar100". Default "cifar10".
        batch_size (int): images per batch; the last batch keeps the remainder. Default 100.
        num_parallel_workers (int): reader and map workers. Default 2.

    Returns:
        mindspore.dataset.Dataset: yields "image" float32 [B, 3, 32, 32] (scaled to [0, 1] and
        normalized per channel) and "label" int32 [B]; 10,000 images per epoch.

    Raises:
        UserInputError: bad argument or bad files (see read_labels).
    """
    spec = get_spec(dataset)
    batch_size = _check_int("batch_size", batch_size, 1)
    num_parallel_workers = _check_int("num_parallel_workers", num_parallel_workers, 1)

    # check the files (count, labels) before MindSpore reads them
    data_dir = resolve_data_dir(data_root, dataset)
    labels = _read_labels_in(data_dir, spec, "test")
    logger.info("%s test split: %d images from %s", spec.name, labels.size, data_dir)

    # pipeline
    data = _source(spec, data_dir, "test", num_parallel_workers)
    return _finish(data, spec, False, batch_size, False, num_parallel_workers)
