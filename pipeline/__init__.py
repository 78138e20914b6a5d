"""multilingual-pipeline: raw documents in any language -> aligned bilingual Parquet.

The notebook API below imports its stage lazily, so `import pipeline` stays cheap (Airflow parses DAG
files that import it, and heavy detectors or models load only when first used).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

    import pandas

    from pipeline.records import CleanedDocument

__version__ = "0.1.0"
__all__ = ["clean", "detect_language", "read_output", "split_paragraphs", "split_sentences"]


def detect_language(text: str) -> tuple[str, float]:
    """ISO 639-1 code of the language of `text` and a confidence in [0, 1] ("und" when undetermined)."""
    from pipeline.detect import detect_language as detect

    return detect(text)


def split_paragraphs(text: str) -> list[str]:
    """Paragraphs of `text`: blank-line separated or one per line, hard-wrapped prose rejoined."""
    from pipeline.segment import split_paragraphs as split

    return split(text)


def split_sentences(text: str, lang: str) -> list[str]:
    """Sentences of one paragraph, with the punctuation and abbreviation rules of `lang`."""
    from pipeline.segment import split_sentences as split

    return split(text, lang)


def clean(text: str) -> CleanedDocument:
    """Body paragraphs with web boilerplate removed; title, byline, date and attribution as metadata."""
    from pipeline.clean import clean as clean_text

    return clean_text(text)


def read_output(directory: str | Path, level: str = "sentences", **filters: Any) -> pandas.DataFrame:
    """One dataset of a pipeline output directory as a DataFrame, e.g. `read_output("output", src_lang="ar")`."""
    from pipeline.reader import read_output as read

    return read(directory, level, **filters)
