# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""One logging set-up for the entry scripts: console plus an optional file, tagged by rank."""

import logging
import os
import sys


def setup_logging(rank=0, group_size=1, log_file=None, level=logging.INFO):
    """Routes the project's log records to stderr (and `log_file`), each line tagged.

    Args:
        rank (int): this process's rank; shown in every line when group_size > 1.
        group_size (int): number of ranks.
        log_file (str | None): a file that receives the same lines.
        level (int): logging level.
    """
    tag = f" [rank {rank}/{group_size}]" if group_size > 1 else ""
    formatter = logging.Formatter(f"%(asctime)s %(levelname)s{tag} %(message)s", "%H:%M:%S")
    root = logging.getLogger()
    for handler in list(root.handlers):
        root.removeHandler(handler)
    console = logging.StreamHandler(sys.stderr)
    console.setFormatter(formatter)
    root.addHandler(console)
    if log_file:
        os.makedirs(os.path.dirname(os.path.abspath(log_file)), exist_ok=True)
        to_file = logging.FileHandler(log_file, encoding="utf-8")
        to_file.setFormatter(formatter)
        root.addHandler(to_file)
    root.setLevel(level)
