# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Configuration, device and platform helpers shared by the entry scripts.

Importing the package caps oneDNN's instruction set (see cpu_isa) before any CPU kernel runs.
"""

from model_utils.cpu_isa import cap_onednn_isa

cap_onednn_isa()
