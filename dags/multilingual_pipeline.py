"""Airflow DAGs of the multilingual pipeline.

`multilingual_pipeline` runs when triggered, with its settings in validated Params (the trigger form);
`multilingual_pipeline_inbox` runs on a schedule over the documents that arrived in the inbox since its
last successful run. They are two DAGs because a manual run over arbitrary inputs must not move the
inbox's "last successful run" mark. Both build the same tasks and call the same `pipeline.phases`
functions as `python -m pipeline run`. Nothing heavy is imported here: each task imports the pipeline
when it runs, so parsing this file stays fast.
"""
from __future__ import annotations

import logging
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import AssetAlias, dag, get_current_context, task

from pipeline.airflow import config
from pipeline.airflow.params import manual_params

log = logging.getLogger("multilingual_pipeline")

DEFAULT_ARGS: dict[str, Any] = {
    "owner": "multilingual-pipeline",
    "retries": 2,
    "retry_delay": timedelta(seconds=30),
    # Airflow 3 takes a multiplier here (True reads as 2.0): waits of 30 s, 60 s, ... capped below.
    "retry_exponential_backoff": 2.0,
    "max_retry_delay": timedelta(minutes=10),
}
TAGS = ["multilingual-pipeline", "translation", "parquet"]
START_DATE = pendulum.datetime(2026, 1, 1, tz="UTC")
OUTPUT_ALIASES = [AssetAlias(config.ASSET_ALIAS_PREFIX + dataset) for dataset in config.DATASETS]

MANUAL_PARAMS = manual_params()


@contextmanager
def _configuration_errors_fail_at_once() -> Iterator[None]:
    """A wrong setting stays wrong on a retry: turn it into a failure that skips the retries.

    Every other error (an I/O hiccup, a worker out of memory) keeps its retries.
    """
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.errors import ConfigurationError

    try:
        yield
    except ConfigurationError as error:
        # Without the chained original: its message would name the command line's flags, not the form's.
        raise AirflowFailException(config.in_form_terms(" ".join(str(error).split()))) from None


def _quiet_progress_bars() -> None:
    """Library progress bars write to stderr, which the task log shows as ERROR: the shard task logs its
    own progress instead."""
    os.environ["HF_HUB_DISABLE_PROGRESS_BARS"] = "1"  # read by huggingface_hub and transformers at import
    if "transformers" in sys.modules:  # imported before, in a worker that runs several tasks
        from transformers.utils import logging as transformers_logging

        transformers_logging.disable_progress_bar()


def _files(count: int) -> str:
    return f"{count} file" if count == 1 else f"{count} files"


def _every_item(items: Any) -> list[Any]:
    """All the results of a mapped task in one request: iterating them instead asks for one past the
    end, which Airflow logs as an "XCom not found" error."""
    return list(items[:]) if items else []


@task.short_circuit(multiple_outputs=True)
def configure_manual_run() -> dict[str, Any]:
    """Settings from the trigger's validated params, and the input patterns; nothing (the rest of the run
    skipped, successfully) when every input is an empty directory, as the default inbox is at first."""
    from pipeline.settings import SettingsError

    context = get_current_context()
    with _configuration_errors_fail_at_once():
        # context["params"] has the conf merged in, unknown keys included: compare with the declared ones.
        declared = set(context["dag"].params)
        unknown = sorted(set(context["dag_run"].conf or {}) - declared)
        if unknown:
            raise SettingsError(f"unknown key(s) in the run configuration: {', '.join(unknown)}; "
                                f"expected some of: {', '.join(sorted(declared))}")
        settings = config.manual_settings(context["params"], context["run_id"])
        inputs = config.input_patterns(context["params"]["input"])
        empty = config.empty_directories(inputs, settings)
    if empty:
        log.info("nothing to do: %s no file (put documents there, or name other inputs)",
                 f"{empty[0]} has" if len(empty) == 1 else f"{', '.join(empty)} have")
        return {}
    return {"settings": settings.to_dict(), "inputs": inputs, "listed_from": None}


@task.short_circuit
def find_new_documents() -> list[str]:
    """Inbox files that arrived since the last successful run (every inbox file in a manual run); none
    skips the rest of the run."""
    context = get_current_context()
    previous_start = config.inbox_since(context["dag_run"].run_type, context.get("prev_start_date_success"))
    inbox = config.inbox_dir()
    if not inbox.is_dir():
        log.warning("the inbox %s does not exist: nothing to process (set the Variable mlp_inbox or the "
                    "environment variable MLP_INBOX)", inbox)
    arrivals = config.new_arrivals(inbox, previous_start if previous_start else None)
    log.info("%s arrived in %s since %s", _files(len(arrivals)), inbox, previous_start or "the beginning"
             + (" (a manual run reads the whole inbox; documents already in the output are skipped)"
                if previous_start is None and context.get("prev_start_date_success") else ""))
    return arrivals


@task(multiple_outputs=True)
def configure_inbox_run(files: list[str]) -> dict[str, Any]:
    """Settings from the Airflow Variables / environment, and the new inbox files (held to the inbox)."""
    with _configuration_errors_fail_at_once():
        settings = config.inbox_settings(get_current_context()["run_id"])
    return {"settings": settings.to_dict(), "inputs": list(files), "listed_from": str(config.inbox_dir())}


