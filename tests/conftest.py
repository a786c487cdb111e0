# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Shared pytest fixtures, among them the real CIFAR-10 binaries for tests marked real_data.

Machines here cannot download CIFAR-10, so the binaries come from CBLOSS_CIFAR10_DIR or are
built once from the JPEG copy in <repo>/../shared/datasets/cifar10 into <repo>/.ci/data/cifar10.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
GENERATOR = REPO.parent / "shared" / "datasets" / "cifar10" / "make_cifar10_bin.py"
CACHE = REPO / ".ci" / "data" / "cifar10"

# Official CIFAR-10 binary files and their sizes: 10,000 records of 1 + 3072 bytes each.
_CIFAR10_FILES = [f"data_batch_{i}.bin" for i in range(1, 6)] + ["test_batch.bin"]
_CIFAR10_FILE_BYTES = 10000 * 3073

# The modules under test live at the repository root.
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))


def _is_complete(folder):
    """True when folder holds all six CIFAR-10 binaries at their official sizes."""
    return all(
        (folder / name).is_file() and (folder / name).stat().st_size == _CIFAR10_FILE_BYTES
        for name in _CIFAR10_FILES
    )


def _unavailable(reason):
    """Skip a real-data test, except under CI=true, where missing data is a failure."""
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"real CIFAR-10 data unavailable under CI=true: {reason}")
    pytest.skip(f"real CIFAR-10 data unavailable: {reason}")


@pytest.fixture(scope="session")
def cifar10_dir():
    """Folder with the real CIFAR-10 binaries (data_batch_1..5.bin, test_batch.bin).

    Order: the folder named by env CBLOSS_CIFAR10_DIR (it must exist); the cache
    <repo>/.ci/data/cifar10 if complete; else the cache is built with make_cifar10_bin.py (about
    20 s) into a temporary folder that is renamed when done. Without the generator the test is
    skipped, or fails when env CI=true.
    """
    # an explicit folder wins
    explicit = os.environ.get("CBLOSS_CIFAR10_DIR")
    if explicit:
        if not os.path.isdir(explicit):
            pytest.fail(f"CBLOSS_CIFAR10_DIR={explicit} is not a folder")
        return explicit

    # the cache, if an earlier session completed it
    if _is_complete(CACHE):
        return str(CACHE)
    if not GENERATOR.is_file():
        _unavailable(f"neither CBLOSS_CIFAR10_DIR nor the generator {GENERATOR} exists")

    # build into a temporary folder, then rename it into place
    building = CACHE.with_name(f"{CACHE.name}.building-{os.getpid()}")
    shutil.rmtree(building, ignore_errors=True)
    result = subprocess.run(
        [sys.executable, str(GENERATOR), str(building)],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    if result.returncode != 0 or not _is_complete(building):
        shutil.rmtree(building, ignore_errors=True)
        tail = " ".join((result.stderr or result.stdout).split())[-400:]
        _unavailable(f"{GENERATOR} failed with exit code {result.returncode}: {tail}")
    if _is_complete(CACHE):
        shutil.rmtree(building)
    else:
        shutil.rmtree(CACHE, ignore_errors=True)
        os.replace(building, CACHE)
    return str(CACHE)
