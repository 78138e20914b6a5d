"""The `detect` command and the command line's argument handling."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.cli import build_parser

REPO_ROOT = Path(__file__).resolve().parent.parent


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
