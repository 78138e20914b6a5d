"""A run report a person looks at: `OUTPUT/runs/RUN_ID.html`, beside the run's manifest.

One self-contained page (no script, no font or style sheet to fetch) with the run's languages, sentence
status, time per stage and phase, rejects, models, its largest documents and a sample of aligned pairs.
"""
from __future__ import annotations

from pathlib import Path

__all__ = ["write_run_report", "render_run_report"]


def render_run_report(output_dir: str | Path, run_id: str) -> str:
    """The report of run `run_id` of `output_dir` as HTML, from its manifest and its rows."""
    from pipeline.report import charts
    from pipeline.report.data import load_report_data
    from pipeline.report.page import render_page

    data = load_report_data(Path(output_dir), run_id)
    languages = data.languages()
    manifest = data.manifest
    drawn = {
        "volume": charts.volume_chart(languages, data.documents, data.sentences) if languages else "",
        "status": charts.status_chart(languages, data.sentences) if data.sentences else "",
        "rejects": charts.rejects_chart({group.reason: group.count for group in data.rejects}),
        "timing": charts.timing_chart(manifest.get("stage_seconds", {}), manifest.get("phase_seconds", {})),
    }
    return render_page(data, drawn)


def write_run_report(output_dir: str | Path, run_id: str) -> Path:
    """Write `runs/RUN_ID.html` beside the manifest `runs/RUN_ID.json`, atomically, and return its path.

    A reader never sees half a page: it is written as the manifest is (pipeline.store.output).
    """
    from pipeline.store.output import write_text_atomic

    target = Path(output_dir) / "runs" / f"{run_id}.html"
    write_text_atomic(render_run_report(output_dir, run_id), target)
    return target
