"""A run's work area: what one phase hands to the next, on the output's file system.

`OUTPUT/.work/<run id>/` (hidden: no dataset reader or glob looks there) holds
- `shards/<index>/batch-<n>.parquet` and `batch-<n>.rejects.parquet`: the documents `prepare` cleaned,
  detected and segmented, and the inputs it rejected, batch by batch, for `assemble`;
- `shards/<index>/sentences.parquet`: the distinct sentences of the shard that need a translation, by
  language, for planning the translation tasks;
- `shards/<index>/PREPARED.json`: written last; a shard without it was not prepared (a crash);
- `translate/<lang>-<n>.parquet`: the sentences of one translation task;
- `translated/<lang>-<n>.json`: what that task did: the model and decoding under which its English is in
  the translation store, or why there is none, and the sentences that stayed untranslated.

Every file is written atomically, and a retried task rewrites its own files, so any task can run again.
The work area is removed when the run's manifest is written; one left by a run that never finished is
removed by the plan of a later run once nothing has touched it for STALE_AFTER_DAYS (it may belong to a
run still going on beside it until then).
"""
from __future__ import annotations

import json
import shutil
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.records import (CleanedDocument, LanguageGuess, LanguageMethod, PreparedDocument, RawDocument,
                              Region, Reject, RejectReason, RemovedLine)
from pipeline.store.output import TEMP_SUFFIX, write_parquet_atomic, write_text_atomic
from pipeline.store.translations import STORE_DIR

WORK_DIR = ".work"
PREPARED_MARKER = "PREPARED.json"
STALE_AFTER_DAYS = 7
# A temporary file is written in one go and renamed by the task that writes it (a task may run 6 hours),
# so one untouched for a day was left by a writer that was killed.
STALE_TEMPORARY_HOURS = 24

_LANGUAGE = pa.struct([("lang", pa.string()), ("score", pa.float64()), ("method", pa.string())])
_REMOVED = pa.struct([("text", pa.string()), ("rule", pa.string()), ("score", pa.float64()),
                      ("line_no", pa.int64())])
DOCUMENT_SCHEMA = pa.schema([
    ("doc_id", pa.string()), ("source_path", pa.string()), ("source_format", pa.string()),
    ("encoding", pa.string()), ("n_bytes", pa.int64()), ("source_record", pa.string()),
    ("record_id", pa.string()), ("metadata", pa.map_(pa.string(), pa.string())),
    ("paragraphs", pa.list_(pa.string())), ("title", pa.string()), ("byline", pa.string()),
    ("published", pa.string()), ("attribution", pa.string()), ("removed", pa.list_(_REMOVED)),
    ("regions", pa.list_(pa.string())), ("line_scores", pa.list_(pa.float64())),
    ("document_language", _LANGUAGE), ("languages", pa.list_(_LANGUAGE)),
    ("spans", pa.list_(pa.list_(pa.int64()))),      # per paragraph: start, end, start, end, ...
    ("fingerprint", pa.string()),
])
REJECT_SCHEMA = pa.schema([("source_path", pa.string()), ("reason", pa.string()), ("detail", pa.string()),
                           ("source_record", pa.string()), ("record_id", pa.string())])
SENTENCE_SCHEMA = pa.schema([("lang", pa.string()), ("text", pa.string())])


def _language(guess: LanguageGuess) -> dict[str, Any]:
    return {"lang": guess.lang, "score": guess.score, "method": guess.method}


def _document_row(document: PreparedDocument) -> dict[str, Any]:
    raw, cleaned = document.raw, document.cleaned
    return {
        "doc_id": raw.doc_id, "source_path": raw.source_path, "source_format": raw.source_format,
        "encoding": raw.encoding, "n_bytes": raw.n_bytes, "source_record": raw.source_record,
        "record_id": raw.record_id, "metadata": list(raw.metadata.items()),
        "paragraphs": list(cleaned.paragraphs), "title": cleaned.title, "byline": cleaned.byline,
        "published": cleaned.published, "attribution": cleaned.attribution,
        "removed": [{"text": line.text, "rule": line.rule, "score": line.score, "line_no": line.line_no}
                    for line in cleaned.removed],
        "regions": [str(region) for region in cleaned.regions], "line_scores": list(cleaned.line_scores),
        "document_language": _language(document.document_language),
        "languages": [_language(guess) for guess in document.languages],
        "spans": [[offset for span in spans for offset in span] for spans in document.spans],
        "fingerprint": document.fingerprint,
    }


def _guess(stored: dict[str, Any]) -> LanguageGuess:
    return LanguageGuess(stored["lang"], stored["score"], LanguageMethod(stored["method"]))


def _document(row: dict[str, Any]) -> PreparedDocument:
    # The text itself is not kept: after cleaning, the paragraphs are all that later phases read.
    raw = RawDocument(row["doc_id"], row["source_path"], row["source_format"], "", row["encoding"],
                      row["n_bytes"], row["source_record"], dict(row["metadata"]), row["record_id"])
    cleaned = CleanedDocument(tuple(row["paragraphs"]), row["title"], row["byline"], row["published"],
                              row["attribution"], tuple(RemovedLine(**line) for line in row["removed"]),
                              tuple(Region(region) for region in row["regions"]), tuple(row["line_scores"]))
    return PreparedDocument(
        raw, cleaned, _guess(row["document_language"]), tuple(_guess(guess) for guess in row["languages"]),
        tuple(tuple(zip(offsets[::2], offsets[1::2])) for offsets in row["spans"]),
        row["fingerprint"])


