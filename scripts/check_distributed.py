"""Run `multilingual_pipeline` on a small distributed Airflow and check what it did.

Started by `scripts/check_distributed.sh`, which installs the pieces first. This program starts, on
loopback only and on free ports: a PostgreSQL cluster in a temporary directory (the metadata database
and Celery's result backend), Redis (the Celery broker), then Airflow's scheduler, dag-processor and
api-server with the CeleryExecutor, and two Celery workers with their own hostnames, one on the default
queue and one on the translation queue. Then:

1. a run over the samples and seeds with the tiny test model: it must succeed, every task instance must
   have run on the worker of the queue its task is given by the DAG (read from the REST API), and the
   output must equal, row for row, a `python -m pipeline run` over the same inputs with the same
   shard size (`--files-per-shard`, which the DAG reads from MLP_FILES_PER_SHARD);
2. a second run into a new directory while the translation worker is killed with SIGKILL as soon as it
   holds a translation task: the task must be retried on a restarted worker, the run must succeed, and
   its output must again equal the reference, with no duplicate rows.

Everything it starts, it stops by the process group it recorded; it then checks that nothing of it is
still running or listening. Any failure ends it with one line `error: ...` and exit status 1.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pipeline.records import DATASETS

REPO = Path(__file__).resolve().parent.parent
DAG_ID = "multilingual_pipeline"
TRANSLATION_QUEUE = "translation"
DEFAULT_QUEUE = "default"
# Columns that differ between two runs over the same inputs by design: the run's id and when rows were
# written. Every other column must be equal.
PER_RUN_COLUMNS = ("run_id", "processed_at", "rejected_at")
HOSTNAME_MODULE = '''"""Hostname of an Airflow process: MLP_WORKER_HOSTNAME, else the machine's name."""
import os
import socket


def hostname() -> str:
    return os.environ.get("MLP_WORKER_HOSTNAME") or socket.getfqdn()
