"""The five datasets' content, built from aligned documents, removed lines and rejects (their schemas:
pipeline.store.schemas): sentences, paragraphs and removed lines, by far the most numerous, as columns;
a document's and a reject's row, one each, as a dictionary (`row_columns` turns such rows into columns).
"""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pipeline.records import PreparedDocument, Region, Reject, RemovedLine, TranslationStatus
from pipeline.stages.align import ParagraphPair, SentencePair, english_of


Columns = dict[str, list[Any]]


def _quality_columns(pairs: Sequence[SentencePair | ParagraphPair]) -> Columns:
    qualities = [pair.quality for pair in pairs]
    return {"len_ratio": [quality.len_ratio for quality in qualities],
            "numbers_match": [quality.numbers_match for quality in qualities],
            "urls_match": [quality.urls_match for quality in qualities],
            "quality_flags": [None if quality.quality_flags is None else list(quality.quality_flags)
                              for quality in qualities]}


def sentence_columns(sentences: Sequence[tuple[str, SentencePair, Region]], run_id: str) -> Columns:
    """The columns of sentences/ for each (doc_id, pair, region of its paragraph).

    Built column by column rather than as a dictionary a row: on the benchmark's real pages the rows
    took longer to build and to read back by column than Arrow takes to convert the columns."""
    pairs = [pair for _, pair, _ in sentences]
    translations = [pair.translation for pair in pairs]
    return {
        "doc_id": [doc_id for doc_id, _, _ in sentences],
        "para_id": [pair.para_id for pair in pairs], "sent_id": [pair.sent_id for pair in pairs],
        "char_start": [pair.char_start for pair in pairs], "char_end": [pair.char_end for pair in pairs],
        "src_text": [pair.src_text for pair in pairs],
        "en_text": [english_of(translation, pair.src_text) for pair, translation in zip(pairs, translations)],
        "status": [translation.status.value for translation in translations],
        "status_detail": [translation.detail if translation.status is TranslationStatus.UNTRANSLATED
                          else None for translation in translations],
        "model": [translation.model if translation.status is TranslationStatus.TRANSLATED else None
                  for translation in translations],
        "region": [str(region) for _, _, region in sentences],
        **_quality_columns(pairs), "run_id": [run_id] * len(pairs),
        "src_lang": [pair.src_lang for pair in pairs],
    }


def paragraph_columns(paragraphs: Sequence[tuple[str, ParagraphPair, Region, float | None]],
                      run_id: str) -> Columns:
    """The columns of paragraphs/ for each (doc_id, pair, region, body score of its first line)."""
    pairs = [pair for _, pair, _, _ in paragraphs]
    return {
        "doc_id": [doc_id for doc_id, _, _, _ in paragraphs],
        "para_id": [pair.para_id for pair in pairs],
        "lang_score": [float(pair.language.score) for pair in pairs],
        "lang_method": [pair.language.method for pair in pairs],
        "src_text": [pair.src_text for pair in pairs],
        "en_text": [pair.en_text for pair in pairs], "status": [pair.status.value for pair in pairs],
        "status_detail": [pair.status_detail for pair in pairs], "model": [pair.model for pair in pairs],
        "n_sentences": [pair.n_sentences for pair in pairs],
        "n_sentences_translated": [pair.n_sentences_translated for pair in pairs],
        "region": [str(region) for _, _, region, _ in paragraphs],
        "body_score": [body_score for _, _, _, body_score in paragraphs],
        **_quality_columns(pairs), "run_id": [run_id] * len(pairs),
        "src_lang": [pair.src_lang for pair in pairs],
    }


def document_row(document: PreparedDocument, paragraphs: Sequence[ParagraphPair],
                 sentences: Sequence[SentencePair], run_id: str, now: datetime) -> dict[str, Any]:
    raw, cleaned = document.raw, document.cleaned
    # Lists counted, rather than Counters: building the two Counters (each first checks whether its
    # iterator is a Mapping) took most of this function's time on short records.
    statuses = [pair.translation.status for pair in sentences]
    paragraph_langs = [pair.src_lang for pair in paragraphs]
    models = sorted({pair.translation.model for pair in sentences
                     if pair.translation.model and pair.translation.status is TranslationStatus.TRANSLATED})
    return {
        "doc_id": raw.doc_id, "source_path": raw.source_path, "source_record": raw.source_record,
        "record_id": raw.record_id,
        "source_format": raw.source_format, "encoding": raw.encoding, "n_bytes": raw.n_bytes,
        "url": raw.metadata.get("url"),
        "lang_score": float(document.document_language.score),
        "lang_method": document.document_language.method,
        # Most paragraphs first; between equals, the language met first.
        "paragraph_langs": sorted(dict.fromkeys(paragraph_langs), key=paragraph_langs.count, reverse=True),
        "title": cleaned.title or raw.metadata.get("title"), "byline": cleaned.byline,
        "published": cleaned.published or raw.metadata.get("date"), "attribution": cleaned.attribution,
        "n_paragraphs": len(paragraphs), "n_sentences": len(sentences),
        "n_sentences_translated": statuses.count(TranslationStatus.TRANSLATED),
        "n_sentences_untranslated": statuses.count(TranslationStatus.UNTRANSLATED),
        "n_boilerplate_removed": cleaned.n_boilerplate_removed,
        "models": models, "models_fingerprint": document.fingerprint,
        "run_id": run_id, "processed_at": now, "src_lang": document.document_language.lang,
    }


def removed_columns(lines: Sequence[tuple[PreparedDocument, RemovedLine]], run_id: str) -> Columns:
    """The columns of removed/ for each line cleaning removed, beside its document: in the partition of
    the document's language."""
    removed = [line for _, line in lines]
    return {"doc_id": [document.raw.doc_id for document, _ in lines],
            "line_no": [line.line_no for line in removed], "text": [line.text for line in removed],
            "reason": [line.rule for line in removed], "score": [line.score for line in removed],
            "run_id": [run_id] * len(removed),
            "src_lang": [document.document_language.lang for document, _ in lines]}


def row_columns(rows: Sequence[dict[str, Any]]) -> Columns:
    """Rows built as dictionaries (one or more, all with the keys of the first), as columns."""
    return {name: [row[name] for row in rows] for name in rows[0]}


def reject_row(reject: Reject, run_id: str, now: datetime) -> dict[str, Any]:
    return {"source_path": reject.source_path, "source_record": reject.source_record,
            "record_id": reject.record_id,
            "reason": str(reject.reason), "detail": reject.detail, "run_id": run_id, "rejected_at": now}
