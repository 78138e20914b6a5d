"""Parquet writing: schemas stored in the files, atomic and idempotent parts, crash leftovers removed."""
from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from types import SimpleNamespace

import duckdb
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest

from store_rows import commit, reject, shard_tables

from pipeline.records import TranslationStatus
from pipeline.store.output import OutputError, OutputStore, part_key, write_parquet_atomic
from pipeline.store.rows import document_row
from pipeline.store.schemas import DATASETS, SCHEMAS, describe, file_schema


@pytest.fixture()
def store(tmp_path: Path) -> OutputStore:
    output = OutputStore(tmp_path / "out")
    output.prepare()
    return output


def test_every_field_has_a_description():
    for dataset in DATASETS:
        descriptions = describe(dataset)
        assert set(descriptions) == set(SCHEMAS[dataset].names)
        assert all(len(text) > 5 for text in descriptions.values())


def test_files_hold_the_declared_schema_with_descriptions(store: OutputStore):
    commit(store, [("d1", "ar"), ("d2", "en")], [reject("/in/x.bin", "binary")])
    for dataset in DATASETS:
        files = store.part_files(dataset)
        assert files, dataset
        for path in files:
            stored = pq.read_schema(path)
            assert stored.equals(file_schema(dataset), check_metadata=True), (dataset, path)
            assert "src_lang" not in stored.names
            meta = pq.ParquetFile(path).metadata
            assert meta.row_group(0).column(0).compression == "ZSTD"


def test_text_columns_have_no_statistics_and_the_others_keep_theirs(store: OutputStore):
    commit(store, [("d1", "ar")])
    for dataset in ("paragraphs", "sentences"):
        (path,) = store.part_files(dataset)
        row_group = pq.ParquetFile(path).metadata.row_group(0)
        with_statistics = {row_group.column(index).path_in_schema: row_group.column(index).is_stats_set
                           for index in range(row_group.num_columns)}
        assert not with_statistics["src_text"] and not with_statistics["en_text"], dataset
        assert with_statistics["doc_id"] and with_statistics["quality_flags.list.element"], dataset


def test_partitions_by_language_with_content_named_parts(store: OutputStore):
    key = commit(store, [("d1", "ar"), ("d2", "en")])
    root = store.root
    assert sorted(p.relative_to(root).as_posix() for p in store.part_files("sentences")) == [
        f"sentences/src_lang=ar/part-{key}.parquet", f"sentences/src_lang=en/part-{key}.parquet"]
    assert part_key(["d2", "d1"]) == part_key(["d1", "d2"]) != part_key(["d1"])
    assert part_key([], [("/a", None, "empty")]) != part_key([], [("/b", None, "empty")])


def test_retried_shard_overwrites_its_own_files(store: OutputStore):
    commit(store, [("d1", "ar"), ("d2", "en")])
    first = sorted(store.part_files("sentences"))
    commit(store, [("d1", "ar"), ("d2", "en")], replaced={})
    assert sorted(store.part_files("sentences")) == first
    assert store.row_counts() == {"documents": 2, "paragraphs": 2, "sentences": 4, "rejects": 0, "removed": 2}


def test_replacing_documents_removes_their_rows_from_older_parts(store: OutputStore):
    old_key = commit(store, [("d1", "ar"), ("d2", "en")], run_id="r1")
    # A later run reprocesses only d1: its rows move to a new part, d2 stays where it was.
    commit(store, [("d1", "ar")], run_id="r2", replaced={old_key: {"d1"}})
    assert store.row_counts() == {"documents": 2, "paragraphs": 2, "sentences": 4, "rejects": 0, "removed": 2}
    documents = pd.read_parquet(store.root / "documents").set_index("doc_id")
    assert documents.loc["d1", "run_id"] == "r2" and documents.loc["d2", "run_id"] == "r1"
    # The ar part of the old key held only d1, so it is gone rather than left empty.
    assert not list((store.root / "sentences" / "src_lang=ar").glob(f"part-{old_key}.parquet"))


def test_rejects_are_keyed_by_source_and_reason(store: OutputStore):
    commit(store, [], [reject("/in/a.txt", "empty"), reject("/in/b.bin", "binary")], run_id="r1")
    commit(store, [], [reject("/in/a.txt", "empty", run_id="r2")], run_id="r2")
    rejects = pd.read_parquet(store.root / "rejects").sort_values("source_path")
    assert rejects[["source_path", "run_id"]].values.tolist() == [["/in/a.txt", "r2"], ["/in/b.bin", "r1"]]
    # A source that later becomes a document is no longer a reject.
    store.commit_shard(part_key(["b"]), shard_tables([("b", "en")], run_id="r3"), {}, [("/in/b.bin", None)])
    assert pd.read_parquet(store.root / "rejects")["source_path"].tolist() == ["/in/a.txt"]


