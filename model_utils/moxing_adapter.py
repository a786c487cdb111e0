# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""ModelArts support: copy data in from OBS before a job and outputs back after it.

ModelArts runs each job on servers of up to eight devices; the data is copied once per server
(by the process with local rank 0) while the others wait for a marker file.
"""

import functools
import logging
import os
import time

from model_utils.errors import UserInputError

logger = logging.getLogger(__name__)

_DEVICES_PER_SERVER = 8
_WAIT_SECONDS = 3600


def get_device_id(default=0):
    """Device index ModelArts gives this process (DEVICE_ID), `default` when unset."""
    return int(os.environ.get("DEVICE_ID") or default)


def get_device_num():
    """Number of devices of the job (RANK_SIZE), 1 when unset."""
    return int(os.environ.get("RANK_SIZE") or 1)


def get_rank_id():
    """Global rank ModelArts gives this process (RANK_ID), 0 when unset."""
    return int(os.environ.get("RANK_ID") or 0)


def get_job_id():
    """ModelArts job identifier (JOB_ID), "default" when unset."""
    return os.environ.get("JOB_ID") or "default"


def _moxing():
    """Imports moxing or says in one line that it is needed."""
    try:
        import moxing
    except ImportError:
        raise UserInputError(
            "enable_modelarts=True needs the moxing package (present on ModelArts images); "
            "install it or run with --enable_modelarts false"
        ) from None
    return moxing


def _is_copier():
    """True for the process with local rank 0: the one per server that copies data."""
    return get_device_id() % min(get_device_num(), _DEVICES_PER_SERVER) == 0


def sync_data(source, destination):
    """Copies a folder between OBS and local disk, once per server.

    Args:
        source (str): folder to copy from (an obs:// URL or a local folder).
        destination (str): folder to copy to.
    """
    moxing = _moxing()
    marker = os.path.join(destination, ".cbloss_copy_done")

    # One copier per server; the others wait for its marker.
    if _is_copier() and not os.path.exists(marker):
        logger.info("copying %s to %s", source, destination)
        os.makedirs(destination, exist_ok=True)
        moxing.file.copy_parallel(source, destination)
        with open(marker, "w", encoding="utf-8") as handle:
            handle.write(source)
        return
    deadline = time.time() + _WAIT_SECONDS
    while not os.path.exists(marker):
        if time.time() > deadline:
            raise RuntimeError(f"gave up waiting for the copy of {source} to {destination}")
        time.sleep(1)


def moxing_wrapper(config, pre_process=None, post_process=None):
    """Decorates a job so that, on ModelArts, its inputs and outputs travel through OBS.

    Before the job: data_url to data_path and checkpoint_url to load_path; data_root, output_dir
    and model_root then point at the local copies. After it, even when it fails (its logs are
    then what is needed): output_path to train_url, by one process per server. A missing
    moxing package stops the job before anything runs. Without enable_modelarts the job runs
    unchanged.

    Args:
        config: the resolved Config; its paths are updated in place.
        pre_process (callable | None): run after the copies, before the job.
        post_process (callable | None): run after the job, before copying outputs back.
    """

    def decorator(run):
        @functools.wraps(run)
        def wrapped(*args, **kwargs):
            if not config.enable_modelarts:
                return run(*args, **kwargs)

            # Inputs in.
            _moxing()
            if config.data_url:
                sync_data(config.data_url, config.data_path)
                config.data_root = config.data_path
            if config.checkpoint_url:
                sync_data(config.checkpoint_url, config.load_path)
            config.output_dir = os.path.join(config.output_path, "outputs")
            config.model_root = os.path.join(config.output_path, "checkpoint")
            os.makedirs(config.output_path, exist_ok=True)
            if pre_process:
                pre_process()

            # The job, then outputs out.
            try:
                result = run(*args, **kwargs)
                if post_process:
                    post_process()
            finally:
                if config.train_url and _is_copier():
                    logger.info("copying %s to %s", config.output_path, config.train_url)
                    _moxing().file.copy_parallel(config.output_path, config.train_url)
            return result

        return wrapped

    return decorator
