"""A run report a person looks at: `OUTPUT/runs/RUN_ID.html`, beside the run's manifest.

One self-contained page (no script, no font or style sheet to fetch) with the run's languages, sentence
status, time per stage and phase, rejects, models, its largest documents and a sample of aligned pairs.
"""
from __future__ import annotations

import os
import tempfile
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

    A reader never sees half a page: the page is written to a hidden file of the same directory and
    renamed over the old one.
    """
    runs = Path(output_dir) / "runs"
    target = runs / f"{run_id}.html"
    page = render_run_report(output_dir, run_id)
    handle, temporary = tempfile.mkstemp(prefix=f".{run_id}.", suffix=".html.tmp", dir=runs)
    try:
        with os.fdopen(handle, "w", encoding="utf-8") as stream:
            stream.write(page)
        os.chmod(temporary, 0o644)
        os.replace(temporary, target)
    finally:
        if os.path.exists(temporary):
            os.unlink(temporary)
    return target
