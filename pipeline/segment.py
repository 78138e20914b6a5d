"""Segment stage: paragraphs, then language-aware sentences."""
from __future__ import annotations

from typing import Iterable

import regex

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
# compiled, about 10 MB/s here) proposes where sentences start; a few general rules then move those
# cuts where its output and ordinary text disagree. Rules act on cut positions, so offsets stay exact.
_HAS_WORD = regex.compile(r"[\p{L}\p{N}]")
_CLOSING_PUNCTUATION = regex.compile(r"[\p{Pe}\p{Pf}\"'`.!?…。！？؟۔।\s]+")
_EXCLAMATION_END = regex.compile(r"[!?][\"'”’»]?\s*$")
_LOWERCASE_START = regex.compile(r"(?:[-–—]+\s*)*\p{Ll}")
_TERMINATOR_BRACKET = regex.compile(r"[.!?…。！？؟۔।][\"'”’»]?[)\]}）]\s+(?=[\"'“‘«(]?\p{Lu})")
_NUMBER_DOT = regex.compile(r"(?:^|(?<=\s))\d{1,2}\.$")
_MARKER = r"[•⁃*◦▪–-]?\s?\(?(?P<label>\d{1,3}|[a-zA-Z]|[ivxlcIVXLC]{2,5})(?:\)\.?|\.\)?)"
_LIST_MARKER = regex.compile(rf"(?:^|(?<=\s)){_MARKER}(?=\s)")
_MARKER_ONLY = regex.compile(rf"{_MARKER}")
_ROMAN_DIGITS = {"i": 1, "v": 5, "x": 10, "l": 50, "c": 100}


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


def _library_language(lang: str) -> str:
    """sentencex's language code: the primary subtag ("zh-Hant" -> "zh"); unknown codes use its default."""
    return lang.replace("_", "-").split("-", 1)[0].strip().lower() or "en"


def _next_content(text: str, position: int) -> int:
    while position < len(text) and text[position].isspace():
        position += 1
    return position


def _library_cuts(text: str, lang: str) -> set[int]:
    """Sentence starts proposed by sentencex, called per blank-line block (it under-splits long text)."""
    from sentencex import segment

    cuts = set()
    block_start = 0
    for block in _BLANK_LINE.split(text):
        position = block_start
        for piece in segment(lang, block):
            if piece.strip():
                cuts.add(_next_content(text, position))
            position += len(piece)
        separator = _BLANK_LINE.match(text, position) if position < len(text) else None
        block_start = position + (len(separator[0]) if separator else 0)
    return cuts


def _pieces(text: str, cuts: set[int]) -> list[tuple[int, int]]:
    ordered = sorted(cuts)
    return [(start, end) for start, end in zip(ordered, ordered[1:] + [len(text)])]


def _adjust_cuts(text: str, cuts: set[int]) -> set[int]:
    for match in _TERMINATOR_BRACKET.finditer(text):
        cuts.add(match.end())

    for marker in _inline_list_markers(text):
        cuts.add(marker.start())
        cuts -= set(range(marker.start() + 1, _next_content(text, marker.end()) + 1))

    for start, end in _pieces(text, cuts):
        piece = text[start:end].rstrip()
        if end < len(text) and _MARKER_ONLY.fullmatch(piece):
            cuts.discard(end)
        elif (start > 0 and text[start - 1] == "." and _NUMBER_DOT.search(text, 0, start)
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
        if (start > 0 and _LOWERCASE_START.match(text, start) and _EXCLAMATION_END.search(text, 0, start)
                and not _LIST_MARKER.match(text, start)):
            cuts.discard(start)
    return cuts


def sentence_spans(text: str, lang: str) -> list[tuple[int, int]]:
    """Character offsets (start, end) of each sentence of `text`, stripped of surrounding whitespace.

    `lang` is an ISO 639-1 code choosing the terminators and abbreviations (Arabic ؟ and ., CJK 。！？,
    Devanagari ।, Urdu ۔, ...); an unknown code gets the language-neutral default rules.
    """
    if not text.strip():
        return []
    cuts = _adjust_cuts(text, _library_cuts(text, _library_language(lang)) | {_next_content(text, 0)})
    spans = []
    for start, end in _pieces(text, cuts):
        end = len(text[:end].rstrip())
        if end > start:
            spans.append((start, end))
    return spans


def split_sentences(text: str, lang: str) -> list[str]:
    """The sentences of one paragraph, in order, stripped: `[text[s:e] for s, e in sentence_spans(...)]`."""
    return [text[start:end] for start, end in sentence_spans(text, lang)]
