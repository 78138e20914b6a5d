"""What a run report shows, gathered from the run's manifest and the run's rows in the datasets.

The project modules this package depends on are imported here and only here, inside the functions,
so that moving them touches one file and importing the report costs nothing until it is drawn.
"""
from __future__ import annotations

import hashlib
import heapq
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATUSES = ("translated", "source_is_english", "untranslated")
SAMPLES_PER_LANGUAGE = 4
# Fewer rows for a language without English: its source alone says little more after two.
UNTRANSLATED_SAMPLES = 2
LARGEST_DOCUMENTS = 8
REJECT_EXAMPLES = 3
_KEY_COLUMNS = ["doc_id", "para_id", "sent_id"]
_SAMPLE_COLUMNS = ["doc_id", "para_id", "sent_id", "src_lang", "src_text", "en_text", "status",
                   "status_detail", "model", "len_ratio", "quality_flags"]


@dataclass(frozen=True)
class SamplePair:
    """One sentence of the run, source beside English, with what the quality checks said of it."""

    src_lang: str
    src_text: str
    en_text: str | None
    status: str
    status_detail: str | None
    len_ratio: float | None
    flags: tuple[str, ...]


@dataclass(frozen=True)
class RejectGroup:
    reason: str
    count: int
    examples: tuple[tuple[str, str], ...]  # (source, detail)


@dataclass(frozen=True)
class LargeDocument:
    source: str
    title: str
    src_lang: str
    n_sentences: int
    n_bytes: int


@dataclass
class ReportData:
    """Everything the page draws; plain values, so that charts and page need no dataset access."""

    manifest: dict[str, Any]
    documents: dict[str, int] = field(default_factory=dict)
    sentences: dict[str, dict[str, int]] = field(default_factory=dict)
    rejects: list[RejectGroup] = field(default_factory=list)
    largest: list[LargeDocument] = field(default_factory=list)
    samples: dict[str, list[SamplePair]] = field(default_factory=dict)

    @property
    def run_id(self) -> str:
        return str(self.manifest.get("run_id", ""))

    def languages(self) -> list[str]:
        """Languages with documents or sentences, the most sentences first."""
        names = set(self.documents) | set(self.sentences)
        return sorted(names, key=lambda lang: (-sum(self.sentences.get(lang, {}).values()),
                                               -self.documents.get(lang, 0), lang))


def load_report_data(output_dir: Path, run_id: str) -> ReportData:
    manifest_path = output_dir / "runs" / f"{run_id}.json"
    manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
    counts = manifest.get("counts", {})
    data = ReportData(manifest=manifest,
                      documents={lang: int(n) for lang, n in counts.get("documents", {}).items()},
                      sentences={lang: {status: int(n) for status, n in by_status.items()}
                                 for lang, by_status in counts.get("sentences", {}).items()})
    data.rejects = _rejects(output_dir, run_id, counts.get("rejects", {}))
    data.largest = _largest_documents(output_dir, run_id)
    data.samples = _samples(output_dir, run_id)
    return data


def _read(output_dir: Path, level: str, columns: list[str], files: list[str] | None = None,
          **filters: Any) -> list[dict[str, Any]] | None:
    """The run's rows of one dataset (each filter `column=value` or `column=[values]`), or None when the
    run wrote none (the dataset may not exist yet). Read with Arrow alone: a DataFrame of a large run's
    rows took longer to build than the report."""
    table = _table(output_dir, level, columns, files, **filters)
    return None if table is None else table.to_pylist()


def _table(output_dir: Path, level: str, columns: list[str], files: list[str] | None = None,
           **filters: Any):
    """The run's rows of one dataset as an Arrow table, of `files` only when given; None as for _read."""
    scan = _scan(output_dir, level, files, None, filters)
    return None if scan is None else scan[0].to_table(columns=columns, filter=scan[1])


