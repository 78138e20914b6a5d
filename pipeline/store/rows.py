"""Rows of the five datasets, built from aligned documents and rejects (their schemas:
pipeline.store.schemas)."""
from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from pipeline.records import PreparedDocument, Region, Reject, TranslationStatus
from pipeline.stages.align import ParagraphPair, SentencePair


def _quality(pair: SentencePair | ParagraphPair) -> dict[str, Any]:
    quality = pair.quality
    return {"len_ratio": quality.len_ratio, "numbers_match": quality.numbers_match,
            "urls_match": quality.urls_match,
            "quality_flags": None if quality.quality_flags is None else list(quality.quality_flags)}


def sentence_row(doc_id: str, pair: SentencePair, region: Region, run_id: str) -> dict[str, Any]:
    translation = pair.translation
    translated = translation.status is TranslationStatus.TRANSLATED
    if translation.status is TranslationStatus.SOURCE_IS_ENGLISH:
        en_text = pair.src_text
    else:
        en_text = translation.en_text if translated else None
    return {
        "doc_id": doc_id, "para_id": pair.para_id, "sent_id": pair.sent_id,
        "char_start": pair.char_start, "char_end": pair.char_end,
        "src_text": pair.src_text,
        "en_text": en_text,
        "status": translation.status.value,
        "status_detail": translation.detail if translation.status is TranslationStatus.UNTRANSLATED else None,
        "model": translation.model if translated else None, "region": str(region),
        **_quality(pair), "run_id": run_id, "src_lang": pair.src_lang,
    }


def paragraph_row(doc_id: str, pair: ParagraphPair, region: Region, body_score: float | None,
                  run_id: str) -> dict[str, Any]:
    return {
        "doc_id": doc_id, "para_id": pair.para_id, "lang_score": float(pair.language.score),
        "lang_method": pair.language.method, "src_text": pair.src_text, "en_text": pair.en_text,
        "status": pair.status.value, "status_detail": pair.status_detail, "model": pair.model,
        "n_sentences": pair.n_sentences, "n_sentences_translated": pair.n_sentences_translated,
        "region": str(region), "body_score": body_score, **_quality(pair), "run_id": run_id,
        "src_lang": pair.src_lang,
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


def removed_rows(document: PreparedDocument, run_id: str) -> list[dict[str, Any]]:
    """One row per line cleaning removed from `document`, in the partition of its language."""
    doc_id, src_lang = document.raw.doc_id, document.document_language.lang
    return [{"doc_id": doc_id, "line_no": line.line_no, "text": line.text, "reason": line.rule,
             "score": line.score, "run_id": run_id, "src_lang": src_lang}
            for line in document.cleaned.removed]


def reject_row(reject: Reject, run_id: str, now: datetime) -> dict[str, Any]:
    return {"source_path": reject.source_path, "source_record": reject.source_record,
            "record_id": reject.record_id,
            "reason": str(reject.reason), "detail": reject.detail, "run_id": run_id, "rejected_at": now}
