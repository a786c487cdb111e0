#!/usr/bin/env bash
# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
# Data-parallel training on Ascend from an HCCL rank table (JSON, e.g. made by the model zoo's
# hccl_tools): one train.py per device of this server, each in ./train_parallel<rank>/ with its
# own log, in the active Python environment. Several servers: run it on each of them; this
# server's entry is the one whose server_id is CBLOSS_SERVER_ID or one of this host's addresses.
set -euo pipefail
USAGE="bash scripts/run_train.sh RANK_TABLE_FILE [--KEY VALUE ...]
  RANK_TABLE_FILE: HCCL rank table (JSON) listing this server's devices
  e.g. bash scripts/run_train.sh hccl_8p.json --config_path configs/paper_cifar10_lt.yaml"
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"
cbloss_parse_args 1 1 "$@"
rank_table="$(cbloss_check_file RANK_TABLE_FILE "${CBLOSS_POSITIONAL[0]}")"

# This server's devices from the rank table: RANK_SIZE, then one "rank device" line each.
devices="$(python - "$rank_table" "${CBLOSS_SERVER_ID:-}" "$(hostname -I 2> /dev/null || true)" \
    <<'PY'
import json
import sys

path, wanted, addresses = sys.argv[1], sys.argv[2], sys.argv[3].split()


def fail(message):
    sys.exit(f"error: RANK_TABLE_FILE={path}: {message}")


try:
    with open(path, encoding="utf-8") as handle:
        servers = json.load(handle)["server_list"]
    table = {
        server["server_id"]: [(int(d["rank_id"]), int(d["device_id"])) for d in server["device"]]
        for server in servers
    }
except (OSError, ValueError, KeyError, TypeError) as exc:
    fail(f"not an HCCL rank table with server_list/device/rank_id/device_id ({exc!r})")
ranks = sorted(rank for devices in table.values() for rank, _ in devices)
if not ranks or ranks != list(range(len(ranks))):
    fail(f"rank_id values {ranks} are not 0..N-1 once each")
if len(table) == 1:
    local = next(iter(table.values()))
else:
    here = [sid for sid in table if sid == wanted or (not wanted and sid in addresses)]
    if len(here) != 1:
        fail(f"{len(table)} servers {sorted(table)}; set CBLOSS_SERVER_ID to this one's server_id")
    local = table[here[0]]
if any(not 0 <= device <= 15 for _, device in local):
    fail(f"device_id values {[d for _, d in local]} are outside 0..15")
print(len(ranks))
for rank, device in local:
    print(rank, device)
PY
)" || cbloss_die "the rank table could not be used (see above)"
rank_size="$(head -n 1 <<< "$devices")"

# The settings, checked before anything runs.
cbloss_resolve_paths train.py "${CBLOSS_EXTRA[@]}"
cmd=(python "$CBLOSS_ROOT/train.py" --device_target Ascend --run_distribute true)
cmd+=("${CBLOSS_EXTRA[@]}" "${CBLOSS_PATH_ARGS[@]}")

# One process per device, each in its own folder; stopping the script stops them all.
pids=()
ranks=()
trap 'kill "${pids[@]}" 2> /dev/null || true; exit 130' INT TERM
while read -r rank device; do
    dir="$CBLOSS_CALLER_DIR/train_parallel$rank"
    log="$dir/train.log"
    env_vars=("RANK_TABLE_FILE=$rank_table" "RANK_SIZE=$rank_size" "RANK_ID=$rank")
    env_vars+=("DEVICE_ID=$device")
    if [ "$CBLOSS_DRY_RUN" = 1 ]; then
        echo "cd $(printf '%q' "$dir") && $(cbloss_show env "${env_vars[@]}" "${cmd[@]}")>" \
            "$(printf '%q' "$log") 2>&1 &"
        continue
    fi
    mkdir -p "$dir"
    detach=()
    if [ "$CBLOSS_BACKGROUND" = 1 ]; then
        detach=(setsid nohup)
    fi
    (cd "$dir" && exec env "${env_vars[@]}" "${detach[@]}" "${cmd[@]}" > "$log" 2>&1 < /dev/null) &
    pids+=("$!")
    ranks+=("$rank")
    echo "rank $rank on device $device (of $rank_size): process $!, log $log" >&2
done < <(tail -n +2 <<< "$devices")
if [ "$CBLOSS_DRY_RUN" = 1 ]; then
    exit 0
fi
if [ "$CBLOSS_BACKGROUND" = 1 ]; then
    echo "started in the background; stop them with: kill ${pids[*]}" >&2
    exit 0
fi

# Foreground: wait for every rank; the status is the first non-zero one.
status=0
for i in "${!pids[@]}"; do
    rank_status=0
    wait "${pids[$i]}" || rank_status="$?"
    if [ "$rank_status" != 0 ]; then
        echo "rank ${ranks[$i]} failed with exit status $rank_status" >&2
        if [ "$status" = 0 ]; then
            status="$rank_status"
        fi
    fi
done
echo "all ranks done, exit status $status" >&2
exit "$status"
