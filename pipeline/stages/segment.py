"""Segment stage: paragraphs, then language-aware sentences."""
from __future__ import annotations

import re
from functools import cache, lru_cache
from importlib.resources import files
from typing import Iterable, Sequence

import regex

from pipeline.records import DetectedRecord, SegmentedRecord
from pipeline.stages.base import Stage

_BLANK_LINE = regex.compile(r"\n[ \t\p{Zs}]*\n")
_ENDS_PARAGRAPH = regex.compile(r"[.!?;:…。！？؟۔।\"'”’»）)\]]\s*$")
_STARTS_LIST_ITEM = regex.compile(r"^\s*(?:[-*•+]\s|#{1,6}\s|\d+[.)]\s)")
_CJK_AT_EDGE = regex.compile(r"[\p{Han}\p{Hiragana}\p{Katakana}]")
_HARD_WRAP_WIDTH = 100


def _is_hard_wrapped(lines: list[str]) -> bool:
    """A block whose lines stop mid-sentence at a fixed width is one paragraph wrapped by an editor."""
    if len(lines) < 2:
        return False
    return all(
        len(line) <= _HARD_WRAP_WIDTH and not _ENDS_PARAGRAPH.search(line)
        and not _STARTS_LIST_ITEM.match(following)
        for line, following in zip(lines, lines[1:])
    )


def _join_wrapped(lines: list[str]) -> str:
    joined = lines[0]
    for line in lines[1:]:
        glue = "" if _CJK_AT_EDGE.match(joined[-1:]) and _CJK_AT_EDGE.match(line[:1]) else " "
        joined += glue + line
    return joined


def split_paragraphs(text: str) -> list[str]:
    """Split text into paragraphs, for both conventions of scraped text.

    Blank lines separate paragraphs; inside a block, each line is its own paragraph (the
    one-paragraph-per-line convention) unless the block is hard-wrapped prose, which is rejoined.
    Whitespace inside a paragraph is collapsed to single spaces; nothing else is changed.
    """
    # str.splitlines and str.split know every Unicode line break and space, in C: a regex pass over
    # the whole text cost more than all the rest of this function.
    return paragraphs_from_lines(" ".join(line.split()) for line in text.splitlines())


def paragraphs_from_lines(lines: Iterable[str]) -> list[str]:
    """`split_paragraphs` for lines already stripped and with whitespace collapsed ("" is blank)."""
    paragraphs: list[str] = []
    block: list[str] = []
    for line in [*lines, ""]:
        if line:
            block.append(line)
        elif block:
            paragraphs.extend([_join_wrapped(block)] if _is_hard_wrapped(block) else block)
            block = []
    return paragraphs


# Sentences. sentencex (Wikimedia's rule-based segmenter: per-language terminators and abbreviations,
# compiled, about 10 MB/s here) proposes where sentences start; general rules then add the boundaries it
# misses and move or drop those where its output and ordinary text disagree. Rules act on cut positions,
# so offsets stay exact.
_HAS_WORD = regex.compile(r"[\p{L}\p{N}]")
_CLOSING_PUNCTUATION = regex.compile(r"[\p{Pe}\p{Pf}\"'`.!?…。！？؟۔।\s]+")
_EXCLAMATION_END = regex.compile(r"[!?][\"'”’»]?\s*$")
_LOWERCASE_START = regex.compile(r"(?:[-–—]+\s*)*\p{Ll}")
_TERMINATOR_BRACKET = regex.compile(r"[.!?…。！？؟۔।][\"'”’»]?[)\]}）]\s+(?=[\"'“‘«(]?\p{Lu})")
_NUMBER_DOT = regex.compile(r"(?:^|(?<=\s))\d{1,2}\.$")
_MARKER = r"[•⁃*◦▪–-]?\s?\(?(?P<label>\d{1,4}|[a-zA-Z]|[ivxlcIVXLC]{2,5})(?:\)\.?|\.\)?)"
_LIST_MARKER = regex.compile(rf"(?:^|(?<=\s)){_MARKER}(?=\s)")
_MARKER_ONLY = regex.compile(rf"{_MARKER}")
_LONGEST_MARKER_PIECE = 64
_ROMAN_DIGITS = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}

