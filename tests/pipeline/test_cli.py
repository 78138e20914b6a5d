"""The `detect` command and the command line's argument handling."""
from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from project_paths import REPO_ROOT

from pipeline.cli import build_parser, main


def _detect(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline", "detect", str(path)], cwd=REPO_ROOT,
                          capture_output=True, text=True, timeout=300)


def test_detect_prints_one_json_line_per_cleaned_paragraph(arabic_seed: Path):
    result = _detect(arabic_seed)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    # Four body paragraphs; the source attribution line is metadata, not a paragraph.
    assert [line["index"] for line in lines] == [0, 1, 2, 3]
    assert {line["lang"] for line in lines} == {"ar"}
    assert all(0.5 < line["score"] <= 1 for line in lines)
    assert lines[0]["text"].startswith("في الآونة الأخيرة")


def test_detect_labels_each_jsonl_record_and_its_languages(tmp_path: Path):
    dump = tmp_path / "dump.jsonl"
    records = [
        {"id": "fr-1", "text": "Le conseil municipal a voté le budget de la ville mardi soir.\n\n"
                               "Les travaux de la nouvelle bibliothèque commenceront au printemps prochain."},
        {"id": "en-1", "text": "The council approved the budget on Tuesday evening after a long debate."},
    ]
    dump.write_text("\n".join(json.dumps(record, ensure_ascii=False) for record in records), encoding="utf-8")
    lines = [json.loads(line) for line in _detect(dump).stdout.splitlines()]
    assert [(line["record"], line["lang"]) for line in lines] == [
        ("fr-1", "fr"), ("fr-1", "fr"), ("en-1", "en")]


def test_detect_on_a_bad_file_says_why_and_fails(tmp_path: Path):
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    result = _detect(empty)
    assert result.returncode == 1
    assert result.stdout == ""
    assert "empty" in result.stderr and "Traceback" not in result.stderr


def test_model_overrides_must_name_a_language():
    parser = build_parser()
    args = parser.parse_args(["run", "--input", "x", "--output", "o", "--model", "ar=models/opus-mt-ar-en"])
    assert args.models == [("ar", "models/opus-mt-ar-en")]
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--input", "x", "--output", "o", "--model", "models/opus-mt-ar-en"])


@pytest.mark.parametrize("arguments, message", [
    (["--include-lang", "xx"], "error: include_langs: unknown language 'xx'; known: ar, de, en, es, fa, fr"),
    (["--skip-lang", "xx"], "error: skip_langs: unknown language 'xx'; known: ar, de, en, es, fa, fr"),
    (["--num-beams", "99"], "error: num_beams must be between 1 and 8, got 99"),
    (["--num-beams", "0"], "error: num_beams must be a positive integer, got 0"),
    (["--body-threshold", "1.5"], "error: body_threshold must be a number from 0 to 1, got 1.5"),
    (["--body-threshold", "nan"], "error: body_threshold must be a number from 0 to 1, got nan"),
    (["--site-repeats", "1"], "error: site_repeats must be an integer of 2 or more, got 1"),
])
def test_run_refuses_unknown_languages_and_settings_out_of_range(tmp_path: Path, capsys, arguments, message):
    from pipeline.cli import main

    status = main(["run", "--input", str(tmp_path), "--output", str(tmp_path / "out"),
                   "--models-dir", str(tmp_path / "models"), *arguments])
    assert status == 1
    assert capsys.readouterr().err.startswith(message)
    assert not (tmp_path / "out").exists()


def test_cleaning_flags_reach_the_run_settings():
    from pipeline.cli import settings_from_args

    parser = build_parser()
    given = settings_from_args(parser.parse_args(["run", "--input", "x", "--output", "o",
                                                  "--body-threshold", "0.4", "--site-repeats", "2"]))
    assert (given.body_threshold, given.site_repeats) == (0.4, 2)
    default = settings_from_args(parser.parse_args(["run", "--input", "x", "--output", "o"]))
    assert (default.body_threshold, default.site_repeats) == (None, None)
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--input", "x", "--output", "o", "--site-repeats", "2.5"])


def test_cleaning_flags_name_the_cleaners_defaults(capsys):
    from pipeline.stages.clean import BODY_THRESHOLD, MIN_SITE_REPEATS

    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--help"])
    usage = " ".join(capsys.readouterr().out.split())
    assert f"(default: {BODY_THRESHOLD})" in usage and f"(default: {MIN_SITE_REPEATS})" in usage


def test_language_codes_with_subtags_and_any_case_are_accepted():
    parser = build_parser()
    args = parser.parse_args(["run", "--input", "x", "--output", "o", "--include-lang", "zh-Hant",
                              "--skip-lang", "AR", "--model", "PT-br=dir"])
    assert (args.include_langs, args.skip_langs, args.models) == (["zh-hant"], ["ar"], [("pt-br", "dir")])
    with pytest.raises(SystemExit):
        parser.parse_args(["run", "--input", "x", "--output", "o", "--skip-lang", "Arabic!"])


def test_summary_speaks_in_plurals_and_says_why_documents_were_replaced():
    from pipeline.phases.finalize import RunSummary

    summary = RunSummary(run_id="r", manifest_path="out/runs/r.json", documents=1, paragraphs=1, sentences=2,
                         translated=2, source_is_english=0, untranslated=0, rejects={}, skipped=3, replaced=8,
                         missing_models={}, seconds=1.0, replaced_because={"force": 5, "models_changed": 3},
                         missing_inputs=["/srv/gone/*.txt"])
    assert summary.format().splitlines() == [
        "run r: 1 document, 1 paragraph, 2 sentences in 1.0 s",
        "sentences: 2 translated, 0 English, 0 untranslated",
        "documents per language: none",
        "rejects: 0",
        "1 input matched no file: /srv/gone/*.txt",
        "already in the output: 3 documents skipped (processed before with the same translation settings; "
        "set force to redo them)",
        "already in the output: 8 documents reprocessed, earlier rows replaced: 5 because force was set, "
        "3 because the models, translator or beams changed",
        "manifest: out/runs/r.json",
    ]
    assert [level for level, _ in summary.lines()].count(logging.WARNING) == 1


def test_an_input_whose_name_starts_with_a_dash_is_accepted_after_two_dashes(tmp_path: Path):
    (tmp_path / "-x.txt").write_text("A document whose name starts with a dash.", encoding="utf-8")
    command = [sys.executable, "-m", "pipeline", "run", "--output", str(tmp_path / "out"), "--input", "--",
               "-x.txt"]
    completed = subprocess.run(command, cwd=tmp_path, env={**os.environ, "PYTHONPATH": str(REPO_ROOT)},
                               capture_output=True, text=True, timeout=300)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert ": 1 document," in completed.stdout


@pytest.mark.parametrize("given", [["--input", "-x.txt"], ["--input"]], ids=["dash-name", "no-path"])
def test_an_input_taken_for_an_option_says_how_to_give_it(capsys: pytest.CaptureFixture[str],
                                                          given: list[str]):
    with pytest.raises(SystemExit) as exited:
        main(["run", "--output", "o", *given])
    assert exited.value.code == 2
    error = capsys.readouterr().err.splitlines()[-1]
    assert "--input -- -x.txt" in error and "./-x.txt" in error
