#!/usr/bin/env bash
# Proves that the DAGs run on a distributed Airflow: PostgreSQL, Redis, the CeleryExecutor, a worker on
# the default queue and one on the translation queue, and a worker killed with SIGKILL in the middle of a
# run (see scripts/check_distributed.py for what is checked). Takes several minutes.
#
# Installs what is missing first: redis-server and PostgreSQL through apt-get (as root), the project with
# its `distributed` extra into ./.venv (or, with MLP_VENV=DIR, the extra's packages into that existing
# virtual environment). Starts everything on 127.0.0.1 and free ports, in a temporary directory, and
# stops everything it started when it ends, also on failure or Ctrl-C.
#
# Environment: MLP_VENV (an existing virtual environment), MLP_SHARED_DIR (default ../shared, for the
# seed documents), MLP_CHECK_REDIS_URL (use that Redis instead of starting one). Arguments are passed to
# check_distributed.py (e.g. --results FILE, --keep).
set -euo pipefail
cd "$(dirname "$0")/.."

fail() { echo "error: $*" >&2; exit 1; }

apt_install() {   # apt_install PACKAGE: only as root; anyone else is told what to run
    [ "$(id -u)" = 0 ] || fail "$1 is not installed; install it with: sudo apt-get install $1"
    echo "==> apt-get install $1"
    # A fresh machine may have no package lists yet: read them and try once more.
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" > /dev/null 2>&1 \
        || { apt-get update -q > /dev/null 2>&1 \
             && DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$1" > /dev/null 2>&1; } \
        || fail "apt-get install $1 failed"
}

if [ -z "${MLP_CHECK_REDIS_URL:-}" ] && ! command -v redis-server > /dev/null; then
    apt_install redis-server
fi
postgres_bin="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -1)"
if [ -z "$postgres_bin" ] || [ ! -x "$postgres_bin/initdb" ]; then
    apt_install postgresql
    postgres_bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
fi
if [ "$(id -u)" = 0 ] && ! id postgres > /dev/null 2>&1; then
    # initdb refuses to run as root: the cluster belongs to this system user.
    useradd --system --no-create-home --shell /usr/sbin/nologin postgres
fi

if [ -n "${MLP_VENV:-}" ]; then
    python="$MLP_VENV/bin/python"
    [ -x "$python" ] || fail "MLP_VENV=$MLP_VENV is not a virtual environment"
    if ! "$python" -c "import airflow.providers.celery, psycopg2, asyncpg, redis" 2> /dev/null; then
        echo "==> installing the distributed extra's packages into $MLP_VENV"
        mapfile -t requirements < <("$python" -c 'import configparser
c = configparser.ConfigParser(); c.read("setup.cfg")
print("\n".join(r for r in c["options.extras_require"]["distributed"].split("\n") if r.strip()))')
        "$python" -m pip install --quiet "${requirements[@]}" \
            || fail "pip install of the distributed extra failed"
    fi
else
    source scripts/install.sh distributed
    python="$PWD/.venv/bin/python"
fi

pids_dir="$(mktemp -d -t mlp-check-pids-XXXXXX)"
pids_file="$pids_dir/pids"
: > "$pids_file"
stop_leftovers() {
    # check_distributed.py stops what it started; this covers it being killed before it could.
    local pid name
    while read -r pid name; do
        kill -KILL -- "-$pid" 2> /dev/null && echo "stopped the leftover $name (process group $pid)" >&2
    done < "$pids_file"
    if [ -f "$pids_dir/postgres-dir" ]; then rm -rf "$(cat "$pids_dir/postgres-dir")"; fi
    rm -rf "$pids_dir"
}
trap stop_leftovers EXIT

shared="${MLP_SHARED_DIR:-$PWD/../shared}"
"$python" scripts/check_distributed.py --pids-file "$pids_file" --postgres-bin "$postgres_bin" \
    --seeds "$shared/corpus/seeds" "$@"