@task
def plan(settings: dict[str, Any], inputs: list[str], listed_from: str | None) -> list[dict[str, Any]]:
    """The inputs expanded (once) and cut into shards (batches of files), one mapped task each; the output
    directory made ready and what a crashed earlier run left in it completed or removed.

    Logs how many real files it found; inputs that match nothing are a warning, and a run where no
    input matches a file, or a model set for the run that cannot be found, fails here at once.
    """
    from pipeline.phases.plan import check_models, open_output, plan_shards
    from pipeline.settings import RunSettings

    run_settings = RunSettings.from_dict(settings)
    with _configuration_errors_fail_at_once():
        shards = plan_shards(inputs, run_settings, files_per_shard=run_settings.shard_size,
                             listed_from=listed_from)
        open_output(run_settings)
        check_models(run_settings, load=False)   # weights load in the translation tasks
    return [shard.to_dict() for shard in shards]


@task(map_index_template="{{ shard_label }}", execution_timeout=timedelta(hours=6),
      **config.placement("prepare"))
def prepare_shard(shard: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Ingest, clean, detect and segment one shard into the run's work area (CPU work)."""
    from pipeline.phases.plan import Shard, plural
    from pipeline.phases.prepare import prepare_shard as prepare
    from pipeline.settings import RunSettings

    planned = Shard.from_dict(shard)
    get_current_context()["shard_label"] = f"shard {planned.index} ({_files(len(planned.inputs))})"
    log.info("shard %d: %s; loading the language detectors", planned.index, _files(len(planned.inputs)))
    with _configuration_errors_fail_at_once():
        prepared = prepare(planned, RunSettings.from_dict(settings))
    log.info("shard %d prepared: %s, %s to translate", planned.index, plural(prepared.documents, "document"),
             plural(sum(prepared.sentences.values()), "sentence"))
    return prepared.to_dict()


@task
def plan_translation(settings: dict[str, Any], prepared: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each language's distinct sentences over every shard, cut into translation tasks."""
    from pipeline.phases.results import PreparedShard
    from pipeline.phases.translate import plan_translation as plan_chunks
    from pipeline.settings import RunSettings

    with _configuration_errors_fail_at_once():
        shards = [PreparedShard.from_dict(item) for item in _every_item(prepared)]
        chunks = plan_chunks(RunSettings.from_dict(settings), shards)
    return [chunk.to_dict() for chunk in chunks]


@task(
    **config.placement("translate"),
    map_index_template="{{ chunk_label }}",
    execution_timeout=timedelta(hours=6),
)
def translate(chunk: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Translate one language's chunk of sentences with that language's model (the one model this task
    loads) into the translation store."""
    from pipeline.phases.results import TranslationChunk
    from pipeline.phases.translate import translate_chunk
    from pipeline.settings import RunSettings

    _quiet_progress_bars()
    task_chunk = TranslationChunk.from_dict(chunk)
    label = f"{task_chunk.lang} {task_chunk.index} ({task_chunk.sentences} sentences)"
    get_current_context()["chunk_label"] = label
    with _configuration_errors_fail_at_once():
        result = translate_chunk(task_chunk, RunSettings.from_dict(settings))
    return result.to_dict()


# Runs when the run had nothing to translate (no translation task: English only, or a rerun) too.
@task(map_index_template="{{ shard_label }}", trigger_rule="none_failed", **config.placement("assemble"),
      execution_timeout=timedelta(hours=6))
def assemble_shard(prepared: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """Align one shard's documents with their English and write its rows; rerunning it rewrites the same
    rows."""
    from pipeline.phases.assemble import assemble_shard as assemble
    from pipeline.phases.plan import plural
    from pipeline.phases.results import PreparedShard
    from pipeline.settings import RunSettings

    shard = PreparedShard.from_dict(prepared)
    get_current_context()["shard_label"] = f"shard {shard.index} ({plural(shard.documents, 'document')})"
    with _configuration_errors_fail_at_once():
        result = assemble(shard, RunSettings.from_dict(settings))
    log.info("shard %d done: %s, %s", shard.index, plural(sum(result.documents.values()), "document"),
             plural(sum(result.rejects.values()), "reject"))
    return result.to_dict()


@task(trigger_rule="none_failed")
def finalize(settings: dict[str, Any], inputs: list[str], results: list[dict[str, Any]],
             translated: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    """Write the run manifest and log the summary; returns the counts the assets are published with."""
    from pipeline.phases.finalize import finalize_run
    from pipeline.phases.results import ChunkResult, ShardResult
    from pipeline.settings import RunSettings

    started_at = get_current_context()["dag_run"].start_date
    with _configuration_errors_fail_at_once():
        summary = finalize_run(RunSettings.from_dict(settings),
                               [ShardResult.from_dict(item) for item in _every_item(results)], inputs,
                               started_at, [ChunkResult.from_dict(item) for item in _every_item(translated)])
    # Logged while the task runs, one record per line: what is printed or returned shows only after
    # "Done. Returned value", folded away in the log view.
    form = "manual" if get_current_context()["dag"].dag_id == "multilingual_pipeline" else "inbox"
    for level, line in summary.lines():
        log.log(level, "%s", config.in_form_terms(line, form))
    return config.summary_record(summary)


@task(outlets=OUTPUT_ALIASES)
def publish_assets(settings: dict[str, Any], summary: dict[str, Any], *, outlet_events: Any = None) -> None:
    """One asset event per dataset of this run's output directory, with the run's counts in its extra.

    The output directory is a run-time parameter, so each dataset is published through an AssetAlias
    that resolves to `file:///<output>/<dataset>`.
    """
    from airflow.sdk import Asset

    for dataset, extra in config.asset_extras(summary).items():
        uri = config.dataset_uri(settings["output"], dataset)
        outlet_events[AssetAlias(config.ASSET_ALIAS_PREFIX + dataset)].add(Asset(uri), extra=extra)
        log.info("asset event %s: %s", uri, extra)


def _process(run: Any) -> None:
    """The tasks both DAGs share, after the one that resolves the run's settings and inputs."""
    settings, inputs = run["settings"], run["inputs"]
    shards = plan(settings, inputs, run["listed_from"])
    prepared = prepare_shard.partial(settings=settings).expand(shard=shards)
    translated = translate.partial(settings=settings).expand(chunk=plan_translation(settings, prepared))
    results = assemble_shard.partial(settings=settings).expand(prepared=prepared)
    translated >> results
    publish_assets(settings, finalize(settings, inputs, results, translated))


@dag(
    dag_id="multilingual_pipeline",
    schedule=None,
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=TAGS,
    params=MANUAL_PARAMS,
    description="Translate the documents named in the trigger form into aligned bilingual Parquet",
)
def multilingual_pipeline() -> None:
    """
    ### Multilingual pipeline (manual run)

    Detects the language of every document and paragraph, segments sentences, translates non-English
    sentences to English with MarianMT, and writes aligned bilingual Parquet datasets
    (`documents/`, `paragraphs/`, `sentences/`, `rejects/`) plus a manifest `runs/<run id>.json`.

    **Trigger** with the form, or `airflow dags trigger multilingual_pipeline -c '{"input": ["samples"]}'`.
    The settings are those of `python -m pipeline run`; unknown keys are refused. Inputs that are all empty
    directories (the default, the inbox, on a fresh install) end the run green: nothing to do.
    `body_threshold` (0 to 1, `--body-threshold`) and `site_repeats` (2 or more, `--site-repeats`) set how
    much cleaning removes as boilerplate; documents already in the output are cleaned again with them only
    with `force`.

    **Tasks**: `configure_manual_run` (settings from the params) -> `plan` (inputs cut into shards,
    batches of files) -> `prepare_shard` (one mapped task per shard: ingest, clean, detect, segment) ->
    `plan_translation` -> `translate` (one mapped task per language and chunk of sentences, across all
    shards, in the translation pool and queue: one model each) -> `assemble_shard` (one mapped task per
    shard: align and write) -> `finalize` (manifest, summary in its log) -> `publish_assets` (an asset
    event per dataset, counts in `extra`).

    Rerunning or clearing any task is safe: documents are keyed by a content hash, a shard rewrites its
    own rows, and the translation store keeps the first English of a sentence, so no row is ever
    duplicated.
    """
    _process(configure_manual_run())


@dag(
    dag_id="multilingual_pipeline_inbox",
    schedule=config.schedule(),
    start_date=START_DATE,
    catchup=False,
    max_active_runs=1,
    default_args=DEFAULT_ARGS,
    tags=[*TAGS, "inbox"],
    description="Translate the documents that arrived in the inbox into aligned bilingual Parquet",
)
def multilingual_pipeline_inbox() -> None:
    """
    ### Multilingual pipeline (scheduled inbox run)

    A scheduled run processes the documents that arrived in the inbox since the start of the last
    successful run of this DAG (all of them on the first run), with the same tasks and datasets as
    `multilingual_pipeline`. An empty inbox ends the run at once, successfully, with the other tasks
    skipped.

    A manual run (the Trigger button) reads the whole inbox: the scheduled run that "Unpause on trigger"
    starts beside it may already have taken the new files, and a manual run that found nothing would
    only show skipped tasks. Documents already in the output are skipped by content, so the run adds
    exactly what is missing and its summary says how many were there already.

    **Configuration** (Airflow Variable, else environment variable): `mlp_inbox` / `MLP_INBOX`,
    `mlp_output` / `MLP_OUTPUT`, `mlp_models_dir` / `MLP_MODELS_DIR`, `mlp_translator` / `MLP_TRANSLATOR`,
    `mlp_device` / `MLP_DEVICE`. The schedule comes from `MLP_SCHEDULE` (default `@daily`).

    A file counts as arrived by the later of its mtime and ctime. Files around the previous run's
    start may be read twice; that is harmless, because processing is idempotent.
    """
    _process(configure_inbox_run(find_new_documents()))


multilingual_pipeline()
multilingual_pipeline_inbox()
