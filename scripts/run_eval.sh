#!/usr/bin/env bash
# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
# Evaluates a checkpoint on the whole test set on one Ascend device (DEVICE_ID or
# --device_id N), in the active Python environment.
# Without CHECKPOINT, eval.py reads model_root/checkpoint_path. Log: ./eval/eval.log.
set -euo pipefail
USAGE="bash scripts/run_eval.sh [CHECKPOINT] [--KEY VALUE ...]
  e.g. bash scripts/run_eval.sh checkpoint/model.ckpt --arch resnet32 --imb_ratio 100"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cbloss_run_eval Ascend "$@"
