"""The distributed set-up: the end-to-end check on PostgreSQL, Redis and Celery workers (marked
`distributed`, deselected by default: it takes several minutes and installs system packages), how it
compares outputs, how it reports a missing piece, and the docker compose file of deploy/."""
from __future__ import annotations

import importlib.util
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from project_paths import REPO_ROOT

CHECK_SCRIPT = REPO_ROOT / "scripts" / "check_distributed.sh"
COMPOSE_FILE = REPO_ROOT / "deploy" / "docker-compose.yaml"


def _load_check_module():
    spec = importlib.util.spec_from_file_location("check_distributed",
                                                  REPO_ROOT / "scripts" / "check_distributed.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


check = _load_check_module()


def _write_sentences(output: Path, rows: list[tuple[str, str, str]], run_id: str) -> None:
    """A tiny `sentences` dataset: (doc_id, src_text, en_text) rows in one ar partition."""
    partition = output / "sentences" / "src_lang=ar"
    partition.mkdir(parents=True, exist_ok=True)
    table = pa.table({
        "doc_id": [row[0] for row in rows],
        "src_text": [row[1] for row in rows],
        "en_text": [row[2] for row in rows],
        "run_id": [run_id] * len(rows),
        "processed_at": pa.array([len(run_id)] * len(rows), pa.timestamp("us", tz="UTC")),
    })
    pq.write_table(table, partition / f"part-{run_id}.parquet")


def _write_minimal_output(output: Path, rows: list[tuple[str, str, str]], run_id: str) -> None:
    _write_sentences(output, rows, run_id)
    for dataset in ("documents", "paragraphs"):
        partition = output / dataset / "src_lang=ar"
        partition.mkdir(parents=True, exist_ok=True)
        doc_ids = sorted({row[0] for row in rows})
        pq.write_table(pa.table({"doc_id": doc_ids, "run_id": [run_id] * len(doc_ids)}),
                       partition / f"part-{run_id}.parquet")


ROWS = [("d1", "مرحبا", "hello"), ("d1", "شكرا", "thanks"), ("d2", "نعم", "yes")]


def test_outputs_that_differ_only_in_run_columns_and_files_are_equal(tmp_path: Path) -> None:
    _write_minimal_output(tmp_path / "reference", ROWS, "reference")
    _write_minimal_output(tmp_path / "candidate", list(reversed(ROWS)), "distributed-1")
    counts = check.compare_outputs(tmp_path / "reference", tmp_path / "candidate", "run")
    assert counts == {"documents": 2, "paragraphs": 2, "sentences": 3, "rejects": 0, "removed": 0}


def test_a_duplicated_row_is_reported(tmp_path: Path) -> None:
    _write_minimal_output(tmp_path / "reference", ROWS, "reference")
    _write_minimal_output(tmp_path / "candidate", ROWS, "distributed-2")
    _write_sentences(tmp_path / "candidate", ROWS[:1], "retry")   # a second part file repeats a row
    with pytest.raises(check.CheckFailed, match="sentences has 1 duplicate row"):
        check.compare_outputs(tmp_path / "reference", tmp_path / "candidate", "run")


def test_a_changed_value_is_reported(tmp_path: Path) -> None:
    _write_minimal_output(tmp_path / "reference", ROWS, "reference")
    _write_minimal_output(tmp_path / "candidate", [*ROWS[:2], ("d2", "نعم", "no")], "distributed-1")
    with pytest.raises(check.CheckFailed, match="1 row.s. missing, 1 extra"):
        check.compare_outputs(tmp_path / "reference", tmp_path / "candidate", "run")


def _compose_command() -> list[str] | None:
    """`docker compose` (v2) or `docker-compose` (v1), whichever answers here."""
    for command in (["docker", "compose"], ["docker-compose"]):
        if shutil.which(command[0]) and \
                subprocess.run([*command, "version"], capture_output=True).returncode == 0:
            return command
    return None


def test_the_compose_file_is_valid_and_runs_the_translation_queue_on_a_gpu(tmp_path: Path) -> None:
    command = _compose_command()
    if command is None:
        pytest.skip("neither `docker compose` nor `docker-compose` is installed: compose file not validated")
    env_file = tmp_path / ".env"
    shutil.copy(REPO_ROOT / "deploy" / ".env.example", env_file)
    result = subprocess.run([*command, "--env-file", str(env_file), "-f", str(COMPOSE_FILE), "config"],
                            capture_output=True, text=True, cwd=REPO_ROOT / "deploy")
    assert result.returncode == 0, result.stderr
    import yaml

    config = yaml.safe_load(result.stdout)
    services = config["services"]
    expected = {"postgres", "redis", "airflow-init", "airflow-apiserver", "airflow-scheduler",
                "airflow-dag-processor", "airflow-triggerer", "airflow-worker-cpu", "airflow-worker-gpu"}
    assert expected <= set(services)
    gpu_worker = services["airflow-worker-gpu"]
    assert gpu_worker["command"][:4] == ["celery", "worker", "--queues", "gpu"]
    devices = gpu_worker["deploy"]["resources"]["reservations"]["devices"]
    assert any(device["driver"] == "nvidia" and "gpu" in device["capabilities"] for device in devices)
    for name in ("airflow-worker-cpu", "airflow-worker-gpu", "airflow-scheduler"):
        targets = {volume["target"] if isinstance(volume, dict) else volume.split(":")[1]
                   for volume in services[name]["volumes"]}
        assert {"/opt/airflow/project/output", "/opt/airflow/project/models"} <= targets, name
        environment = services[name]["environment"]
        assert environment["AIRFLOW__CORE__EXECUTOR"] == "CeleryExecutor"
        assert environment["MLP_TRANSLATION_QUEUE"] == "gpu"


def _check_environment() -> dict[str, str]:
    """The check uses the virtual environment these tests run in (it adds the distributed extra)."""
    return {**os.environ, "MLP_VENV": sys.prefix,
            "MLP_SHARED_DIR": str(Path(os.environ.get("MLP_SHARED_DIR", REPO_ROOT.parent / "shared")))}


@pytest.mark.distributed
def test_the_check_names_an_unreachable_redis_in_one_line() -> None:
    result = subprocess.run(["bash", str(CHECK_SCRIPT)], capture_output=True, text=True, timeout=600,
                            env={**_check_environment(), "MLP_CHECK_REDIS_URL": "redis://127.0.0.1:1/0"})
    assert result.returncode == 1
    # Only the last line: installing the extra's packages on a first call may print pip's warnings.
    assert result.stderr.splitlines()[-1].startswith("error: Redis is not reachable at redis://127.0.0.1:1/0")
    assert sum(line.startswith("error:") for line in result.stderr.splitlines()) == 1, result.stderr


@pytest.mark.distributed
@pytest.mark.slow
def test_the_pipeline_runs_on_celery_workers_and_survives_a_killed_worker(tmp_path: Path) -> None:
    results = tmp_path / "figures.json"
    result = subprocess.run(["bash", str(CHECK_SCRIPT), "--results", str(results)], capture_output=True,
                            text=True, timeout=2400, env=_check_environment())
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    assert "Everything started was stopped; nothing is left running or listening." in result.stdout
    figures = json.loads(results.read_text())
    for run in ("run_1", "run_2_killed_worker"):
        queues = {task["queue"] for task in figures[run]["tasks"]}
        assert queues == {"default", "translation"}
    retried = [task for task in figures["run_2_killed_worker"]["tasks"] if task["try_number"] > 1]
    assert [task["hostname"] for task in retried] == ["translation-worker-restarted"]
    assert figures["rows"]["sentences"] > 0


def test_the_kubernetes_policy_gives_the_gpu_pod_template_to_the_translation_queue_only(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.dag_processing.dagbag import DagBag

    monkeypatch.setenv("MLP_TRANSLATION_QUEUE", "gpu")
    monkeypatch.setenv("MLP_TRANSLATION_POD_TEMPLATE", "/templates/gpu.yaml")
    spec = importlib.util.spec_from_file_location(
        "mlp_local_settings", REPO_ROOT / "deploy" / "kubernetes" / "airflow_local_settings.py")
    policy = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(policy)
    dag = DagBag(dag_folder=str(REPO_ROOT / "dags")).dags["multilingual_pipeline"]
    for task in dag.tasks:
        policy.task_policy(task)
    templated = {task.task_id: task.executor_config["pod_template_file"]
                 for task in dag.tasks if task.executor_config}
    assert templated == {"translate": "/templates/gpu.yaml"}
