# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""export.py on a small ResNet-32: ONNX and MINDIR parity, re-export, failed checks, bad input.

Parity is checked here with onnxruntime and GraphCell on inputs of the test's own, against the
MindSpore net loaded from the same checkpoint; export.py's printed figure is not trusted.
"""

import os
import re
import stat
import subprocess
import sys

import mindspore as ms
import numpy as np
import onnx
import onnxruntime
import pytest

import export
from models.Resnet import get_network

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TOLERANCE = 1e-4
BATCH = 2

# A small net on the CPU; every test adds its checkpoint, file name and format.
BASE = ["--arch", "resnet32", "--device_target", "CPU", "--export_batch_size", str(BATCH)]


def _save_checkpoint(path, seed):
    """A ResNet-32 checkpoint with random batch-norm statistics and a scaled-down head.

    Moving statistics far from (0, 1) make eval-mode and train-mode outputs differ, so an
    export in train mode would fail the parity checks; the smaller head keeps logits near 1.
    """
    rng = np.random.default_rng(seed)
    net = get_network("resnet32", 10)
    for name, param in net.parameters_and_names():
        shape = param.shape
        if name.endswith("moving_mean"):
            value = rng.normal(0.0, 0.2, shape)
        elif name.endswith("moving_variance"):
            value = rng.uniform(0.5, 2.0, shape)
        elif name.endswith("gamma"):
            value = rng.uniform(0.5, 1.5, shape)
        elif name.endswith("beta"):
            value = rng.normal(0.0, 0.1, shape)
        elif name.startswith("classifier."):
            value = param.asnumpy() * 0.1
        else:
            continue
        param.set_data(ms.Tensor(value.astype(np.float32)))
    ms.save_checkpoint(net, str(path))
    return str(path)


def _outputs(checkpoint, images, train=False):
    """The ResNet-32 of a checkpoint, loaded without export.py's helpers, run per batch.

    PyNative: one pass each needs no graph compile, and it is another path than the export's.
    """
    net = get_network("resnet32", 10)
    ms.load_param_into_net(net, ms.load_checkpoint(checkpoint), strict_load=True)
    net.set_train(train)
    previous = ms.get_context("mode")
    ms.set_context(mode=ms.PYNATIVE_MODE)
    try:
        return [net(ms.Tensor(batch)).asnumpy() for batch in images]
    finally:
        ms.set_context(mode=previous)


def _images(seed=123, batches=2):
    """Inputs of this test's own, not the ones export.py checks with."""
    rng = np.random.default_rng(seed)
    return [rng.standard_normal((BATCH, 3, 32, 32)).astype(np.float32) for _ in range(batches)]


def _onnx_run(path, images):
    """onnxruntime's output per batch, after checking the graph and its fixed input shape."""
    onnx.checker.check_model(path)
    session = onnxruntime.InferenceSession(path, providers=["CPUExecutionProvider"])
    assert session.get_inputs()[0].shape == [BATCH, 3, 32, 32]
    name = session.get_inputs()[0].name
    return [session.run(None, {name: batch})[0] for batch in images]


def _mindir_run(path, images):
    """The MINDIR file loaded back as a GraphCell, its output per batch."""
    graph = ms.nn.GraphCell(ms.load(path))
    return [graph(ms.Tensor(batch)).asnumpy() for batch in images]


def _max_diff(first, second):
    return max(float(np.max(np.abs(a - b))) for a, b in zip(first, second))


@pytest.fixture(scope="module")
def checkpoints(tmp_path_factory):
    """Two ResNet-32 checkpoints with different weights."""
    folder = tmp_path_factory.mktemp("ckpt")
    return _save_checkpoint(folder / "a.ckpt", 1), _save_checkpoint(folder / "b.ckpt", 2)


