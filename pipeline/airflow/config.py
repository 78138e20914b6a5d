"""Configuration of the Airflow DAGs, and the small translations between Airflow and `RunSettings`.

Settings read when the DAG file is parsed (schedule, pool, queue, default output) come from the
environment only: reading an Airflow Variable at parse time costs a metadata round trip on every parse.
Settings read when a task runs look at an Airflow Variable first, then the environment, then a default.
This module imports nothing heavy, so the DAG file that imports it parses fast.
"""
from __future__ import annotations

import dataclasses
import os
import re
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Mapping

from pipeline.records import DATASETS  # noqa: F401 (the DAG file names its assets by config.DATASETS)
from pipeline.settings import OPTIONS, Device, RunSettings, SettingsError, TranslatorKind

if TYPE_CHECKING:
    from pipeline.phases.runner import RunSummary

REPO_ROOT = Path(__file__).resolve().parents[2]

ASSET_ALIAS_PREFIX = "multilingual_pipeline."
RUN_ID_PATTERN = r"^[A-Za-z0-9._-]{1,128}$"


def _env(name: str, default: str) -> str:
    return os.environ.get(name, "").strip() or default


def _variable_or_env(variable: str, env_name: str, default: str) -> str:
    """The Airflow Variable `variable`, else the environment variable `env_name`, else `default`."""
    from airflow.sdk import Variable

    value = Variable.get(variable, default=None)
    if value is not None and str(value).strip():
        return str(value).strip()
    return _env(env_name, default)


def resolve_path(value: str | Path) -> Path:
    """An absolute path; a relative one is taken relative to the project directory, not the worker's cwd."""
    path = Path(os.path.expanduser(str(value)))
    return path if path.is_absolute() else REPO_ROOT / path


# Parse-time settings -------------------------------------------------------------------------------

def schedule() -> str:
    """Cron expression or preset of the inbox DAG (`MLP_SCHEDULE`, default `@daily`)."""
    return _env("MLP_SCHEDULE", "@daily")


def translation_pool() -> str:
    """Pool of the translation tasks, which hold a translation model in memory (`MLP_TRANSLATION_POOL`)."""
    return _env("MLP_TRANSLATION_POOL", "mlp_translation")


def translation_queue() -> str:
    """Executor queue of the tasks that use an accelerator, e.g. `gpu` for Celery GPU workers
    (`MLP_TRANSLATION_QUEUE`)."""
    return _env("MLP_TRANSLATION_QUEUE", "default")


def placement(phase: str) -> dict[str, str]:
    """The queue and pool of a phase's tasks, from what its stages declare they need: a phase with a
    stage that needs an accelerator goes to the translation queue and pool, the others to Airflow's
    defaults."""
    from pipeline.phases.results import phase_resource
    from pipeline.stages.base import Resource

    if phase_resource(phase) is Resource.ACCELERATOR:
        return {"queue": translation_queue(), "pool": translation_pool()}
    return {}


def default_output_dir() -> Path:
    """Output directory shown as the trigger form's default (`MLP_OUTPUT`, default `<project>/output`)."""
    return resolve_path(_env("MLP_OUTPUT", str(REPO_ROOT / "output")))


def default_inbox_dir() -> Path:
    """Inbox shown as the trigger form's default input (`MLP_INBOX`, default `<project>/inbox`)."""
    return resolve_path(_env("MLP_INBOX", str(REPO_ROOT / "inbox")))


# Run-time settings ---------------------------------------------------------------------------------

def inbox_dir() -> Path:
    """Directory the scheduled run reads: Variable `mlp_inbox`, env `MLP_INBOX`, `<project>/inbox`."""
    return resolve_path(_variable_or_env("mlp_inbox", "MLP_INBOX", str(default_inbox_dir())))


def models_dir() -> Path:
    """Local model store: Variable `mlp_models_dir`, env `MLP_MODELS_DIR`, `<project>/models`."""
    return resolve_path(_variable_or_env("mlp_models_dir", "MLP_MODELS_DIR", str(REPO_ROOT / "models")))