class RunWorkArea:
    """The work area of one run under an output directory."""

    def __init__(self, output: Path, run_id: str):
        self.root = Path(output) / WORK_DIR / run_id

    # -- prepared shards ----------------------------------------------------------------------------

    def shard_dir(self, index: int) -> Path:
        return self.root / "shards" / f"{index:05d}"

    def start_shard(self, index: int) -> None:
        """Forget what an earlier attempt of this shard wrote: a retry prepares it again from scratch."""
        shutil.rmtree(self.shard_dir(index), ignore_errors=True)

    def write_batch(self, index: int, batch: int, documents: Sequence[PreparedDocument],
                    rejects: Sequence[Reject]) -> None:
        directory = self.shard_dir(index)
        rows = [_document_row(item) for item in documents]
        write_parquet_atomic(pa.Table.from_pylist(rows, schema=DOCUMENT_SCHEMA),
                             directory / f"batch-{batch:05d}.parquet")
        write_parquet_atomic(pa.Table.from_pylist(
            [{"source_path": item.source_path, "reason": str(item.reason), "detail": item.detail,
              "source_record": item.source_record, "record_id": item.record_id} for item in rejects],
            schema=REJECT_SCHEMA), directory / f"batch-{batch:05d}.rejects.parquet")

    def finish_shard(self, index: int, sentences: dict[str, dict[str, None]],
                     summary: dict[str, Any]) -> None:
        """The shard's distinct sentences to translate, by language, then its marker."""
        directory = self.shard_dir(index)
        rows = [{"lang": lang, "text": text} for lang in sorted(sentences) for text in sentences[lang]]
        write_parquet_atomic(pa.Table.from_pylist(rows, schema=SENTENCE_SCHEMA),
                             directory / "sentences.parquet")
        write_text_atomic(json.dumps(summary), directory / PREPARED_MARKER)

    def is_prepared(self, index: int) -> bool:
        return (self.shard_dir(index) / PREPARED_MARKER).is_file()

    def batches(self, index: int) -> Iterator[tuple[list[PreparedDocument], list[Reject]]]:
        """The shard's batches in the order they were prepared."""
        for path in sorted(self.shard_dir(index).glob("batch-[0-9]*[0-9].parquet")):
            documents = [_document(row) for row in pq.read_table(path, schema=DOCUMENT_SCHEMA).to_pylist()]
            rejects = [Reject(row["source_path"], RejectReason(row["reason"]), row["detail"],
                              row["source_record"], row["record_id"])
                       for row in pq.read_table(path.with_suffix(".rejects.parquet")).to_pylist()]
            yield documents, rejects

    def sentences(self, index: int) -> pa.Table:
        return pq.read_table(self.shard_dir(index) / "sentences.parquet")

    # -- translation tasks ------------------------------------------------------------------------

    def chunk_path(self, lang: str, number: int) -> Path:
        return self.root / "translate" / f"{lang}-{number:05d}.parquet"

    def write_chunk(self, lang: str, number: int, texts: Sequence[str]) -> Path:
        path = self.chunk_path(lang, number)
        write_parquet_atomic(pa.table({"text": pa.array(list(texts), pa.string())}), path)
        return path

    def clear_chunks(self) -> None:
        """Forget the translation plan of an earlier attempt, so a replanned run has no stray task."""
        for name in ("translate", "translated"):
            shutil.rmtree(self.root / name, ignore_errors=True)

    @staticmethod
    def chunk_texts(path: Path) -> list[str]:
        return pq.read_table(path)["text"].to_pylist()

    def outcome_path(self, lang: str, number: int) -> Path:
        return self.root / "translated" / f"{lang}-{number:05d}.json"

    def write_outcome(self, lang: str, number: int, outcome: dict[str, Any]) -> None:
        write_text_atomic(json.dumps(outcome, ensure_ascii=False), self.outcome_path(lang, number))

    def outcomes(self, languages: set[str] | None = None) -> Iterator[dict[str, Any]]:
        """What the run's translation tasks did, for `languages` (all when None)."""
        directory = self.root / "translated"
        if not directory.is_dir():
            return
        for path in sorted(directory.glob("*.json")):
            if languages is None or path.stem.rsplit("-", 1)[0] in languages:
                yield json.loads(path.read_text(encoding="utf-8"))

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)
        try:
            self.root.parent.rmdir()   # the last run's area: leave no empty .work behind
        except OSError:
            pass


def remove_stale_work_areas(output: Path, now: float | None = None) -> list[str]:
    """Remove the work areas under `output` that nothing has written to for STALE_AFTER_DAYS; returns
    their run ids."""
    root = Path(output) / WORK_DIR
    if not root.is_dir():
        return []
    limit = (time.time() if now is None else now) - STALE_AFTER_DAYS * 86400
    removed = []
    for area in sorted(root.iterdir()):
        newest = max((path.stat().st_mtime for path in area.rglob("*")), default=area.stat().st_mtime)
        if newest < limit:
            shutil.rmtree(area, ignore_errors=True)
            removed.append(area.name)
    return removed


def remove_stale_temporary_files(output: Path, now: float | None = None) -> int:
    """Remove the temporary files under `output`'s work areas and translation store that nothing has
    written to for STALE_TEMPORARY_HOURS (left by killed writers); returns how many."""
    limit = (time.time() if now is None else now) - STALE_TEMPORARY_HOURS * 3600
    removed = 0
    for directory in (Path(output) / WORK_DIR, Path(output) / STORE_DIR):
        for path in directory.rglob(f".*{TEMP_SUFFIX}"):
            try:
                if path.stat().st_mtime < limit:
                    path.unlink()
                    removed += 1
            except FileNotFoundError:   # renamed or removed by its writer meanwhile
                continue
    return removed
