#!/usr/bin/env bash
# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
# Sourced by the other scripts: makes sure <repo>/.venv exists with the pinned requirements and
# puts it first on PATH. Re-installs only when a requirements file changed.
# Honours CBLOSS_PYTHON (interpreter for the venv) and CBLOSS_VENV (venv folder).

CBLOSS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
CBLOSS_VENV="${CBLOSS_VENV:-$CBLOSS_ROOT/.venv}"

cbloss_pick_python() {
    local candidate
    for candidate in "${CBLOSS_PYTHON:-}" python3.11 python3.10 python3.9 python3; do
        [ -n "$candidate" ] || continue
        command -v "$candidate" >/dev/null 2>&1 || continue
        if "$candidate" -c 'import sys; sys.exit(not (3, 9) <= sys.version_info[:2] <= (3, 11))'
        then
            echo "$candidate"
            return 0
        fi
    done
    echo "error: MindSpore 2.10 needs Python 3.9-3.11; none found (set CBLOSS_PYTHON)" >&2
    return 1
}

cbloss_setup_env() {
    local python stamp want
    stamp="$CBLOSS_VENV/.requirements.sha256"
    want="$(cat "$CBLOSS_ROOT/requirements.txt" "$CBLOSS_ROOT/requirements-dev.txt" \
        | sha256sum | cut -d' ' -f1)"
    if [ ! -x "$CBLOSS_VENV/bin/python" ]; then
        python="$(cbloss_pick_python)" || return 1
        echo "creating the virtual environment $CBLOSS_VENV with $python" >&2
        "$python" -m venv "$CBLOSS_VENV" || return 1
    fi
    if [ "$(cat "$stamp" 2>/dev/null)" != "$want" ]; then
        echo "installing requirements into $CBLOSS_VENV (a few minutes the first time)" >&2
        "$CBLOSS_VENV/bin/python" -m pip install --quiet --upgrade pip >&2 || return 1
        "$CBLOSS_VENV/bin/python" -m pip install --quiet -r "$CBLOSS_ROOT/requirements-dev.txt" \
            >&2 || return 1
        echo "$want" > "$stamp"
    fi
    export PATH="$CBLOSS_VENV/bin:$PATH"
    export GLOG_v="${GLOG_v:-3}"
}