def _batches(output_dir: Path, level: str, columns: list[str], where: Any = None, **filters: Any):
    """The run's rows of one dataset (those `where` keeps, an Arrow expression, too) batch by batch, so
    that a large run's rows are never all in memory; the column `__filename` names each row's file."""
    scan = _scan(output_dir, level, None, where, filters)
    if scan is not None:
        yield from scan[0].to_batches(columns=columns, filter=scan[1])


def _scan(output_dir: Path, level: str, files: list[str] | None, where: Any, filters: dict[str, Any]):
    """The dataset to read (None when the run wrote none: it may not exist yet) and the filter."""
    import pyarrow.compute as pc

    from pipeline.store.reader import open_dataset

    try:
        dataset = open_dataset(output_dir, level)
    except FileNotFoundError:
        return None
    if files is not None:
        dataset = _of_files(dataset, output_dir / level, files)
    conditions = [pc.field(column).isin(value) if isinstance(value, list) else pc.field(column) == value
                  for column, value in filters.items()]
    expression = where
    for condition in conditions:
        expression = condition if expression is None else expression & condition
    return dataset, expression


def _of_files(dataset, directory: Path, files: list[str]):
    """`dataset` cut down to `files`: a scan of every file of a large run costs a millisecond a file."""
    import pyarrow.dataset as ds

    return ds.dataset(files, schema=dataset.schema, format="parquet", partitioning=dataset.partitioning,
                      partition_base_dir=str(directory))


def _rejects(output_dir: Path, run_id: str, counted: dict[str, int]) -> list[RejectGroup]:
    """Rejects per reason as the manifest counted them, with a few of the run's rows as examples.

    The manifest's counts win over the dataset's: a later run that rejects the same input again
    replaces its row, and the report of this run, drawn again, should still say what this run saw.
    """
    rows = _read(output_dir, "rejects", ["source_path", "source_record", "reason", "detail"], run_id=run_id)
    examples: dict[str, list[tuple[str, str]]] = {}
    totals: dict[str, int] = dict(counted)
    found_per_reason = Counter(row["reason"] for row in rows or ())
    for reason, count in sorted(found_per_reason.items(), key=lambda item: (-item[1], item[0])):
        totals.setdefault(reason, count)
    for row in sorted(rows or (), key=lambda row: (row["reason"], _nulls_first(row["source_path"]),
                                                   _nulls_first(row["source_record"]))):
        found = examples.setdefault(row["reason"], [])
        if len(found) < REJECT_EXAMPLES:
            found.append((_source_name(row["source_path"], row["source_record"]), str(row["detail"])))
    return [RejectGroup(reason, int(count), tuple(examples.get(reason, ())))
            for reason, count in sorted(totals.items(), key=lambda item: (-item[1], item[0]))]


def _nulls_first(value: str | None) -> tuple[bool, str]:
    return value is not None, value or ""


def _source_name(path: str, record: Any) -> str:
    name = Path(str(path)).name or str(path)
    return f"{name} ({record})" if isinstance(record, str) and record else name


def _largest_documents(output_dir: Path, run_id: str) -> list[LargeDocument]:
    """The run's documents with the most sentences: sizes read first, the rest for those few only."""
    import pyarrow as pa

    order = [("n_sentences", "descending"), ("n_bytes", "descending"), ("doc_id", "ascending")]
    top: list[dict[str, Any]] = []
    for batch in _batches(output_dir, "documents", ["doc_id", "n_sentences", "n_bytes", "__filename"],
                          run_id=run_id):
        found = pa.Table.from_batches([batch]).sort_by(order).slice(0, LARGEST_DOCUMENTS).to_pylist()
        top = sorted(top + found, key=lambda row: (-row["n_sentences"], -row["n_bytes"], row["doc_id"]))
        del top[LARGEST_DOCUMENTS:]
    if not top:
        return []
    columns = ["doc_id", "source_path", "source_record", "title", "src_lang", "n_sentences", "n_bytes"]
    rows = {row["doc_id"]: row for row in _read(output_dir, "documents", columns,
                                                sorted({item["__filename"] for item in top}), run_id=run_id,
                                                doc_id=[item["doc_id"] for item in top]) or ()}
    return [LargeDocument(source=_source_name(row["source_path"], row["source_record"]),
                          title=row["title"] if isinstance(row["title"], str) else "",
                          src_lang=str(row["src_lang"]), n_sentences=int(row["n_sentences"]),
                          n_bytes=int(row["n_bytes"]))
            for row in (rows[item["doc_id"]] for item in top)]


