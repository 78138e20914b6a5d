"""Aligned pairs read from an output directory batch by batch, filtered and cleaned for export."""
from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Iterator, NamedTuple

import pyarrow as pa
import pyarrow.dataset as ds

from pipeline.export import UNITS
from pipeline.export.filters import (
    FILTER_ORDER,
    Deduplicator,
    ExportFilters,
    count_pushed_down,
    decide,
    pushdown_expression,
    signals,
)
from pipeline.export.text import clean_text, decode_column

TARGET_LANG = "en"
# Rows per scanned batch: large enough for vectorised filtering, small enough that memory stays flat.
BATCH_ROWS = 8192
_COLUMNS = ("doc_id", "para_id", "sent_id", "src_lang", "src_text", "en_text", "status", "model", "run_id",
            "len_ratio", "numbers_match", "urls_match", "quality_flags")


class Pair(NamedTuple):
    lang: str
    source: str
    english: str
    doc_id: str
    para_id: int
    sent_id: int | None
    model: str | None
    run_id: str
    created: datetime | None


def source_side(lang: str) -> str:
    """The name of a pair's source side: its language, or `src` when the source is English too, so that
    the two sides of an English pair never share a file name or a column."""
    return "src" if lang == TARGET_LANG else lang


@dataclass
class ExportReport:
    """What an export read, removed (by the first filter each row failed), altered and wrote."""

    fmt: str
    unit: str
    to: Path
    rows_read: int = 0
    removed: Counter[str] = field(default_factory=Counter)
    written: Counter[str] = field(default_factory=Counter)
    text_changes: Counter[str] = field(default_factory=Counter)
    files: list[Path] = field(default_factory=list)
    models: set[str] = field(default_factory=set)
    run_ids: set[str] = field(default_factory=set)

    @property
    def pairs_written(self) -> int:
        return sum(self.written.values())

    def lines(self) -> list[str]:
        """The summary printed by the command line, one fact a line."""
        lines = [f"read {self.rows_read} {UNITS[self.unit]} rows"]
        lines += [f"removed by {name}: {self.removed[name]}" for name in FILTER_ORDER if name in self.removed]
        lines += [f"text changed: {name} {count}" for name, count in sorted(self.text_changes.items())]
        per_lang = ", ".join(f"{lang} {count}" for lang, count in sorted(self.written.items()))
        lines.append(f"wrote {self.pairs_written} {self.unit} pairs ({per_lang or 'none'}) as {self.fmt} "
                     f"to {self.to}: {len(self.files)} files")
        return lines


class RunDates:
    """When each run finished, from its manifest `runs/RUN_ID.json` (read once per run)."""

    def __init__(self, output: Path) -> None:
        self._runs = output / "runs"
        self._dates: dict[str, datetime | None] = {}

    def __call__(self, run_id: str) -> datetime | None:
        if run_id not in self._dates:
            self._dates[run_id] = self._read(run_id)
        return self._dates[run_id]

    def _read(self, run_id: str) -> datetime | None:
        try:
            manifest = json.loads((self._runs / f"{run_id}.json").read_text(encoding="utf-8"))
            return datetime.fromisoformat(manifest.get("finished_at") or manifest["started_at"])
        except (OSError, ValueError, KeyError, TypeError):
            return None   # a manifest removed or from another version: the pair goes without a date


def read_pairs(output: Path, unit: str, filters: ExportFilters, report: ExportReport) -> Iterator[list[Pair]]:
    """The pairs that pass `filters`, one list per scanned batch; counts go into `report`."""
    from pipeline.store.reader import open_dataset

    dataset = open_dataset(output, UNITS[unit])
    report.rows_read = count_pushed_down(dataset, filters, report.removed)
    columns = [name for name in _COLUMNS if name in dataset.schema.names]
    if filters.region is not None:
        columns.append("region")
    deduplicator = Deduplicator() if filters.dedup else None
    run_dates = RunDates(Path(output))
    for batch in _scan(dataset, columns, pushdown_expression(filters)):
        if batch.num_rows == 0:
            continue
        kept = batch.filter(decide(signals(batch, filters), batch.num_rows, report.removed))
        pairs = list(_pairs(kept, deduplicator, run_dates, report))
        if pairs:
            yield pairs


def _scan(dataset: ds.Dataset, columns: list[str], expression: ds.Expression) -> Iterator[pa.RecordBatch]:
    """The dataset's batches one file at a time: a scanner over the whole dataset reads ahead without
    bound when its consumer is slower than the disk (the writers are), holding most of the dataset in
    memory, whereas one file's batches are at most the size of that file."""
    for fragment in dataset.get_fragments(filter=expression):
        yield from fragment.to_batches(schema=dataset.schema, columns=columns, filter=expression,
                                       batch_size=BATCH_ROWS,
                                       batch_readahead=2, fragment_readahead=1)


def _pairs(batch: pa.RecordBatch, deduplicator: Deduplicator | None, run_dates: RunDates,
           report: ExportReport) -> Iterator[Pair]:
    sources = decode_column(batch.column("src_text"), report.text_changes)
    englishes = decode_column(batch.column("en_text"), report.text_changes)
    has_sent_ids = "sent_id" in batch.schema.names   # paragraph rows have none
    sent_ids = batch.column("sent_id").to_pylist() if has_sent_ids else [None] * len(sources)
    rows = zip(batch.column("src_lang").to_pylist(), sources, englishes, batch.column("doc_id").to_pylist(),
               batch.column("para_id").to_pylist(), sent_ids, batch.column("model").to_pylist(),
               batch.column("run_id").to_pylist())
    for lang, source, english, doc_id, para_id, sent_id, model, run_id in rows:
        source, english = clean_text(source, report.text_changes), clean_text(english, report.text_changes)
        if not source.strip() or not english.strip():
            report.removed["empty_after_cleaning"] += 1
            continue
        if deduplicator is not None:
            duplicate = deduplicator.verdict(lang, source, english)
            if duplicate is not None:
                report.removed[duplicate] += 1
                continue
        report.run_ids.add(run_id)
        if model is not None:
            report.models.add(model)
        yield Pair(lang, source, english, doc_id, para_id, sent_id, model, run_id, run_dates(run_id))
