#!/usr/bin/env bash
# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
# Data-parallel training on DEVICE_NUM GPUs of this machine, in the active Python environment:
# one process per GPU started by mpirun when it is installed, by msrun otherwise (DEVICE_NUM=1:
# a single plain process). Logs in ./train/.
# Env: CBLOSS_LAUNCHER (mpirun or msrun: overrides the choice), CBLOSS_MASTER_PORT (msrun).
set -euo pipefail
USAGE="bash scripts/run_train_gpu.sh DEVICE_NUM VISIBLE_DEVICES [--KEY VALUE ...]
  DEVICE_NUM: number of GPUs, 1..8; VISIBLE_DEVICES: that many distinct GPU ids, e.g. 0,1,2,3
  e.g. bash scripts/run_train_gpu.sh 4 0,1,2,3 --config_path configs/paper_cifar10_lt.yaml"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cbloss_parse_args 2 2 "$@"
device_num="${CBLOSS_POSITIONAL[0]}"
visible="${CBLOSS_POSITIONAL[1]}"
cbloss_check_int DEVICE_NUM "$device_num" 1 8
if ! [[ "$visible" =~ ^[0-9]+(,[0-9]+)*$ ]]; then
    cbloss_die "VISIBLE_DEVICES=$visible is not a comma-separated list of GPU ids"
fi
IFS=, read -r -a ids <<< "$visible"
distinct="$(printf '%s\n' "${ids[@]}" | sort -u | wc -l)"
if [ "${#ids[@]}" != "$device_num" ] || [ "$distinct" != "$device_num" ]; then
    cbloss_die "VISIBLE_DEVICES=$visible must name DEVICE_NUM=$device_num distinct GPUs"
fi
if [ -n "${CBLOSS_MASTER_PORT:-}" ]; then
    cbloss_check_int CBLOSS_MASTER_PORT "$CBLOSS_MASTER_PORT" 1024 65535
fi

# The launcher: mpirun if present, else msrun.
launcher="${CBLOSS_LAUNCHER:-}"
if [ -z "$launcher" ]; then
    launcher=msrun
    if command -v mpirun > /dev/null 2>&1; then
        launcher=mpirun
    fi
fi
case "$launcher" in
    mpirun | msrun) ;;
    *) cbloss_die "CBLOSS_LAUNCHER=$launcher is not one of mpirun, msrun" ;;
esac
if [ "$device_num" -gt 1 ] && ! command -v "$launcher" > /dev/null 2>&1; then
    echo "error: $launcher is not on PATH (msrun comes with MindSpore)" >&2
    exit 1
fi

# The settings, checked before anything runs.
cbloss_resolve_paths train.py "${CBLOSS_EXTRA[@]}"
export CUDA_VISIBLE_DEVICES="$visible"
run_dir="$CBLOSS_CALLER_DIR/train"
train=("$CBLOSS_ROOT/train.py" --device_target GPU)
if [ "$device_num" -gt 1 ]; then
    train+=(--run_distribute true)
fi
train+=("${CBLOSS_EXTRA[@]}" "${CBLOSS_PATH_ARGS[@]}")

# The job.
if [ "$device_num" = 1 ]; then
    cmd=(python "${train[@]}")
elif [ "$launcher" = mpirun ]; then
    cmd=(mpirun -n "$device_num" --output-filename "$run_dir/mpirun" --merge-stderr-to-stdout)
    if [ "$(id -u)" = 0 ]; then
        cmd+=(--allow-run-as-root)
    fi
    cmd+=(python "${train[@]}")
else
    port="${CBLOSS_MASTER_PORT:-$(cbloss_free_port)}"
    cmd=(msrun "--worker_num=$device_num" "--local_worker_num=$device_num")
    cmd+=(--master_addr=127.0.0.1 "--master_port=$port" "--log_dir=$run_dir" --join=True)
    cmd+=("${train[@]}")
fi
echo "$device_num GPU(s) $visible with ${cmd[0]}; logs in $run_dir" >&2
if [ "$CBLOSS_DRY_RUN" = 1 ]; then
    echo "export CUDA_VISIBLE_DEVICES=$visible"
fi
cbloss_launch "$run_dir" train.log "${cmd[@]}"
