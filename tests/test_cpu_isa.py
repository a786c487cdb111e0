# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""The oneDNN instruction-set cap: set when absent, never over a user's choice."""

import os
import subprocess
import sys

from model_utils.cpu_isa import ISA_VARIABLE, cap_onednn_isa


def test_cap_is_set_when_the_variable_is_absent_or_empty():
    for environ in ({}, {ISA_VARIABLE: ""}):
        assert cap_onednn_isa(environ) == "AVX2"
        assert environ[ISA_VARIABLE] == "AVX2"


def test_a_users_choice_is_kept():
    environ = {ISA_VARIABLE: "DEFAULT"}
    assert cap_onednn_isa(environ) == "DEFAULT"
    assert environ == {ISA_VARIABLE: "DEFAULT"}


def test_importing_the_package_sets_it_before_mindspore_runs_a_kernel():
    environ = {k: v for k, v in os.environ.items() if k != ISA_VARIABLE}
    code = "import os, model_utils; print(os.environ['ONEDNN_MAX_CPU_ISA'])"
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=environ,
        cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
        check=True,
    )
    assert done.stdout.strip() == "AVX2"
