"""Export the aligned pairs of an output directory to the formats MT and corpus tools read.

```python
from pipeline.export import ExportFilters, export_pairs
report = export_pairs("output", "bitext", "tmx", filters=ExportFilters(require={"numbers_match"}))
print("\\n".join(report.lines()))
```
Formats: `tmx` (TMX 1.4b), `moses` (line-aligned plain text), `hf` (Hugging Face Parquet layout with
a dataset card), `jsonl`. Rows are read batch by batch and written as they come, so memory stays flat
however large the output; only `dedup` grows, by a 16-byte digest per distinct pair and per distinct
source (about 150 bytes a pair with Python's overhead).

The functions load on first use (PEP 562), so that the command line's parser imports no pyarrow.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from pipeline.records import TranslationStatus

if TYPE_CHECKING:
    from pipeline.export.api import export_pairs  # noqa: F401
    from pipeline.export.filters import ExportError, ExportFilters  # noqa: F401
    from pipeline.export.pairs import ExportReport, Pair  # noqa: F401

FORMATS = ("tmx", "moses", "hf", "jsonl")
REQUIRABLE_SIGNALS = ("numbers_match", "urls_match")
STATUSES = tuple(status.value for status in TranslationStatus)
UNITS = {"sentence": "sentences", "paragraph": "paragraphs"}   # unit -> dataset it is read from
_LAZY = {
    "export_pairs": "pipeline.export.api",
    "ExportError": "pipeline.export.filters",
    "ExportFilters": "pipeline.export.filters",
    "ExportReport": "pipeline.export.pairs",
    "Pair": "pipeline.export.pairs",
}
__all__ = ["FORMATS", "REQUIRABLE_SIGNALS", "STATUSES", "UNITS", *_LAZY]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
