# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Picks the ModelArts or the local adapter, and sets up MindSpore's device and parallel context."""

import logging

from model_utils import local_adapter, moxing_adapter
from model_utils.errors import UserInputError

logger = logging.getLogger(__name__)


def _adapter(config):
    """The ModelArts adapter when the run is on ModelArts, the local one otherwise."""
    return moxing_adapter if getattr(config, "enable_modelarts", False) else local_adapter


def get_device_id(config):
    """Device index of this process: DEVICE_ID set by a launcher, else the device_id key."""
    return _adapter(config).get_device_id(default=getattr(config, "device_id", 0))


def get_device_num(config):
    """Number of worker processes, from the environment (before communication init)."""
    return _adapter(config).get_device_num()


def get_rank_id(config):
    """Rank of this process, from the environment (before communication init)."""
    return _adapter(config).get_rank_id()


def resolve_device_target(requested):
    """Turns `auto` into the backend this MindSpore package was built for.

    Args:
        requested (str): "auto", "Ascend", "GPU" or "CPU".

    Returns:
        str: the device target to use.
    """
    import mindspore as ms

    if requested == "auto":
        return ms.get_context("device_target")
    if not getattr(ms.device_context, requested.lower()).device.is_available():
        raise UserInputError(
            f"device_target={requested} is not available: this MindSpore package runs on "
            f"{ms.get_context('device_target')}; install MindSpore for {requested} or use "
            "--device_target auto"
        )
    return requested


def _set_device(target, device_id):
    """ms.set_device, tolerant of a process that already runs kernels on the same target.

    MindSpore fixes the device when the first kernel runs; a second job in the same process
    (a notebook, the test suite) then cannot set it again. Keeping the device in use is right
    when it is the one asked for; another target is a user error.
    """
    import mindspore as ms

    try:
        ms.set_device(target, device_id)
    except RuntimeError as err:
        current = ms.get_context("device_target")
        if current != target:
            raise UserInputError(
                f"device_target={target} is not allowed here: this process already runs on "
                f"{current} ({err})"
            ) from err
        logger.debug("device %s already in use in this process; keeping it", current)


def init_context(config, distributed=False):
    """Sets device, execution mode and (optionally) data-parallel context.

    Args:
        config: the resolved Config (device_target, device_id, mode).
        distributed (bool): initialise communication and data-parallel mode.

    Returns:
        tuple(str, int, int): the device target, this process's rank and the number of ranks.
    """
    import mindspore as ms

    # Device and mode.
    target = resolve_device_target(config.device_target)
    mode = ms.GRAPH_MODE if config.mode == "GRAPH" else ms.PYNATIVE_MODE
    ms.set_context(mode=mode)
    _set_device(target, None if distributed else get_device_id(config))

    # Data parallel: rank and size come from MindSpore's communication layer.
    if not distributed:
        return target, 0, 1
    from mindspore.communication import get_group_size, get_rank, init

    init()
    rank, size = get_rank(), get_group_size()
    ms.set_auto_parallel_context(
        parallel_mode=ms.ParallelMode.DATA_PARALLEL,
        gradients_mean=True,
        device_num=size,
    )
    logger.info("data parallel: rank %d of %d on %s", rank, size, target)
    return target, rank, size
