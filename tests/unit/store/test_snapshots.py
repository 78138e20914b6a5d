"""Snapshot reads: whatever point of a commit a crash interrupts, pyarrow, DuckDB and Polars readers of the
snapshot see one complete committed state, and a snapshot once taken stays readable for its retention."""
from __future__ import annotations

import os
import shutil
from collections import Counter
from pathlib import Path

import duckdb
import polars as pl
import pytest
from store_rows import commit

from pipeline.store import snapshots
from pipeline.store.output import COMMIT_MARKER, OutputStore
from pipeline.store.reader import read_output
from pipeline.store.snapshots import SNAPSHOT_FILE, Snapshot, current_snapshot, snapshot_files

# Two shards of ten documents, then a rewrite in another shard size: five documents move to a new part
# (two of them to another language partition), so parts are added, rewritten and removed.
FIRST = [(f"d{number}", "en" if number % 3 else "ar") for number in range(6)]
SECOND = [(f"d{number}", "en" if number % 3 else "ar") for number in range(6, 10)]
REWRITE = [("d0", "en"), ("d1", "en"), ("d3", "ar"), ("d6", "en"), ("d7", "ar")]


class _Killed(Exception):
    """Stands for kill -9 at one file operation of a commit."""


def _state(root: Path, snapshot: Snapshot) -> dict[str, dict]:
    """What each reader sees in `snapshot`: documents' run ids, sentence counts and run ids per document."""
    documents = read_output(root, "documents", snapshot=snapshot)
    sentences = read_output(root, "sentences", snapshot=snapshot)
    duck = duckdb.read_parquet(snapshot.files("sentences"), hive_partitioning=True)
    polars = pl.scan_parquet(snapshot.files("documents"), hive_partitioning=True).collect()
    return {
        "pyarrow": {"documents": Counter(zip(documents["doc_id"], documents["run_id"])),
                    "sentences": Counter(zip(sentences["doc_id"], sentences["run_id"]))},
        "duckdb": {"sentences": Counter(duck.select("doc_id, run_id").fetchall())},
        "polars": {"documents": Counter(polars.select("doc_id", "run_id").iter_rows())},
    }


def _assert_seen_as(root: Path, expected: dict[str, Counter]) -> None:
    for reader, seen in _state(root, current_snapshot(root)).items():
        for dataset, rows in seen.items():
            assert rows == expected[dataset], (reader, dataset)


def _expected(runs: dict[str, str]) -> dict[str, Counter]:
    return {"documents": Counter(runs.items()),
            "sentences": Counter({(doc_id, run): 2 for doc_id, run in runs.items()})}


def _base_output(root: Path) -> OutputStore:
    store = OutputStore(root)
    store.prepare()
    with store.lock():
        store.recover()
    commit(store, FIRST)
    commit(store, SECOND)
    return store


def _rewrite(store: OutputStore) -> None:
    with store.lock():
        committed = store.committed_documents()
        replaced: dict[str, set[str]] = {}
        for doc_id, _ in REWRITE:
            replaced.setdefault(committed[doc_id].key, set()).add(doc_id)
        commit(store, REWRITE, run_id="r2", replaced=replaced)


def _file_operations(monkeypatch: pytest.MonkeyPatch, kill_at: int | None) -> list[str]:
    """Count every rename and removal; with `kill_at`, that one raises instead of happening."""
    done: list[str] = []
    real = {"replace": os.replace, "unlink": os.unlink}

    def operation(name: str):
        def run(*args, **kwargs):
            done.append(f"{name} {args[-1]}")
            if len(done) == kill_at:
                raise _Killed(done[-1])
            return real[name](*args, **kwargs)
        return run

    for name in real:
        monkeypatch.setattr(os, name, operation(name))
    return done


