# Sourced by the set-up scripts: creates ./.venv and installs the project into it, once.
# Usage: source scripts/install.sh [EXTRAS]   (EXTRAS e.g. "test" installs .[test])
extras="${1:-}"
python_bin="${PYTHON:-python3.11}"
command -v "$python_bin" >/dev/null 2>&1 || python_bin=python3
if [ ! -x .venv/bin/python ]; then
    "$python_bin" -m venv .venv
fi
source .venv/bin/activate
stamp=".venv/.installed-${extras:-base}"
if [ ! -f "$stamp" ] || [ setup.cfg -nt "$stamp" ]; then
    python -m pip install --quiet --upgrade pip
    # The CPU build first: an unpinned torch would pull several GB of CUDA packages.
    python -m pip install --quiet "torch==2.13.0"
    python -m pip install --quiet -e ".${extras:+[$extras]}"
    touch "$stamp"
fi
