"""The sample documents are what docs/samples.md says, and the pipeline reads them as described."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from project_paths import REPO_ROOT

SAMPLES_DIR = REPO_ROOT / "samples"
DESCRIPTION = REPO_ROOT / "docs" / "samples.md"
SAMPLE_INPUTS = [str(SAMPLES_DIR / pattern) for pattern in ("*.txt", "*.html", "*.jsonl")]


def _listed_files() -> set[str]:
    readme = DESCRIPTION.read_text(encoding="utf-8")
    return set(re.findall(r"^\| `([^`]+)` \|", readme, flags=re.MULTILINE))


def test_description_lists_every_sample_file_and_the_folder_holds_only_samples() -> None:
    on_disk = {path.name for path in SAMPLES_DIR.iterdir()}
    assert _listed_files() == on_disk


def test_chinese_sample_is_gb18030_not_utf8() -> None:
    from pipeline.stages.decode import decode_bytes

    data = (SAMPLES_DIR / "zh_tushuguan_yejian_gb18030.txt").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    text, encoding = decode_bytes(data)
    assert encoding.replace("-", "").lower() in {"gb18030", "gbk", "gb2312"}
    assert "图书馆" in text


def test_jsonl_dump_holds_a_japanese_and_a_mixed_language_record() -> None:
    lines = (SAMPLES_DIR / "news_dump.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines]
    assert len(records) == 4
    assert all(isinstance(record["text"], str) and record["id"] for record in records)
    assert sum(bool(re.search(r"[\u3040-\u30ff]", record["text"])) for record in records) == 1
    mixed = [record for record in records if re.search(r"[\u0900-\u097f]", record["text"])]
    assert len(mixed) == 1 and "farmers" in mixed[0]["text"]


def test_the_bad_input_is_empty() -> None:
    assert (SAMPLES_DIR / "empty.txt").stat().st_size == 0


@pytest.mark.slow
def test_pipeline_reads_every_sample_and_rejects_only_the_empty_file(tmp_path: Path) -> None:
    import pandas

    from pipeline.phases.runner import run
    from pipeline.settings import RunSettings

    summary = run(SAMPLE_INPUTS, RunSettings(output=tmp_path / "out", run_id="samples", device="cpu"))

    assert summary.documents == 11
    assert summary.rejects == {"empty": 1}
    documents = pandas.read_parquet(tmp_path / "out" / "documents")
    assert set(documents["src_lang"]) == {"ar", "de", "en", "es", "fr", "ja", "ru", "zh"}
    chinese = documents[documents["src_lang"] == "zh"].iloc[0]
    assert chinese["encoding"].replace("-", "").lower() in {"gb18030", "gbk", "gb2312"}
    paragraphs = pandas.read_parquet(tmp_path / "out" / "paragraphs")
    mixed_id = documents.loc[documents["record_id"] == "wire-2026-0414-003", "doc_id"].item()
    assert set(paragraphs.loc[paragraphs["doc_id"] == mixed_id, "src_lang"]) == {"en", "hi"}


def test_the_samples_folder_as_an_input_reads_only_the_samples() -> None:
    from pipeline.stages.ingest import expand_inputs

    expanded = {Path(str(item)).name for item in expand_inputs([SAMPLES_DIR])}
    assert expanded == _listed_files()
