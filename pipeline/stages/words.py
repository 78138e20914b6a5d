"""Words of a line in any script, counted as the body scorer's features count them: spaced scripts by
their tokens, Chinese, Japanese and the other scripts written without spaces by their characters."""
from __future__ import annotations

import re

_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
_TOKEN = re.compile(r"\S+")
_SPLIT_MAX_CHARS = 100_000


def unspaced_words(line: str) -> float | None:
    """The words of a line written mostly in a script without spaces (about 1.7 characters a word in
    Chinese and Japanese prose); None for any other line."""
    if line.isascii() or not _UNSPACED.search(line):
        return None
    unspaced = len(line) - len(_UNSPACED.sub("", line))
    return max(_token_count(line), unspaced / 1.7) if unspaced > len(line) / 3 else None


def _token_count(line: str) -> int:
    """len(line.split()), without holding every token of a long line: split() makes an object of each."""
    return len(line.split()) if len(line) <= _SPLIT_MAX_CHARS else sum(1 for _ in _TOKEN.finditer(line))


def word_count(line: str) -> float:
    """The words of `line` as its features count them, in any script."""
    unspaced = unspaced_words(line)
    return _token_count(line) if unspaced is None else unspaced
