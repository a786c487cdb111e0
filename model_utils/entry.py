# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""The common end of train.py, eval.py and export.py: logging, ModelArts, exit codes."""

import logging

from model_utils.errors import UserInputError

logger = logging.getLogger(__name__)


def run_job(job, config, failures=(), pre_process=None):
    """Runs job(config) inside the ModelArts wrapper and turns known failures into exit codes.

    A user mistake (UserInputError) and each exception class in `failures` end the program
    with one logged line instead of a traceback; anything else is a bug and propagates.

    Args:
        job (callable): the entry script's work, called with the config.
        config: the resolved Config.
        failures (sequence of (type, int)): further exception classes and their exit codes.
        pre_process (callable, optional): run on ModelArts after the data copy, before job.

    Returns:
        int: 0 on success, 2 for a user mistake, or the code paired with the failure.
    """
    from model_utils.logging_setup import setup_logging
    from model_utils.moxing_adapter import moxing_wrapper

    setup_logging()
    codes = ((UserInputError, 2),) + tuple(failures)
    try:
        moxing_wrapper(config, pre_process=pre_process)(job)(config)
    except tuple(kind for kind, _ in codes) as exc:
        logger.error("%s", exc)
        return next(code for kind, code in codes if isinstance(exc, kind))
    return 0