def allowed_roots(*, variables: bool = True) -> dict[str, list[str]]:
    """Directories runs may read, write and load models from, for RunSettings' allowed_*_roots.

    Each comes from its Variable (`mlp_allowed_input_roots`, `mlp_allowed_output_roots`,
    `mlp_allowed_model_roots`), else the environment variable of the same name in upper case (a list
    separated by `:` or `,`), else the defaults: the project's samples/ and inbox/ for inputs, output/
    for the output, models/ for models, the configured inbox, output and model store, and the system
    temporary directory for each. Without `variables`, the environment and the defaults only (what
    the DAG file can read cheaply when it is parsed).
    """
    import tempfile

    from pipeline.roots import INPUT_SETTING, MODEL_SETTING, OUTPUT_SETTING, env_name

    def read(variable: str, env: str, default: str) -> str:
        return _variable_or_env(variable, env, default) if variables else _env(env, default)

    temporary = tempfile.gettempdir()
    output = read("mlp_output", "MLP_OUTPUT", str(default_output_dir()))
    inbox = read("mlp_inbox", "MLP_INBOX", str(default_inbox_dir()))
    store = read("mlp_models_dir", "MLP_MODELS_DIR", str(REPO_ROOT / "models"))
    defaults = {
        INPUT_SETTING: [REPO_ROOT / "samples", REPO_ROOT / "inbox", resolve_path(inbox), temporary],
        OUTPUT_SETTING: [REPO_ROOT / "output", resolve_path(output), temporary],
        MODEL_SETTING: [REPO_ROOT / "models", resolve_path(store), temporary],
    }
    roots = {}
    for setting, default in defaults.items():
        value = read(setting, env_name(setting), "")
        paths = [part for chunk in value.split(os.pathsep) for part in chunk.split(",") if part.strip()]
        given = [str(resolve_path(path.strip())) for path in paths]
        # Without duplicates: the configured inbox or output is often the project's own default one.
        roots[setting] = list(dict.fromkeys(given or [str(path) for path in default]))
    return roots


def _roots_settings() -> dict[str, list[str]]:
    from pipeline.roots import INPUT_SETTING, MODEL_SETTING, OUTPUT_SETTING

    roots = allowed_roots()
    return {"allowed_input_roots": roots[INPUT_SETTING], "allowed_output_roots": roots[OUTPUT_SETTING],
            "allowed_model_roots": roots[MODEL_SETTING]}


def files_per_shard() -> int | None:
    """The shard size of the DAGs' runs (as `--shard-size`: files per shard task, documents per
    batch): Variable `mlp_files_per_shard`, env `MLP_FILES_PER_SHARD`, else None (the settings'
    default). Smaller shards spread a run over more workers."""
    value = _variable_or_env("mlp_files_per_shard", "MLP_FILES_PER_SHARD", "")
    if not value:
        return None
    if not value.isdigit() or int(value) < 1:
        raise SettingsError(
            f"files per shard (mlp_files_per_shard) must be a positive integer, got {value!r}")
    return int(value)


def manual_settings(params: Mapping[str, Any], airflow_run_id: str) -> RunSettings:
    """Settings of a manually triggered run, from its validated params.

    The form's optional fields arrive as null when left empty (or cleared): null means the default.
    Without a `run_id` param the Airflow run id names the run (RunSettings sanitises it), so every
    retry of a task of one Airflow run writes under the same run id.
    """
    options = {option.name: params.get(option.name) for option in OPTIONS}
    # null means the default; the lists' defaults are empty.
    chosen = {name: value for name, value in options.items() if value is not None}
    return RunSettings(
        output=resolve_path(params["output"]),
        run_id=params.get("run_id") or airflow_run_id,
        models_dir=models_dir(),
        model_overrides=dict(params.get("models") or {}),
        **chosen,
        **_roots_settings(),
        **_shard_settings(),
    )


def inbox_settings(airflow_run_id: str) -> RunSettings:
    """Settings of a scheduled inbox run: Variables `mlp_output`, `mlp_translator`, `mlp_device`."""
    return RunSettings(
        output=resolve_path(_variable_or_env("mlp_output", "MLP_OUTPUT", str(REPO_ROOT / "output"))),
        run_id=airflow_run_id,
        models_dir=models_dir(),
        translator=_variable_or_env("mlp_translator", "MLP_TRANSLATOR", TranslatorKind.MARIAN),
        device=_variable_or_env("mlp_device", "MLP_DEVICE", Device.AUTO),
        **_roots_settings(),
        **_shard_settings(),
    )


def _shard_settings() -> dict[str, int]:
    size = files_per_shard()
    return {} if size is None else {"shard_size": size}


_CLI_MODEL_FLAG = re.compile(r"(?:pass )?--model ([A-Za-z0-9-]+)=DIR")
# How each DAG lets a user name a model directory for a language: the manual DAG has a form field, the
# inbox DAG only the model store's registry.
_NAME_A_MODEL = {
    "manual": lambda lang: f'name it in the models field: {{"{lang}": "DIR"}}',
    "inbox": lambda lang: f'name it in the [models] table of registry.toml in the model store '
                          f'(Variable mlp_models_dir): {lang} = "DIR"',
}
# A flag as a whole word: "--models-dir" of a models command stays as it is.
_CLI_FLAG = re.compile(r"--(force|model)(?![\w-])")
_SETTING_OF_FLAG = {"force": "force", "model": "models"}