def _rank(doc_id: str, para_id: int, sent_id: int) -> str:
    """A stable pseudo-random order, so that the sample spreads over documents and is the same each time."""
    return hashlib.sha1(f"{doc_id}:{para_id}:{sent_id}".encode()).hexdigest()


def _samples(output_dir: Path, run_id: str) -> dict[str, list[SamplePair]]:
    """A few sentences per non-English language: translated ones where there are, else what is there.

    The keys are read first and the text only for the chosen documents, so that a large run costs one
    narrow scan rather than reading all of its text.
    """
    chosen = [item for found in _sample_keys(output_dir, run_id).values() for item in found]
    if not chosen:
        return {}
    wanted = {key for _, _, key, _ in chosen}
    files = sorted({file for *_, file in chosen})
    rows = _read(output_dir, "sentences", _SAMPLE_COLUMNS, files, run_id=run_id,
                 doc_id=sorted({doc_id for doc_id, _, _ in wanted}))
    samples: dict[str, list[tuple[str, SamplePair]]] = {}
    for row in rows or ():
        if (row["doc_id"], row["para_id"], row["sent_id"]) in wanted:
            samples.setdefault(str(row["src_lang"]), []).append(
                (_rank(row["doc_id"], row["para_id"], row["sent_id"]), _pair(row)))
    return _ordered(samples)


SampleKey = tuple[bool, str, tuple[str, int, int], str]   # untranslated, rank, key, file


def _sample_keys(output_dir: Path, run_id: str) -> dict[str, list[SampleKey]]:
    """Per language but English, the keys of its sample: translated sentences first, then a stable
    pseudo-random order; each with that order and the file that holds it."""
    import pyarrow.compute as pc

    chosen: dict[str, list[SampleKey]] = {}
    for batch in _batches(output_dir, "sentences", [*_KEY_COLUMNS, "src_lang", "status", "__filename"],
                          where=pc.field("src_lang") != "en", run_id=run_id):
        found: dict[str, list[SampleKey]] = {}
        columns = (column.to_pylist() for column in batch.columns)
        for doc_id, para_id, sent_id, lang, status, file in zip(*columns):
            found.setdefault(lang, []).append(
                (status != "translated", _rank(doc_id, para_id, sent_id), (doc_id, para_id, sent_id), file))
        for lang, keys in found.items():
            chosen[lang] = heapq.nsmallest(SAMPLES_PER_LANGUAGE, chosen.get(lang, []) + keys)
    return chosen


def _ordered(samples: dict[str, list[tuple[str, SamplePair]]]) -> dict[str, list[SamplePair]]:
    """Languages with translated pairs first; within a language, translated pairs first, then by rank."""
    ordered: dict[str, list[SamplePair]] = {}
    for lang, found in sorted(samples.items()):
        found.sort(key=lambda item: (item[1].status != "translated", item[0]))
        pairs = [pair for _, pair in found]
        if not any(pair.status == "translated" for pair in pairs):
            pairs = pairs[:UNTRANSLATED_SAMPLES]
        ordered[lang] = pairs
    return dict(sorted(ordered.items(), key=lambda item: item[1][0].status != "translated"))


def _pair(row: dict[str, Any]) -> SamplePair:
    flags, ratio = row["quality_flags"], row["len_ratio"]
    return SamplePair(src_lang=str(row["src_lang"]), src_text=row["src_text"], en_text=row["en_text"],
                      status=row["status"], status_detail=row["status_detail"],
                      len_ratio=None if ratio is None or ratio != ratio else float(ratio),
                      flags=tuple(flags) if flags is not None else ())
