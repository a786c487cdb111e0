# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Config parsing: defaults, overrides, typing, other YAML files and every kind of bad input."""

import os
import subprocess
import sys
import time

import pytest
import yaml

from model_utils.config import DEFAULT_CONFIG_PATH, REPO_ROOT, get_config

REQUIRED_KEYS = (
    "device_target device_id mode seed data_root dataset imb_type imb_ratio arch num_classes "
    "loss_type beta gamma LR batch_size epoch_num log_step model_root pretrained_model "
    "checkpoint_path file_name file_format enable_modelarts data_url train_url checkpoint_url "
    "data_path output_path load_path"
).split()


def _yaml_docs():
    with open(DEFAULT_CONFIG_PATH, encoding="utf-8") as handle:
        return list(yaml.safe_load_all(handle))


def _fails(argv, capsys):
    """Runs get_config, expects exit 2, returns the stderr text."""
    with pytest.raises(SystemExit) as info:
        get_config(argv, prog="train.py")
    assert info.value.code == 2
    return capsys.readouterr().err


def test_every_key_has_a_description_and_required_keys_exist():
    values, helps, choices, _ = _yaml_docs()
    assert set(values) == set(helps)
    assert set(choices) <= set(values)
    for key in REQUIRED_KEYS:
        assert key in values, key


def test_seed_defaults_kept():
    config = get_config([])
    assert config.loss_type == "focal"
    assert config.beta == 0.9999 and config.gamma == 2.0 and config.imb_ratio == 100
    assert config.LR == 0.01 and config.log_step == 10
    assert config.model_root == "checkpoint" and config.checkpoint_path == "model.ckpt"
    assert config.file_name == "net" and config.file_format == "ONNX"
    assert config.data_root == "data" and config.device_target == "auto"


def test_overrides_are_typed_like_their_defaults():
    config = get_config(
        [
            "--beta", "0.99",
            "--batch_size", "7",
            "--resume", "TRUE",
            "--download", "false",
            "--imb_ratio", "50",
            "--lr_milestones", "3,7",
            "--lr_factors", "0.1,0.01",
            "--dataset=cifar100",
            "--run_name", "x",
        ]
    )  # fmt: skip
    assert config.beta == 0.99 and isinstance(config.beta, float)
    assert config.batch_size == 7 and isinstance(config.batch_size, int)
    assert config.resume is True and config.download is False
    assert config.imb_ratio == 50.0 and isinstance(config.imb_ratio, float)
    assert config.lr_milestones == [3, 7] and config.lr_factors == [0.1, 0.01]
    assert config.dataset == "cifar100" and config.run_name == "x"


def test_num_classes_derived_from_dataset_unless_given():
    assert get_config([]).num_classes == 10
    assert get_config(["--dataset", "cifar100"]).num_classes == 100
    assert get_config(["--dataset", "cifar100", "--num_classes", "7"]).num_classes == 7


