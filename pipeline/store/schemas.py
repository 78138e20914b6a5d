"""Explicit Arrow schemas of the five output datasets, with a description stored on every field.

`SCHEMAS[name]` is the schema a reader sees (partition columns included). The Parquet files hold
`file_schema(name)`: the same fields minus the Hive partition column, whose value lives in the
directory name (`src_lang=ar/`) so that it is never stored twice with two different types.
"""
from __future__ import annotations

from collections.abc import Collection, Iterator

import pyarrow as pa

from pipeline.records import DATASETS  # noqa: F401 (re-exported beside the schemas, as before)

SCHEMA_VERSION = "1"

_TIMESTAMP = pa.timestamp("us", tz="UTC")
# Parquet names the item of a list "element"; declaring it so keeps the schema read back identical.
_STRINGS = pa.list_(pa.field("element", pa.string()))


def _field(name: str, type_: pa.DataType, description: str, nullable: bool = True) -> pa.Field:
    return pa.field(name, type_, nullable=nullable, metadata={"description": description})


def _schema(dataset: str, description: str, fields: list[pa.Field]) -> pa.Schema:
    return pa.schema(fields, metadata={
        "pipeline.dataset": dataset,
        "pipeline.schema_version": SCHEMA_VERSION,
        "description": description,
    })


_QUALITY_FIELDS = [
    _field("len_ratio", pa.float64(),
           "English characters / script-weighted source characters (Han x3, Hangul x2.5, kana x2, "
           "others x1); about 1 for a plausible translation; null unless status is translated"),
    _field("numbers_match", pa.bool_(),
           "the numbers of the source (Arabic-Indic, Persian and full-width digits normalised, "
           "separators ignored) equal those of the English; null unless translated"),
    _field("urls_match", pa.bool_(),
           "every URL and e-mail address of the source appears in the English and vice versa; "
           "null unless translated"),
    _field("quality_flags", _STRINGS,
           "warnings raised by the signals above: length_ratio_low, length_ratio_high, "
           "numbers_mismatch, urls_mismatch, repeated_words, copied_source, output_not_latin; "
           "empty when none, null unless translated; bidi_controls (the source holds bidirectional "
           "controls) on any row"),
]

_REGION_FIELD = _field(
    "region", pa.string(),
    "main (the article, or any text that is no readers' comment) | comments (readers' comments, forum "
    "replies, guest-book entries below the article)", nullable=False)

_STATUS_FIELDS = [
    _field("status", pa.string(), "translated | source_is_english | untranslated", nullable=False),
    _field("status_detail", pa.string(),
           "why the text is untranslated (no_model_for_language, language_not_included, "
           "language_skipped, language_undetermined, partial_translation, ...); null otherwise"),
    _field("model", pa.string(), "model that produced en_text, as MODEL@REVISION; null unless translated"),
]

