# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""train.py and eval.py end to end on tiny synthetic CIFAR-10 (ResNet-32, a few steps).

Expected values come from the synthetic files (labels written by the fixture) and numpy, never
from the code under test: accuracy from saved predictions, labels from the written files,
weights compared between an interrupted-and-resumed run and an uninterrupted one.
"""

import json
import math
import os
import re
import subprocess
import sys

import cifar_fixtures as cf
import mindspore as ms
import numpy as np
import pytest
import yaml

import eval as eval_script
import train
from model_utils.config import get_config

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# 199 images at imb_ratio 10 on the synthetic files (n_max 50): 12 steps of 16 per epoch.
TINY = [
    "--arch",
    "resnet32",
    "--imb_ratio",
    "10",
    "--batch_size",
    "16",
    "--eval_batch_size",
    "500",
    "--download",
    "false",
    "--progress_bar",
    "false",
    "--log_step",
    "4",
    "--device_target",
    "CPU",
]


@pytest.fixture(scope="module")
def synthetic(tmp_path_factory):
    """data_root with synthetic CIFAR-10 under cifar10_dataset_directory, and its labels."""
    root = tmp_path_factory.mktemp("c10")
    labels = cf.write_cifar10(root / "cifar10_dataset_directory")
    return str(root), labels


def _argv(root, folder, *extra):
    """TINY plus the data, output and checkpoint folders of one test."""
    return TINY + [
        "--data_root",
        root,
        "--output_dir",
        str(folder / "outputs"),
        "--model_root",
        str(folder / "ckpt"),
        *extra,
    ]


def _network_arrays(path):
    """The network's parameters (no optimizer state) of a checkpoint, as float64 arrays."""
    params = ms.load_checkpoint(str(path))
    skip = ("moments.", "accum.", "global_step", "learning_rate", "epoch_num", "run_name")
    return {
        name: param.asnumpy().astype(np.float64)
        for name, param in params.items()
        if not name.startswith(skip) and name not in skip
    }


def _run_folder(folder):
    """The single run folder under <folder>/outputs."""
    (name,) = os.listdir(folder / "outputs")
    return folder / "outputs" / name


@pytest.fixture(scope="module")
def trained(synthetic, tmp_path_factory):
    """Two epochs with keep_checkpoint_max 1; returns (folder, summary)."""
    root, _ = synthetic
    folder = tmp_path_factory.mktemp("run")
    argv = _argv(root, folder, "--epoch_num", "2", "--keep_checkpoint_max", "1")
    summary = train.train(get_config(argv))
    return folder, summary


@pytest.mark.slow
def test_training_writes_metrics_plots_config_and_checkpoints(trained):
    folder, summary = trained
    run_dir = _run_folder(folder)

    # metrics.jsonl: one row per epoch with the figures the README promises
    rows = [json.loads(line) for line in open(run_dir / "metrics.jsonl")]
    assert [row["epoch"] for row in rows] == [1, 2]
    for row in rows:
        assert math.isfinite(row["train_loss"]) and row["train_loss"] > 0
        assert 0.0 <= row["top1"] <= 100.0 and row["num_images"] == 10000
        assert len(row["per_class"]) == 10
        assert row["ms_per_step"] > 0 and row["images_per_s"] > 0
    assert rows[-1]["best_top1"] == max(row["top1"] for row in rows)
    assert summary["last_top1"] == rows[-1]["top1"]

    # the resolved config loads back as YAML with the values given
    saved = yaml.safe_load(open(run_dir / "config.yaml"))
    assert saved["arch"] == "resnet32" and saved["batch_size"] == 16 and saved["epoch_num"] == 2

    # pictures are real PNG files
    for name in ("curves.png", "per_class.png", "confusion_matrix.png"):
        with open(run_dir / name, "rb") as handle:
            assert handle.read(8) == b"\x89PNG\r\n\x1a\n", name

    # the subset file lists 199 indices after its header
    indices = np.loadtxt(run_dir / "subset_indices.txt", dtype=np.int64)
    assert indices.size == sum(cf_counts()) == 199

    # best checkpoint plus only the newest per-epoch one (keep_checkpoint_max 1)
    ckpts = sorted(os.listdir(folder / "ckpt"))
    assert "model.ckpt" in ckpts
    epoch_files = [name for name in ckpts if name != "model.ckpt"]
    assert len(epoch_files) == 1 and epoch_files[0].endswith("-2.ckpt")
    assert not [name for name in ckpts if "tmp" in name]

    # the training log has the model zoo's step line
    log = open(run_dir / "train_rank0.log").read()
    assert re.search(r"Train Epoch: 1 \[4/12 \(33%\)\]\tLoss: \d+\.\d{6}", log)


