"""The run report `OUTPUT/runs/RUN_ID.html`: written by every run, its numbers equal the datasets', its
text escaped, nothing fetched from the network, and a browser draws it."""
from __future__ import annotations

import contextlib
import html
import io
import logging
import re
import shutil
import subprocess
from pathlib import Path

import pandas
import pytest
from project_paths import REPO_ROOT

from pipeline import cli
from pipeline.store.reader import read_output

RUN_ID = "report-run"
CHROMIUM = Path("/usr/bin/chromium")
HOSTILE = "<script>alert(1)</script>"


@pytest.fixture(scope="module")
def report_run(tmp_path_factory: pytest.TempPathFactory, tiny_model_dir: Path, seeds_dir: Path):
    """One run over the seeds, a few samples, an empty file and a hostile page; its output and summary."""
    root = tmp_path_factory.mktemp("report")
    inputs = root / "inputs"
    inputs.mkdir()
    for seed in sorted(seeds_dir.glob("*.txt"))[:3]:
        shutil.copy(seed, inputs / seed.name)
    for sample in ("fr_budget_participatif.txt", "de_bahnstreik.html", "empty.txt"):
        shutil.copy(REPO_ROOT / "samples" / sample, inputs / sample)
    body = " ".join(f"Sentence number {n} of the hostile page stays plain text." for n in range(60))
    (inputs / "hostile.txt").write_text(f"{HOSTILE} Hostile page title\n\n{body}\n", encoding="utf-8")
    output = root / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        status = cli.main(["run", "--input", str(inputs), "--output", str(output), "--run-id", RUN_ID,
                           "--models-dir", str(root / "models"), "--model", f"ar={tiny_model_dir}"])
    assert status == 0, printed.getvalue()
    page = (output / "runs" / f"{RUN_ID}.html").read_text(encoding="utf-8")
    return output, printed.getvalue(), page


def _bars(page: str, chart: str) -> dict[str, int]:
    found = re.findall(rf'<g id="bar-{chart}-[^"]+" class="bar" data-chart="{chart}" data-key="([^"]+)" '
                       r'data-count="(\d+)"', page)
    return {key: int(count) for key, count in found}


def _run_rows(output: Path, level: str) -> pandas.DataFrame:
    rows = read_output(output, level, run_id=RUN_ID)
    if "src_lang" in rows:
        rows["src_lang"] = rows["src_lang"].astype(str)
    return rows


def test_the_run_writes_its_report_beside_the_manifest_and_the_summary_names_it(report_run):
    output, printed, page = report_run
    report = output / "runs" / f"{RUN_ID}.html"
    assert (output / "runs" / f"{RUN_ID}.json").is_file()
    assert f"report: {report}" in printed.splitlines()
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert not list((output / "runs").glob(".*")), "no temporary file is left behind"


def test_one_bar_per_language_holds_the_datasets_counts(report_run):
    output, _, page = report_run
    documents = _run_rows(output, "documents")["src_lang"].value_counts().to_dict()
    sentences = _run_rows(output, "sentences")
    per_language = sentences["src_lang"].value_counts().to_dict()
    assert {lang: count for lang, count in _bars(page, "documents").items() if count} == documents
    assert _bars(page, "sentences") == per_language
    assert {"ar", "en", "fr", "de"} <= set(per_language)
    by_status = sentences.groupby(["src_lang", "status"]).size().to_dict()
    segments = re.findall(r'<g id="bar-status-[^"]+" class="bar" data-chart="status" data-key="([^"]+)" '
                          r'data-status="([^"]+)" data-count="(\d+)"', page)
    assert {(lang, status): int(count) for lang, status, count in segments if int(count)} == by_status
    assert len(re.findall(r'<g id="bar-status-ar-', page)) == 3, "one segment per status"


def test_rejects_are_listed_by_reason_with_the_datasets_counts(report_run):
    output, _, page = report_run
    rejects = _run_rows(output, "rejects")["reason"].value_counts().to_dict()
    assert rejects.get("empty") == 1
    listed = re.findall(r'<tr class="reject" data-reason="([^"]+)" data-count="(\d+)">', page)
    assert {reason: int(count) for reason, count in listed} == rejects
    assert _bars(page, "rejects") == rejects
    assert "empty.txt" in page


def test_time_per_stage_and_phase_and_the_models_are_shown(report_run):
    output, _, page = report_run
    stages = _bars_float(page, "stages")
    assert list(stages) == ["ingest", "clean", "detect", "segment", "decide", "translate", "align", "write"]
    assert set(_bars_float(page, "phases")) >= {"prepare", "translate", "assemble"}
    assert re.search(r'<tr class="model-used" data-lang="ar">', page)
    assert re.search(r'<tr class="model-missing" data-lang="fr">.*models fetch fr', page)
    assert "Largest documents" in page and "does not time documents one by one" in page


def test_the_largest_documents_are_the_runs_documents_with_the_most_sentences(report_run):
    from pipeline.report.data import LARGEST_DOCUMENTS, load_report_data

    output, _, _ = report_run
    rows = _run_rows(output, "documents").sort_values(["n_sentences", "n_bytes", "doc_id"],
                                                      ascending=[False, False, True]).head(LARGEST_DOCUMENTS)
    largest = load_report_data(output, RUN_ID).largest
    assert len(largest) == min(len(_run_rows(output, "documents")), LARGEST_DOCUMENTS) > 1
    assert [(item.src_lang, item.n_sentences, item.n_bytes) for item in largest] == list(
        zip(rows["src_lang"], rows["n_sentences"], rows["n_bytes"]))


