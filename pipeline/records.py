"""Typed records passed between stages, and the names and codes of what the output stores.

Every stage consumes and yields these small immutable records, so a stage can be used alone from a
notebook and the runner can stream documents through all of them without holding a batch in memory.
Nothing here imports a third-party module: the Airflow DAG file may import it when it is parsed.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Iterator, Mapping

# The datasets of an output directory, each a folder of Parquet files (their schemas: pipeline.store.schemas).
DATASETS = ("documents", "paragraphs", "sentences", "rejects", "removed")


class RejectReason(StrEnum):
    """Why an input could not become a document; stored in the `reason` column of `rejects/`."""

    UNREADABLE = "unreadable"              # the path cannot be opened or read (also a symbolic link loop)
    SPECIAL_FILE = "special_file"          # a FIFO, socket or device: never read
    OUTSIDE_INPUT = "outside_input"        # a symbolic link in an input directory that leads out of it
    NOT_FOUND = "not_found"                # an input path or glob matched nothing
    UNSUPPORTED_FORMAT = "unsupported_format"
    EMPTY = "empty"                        # zero bytes, or only whitespace
    TOO_LARGE = "too_large"                # over the configured byte limit
    BINARY = "binary"                      # not text in any supported encoding
    UNDECODABLE = "undecodable"            # text-like but no encoding decodes it cleanly
    MALFORMED_JSONL = "malformed_jsonl"    # a JSONL line that is not a JSON object with a `text` string
    NO_TEXT = "no_text"                    # decoded, but nothing left after extraction/cleaning
    DUPLICATE = "duplicate"                # same content as a document already seen in this run
    PROCESSING_ERROR = "processing_error"  # an unexpected failure in a later stage, with its message


@dataclass(frozen=True, slots=True)
class RawDocument:
    """One input document after ingest: decoded text plus provenance."""

    doc_id: str                 # stable content hash of `text` (see ingest.content_id)
    source_path: str            # the input file, as given (absolute)
    source_format: str          # "txt" | "md" | "html" | "jsonl"
    text: str                   # decoded text, NFC; for HTML the extracted main text
    encoding: str               # detected encoding of the bytes, e.g. "utf-8", "cp1256"
    n_bytes: int                # size of the source bytes of this document
    source_record: str | None = None          # JSONL: "line:<n>"
    metadata: Mapping[str, str] = field(default_factory=dict)  # title/url/date found by ingest
    record_id: str | None = None              # JSONL: the record's own `id`, if any


@dataclass(frozen=True, slots=True)
class Reject:
    """An input that could not be processed, with a specific reason and a human-readable detail."""

    source_path: str
    reason: RejectReason
    detail: str
    source_record: str | None = None    # JSONL: "line:<n>"
    record_id: str | None = None        # JSONL: the record's own `id`, if it has one


@dataclass(frozen=True, slots=True)
class RemovedLine:
    """A line that cleaning removed or moved to metadata, the rule that matched it, and its body score."""

    text: str
    rule: str                   # e.g. "navigation", "copyright", "comment_prompt", "byline", "low_score"
    score: float | None = None  # body probability of a line removed for its score ("low_score", "comments")
    # Index of the line in the document's text once every line break is "\n" (of its first line, for
    # lines of a wrapped paragraph read as one): where an audit finds it in the source.
    line_no: int | None = None


class Region(StrEnum):
    """The part of a page a paragraph belongs to; stored in the `region` column of `paragraphs/` and
    `sentences/`."""

    MAIN = "main"            # the article, or any text that is no readers' comment
    COMMENTS = "comments"    # readers' comments, forum replies, guest-book entries after the article


@dataclass(frozen=True, slots=True)
class CleanedDocument:
    """The body of a document as faithful paragraphs, with its metadata set apart."""

    paragraphs: tuple[str, ...]
    title: str | None = None
    byline: str | None = None
    published: str | None = None
    attribution: str | None = None
    removed: tuple[RemovedLine, ...] = ()
    regions: tuple[Region, ...] = ()   # one per paragraph; empty: every paragraph is MAIN
    # One per paragraph: the body score of its first line (pipeline.stages.boilerplate), as `removed`
    # gives those of lines removed for their score; empty when the page was not scored.
    line_scores: tuple[float, ...] = ()

    def region(self, index: int) -> Region:
        """The region of paragraph `index`."""
        return self.regions[index] if self.regions else Region.MAIN

    def line_score(self, index: int) -> float | None:
        """The body score of paragraph `index`'s first line; None when the page was not scored."""
        return self.line_scores[index] if self.line_scores else None

    @property
    def n_boilerplate_removed(self) -> int:
        return len(self.removed)

    @property
    def metadata_values(self) -> tuple[str, ...]:
        """The metadata found, in the order title, byline, published, attribution: text of the page that
        is kept apart from the paragraphs (a scorer of cleaning counts it as kept)."""
        return tuple(value for value in (self.title, self.byline, self.published, self.attribution) if value)


