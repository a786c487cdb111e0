#!/usr/bin/env bash
# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
# Sourced by the run_*.sh scripts: argument parsing and checks, path resolution and the launch
# (foreground with the exit status of the job, or --background). Each script sets USAGE first.
set -euo pipefail

CBLOSS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CBLOSS_CALLER_DIR="$PWD"

# What cbloss_parse_args leaves behind.
CBLOSS_POSITIONAL=()
CBLOSS_EXTRA=()
CBLOSS_BACKGROUND=0
CBLOSS_DRY_RUN=0

# The script options every run_*.sh accepts, in the words of its usage text.
CBLOSS_OPTIONS_HELP="Script options (anywhere a --KEY may stand): --background (detach, print
the process group and the log), --dry_run (print the commands, run nothing), -h/--help.
--KEY VALUE pairs go to the python script (python train.py --help lists the keys); relative
paths in them are taken from the folder the script is started in."

cbloss_usage() {
    printf 'Usage: %s\n%s\n' "$USAGE" "$CBLOSS_OPTIONS_HELP"
}

# Prints "error: MESSAGE" and the usage on stderr, then exits with status 2.
cbloss_die() {
    echo "error: $1" >&2
    cbloss_usage >&2
    exit 2
}

# Splits the arguments into positionals (before the first --KEY), --KEY VALUE pairs and the
# script options, and checks the positional count. Usage: cbloss_parse_args MIN MAX "$@"
cbloss_parse_args() {
    local min="$1" max="$2" want_value=0 arg
    shift 2
    for arg in "$@"; do
        if [ "$want_value" = 1 ]; then
            CBLOSS_EXTRA+=("$arg")
            want_value=0
            continue
        fi
        case "$arg" in
            -h | --help)
                cbloss_usage
                exit 0
                ;;
            --background) CBLOSS_BACKGROUND=1 ;;
            --dry_run) CBLOSS_DRY_RUN=1 ;;
            --*=*) CBLOSS_EXTRA+=("$arg") ;;
            --?*)
                CBLOSS_EXTRA+=("$arg")
                want_value=1
                ;;
            *)
                if [ "${#CBLOSS_EXTRA[@]}" -gt 0 ]; then
                    cbloss_die "unexpected argument '$arg' after the --KEY VALUE pairs"
                fi
                CBLOSS_POSITIONAL+=("$arg")
                ;;
        esac
    done
    if [ "$want_value" = 1 ]; then
        cbloss_die "${CBLOSS_EXTRA[-1]} needs a value (--KEY VALUE)"
    fi
    local count="${#CBLOSS_POSITIONAL[@]}"
    if [ "$count" -lt "$min" ] || [ "$count" -gt "$max" ]; then
        if [ "$min" = "$max" ]; then
            cbloss_die "expected $min positional argument(s), got $count"
        fi
        cbloss_die "expected $min to $max positional argument(s), got $count"
    fi
}

# Checks that VALUE is an integer in [MIN, MAX]. Usage: cbloss_check_int NAME VALUE MIN MAX
cbloss_check_int() {
    local name="$1" value="$2" min="$3" max="$4"
    if ! [[ "$value" =~ ^[0-9]+$ ]] || [ "$((10#$value))" -lt "$min" ] \
        || [ "$((10#$value))" -gt "$max" ]; then
        cbloss_die "$name=$value is not an integer in $min..$max"
    fi
}

