"""Hugging Face datasets layout: one Parquet directory per language pair, `<lang>-en/train-*.parquet`,
each loadable with `datasets.load_dataset("parquet", data_dir=...)`, and a dataset card (README.md)
whose `configs` make `load_dataset(DIR, "<lang>-en")` work too.

Language pairs are configs, not splits of one table: the `translation` column's fields are the pair's
languages, so two pairs have two different schemas and could not be one table.
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.export.pairs import ExportReport, Pair
from pipeline.export.writer import PairWriter

FILE_NAME = "train-00000-of-00001.parquet"


def _schema(unit: str, source: str, target: str) -> pa.Schema:
    ids = [pa.field("doc_id", pa.string()), pa.field("para_id", pa.int32())]
    if unit == "sentence":
        ids.append(pa.field("sent_id", pa.int32()))
    translation = pa.struct([pa.field(source, pa.string()), pa.field(target, pa.string())])
    return pa.schema([pa.field("translation", translation), *ids, pa.field("src_lang", pa.string()),
                      pa.field("model", pa.string()), pa.field("run_id", pa.string())])


class HfWriter(PairWriter):
    """Buffers one scanned batch per language and writes it as a row group."""

    def __init__(self, *args: Any, filters: list[str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._filters = filters or []
        self._buffers: dict[str, list[Pair]] = {}

    def write(self, pairs: list[Pair], report: ExportReport) -> None:
        for pair in pairs:
            self._buffers.setdefault(pair.lang, []).append(pair)
        for lang, buffered in self._buffers.items():
            if buffered:
                handle = self._handles.get(lang)
                if handle is None:
                    handle = self._handles[lang] = self.open(lang)
                handle.write_table(self._table(lang, buffered))
                report.written[lang] += len(buffered)
                buffered.clear()

    def open(self, lang: str) -> pq.ParquetWriter:
        directory = self.to / self.stem(lang)
        directory.mkdir(parents=True, exist_ok=True)
        path = directory / FILE_NAME
        self.files.append(path)
        return pq.ParquetWriter(path, _schema(self.unit, *self.sides(lang)), compression="zstd")

    def _table(self, lang: str, pairs: list[Pair]) -> pa.Table:
        source, target = self.sides(lang)
        columns: dict[str, list[Any]] = {
            "translation": [{source: pair.source, target: pair.english} for pair in pairs],
            "doc_id": [pair.doc_id for pair in pairs],
            "para_id": [pair.para_id for pair in pairs],
        }
        if self.unit == "sentence":
            columns["sent_id"] = [pair.sent_id for pair in pairs]
        columns["src_lang"] = [lang] * len(pairs)
        columns["model"] = [pair.model for pair in pairs]
        columns["run_id"] = [pair.run_id for pair in pairs]
        return pa.Table.from_pydict(columns, schema=_schema(self.unit, source, target))

    def close(self, report: ExportReport) -> list[Path]:
        files = super().close(report)
        card = self.to / "README.md"
        written = sorted(lang for lang, count in report.written.items() if count)
        card.write_text(dataset_card(report, self._filters, written), encoding="utf-8")
        return [*files, card]


def _yaml_list(items: list[str], indent: str = "") -> str:
    return "".join(f"{indent}- {json.dumps(item)}\n" for item in items)


def dataset_card(report: ExportReport, filters: list[str], langs: list[str]) -> str:
    """README.md: YAML metadata the Hub and `datasets` read, then the run, models and filters in words."""
    header = "---\nlanguage:\n" + _yaml_list(sorted({*langs, "en"}))
    header += "license: other\nlicense_name: unknown\ntask_categories:\n- translation\n"
    header += f"pretty_name: multilingual-pipeline {report.unit} pairs\nconfigs:\n"
    for lang in langs:
        stem = PairWriter.stem(lang)
        header += (f"- config_name: {stem}\n  data_files:\n  - split: train\n"
                   f"    path: {stem}/*.parquet\n")
    header += "---\n"
    counts = "\n".join(f"| {PairWriter.stem(lang)} | {report.written[lang]} |" for lang in langs)
    body = [
        f"# multilingual-pipeline {report.unit} pairs",
        "",
        f"Aligned {report.unit} pairs (source beside its English machine translation) exported from the "
        "Parquet output of multilingual-pipeline. The licence of the text is that of the source "
        "documents, which this export does not know.",
        "",
        "| config | pairs |", "|---|---|", counts or "| (none) | 0 |",
        "",
        "## Runs", "", _bullets(sorted(report.run_ids)),
        "## Models", "", _bullets(sorted(report.models)),
        "## Filters", "", _bullets(filters),
        "## Rows removed", "",
        _bullets([f"{name}: {count}" for name, count in report.removed.items()]),
        "## Loading", "",
        "```python\nimport datasets\n"
        + (f'datasets.load_dataset("parquet", data_dir="{PairWriter.stem(langs[0])}")\n' if langs else "")
        + "```",
    ]
    return header + "\n".join(body) + "\n"


def _bullets(items: list[str]) -> str:
    return "".join(f"- {item}\n" for item in items) if items else "- (none)\n"
