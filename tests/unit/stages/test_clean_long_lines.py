"""A line of any length is cleaned alike: past the length where its whitespace is collapsed and its words
are counted without splitting it into one object per word, the results equal the short-line path's."""
from __future__ import annotations

import pytest

from pipeline.stages import clean, clean_repair, words
from pipeline.stages.words import word_count

MIXED_SPACES = ("Le conseil\u00a0a voté\u3000le budget.\t Les habitants\u2009ont demandé   "
                "pourquoi\u2028 — ici. ")
CHINESE = "市议会周二晚上通过了新图书馆的预算。 居民们询问港口冬季是否开放。"


def _long(unit: str, at_least: int) -> str:
    return unit * (at_least // len(unit) + 10)


def test_a_long_line_has_its_whitespace_collapsed_as_split_and_join_would():
    line = "\u3000 " + _long(MIXED_SPACES, clean_repair._LONG_LINE)
    assert len(line) > clean_repair._LONG_LINE
    assert clean_repair._collapse_whitespace(line) == " ".join(line.split())


@pytest.mark.parametrize("unit", [MIXED_SPACES, CHINESE])
def test_a_long_line_has_its_words_counted_as_split_counts_them(unit: str, monkeypatch: pytest.MonkeyPatch):
    line = _long(unit, words._SPLIT_MAX_CHARS)
    counted = word_count(line)
    monkeypatch.setattr(words, "_SPLIT_MAX_CHARS", len(line) + 1)
    assert counted == word_count(line) > 1000


def test_a_page_of_one_long_line_keeps_it_whole():
    line = _long("The council approved the budget for the new library after a long debate. ", 300_000).strip()
    assert clean.clean(line).paragraphs == (line,)