'''


class CheckFailed(Exception):
    """A piece is missing or a check does not hold: reported as one line."""


@dataclass
class Service:
    name: str
    process: subprocess.Popen
    log: Path
    ports: tuple[int, ...] = ()


@dataclass
class Services:
    """Processes started by the check, each the leader of its own process group."""

    pids_file: Path
    log_dir: Path
    running: dict[str, Service] = field(default_factory=dict)
    stopped_ports: list[int] = field(default_factory=list)

    def start(self, name: str, argv: list[str], env: dict[str, str], *, user: str | None = None,
              ports: tuple[int, ...] = ()) -> Service:
        log = self.log_dir / f"{name}.log"
        with open(log, "ab") as out:
            process = subprocess.Popen(argv, env=env, stdout=out, stderr=subprocess.STDOUT,
                                       stdin=subprocess.DEVNULL, start_new_session=True, cwd=REPO,
                                       user=user, group=user)
        with open(self.pids_file, "a") as pids:
            pids.write(f"{process.pid} {name}\n")
        service = Service(name, process, log, ports)
        self.running[name] = service
        return service

    def ensure_alive(self) -> None:
        for service in self.running.values():
            if service.process.poll() is not None:
                raise CheckFailed(f"the {service.name} exited with status {service.process.returncode}; "
                                  f"its log: {service.log}")

    def kill(self, name: str) -> None:
        """SIGKILL to the whole process group: the worker and every task process it runs."""
        service = self.running.pop(name)
        _signal_group(service.process.pid, signal.SIGKILL)
        service.process.wait()

    def stop_all(self) -> None:
        """Stop in reverse start order: SIGTERM to each process group, SIGKILL after a grace period."""
        for name in reversed(list(self.running)):
            service = self.running.pop(name)
            # PostgreSQL's fast shutdown is SIGINT; SIGTERM waits for every client to disconnect.
            _signal_group(service.process.pid, signal.SIGINT if name == "postgresql" else signal.SIGTERM)
            try:
                service.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                pass
            _signal_group(service.process.pid, signal.SIGKILL)
            service.process.wait()
            self.stopped_ports.extend(service.ports)


def _signal_group(pgid: int, signum: int) -> None:
    try:
        os.killpg(pgid, signum)
    except ProcessLookupError:
        pass


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def port_open(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(1)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def wait_for(condition: Callable[[], Any], timeout: float, what: str, services: Services,
             interval: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        services.ensure_alive()
        result = condition()
        if result:
            return result
        if time.monotonic() > deadline:
            raise CheckFailed(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


# --- the pieces --------------------------------------------------------------------------------------

def start_postgres(services: Services, work: Path, bin_dir: Path) -> str:
    """A fresh cluster in a temporary directory, listening on 127.0.0.1 only; returns its URL."""
    user = "postgres" if os.geteuid() == 0 else None   # initdb refuses to run as root
    data = Path(tempfile.mkdtemp(prefix="mlp-check-pg-"))
    password = secrets.token_urlsafe(16)
    password_file = data / "password"
    password_file.write_text(password + "\n")
    if user:
        shutil.chown(data, user, user)
        shutil.chown(password_file, user, user)
    services.pids_file.with_name("postgres-dir").write_text(str(data))
    cluster = data / "cluster"
    initdb = subprocess.run([str(bin_dir / "initdb"), "-D", str(cluster), "-U", "airflow", "--no-sync",
                             "-A", "scram-sha-256", f"--pwfile={password_file}", "-E", "UTF8",
                             "--no-locale"], user=user, group=user, capture_output=True, text=True)
    if initdb.returncode:
        raise CheckFailed(f"PostgreSQL initdb failed: {initdb.stderr.strip().splitlines()[-1:]}")
    port = free_port()
    services.start("postgresql", [str(bin_dir / "postgres"), "-D", str(cluster), "-h", "127.0.0.1",
                                  "-p", str(port), "-k", str(data), "-c", "fsync=off",
                                  "-c", "synchronous_commit=off", "-c", "max_connections=200"],
                   dict(os.environ), user=user, ports=(port,))
    import psycopg2

    def create_database() -> bool:
        try:
            connection = psycopg2.connect(host="127.0.0.1", port=port, user="airflow", password=password,
                                          dbname="postgres", connect_timeout=2)
        except psycopg2.OperationalError:
            return False
        connection.autocommit = True
        with connection.cursor() as cursor:
            cursor.execute("CREATE DATABASE airflow")
        connection.close()
        return True

    wait_for(create_database, 60, f"PostgreSQL on 127.0.0.1:{port}", services)
    return f"postgresql+psycopg2://airflow:{password}@127.0.0.1:{port}/airflow"


def start_redis(services: Services, work: Path) -> str:
    port = free_port()
    password = secrets.token_urlsafe(16)
    (work / "redis").mkdir()
    services.start("redis", ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
                             "--appendonly", "no", "--dir", str(work / "redis"), "--requirepass", password],
                   dict(os.environ), ports=(port,))
    url = f"redis://:{password}@127.0.0.1:{port}/0"
    wait_for(lambda: redis_reachable(url) is None, 30, f"Redis on 127.0.0.1:{port}", services, 0.3)
    return url


def redis_reachable(url: str) -> str | None:
    """None when Redis answers PING at `url`, else why not."""
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return str(error)
    return None


def redacted(url: str) -> str:
    """The URL without its password, for messages."""
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.rpartition('@')[2]}"


def write_airflow_home(home: Path, database_url: str, broker_url: str, api_port: int) -> None:
    home.mkdir()
    fernet_key = __import__("base64").urlsafe_b64encode(os.urandom(32)).decode()
    # A known admin password, so that the check never races the api-server writing its generated one.
    (home / "passwords.json").write_text(json.dumps({"admin": secrets.token_urlsafe(16)}))
    (home / "airflow.cfg").write_text(f"""\
[core]
dags_folder = {REPO / 'dags'}
load_examples = False
executor = CeleryExecutor
parallelism = 4
dags_are_paused_at_creation = False
fernet_key = {fernet_key}
execution_api_server_url = http://127.0.0.1:{api_port}/execution/
hostname_callable = mlp_check_hostname.hostname
simple_auth_manager_users = admin:admin
simple_auth_manager_passwords_file = {home / 'passwords.json'}

[database]
sql_alchemy_conn = {database_url}
sql_alchemy_pool_size = 2
sql_alchemy_max_overflow = 4

[celery]
broker_url = {broker_url}
result_backend = db+{database_url}
worker_concurrency = 1

[celery_broker_transport_options]
# An unacknowledged task goes back to the queue after this long (as when its worker died).
visibility_timeout = 21600

[operators]
default_queue = {DEFAULT_QUEUE}

[scheduler]
# A worker that dies with its tasks is noticed after this many seconds without a heartbeat (default 300).
task_instance_heartbeat_timeout = 20
task_instance_heartbeat_timeout_detection_interval = 5

[api]
host = 127.0.0.1
port = {api_port}
workers = 1
secret_key = {secrets.token_urlsafe(16)}

[api_auth]
jwt_secret = {secrets.token_urlsafe(32)}
""")


class Api:
    """Airflow's REST API with a bearer token from the simple auth manager."""

    def __init__(self, base_url: str, password_file: Path) -> None:
        import requests

        self.base_url = base_url
        self.password_file = password_file
        self.http = requests.Session()

    def login(self) -> None:
        password = json.loads(self.password_file.read_text())["admin"]
        response = self.http.post(f"{self.base_url}/auth/token",
                                  json={"username": "admin", "password": password}, timeout=30)
        if response.status_code not in (200, 201):
            raise CheckFailed(f"POST /auth/token refused: {response.status_code} {response.text[:200]}")
        self.http.headers["Authorization"] = f"Bearer {response.json()['access_token']}"

    def call(self, method: str, path: str, **kwargs: Any) -> Any:
        response = self._request(method, path, **kwargs)
        if response.status_code == 401:
            self.login()
            response = self._request(method, path, **kwargs)
        if response.status_code >= 400:
            raise CheckFailed(f"{method} {path}: {response.status_code} {response.text[:300]}")
        return response.json()

    def _request(self, method: str, path: str, **kwargs: Any) -> Any:
        """One request, tried again a few times while the api-server is too busy to answer."""
        import requests

        for attempt in range(4):
            try:
                return self.http.request(method, f"{self.base_url}/api/v2{path}", timeout=60, **kwargs)
            except (requests.ConnectionError, requests.Timeout) as error:
                if attempt == 3:
                    raise CheckFailed(f"the api-server does not answer {method} {path}: {error}") from error
                time.sleep(5)

    def healthy(self) -> bool:
        import requests

        try:
            return self.http.get(f"{self.base_url}/api/v2/monitor/health", timeout=5).status_code == 200
        except requests.RequestException:
            return False

    def task_instances(self, run_id: str) -> list[dict[str, Any]]:
        return self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances",
                         params={"limit": 1000})["task_instances"]

    def tries(self, run_id: str, task_id: str, map_index: int) -> list[dict[str, Any]]:
        return self.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}/taskInstances/{task_id}/{map_index}"
                         "/tries")["task_instances"]


# --- the checks --------------------------------------------------------------------------------------

@dataclass
class Cluster:
    services: Services
    api: Api
    base_env: dict[str, str]
    task_queues: dict[str, str] = field(default_factory=dict)
    hostnames: dict[str, set[str]] = field(default_factory=dict)   # queue -> worker hostnames

    def start_worker(self, name: str, queue: str) -> None:
        env = {**self.base_env, "MLP_WORKER_HOSTNAME": name}
        self.services.start(name, ["airflow", "celery", "worker", "--queues", queue, "--concurrency", "1",
                                   "--celery-hostname", f"{name}@%h", "--skip-serve-logs"], env)
        self.hostnames.setdefault(queue, set()).add(name)


def trigger(api: Api, run_id: str, conf: dict[str, Any]) -> None:
    api.call("POST", f"/dags/{DAG_ID}/dagRuns",
             json={"dag_run_id": run_id, "logical_date": None, "conf": conf})


def wait_for_run(cluster: Cluster, run_id: str, timeout: float,
                 on_poll: Callable[[], None] | None = None) -> dict[str, Any]:
    def finished() -> dict[str, Any] | None:
        if on_poll:
            on_poll()
        run = cluster.api.call("GET", f"/dags/{DAG_ID}/dagRuns/{run_id}")
        return run if run["state"] in ("success", "failed") else None

    run = wait_for(finished, timeout, f"DAG run {run_id}", cluster.services,
                   interval=0.5 if on_poll else 2.0)
    if run["state"] != "success":
        failed = [f"{ti['task_id']}[{ti['map_index']}]" for ti in cluster.api.task_instances(run_id)
                  if ti["state"] not in ("success", "skipped")]
        raise CheckFailed(f"DAG run {run_id} ended {run['state']}; task(s) not successful: "
                          f"{', '.join(failed)} (logs under $AIRFLOW_HOME/logs)")
    return run


def check_placement(cluster: Cluster, run_id: str) -> list[dict[str, Any]]:
    """Every task instance succeeded, in the queue its DAG task names, on a worker of that queue."""
    instances = cluster.api.task_instances(run_id)
    seen_queues = set()
    for ti in instances:
        label = f"{ti['task_id']}[{ti['map_index']}]"
        expected_queue = cluster.task_queues[ti["task_id"]]
        if ti["state"] != "success":
            raise CheckFailed(f"{run_id}: {label} ended {ti['state']}")
        if ti["queue"] != expected_queue:
            raise CheckFailed(f"{run_id}: {label} was queued on {ti['queue']!r}, its task says "
                              f"{expected_queue!r}")
        workers = sorted(cluster.hostnames[expected_queue])
        if ti["hostname"] not in workers:
            raise CheckFailed(f"{run_id}: {label} of queue {expected_queue!r} ran on {ti['hostname']!r}, "
                              f"not on a worker of that queue ({', '.join(workers)})")
        seen_queues.add(expected_queue)
    if seen_queues != {DEFAULT_QUEUE, TRANSLATION_QUEUE}:
        raise CheckFailed(f"{run_id}: task instances ran only on queue(s) {sorted(seen_queues)}")
    return instances


def output_rows(output: Path, dataset: str) -> Counter[str]:
    """The dataset's rows without the per-run columns, each as canonical JSON, counted."""
    import pyarrow.dataset as ds

    path = output / dataset
    if not path.is_dir():
        return Counter()
    table = ds.dataset(path, format="parquet", partitioning="hive").to_table()
    table = table.drop_columns([name for name in PER_RUN_COLUMNS if name in table.column_names])
    return Counter(json.dumps(row, sort_keys=True, default=str, ensure_ascii=False)
                   for row in table.to_pylist())


# A run may reject nothing, and may remove no line from pages that hold only their text.
MAY_BE_EMPTY = ("rejects", "removed")


def compare_outputs(reference: Path, candidate: Path, label: str) -> dict[str, int]:
    """Row-for-row equality with the reference, and no duplicate rows; returns rows per dataset."""
    counts = {}
    for dataset in DATASETS:
        expected, actual = output_rows(reference, dataset), output_rows(candidate, dataset)
        duplicates = sum(count - 1 for count in actual.values() if count > 1)
        if duplicates > sum(count - 1 for count in expected.values() if count > 1):
            raise CheckFailed(f"{label}: {dataset} has {duplicates} duplicate row(s)")
        if expected != actual:
            missing, extra = expected - actual, actual - expected
            example = next(iter(missing or extra))[:200]
            raise CheckFailed(f"{label}: {dataset} differs from `python -m pipeline run`: "
                              f"{sum(missing.values())} row(s) missing, {sum(extra.values())} extra, "
                              f"e.g. {example}")
        if not expected and dataset not in MAY_BE_EMPTY:
            raise CheckFailed(f"{label}: {dataset} is empty in both outputs")
        counts[dataset] = sum(actual.values())
    return counts


def timing_rows(instances: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    return sorted(({"task": ti["task_id"] if ti["map_index"] < 0 else f"{ti['task_id']}[{ti['map_index']}]",
                    "queue": ti["queue"], "hostname": ti["hostname"], "try_number": ti["try_number"],
                    "seconds": round(ti["duration"] or 0.0, 1), "start": ti["start_date"]}
                   for ti in instances), key=lambda row: row["start"] or "")


def print_timings(title: str, run: dict[str, Any], rows: list[dict[str, Any]]) -> dict[str, Any]:
    from datetime import datetime

    wall = (datetime.fromisoformat(run["end_date"]) - datetime.fromisoformat(run["start_date"]))
    print(f"    {title}: run {wall.total_seconds():.1f} s from start to end")
    print(f"      {'task':<22} {'queue':<12} {'hostname':<28} {'try':>3} {'seconds':>8}")
    for row in rows:
        print(f"      {row['task']:<22} {row['queue']:<12} {row['hostname']:<28} {row['try_number']:>3} "
              f"{row['seconds']:>8.1f}")
    per_queue: dict[str, float] = {}
    for row in rows:
        per_queue[row["queue"]] = per_queue.get(row["queue"], 0.0) + row["seconds"]
    print("      task seconds per queue: "
          + ", ".join(f"{queue} {seconds:.1f}" for queue, seconds in sorted(per_queue.items())))
    return {"run_seconds": round(wall.total_seconds(), 1), "task_seconds_per_queue":
            {queue: round(seconds, 1) for queue, seconds in per_queue.items()}, "tasks": rows}


def kill_translation_worker_when_busy(cluster: Cluster, run_id: str, worker: str,
                                      killed: dict[str, Any]) -> Callable[[], None]:
    """A poll hook: SIGKILL `worker` once it holds a running translation task, then start another."""
    def poll() -> None:
        if killed:
            return
        for ti in cluster.api.task_instances(run_id):
            if ti["state"] == "running" and ti["hostname"] == worker \
                    and cluster.task_queues[ti["task_id"]] == TRANSLATION_QUEUE:
                cluster.services.kill(worker)
                killed.update(task_id=ti["task_id"], map_index=ti["map_index"],
                              try_number=ti["try_number"], at=time.monotonic())
                print(f"    kill -9 {worker} while it runs {ti['task_id']}[{ti['map_index']}] "
                      f"(try {ti['try_number']}); starting {worker}-restarted")
                cluster.start_worker(f"{worker}-restarted", TRANSLATION_QUEUE)
                return
    return poll


def check_retry(cluster: Cluster, run_id: str, killed: dict[str, Any], restarted: str) -> None:
    if not killed:
        raise CheckFailed(f"{run_id}: no translation task was seen running on the translation worker, "
                          "so none could be killed")
    tries = cluster.api.tries(run_id, killed["task_id"], killed["map_index"])
    label = f"{killed['task_id']}[{killed['map_index']}]"
    first = next((t for t in tries if t["try_number"] == killed["try_number"]), None)
    last = max(tries, key=lambda t: t["try_number"])
    if first is None or first["state"] == "success":
        raise CheckFailed(f"{run_id}: the killed try {killed['try_number']} of {label} is recorded as "
                          f"{first and first['state']}, not as failed")
    if last["try_number"] <= killed["try_number"] or last["state"] != "success" \
            or last["hostname"] != restarted:
        raise CheckFailed(f"{run_id}: {label} was not retried successfully on {restarted}: last try "
                          f"{last['try_number']} {last['state']} on {last['hostname']}")
    print(f"    {label}: try {first['try_number']} {first['state']} on {first['hostname']}, "
          f"try {last['try_number']} {last['state']} on {last['hostname']}")


# --- the whole check ---------------------------------------------------------------------------------

def run_check(args: argparse.Namespace, services: Services, work: Path) -> dict[str, Any]:
    started = time.monotonic()
    step = _stepper(started)
    figures: dict[str, Any] = {}

    if args.redis_url:
        problem = redis_reachable(args.redis_url)
        if problem:
            raise CheckFailed(f"Redis is not reachable at {redacted(args.redis_url)}: {problem}")
        broker_url = args.redis_url
        step(f"Redis at {redacted(broker_url)} answers")
    else:
        broker_url = start_redis(services, work)
        step(f"Redis started on {redacted(broker_url)}")
    database_url = start_postgres(services, work, args.postgres_bin)
    step(f"PostgreSQL started on {redacted(database_url)} (cluster in a temporary directory)")

    home = work / "airflow"
    api_port = free_port()
    write_airflow_home(home, database_url, broker_url, api_port)
    (work / "pythonpath").mkdir()
    (work / "pythonpath" / "mlp_check_hostname.py").write_text(HOSTNAME_MODULE)
    env = {**os.environ, "AIRFLOW_HOME": str(home), "AIRFLOW_CONFIG": str(home / "airflow.cfg"),
           "PYTHONPATH": os.pathsep.join([str(REPO), str(work / "pythonpath"),
                                          os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep),
           "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "MLP_TRANSLATION_QUEUE": TRANSLATION_QUEUE, "MLP_FILES_PER_SHARD": str(args.files_per_shard),
           "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "OMP_NUM_THREADS": "1",
           # The seeds lie outside the project, beyond the DAGs' default input roots.
           "MLP_ALLOWED_INPUT_ROOTS": os.pathsep.join([str(REPO / "samples"), str(args.seeds)])}
    env.pop("AIRFLOW__CORE__DAGS_FOLDER", None)
    for command in (["airflow", "db", "migrate"],
                    ["airflow", "pools", "set", "mlp_translation", "2", "shard tasks of the pipeline"]):
        result = subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True)
        (services.log_dir / "airflow-cli.log").open("a").write(result.stdout + result.stderr)
        if result.returncode:
            raise CheckFailed(f"`{' '.join(command)}` failed; its output: "
                              f"{services.log_dir / 'airflow-cli.log'}")
    step("Airflow metadata database migrated, pool mlp_translation (2 slots) created")

    api = Api(f"http://127.0.0.1:{api_port}", home / "passwords.json")
    cluster = Cluster(services, api, env)
    services.start("api-server", ["airflow", "api-server"], env, ports=(api_port,))
    services.start("scheduler", ["airflow", "scheduler"], env)
    services.start("dag-processor", ["airflow", "dag-processor"], env)
    cluster.start_worker("cpu-worker", DEFAULT_QUEUE)
    cluster.start_worker("translation-worker", TRANSLATION_QUEUE)
    wait_for(api.healthy, 300, f"the api-server on 127.0.0.1:{api_port}", services, 2)
    api.login()
    step(f"api-server on 127.0.0.1:{api_port}, scheduler, dag-processor, workers cpu-worker "
         f"(queue {DEFAULT_QUEUE}) and translation-worker (queue {TRANSLATION_QUEUE}) started")

    def dag_parsed() -> bool:
        errors = api.call("GET", "/importErrors")["import_errors"]
        if errors:
            raise CheckFailed(f"the DAG files do not import: {errors[0]['filename']}: "
                              f"{errors[0]['stack_trace'].strip().splitlines()[-1]}")
        return any(d["dag_id"] == DAG_ID for d in api.call("GET", "/dags")["dags"])

    wait_for(dag_parsed, 300, f"the dag-processor to parse {DAG_ID}", services, 2)
    api.call("PATCH", f"/dags/{DAG_ID}", json={"is_paused": False})
    cluster.task_queues = {task["task_id"]: task["queue"] or DEFAULT_QUEUE
                           for task in api.call("GET", f"/dags/{DAG_ID}/tasks")["tasks"]}
    step("DAG parsed; queues of its tasks: "
         + ", ".join(f"{task} {queue}" for task, queue in cluster.task_queues.items()))

    model = work / "tiny-ar-en"
    subprocess.run([sys.executable, "-m", "pipeline", "models", "build-test-model", str(model)],
                   cwd=REPO, env=env, check=True, capture_output=True)
    inputs = [str(REPO / "samples"), str(args.seeds)]
    reference = work / "reference"
    reference_started = time.monotonic()
    # MLP_FILES_PER_SHARD is the DAG runs' shard size: the same slices and batches.
    result = subprocess.run([sys.executable, "-m", "pipeline", "run", "--input", *inputs, "--output",
                             str(reference), "--run-id", "reference", "--model", f"ar={model}",
                             "--shard-size", str(args.files_per_shard)],
                            cwd=REPO, env=env, capture_output=True, text=True)
    if result.returncode:
        raise CheckFailed(f"`python -m pipeline run` failed: {result.stderr.strip().splitlines()[-1:]}")
    figures["reference_cli_seconds"] = round(time.monotonic() - reference_started, 1)
    step(f"reference output written by `python -m pipeline run` ({figures['reference_cli_seconds']} s)")

    conf = {"input": inputs, "models": {"ar": str(model)}}
    trigger(api, "distributed-1", {**conf, "output": str(work / "output-1"), "run_id": "distributed-1"})
    run = wait_for_run(cluster, "distributed-1", args.run_timeout)
    instances = check_placement(cluster, "distributed-1")
    counts = compare_outputs(reference, work / "output-1", "distributed-1")
    step(f"run distributed-1 succeeded: {len(instances)} task instances each on its queue's worker; "
         f"output equals the reference row for row ({', '.join(f'{k} {v}' for k, v in counts.items())})")
    figures["run_1"] = print_timings("distributed-1", run, timing_rows(instances))

    killed: dict[str, Any] = {}
    trigger(api, "distributed-2", {**conf, "output": str(work / "output-2"), "run_id": "distributed-2"})
    run = wait_for_run(cluster, "distributed-2", args.run_timeout,
                       on_poll=kill_translation_worker_when_busy(cluster, "distributed-2",
                                                                 "translation-worker", killed))
    check_retry(cluster, "distributed-2", killed, "translation-worker-restarted")
    instances = check_placement(cluster, "distributed-2")
    counts = compare_outputs(reference, work / "output-2", "distributed-2")
    recovered = time.monotonic() - killed["at"]
    step(f"run distributed-2 with a worker killed succeeded: the task was retried on the restarted "
         f"worker, output equals the reference with no duplicate rows ({sum(counts.values())} rows)")
    figures["run_2_killed_worker"] = print_timings("distributed-2", run, timing_rows(instances))
    figures["run_2_killed_worker"]["kill_to_run_end_seconds"] = round(recovered, 1)
    figures["rows"] = counts
    return figures


def _stepper(started: float) -> Callable[[str], None]:
    def step(message: str) -> None:
        print(f"[{time.monotonic() - started:6.1f} s] {message}", flush=True)
    return step


def _provenance() -> dict[str, Any]:
    """When, on what and with which versions the figures were measured."""
    from datetime import datetime, timezone
    from importlib.metadata import PackageNotFoundError, version

    versions = {}
    for package in ("apache-airflow-core", "apache-airflow-providers-celery", "celery", "redis",
                    "psycopg2-binary", "torch", "transformers"):
        try:
            versions[package] = version(package)
        except PackageNotFoundError:
            versions[package] = None
    commit = subprocess.run(["git", "rev-parse", "--short=12", "HEAD"], cwd=REPO, capture_output=True,
                            text=True).stdout.strip()
    return {"date": datetime.now(timezone.utc).isoformat(timespec="seconds"), "commit": commit or None,
            "cpus": os.cpu_count(), "load_average": [round(load, 2) for load in os.getloadavg()],
            "versions": versions}


def check_nothing_left(services: Services) -> None:
    pids = [int(line.split()[0]) for line in services.pids_file.read_text().splitlines() if line.strip()]
    alive = [pid for pid in pids if _group_alive(pid)]
    listening = [port for port in services.stopped_ports if port_open(port)]
    if alive or listening:
        raise CheckFailed(f"still running after the stop: process groups {alive}, ports {listening}")
    services.pids_file.write_text("")   # all stopped: the shell's trap has nothing left to do


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pids-file", type=Path, required=True,
                        help="where each started process group is recorded (read by the shell's trap)")
    parser.add_argument("--postgres-bin", type=Path, required=True, help="directory of initdb and postgres")
    parser.add_argument("--seeds", type=Path, default=REPO.parent / "shared" / "corpus" / "seeds")
    parser.add_argument("--redis-url", default=os.environ.get("MLP_CHECK_REDIS_URL"),
                        help="use this Redis instead of starting one")
    parser.add_argument("--files-per-shard", type=int, default=4)
    parser.add_argument("--run-timeout", type=float, default=1200)
    parser.add_argument("--results", type=Path, help="write the figures to this JSON file")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    args = parser.parse_args()
    if not args.seeds.is_dir():
        print(f"error: seed documents not found at {args.seeds} (set MLP_SHARED_DIR)", file=sys.stderr)
        return 1

    started = time.monotonic()
    work = Path(tempfile.mkdtemp(prefix="mlp-check-distributed-"))
    services = Services(args.pids_file, work / "logs")
    services.log_dir.mkdir()
    # A SIGTERM or Ctrl-C still stops everything: the handler unwinds to the `finally` below.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    failure = None
    figures: dict[str, Any] = {}
    print(f"Distributed check: working directory {work}", flush=True)
    try:
        figures = run_check(args, services, work)
    except CheckFailed as error:
        failure = str(error)
    except KeyboardInterrupt:
        failure = "interrupted"
    finally:
        services.stop_all()
    try:
        check_nothing_left(services)
    except CheckFailed as error:
        failure = failure or str(error)
    postgres_dir = args.pids_file.with_name("postgres-dir")
    if postgres_dir.exists():
        shutil.rmtree(postgres_dir.read_text(), ignore_errors=True)
    total = time.monotonic() - started
    if failure:
        if any(services.log_dir.iterdir()):
            print(f"error: {failure} (logs kept in {services.log_dir})", file=sys.stderr)
        else:
            shutil.rmtree(work, ignore_errors=True)
            print(f"error: {failure}", file=sys.stderr)
        return 1
    print(f"Everything started was stopped; nothing is left running or listening. "
          f"Whole check: {total:.1f} s")
    if args.results:
        figures.update(check_seconds=round(total, 1), **_provenance())
        args.results.write_text(json.dumps(figures, indent=2) + "\n")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