def in_form_terms(message: str, form: str = "manual") -> str:
    """`message` with the command line's `--model LANG=DIR` said in the terms of the DAG `form`
    ("manual": its `models` field; "inbox": the model registry), and any other flag by its setting."""
    message = _CLI_MODEL_FLAG.sub(lambda match: _NAME_A_MODEL[form](match.group(1)), message)
    return _CLI_FLAG.sub(lambda match: _SETTING_OF_FLAG[match.group(1)], message)


def empty_directories(inputs: list[str], settings: RunSettings) -> list[str]:
    """`inputs` when every one is a directory with no file in it (the default inbox of a fresh install),
    else nothing: those make a run with nothing to do rather than a failed one. Checked against the
    allowed roots first, so that a directory outside them is refused, not called empty."""
    from pipeline.roots import check_run

    check_run(inputs, settings)
    folders = [Path(pattern) for pattern in inputs]
    if not folders or not all(folder.is_dir() for folder in folders):
        return []
    if any(not part.startswith(".") for folder in folders for path in folder.rglob("*") if path.is_file()
           for part in path.relative_to(folder).parts[:1]):
        return []
    return [str(folder) for folder in folders]


# Run types whose inbox run reads only what arrived since the previous successful run.
INCREMENTAL_RUN_TYPES = frozenset({"scheduled"})


def inbox_since(run_type: str, previous_success_start: datetime | None) -> datetime | None:
    """Where an inbox run starts reading: after the previous successful run's start for a scheduled run,
    the whole inbox (None) for any other (a manual trigger, see the inbox DAG's documentation)."""
    kind = getattr(run_type, "value", run_type)   # DagRunType, whose str() is "DagRunType.SCHEDULED"
    return previous_success_start if kind in INCREMENTAL_RUN_TYPES else None


def input_patterns(values: list[str]) -> list[str]:
    """Input paths or globs as absolute strings, relative ones taken from the project directory."""
    return [str(resolve_path(value)) for value in values]


def arrival_time(path: Path) -> float:
    """When a file arrived: the later of its mtime and ctime, because `mv` and `cp -p` keep an old mtime
    while a rename or copy into the inbox always sets the ctime. A link's own times: what it points to
    is not looked at."""
    status = path.lstat()
    return max(status.st_mtime, status.st_ctime)


def new_arrivals(inbox: Path, since: datetime | None) -> list[str]:
    """Files and links under `inbox` that arrived after `since` (all of them when `since` is None), sorted.

    Hidden files and folders are left out: uploaders write there and rename when a file is complete.
    Links are listed as links, not followed: the run's plan, given the inbox as `listed_from`, rejects
    one that leads out of the inbox as a walk of it would (and linked folders are not entered).
    """
    if not inbox.is_dir():
        return []
    inbox = inbox.resolve()
    threshold = since.timestamp() if since is not None else float("-inf")
    arrived = []
    for folder, subfolders, names in os.walk(inbox):
        subfolders[:] = [name for name in subfolders if not name.startswith(".")]
        for name in names:
            path = Path(folder) / name
            regular = path.is_symlink() or path.is_file()   # not a pipe a reader would wait on
            if regular and not name.startswith(".") and arrival_time(path) > threshold:
                arrived.append(str(path))
    return sorted(arrived)


def dataset_uri(output: str | Path, dataset: str) -> str:
    """URI of the Airflow Asset for one dataset of an output directory: `file:///abs/output/<dataset>`."""
    return (resolve_path(output).resolve() / dataset).as_uri()


def summary_record(summary: RunSummary) -> dict[str, Any]:
    """The run summary as plain JSON (counts, paths, ids), small enough for XCom."""
    return dataclasses.asdict(summary)


def asset_extras(summary: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """The `extra` of each dataset's asset event, for the datasets this run wrote rows to.

    A dataset the run left unchanged (every document already in the output) gets no event, so a DAG
    scheduled on it runs only when it has new rows.
    """
    # Flat (no nested object) and few keys: the asset views show an event's extra as one folded value.
    common = {"run_id": summary["run_id"], "manifest": summary["manifest_path"]}
    rejects = {f"rejects_{reason}": count for reason, count in sorted(summary["rejects"].items())}
    extras = {
        "documents": {
            "rows": summary["documents"], "skipped": summary["skipped"], "replaced": summary["replaced"],
        },
        "paragraphs": {"rows": summary["paragraphs"]},
        "sentences": {
            "rows": summary["sentences"],
            "translated": summary["translated"],
            "source_is_english": summary["source_is_english"],
            "untranslated": summary["untranslated"],
        },
        "rejects": {"rows": sum(summary["rejects"].values()), **rejects},
        "removed": {"rows": sum(summary.get("removed", {}).values())},
    }
    return {dataset: {**common, **extra} for dataset, extra in extras.items() if extra["rows"]}
