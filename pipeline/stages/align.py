"""Align stage: source sentences and paragraphs beside their English, with model-free quality signals.

A sentence row pairs one source sentence with its translation. A paragraph row pairs the paragraph
with its sentences' English joined by a space, and only when every sentence has English: a paragraph
that is partly untranslated is `untranslated` (detail `partial_translation`), never half English.
`para_id` and `sent_id` are 0-based positions, so either level can be rebuilt from the other.

The quality signals are raw measurements, kept apart from any decision: `len_ratio`,
`numbers_match`, `urls_match`, and the `quality_flags` that fixed thresholds raise from them.
One flag concerns the source alone and is set on any row, translated or not: `bidi_controls`, for text
holding bidirectional embedding, override or isolate controls, which can make a displayed record read
differently from its characters. The source text keeps them (it stays faithful); the translator is
given the text without them (`without_bidi_controls`).
"""
from __future__ import annotations

import unicodedata
from collections import Counter
from dataclasses import dataclass, replace
from typing import Callable, Sequence

import regex

from pipeline.records import (LanguageGuess, PreparedDocument, Reject, RejectReason, Translation,
                              TranslationFailure, TranslationStatus, UntranslatedReason)
from pipeline.stages.base import Stage

# English characters per source character, by script: one Han character carries about as much
# meaning as three English letters, a Hangul syllable about 2.5, a kana about 2. Other scripts
# (Latin, Cyrillic, Arabic, ...) are close enough to 1 for a signal meant to catch gross failures.
SCRIPT_WEIGHTS: tuple[tuple[str, float], ...] = (
    (r"\p{Han}", 3.0),
    (r"\p{Hangul}", 2.5),
    (r"[\p{Hiragana}\p{Katakana}]", 2.0),
)
LEN_RATIO_LOW = 0.5
LEN_RATIO_HIGH = 2.0
_REPEAT_RUN = 4  # the same word this many times in a row is a decoding loop, not prose

_WEIGHTED = [(regex.compile(pattern), weight) for pattern, weight in SCRIPT_WEIGHTS]
_NUMBER = regex.compile(r"\d+(?:[.,\u066B\u066C'\u2019]\d+)*")
_SEPARATORS = regex.compile(r"[^\d]")
_URL = regex.compile(r"(?:https?://|www\.)[^\s<>\"'»”]+|[\w.+-]+@[\w-]+(?:\.[\w-]+)+", regex.IGNORECASE)
_URL_TRAILING = ".,;:!?)]}'\"،؛"
_WORD = regex.compile(r"\w+")
_LETTER = regex.compile(r"\p{L}")
_LATIN = regex.compile(r"\p{Latin}")
# Embeddings and overrides (LRE, RLE, PDF, LRO, RLO) and isolates (LRI, RLI, FSI, PDI).
_BIDI_CONTROLS = regex.compile("[\u202a-\u202e\u2066-\u2069]")
BIDI_FLAG = "bidi_controls"


def has_bidi_controls(text: str) -> bool:
    # Python knows whether a string is ASCII without reading it: most sentences are, and skip the search.
    return not text.isascii() and _BIDI_CONTROLS.search(text) is not None


def escaped_bidi_controls(text: str) -> str:
    """`text` with each bidirectional control written as a `\\u202e` escape: for names and ids, which
    are shown and matched rather than read, so that a listing of them shows the characters they hold."""
    return _BIDI_CONTROLS.sub(lambda control: f"\\u{ord(control.group()):04x}", text)


def without_bidi_controls(text: str) -> str:
    """`text` without bidirectional controls: what a translator should see of it."""
    return _BIDI_CONTROLS.sub("", text)


def _flag_source(quality: Quality, src_text: str) -> Quality:
    if not has_bidi_controls(src_text):
        return quality
    return replace(quality, quality_flags=(*(quality.quality_flags or ()), BIDI_FLAG))


def weighted_length(text: str) -> float:
    """Length of `text` in English-equivalent characters (see SCRIPT_WEIGHTS); whitespace not counted."""
    length = float(len(regex.sub(r"\s+", "", text)))
    for pattern, weight in _WEIGHTED:
        length += (weight - 1.0) * len(pattern.findall(text))
    return length


def length_ratio(src_text: str, en_text: str) -> float | None:
    """English characters / script-weighted source characters; None when the source has none."""
    source = weighted_length(src_text)
    if source == 0:
        return None
    return round(weighted_length(en_text) / source, 4)


