# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Atomic checkpoint writes, per-epoch rotation and finding the checkpoint to resume from.

`mindspore.save_checkpoint` deletes an existing file before writing the new one, so a kill in
between would lose both; every write here goes to a temporary name in the same folder first
and is then renamed over the target, which the file system does in one step.
"""

import glob
import logging
import os
import re

import mindspore as ms

logger = logging.getLogger(__name__)


def save_atomic(obj, path, append_dict=None):
    """Writes a checkpoint so that `path` holds either the old or the new file, never half.

    Args:
        obj (mindspore.nn.Cell | list): what mindspore.save_checkpoint accepts.
        path (str): destination, ending in .ckpt.
        append_dict (dict | None): extra scalars stored with the parameters (e.g. the epoch).
    """
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    temporary = os.path.join(folder, f".{os.path.basename(path)}.{os.getpid()}.tmp.ckpt")
    try:
        ms.save_checkpoint(obj, temporary, append_dict=append_dict)
        os.replace(temporary, path)
    finally:
        if os.path.exists(temporary):
            os.remove(temporary)


def saved_run_name(path):
    """The run name train.py stored in a checkpoint, or None (older or foreign files)."""
    try:
        value = ms.load_checkpoint(path, choice_func=lambda name: name == "run_name")
    except (ValueError, RuntimeError, TypeError, OSError):
        return None
    name = value.get("run_name")
    return name if isinstance(name, str) and name else None


def epoch_checkpoint_path(model_root, run_name, epoch):
    """Where the checkpoint written after `epoch` (1-based) of a run goes."""
    return os.path.join(model_root, f"{run_name}-{epoch}.ckpt")


def epoch_checkpoints(model_root, run_name):
    """The run's per-epoch checkpoints as (epoch, path), oldest first."""
    pattern = re.compile(re.escape(run_name) + r"-(\d+)\.ckpt$")
    found = []
    for path in glob.glob(os.path.join(glob.escape(model_root), f"{run_name}-*.ckpt")):
        match = pattern.search(os.path.basename(path))
        if match:
            found.append((int(match.group(1)), path))
    return sorted(found)


def prune_epoch_checkpoints(model_root, run_name, keep):
    """Deletes all but the newest `keep` per-epoch checkpoints of the run."""
    for _, path in epoch_checkpoints(model_root, run_name)[:-keep]:
        os.remove(path)
        logger.debug("removed old checkpoint %s", path)


def resolve_checkpoint(model_root, checkpoint_path):
    """`checkpoint_path` as given when it names a folder or is absolute, else under model_root."""
    if os.path.isabs(checkpoint_path) or os.path.dirname(checkpoint_path):
        return checkpoint_path
    return os.path.join(model_root, checkpoint_path)