def _bars_float(page: str, chart: str) -> dict[str, float]:
    found = re.findall(rf'class="bar" data-chart="{chart}" data-key="([^"]+)" data-count="([\d.]+)"', page)
    return {key: float(value) for key, value in found}


def test_a_sample_pair_per_translated_language_shows_the_exact_source_escaped(report_run):
    output, _, page = report_run
    sentences = _run_rows(output, "sentences")
    translated = sentences[sentences["status"] == "translated"]
    assert set(translated["src_lang"]) == {"ar"}
    rows = re.findall(r'<tr class="pair" data-lang="ar" data-status="translated">'
                      r'<td class="src" dir="auto" lang="ar">(.*?)</td><td class="en" lang="en">(.*?)</td>',
                      page)
    assert rows and len(rows) <= 4
    by_source = dict(zip(translated["src_text"], translated["en_text"]))
    for source, english in rows:
        assert html.unescape(source) in by_source
        assert source == html.escape(html.unescape(source))
        assert html.unescape(english) == by_source[html.unescape(source)]
    assert re.search(r'<tr class="pair" data-lang="fr" data-status="untranslated">', page)


def test_hostile_text_is_escaped_and_nothing_is_fetched(report_run):
    _, _, page = report_run
    assert HOSTILE not in page and html.escape(HOSTILE) in page
    assert "<script" not in page.lower()
    assert not re.search(r'(?:src|href|xlink:href)\s*=\s*["\']?\s*(?:[a-z]+:)?//', page, re.I)
    assert not re.search(r"<link\b|@import|url\(\s*['\"]?(?:https?:)?//", page, re.I)
    assert "http://" not in page and "https://" not in page


def test_the_page_escapes_every_field_and_isolates_source_direction():
    from pipeline.report.data import RejectGroup, ReportData, SamplePair
    from pipeline.report.page import render_page

    bidi = "\u202eevil\u202c"
    data = ReportData(
        manifest={"run_id": f"r{HOSTILE}", "inputs": [HOSTILE], "hub": HOSTILE,
                  "missing_models": {"xx": f"run `{HOSTILE}`"}, "versions": {"x": HOSTILE}},
        documents={"ar": 1}, sentences={"ar": {"translated": 1}},
        rejects=[RejectGroup("empty", 1, ((f"{HOSTILE}.txt", HOSTILE),))],
        samples={"ar": [SamplePair("ar", f"نص {HOSTILE} {bidi}", f"text {HOSTILE}", "translated", None, 1.0,
                                   ("bidi_controls",))]})
    page = render_page(data, {})
    assert "<script" not in page and page.count(html.escape(HOSTILE)) >= 7
    assert f'<td class="src" dir="auto" lang="ar">نص {html.escape(HOSTILE)} {bidi}</td>' in page
    assert "<code>" + html.escape(HOSTILE) + "</code>" in page


def test_the_report_is_the_same_each_time_it_is_drawn(report_run):
    from pipeline.report import render_run_report

    output, _, page = report_run
    assert render_run_report(output, RUN_ID) == page


def test_a_report_that_cannot_be_drawn_is_a_warning(tmp_path: Path, caplog):
    from pipeline.phases.finalize import _write_report

    (tmp_path / "runs").mkdir()
    (tmp_path / "runs" / "broken.json").write_text("{not json", encoding="utf-8")
    with caplog.at_level(logging.WARNING, logger="pipeline.phases.finalize"):
        assert _write_report(tmp_path, "broken") == ""
    assert "run report not written" in caplog.text
    assert not (tmp_path / "runs" / "broken.html").exists()


@pytest.mark.skipif(not CHROMIUM.exists(), reason="headless Chromium is not installed at /usr/bin/chromium")
def test_a_browser_draws_the_report(report_run, tmp_path: Path):
    from PIL import Image

    output, _, _ = report_run
    png = tmp_path / "report.png"
    result = subprocess.run([str(REPO_ROOT / "scripts" / "screenshot_report.sh"),
                             str(output / "runs" / f"{RUN_ID}.html"), str(png), "1280", "2000"],
                            capture_output=True, text=True, timeout=120,
                            env={"CHROMIUM": str(CHROMIUM), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert png.stat().st_size > 50_000
    with Image.open(png) as image:
        assert image.size == (1280, 2000)
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 200, "the page has text and charts, not a blank canvas"
    # The charts' colours are there, not only text on white.
    assert any(abs(r - 0x6a) < 8 and abs(g - 0x5a) < 8 and abs(b - 0xcd) < 8 for _, (r, g, b) in colours)


def test_a_run_that_only_rejected_still_has_a_report_and_keeps_its_counts(tmp_path: Path):
    from pipeline.report import render_run_report

    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    output = tmp_path / "out"
    for run_id in ("nothing", "again"):
        with contextlib.redirect_stdout(io.StringIO()):
            status = cli.main(["run", "--input", str(empty), "--output", str(output), "--run-id", run_id,
                               "--models-dir", str(tmp_path / "models")])
        assert status == 0
    page = (output / "runs" / "nothing.html").read_text(encoding="utf-8")
    assert "This run wrote no document." in page
    pattern = r'<tr class="reject" data-reason="([^"]+)" data-count="(\d+)">'
    assert re.findall(pattern, page) == [("empty", "1")]
    # The second run replaced the first's reject row; drawn again, the first's report says what it saw.
    assert read_output(output, "rejects", run_id="nothing").empty
    assert re.findall(pattern, render_run_report(output, "nothing")) == [("empty", "1")]
