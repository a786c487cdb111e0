#!/usr/bin/env bash
# Copyright 2026 The cbloss Authors. Licensed under the Apache License, Version 2.0.
# Runs the test suite in the project's virtual environment (created on first use).
# Usage: bash scripts/run_tests.sh [pytest arguments]
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup_env.sh"
cbloss_setup_env
cd "$CBLOSS_ROOT"
python -m pytest -q "$@"
