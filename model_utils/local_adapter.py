# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Device and rank numbers of a local run, read from the launcher's environment.

Before `mindspore.communication.init()` runs these are the only source; after it, the
communication API is the authority (see device_adapter.init_context).
"""

import os


def _env_int(names, default):
    """The first of `names` set in the environment, as an int; `default` when none is."""
    for name in names:
        value = os.environ.get(name)
        if value not in (None, ""):
            return int(value)
    return default


def get_device_id(default=0):
    """Device index: DEVICE_ID (rank tables, the scripts) or `default`."""
    return _env_int(["DEVICE_ID"], default)


def get_device_num():
    """Number of workers: RANK_SIZE (rank tables), MS_WORKER_NUM (msrun) or 1."""
    return _env_int(["RANK_SIZE", "MS_WORKER_NUM"], 1)


def get_rank_id():
    """This worker's rank: RANK_ID (rank tables), MS_NODE_ID (msrun) or 0."""
    return _env_int(["RANK_ID", "MS_NODE_ID"], 0)


def get_job_id():
    """A name for the job; local runs have none."""
    return "Local Job"