def cf_counts():
    """Synthetic per-class counts at imb_ratio 10 with n_max 50, from the paper's formula."""
    return [int(50 * 10 ** (-c / 9) + 1e-9) for c in range(10)]


@pytest.mark.slow
def test_eval_reports_the_accuracy_of_its_saved_predictions(trained, synthetic, capsys):
    folder, _ = trained
    root, labels = synthetic
    # epoch_num only matters to training; the files still go to the run of the checkpoint
    argv = _argv(root, folder, "--epoch_num", "7")

    # evaluate the best checkpoint
    assert eval_script.main(argv) == 0
    printed = capsys.readouterr().out

    # the saved predictions hold every test image with the labels of the file
    out_dir = _run_folder(folder) / "eval"
    saved = np.load(out_dir / "predictions.npz")
    np.testing.assert_array_equal(saved["labels"], labels["test"])
    expected = 100.0 * np.mean(saved["predictions"] == labels["test"])

    # printed figures and JSON agree with numpy on those predictions
    assert f"Test set: Accuracy: {expected:.0f}%" in printed
    assert f"Top-1 accuracy: {expected:.2f}% on 10000 test images" in printed
    result = json.load(open(out_dir / "eval_results.json"))
    assert abs(result["top1"] - expected) < 1e-9
    for cls in range(10):
        members = labels["test"] == cls
        per_class = 100.0 * np.mean(saved["predictions"][members] == cls)
        assert abs(result["per_class"][cls] - per_class) < 1e-9
    assert re.search(r"many-shot \S+, medium-shot \S+, few-shot \S+", printed)
    assert (out_dir / "confusion_matrix.png").is_file()


class _Interrupt(Exception):
    """Stands in for a kill in the middle of an epoch."""


@pytest.mark.slow
def test_resume_after_a_kill_mid_epoch_matches_an_uninterrupted_run(
    synthetic, tmp_path, monkeypatch
):
    root, _ = synthetic
    extra = ["--epoch_num", "2", "--lr_schedule", "warmup_step", "--warmup_epochs", "1"]
    extra += ["--lr_milestones", "2", "--lr_factors", "0.1", "--run_name", "resumable"]

    # the reference: two epochs in one go
    whole = tmp_path / "whole"
    train.train(get_config(_argv(root, whole, *extra)))

    # the same run, stopped at epoch 2 step 3 (after the epoch-1 checkpoint was written)
    broken = tmp_path / "broken"
    real_loss_value, calls = train._loss_value, []

    def dying_loss_value(output):
        calls.append(1)
        if len(calls) == 12 + 3:
            raise _Interrupt
        return real_loss_value(output)

    monkeypatch.setattr(train, "_loss_value", dying_loss_value)
    with pytest.raises(_Interrupt):
        train.train(get_config(_argv(root, broken, *extra)))
    monkeypatch.setattr(train, "_loss_value", real_loss_value)
    assert sorted(os.listdir(broken / "ckpt")) == ["model.ckpt", "resumable-1.ckpt"]

    # resume: epoch 2 only, then the same epochs, LRs and weights as the reference
    train.train(get_config(_argv(root, broken, *extra, "--resume", "true")))
    rows = [json.loads(line) for line in open(_run_folder(broken) / "metrics.jsonl")]
    reference = [json.loads(line) for line in open(_run_folder(whole) / "metrics.jsonl")]
    assert [row["epoch"] for row in rows] == [1, 2]
    assert [row["lr"] for row in rows] == [row["lr"] for row in reference]
    resumed = _network_arrays(broken / "ckpt" / "resumable-2.ckpt")
    expected = _network_arrays(whole / "ckpt" / "resumable-2.ckpt")
    first = _network_arrays(broken / "ckpt" / "resumable-1.ckpt")
    assert resumed.keys() == expected.keys()
    for name in expected:
        np.testing.assert_allclose(resumed[name], expected[name], rtol=1e-4, atol=1e-5)
    changed = [name for name in expected if not np.allclose(first[name], expected[name])]
    assert len(changed) > len(expected) // 2