DOCUMENTS = _schema("documents", "one row per accepted document", [
    _field("doc_id", pa.string(), "stable content hash of the decoded text", nullable=False),
    _field("source_path", pa.string(),
           "input file the document came from (absolute; bytes that are not UTF-8 as \\xNN escapes, "
           "bidirectional controls as \\u202e escapes)", nullable=False),
    _field("source_record", pa.string(), "record within the file (JSONL: line:N); null for whole files"),
    _field("record_id", pa.string(),
           "the JSONL record's own id field, if any (bidirectional controls as \\u202e escapes)"),
    _field("source_format", pa.string(), "txt | md | html | jsonl", nullable=False),
    _field("encoding", pa.string(), "detected encoding of the source bytes"),
    _field("n_bytes", pa.int64(), "size of the source bytes of this document", nullable=False),
    _field("url", pa.string(), "URL found in the source metadata, if any"),
    _field("lang_score", pa.float64(), "confidence of the document language, in [0, 1]", nullable=False),
    _field("lang_method", pa.string(), "detected | inherited | undetermined"),
    _field("paragraph_langs", _STRINGS, "distinct languages of the paragraphs, most frequent first"),
    _field("title", pa.string(), "title found by cleaning or in the source metadata"),
    _field("byline", pa.string(), "author line removed from the body"),
    _field("published", pa.string(), "publication date as found in the text"),
    _field("attribution", pa.string(), "source/credit line removed from the body"),
    _field("n_paragraphs", pa.int32(), "paragraph rows of this document", nullable=False),
    _field("n_sentences", pa.int32(), "sentence rows of this document", nullable=False),
    _field("n_sentences_translated", pa.int32(), "sentence rows with status translated", nullable=False),
    _field("n_sentences_untranslated", pa.int32(), "sentence rows with status untranslated", nullable=False),
    _field("n_boilerplate_removed", pa.int32(), "lines removed by cleaning (navigation, footers, ...)",
           nullable=False),
    _field("models", _STRINGS, "models that produced this document's English"),
    _field("models_fingerprint", pa.string(),
           "hash of the translation set-up per language; a change makes a later run reprocess the document",
           nullable=False),
    _field("run_id", pa.string(), "run that wrote this row", nullable=False),
    _field("processed_at", _TIMESTAMP, "when this row was produced (UTC)", nullable=False),
    _field("src_lang", pa.string(), "language of the document (ISO 639-1, und when undetermined); partition",
           nullable=False),
])

PARAGRAPHS = _schema("paragraphs", "one row per source paragraph, beside its English", [
    _field("doc_id", pa.string(), "document of this paragraph", nullable=False),
    _field("para_id", pa.int32(), "0-based position of the paragraph in the cleaned document",
           nullable=False),
    _field("lang_score", pa.float64(), "confidence of src_lang, in [0, 1]", nullable=False),
    _field("lang_method", pa.string(), "detected | inherited (too short; the document's) | undetermined"),
    _field("src_text", pa.string(), "the cleaned source paragraph", nullable=False),
    _field("en_text", pa.string(),
           "English: the sentence translations joined by a space; src_text when English; "
           "null unless every sentence has English"),
    *_STATUS_FIELDS,
    _field("n_sentences", pa.int32(), "sentence rows of this paragraph", nullable=False),
    _field("n_sentences_translated", pa.int32(), "of which translated", nullable=False),
    _REGION_FIELD,
    _field("body_score", pa.float64(),
           "body score of the paragraph's first line in [0, 1], as cleaning computed it (compare "
           "removed.score); null where the page was not scored"),
    *_QUALITY_FIELDS,
    _field("run_id", pa.string(), "run that wrote this row", nullable=False),
    _field("src_lang", pa.string(), "language of the paragraph; partition", nullable=False),
])

SENTENCES = _schema("sentences", "one row per source sentence, beside its English", [
    _field("doc_id", pa.string(), "document of this sentence", nullable=False),
    _field("para_id", pa.int32(), "0-based position of the paragraph in the document", nullable=False),
    _field("sent_id", pa.int32(), "0-based position of the sentence in its paragraph", nullable=False),
    _field("char_start", pa.int32(), "offset of the sentence in the paragraph's src_text", nullable=False),
    _field("char_end", pa.int32(), "end offset (exclusive): src_text = paragraph[char_start:char_end]",
           nullable=False),
    _field("src_text", pa.string(), "the source sentence", nullable=False),
    _field("en_text", pa.string(), "its English; src_text when English; null when untranslated"),
    *_STATUS_FIELDS,
    _REGION_FIELD,
    *_QUALITY_FIELDS,
    _field("run_id", pa.string(), "run that wrote this row", nullable=False),
    _field("src_lang", pa.string(), "language of the sentence (that of its paragraph); partition",
           nullable=False),
])