def test_readers_ignore_temporary_files(store: OutputStore):
    commit(store, [("d1", "ar"), ("d2", "en")])
    # What a write in progress looks like: a hidden temporary file beside the parts.
    partial = store.root / "sentences" / "src_lang=ar" / ".part-abc.parquet.1234abcd.tmp"
    partial.write_bytes(b"PAR1 not finished")
    sentences = store.root / "sentences"
    assert len(pd.read_parquet(sentences)) == 4
    assert ds.dataset(sentences, partitioning="hive").count_rows() == 4
    assert duckdb.sql(f"select count(*) from read_parquet('{sentences}/**/*.parquet', hive_partitioning=true)"
                      ).fetchall() == [(4,)]
    # Polars lists every file of a directory, so it is given the same glob as DuckDB.
    by_polars = pl.scan_parquet(f"{sentences}/**/*.parquet", hive_partitioning=True)
    assert by_polars.select(pl.len()).collect().item() == 4


def test_atomic_write_leaves_the_old_file_when_writing_fails(tmp_path: Path):
    path = tmp_path / "part-x.parquet"
    write_parquet_atomic(pa.table({"a": [1]}), path)
    with pytest.raises(Exception):
        write_parquet_atomic(pa.table({"a": [object()]}), path)  # cannot be converted
    assert pq.read_table(path).column("a").to_pylist() == [1]
    assert [p.name for p in tmp_path.iterdir()] == ["part-x.parquet"]


def test_recover_removes_parts_without_documents_and_temporary_files(store: OutputStore):
    commit(store, [("d1", "ar")])
    # What versions that wrote parts in place left after a crash: sentences of a key, no documents part.
    orphan_key = part_key(["d9"])
    tables = shard_tables([("d9", "en")])
    store.write_part("paragraphs", tables["paragraphs"], orphan_key)
    store.write_part("sentences", tables["sentences"], orphan_key)
    store.write_part("removed", tables["removed"], orphan_key)
    (store.root / "documents" / "src_lang=ar" / ".part-zz.parquet.0000.tmp").write_bytes(b"x")
    recovery = store.recover()
    assert recovery.to_dict() == {"temporary_files": 1, "orphan_parts": 3, "discarded_shards": 0,
                                  "completed_shards": 0}
    assert store.row_counts() == {"documents": 1, "paragraphs": 1, "sentences": 2, "rejects": 0, "removed": 1}
    assert set(pd.read_parquet(store.root / "sentences")["doc_id"]) == {"d1"}
    assert not (store.root / "sentences" / "src_lang=en").exists()
    assert not any(store.recover().to_dict().values())


def visible_rows(root: Path, dataset: str) -> dict[str, int]:
    """Rows of `dataset` as each documented reader sees them."""
    directory = root / dataset
    glob = f"{directory}/**/*.parquet"
    return {
        "pyarrow": ds.dataset(directory, partitioning="hive").count_rows(),
        "pandas": len(pd.read_parquet(directory)),
        "duckdb": duckdb.sql(f"select count(*) from read_parquet('{glob}', hive_partitioning=true)"
                             ).fetchall()[0][0],
        "polars": pl.scan_parquet(glob, hive_partitioning=True).select(pl.len()).collect().item(),
    }


class _Killed(Exception):
    """Stands for kill -9 at a point of the commit."""


def test_a_shard_killed_before_its_commit_is_invisible_to_every_reader(
        store: OutputStore, monkeypatch: pytest.MonkeyPatch):
    commit(store, [("d1", "ar")])

    def killed(*args, **kwargs):
        raise _Killed

    monkeypatch.setattr("pipeline.store.output.write_text_atomic", killed)   # dies writing the commit marker
    with pytest.raises(_Killed):
        commit(store, [("d2", "en"), ("d3", "ar")])
    monkeypatch.undo()
    staged = list((store.root / ".staging").rglob("*.parquet"))
    assert len(staged) == 8   # its parts (4 datasets x 2 languages) are on disk ...
    for dataset, rows in (("documents", 1), ("paragraphs", 1), ("sentences", 2), ("removed", 1)):
        assert set(visible_rows(store.root, dataset).values()) == {rows}, dataset   # ... and seen by none
    assert store.recover().discarded_shards == 1
    assert not (store.root / ".staging").exists() or not any((store.root / ".staging").iterdir())
    assert store.row_counts() == {"documents": 1, "paragraphs": 1, "sentences": 2, "rejects": 0, "removed": 1}


def test_a_committed_shard_cut_during_publication_is_completed_and_never_loses_a_document(
        store: OutputStore, monkeypatch: pytest.MonkeyPatch):
    first_key = commit(store, [("d1", "en"), ("d2", "en")], run_id="r1")

    def killed(*args, **kwargs):
        raise _Killed

    # A rewrite of d2 (moving to another part) killed just after its commit marker was written.
    monkeypatch.setattr(OutputStore, "_publish", killed)
    with pytest.raises(_Killed):
        commit(store, [("d2", "ar")], run_id="r2", replaced={first_key: {"d2"}})
    monkeypatch.undo()
    documents = pd.read_parquet(store.root / "documents")
    assert sorted(documents["doc_id"]) == ["d1", "d2"]   # the old row is still there
    fresh = OutputStore(store.root)
    assert fresh.recover().completed_shards == 1
    documents = pd.read_parquet(fresh.root / "documents").set_index("doc_id")
    assert documents["run_id"].sort_index().to_dict() == {"d1": "r1", "d2": "r2"}
    assert fresh.row_counts() == {"documents": 2, "paragraphs": 2, "sentences": 4, "rejects": 0, "removed": 2}
    for dataset, rows in (("documents", 2), ("paragraphs", 2), ("sentences", 4), ("removed", 2)):
        assert set(visible_rows(fresh.root, dataset).values()) == {rows}, dataset