@pytest.mark.slow
def test_nan_loss_stops_with_epoch_and_step_and_keeps_checkpoints(synthetic, tmp_path):
    root, _ = synthetic

    # a learning rate that overflows the weights within a few steps
    argv = _argv(root, tmp_path, "--epoch_num", "2", "--LR", "1e30", "--run_name", "nan")
    done = subprocess.run(
        [sys.executable, "train.py", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )
    assert done.returncode == 3, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if " ERROR " in line]
    assert len(errors) == 1
    assert re.search(r"loss became (nan|inf|-inf) at epoch 1, step \d+", errors[0])
    assert not os.path.exists(tmp_path / "ckpt" / "nan-1.ckpt")


@pytest.mark.slow
def test_nan_in_a_later_epoch_leaves_the_earlier_checkpoint_intact(
    synthetic, tmp_path, monkeypatch
):
    root, _ = synthetic
    real_loss_value, calls = train._loss_value, []

    def nan_at_epoch_two(output):
        calls.append(1)
        return math.nan if len(calls) == 12 + 5 else real_loss_value(output)

    # epoch 2, step 5 reports NaN
    monkeypatch.setattr(train, "_loss_value", nan_at_epoch_two)
    argv = _argv(root, tmp_path, "--epoch_num", "3", "--run_name", "late")
    with pytest.raises(train.TrainingDiverged, match="epoch 2, step 5"):
        train.train(get_config(argv))

    # the epoch-1 checkpoint is whole and loads
    assert sorted(os.listdir(tmp_path / "ckpt")) == ["late-1.ckpt", "model.ckpt"]
    assert len(_network_arrays(tmp_path / "ckpt" / "late-1.ckpt")) > 50


def _run(script, *argv):
    return subprocess.run(
        [sys.executable, script, *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        timeout=300,
        check=False,
    )


@pytest.mark.slow
def test_eval_of_a_missing_or_mismatched_checkpoint_is_one_line(trained, synthetic, tmp_path):
    folder, _ = trained
    root, _ = synthetic

    # no such file
    done = _run("eval.py", *TINY, "--data_root", root, "--checkpoint_path", str(tmp_path / "x"))
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "does not exist" in done.stderr and str(tmp_path / "x") in done.stderr

    # a ResNet-32 checkpoint evaluated as ResNet-34
    best = str(folder / "ckpt" / "model.ckpt")
    done = _run("eval.py", *TINY, "--data_root", root, "--checkpoint_path", best, "--arch",
                "resnet34")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    errors = [line for line in done.stderr.splitlines() if "ERROR" in line]
    assert len(errors) == 1 and "does not fit the network" in errors[0]


@pytest.mark.real_data
@pytest.mark.slow
def test_one_real_epoch_of_resnet32_beats_chance_clearly(cifar10_dir, tmp_path):
    argv = [
        "--data_root",
        cifar10_dir,
        "--arch",
        "resnet32",
        "--imb_ratio",
        "100",
        "--epoch_num",
        "1",
        "--batch_size",
        "128",
        "--LR",
        "0.1",
        "--head_bias_prior",
        "true",
        "--download",
        "false",
        "--progress_bar",
        "false",
        "--device_target",
        "CPU",
        "--output_dir",
        str(tmp_path / "outputs"),
        "--model_root",
        str(tmp_path / "ckpt"),
    ]
    summary = train.train(get_config(argv))
    rows = [json.loads(line) for line in open(_run_folder(tmp_path) / "metrics.jsonl")]
    assert rows[-1]["top1"] == summary["last_top1"] and rows[-1]["num_images"] == 10000
    assert summary["last_top1"] >= 15.0
