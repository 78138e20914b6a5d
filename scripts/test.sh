#!/usr/bin/env bash
# Installs the project with its test extras into ./.venv (once) and runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/install.sh test
exec python -m pytest "$@"
