# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""The run folder: its name, the resolved config and metrics.jsonl (one JSON object per epoch)."""

import json
import os

import yaml


def run_name(config):
    """The run's folder name: `run_name` when set, else built from the settings that matter.

    The name is stable for the same settings, so `--resume true` finds the run again.
    """
    if config.run_name:
        return config.run_name
    parts = [
        f"{config.dataset}_{config.imb_type}{config.imb_ratio:g}",
        config.arch,
        f"{config.loss_type}_b{config.beta:g}_g{config.gamma:g}",
        f"{config.reweight}_{config.lr_schedule}_lr{config.LR:g}_bs{config.batch_size}",
        f"e{config.epoch_num}_s{config.seed}",
    ]
    return "_".join(parts)


def write_atomic(path, text):
    """Replaces `path` with `text` in one rename, so readers never see half a file."""
    temporary = f"{path}.tmp{os.getpid()}"
    with open(temporary, "w", encoding="utf-8") as handle:
        handle.write(text)
    os.replace(temporary, path)


def save_config(config, path):
    """Writes the resolved settings as YAML, loadable again with --config_path."""
    values = {k: v for k, v in config.to_dict().items() if k != "config_path"}
    write_atomic(path, yaml.safe_dump(values, sort_keys=False))


def read_metrics(path):
    """The rows of a metrics.jsonl file; an empty list when it does not exist."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def write_metrics(path, rows):
    """Rewrites a metrics.jsonl file with `rows` (used to drop epochs a resume will redo)."""
    write_atomic(path, "".join(json.dumps(row) + "\n" for row in rows))


def append_metrics(path, row):
    """Adds one epoch's row to metrics.jsonl."""
    with open(path, "a", encoding="utf-8") as handle:
        handle.write(json.dumps(row) + "\n")
