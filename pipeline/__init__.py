"""multilingual-pipeline: raw documents in any language -> aligned bilingual Parquet.

The notebook API is cheap to import: the text stages are plain Python, and detectors, models and
pyarrow load only when first used.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import pandas


# Bound after the submodule imports so that `pipeline.clean` names the function, not the module.
from pipeline.clean import clean
from pipeline.segment import split_paragraphs, split_sentences

__version__ = "0.1.0"
__all__ = ["clean", "detect_language", "read_output", "split_paragraphs", "split_sentences"]


def detect_language(text: str) -> tuple[str, float]:
    """ISO 639-1 code of the language of `text` and a confidence in [0, 1] ("und" when undetermined)."""
    from pipeline.detect import detect_language as detect

    return detect(text)


def read_output(directory: str | Path, level: str = "sentences", **filters: Any) -> pandas.DataFrame:
    """One dataset of an output directory as a DataFrame: `read_output("output", src_lang="ar")`."""
    from pipeline.reader import read_output as read

    return read(directory, level, **filters)
