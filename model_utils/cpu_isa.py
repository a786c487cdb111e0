# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Keeps MindSpore's CPU convolutions on oneDNN's fast AVX2 kernels.

On AVX-512 processors the oneDNN 3.10 inside the MindSpore 2.10 CPU wheel picks its
`jit_uni_ncsp` convolution for MindSpore's plain NCHW tensors, which runs a reference inner
product: a 3x3 64-channel convolution took 540 ms there and 5.4 ms with the instruction set
capped at AVX2 (measured on the development machines, AMD EPYC with AVX-512; ResNet-34 train
step at batch 128: about 10x faster). oneDNN reads ONEDNN_MAX_CPU_ISA when it creates its first
kernel, so setting it at import time is early enough.
"""

import logging
import os

logger = logging.getLogger(__name__)

ISA_VARIABLE = "ONEDNN_MAX_CPU_ISA"
CAPPED_ISA = "AVX2"


def cap_onednn_isa(environ=None):
    """Sets ONEDNN_MAX_CPU_ISA=AVX2 unless the user chose a value (DEFAULT lifts the cap).

    Args:
        environ (dict | None): the environment to change; None means os.environ.

    Returns:
        str: the value in force afterwards.
    """
    environ = os.environ if environ is None else environ
    if not environ.get(ISA_VARIABLE):
        environ[ISA_VARIABLE] = CAPPED_ISA
        logger.debug("%s=%s set for fast oneDNN convolutions", ISA_VARIABLE, CAPPED_ISA)
    return environ[ISA_VARIABLE]