def numbers(text: str) -> Counter[str]:
    """The numbers of `text`, as digit strings: any Unicode decimal digits (Arabic-Indic, Persian,
    full-width) become ASCII, and group or decimal separators are dropped so that "1,000", "1.000"
    and "١٬٠٠٠" all read 1000 whatever the locale."""
    found: Counter[str] = Counter()
    for match in _NUMBER.finditer(text):
        digits = _SEPARATORS.sub("", match.group())
        found["".join(str(unicodedata.decimal(ch)) for ch in digits).lstrip("0") or "0"] += 1
    return found


def numbers_match(src_text: str, en_text: str) -> bool:
    """True when source and English hold the same numbers, as many times each."""
    return numbers(src_text) == numbers(en_text)


def urls(text: str) -> set[str]:
    """URLs and e-mail addresses in `text`, without trailing punctuation, lower-cased."""
    return {match.group().rstrip(_URL_TRAILING).lower() for match in _URL.finditer(text)}


def urls_match(src_text: str, en_text: str) -> bool:
    """True when the URLs and e-mail addresses of the source are exactly those of the English."""
    return urls(src_text) == urls(en_text)


def has_repeated_words(text: str) -> bool:
    """A word repeated _REPEAT_RUN times in a row: the usual symptom of a decoding loop."""
    words = [word.lower() for word in _WORD.findall(text)]
    run = 1
    for previous, word in zip(words, words[1:]):
        run = run + 1 if word == previous else 1
        if run >= _REPEAT_RUN:
            return True
    return False


def latin_share(text: str) -> float | None:
    """Share of the letters of `text` that are Latin; None when it has no letters."""
    letters = _LETTER.findall(text)
    if not letters:
        return None
    return sum(1 for letter in letters if _LATIN.match(letter)) / len(letters)


@dataclass(frozen=True, slots=True)
class Quality:
    """The quality signals of one translated pair (all None for a pair that is not a translation)."""

    len_ratio: float | None = None
    numbers_match: bool | None = None
    urls_match: bool | None = None
    quality_flags: tuple[str, ...] | None = None


def assess(src_text: str, en_text: str) -> Quality:
    """Measure one source/English pair and raise flags where a signal is out of its usual range."""
    ratio = length_ratio(src_text, en_text)
    same_numbers = numbers_match(src_text, en_text)
    same_urls = urls_match(src_text, en_text)
    flags: list[str] = []
    if ratio is not None and ratio < LEN_RATIO_LOW:
        flags.append("length_ratio_low")
    if ratio is not None and ratio > LEN_RATIO_HIGH:
        flags.append("length_ratio_high")
    if not same_numbers:
        flags.append("numbers_mismatch")
    if not same_urls:
        flags.append("urls_mismatch")
    if has_repeated_words(en_text):
        flags.append("repeated_words")
    if en_text.strip() == src_text.strip():
        flags.append("copied_source")
    share = latin_share(en_text)
    if share is not None and share < 0.5:
        flags.append("output_not_latin")
    return Quality(ratio, same_numbers, same_urls, tuple(flags))


@dataclass(frozen=True, slots=True)
class SentencePair:
    """One source sentence beside its English."""

    para_id: int
    sent_id: int
    char_start: int
    char_end: int
    src_lang: str
    src_text: str
    translation: Translation
    quality: Quality


@dataclass(frozen=True, slots=True)
class ParagraphPair:
    """One source paragraph beside its English, built from its sentence pairs."""

    para_id: int
    src_lang: str
    language: LanguageGuess
    src_text: str
    en_text: str | None
    status: TranslationStatus
    status_detail: UntranslatedReason | None
    model: str | None
    n_sentences: int
    n_sentences_translated: int
    quality: Quality


def english_of(translation: Translation, src_text: str) -> str | None:
    """The English of a source text: itself when it is English, its translation, or None."""
    if translation.status is TranslationStatus.SOURCE_IS_ENGLISH:
        return src_text
    if translation.status is TranslationStatus.TRANSLATED:
        return translation.en_text
    return None


_NO_SIGNALS = Quality()   # shared: frozen, and what every sentence not translated has


