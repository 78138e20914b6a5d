"""Airflow DAG `export_bitext`: after each pipeline run that writes sentences, export the aligned pairs
(TMX, Moses, Hugging Face Parquet or JSONL) as the Airflow Variable `mlp_export` asks.

The Variable holds JSON such as `{"format": "tmx", "to": "/data/bitext", "dedup": true}` (every key of
`python -m pipeline export`, see `pipeline/export/job.py`). Without it the run ends as skipped. Nothing
heavy is imported here: the task imports the exporter when it runs.
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import AssetAlias, dag, get_current_context, task

from pipeline.airflow import config

# The alias multilingual_pipeline's publish_assets adds each run's `file:///<output>/sentences` event to.
SENTENCES_ALIAS = AssetAlias(config.ASSET_ALIAS_PREFIX + "sentences")
VARIABLE = "mlp_export"

log = logging.getLogger("export_bitext")


def _triggered_outputs(context: Any) -> list[str]:
    """Output directories whose sentences dataset triggered this run (`file:///<output>/sentences`)."""
    from urllib.parse import unquote, urlparse

    events = context.get("triggering_asset_events") or {}
    try:
        triggering = events[SENTENCES_ALIAS]
    except KeyError:
        triggering = []
    paths = {unquote(urlparse(event.asset.uri).path) for event in triggering}
    return sorted(path.rsplit("/", 1)[0] for path in paths)


@task(retries=1, retry_delay=timedelta(seconds=30), execution_timeout=timedelta(hours=6))
def export() -> dict[str, Any]:
    """Export each triggering output as `mlp_export` says; skipped when the Variable is not set."""
    from pathlib import Path

    from airflow.sdk import Variable
    from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

    from pipeline.export import ExportError
    from pipeline.export.api import export_pairs, use_system_memory_pool
    from pipeline.export.job import ExportJob

    settings = Variable.get(VARIABLE, default=None, deserialize_json=True)
    if settings is None:
        log.info("the Variable %s is not set: no export asked for, skipping "
                 '(set it to JSON such as {"format": "tmx", "to": "/data/bitext"})', VARIABLE)
        raise AirflowSkipException(f"Variable {VARIABLE} not set")
    try:
        job = ExportJob.from_mapping(settings)
        targets = job.targets([Path(path) for path in _triggered_outputs(get_current_context())])
        if not targets:
            raise AirflowSkipException("no output to export: no triggering event and no output in "
                                       f"the Variable {VARIABLE}")
        use_system_memory_pool()
        written = {}
        for output, target in targets.items():
            report = export_pairs(output, target, job.fmt, unit=job.unit, filters=job.filters)
            for line in report.lines():
                log.info("%s: %s", output, line)
            written[str(target)] = report.pairs_written
    except ExportError as error:   # a wrong setting stays wrong on a retry
        raise AirflowFailException(str(error)) from None
    return written


@dag(
    dag_id="export_bitext",
    schedule=[SENTENCES_ALIAS],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"owner": "multilingual-pipeline"},
    tags=["multilingual-pipeline", "export"],
)
def export_bitext() -> None:
    """
    ### Export bitext

    Runs after each `multilingual_pipeline` run that publishes its `sentences` dataset, and exports the
    aligned pairs of that output as the Airflow Variable `mlp_export` asks, e.g.
    `{"format": "tmx", "to": "/data/bitext", "require": ["numbers_match"], "dedup": true}`
    (`format`: tmx, moses, hf or jsonl; `unit`: sentence or paragraph; the filters of
    `python -m pipeline export`; `output` to name the output directory instead). Without the Variable the
    run ends as skipped. The task log lists what each filter removed.
    """
    export()


export_bitext()
