"""What a run report shows, gathered from the run's manifest and the run's rows in the datasets.

The project modules this package depends on are imported here and only here, inside the functions,
so that moving them touches one file and importing the report costs nothing until it is drawn.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

STATUSES = ("translated", "source_is_english", "untranslated")
SAMPLES_PER_LANGUAGE = 4
# Fewer rows for a language without English: its source alone says little more after two.
UNTRANSLATED_SAMPLES = 2
LARGEST_DOCUMENTS = 8
REJECT_EXAMPLES = 3
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


def _read(output_dir: Path, level: str, columns: list[str], **filters: Any):
    """The run's rows of one dataset, or None when the run wrote none (the dataset may not exist yet)."""
    from pipeline.store.reader import read_output

    try:
        return read_output(output_dir, level, columns=columns, **filters)
    except FileNotFoundError:
        return None


def _rejects(output_dir: Path, run_id: str, counted: dict[str, int]) -> list[RejectGroup]:
    """Rejects per reason as the manifest counted them, with a few of the run's rows as examples.

    The manifest's counts win over the dataset's: a later run that rejects the same input again
    replaces its row, and the report of this run, drawn again, should still say what this run saw.
    """
    rows = _read(output_dir, "rejects", ["source_path", "source_record", "reason", "detail"], run_id=run_id)
    examples: dict[str, list[tuple[str, str]]] = {}
    totals: dict[str, int] = dict(counted)
    if rows is not None:
        rows = rows.sort_values(["reason", "source_path", "source_record"], na_position="first")
        for reason, count in rows["reason"].value_counts().items():
            totals.setdefault(reason, int(count))
        for row in rows.itertuples(index=False):
            found = examples.setdefault(row.reason, [])
            if len(found) < REJECT_EXAMPLES:
                found.append((_source_name(row.source_path, row.source_record), str(row.detail)))
    return [RejectGroup(reason, int(count), tuple(examples.get(reason, ())))
            for reason, count in sorted(totals.items(), key=lambda item: (-item[1], item[0]))]


def _source_name(path: str, record: Any) -> str:
    name = Path(str(path)).name or str(path)
    return f"{name} ({record})" if isinstance(record, str) and record else name


def _largest_documents(output_dir: Path, run_id: str) -> list[LargeDocument]:
    columns = ["doc_id", "source_path", "source_record", "title", "src_lang", "n_sentences", "n_bytes"]
    rows = _read(output_dir, "documents", columns, run_id=run_id)
    if rows is None or rows.empty:
        return []
    rows = rows.sort_values(["n_sentences", "n_bytes", "doc_id"], ascending=[False, False, True])
    return [LargeDocument(source=_source_name(row.source_path, row.source_record),
                          title=row.title if isinstance(row.title, str) else "",
                          src_lang=str(row.src_lang), n_sentences=int(row.n_sentences),
                          n_bytes=int(row.n_bytes))
            for row in rows.head(LARGEST_DOCUMENTS).itertuples(index=False)]


def _rank(doc_id: str, para_id: int, sent_id: int) -> str:
    """A stable pseudo-random order, so that the sample spreads over documents and is the same each time."""
    return hashlib.sha1(f"{doc_id}:{para_id}:{sent_id}".encode()).hexdigest()


def _samples(output_dir: Path, run_id: str) -> dict[str, list[SamplePair]]:
    """A few sentences per non-English language: translated ones where there are, else what is there.

    The keys are read first and the text only for the chosen documents, so that a large run costs one
    narrow scan rather than reading all of its text.
    """
    keys = _read(output_dir, "sentences", ["doc_id", "para_id", "sent_id", "src_lang", "status"],
                 run_id=run_id)
    if keys is None or keys.empty:
        return {}
    keys = keys[keys["src_lang"].astype(str) != "en"]
    keys = keys.assign(src_lang=keys["src_lang"].astype(str), rank=[
        _rank(*key) for key in zip(keys["doc_id"], keys["para_id"], keys["sent_id"])])
    keys = keys.assign(untranslated=keys["status"] != "translated")
    keys = keys.sort_values(["src_lang", "untranslated", "rank"])
    chosen = keys.groupby("src_lang", sort=True).head(SAMPLES_PER_LANGUAGE)
    if chosen.empty:
        return {}
    wanted = set(zip(chosen["doc_id"], chosen["para_id"], chosen["sent_id"]))
    rows = _read(output_dir, "sentences", _SAMPLE_COLUMNS, run_id=run_id,
                 doc_id=sorted(set(chosen["doc_id"])))
    samples: dict[str, list[tuple[str, SamplePair]]] = {}
    for row in rows.itertuples(index=False):
        if (row.doc_id, row.para_id, row.sent_id) in wanted:
            samples.setdefault(str(row.src_lang), []).append(
                (_rank(row.doc_id, row.para_id, row.sent_id), _pair(row)))
    return _ordered(samples)


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


def _pair(row: Any) -> SamplePair:
    flags = row.quality_flags
    ratio = row.len_ratio
    return SamplePair(src_lang=str(row.src_lang), src_text=row.src_text,
                      en_text=row.en_text if isinstance(row.en_text, str) else None,
                      status=row.status,
                      status_detail=row.status_detail if isinstance(row.status_detail, str) else None,
                      len_ratio=None if ratio is None or ratio != ratio else float(ratio),
                      flags=tuple(flags) if flags is not None else ())
