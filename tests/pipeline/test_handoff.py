"""Prepared batches held in memory are what the work area gives back, in the order they were prepared."""
from __future__ import annotations

from pathlib import Path

from pipeline.phases.handoff import PreparedBatches
from pipeline.records import (CleanedDocument, LanguageGuess, LanguageMethod, PreparedDocument, RawDocument,
                              Region, Reject, RejectReason, RemovedLine)
from pipeline.store.work_area import RunWorkArea


def _document(number: int) -> PreparedDocument:
    text = f"Menu\nDocument {number} says one thing. Then another.\nDer zweite Absatz."
    metadata = {"title": f"Title {number}", "url": "https://example.org"}
    raw = RawDocument(f"id{number}", f"/in/{number}.jsonl", "jsonl", text, "utf-8", len(text) + 40,
                      f"line:{number}", metadata, f"r{number}")
    cleaned = CleanedDocument(
        (f"Document {number} says one thing. Then another.", "Der zweite Absatz."), f"Title {number}", None,
        "2026-12-05", None,
        (RemovedLine("Menu", "navigation", None, 0), RemovedLine("x", "low_score", 0.125, 3)),
        (Region.MAIN, Region.COMMENTS))
    languages = (LanguageGuess("en", 0.987654, LanguageMethod.DETECTED),
                 LanguageGuess("de", 0.5, LanguageMethod.INHERITED))
    spans = (((0, 33), (34, 47)), ((0, 18),))
    return PreparedDocument(raw, cleaned, languages[0], languages, spans, f"fp{number}")


def _batch(first: int) -> tuple[list[PreparedDocument], list[Reject]]:
    return ([_document(first), _document(first + 1)],
            [Reject(f"/in/{first}.txt", RejectReason.NO_TEXT, "nothing left", None, None)])


def test_held_batches_are_what_the_work_area_gives_back(tmp_path: Path) -> None:
    staged_area = RunWorkArea(tmp_path / "staged", "run")
    held = PreparedBatches(RunWorkArea(tmp_path / "held", "run"))
    for number, first in enumerate((0, 10), start=1):
        staged_area.write_batch(0, number, *_batch(first))
        held.write_batch(0, number, *_batch(first))
    from_disk = list(staged_area.batches(0))
    assert len(from_disk) == 2 and from_disk[0][0][0].raw.text == ""
    assert list(held.batches(0)) == from_disk
    assert not (tmp_path / "held").exists(), "nothing held was written"
    assert list(held.batches(0)) == [], "a batch is handed over once"


def test_past_the_bound_later_batches_are_staged_and_come_after_the_held_ones(tmp_path: Path) -> None:
    documents, _ = _batch(0)
    size = sum(document.raw.n_bytes for document in documents)
    handoff = PreparedBatches(RunWorkArea(tmp_path, "run"), max_held_bytes=size)
    for number, first in enumerate((0, 10, 20), start=1):
        handoff.write_batch(0, number, *_batch(first))
    handoff.write_batch(1, 1, *_batch(30))
    assert handoff.held_bytes == size
    root = RunWorkArea(tmp_path, "run").root
    staged = sorted(str(path.relative_to(root)) for path in root.rglob("batch-*[0-9].parquet"))
    assert staged == ["shards/00000/batch-00002.parquet", "shards/00000/batch-00003.parquet",
                      "shards/00001/batch-00001.parquet"]
    ids = [[document.raw.doc_id for document in documents] for documents, _ in handoff.batches(0)]
    assert ids == [["id0", "id1"], ["id10", "id11"], ["id20", "id21"]]
    assert [[document.raw.doc_id for document in documents] for documents, _ in handoff.batches(1)] == [
        ["id30", "id31"]]


def test_a_batch_taken_frees_its_room_for_the_next_shard(tmp_path: Path) -> None:
    documents, _ = _batch(10)
    size = sum(document.raw.n_bytes for document in documents)
    handoff = PreparedBatches(RunWorkArea(tmp_path, "run"), max_held_bytes=size)
    handoff.write_batch(0, 1, *_batch(10))
    assert [len(documents) for documents, _ in handoff.batches(0)] == [2]
    assert handoff.held_bytes == 0
    handoff.write_batch(1, 1, *_batch(20))
    handoff.write_batch(1, 2, *_batch(30))
    assert handoff.held_bytes == size
    root = RunWorkArea(tmp_path, "run").root
    assert [str(path.relative_to(root)) for path in root.rglob("batch-*[0-9].parquet")] == [
        "shards/00001/batch-00002.parquet"]
