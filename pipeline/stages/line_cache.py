"""Caches of what the clean stage reads from a line, kept to short lines.

Menus, teasers and footers recur on every page of a site, so what is read from a line is looked up
rather than read again. Those lines are short; a long line is seldom seen twice, and a cache would keep
it and what was read from it for the life of the process (a 48 MB one-line file: its 8 million word
tokens, ten times the file). Lines over CACHED_LINE_CHARS are read each time instead.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache, wraps
from typing import TypeVar

CACHED_LINE_CHARS = 2_000
# Lines a cache keeps: a site's recurring lines come back within a few pages. Caches of 4,096 lines
# cleaned 2,000 scraped pages as fast as caches of 65,536 (the rules' cache answered 44% of the
# look-ups instead of 50%), and after 1,000 pages held 150 MB less.
CACHED_LINES = 1 << 12
Result = TypeVar("Result")


def short_line_cache(function: Callable[..., Result]) -> Callable[..., Result]:
    """`function`, whose first argument is a line, with an lru_cache of CACHED_LINES entries for lines of
    at most CACHED_LINE_CHARS characters; `cache_clear` empties it."""
    cached = lru_cache(maxsize=CACHED_LINES)(function)

    @wraps(function)
    def lookup(line: str, *rest: object) -> Result:
        return cached(line, *rest) if len(line) <= CACHED_LINE_CHARS else function(line, *rest)

    lookup.cache_clear = cached.cache_clear   # type: ignore[attr-defined]
    return lookup
