"""Text as every export format can carry it: valid UTF-8, NFC, no character XML 1.0 forbids.

What had to change is counted, so that an export reports the text it altered instead of hiding it.
"""
from __future__ import annotations

import re
import unicodedata
from collections import Counter

import pyarrow as pa

# XML 1.0 allows tab, line feed and carriage return below U+0020, and neither U+FFFE nor U+FFFF; a lone
# surrogate cannot come out of a UTF-8 decode with "replace", so it needs no class of its own.
XML_FORBIDDEN = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
# Every character str.splitlines() and line-based tools break on, and the tab Moses tools split on.
SURROGATE = re.compile("[\ud800-\udfff]")
LINE_BREAKING = re.compile("[\t\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]+")


def decode_column(column: pa.Array, counts: Counter[str]) -> list[str | None]:
    """A string column as Python strings; bytes that are not UTF-8 (a lone surrogate written by another
    tool, a truncated sequence) become U+FFFD instead of failing the export."""
    raw = column.cast(pa.binary()).to_pylist()
    texts: list[str | None] = []
    for value in raw:
        if value is None:
            texts.append(None)
            continue
        try:
            texts.append(value.decode("utf-8"))
        except UnicodeDecodeError:
            counts["invalid_utf8_replaced"] += 1
            texts.append(_decode_leniently(value))
    return texts


def _decode_leniently(value: bytes) -> str:
    """One U+FFFD for an encoded lone surrogate (three bytes), one per byte for anything else invalid."""
    try:
        return SURROGATE.sub("\ufffd", value.decode("utf-8", "surrogatepass"))
    except UnicodeDecodeError:
        return SURROGATE.sub("\ufffd", value.decode("utf-8", "replace"))


def clean_text(text: str, counts: Counter[str]) -> str:
    """NFC, without the characters XML forbids (counted one by one)."""
    if not text.isascii():
        text = unicodedata.normalize("NFC", text)
    cleaned, removed = XML_FORBIDDEN.subn("", text)
    if removed:
        counts["control_characters_removed"] += removed
    return cleaned


def one_line(text: str, counts: Counter[str]) -> str:
    """The text with its line breaks and tabs turned into single spaces (for line-aligned formats)."""
    joined, changed = LINE_BREAKING.subn(" ", text)
    if changed:
        counts["line_breaks_replaced"] += 1
    return joined
