"""`export_pairs`: read, filter and write in one streaming pass."""
from __future__ import annotations

from pathlib import Path
from typing import Callable

from pipeline.export import FORMATS, UNITS
from pipeline.export.filters import ExportError, ExportFilters
from pipeline.export.hf import HfWriter
from pipeline.export.jsonl import JsonlWriter
from pipeline.export.moses import MosesWriter
from pipeline.export.pairs import ExportReport, read_pairs
from pipeline.export.tmx import TmxWriter
from pipeline.export.writer import PairWriter

WRITERS: dict[str, Callable[..., PairWriter]] = {
    "tmx": TmxWriter,
    "moses": MosesWriter,
    "hf": HfWriter,
    "jsonl": JsonlWriter,
}
assert tuple(WRITERS) == FORMATS


def use_system_memory_pool() -> None:
    """Make the C library's allocator Arrow's for the rest of the process.

    Arrow's default (mimalloc) keeps the pages each reader thread freed, so a long scan's resident
    memory grows with the number of files read although the batches in flight stay few; the system
    allocator hands them back. This is a process-wide setting: the command line and the Airflow task,
    whose processes only export, call it; a notebook may.
    """
    import pyarrow as pa

    pa.set_memory_pool(pa.system_memory_pool())


def export_pairs(output: str | Path, to: str | Path, fmt: str, unit: str = "sentence",
                 filters: ExportFilters | None = None) -> ExportReport:
    """Write the pairs of `output` that pass `filters` to the directory `to` in format `fmt`.

    `unit` is `sentence` (the sentences dataset) or `paragraph` (the paragraphs dataset). Raises
    ExportError for settings the output cannot satisfy (an unknown format, `region` without a region
    column), FileNotFoundError when `output` has no such dataset.
    """
    if fmt not in WRITERS:
        raise ExportError(f"format must be one of {', '.join(FORMATS)}, got {fmt!r}")
    if unit not in UNITS:
        raise ExportError(f"unit must be one of {', '.join(UNITS)}, got {unit!r}")
    filters = filters or ExportFilters()
    target = Path(to)
    report = ExportReport(fmt=fmt, unit=unit, to=target)
    pairs = read_pairs(Path(output), unit, filters, report)
    first = next(pairs, None)   # settings the output cannot satisfy fail before the target is created
    target.mkdir(parents=True, exist_ok=True)
    options = {"filters": filters.describe()} if fmt in ("tmx", "hf") else {}
    writer = WRITERS[fmt](target, unit, **options)
    try:
        if first is not None:
            writer.write(first, report)
        for batch in pairs:
            writer.write(batch, report)
    finally:
        report.files = writer.close(report)
    return report
