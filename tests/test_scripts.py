# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Tests of scripts/run_*.sh: argument checks, the commands they build, and CPU runs to the end.

Ascend and GPU cannot run here, so their scripts are checked up to the launch with --dry_run;
the CPU scripts train and evaluate a tiny ResNet-32 on synthetic CIFAR-10.
"""

import hashlib
import json
import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

import cifar_fixtures as cf
import pytest

REPO = Path(__file__).resolve().parents[1]
SCRIPTS = REPO / "scripts"
VENV = Path(os.environ.get("CBLOSS_VENV") or REPO / ".venv")
STAMP = VENV / ".requirements.sha256"

# A tiny run: 199 long-tailed images of the synthetic files, 24 steps of 8 on one process.
TINY = [
    "--arch",
    "resnet32",
    "--epoch_num",
    "1",
    "--batch_size",
    "8",
    "--download",
    "false",
    "--imb_ratio",
    "10",
    "--progress_bar",
    "false",
]


def script_env(**extra):
    """The environment of a script run: the project's venv first on PATH, quiet MindSpore."""
    env = dict(os.environ)
    env["PATH"] = f"{VENV / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env.update(CBLOSS_VENV=str(VENV), GLOG_v="3", ONEDNN_MAX_CPU_ISA="AVX2")
    env.pop("CBLOSS_MASTER_PORT", None)
    env.pop("CBLOSS_LAUNCHER", None)
    env.update(extra)
    return env


