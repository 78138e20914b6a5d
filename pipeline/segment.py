"""Segment stage: paragraphs, then language-aware sentences."""
from __future__ import annotations

import regex

_LINE_BREAKS = regex.compile(r"\r\n|[\r\u2028\u2029\x85\v\f]")
_BLANK_LINE = regex.compile(r"\n[ \t\p{Zs}]*\n")
_SPACES = regex.compile(r"[ \t\p{Zs}]+")
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
    paragraphs: list[str] = []
    for block in _BLANK_LINE.split(_LINE_BREAKS.sub("\n", text)):
        lines = [_SPACES.sub(" ", line).strip() for line in block.split("\n")]
        lines = [line for line in lines if line]
        if not lines:
            continue
        if _is_hard_wrapped(lines):
            paragraphs.append(_join_wrapped(lines))
        else:
            paragraphs.extend(lines)
    return paragraphs