REJECTS = _schema("rejects", "one row per input that could not become a document", [
    _field("source_path", pa.string(), "input file or pattern (escaped as in documents)", nullable=False),
    _field("source_record", pa.string(), "record within the file (JSONL: line:N); null for whole files"),
    _field("record_id", pa.string(),
           "the JSONL record's own id field, if any (bidirectional controls as \\u202e escapes)"),
    _field("reason", pa.string(),
           "not_found | unreadable | special_file | outside_input | unsupported_format | empty | too_large | "
           "binary | undecodable | malformed_jsonl | no_text | duplicate | processing_error", nullable=False),
    _field("detail", pa.string(), "human-readable explanation", nullable=False),
    _field("run_id", pa.string(), "run that wrote this row", nullable=False),
    _field("rejected_at", _TIMESTAMP, "when the input was rejected (UTC)", nullable=False),
])

REMOVED = _schema("removed", "one row per line cleaning removed from a document, or moved to its metadata", [
    _field("doc_id", pa.string(), "document the line was removed from", nullable=False),
    _field("line_no", pa.int32(),
           "0-based index of the line in the document's text once every line break is a newline (of the "
           "first line, for lines of a wrapped paragraph read as one)", nullable=False),
    _field("text", pa.string(), "the line, repaired and with whitespace collapsed", nullable=False),
    _field("reason", pa.string(),
           "the rule that removed it: copyright, licence, browser_note, cookie_banner, captcha, "
           "comment_prompt, share_prompt, newsletter, section_header, related_link, page_stamp, "
           "navigation, interface, title, repeated_title, byline, attribution, published (the last five "
           "moved to the document's metadata), repeated_in_site (in several pages of one site), "
           "low_score (body score below the threshold), comments (readers' comments, comments=drop)",
           nullable=False),
    _field("score", pa.float64(),
           "body score of the line, in [0, 1], where it decided (low_score, comments) and was computed; "
           "null otherwise"),
    _field("run_id", pa.string(), "run that wrote this row", nullable=False),
    _field("src_lang", pa.string(), "language of the document; partition", nullable=False),
])

SCHEMAS: dict[str, pa.Schema] = {
    "documents": DOCUMENTS,
    "paragraphs": PARAGRAPHS,
    "sentences": SENTENCES,
    "rejects": REJECTS,
    "removed": REMOVED,
}

PARTITION_COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": ("src_lang",),
    "paragraphs": ("src_lang",),
    "sentences": ("src_lang",),
    "rejects": (),
    "removed": ("src_lang",),
}


def file_schema(dataset: str) -> pa.Schema:
    """The schema stored in each Parquet file of `dataset`: all fields but the partition columns."""
    schema = SCHEMAS[dataset]
    for name in PARTITION_COLUMNS[dataset]:
        schema = schema.remove(schema.get_field_index(name))
    return schema


def partition_schema(dataset: str) -> pa.Schema:
    """Types of the Hive partition columns of `dataset` (strings, never inferred)."""
    schema = SCHEMAS[dataset]
    return pa.schema([schema.field(name).remove_metadata() for name in PARTITION_COLUMNS[dataset]])


def describe(dataset: str) -> dict[str, str]:
    """Column name -> description, as stored in the schema."""
    return {field.name: field.metadata[b"description"].decode() for field in SCHEMAS[dataset]}


def parquet_column_paths(schema: pa.Schema, leaving_out: Collection[str] = ()) -> list[str]:
    """The Parquet column paths of `schema`'s fields (`name`, `name.list.element`, `name.key_value.key`,
    `name.child`), but those of the fields named in `leaving_out`."""
    return [path for field in schema if field.name not in leaving_out for path in _leaf_paths(field)]


def _leaf_paths(field: pa.Field, prefix: str = "") -> Iterator[str]:
    path, kind = prefix + field.name, field.type
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        yield from _leaf_paths(pa.field("element", kind.value_type), f"{path}.list.")
    elif pa.types.is_map(kind):
        yield from _leaf_paths(kind.key_field, f"{path}.key_value.")
        yield from _leaf_paths(kind.item_field, f"{path}.key_value.")
    elif pa.types.is_struct(kind):
        for child in kind:
            yield from _leaf_paths(child, f"{path}.")
    else:
        yield path