@dataclass(frozen=True, slots=True)
class LanguageGuess:
    """A language decision with its evidence, kept apart from any threshold applied later."""

    lang: str                   # ISO 639-1 code ("zh" for Chinese), or "und" when undetermined
    score: float                # confidence in [0, 1]
    method: LanguageMethod


class LanguageMethod(StrEnum):
    """How a language decision was reached; stored in the `lang_method` column."""

    DETECTED = "detected"          # the text's own detection
    INHERITED = "inherited"        # too short or unsure: took the document's language
    UNDETERMINED = "undetermined"  # no letters to detect from


class TranslationStatus(StrEnum):
    """The `status` column of `paragraphs/` and `sentences/`."""

    TRANSLATED = "translated"
    SOURCE_IS_ENGLISH = "source_is_english"   # en_text equals src_text, model null
    UNTRANSLATED = "untranslated"             # en_text null, reason in status_detail


class UntranslatedReason(StrEnum):
    """Why text is left untranslated; stored in the `status_detail` column of `paragraphs/` and
    `sentences/` (and, as the plan of a language, in the documents' `models_fingerprint`)."""

    LANGUAGE_SKIPPED = "language_skipped"            # the run's skip_langs names the language
    LANGUAGE_NOT_INCLUDED = "language_not_included"  # the run's include_langs leaves the language out
    LANGUAGE_UNDETERMINED = "language_undetermined"  # no language could be detected
    NO_MODEL_FOR_LANGUAGE = "no_model_for_language"  # no model is configured and there is no fallback
    MODEL_NOT_AVAILABLE = "model_not_available"      # a default or fallback model that cannot be loaded
    # Planning, before any model is loaded: either of the two above (the fingerprint's plan only).
    NO_USABLE_MODEL = "no_usable_model"
    EMPTY_SOURCE = "empty_source"                    # the sentence holds only whitespace
    EMPTY_OUTPUT = "empty_output"                    # the model gave no English
    PARTIAL_TRANSLATION = "partial_translation"      # a paragraph whose sentences differ in status or reason


@dataclass(frozen=True, slots=True)
class Translation:
    """The English of one source sentence, or why there is none. Never invented, never a copy."""

    en_text: str | None
    status: TranslationStatus
    model: str | None = None    # "<model id or directory>@<revision>" that produced en_text
    detail: UntranslatedReason | None = None   # for untranslated: why


# -- a document on its way through the stages: each stage adds what it found --------------------------

SentenceSpans = tuple[tuple[tuple[int, int], ...], ...]   # (start, end) of each sentence, per paragraph


@dataclass(frozen=True, slots=True)
class CleanedRecord:
    raw: RawDocument
    cleaned: CleanedDocument


@dataclass(frozen=True, slots=True)
class DetectedRecord:
    raw: RawDocument
    cleaned: CleanedDocument
    document_language: LanguageGuess
    languages: tuple[LanguageGuess, ...]    # one per paragraph


@dataclass(frozen=True, slots=True)
class SegmentedRecord:
    raw: RawDocument
    cleaned: CleanedDocument
    document_language: LanguageGuess
    languages: tuple[LanguageGuess, ...]
    spans: SentenceSpans


@dataclass(frozen=True, slots=True)
class PreparedDocument:
    """A document cleaned, detected and segmented, to be processed with the translation set-up named by
    `fingerprint` (the models each of its languages will use)."""

    raw: RawDocument
    cleaned: CleanedDocument
    document_language: LanguageGuess
    languages: tuple[LanguageGuess, ...]
    spans: SentenceSpans
    fingerprint: str

    @property
    def source(self) -> tuple[str, str | None]:
        return self.raw.source_path, self.raw.source_record

    def sentences(self) -> Iterator[tuple[str, str]]:
        """(lang, text) of every sentence, in order."""
        for paragraph, language, spans in zip(self.cleaned.paragraphs, self.languages, self.spans):
            for start, end in spans:
                yield language.lang, paragraph[start:end]


@dataclass(frozen=True, slots=True)
class TranslationFailure:
    """A sentence the translator raised on: its documents become `processing_error` rejects."""

    detail: str