# A CJK full stop (or an ASCII ! ? right after CJK text) ends a sentence even when a digit or a Latin
# letter follows ("...完成了。2009年..."); sentencex only cuts before CJK text there.
_CJK_LETTER = r"[\p{Han}\p{Hiragana}\p{Katakana}\p{Hangul}ー]"
# The standard library scans a range of characters several times faster than `regex` does.
_CJK_PRESENT = re.compile("[\u3000-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff\uff01-\uff1f]")
_CJK_STOP = regex.compile(
    rf"[。！？][\p{{Pe}}\p{{Pf}}\"'」』]*(?=[\p{{N}}\p{{Latin}}])"
    rf"|[!?](?<={_CJK_LETTER}[!?])[\p{{Pe}}\p{{Pf}}\"'」』]*(?=[\p{{N}}\p{{Latin}}]|{_CJK_LETTER})"
)
# A stop, its closing quotes or brackets and the space after, before what may open a new sentence: an
# uppercase letter or a digit, possibly behind an opening quote (",," and "``" are typed quotes).
_STOP_BEFORE_CAPITAL = regex.compile(
    r"(?P<stop>[.!?]+)[\p{Pe}\p{Pf}\"'»]*\s+(?P<open>(?:``|,,|[\p{Pi}\"«„])\s?)?"
    r"(?P<next>[\p{Lu}\p{N}])"
)
_WORD_BEFORE_STOP = regex.compile(r"(?r)[\p{L}\p{N}\p{M}][\p{L}\p{N}\p{M}.'’-]*")
# An opening quote left at the end of the previous sentence ('... Maiolo. "La ...' split after the quote).
_OPENING_MARKS = frozenset("`,\"«„“‘")
_STRANDED_OPENER = regex.compile(r"(?<=[.!?…。！？][\p{Pe}\p{Pf}\"'»]{0,2}\s+)(?:``|,,|[\"«„“‘])\s?$")
# Languages writing ordinal numbers with a full stop ("am 3. Mai", "18. yüzyıl").
_ORDINAL_DOT_LANGUAGES = frozenset("bs cs da de et fi hr hu is lv nb nn no pl sk sl sr tr".split())
# Text longer than this is segmented window by window, so that the work per character stays bounded
# however long a paragraph is; each window gives up its last sentence, which the next one starts with.
_WINDOW_CHARACTERS = 20_000
# Quoted passages up to this length stay whole, as sentencex keeps them (a quoted question inside a
# sentence); longer ones are split into their sentences.
_LONGEST_QUOTED_PIECE = 300
# A quotation mark; a straight one between letters is part of a word (Hebrew ד"ר).
_QUOTATION_MARK = regex.compile(r"[“”„‟«»「」『』]|\"(?:(?<!\p{L}\")|(?!\p{L}))")
_LAST_SPACE = regex.compile(r"(?r)\s+(?=\S)")
# Before a line's final stops: a stop, a closing bracket (list markers end in one) or a line break.
_INNER_BOUNDARY_ASCII = re.compile(r"[.!?)\n]")


@cache
def _listed_words(kind: str, lang: str) -> frozenset[str]:
    """The words of `kind` ("abbreviation" or "word") listed for `lang` and for every language."""
    words: set[str] = set()
    data = files("pipeline").joinpath("data/sentence_abbreviations.txt").read_text(encoding="utf-8")
    for line in data.splitlines():
        if line.strip() and not line.startswith("#"):
            line_kind, code, listed = line.split("\t", 2)
            if line_kind == kind and code in ("*", lang):
                words.update(listed.split())
    return frozenset(words)


@lru_cache(maxsize=65_536)
def _library_abbreviation(word: str, lang: str) -> bool:
    """Whether sentencex takes `word` followed by a full stop for an abbreviation in `lang`."""
    from sentencex import segment

    return len(segment(lang, f"Xyz {word}. Abc xyz.")) == 1


def _roman_value(label: str) -> int | None:
    label = label.lower()
    if any(char not in _ROMAN_DIGITS for char in label):
        return None
    values = [_ROMAN_DIGITS[char] for char in label]
    return sum(-value if value < following else value
               for value, following in zip(values, values[1:] + [0]))


def _label_readings(label: str) -> set[tuple[str, int]]:
    """Each way to read a list label: "3" is number 3; "c" letter 3 or Roman 100; "ii" Roman 2."""
    if label.isdigit():
        return {("number", int(label))}
    readings = {("letter", ord(label.lower()) - ord("a") + 1)} if len(label) == 1 else set()
    roman = _roman_value(label)
    if roman is not None:
        readings.add(("roman", roman))
    return readings


