"""Write stage: aligned documents and rejects -> committed parts of the output datasets.

The sink of the assemble phase. It decides each document again against the output as it is now (a
parallel shard may have committed meanwhile; pipeline.stages.decide), builds the rows of the five
datasets (removed/ only with the run setting write_removed), and commits them as one part per batch
through the output store, which replaces the earlier rows of documents processed again. It counts what
it wrote, for the run's manifest.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime, timezone
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.records import Reject, RejectReason
from pipeline.settings import RunSettings
from pipeline.stages.base import Sink
from pipeline.stages.decide import Decision, decide, replaced_because

if TYPE_CHECKING:
    import pyarrow as pa

    from pipeline.stages.align import AlignedDocument
    from pipeline.store.output import OutputStore
    from pipeline.store.rows import Columns


_ROWS_PER_BATCH = 8_192
Item = TypeVar("Item")


class WriteSink(Sink["AlignedDocument"]):
    """Commits aligned batches as parts of the output, and counts rows per dataset and language."""

    name = "write"

    def __init__(self, settings: RunSettings, output: OutputStore):
        super().__init__()
        self.settings = settings
        self.output = output
        self.documents: Counter[str] = Counter()
        self.paragraphs: dict[str, Counter[str]] = {}
        self.sentences: dict[str, Counter[str]] = {}
        self.rejects: Counter[str] = Counter()
        self.removed: Counter[str] = Counter()     # rows of removed/ by reason
        self.models: dict[str, set[str]] = {}
        self.files: list[str] = []
        self.skipped = 0
        self.replaced = 0
        self.replaced_because: Counter[str] = Counter()
        self.missing_inputs: list[str] = []

    def write(self, batch: Sequence[AlignedDocument], rejects: list[Reject]) -> None:
        with self.output.lock():
            committed = self.output.committed_documents()
            kept = []
            replaced: dict[str, set[str]] = {}
            for entry in batch:
                decision = decide(entry.document, committed, self.settings)
                if isinstance(decision, Reject):
                    rejects.append(decision)
                elif decision is Decision.SKIP:
                    self.skipped += 1
                else:
                    kept.append(entry)
                    existing = committed.get(entry.document.raw.doc_id)
                    if existing is not None:
                        replaced.setdefault(existing.key, set()).add(existing.doc_id)
                        self.replaced_because[replaced_because(self.settings)] += 1
            if kept or rejects:
                self._commit(kept, rejects, replaced)

    def _commit(self, kept: Sequence[AlignedDocument], rejects: Sequence[Reject],
                replaced: Mapping[str, set[str]]) -> None:
        from pipeline.store.output import part_key
        from pipeline.store.rows import (document_row, paragraph_columns, reject_row, removed_columns,
                                         row_columns, sentence_columns)

        now = datetime.now(timezone.utc)
        run_id = self.settings.run_id
        unique_rejects = {(r.source_path, r.source_record, str(r.reason)): r for r in rejects}
        documents = (document_row(entry.document, entry.paragraphs, entry.sentences, run_id, now)
                     for entry in kept)
        paragraphs = ((entry.document.raw.doc_id, pair, entry.document.cleaned.region(pair.para_id),
                       entry.document.cleaned.line_score(pair.para_id))
                      for entry in kept for pair in entry.paragraphs)
        sentences = ((entry.document.raw.doc_id, pair, entry.document.cleaned.region(pair.para_id))
                     for entry in kept for pair in entry.sentences)
        removed = ((entry.document, line) for entry in kept if self.settings.write_removed
                   for line in entry.document.cleaned.removed)
        chunks: dict[str, Iterable[Columns]] = {
            "documents": _chunked(documents, row_columns),
            "paragraphs": _chunked(paragraphs, lambda chunk: paragraph_columns(chunk, run_id)),
            "sentences": _chunked(sentences, lambda chunk: sentence_columns(chunk, run_id)),
            "rejects": _chunked((reject_row(reject, run_id, now) for reject in unique_rejects.values()),
                                row_columns),
            "removed": _chunked(removed, lambda chunk: removed_columns(chunk, run_id)),
        }
        key = part_key([entry.document.raw.doc_id for entry in kept], unique_rejects)
        written = self.output.commit_shard(key, _CountedTables(chunks, self._count), replaced,
                                           [entry.document.source for entry in kept])
        self.files.extend(str(path.relative_to(self.settings.output)) for path in written)
        self.replaced += sum(len(ids) for ids in replaced.values())

    def _count(self, dataset: str, table: pa.Table) -> None:
        if dataset == "documents":
            for lang, count in _tally(table, "src_lang"):
                self.documents[lang] += count
        elif dataset in ("paragraphs", "sentences"):
            counters = self.paragraphs if dataset == "paragraphs" else self.sentences
            for lang, status, count in _tally(table, "src_lang", "status"):
                counters.setdefault(lang, Counter())[status] += count
            if dataset == "sentences":
                for lang, model, _ in _tally(table, "src_lang", "model"):
                    if model:
                        self.models.setdefault(lang, set()).add(model)
        elif dataset == "removed":
            for reason, count in _tally(table, "reason"):
                self.removed[reason] += count
        elif dataset == "rejects":
            for row in table.select(["reason", "source_path"]).to_pylist():
                self.rejects[row["reason"]] += 1
                if row["reason"] == RejectReason.NOT_FOUND.value:
                    self.missing_inputs.append(row["source_path"])


class _CountedTables(Mapping[str, "pa.Table"]):
    """A shard's tables, each built from its column chunks when the store takes it and counted then, so
    that the store holds one dataset's table at a time (a long document's sentences alone take hundreds
    of MB)."""

    def __init__(self, chunks: Mapping[str, Iterable[Columns]],
                 count: Callable[[str, pa.Table], None]) -> None:
        self._chunks = chunks
        self._count = count

    def __getitem__(self, dataset: str) -> pa.Table:
        import pyarrow as pa

        from pipeline.store.schemas import SCHEMAS

        schema = SCHEMAS[dataset]
        table = pa.Table.from_batches(
            [pa.RecordBatch.from_pydict(columns, schema=schema) for columns in self._chunks[dataset]],
            schema=schema)
        self._count(dataset, table)
        return table

    def __iter__(self) -> Iterator[str]:
        return iter(self._chunks)

    def __len__(self) -> int:
        return len(self._chunks)


def _chunked(items: Iterable[Item], columns: Callable[[list[Item]], Columns]) -> Iterator[Columns]:
    """The `columns` of `items`, _ROWS_PER_BATCH items at a time, each chunk turned into Arrow before the
    next is built: a long document's sentences are never all held as Python objects, which take several
    times the memory of their Arrow columns."""
    items = iter(items)
    while chunk := list(islice(items, _ROWS_PER_BATCH)):
        yield columns(chunk)


def _tally(table: pa.Table, *columns: str) -> list[tuple[Any, ...]]:
    """The rows of `table` counted by the values of `columns`: (value, ..., count) for each."""
    counted = table.group_by(list(columns)).aggregate([([], "count_all")])
    return list(zip(*(counted[name].to_pylist() for name in (*columns, "count_all"))))
