"""The benchmark corpus generator: deterministic, the requested size and mix, boilerplate, mixed languages."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path

import pytest
from project_paths import REPO_ROOT

# The benchmark scripts import each other by file name: a `benchmarks` package from pysbd shadows the folder.
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from synthetic_corpus import (CODE_SWITCHED_SHARE, FOREIGN_PARAGRAPH_SHARE,  # noqa: E402
                              MIXED_DOCUMENT_SHARE, PARAGRAPHS_RANGE, CorpusGenerator, SamplePool,
                              extend_pool, load_sample_pool, read_corpus_summary, read_sentence_lines,
                              write_corpus)

POOL = SamplePool(
    sentences={
        "en": (
            "The ferry left at dawn.",
            "Council approved the plan.",
            "Prices rose again.",
            "The library opens late.",
            "Rain is expected on Monday.",
        ),
        "fr": (
            "Le conseil a voté le budget.",
            "La pluie est attendue lundi.",
            "Les prix ont encore augmenté.",
            "La bibliothèque ouvre tard.",
            "Le traversier est parti à l'aube.",
        ),
        "zh": ("图书馆延长开放时间。", "价格再次上涨。", "周一预计有雨。", "市议会批准了计划。"),
        "hi": ("पिछले साल बारिश कम हुई थी।",),  # too few sentences to write whole documents in
    },
    titles={"en": ("Electric ferry enters service",), "fr": ("Budget participatif",)},
    boilerplate={
        "navigation": {"en": ("Home | News | Sport",), "fr": ("Accueil | Actualités | Sport",)},
        "share_prompt": {"en": ("Share this article",)},
        "copyright": {
            "en": ("© 2026 Evening Post. All rights reserved.",),
            "fr": ("© 2026 Le Courrier. Tous droits réservés.",),
        },
    },
)


def _documents(count: int, seed: int = 0, **kwargs) -> list:
    return list(CorpusGenerator(POOL, seed, **kwargs).documents(count))


def test_same_seed_same_documents_and_prefix_stable():
    first = _documents(200, seed=7)
    assert first == _documents(200, seed=7)
    assert _documents(50, seed=7) == first[:50]
    assert [doc.paragraphs for doc in _documents(50, seed=8)] != [doc.paragraphs for doc in first[:50]]


def test_requested_count_and_distinct_bodies():
    documents = _documents(500)
    assert len(documents) == 500
    assert [doc.index for doc in documents] == list(range(500))
    assert len({doc.paragraphs for doc in documents}) == 500


def test_language_mix_follows_weights_and_skips_thin_languages():
    assert POOL.languages == ("en", "fr", "zh")
    equal = Counter(doc.lang for doc in _documents(900))
    assert set(equal) == {"en", "fr", "zh"}
    assert all(250 <= count <= 350 for count in equal.values()), equal
    weighted = Counter(doc.lang for doc in _documents(600, language_weights={"en": 3, "fr": 1}))
    assert set(weighted) == {"en", "fr"}
    assert 2.4 <= weighted["en"] / weighted["fr"] <= 3.8, weighted
    with pytest.raises(ValueError, match="hi"):
        CorpusGenerator(POOL, language_weights={"hi": 1.0})


def test_paragraphs_come_from_the_pool_in_the_labelled_language():
    for doc in _documents(300):
        assert PARAGRAPHS_RANGE[0] <= len(doc.paragraphs) <= PARAGRAPHS_RANGE[1]
        for paragraph, lang in zip(doc.paragraphs, doc.paragraph_langs):
            first = lang.split("+")[0]
            assert any(paragraph.startswith(sentence) for sentence in POOL.sentences[first])
            if "+" in lang:
                other = lang.split("+")[1]
                assert any(paragraph.endswith(sentence) for sentence in POOL.sentences[other])


def test_lengths_range_from_short_to_long_documents():
    lengths = [len(doc.paragraphs) for doc in _documents(1000)]
    assert min(lengths) == PARAGRAPHS_RANGE[0]
    assert max(lengths) >= 25


def test_boilerplate_lines_in_header_and_footer():
    documents = _documents(400)
    with_navigation = [doc for doc in documents if any("|" in line for line in doc.header)]
    with_copyright = [doc for doc in documents if any("©" in line for line in doc.footer)]
    assert 0.5 * 400 <= len(with_navigation) <= 0.9 * 400
    assert 0.5 * 400 <= len(with_copyright) <= 0.9 * 400
    french = next(doc for doc in with_navigation if doc.lang == "fr")
    assert "Accueil | Actualités | Sport" in french.header
    text = french.text()
    assert text.index(french.header[0]) < text.index(french.paragraphs[0]) < text.index(french.footer[-1])


def test_some_documents_mix_languages():
    documents = _documents(2000)
    mixed = [doc for doc in documents if doc.foreign_paragraphs or doc.code_switched_paragraphs]
    assert 0.5 * MIXED_DOCUMENT_SHARE * 2000 <= len(mixed) <= 1.5 * MIXED_DOCUMENT_SHARE * 2000
    paragraphs = sum(len(doc.paragraphs) for doc in mixed)
    foreign = sum(doc.foreign_paragraphs for doc in mixed)
    switched = sum(doc.code_switched_paragraphs for doc in mixed)
    assert 0.7 * FOREIGN_PARAGRAPH_SHARE <= foreign / paragraphs <= 1.3 * FOREIGN_PARAGRAPH_SHARE
    assert 0.6 * CODE_SWITCHED_SHARE <= switched / paragraphs <= 1.4 * CODE_SWITCHED_SHARE
    # A thin language still appears inside other documents.
    assert any("hi" in doc.paragraph_langs for doc in mixed)
    assert all(
        doc.paragraph_langs == (doc.lang,) * len(doc.paragraphs) for doc in documents if doc not in mixed
    )


def test_write_corpus_formats_files_and_manifest(tmp_path: Path):
    summary = write_corpus(POOL, tmp_path / "corpus", 250, seed=3)
    documents = _documents(250, seed=3)
    assert summary.documents == 250
    assert summary.documents_by_format == dict(sorted(Counter(doc.format for doc in documents).items()))
    assert set(summary.documents_by_format) == {"txt", "html", "jsonl"}
    txt = sorted((tmp_path / "corpus" / "txt").iterdir())
    html = sorted((tmp_path / "corpus" / "html").iterdir())
    records = [
        json.loads(line)
        for part in sorted((tmp_path / "corpus" / "jsonl").iterdir())
        for line in part.read_text(encoding="utf-8").splitlines()
    ]
    assert len(txt) + len(html) + len(records) == 250
    assert summary.files == len(txt) + len(html) + len(list((tmp_path / "corpus" / "jsonl").iterdir()))
    sizes = sum(path.stat().st_size for folder in summary.inputs for path in Path(folder).iterdir())
    assert summary.bytes == sizes
    first_txt = next(doc for doc in documents if doc.format == "txt")
    assert txt[0].read_text(encoding="utf-8") == first_txt.text()
    first_html = next(doc for doc in documents if doc.format == "html")
    page = html[0].read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and f"<p>{first_html.paragraphs[0]}</p>" in page.replace(
        "&#x27;", "'"
    )
    first_record = next(doc for doc in documents if doc.format == "jsonl")
    assert records[0]["text"] == first_record.text() and records[0]["id"] == first_record.doc_name
    assert read_corpus_summary(tmp_path / "corpus") == summary
    with pytest.raises(FileExistsError):
        write_corpus(POOL, tmp_path / "corpus", 10)


def test_extend_pool_adds_sentences_and_languages():
    hindi = [
        "बारिश कम हुई थी।",
        "पुस्तकालय देर से खुलता है।",
        "कीमतें फिर बढ़ीं।",
        "परिषद ने योजना मंज़ूर की।",
    ]
    french = ["  La pluie   est attendue lundi. ", "Il neige.", " "]
    extended = extend_pool(POOL, {"hi": hindi, "fr": french})
    assert "hi" not in POOL.languages and "hi" in extended.languages
    assert extended.sentences["hi"] == (POOL.sentences["hi"][0], *hindi)
    # The pool's own sentences first; whitespace collapsed, so a known sentence is not added twice.
    assert extended.sentences["fr"] == (*POOL.sentences["fr"], "Il neige.")
    assert extended.titles == POOL.titles and extended.boilerplate == POOL.boilerplate
    assert extended.fingerprint() != POOL.fingerprint()
    documents = list(CorpusGenerator(extended, 1, language_weights={"hi": 1.0}).documents(20))
    assert {doc.lang for doc in documents} == {"hi"}
    assert all(
        any(paragraph.startswith(sentence) for sentence in extended.sentences["hi"])
        for doc in documents
        for paragraph, lang in zip(doc.paragraphs, doc.paragraph_langs)
        if lang == "hi"
    )


def test_read_sentence_lines_keeps_whole_sentences(tmp_path: Path):
    path = tmp_path / "sentences.txt"
    path.write_text(
        "The council approved the budget on Monday.\n"
        "menu | home | contact\n"
        "Too short.\n"
        "  Prices   rose again in the northern districts!\n"
        "The library opens late on Thursdays.\n",
        encoding="utf-8",
    )
    assert read_sentence_lines(path) == [
        "The council approved the budget on Monday.",
        "Prices rose again in the northern districts!",
        "The library opens late on Thursdays.",
    ]
    assert read_sentence_lines(path, limit=1) == ["The council approved the budget on Monday."]
    assert read_sentence_lines(path, min_chars=5)[1] == "Too short."
    assert read_sentence_lines(path, max_chars=40) == ["The library opens late on Thursdays."]


def test_pool_from_the_shipped_samples():
    pool = load_sample_pool(REPO_ROOT / "samples")
    assert {"en", "fr", "es", "ru", "ar", "de"} <= set(pool.languages)
    assert any("©" in line for lines in pool.boilerplate.get("copyright", {}).values() for line in lines)
    assert pool.boilerplate.get("navigation")
    assert load_sample_pool(REPO_ROOT / "samples").fingerprint() == pool.fingerprint()
