"""Reading an output directory: the notebook helper and the four readers users have."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pytest

from pipeline.store.output import OutputStore, part_key
from pipeline.store.reader import open_dataset, read_output
from pipeline.store.schemas import DATASETS, SCHEMAS

NOW = datetime(2026, 11, 22, 7, 30, tzinfo=timezone.utc)


def _sentence(doc_id: str, lang: str, sent_id: int, status: str, flags: list[str] | None) -> dict:
    translated = status == "translated"
    return {
        "doc_id": doc_id, "para_id": 0, "sent_id": sent_id, "char_start": 0, "char_end": 4, "src_text": "نص.",
        "en_text": "Text." if status != "untranslated" else None, "status": status,
        "status_detail": None if status != "untranslated" else "no_model_for_language",
        "model": "tiny@1" if translated else None, "region": "main", "len_ratio": 1.2 if translated else None,
        "numbers_match": True if translated else None, "urls_match": True if translated else None,
        "quality_flags": flags, "run_id": "r1", "src_lang": lang,
    }


def _document(doc_id: str, lang: str) -> dict:
    return {
        "doc_id": doc_id, "source_path": f"/in/{doc_id}", "source_record": None, "source_format": "txt",
        "encoding": "utf-8", "n_bytes": 5, "url": None, "lang_score": 0.9, "lang_method": "detected",
        "paragraph_langs": [lang], "title": "T", "byline": None, "published": None, "attribution": None,
        "n_paragraphs": 1, "n_sentences": 3, "n_sentences_translated": 1, "n_sentences_untranslated": 1,
        "n_boilerplate_removed": 2, "models": [], "models_fingerprint": "f", "run_id": "r1",
        "processed_at": NOW, "src_lang": lang,
    }


@pytest.fixture(scope="module")
def output(tmp_path_factory: pytest.TempPathFactory) -> Path:
    store = OutputStore(tmp_path_factory.mktemp("reader") / "out")
    store.prepare()
    rows = {
        "documents": [_document("a", "ar"), _document("b", "ar"), _document("c", "en")],
        "paragraphs": [],
        "sentences": [
            _sentence("a", "ar", 0, "translated", []),
            _sentence("a", "ar", 1, "translated", ["numbers_mismatch"]),
            _sentence("b", "ar", 0, "untranslated", None),
            _sentence("c", "en", 0, "source_is_english", None),
            _sentence("c", "en", 1, "source_is_english", None),
        ],
        "rejects": [],
        "removed": [{"doc_id": "a", "line_no": 3, "text": "Share this", "reason": "share_prompt",
                     "score": None, "run_id": "r1", "src_lang": "ar"},
                    {"doc_id": "c", "line_no": 7, "text": "More news", "reason": "low_score", "score": 0.12,
                     "run_id": "r1", "src_lang": "en"}],
    }
    tables = {name: pa.Table.from_pylist(value, schema=SCHEMAS[name]) for name, value in rows.items()}
    store.commit_shard(part_key(["a", "b", "c"]), tables, {}, [])
    return store.root


def test_filters_by_value_and_by_list(output: Path):
    arabic = read_output(output, "sentences", src_lang="ar")
    assert len(arabic) == 3 and set(arabic["src_lang"]) == {"ar"}
    translated = read_output(output, src_lang="ar", status="translated")
    assert sorted(translated["sent_id"]) == [0, 1]
    both = read_output(output, status=["translated", "untranslated"])
    assert len(both) == 3
    assert read_output(output, "documents", src_lang="en")["doc_id"].tolist() == ["c"]
    assert read_output(output, columns=["doc_id"], status_detail=None).columns.tolist() == ["doc_id"]


def test_rows_carry_every_declared_column_with_plain_string_languages(output: Path):
    frame = read_output(output)
    assert list(frame.columns) == SCHEMAS["sentences"].names
    assert frame["src_lang"].map(type).eq(str).all()
    assert sorted(frame["src_lang"].unique()) == ["ar", "en"]
    flags = frame.set_index(["doc_id", "sent_id"])["quality_flags"]
    assert list(flags.loc[("a", 1)]) == ["numbers_mismatch"]


def test_unknown_level_or_column_is_a_clear_error(output: Path):
    with pytest.raises(ValueError, match="level must be one of"):
        read_output(output, "words")
    with pytest.raises(ValueError, match="unknown column.*lang"):
        read_output(output, lang="ar")
    with pytest.raises(FileNotFoundError, match="no sentences dataset"):
        read_output(output.parent / "elsewhere")


def test_an_empty_dataset_reads_as_an_empty_frame_with_its_columns(output: Path):
    rejects = read_output(output, "rejects")
    assert rejects.empty and list(rejects.columns) == SCHEMAS["rejects"].names


def test_all_readers_agree(output: Path):
    for level in ("documents", "sentences"):
        directory = output / level
        expected = open_dataset(output, level).count_rows()
        assert expected > 0
        by_pandas = pd.read_parquet(directory)
        by_arrow = ds.dataset(directory, format="parquet", partitioning="hive").to_table()
        by_duckdb = duckdb.sql(
            f"select src_lang, count(*) from read_parquet('{directory}/**/*.parquet', "
            "hive_partitioning=true) group by src_lang order by src_lang").fetchall()
        by_polars = (pl.scan_parquet(f"{directory}/**/*.parquet", hive_partitioning=True)
                     .group_by("src_lang").len().sort("src_lang").collect().rows())
        assert len(by_pandas) == by_arrow.num_rows == expected
        per_language = sorted(by_pandas["src_lang"].astype(str).value_counts().items())
        assert by_duckdb == by_polars == per_language
        # pandas reads the partition column as a category of strings: its values are the codes.
        assert set(by_pandas["src_lang"].cat.categories) <= {"ar", "en"}


def test_removed_lines_read_back_by_language_and_reason(output: Path):
    removed = read_output(output, "removed", reason="low_score")
    assert removed[["doc_id", "line_no", "score", "src_lang"]].values.tolist() == [["c", 7, 0.12, "en"]]
    assert read_output(output, "removed", src_lang="ar")["reason"].tolist() == ["share_prompt"]


def test_every_dataset_opens_with_its_declared_schema(output: Path):
    for level in DATASETS:
        assert open_dataset(output, level).schema.equals(SCHEMAS[level])
