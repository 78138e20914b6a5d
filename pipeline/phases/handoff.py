"""Prepared batches handed from prepare to assemble in one process, held in memory up to a bound.

A run whose phases all run in one process need not write each prepared batch to the work area as
Parquet and read it back (on the real-text pages, 4.1 of a run's 55 profiled seconds):
`PreparedBatches` keeps the batches, as the work area would give them back, until assembly takes them.
A batch that would take the input held past MAX_HELD_BYTES is staged in the work area instead, as a
distributed run stages all of them, and so is the rest of its shard; a run of any size holds a bounded
amount, and a run that assembles each shard soon after preparing it holds every batch. Each shard is still
marked prepared in the work area, and the output is committed batch by batch as before, so a crash
leaves what it left before.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence

from pipeline.records import PreparedDocument, RawDocument, Reject
from pipeline.store.work_area import RunWorkArea

# Input bytes of the documents held at most. Held, a scraped page costs about 4 times its input size in
# objects and a record of a sentence or two about 7 times: at most some 230 MB.
MAX_HELD_BYTES = 32 * 2**20


class PreparedBatches:
    """The prepared batches of a run, shard by shard: held while they hold at most `max_held_bytes` of
    input at once, else staged in `work`. Offers the work area's write_batch and batches, which prepare
    and assemble call."""

    def __init__(self, work: RunWorkArea, max_held_bytes: int | None = None):
        self.work = work
        self.max_held_bytes = MAX_HELD_BYTES if max_held_bytes is None else max_held_bytes
        self.held_bytes = 0
        self._staging: set[int] = set()
        self._held: dict[int, list[tuple[int, list[PreparedDocument], list[Reject]]]] = {}

    def write_batch(self, index: int, batch: int, documents: Sequence[PreparedDocument],
                    rejects: Sequence[Reject]) -> None:
        size = sum(document.raw.n_bytes for document in documents)
        # Once one batch of a shard is staged every later one is too: the shard's held batches then all
        # come before its staged ones, which keeps assembly in the order of preparation.
        if index in self._staging or self.held_bytes + size > self.max_held_bytes:
            self._staging.add(index)
            self.work.write_batch(index, batch, documents, rejects)
            return
        self.held_bytes += size
        self._held.setdefault(index, []).append((size, [_as_staged(document) for document in documents],
                                                 list(rejects)))

    def batches(self, index: int) -> Iterator[tuple[list[PreparedDocument], list[Reject]]]:
        """The shard's batches in the order they were prepared; a held batch is let go once taken."""
        held = self._held.pop(index, [])
        while held:
            size, documents, rejects = held.pop(0)
            self.held_bytes -= size
            yield documents, rejects
        yield from self.work.batches(index)


def _as_staged(document: PreparedDocument) -> PreparedDocument:
    """`document` as the work area gives it back: without its text, which no later phase reads. Built
    field by field: dataclasses.replace, twice a document, cost more than the rest of the hand-off."""
    raw = document.raw
    return PreparedDocument(
        RawDocument(raw.doc_id, raw.source_path, raw.source_format, "", raw.encoding, raw.n_bytes,
                    raw.source_record, raw.metadata, raw.record_id),
        document.cleaned, document.document_language, document.languages, document.spans,
        document.fingerprint)