def test_other_yaml_layers_over_defaults(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("arch: resnet32\nbeta: 0.9\nlr_milestones: [2, 4]\n")
    config = get_config(["--config_path", str(other), "--beta", "0.5"])
    assert config.arch == "resnet32"
    assert config.beta == 0.5
    assert config.lr_milestones == [2, 4]
    assert config.loss_type == "focal"


def test_paper_config_loads():
    config = get_config(["--config_path", os.path.join(REPO_ROOT, "configs/paper_cifar10_lt.yaml")])
    assert (config.arch, config.batch_size, config.LR, config.gamma) == ("resnet32", 128, 0.1, 1.0)
    assert config.lr_schedule == "warmup_step" and config.head_bias_prior is True
    assert config.weight_decay == 0.0002 and config.head_bias_decay is False


@pytest.mark.parametrize(
    "argv, words",
    [
        (["--loss_type", "bogus"], ["loss_type", "bogus", "focal, sigmoid, softmax"]),
        (["--beta", "1.5"], ["beta", "1.5", "0 <= beta <= 1"]),
        (["--beta", "-0.1"], ["beta", "-0.1", "0 <= beta <= 1"]),
        (["--batch_size", "0"], ["batch_size", "0", "1 <= batch_size"]),
        (["--no_such_key", "1"], ["--no_such_key", "--help"]),
        (["--imb_ratio", "abc"], ["imb_ratio", "abc", "float"]),
        (["--imb_ratio", "0.5"], ["imb_ratio", "0.5", "1 <= imb_ratio"]),
        (["--batch_size", "2.5"], ["batch_size", "2.5", "int"]),
        (["--resume", "maybe"], ["resume", "maybe", "true or false"]),
        (["--gamma", "-1"], ["gamma", "-1", "0 <= gamma"]),
        (["--LR", "0"], ["LR", "0", "0 < LR"]),
        (["--beta", "nan"], ["beta", "nan"]),
        (["--LR", "inf"], ["LR", "inf", "not a finite number", "0 < LR"]),
        (["--mode", "graph"], ["mode", "GRAPH, PYNATIVE"]),
        (["--lr_milestones", "5,3"], ["lr_milestones", "increasing"]),
        (["--lr_milestones", "5"], ["lr_milestones", "lr_factors"]),
        (["--few_shot_thr", "500"], ["few_shot_thr", "many_shot_thr"]),
        (["--beta"], ["--beta", "expected one argument"]),
        (["--config_path", "/no/such.yaml"], ["config_path", "/no/such.yaml"]),
    ],
)
def test_bad_input_is_one_line_naming_the_key(argv, words, capsys):
    err = _fails(argv, capsys)
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err, (word, err)


@pytest.mark.parametrize(
    "text, words",
    [
        ("beta: [1, 2\n", ["not valid YAML"]),
        ("betta: 0.5\n", ["unknown key", "betta"]),
        ("batch_size: many\n", ["batch_size", "many", "int"]),
        ("- 1\n- 2\n", ["mapping"]),
        ("beta: 3\n", ["beta", "0 <= beta <= 1"]),
    ],
)
def test_bad_yaml_file_is_one_line(tmp_path, text, words, capsys):
    other = tmp_path / "bad.yaml"
    other.write_text(text)
    err = _fails(["--config_path", str(other)], capsys)
    assert err.count("\n") == 1, err
    for word in words:
        assert word in err, (word, err)


def _run_script(*args):
    started = time.time()
    done = subprocess.run(
        [sys.executable, *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, time.time() - started


@pytest.mark.parametrize("script", ["train.py", "eval.py", "export.py"])
def test_help_lists_every_key(script):
    done, _ = _run_script(script, "--help")
    assert done.returncode == 0, done.stderr
    for key in _yaml_docs()[0]:
        assert f"--{key} " in done.stdout, key


def test_help_shows_choices_and_bounds():
    done, _ = _run_script("train.py", "--help")
    text = " ".join(done.stdout.split())
    assert "(choices: focal, sigmoid, softmax)" in text
    assert "(allowed: 0 <= beta <= 1)" in text
    assert "(allowed: 0 < LR)" in text


def test_help_shows_the_other_files_defaults(tmp_path):
    other = tmp_path / "other.yaml"
    other.write_text("arch: resnet50\n")
    done, _ = _run_script("train.py", "--config_path", str(other), "--help")
    assert done.returncode == 0
    text = " ".join(done.stdout.split())
    assert "(default: resnet50)" in text


@pytest.mark.parametrize(
    "argv",
    [
        ["--loss_type", "bogus"],
        ["--beta", "1.5"],
        ["--batch_size", "0"],
        ["--no_such_key", "1"],
        ["--imb_ratio", "abc"],
    ],
)
def test_train_script_rejects_bad_input_fast(argv):
    done, seconds = _run_script("train.py", *argv)
    assert done.returncode == 2
    assert seconds < 15
    assert done.stderr.count("\n") == 1, done.stderr
    assert "Traceback" not in done.stderr
    assert argv[0].lstrip("-") in done.stderr


def test_a_device_this_mindspore_lacks_is_one_line(tmp_path):
    import mindspore as ms

    if ms.device_context.ascend.device.is_available():
        pytest.skip("this MindSpore package runs on Ascend")
    done, _ = _run_script("train.py", "--device_target", "Ascend", "--output_dir", str(tmp_path))
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "device_target=Ascend is not available" in done.stderr
    assert os.listdir(tmp_path) == []


def test_missing_data_is_one_line_and_leaves_no_run_folder(tmp_path):
    (tmp_path / "empty").mkdir()
    outputs = tmp_path / "outputs"
    done, _ = _run_script(
        "train.py",
        "--data_root",
        str(tmp_path / "empty"),
        "--download",
        "false",
        "--output_dir",
        str(outputs),
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert "cifar-10-binary.tar.gz" in done.stderr
    assert not outputs.exists() or os.listdir(outputs) == []