def test_a_crash_at_any_file_operation_of_a_commit_shows_readers_the_old_or_the_new_state(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    base = tmp_path / "base"
    _base_output(base)
    before = {doc_id: "r1" for doc_id, _ in FIRST + SECOND}
    after = {**before, **{doc_id: "r2" for doc_id, _ in REWRITE}}

    counted = tmp_path / "counted"
    shutil.copytree(base, counted)
    operations = _file_operations(monkeypatch, kill_at=None)
    _rewrite(OutputStore(counted))
    monkeypatch.undo()
    total = len(operations)
    assert total > 20   # marker, parts, rewritten and removed parts, snapshot, links
    committed_at = next(number for number, done in enumerate(operations, 1) if done.endswith(COMMIT_MARKER))
    _assert_seen_as(counted, _expected(after))

    old_or_new = Counter()
    for kill_at in range(1, total + 1):
        root = tmp_path / f"killed-{kill_at}"
        shutil.copytree(base, root)
        _file_operations(monkeypatch, kill_at)
        with pytest.raises(_Killed):
            _rewrite(OutputStore(root))
        monkeypatch.undo()
        seen = _state(root, current_snapshot(root))["pyarrow"]["documents"]
        assert seen in (_expected(before)["documents"], _expected(after)["documents"]), kill_at
        _assert_seen_as(root, _expected(before if seen == _expected(before)["documents"] else after))
        old_or_new["new" if seen == _expected(after)["documents"] else "old"] += 1

        # The next run discards a shard killed before its commit marker and completes one killed after.
        store = OutputStore(root)
        with store.lock():
            store.recover()
        _assert_seen_as(root, _expected(after if kill_at > committed_at else before))
    assert old_or_new["old"] > 10 and old_or_new["new"] >= 1


def test_a_snapshot_stays_readable_while_later_commits_rewrite_its_parts_until_its_retention_ends(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = _base_output(tmp_path / "out")
    first = current_snapshot(store.root)
    _rewrite(store)
    assert current_snapshot(store.root).number == first.number + 1
    # The rewrite replaced and removed parts of the datasets; the old snapshot still reads as it was.
    documents = read_output(store.root, "documents", snapshot=first)
    assert set(documents["run_id"]) == {"r1"} and len(documents) == 10
    assert len(read_output(store.root, "sentences", snapshot=first)) == 20

    monkeypatch.setattr(snapshots, "RETENTION_SECONDS", 0)
    commit(store, [("d20", "en")], run_id="r3")
    with pytest.raises(FileNotFoundError):
        read_output(store.root, "documents", snapshot=first)
    # Without a pinned snapshot a reader always gets the current one.
    assert len(read_output(store.root, "documents")) == 11
    links = set((store.root / snapshots.LINKS_DIR).rglob("*.parquet"))
    current = current_snapshot(store.root)
    assert {str(link) for link in links} == {path for level in current.parts for path in current.files(level)}


def test_the_snapshot_counts_rows_and_lists_files_for_duckdb_and_polars(tmp_path: Path):
    store = _base_output(tmp_path / "out")
    snapshot = current_snapshot(store.root)
    assert {level: snapshot.rows(level) for level in ("documents", "sentences", "rejects")} == {
        "documents": 10, "sentences": 20, "rejects": 0}
    assert snapshot_files(store.root, "sentences") == snapshot.files("sentences")
    languages = duckdb.read_parquet(snapshot.files("sentences"), hive_partitioning=True).aggregate(
        "src_lang, count(*)").fetchall()
    assert dict(languages) == {"ar": 8, "en": 12}
    with pytest.raises(ValueError, match="level must be one of"):
        snapshot.files("sentence")


def test_an_output_written_before_snapshots_is_read_by_listing_and_gets_one_at_the_next_run(tmp_path: Path):
    store = _base_output(tmp_path / "out")
    (store.root / SNAPSHOT_FILE).unlink()
    shutil.rmtree(store.root / ".snapshots")
    assert len(read_output(store.root, "documents")) == 10
    with pytest.raises(FileNotFoundError, match="older version"):
        snapshot_files(store.root, "documents")
    with store.lock():
        store.recover()
    assert current_snapshot(store.root).rows("documents") == 10


def test_a_snapshot_of_parts_it_already_holds_reads_no_footer(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    store = _base_output(tmp_path / "out")
    footers: list[object] = []
    real_read_metadata = snapshots.pq.read_metadata
    monkeypatch.setattr(snapshots.pq, "read_metadata", lambda *args, **kwargs: footers.append(args)
                        or real_read_metadata(*args, **kwargs))
    with store.lock():
        store.recover()   # a whole snapshot again: every part is one it knows
    assert footers == []
    assert current_snapshot(store.root).rows("sentences") == 20