def _inline_list_markers(text: str) -> list[regex.Match[str]]:
    """Markers of an enumerated list run into one paragraph ("1. Foo 2. Bar"), when the text opens one.

    At least two markers in sequence (1, 2, ... / a, b, ... / i, ii, ...), the first opening the text,
    so that "No. 3" or a lone "I." never counts.
    """
    first = _LIST_MARKER.match(text)
    if first is None:
        return []
    markers = [first]
    expected = {(kind, value + 1) for kind, value in _label_readings(first["label"])}
    for match in _LIST_MARKER.finditer(text, first.end()):
        readings = _label_readings(match["label"]) & expected
        if readings:
            markers.append(match)
            expected = {(kind, value + 1) for kind, value in readings}
    return markers if len(markers) > 1 else []


@lru_cache(maxsize=1024)
def _library_language(lang: str) -> str:
    """sentencex's language code: the primary subtag ("zh-Hant" -> "zh"); unknown codes use its default."""
    return lang.replace("_", "-").split("-", 1)[0].strip().lower() or "en"


def _next_content(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _library_cuts(text: str, lang: str) -> set[int]:
    """Sentence starts proposed by sentencex, called per blank-line block.

    sentencex never cuts between paired quotation marks, however far apart: one stray mark can join
    a page of sentences. A piece longer than `_LONGEST_QUOTED_PIECE` is segmented again with its
    quotation marks blanked (same length, so offsets hold).
    """
    from sentencex import segment

    cuts = set()
    block_start = 0
    for block in _BLANK_LINE.split(text):
        position = block_start
        for piece in segment(lang, block):
            if piece.strip():
                cuts.add(_next_content(text, position))
            if len(piece) > _LONGEST_QUOTED_PIECE and _QUOTATION_MARK.search(piece):
                inner = position
                for part in segment(lang, _QUOTATION_MARK.sub(" ", piece)):
                    if part.strip():
                        cuts.add(_next_content(text, inner))
                    inner += len(part)
            position += len(piece)
        separator = _BLANK_LINE.match(text, position) if position < len(text) else None
        block_start = position + (len(separator[0]) if separator else 0)
    return cuts


def _pieces(text: str, cuts: set[int]) -> list[tuple[int, int]]:
    ordered = sorted(cuts)
    return [(start, end) for start, end in zip(ordered, ordered[1:] + [len(text)])]


def _word_before(text: str, stop: int) -> str:
    """The word (letters, digits, inner stops and apostrophes) that ends right before position `stop`."""
    match = _WORD_BEFORE_STOP.match(text, max(0, stop - 40), stop) if stop else None
    if match is None or match.end() != stop:
        return ""
    return match[0].lstrip(".'’-")


def _is_ordinary_word(word: str, lang: str) -> bool:
    """A word that may end a sentence before a full stop: not a listed or sentencex abbreviation, not an
    initial or a short capitalised word ("Dr"), not an acronym, a number or a word with inner stops."""
    if len(word) < 2 or not word.isalpha() or word.isupper() or (word[0].isupper() and len(word) <= 3):
        return False
    return word.lower() not in _listed_words("abbreviation", lang) and not _library_abbreviation(word, lang)


def _inside_quotation(text: str, position: int) -> bool:
    """Whether an odd number of typed quotation marks ('' or a lone ' or ") precede `position`."""
    marks = sum(text.count(mark, 0, position) for mark in ("''", " ' ", '"'))
    return marks % 2 == 1


def _starts_sentence_after_stop(text: str, stop: regex.Match[str], lang: str) -> bool:
    """Whether the full stop, ? or ! of `stop` ends a sentence that sentencex left running on.

    Only before a capital. A full stop standing alone after an ordinary word (tokenised text,
    "the end . The"), outside a quotation. A full stop after a common word that sentencex's lists take
    for an abbreviation ("me."). Before an opening quote, where sentencex does not look: ? and !, a full
    stop after an ordinary word, or after a number where numbers take no ordinal stop.
    """
    if not stop["next"].isupper():
        return False
    marks, position = stop["stop"], stop.start()
    if not marks.strip("?!"):
        return bool(stop["open"])
    if marks != "." or position == 0:
        return False
    if text[position - 1].isspace():
        word_end = position - 1
        while word_end > 0 and text[word_end - 1].isspace():
            word_end -= 1
        word = _word_before(text, word_end)
        return (not stop["open"] and _is_ordinary_word(word, lang) or word.isdigit()) \
            and not _inside_quotation(text, position)
    word = _word_before(text, position)
    if "." in word:
        return False
    if word.lower() in _listed_words("word", lang):
        return True
    if not stop["open"]:
        return False
    if word.isdigit():
        return len(word) > 3 or lang not in _ORDINAL_DOT_LANGUAGES
    return _is_ordinary_word(word, lang)


def _next_is_continuation(text: str, cut: int, lang: str) -> bool:
    """Whether a cut after a full stop falls inside a sentence: after a listed abbreviation before a
    lowercase word or a number ("janv. 2001"), inside a version ("v9. 1"), or after an ordinal number
    in a language that writes one so ("am 3. Mai")."""
    stop = cut
    while stop > 0 and text[stop - 1].isspace():
        stop -= 1
    if stop == cut or stop == 0 or text[stop - 1] != "." or cut >= len(text):
        return False
    word = _word_before(text, stop - 1)
    folded = word.lower()
    following = text[cut]
    if folded in _listed_words("title", lang):
        return following.isalnum()
    if folded in _listed_words("abbreviation", lang):
        return following.islower() or following.isdigit()
    if word.isalnum() and not word.isalpha() and not word.isdigit():
        return following.isdigit()
    return (word.isdigit() and len(word) <= 3 and lang in _ORDINAL_DOT_LANGUAGES and following.isalpha()
            and (stop - 1 - len(word) == 0 or text[stop - 2 - len(word)].isspace()))


def _opener_start(text: str, cut: int) -> int:
    """Where a sentence starting at `cut` really starts: before an opening quote that the previous
    sentence kept (a straight double quote followed by a space opens only when an even number of them
    precede it)."""
    match = _STRANDED_OPENER.search(text, max(0, cut - 12), cut)
    if match is None:
        return cut
    if match[0] == '" ' and text.count('"', 0, match.start()) % 2:
        return cut
    return match.start()


def _boundary_cuts(text: str, cuts: set[int], lang: str) -> set[int]:
    """Boundaries sentencex misses added, its cuts inside a sentence dropped, stranded quotes moved."""
    if not text.isascii() and _CJK_PRESENT.search(text):
        for match in _CJK_STOP.finditer(text):
            cuts.add(match.end())
    if _full_stop_ends_sentences(lang):
        for match in _STOP_BEFORE_CAPITAL.finditer(text):
            cut = match.start("open") if match["open"] else match.start("next")
            if cut not in cuts and _starts_sentence_after_stop(text, match, lang):
                cuts.add(cut)
    kept = set()
    for cut in cuts:
        if cut and _next_is_continuation(text, cut, lang):
            continue
        if cut > 1 and (text[cut - 1] in _OPENING_MARKS or text[cut - 2] in _OPENING_MARKS):
            cut = _opener_start(text, cut)
        kept.add(cut)
    return kept


@cache
def _full_stop_ends_sentences(lang: str) -> bool:
    """Whether `lang` ends sentences with "." (Armenian, for one, ends them with "։")."""
    from sentencex import segment

    return len(segment(lang, "Abc xyz. Abc xyz.")) > 1


def _adjust_cuts(text: str, cuts: set[int]) -> set[int]:
    for match in _TERMINATOR_BRACKET.finditer(text):
        cuts.add(match.end())

    for marker in _inline_list_markers(text):
        cuts.add(marker.start())
        cuts -= set(range(marker.start() + 1, _next_content(text, marker.end()) + 1))

    for start, end in _pieces(text, cuts):
        if (end < len(text) and end - start <= _LONGEST_MARKER_PIECE
                and _MARKER_ONLY.fullmatch(text[start:end].rstrip())):
            cuts.discard(end)
        elif (start > 0 and text[start - 1] == "." and _NUMBER_DOT.search(text, max(0, start - 4), start)
              and text[start].isalpha()):
            cuts.discard(start)

    for start, end in _pieces(text, cuts):
        if _HAS_WORD.search(text, start, end):
            continue
        attached_to_next = end < len(text) and not text[end - 1].isspace()
        if start > 0 and not attached_to_next and _CLOSING_PUNCTUATION.fullmatch(text, start, end):
            cuts.discard(start)
        elif end < len(text):
            cuts.discard(end)

    # "voila! -- you have cake": after ! or ? a lowercase word goes on the same sentence.
    for start, _ in _pieces(text, cuts):
        if (start > 0 and (text[start].islower() or text[start] in "-–—")
                and _LOWERCASE_START.match(text, start)
                and _EXCLAMATION_END.search(text, max(0, start - 8), start)
                and not _LIST_MARKER.match(text, start)):
            cuts.discard(start)
    return cuts


def _window_spans(text: str, lang: str) -> list[tuple[int, int]]:
    if not text.strip():
        return []
    cuts = _library_cuts(text, lang) | {_next_content(text, 0)}
    cuts = _adjust_cuts(text, _boundary_cuts(text, cuts, lang))
    spans = []
    for start, end in _pieces(text, cuts):
        while end > start and text[end - 1].isspace():
            end -= 1
        if end > start:
            spans.append((start, end))
    return spans


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Character offsets (start, end) of each sentence of `text`, stripped of surrounding whitespace.

    `lang` is an ISO 639-1 code choosing the terminators and abbreviations (Arabic ؟ and ., CJK 。！？,
    Devanagari ।, Urdu ۔, ...); an unknown code gets the language-neutral default rules. Work grows
    linearly with the text: a long text is segmented in windows of bounded size, each keeping all
    its sentences but the last, where the next window starts (a single sentence longer than a
    window is cut at its last space).
    """
    one = _one_sentence(text)
    if one is not None:
        return [one]
    lang = _library_language(lang)
    if len(text) <= _WINDOW_CHARACTERS:
        return _window_spans(text, lang)
    spans: list[tuple[int, int]] = []
    start = 0
    while len(text) - start > _WINDOW_CHARACTERS:
        window = text[start:start + _WINDOW_CHARACTERS]
        window_spans = _window_spans(window, lang)
        if len(window_spans) > 1:
            spans.extend((start + first, start + last) for first, last in window_spans[:-1])
            start += window_spans[-1][0]
        else:
            space = _LAST_SPACE.search(window, _WINDOW_CHARACTERS // 2)
            end = space.end() if space else _WINDOW_CHARACTERS
            spans.extend((start + first, start + last) for first, last in _window_spans(window[:end], lang))
            start += end
    spans.extend((start + first, start + last) for first, last in _window_spans(text[start:], lang))
    return spans


def _one_sentence(text: str) -> tuple[int, int] | None:
    """The span of `text` when it is plainly one sentence, else None: a text of ASCII whose only stops
    end it, without a closing bracket or a line break. Nothing the rules look for is in it (no
    terminator, list marker or blank line but its end), and on scraped pages four paragraphs in ten,
    headings and one-sentence lines, are such texts."""
    if not text.isascii() or len(text) > _WINDOW_CHARACTERS:
        return None
    stripped = text.rstrip()
    if _INNER_BOUNDARY_ASCII.search(text, 0, len(stripped.rstrip(".!?"))):
        return None
    end = len(stripped)
    start = len(text) - len(text.lstrip())
    return (start, end) if start < end else None


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of one paragraph, in order, stripped: `[text[s:e] for s, e in sentence_spans(...)]`."""
    return [text[start:end] for start, end in sentence_spans(text, lang)]


class SegmentStage(Stage[DetectedRecord, SegmentedRecord]):
    """Sentence spans of every paragraph, by the paragraph's language; a paragraph with no sentence
    boundary is one sentence."""

    name = "segment"

    def process(self, batch: Sequence[DetectedRecord]) -> list[SegmentedRecord]:
        return [SegmentedRecord(record.raw, record.cleaned, record.document_language, record.languages,
                                self._spans(record)) for record in batch]

    @staticmethod
    def _spans(record: DetectedRecord) -> tuple[tuple[tuple[int, int], ...], ...]:
        return tuple(tuple(sentence_spans(paragraph, guess.lang)) or ((0, len(paragraph)),)
                     for paragraph, guess in zip(record.cleaned.paragraphs, record.languages))

    def describe(self, outputs: Sequence[SegmentedRecord]) -> str:
        paragraphs = sum(len(record.spans) for record in outputs)
        sentences = sum(len(spans) for record in outputs for spans in record.spans)
        return f"{paragraphs} paragraphs, {sentences} sentences"
