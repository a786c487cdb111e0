# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Data-parallel training on CPU: two msrun workers through scripts/run_distribute_train_cpu.sh.

The run is checked from its files: both ranks end with the same trainable parameters (so the
gradients were all-reduced), which differ from the initial ones; the shards were disjoint and
cover the long-tailed subset; only rank 0 wrote metrics and checkpoints.
"""

import hashlib
import json

import cifar_fixtures as cf
import numpy as np
import pytest
from test_scripts import TINY, require_current_venv, run_script

WORKERS = 2
BATCH = 8


def trainable_digest(params, names):
    """SHA-256 over name, then the raw float bytes, of each named parameter in name order."""
    digest = hashlib.sha256()
    for name in sorted(names):
        digest.update(name.encode("utf-8"))
        digest.update(np.ascontiguousarray(params[name].asnumpy()).tobytes())
    return digest.hexdigest()


@pytest.fixture(scope="module")
def distributed_run(tmp_path_factory):
    """Runs the 2-worker script once on synthetic CIFAR-10 (199 images, 12 steps per rank)."""
    require_current_venv()
    work = tmp_path_factory.mktemp("dist")
    cf.write_cifar10(work / "data" / "cifar-10-batches-bin")
    args = [WORKERS, *TINY, "--data_root", "data", "--output_dir", "out", "--model_root", "ckpt"]
    result = run_script("run_distribute_train_cpu.sh", *args, cwd=work, timeout=600)
    assert result.returncode == 0, (result.stdout[-4000:], result.stderr[-2000:])
    (run_dir,) = (work / "out").iterdir()
    return work, run_dir, result


@pytest.mark.slow
def test_ranks_end_with_identical_trained_weights(distributed_run):
    import mindspore as ms

    from models.Resnet import get_network

    work, run_dir, _ = distributed_run
    records = [json.loads((run_dir / f"params_rank{r}.json").read_text()) for r in range(2)]
    assert [r["rank"] for r in records] == [0, 1]
    assert all(r["group_size"] == WORKERS for r in records)

    # Same start (same seed), same end, and the end is not the start.
    assert records[0]["initial_sha256"] == records[1]["initial_sha256"]
    assert records[0]["final_sha256"] == records[1]["final_sha256"]
    assert records[0]["final_sha256"] != records[0]["initial_sha256"]

    # The digest matches the real values rank 0 saved (one epoch: the best is the last).
    names = [p.name for p in get_network("resnet32", 10).trainable_params()]
    saved = ms.load_checkpoint(str(work / "ckpt" / "model.ckpt"))
    assert trainable_digest(saved, names) == records[1]["final_sha256"]


@pytest.mark.slow
def test_shards_are_disjoint_and_cover_the_subset(distributed_run):
    _, run_dir, _ = distributed_run
    subset = np.loadtxt(run_dir / "subset_indices.txt", dtype=np.int64)
    shards = [np.loadtxt(run_dir / f"subset_indices_rank{r}.txt", dtype=np.int64) for r in (0, 1)]
    assert subset.size == 199
    assert {shards[0].size, shards[1].size} == {99, 100}
    assert not set(shards[0].tolist()) & set(shards[1].tolist())
    assert sorted(np.concatenate(shards).tolist()) == sorted(subset.tolist())


@pytest.mark.slow
def test_rank_logs_and_rank_zero_outputs(distributed_run):
    work, run_dir, result = distributed_run
    steps = 99 // BATCH
    for rank in range(WORKERS):
        log = (run_dir / f"train_rank{rank}.log").read_text()
        assert f"[rank {rank}/{WORKERS}]" in log
        assert f"[rank {1 - rank}/{WORKERS}]" not in log
        assert f"Train Epoch: 1 [{steps}/{steps} (100%)]" in log

        # The loss weights come from the global class counts on every rank.
        assert "training images per class: [50, 38, 29, 23, 17, 13, 10, 8, 6, 5] (total 199)" in log
        assert (work / "train_parallel" / f"worker_{rank}.log").is_file()

    # One metrics row and the checkpoints, written by rank 0 alone.
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 1
    assert sorted(p.name for p in (work / "ckpt").iterdir()) == [
        f"{run_dir.name}-1.ckpt",
        "model.ckpt",
    ]
    assert "master port" in result.stderr
