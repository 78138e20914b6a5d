"""Rows of every dataset, and a shard committed from them, for the tests of the output store."""
from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa

from pipeline.store.output import OutputStore, part_key
from pipeline.store.schemas import SCHEMAS

NOW = datetime(2026, 11, 22, 7, 30, tzinfo=timezone.utc)


def document(doc_id: str, lang: str, run_id: str = "r1", fingerprint: str = "f1",
             source_path: str | None = None) -> dict:
    return {
        "doc_id": doc_id, "source_path": source_path or f"/in/{doc_id}.txt", "source_record": None,
        "source_format": "txt", "encoding": "utf-8", "n_bytes": 10, "url": None, "lang_score": 0.9,
        "lang_method": "detected", "paragraph_langs": [lang], "title": None, "byline": None,
        "published": None, "attribution": None, "n_paragraphs": 1, "n_sentences": 2,
        "n_sentences_translated": 0, "n_sentences_untranslated": 0, "n_boilerplate_removed": 0,
        "models": [], "models_fingerprint": fingerprint, "run_id": run_id, "processed_at": NOW,
        "src_lang": lang,
    }


def paragraph(doc_id: str, lang: str, run_id: str = "r1") -> dict:
    return {
        "doc_id": doc_id, "para_id": 0, "lang_score": 0.9, "lang_method": "detected", "src_text": "A. B.",
        "en_text": "A. B.", "status": "source_is_english", "status_detail": None, "model": None,
        "n_sentences": 2, "n_sentences_translated": 0, "region": "main", "body_score": 0.9, "len_ratio": None,
        "numbers_match": None,
        "urls_match": None, "quality_flags": None, "run_id": run_id, "src_lang": lang,
    }


def sentence(doc_id: str, lang: str, sent_id: int, run_id: str = "r1") -> dict:
    return {
        "doc_id": doc_id, "para_id": 0, "sent_id": sent_id, "char_start": 3 * sent_id,
        "char_end": 3 * sent_id + 2, "src_text": "A.", "en_text": "A.", "status": "source_is_english",
        "status_detail": None, "model": None, "region": "main",
        "len_ratio": None, "numbers_match": None, "urls_match": None, "quality_flags": None,
        "run_id": run_id, "src_lang": lang,
    }


def removed_line(doc_id: str, lang: str, run_id: str = "r1") -> dict:
    return {"doc_id": doc_id, "line_no": 0, "text": "Home | News", "reason": "navigation", "score": None,
            "run_id": run_id, "src_lang": lang}


def reject(path: str, reason: str, run_id: str = "r1") -> dict:
    return {"source_path": path, "source_record": None, "reason": reason, "detail": "d", "run_id": run_id,
            "rejected_at": NOW}


def shard_tables(docs: list[tuple[str, str]], rejects: list[dict] = (),
                 run_id: str = "r1") -> dict[str, pa.Table]:
    rows = {
        "documents": [document(doc_id, lang, run_id) for doc_id, lang in docs],
        "paragraphs": [paragraph(doc_id, lang, run_id) for doc_id, lang in docs],
        "sentences": [sentence(doc_id, lang, i, run_id) for doc_id, lang in docs for i in range(2)],
        "rejects": list(rejects),
        "removed": [removed_line(doc_id, lang, run_id) for doc_id, lang in docs],
    }
    return {name: pa.Table.from_pylist(value, schema=SCHEMAS[name]) for name, value in rows.items()}


def commit(store: OutputStore, docs: list[tuple[str, str]], rejects: list[dict] = (), run_id: str = "r1",
           replaced: dict | None = None) -> str:
    key = part_key([doc_id for doc_id, _ in docs], [(r["source_path"], None, r["reason"]) for r in rejects])
    store.commit_shard(key, shard_tables(docs, rejects, run_id), replaced or {},
                       [(f"/in/{doc_id}.txt", None) for doc_id, _ in docs])
    return key