def align_sentences(para_id: int, src_lang: str, paragraph: str, spans: Sequence[tuple[int, int]],
                    translations: Sequence[Translation]) -> list[SentencePair]:
    """Pair each sentence span of `paragraph` with its translation (same order)."""
    if len(spans) != len(translations):
        raise ValueError(f"paragraph {para_id}: {len(spans)} sentences but {len(translations)} translations")
    pairs = []
    for sent_id, ((start, end), translation) in enumerate(zip(spans, translations)):
        src_text = paragraph[start:end]
        if translation.status is TranslationStatus.SOURCE_IS_ENGLISH and translation.en_text == src_text:
            src_text = translation.en_text   # one string for both sides (a long English file: 500,000 pairs)
        quality = _NO_SIGNALS
        if translation.status is TranslationStatus.TRANSLATED:
            if not translation.en_text:
                raise ValueError(f"sentence {para_id}.{sent_id} is marked translated but has no English")
            quality = assess(src_text, translation.en_text)
        quality = _flag_source(quality, src_text)
        pairs.append(SentencePair(para_id, sent_id, start, end, src_lang, src_text, translation, quality))
    return pairs


def align_paragraph(para_id: int, paragraph: str, language: LanguageGuess,
                    sentences: Sequence[SentencePair]) -> ParagraphPair:
    """The paragraph pair: English only when every sentence has English; otherwise untranslated."""
    statuses = [pair.translation.status for pair in sentences]
    n_translated = statuses.count(TranslationStatus.TRANSLATED)
    untranslated = [pair for pair in sentences if pair.translation.status is TranslationStatus.UNTRANSLATED]
    if sentences and all(status is TranslationStatus.SOURCE_IS_ENGLISH for status in statuses):
        return ParagraphPair(para_id, language.lang, language, paragraph, paragraph,
                             TranslationStatus.SOURCE_IS_ENGLISH, None, None, len(sentences), 0,
                             _flag_source(Quality(), paragraph))
    if untranslated or not sentences:
        details = {pair.translation.detail for pair in untranslated}
        if len(untranslated) == len(sentences) and len(details) == 1:
            detail = details.pop()
        else:
            detail = UntranslatedReason.PARTIAL_TRANSLATION
        return ParagraphPair(para_id, language.lang, language, paragraph, None,
                             TranslationStatus.UNTRANSLATED, detail, None, len(sentences), n_translated,
                             _flag_source(Quality(), paragraph))
    en_text = " ".join(english_of(pair.translation, pair.src_text) or "" for pair in sentences)
    models = list(dict.fromkeys(pair.translation.model for pair in sentences if pair.translation.model))
    return ParagraphPair(para_id, language.lang, language, paragraph, en_text,
                         TranslationStatus.TRANSLATED, None, ",".join(models) or None, len(sentences),
                         n_translated, _flag_source(assess(paragraph, en_text), paragraph))


@dataclass(frozen=True, slots=True)
class AlignedDocument:
    document: PreparedDocument
    paragraphs: tuple[ParagraphPair, ...]
    sentences: tuple[SentencePair, ...]


class AlignStage(Stage[PreparedDocument, AlignedDocument]):
    """Pairs every paragraph and sentence of a document with its English, as `translation_of(lang, text)`
    gives it; a document with a sentence the translator failed on is rejected with that failure."""

    name = "align"

    def __init__(self, translation_of: Callable[[str, str], Translation | TranslationFailure]):
        super().__init__()
        self.translation_of = translation_of

    def process(self, batch: Sequence[PreparedDocument]) -> list[AlignedDocument | Reject]:
        return [self._align(document) for document in batch]

    def _align(self, document: PreparedDocument) -> AlignedDocument | Reject:
        paragraph_pairs: list[ParagraphPair] = []
        sentence_pairs: list[SentencePair] = []
        for para_id, (paragraph, language, spans) in enumerate(
                zip(document.cleaned.paragraphs, document.languages, document.spans)):
            translations = [self.translation_of(language.lang, paragraph[start:end]) for start, end in spans]
            failure = next((item for item in translations if isinstance(item, TranslationFailure)), None)
            if failure is not None:
                raw = document.raw
                return Reject(raw.source_path, RejectReason.PROCESSING_ERROR, failure.detail,
                              raw.source_record, raw.record_id)
            pairs = align_sentences(para_id, language.lang, paragraph, spans, translations)
            paragraph_pairs.append(align_paragraph(para_id, paragraph, language, pairs))
            sentence_pairs.extend(pairs)
        return AlignedDocument(document, tuple(paragraph_pairs), tuple(sentence_pairs))