def run_script(name, *args, cwd, env=None, timeout=60):
    """Runs scripts/<name> in its own process group; on a timeout the whole group is killed."""
    proc = subprocess.Popen(
        ["bash", str(SCRIPTS / name), *map(str, args)],
        cwd=cwd,
        env=env or script_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, err = proc.communicate()
        pytest.fail(f"{name} {args} ran past {timeout} s\n{out[-3000:]}\n{err[-3000:]}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def rank_table(path, servers):
    """Writes an HCCL rank table: servers maps server_id to [(rank_id, device_id), ...]."""
    table = {
        "version": "1.0",
        "server_count": str(len(servers)),
        "server_list": [
            {
                "server_id": sid,
                "device": [
                    {"device_id": str(d), "device_ip": f"192.98.92.{r}", "rank_id": str(r)}
                    for r, d in devices
                ],
                "host_nic_ip": "reserve",
            }
            for sid, devices in servers.items()
        ],
        "status": "completed",
    }
    path.write_text(json.dumps(table))
    return path


@pytest.fixture(scope="module")
def data_root(tmp_path_factory):
    """Synthetic CIFAR-10 in the official binary layout (50 images in the smallest class)."""
    root = tmp_path_factory.mktemp("c10")
    cf.write_cifar10(root / "cifar-10-batches-bin")
    return root


# ---------------------------------------------------------------------------------------------
# Bad arguments: usage on stderr, exit status 2, nothing started
# ---------------------------------------------------------------------------------------------

BAD_ARGUMENTS = [
    ("run_train_cpu.sh", ["stray"], "expected 0 positional argument(s), got 1"),
    ("run_train_cpu.sh", ["--epoch_num"], "--epoch_num needs a value"),
    ("run_train_cpu.sh", ["--epoch_num", "1", "stray"], "unexpected argument 'stray'"),
    ("run_distribute_train_cpu.sh", [], "expected 1 positional argument(s), got 0"),
    ("run_distribute_train_cpu.sh", ["0"], "WORKER_NUM=0 is not an integer in 1..64"),
    ("run_distribute_train_cpu.sh", ["two"], "WORKER_NUM=two is not an integer"),
    ("run_distribute_train_cpu.sh", ["65"], "WORKER_NUM=65 is not an integer in 1..64"),
    ("run_distribute_train_cpu.sh", ["2", "3"], "expected 1 positional argument(s), got 2"),
    ("run_train_gpu.sh", [], "expected 2 positional argument(s), got 0"),
    ("run_train_gpu.sh", ["2"], "expected 2 positional argument(s), got 1"),
    ("run_train_gpu.sh", ["0", "0"], "DEVICE_NUM=0 is not an integer in 1..8"),
    ("run_train_gpu.sh", ["9", "0"], "DEVICE_NUM=9 is not an integer in 1..8"),
    ("run_train_gpu.sh", ["2", "0"], "VISIBLE_DEVICES=0 must name DEVICE_NUM=2 distinct GPUs"),
    ("run_train_gpu.sh", ["2", "1,1"], "VISIBLE_DEVICES=1,1 must name DEVICE_NUM=2 distinct"),
    ("run_train_gpu.sh", ["2", "0,a"], "VISIBLE_DEVICES=0,a is not a comma-separated list"),
    ("run_train.sh", [], "expected 1 positional argument(s), got 0"),
    ("run_train.sh", ["missing.json"], "RANK_TABLE_FILE=missing.json is not a file"),
    ("run_train.sh", ["a.json", "b.json"], "expected 1 positional argument(s), got 2"),
    ("run_eval.sh", ["missing.ckpt"], "CHECKPOINT=missing.ckpt is not a file"),
    ("run_eval_gpu.sh", ["missing.ckpt"], "CHECKPOINT=missing.ckpt is not a file"),
    ("run_eval_cpu.sh", ["missing.ckpt"], "CHECKPOINT=missing.ckpt is not a file"),
    ("run_eval_cpu.sh", ["a.ckpt", "b.ckpt"], "expected 0 to 1 positional argument(s), got 2"),
]


@pytest.mark.parametrize(("script", "args", "message"), BAD_ARGUMENTS)
def test_bad_arguments_show_usage(tmp_path, script, args, message):
    result = run_script(script, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert f"error: {message}" in result.stderr
    assert f"Usage: bash scripts/{script}" in result.stderr
    assert not (tmp_path / "train").exists() and not (tmp_path / "eval").exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("not json", "not an HCCL rank table"),
        (json.dumps({"server_list": [{"server_id": "a", "device": []}]}), "are not 0..N-1"),
        (
            json.dumps(
                {"server_list": [{"server_id": "a", "device": [{"rank_id": "0"}]}]},
            ),
            "not an HCCL rank table",
        ),
    ],
)
def test_run_train_rejects_bad_rank_tables(tmp_path, table, message):
    (tmp_path / "table.json").write_text(table)
    result = run_script("run_train.sh", "table.json", cwd=tmp_path)
    assert result.returncode == 2
    assert message in result.stderr and "Usage:" in result.stderr


def test_run_train_rejects_duplicate_ranks(tmp_path):
    rank_table(tmp_path / "t.json", {"10.0.0.1": [(0, 0), (0, 1)]})
    result = run_script("run_train.sh", "t.json", cwd=tmp_path)
    assert result.returncode == 2
    assert "rank_id values [0, 0] are not 0..N-1" in result.stderr


def test_bad_environment_values(tmp_path):
    env = script_env(CBLOSS_MASTER_PORT="80")
    result = run_script("run_distribute_train_cpu.sh", "2", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "CBLOSS_MASTER_PORT=80 is not an integer in 1024..65535" in result.stderr
    env = script_env(CBLOSS_LAUNCHER="horovod")
    result = run_script("run_train_gpu.sh", "2", "0,1", cwd=tmp_path, env=env)
    assert result.returncode == 2
    assert "CBLOSS_LAUNCHER=horovod is not one of mpirun, msrun" in result.stderr


def test_bad_config_key_is_reported_before_launch(tmp_path):
    table = rank_table(tmp_path / "t.json", {"10.0.0.1": [(0, 0)]})
    result = run_script("run_train.sh", table, "--epoch_nun", "3", cwd=tmp_path)
    assert result.returncode == 2
    assert "unknown key '--epoch_nun'; did you mean --epoch_num?" in result.stderr
    assert not (tmp_path / "train_parallel0").exists()


LAUNCH_SCRIPTS = sorted({script for script, _, _ in BAD_ARGUMENTS})


@pytest.mark.parametrize("script", LAUNCH_SCRIPTS)
def test_help(tmp_path, script):
    result = run_script(script, "--help", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stdout.startswith(f"Usage: bash scripts/{script}")


# ---------------------------------------------------------------------------------------------
# The commands the Ascend and GPU scripts build (--dry_run)
# ---------------------------------------------------------------------------------------------


def test_run_train_dry_run_one_process_per_device(tmp_path):
    table = rank_table(tmp_path / "hccl_2p.json", {"10.0.0.1": [(0, 4), (1, 5)]})
    result = run_script(
        "run_train.sh", "hccl_2p.json", "--dry_run", "--data_root", "cifar", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 2
    for rank, (line, device) in enumerate(zip(lines, (4, 5))):
        assert line.startswith(f"cd {tmp_path}/train_parallel{rank} && env ")
        assert f"RANK_TABLE_FILE={table} RANK_SIZE=2 RANK_ID={rank} DEVICE_ID={device} " in line
        assert "train.py --device_target Ascend --run_distribute true " in line
        assert f"--data_root={tmp_path}/cifar" in line
        assert line.endswith(f"> {tmp_path}/train_parallel{rank}/train.log 2>&1 &")
    assert not (tmp_path / "train_parallel0").exists()


def test_run_train_picks_this_server_of_several(tmp_path):
    rank_table(tmp_path / "t.json", {"10.0.0.1": [(0, 0), (1, 1)], "10.0.0.2": [(2, 0), (3, 1)]})
    env = script_env(CBLOSS_SERVER_ID="10.0.0.2")
    result = run_script("run_train.sh", "t.json", "--dry_run", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    first, second = result.stdout.splitlines()
    assert "RANK_SIZE=4 RANK_ID=2 DEVICE_ID=0 " in first
    assert "RANK_SIZE=4 RANK_ID=3 DEVICE_ID=1 " in second
    result = run_script("run_train.sh", "t.json", "--dry_run", cwd=tmp_path)
    assert result.returncode == 2
    assert "set CBLOSS_SERVER_ID" in result.stderr


def _path_without(program):
    """PATH with the venv first and no folder that holds `program`."""
    folders = [str(VENV / "bin")] + os.environ.get("PATH", "").split(os.pathsep)
    return os.pathsep.join(f for f in folders if f and not os.path.exists(os.path.join(f, program)))


def test_run_train_gpu_uses_msrun_without_mpirun(tmp_path):
    env = script_env(PATH=_path_without("mpirun"), CBLOSS_MASTER_PORT="29517")
    result = run_script("run_train_gpu.sh", "2", "0,3", "--dry_run", cwd=tmp_path, env=env)
    assert result.returncode == 0, result.stderr
    export, command = result.stdout.splitlines()
    assert export == "export CUDA_VISIBLE_DEVICES=0,3"
    assert " msrun --worker_num=2 --local_worker_num=2 " in command
    assert f"--master_port=29517 --log_dir={tmp_path}/train --join=True " in command
    assert "train.py --device_target GPU --run_distribute true " in command


def test_run_train_gpu_prefers_mpirun(tmp_path):
    stub = tmp_path / "bin"
    stub.mkdir()
    (stub / "mpirun").write_text("#!/bin/sh\nexit 99\n")
    (stub / "mpirun").chmod(0o755)
    env = script_env(PATH=f"{stub}{os.pathsep}{_path_without('mpirun')}")
    result = run_script(
        "run_train_gpu.sh", "4", "0,1,2,3", "--dry_run", "--epoch_num", "5", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    command = result.stdout.splitlines()[1]
    assert f" mpirun -n 4 --output-filename {tmp_path}/train/mpirun " in command
    assert "train.py --device_target GPU --run_distribute true --epoch_num 5 " in command
    assert command.endswith(f"2>&1 | tee {tmp_path}/train/train.log")


def test_run_train_gpu_single_device_runs_plain_python(tmp_path):
    result = run_script("run_train_gpu.sh", "1", "2", "--dry_run", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    command = result.stdout.splitlines()[1]
    assert " python " in command and "--run_distribute" not in command
    assert "msrun" not in command and "mpirun" not in command


def test_relative_config_path_and_checkpoint_are_resolved(tmp_path):
    shutil.copy(REPO / "configs" / "paper_cifar10_lt.yaml", tmp_path / "paper.yaml")
    (tmp_path / "model.ckpt").write_bytes(b"")
    result = run_script(
        "run_eval.sh", "model.ckpt", "--dry_run", "--config_path", "paper.yaml", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    command = result.stdout.strip()
    assert command.startswith(f"cd {tmp_path}/eval && python {REPO}/eval.py ")
    assert " --device_target Ascend " in command
    assert f"--config_path={tmp_path}/paper.yaml " in command
    assert f"--checkpoint_path={tmp_path}/model.ckpt " in command
    assert f"--model_root={tmp_path}/checkpoint " in command


# ---------------------------------------------------------------------------------------------
# CPU runs to the end
# ---------------------------------------------------------------------------------------------


def require_current_venv():
    """Skips (fails under CI=true) unless the venv's stamp matches the requirements, so that
    the CPU scripts find nothing to install; scripts/run_tests.sh brings it up to date."""
    text = b"".join(
        (REPO / name).read_bytes() for name in ("requirements.txt", "requirements-dev.txt")
    )
    if STAMP.is_file() and STAMP.read_text().strip() == hashlib.sha256(text).hexdigest():
        return
    reason = f"{VENV} is not up to date with the requirements (run scripts/run_tests.sh)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(reason)
    pytest.skip(reason)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, data_root):
    """run_train_cpu.sh on the tiny configuration, with relative output folders."""
    require_current_venv()
    work = tmp_path_factory.mktemp("cpu_run")
    stamp_before = STAMP.stat().st_mtime_ns if STAMP.exists() else None
    args = [*TINY, "--data_root", data_root, "--output_dir", "out", "--model_root", "ckpt"]
    result = run_script("run_train_cpu.sh", *args, cwd=work, timeout=420)
    stamp_after = STAMP.stat().st_mtime_ns if STAMP.exists() else None
    return work, result, (stamp_before, stamp_after)


@pytest.mark.slow
def test_run_train_cpu_trains_without_reinstalling(trained):
    work, result, (stamp_before, stamp_after) = trained
    assert result.returncode == 0, result.stderr[-3000:]
    assert "installing requirements" not in result.stderr
    assert "creating the virtual environment" not in result.stderr
    assert stamp_before is not None and stamp_before == stamp_after
    assert f"log: {work}/train/train.log" in result.stderr
    log = (work / "train" / "train.log").read_text()
    assert "Train Epoch: 1 [24/24 (100%)]" in log
    assert "done: best top-1" in log
    assert (work / "ckpt" / "model.ckpt").is_file()
    (run_dir,) = (work / "out").iterdir()
    assert len((run_dir / "metrics.jsonl").read_text().splitlines()) == 1


@pytest.mark.slow
def test_run_eval_cpu_evaluates_the_checkpoint(trained, data_root):
    work, train_result, _ = trained
    assert train_result.returncode == 0
    args = ["ckpt/model.ckpt", *TINY, "--data_root", data_root, "--output_dir", "out"]
    result = run_script("run_eval_cpu.sh", *args, cwd=work, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "installing requirements" not in result.stderr
    log = (work / "eval" / "eval.log").read_text()
    assert "on 10000 test images" in log
    (run_dir,) = (work / "out").iterdir()
    saved = json.loads((run_dir / "eval" / "eval_results.json").read_text())
    assert saved["checkpoint"] == str(work / "ckpt" / "model.ckpt")
    assert saved["num_images"] == 10000


@pytest.mark.slow
def test_run_train_cpu_returns_the_training_exit_status(tmp_path):
    require_current_venv()
    (tmp_path / "empty").mkdir()
    result = run_script("run_train_cpu.sh", *TINY, "--data_root", "empty", cwd=tmp_path)
    assert result.returncode == 2
    assert "failed with exit status 2" in result.stderr
    assert f"data_root {tmp_path}/empty holds no CIFAR binaries" in result.stdout


@pytest.mark.slow
def test_run_train_cpu_background_detaches(tmp_path):
    require_current_venv()
    (tmp_path / "empty").mkdir()
    started = time.time()
    result = run_script(
        "run_train_cpu.sh", "--background", *TINY, "--data_root", "empty", cwd=tmp_path
    )
    assert result.returncode == 0, result.stderr
    assert time.time() - started < 20
    line = next(x for x in result.stderr.splitlines() if "started in the background" in x)
    group = int(line.split("process group ")[1].split(";")[0])
    deadline = time.time() + 120
    while time.time() < deadline:
        try:
            os.killpg(group, 0)
        except ProcessLookupError:
            break
        time.sleep(0.5)
    else:
        os.killpg(group, signal.SIGKILL)
        pytest.fail("the background job did not finish in 120 s")
    assert "holds no CIFAR binaries" in (tmp_path / "train" / "train.log").read_text()
