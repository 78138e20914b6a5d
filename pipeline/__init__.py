"""multilingual-pipeline: raw documents in any language -> aligned bilingual Parquet.

The notebook API (`clean`, `split_paragraphs`, `split_sentences`, `detect_language`, `read_output`,
`current_snapshot`) is re-exported from the stages and the store, and loaded on first use (PEP 562):
importing the package, as the Airflow DAG file does each time it is parsed, loads none of the stages,
their libraries or their compiled patterns.

The package's layers: `stages/` (one module per step of a document's way: ingest, clean, detect,
segment, translate, align, write), `phases/` (the stages grouped into the tasks of a run), `store/` (the
datasets, the work area and the translation store on disk), `models/` (the translation model registry,
the hub, conversion and the test model), `airflow/` (what the DAG files read), and at the base the
records, the settings and the command line.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.stages.clean import clean
    from pipeline.stages.detect import detect_language
    from pipeline.stages.segment import split_paragraphs, split_sentences
    from pipeline.store.reader import read_output
    from pipeline.store.snapshots import current_snapshot

__version__ = "0.1.0"
# Each function of the notebook API, and the module that defines it.
_LAZY = {
    "clean": "pipeline.stages.clean",
    "current_snapshot": "pipeline.store.snapshots",
    "detect_language": "pipeline.stages.detect",
    "read_output": "pipeline.store.reader",
    "split_paragraphs": "pipeline.stages.segment",
    "split_sentences": "pipeline.stages.segment",
}
__all__ = ["clean", "current_snapshot", "detect_language", "read_output", "split_paragraphs",
           "split_sentences"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    function = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = function  # found directly from now on
    return function


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})
