"""Write stage: aligned documents and rejects -> committed parts of the output datasets.

The sink of the assemble phase. It decides each document again against the output as it is now (a
parallel shard may have committed meanwhile; pipeline.stages.decide), builds the rows of the five
datasets (removed/ only with the run setting write_removed), and commits them as one part per batch
through the output store, which replaces the earlier rows of documents processed again. It counts what it wrote, for the run's manifest.
"""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from pipeline.records import Reject, RejectReason
from pipeline.settings import RunSettings
from pipeline.stages.base import Sink
from pipeline.stages.decide import Decision, decide, replaced_because

if TYPE_CHECKING:
    from pipeline.stages.align import AlignedDocument
    from pipeline.store.output import OutputStore


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
        import pyarrow as pa

        from pipeline.store.output import part_key
        from pipeline.store.rows import document_row, paragraph_row, reject_row, removed_rows, sentence_row
        from pipeline.store.schemas import SCHEMAS

        now = datetime.now(timezone.utc)
        run_id = self.settings.run_id
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}
        for entry in kept:
            doc_id = entry.document.raw.doc_id
            rows["documents"].append(document_row(entry.document, entry.paragraphs, entry.sentences,
                                                  run_id, now))
            cleaned = entry.document.cleaned
            rows["paragraphs"].extend(paragraph_row(doc_id, pair, cleaned.region(pair.para_id), run_id)
                                      for pair in entry.paragraphs)
            rows["sentences"].extend(sentence_row(doc_id, pair, cleaned.region(pair.para_id), run_id)
                                     for pair in entry.sentences)
            if self.settings.write_removed:
                rows["removed"].extend(removed_rows(entry.document, run_id))
        unique_rejects = {(r.source_path, r.source_record, str(r.reason)): r for r in rejects}
        rows["rejects"] = [reject_row(reject, run_id, now) for reject in unique_rejects.values()]
        tables = {name: pa.Table.from_pylist(value, schema=SCHEMAS[name]) for name, value in rows.items()}
        key = part_key([entry.document.raw.doc_id for entry in kept], unique_rejects)
        written = self.output.commit_shard(key, tables, replaced, [entry.document.source for entry in kept])
        self.files.extend(str(path.relative_to(self.settings.output)) for path in written)
        self.replaced += sum(len(ids) for ids in replaced.values())
        self._count(rows)

    def _count(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        for row in rows["documents"]:
            self.documents[row["src_lang"]] += 1
        for level, counters in (("paragraphs", self.paragraphs), ("sentences", self.sentences)):
            for row in rows[level]:
                counters.setdefault(row["src_lang"], Counter())[row["status"]] += 1
        for row in rows["sentences"]:
            if row["model"]:
                self.models.setdefault(row["src_lang"], set()).add(row["model"])
        self.removed.update(row["reason"] for row in rows["removed"])
        for row in rows["rejects"]:
            self.rejects[row["reason"]] += 1
            if row["reason"] == RejectReason.NOT_FOUND.value:
                self.missing_inputs.append(row["source_path"])