@pytest.mark.parametrize(
    "file_format, extension, run",
    [("ONNX", ".onnx", _onnx_run), ("MINDIR", ".mindir", _mindir_run)],
)
def test_export_reproduces_the_network(checkpoints, tmp_path, capsys, file_format, extension, run):
    checkpoint = checkpoints[0]
    argv = BASE + ["--ckpt_file", checkpoint, "--file_name", str(tmp_path / "net")]

    # export; only the target is left in the folder
    assert export.main(argv + ["--file_format", file_format]) == 0
    path = tmp_path / f"net{extension}"
    assert os.listdir(tmp_path) == [path.name]

    # the file's output on new inputs matches the eval-mode net, and train mode would not
    images = _images()
    got = run(str(path), images)
    assert got[0].shape == (BATCH, 10)
    assert _max_diff(got, _outputs(checkpoint, images)) <= TOLERANCE
    assert _max_diff(got, _outputs(checkpoint, images, train=True)) > 100 * TOLERANCE

    # the printed size is the file's and the printed difference is within the tolerance
    printed = capsys.readouterr().out
    assert f"({path.stat().st_size} bytes)" in printed
    difference = re.search(r"synthetic images: (\S+)", printed).group(1)
    assert float(difference) <= TOLERANCE


def test_reexport_replaces_a_read_only_file(checkpoints, tmp_path):
    first, second = checkpoints
    path = tmp_path / "net.onnx"
    argv = BASE + ["--file_name", str(tmp_path / "net"), "--file_format", "ONNX"]

    # export one checkpoint and make the file read-only
    assert export.main(argv + ["--ckpt_file", first]) == 0
    os.chmod(path, stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)

    # exporting the other one over it gives the other one's outputs
    assert export.main(argv + ["--ckpt_file", second]) == 0
    images = _images(seed=7, batches=1)
    got = _onnx_run(str(path), images)
    assert _max_diff(got, _outputs(second, images)) <= TOLERANCE
    assert _max_diff(got, _outputs(first, images)) > 100 * TOLERANCE
    assert os.listdir(tmp_path) == ["net.onnx"]


def test_a_failed_check_keeps_the_old_file(checkpoints, tmp_path, monkeypatch):
    path = tmp_path / "net.onnx"
    path.write_bytes(b"the previous export")
    argv = BASE + ["--ckpt_file", checkpoints[0], "--file_name", str(tmp_path / "net")]

    # any difference is too much: exit 1, the old file as it was, no temporary file left
    monkeypatch.setattr(export, "TOLERANCE", -1.0)
    assert export.main(argv + ["--file_format", "ONNX"]) == 1
    assert path.read_bytes() == b"the previous export"
    assert os.listdir(tmp_path) == ["net.onnx"]


@pytest.mark.parametrize(
    "extra, expected",
    [
        (["--ckpt_file", "no/such.ckpt"], "does not exist"),
        (["--arch", "resnet18"], "does not fit the network"),
        (["--num_classes", "7"], "does not fit the network"),
        (["--file_format", "AIR"], "only be exported on Ascend"),
        (["--file_format", "TFLITE"], "file_format='TFLITE' is not allowed"),
    ],
    ids=["missing", "arch", "num_classes", "air_on_cpu", "bad_format"],
)
def test_bad_input_is_one_line_and_writes_nothing(checkpoints, tmp_path, extra, expected):
    out = tmp_path / "out"
    out.mkdir()
    argv = BASE + ["--ckpt_file", checkpoints[0], "--file_name", str(out / "net")] + extra
    done = subprocess.run(
        [sys.executable, "export.py", *argv],
        capture_output=True,
        text=True,
        cwd=REPO,
        env={**os.environ, "GLOG_v": "3"},
        timeout=120,
        check=False,
    )

    # exit 2, one line naming the problem, nothing written
    assert done.returncode == 2, done.stderr[-2000:]
    assert "Traceback" not in done.stderr
    lines = [line for line in done.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, done.stderr
    assert expected in lines[0]
    assert os.listdir(out) == []


def test_difference_is_exact_and_rejects_nan_and_shape_changes():
    want = [np.array([[1.0, -2.0]], np.float32), np.array([[0.5, 0.0]], np.float32)]
    got = [np.array([[1.0, -2.25]], np.float32), np.array([[0.5, 0.125]], np.float32)]
    assert export.max_difference(want, got) == 0.25
    with pytest.raises(export.ExportCheckError, match="non-finite"):
        export.max_difference(want, [got[0], np.array([[np.nan, 0.0]], np.float32)])
    with pytest.raises(export.ExportCheckError, match="shape"):
        export.max_difference(want, [np.zeros((1, 3), np.float32), got[1]])


def test_file_name_gets_the_format_extension_once():
    assert export.export_path("out/net", "ONNX") == "out/net.onnx"
    assert export.export_path("net.mindir", "MINDIR") == "net.mindir"
    assert export.export_path("net.onnx", "MINDIR") == "net.onnx.mindir"
