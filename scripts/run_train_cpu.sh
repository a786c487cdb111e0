#!/usr/bin/env bash
# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
# Single-process training on CPU; the README's quick start. Creates <repo>/.venv with the
# pinned requirements on first use (scripts/setup_env.sh), then runs train.py in ./train/.
set -euo pipefail
USAGE="bash scripts/run_train_cpu.sh [--KEY VALUE ...]
  e.g. bash scripts/run_train_cpu.sh --arch resnet32 --imb_ratio 100 --epoch_num 200"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cbloss_parse_args 0 0 "$@"

# Environment, then the settings checked before anything runs.
source "$CBLOSS_ROOT/scripts/setup_env.sh"
cbloss_setup_env
cbloss_resolve_paths train.py "${CBLOSS_EXTRA[@]}"

# The job, in its own folder.
cmd=(python "$CBLOSS_ROOT/train.py" --device_target CPU)
cmd+=("${CBLOSS_EXTRA[@]}" "${CBLOSS_PATH_ARGS[@]}")
cbloss_launch "$CBLOSS_CALLER_DIR/train" train.log "${cmd[@]}"
