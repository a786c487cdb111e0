# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Tests of the ModelArts adapter with a stand-in `moxing` package that records its copies.

The stand-in is written into tmp_path and put on sys.path by each test; its copy_parallel
copies local folders (standing in for OBS) and appends (source, destination) to a JSON file.
"""

import importlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from model_utils import device_adapter, moxing_adapter
from model_utils.config import get_config
from model_utils.errors import UserInputError

REPO = Path(__file__).resolve().parents[1]

FAKE_FILE_MODULE = '''
"""Stand-in for moxing.file: records each copy_parallel call, then copies the local folder."""
import json
import os
import shutil


def copy_parallel(src_url, dst_url):
    with open(os.environ["FAKE_MOXING_LOG"], "a") as log:
        log.write(json.dumps([src_url, dst_url]) + "\\n")
    shutil.copytree(src_url, dst_url, dirs_exist_ok=True)
'''


@pytest.fixture
def fake_moxing(tmp_path, monkeypatch):
    """Puts the stand-in moxing on sys.path; returns a function giving the copies so far."""
    package = tmp_path / "fake_site" / "moxing"
    package.mkdir(parents=True)
    (package / "__init__.py").write_text("from . import file  # noqa: F401\n")
    (package / "file.py").write_text(FAKE_FILE_MODULE)
    log = tmp_path / "copies.jsonl"
    monkeypatch.setenv("FAKE_MOXING_LOG", str(log))
    monkeypatch.syspath_prepend(str(package.parent))
    for name in ("moxing", "moxing.file"):
        monkeypatch.delitem(sys.modules, name, raising=False)
    for name in ("DEVICE_ID", "RANK_SIZE", "RANK_ID"):
        monkeypatch.delenv(name, raising=False)

    def copies():
        if not log.exists():
            return []
        return [tuple(json.loads(line)) for line in log.read_text().splitlines()]

    return copies


@pytest.fixture
def obs(tmp_path):
    """Local folders standing in for OBS (data_url with one file, train_url) and for /cache."""
    data_url = tmp_path / "obs" / "data"
    data_url.mkdir(parents=True)
    (data_url / "data_batch_1.bin").write_bytes(b"records")
    return {
        "data_url": str(data_url),
        "train_url": str(tmp_path / "obs" / "train"),
        "data_path": str(tmp_path / "cache" / "data"),
        "output_path": str(tmp_path / "cache" / "train"),
    }


def modelarts_config(obs, *extra):
    args = ["--enable_modelarts", "true"]
    for key, value in obs.items():
        args += [f"--{key}", value]
    return get_config(args + list(extra), prog="test")


def test_copies_data_in_before_and_outputs_out_after(fake_moxing, obs):
    config = modelarts_config(obs)
    seen = {}

    def job(cfg):
        seen.update(copies=fake_moxing(), data_root=cfg.data_root)
        seen["data"] = os.listdir(cfg.data_root)
        os.makedirs(cfg.output_dir)
        Path(cfg.output_dir, "metrics.jsonl").write_text("{}\n")
        return "done"

    assert moxing_adapter.moxing_wrapper(config)(job)(config) == "done"

    # Data came in before the job, outputs went out after it.
    assert seen["copies"] == [(obs["data_url"], obs["data_path"])]
    assert seen["data_root"] == obs["data_path"]
    assert "data_batch_1.bin" in seen["data"]
    assert config.output_dir == os.path.join(obs["output_path"], "outputs")
    assert config.model_root == os.path.join(obs["output_path"], "checkpoint")
    assert fake_moxing() == [
        (obs["data_url"], obs["data_path"]),
        (obs["output_path"], obs["train_url"]),
    ]
    assert Path(obs["train_url"], "outputs", "metrics.jsonl").is_file()


def test_data_is_copied_once_per_server(fake_moxing, obs, monkeypatch):
    monkeypatch.setenv("DEVICE_ID", "0")
    monkeypatch.setenv("RANK_SIZE", "2")
    for _ in range(2):
        config = modelarts_config(obs, "--train_url", "")
        moxing_adapter.moxing_wrapper(config)(lambda: None)()
    assert fake_moxing() == [(obs["data_url"], obs["data_path"])]


def test_other_local_ranks_wait_for_the_copy_and_copy_nothing(fake_moxing, obs, monkeypatch):
    monkeypatch.setenv("DEVICE_ID", "1")
    monkeypatch.setenv("RANK_SIZE", "2")
    marker = Path(obs["data_path"], ".cbloss_copy_done")

    def copier():
        time.sleep(0.5)
        marker.parent.mkdir(parents=True)
        marker.write_text(obs["data_url"])

    thread = threading.Thread(target=copier)
    thread.start()
    started = time.time()
    config = modelarts_config(obs)
    moxing_adapter.moxing_wrapper(config)(lambda: None)()
    thread.join()
    assert time.time() - started >= 0.5
    assert fake_moxing() == []


def test_outputs_go_out_when_the_job_fails(fake_moxing, obs):
    config = modelarts_config(obs)

    def job():
        os.makedirs(config.output_dir)
        Path(config.output_dir, "train_rank0.log").write_text("what went wrong\n")
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        moxing_adapter.moxing_wrapper(config)(job)()
    assert fake_moxing()[-1] == (obs["output_path"], obs["train_url"])
    assert Path(obs["train_url"], "outputs", "train_rank0.log").is_file()


def test_without_modelarts_nothing_is_copied(fake_moxing, obs):
    config = get_config(["--data_root", "somewhere"], prog="test")
    assert moxing_adapter.moxing_wrapper(config)(lambda: 7)() == 7
    assert fake_moxing() == [] and config.data_root == "somewhere"


def test_missing_moxing_stops_before_the_job(obs, monkeypatch):
    monkeypatch.setitem(sys.modules, "moxing", None)
    config = modelarts_config({"train_url": obs["train_url"], "output_path": obs["output_path"]})
    ran = []
    with pytest.raises(UserInputError, match="enable_modelarts=True needs the moxing package"):
        moxing_adapter.moxing_wrapper(config)(lambda: ran.append(1))()
    assert ran == []


def test_train_py_without_moxing_says_so_in_one_line(obs, tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    result = subprocess.run(
        [sys.executable, str(REPO / "train.py"), "--enable_modelarts", "true", "--download"]
        + ["false", "--train_url", obs["train_url"], "--output_path", obs["output_path"]],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 2
    (line,) = result.stderr.strip().splitlines()
    assert "enable_modelarts=True needs the moxing package" in line
    assert not Path(obs["output_path"]).exists()


@pytest.mark.parametrize("entry", ["train", "eval"])
def test_entry_scripts_run_through_the_wrapper(fake_moxing, obs, monkeypatch, entry):
    module = importlib.import_module(entry)
    job = "train" if entry == "train" else "evaluate"
    seen = []

    def stand_in(cfg):
        seen.append(cfg.data_root)
        os.makedirs(cfg.output_dir)
        Path(cfg.output_dir, f"{entry}.txt").write_text(entry)

    monkeypatch.setattr(module, job, stand_in)
    argv = ["--enable_modelarts", "true"]
    for key, value in obs.items():
        argv += [f"--{key}", value]
    assert module.main(argv) == 0
    assert seen == [obs["data_path"]]
    assert Path(obs["train_url"], "outputs", f"{entry}.txt").is_file()


def test_device_id_and_count_come_from_the_environment(monkeypatch):
    modelarts = get_config(["--enable_modelarts", "true", "--device_id", "3"], prog="test")
    local = get_config(["--device_id", "3"], prog="test")
    for name in ("DEVICE_ID", "RANK_SIZE", "RANK_ID", "MS_WORKER_NUM", "MS_NODE_ID"):
        monkeypatch.delenv(name, raising=False)
    assert device_adapter.get_device_id(local) == 3
    assert device_adapter.get_device_num(modelarts) == 1
    monkeypatch.setenv("DEVICE_ID", "5")
    monkeypatch.setenv("RANK_SIZE", "16")
    monkeypatch.setenv("RANK_ID", "13")
    assert device_adapter.get_device_id(modelarts) == 5
    assert device_adapter.get_device_id(local) == 5
    assert device_adapter.get_device_num(modelarts) == 16
    assert device_adapter.get_rank_id(modelarts) == 13
