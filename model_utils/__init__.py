# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
"""Configuration, device and platform helpers shared by the entry scripts.

Importing the package caps oneDNN's instruction set (see cpu_isa) before any CPU kernel runs,
and, unless GLOG_v is set, keeps MindSpore's own log at errors only: its warnings (deprecations,
plugin loading for absent devices) would bury the one-line messages of the entry scripts.
GLOG_v=2 brings them back.
"""

import os

from model_utils.cpu_isa import cap_onednn_isa

cap_onednn_isa()
os.environ.setdefault("GLOG_v", "3")