# Absolute form of a path, taken from the folder the script was started in.
cbloss_abspath() {
    case "$1" in
        /*) echo "$1" ;;
        *) echo "$CBLOSS_CALLER_DIR/$1" ;;
    esac
}

# Checks that a file exists and prints its absolute path. Usage: cbloss_check_file NAME PATH
cbloss_check_file() {
    local name="$1" path
    path="$(cbloss_abspath "$2")"
    if [ ! -f "$path" ]; then
        cbloss_die "$name=$2 is not a file (looked for $path)"
    fi
    echo "$path"
}

# Checks the --KEY VALUE pairs with the project's config parser (one line and exit 2 on a bad
# key or value) and fills CBLOSS_PATH_ARGS with --KEY=ABSOLUTE for each relative path setting,
# from the flags or a --config_path file, so the job may run in another folder.
CBLOSS_PATH_ARGS=()
cbloss_resolve_paths() {
    local prog="$1" out
    shift
    out="$(cd "$CBLOSS_CALLER_DIR" && PYTHONPATH="$CBLOSS_ROOT${PYTHONPATH:+:$PYTHONPATH}" \
        python - "$prog" "$@" <<'PY'
import os
import sys

from model_utils.config import get_config

PATH_KEYS = ("data_root", "output_dir", "model_root", "pretrained_model", "ckpt_file",
             "data_path", "output_path", "load_path")
prog, argv = sys.argv[1], sys.argv[2:]
config = get_config(argv, prog=prog)
if any(arg.split("=")[0] == "--config_path" for arg in argv):
    print(f"--config_path={config.config_path}")
for key in PATH_KEYS:
    value = getattr(config, key)
    if value and not os.path.isabs(value):
        print(f"--{key}={os.path.abspath(value)}")
value = config.checkpoint_path
if os.path.dirname(value) and not os.path.isabs(value):
    print(f"--checkpoint_path={os.path.abspath(value)}")
PY
    )" || exit "$?"
    CBLOSS_PATH_ARGS=()
    if [ -n "$out" ]; then
        mapfile -t CBLOSS_PATH_ARGS <<< "$out"
    fi
}

# A free TCP port on this machine (the kernel picks it; it stays free with high likelihood).
cbloss_free_port() {
    python -c 'import socket; s = socket.socket(); s.bind(("", 0)); print(s.getsockname()[1])'
}

# The evaluation scripts: [CHECKPOINT] [--KEY VALUE ...] on device TARGET, in ./eval/.
# Usage: cbloss_run_eval TARGET "$@"
cbloss_run_eval() {
    local target="$1" checkpoint
    shift
    cbloss_parse_args 0 1 "$@"
    local cmd=(python "$CBLOSS_ROOT/eval.py" --device_target "$target")
    if [ "${#CBLOSS_POSITIONAL[@]}" = 1 ]; then
        checkpoint="$(cbloss_check_file CHECKPOINT "${CBLOSS_POSITIONAL[0]}")"
    fi
    if [ "$target" = CPU ]; then
        source "$CBLOSS_ROOT/scripts/setup_env.sh"
        cbloss_setup_env
    fi
    cbloss_resolve_paths eval.py "${CBLOSS_EXTRA[@]}"
    cmd+=("${CBLOSS_EXTRA[@]}" "${CBLOSS_PATH_ARGS[@]}")
    if [ -n "${checkpoint:-}" ]; then
        cmd+=("--checkpoint_path=$checkpoint")
    fi
    cbloss_launch "$CBLOSS_CALLER_DIR/eval" eval.log "${cmd[@]}"
}

# Prints a command the way a shell would read it back.
cbloss_show() {
    printf '%q ' "$@"
    echo
}

# Runs a command in folder DIR (created) with its output in DIR/LOG_NAME. In the foreground
# the output is also shown and the command's exit status returned; with --background it is
# detached in a process group of its own, whose id is printed; --dry_run only prints it.
# Usage: cbloss_launch DIR LOG_NAME COMMAND...
cbloss_launch() {
    local dir="$1" log="$1/$2" status=0
    shift 2
    if [ "$CBLOSS_DRY_RUN" = 1 ]; then
        local tail="2>&1 | tee $(printf '%q' "$log")"
        if [ "$CBLOSS_BACKGROUND" = 1 ]; then
            tail="> $(printf '%q' "$log") 2>&1 &"
        fi
        echo "cd $(printf '%q' "$dir") && $(cbloss_show "$@")$tail"
        return 0
    fi
    mkdir -p "$dir"
    cd "$dir"
    if [ "$CBLOSS_BACKGROUND" = 1 ]; then
        setsid nohup "$@" > "$log" 2>&1 < /dev/null &
        # setsid makes the group in the child: wait for it, so the printed group exists
        local pid="$!" tries=0
        while [ "$tries" -lt 100 ] && kill -0 "$pid" 2>/dev/null \
            && [ "$(ps -o pgid= -p "$pid" | tr -d ' ')" != "$pid" ]; do
            sleep 0.05
            tries=$((tries + 1))
        done
        echo "started in the background as process group $!; log: $log" >&2
        echo "stop it with: kill -- -$!" >&2
        return 0
    fi
    echo "log: $log" >&2
    "$@" 2>&1 | tee "$log" || status="$?"
    if [ "$status" != 0 ]; then
        echo "failed with exit status $status; log: $log" >&2
    fi
    return "$status"
}
