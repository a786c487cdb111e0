#!/usr/bin/env bash
# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
# Data-parallel training on CPU: msrun starts WORKER_NUM train.py processes on this machine,
# which average their gradients; logs in ./train_parallel/. Creates <repo>/.venv on first use.
# Env: CBLOSS_MASTER_PORT (default: a free port), CBLOSS_CLUSTER_TIME_OUT (seconds, default 300).
set -euo pipefail
USAGE="bash scripts/run_distribute_train_cpu.sh WORKER_NUM [--KEY VALUE ...]
  WORKER_NUM: number of worker processes, 1..64
  e.g. bash scripts/run_distribute_train_cpu.sh 2 --arch resnet32 --batch_size 64"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cbloss_parse_args 1 1 "$@"
worker_num="${CBLOSS_POSITIONAL[0]}"
cbloss_check_int WORKER_NUM "$worker_num" 1 64
cluster_time_out="${CBLOSS_CLUSTER_TIME_OUT:-300}"
cbloss_check_int CBLOSS_CLUSTER_TIME_OUT "$cluster_time_out" 1 86400
if [ -n "${CBLOSS_MASTER_PORT:-}" ]; then
    cbloss_check_int CBLOSS_MASTER_PORT "$CBLOSS_MASTER_PORT" 1024 65535
fi

# Environment, then the settings checked before anything runs.
source "$CBLOSS_ROOT/scripts/setup_env.sh"
cbloss_setup_env
if ! command -v msrun > /dev/null 2>&1; then
    echo "error: msrun (installed with MindSpore) is not on PATH" >&2
    exit 1
fi
cbloss_resolve_paths train.py "${CBLOSS_EXTRA[@]}"
port="${CBLOSS_MASTER_PORT:-$(cbloss_free_port)}"

# The job: msrun writes worker_<rank>.log and scheduler.log next to its own log.
run_dir="$CBLOSS_CALLER_DIR/train_parallel"
cmd=(msrun "--worker_num=$worker_num" "--local_worker_num=$worker_num")
cmd+=(--master_addr=127.0.0.1 "--master_port=$port" "--log_dir=$run_dir" --join=True)
cmd+=("--cluster_time_out=$cluster_time_out")
cmd+=("$CBLOSS_ROOT/train.py" --device_target CPU --run_distribute true)
cmd+=("${CBLOSS_EXTRA[@]}" "${CBLOSS_PATH_ARGS[@]}")
echo "$worker_num workers, master port $port; per-worker logs: $run_dir/worker_<rank>.log" >&2
cbloss_launch "$run_dir" msrun.log "${cmd[@]}"