def test_unwritable_output_is_a_clear_error(tmp_path: Path):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    with pytest.raises(OutputError, match="cannot write to output directory"):
        OutputStore(blocker / "out").prepare()


def test_index_sees_parts_another_store_rewrote_or_removed(store: OutputStore):
    first_key = commit(store, [("d1", "en"), ("d2", "en")], run_id="r1")
    assert store.committed_documents()["d2"].key == first_key
    other = OutputStore(store.root)  # another process on the same output
    # It reprocesses d2 together with d3, now detected as Arabic: d2 moves to a new part (in a partition
    # that sorts first, so a stale entry for d2 would win) and the first part is rewritten.
    moved_key = commit(other, [("d2", "ar"), ("d3", "ar")], run_id="r2", replaced={first_key: {"d2"}})
    committed = store.committed_documents()
    assert {doc_id: (doc.key, doc.run_id) for doc_id, doc in committed.items()} == {
        "d1": (first_key, "r1"), "d2": (moved_key, "r2"), "d3": (moved_key, "r2")}
    # Then it moves d1 too, which removes the first part altogether.
    commit(other, [("d1", "en")], run_id="r3", replaced={first_key: {"d1"}})
    assert store.committed_documents()["d1"].key == part_key(["d1"])
    # Replacing d2 from the first store removes its rows from where they are now: nothing duplicated.
    with store.lock():
        where = store.committed_documents()["d2"].key
        commit(store, [("d2", "ar")], run_id="r4", replaced={where: {"d2"}})
    documents = pd.read_parquet(store.root / "documents").set_index("doc_id")
    assert documents["run_id"].sort_index().to_dict() == {"d1": "r3", "d2": "r4", "d3": "r2"}
    assert store.row_counts() == {"documents": 3, "paragraphs": 3, "sentences": 6, "rejects": 0, "removed": 3}


def test_parquet_footers_read_per_flush_do_not_grow_with_the_output(
        store: OutputStore, monkeypatch: pytest.MonkeyPatch):
    opened: list[object] = []
    real_parquet_file = pq.ParquetFile

    def counting_parquet_file(source, *args, **kwargs):
        opened.append(source)
        return real_parquet_file(source, *args, **kwargs)

    monkeypatch.setattr(pq, "ParquetFile", counting_parquet_file)

    def flush(number: int) -> int:
        """What a shard does per flush: decide under the lock, then commit; the footers it read."""
        before = len(opened)
        with store.lock():
            store.committed_documents()
            commit(store, [(f"d{number}", ("ar", "en")[number % 2])],
                   [reject(f"/in/r{number}.bin", "binary")])
        return len(opened) - before

    reads = [flush(number) for number in range(12)]
    assert len(store.part_files("documents")) == len(store.part_files("rejects")) == 12
    assert reads == [0] * 12  # this store's own parts are indexed as they are written
    # Parts committed by another process are read once each, however many parts there are.
    commit(OutputStore(store.root), [("other", "en")], [reject("/in/other.bin", "binary")], run_id="r2")
    assert flush(12) == 2
    assert flush(13) == 0
    assert set(store.committed_documents()) == {f"d{number}" for number in range(14)} | {"other"}


def test_a_documents_row_lists_its_paragraph_languages_most_frequent_first_and_counts_its_sentences():
    raw = SimpleNamespace(doc_id="d", source_path="/in/d.txt", source_record=None, record_id=None,
                          source_format="txt", encoding="utf-8", n_bytes=10, metadata={})
    cleaned = SimpleNamespace(title=None, byline=None, published=None, attribution=None,
                              n_boilerplate_removed=0)
    document = SimpleNamespace(raw=raw, cleaned=cleaned, fingerprint="f",
                               document_language=SimpleNamespace(lang="de", score=0.9, method="detected"))
    paragraphs = [SimpleNamespace(src_lang=lang) for lang in ("fr", "de", "en", "de", "en", "it")]
    sentences = [SimpleNamespace(translation=SimpleNamespace(status=status, model="m"))
                 for status in (TranslationStatus.TRANSLATED, TranslationStatus.UNTRANSLATED,
                                TranslationStatus.TRANSLATED, TranslationStatus.SOURCE_IS_ENGLISH)]
    row = document_row(document, paragraphs, sentences, "run", datetime.now(timezone.utc))
    assert row["paragraph_langs"] == ["de", "en", "fr", "it"]
    assert (row["n_sentences_translated"], row["n_sentences_untranslated"]) == (2, 1)
    assert row["models"] == ["m"] and row["n_paragraphs"] == 6
