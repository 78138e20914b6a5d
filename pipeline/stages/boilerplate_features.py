"""Features of the body scorer (pipeline.stages.boilerplate): the shape of each line of a page, of the
lines around it and of the time stamps near it, and the context features over the line model's scores.
"""
from __future__ import annotations

import bisect
import importlib.util
import itertools
import math
import re
from collections import Counter
from functools import lru_cache
from pathlib import Path
from typing import Sequence

import numpy as np

from pipeline.stages.boilerplate_blocks import (BLOCK_GAP, BLOCK_NAMES, PROSE_MIN_WORDS, block_features,
                                                window_means)
from pipeline.stages.line_cache import short_line_cache
from pipeline.stages.words import unspaced_words

# The languages whose jusText stop-word list is used to guess a page's language (the registry's).
_STOPLIST_LANGUAGES = {
    "ar": "Arabic", "de": "German", "en": "English", "es": "Spanish", "fa": "Persian", "fr": "French",
    "hi": "Hindi", "id": "Indonesian", "it": "Italian", "ko": "Korean", "nl": "Dutch", "pl": "Polish",
    "pt": "Portuguese", "ru": "Russian", "tr": "Turkish", "uk": "Ukrainian", "ur": "Urdu",
    "vi": "Vietnamese",
}
# Function characters that are as frequent in Chinese and Japanese prose as stop words elsewhere.
_UNSPACED_STOP_CHARACTERS = frozenset(
    "的了是在和也有就不都而及与这那他她它我你们之以为于其中对将被把从到说个上下并或但"
    "のにはをがでとたしてもなるれるからまでよりこ")
_UNSPACED_STOP = re.compile("[" + "".join(sorted(_UNSPACED_STOP_CHARACTERS)) + "]")
_DIGIT = re.compile(r"\d")
# Neither a letter, a digit nor a space.
_SYMBOL = re.compile(r"[^\w ]|_")
_WORD = re.compile(r"\w+")
_SENTENCE_END = ".!?。！？؟…"
_CLOSERS = "\"'”’»）)]】」』 "
_LANGUAGE_SAMPLE_WORDS = 400
# Menu, account, sharing and comment words: what interface text is made of, in several languages.
_INTERFACE_WORDS = frozenset("""
home menu search login log sign register subscribe password username email e mail share print comment
comments reply replies post posted click here more read view next previous prev page back top skip
contact about privacy terms policy cookies advertise advertisement sponsored follow facebook twitter
rss feed newsletter account password forgot sitemap help faq copyright rights reserved loading related
popular trending latest tags tag category categories archive archives submit cancel close open login
links accessibility navigation
inicio buscar registrarse contraseña usuario comentarios compartir accueil rechercher connexion
commentaires partager startseite suche anmelden kommentare teilen главная поиск войти регистрация
комментарии поделиться подписаться الرئيسية بحث تسجيل الدخول التعليقات شارك اشترك
首页 登录 注册 搜索 评论 分享 更多 返回
""".split())

_INTERFACE_PHRASE_MAX_WORDS = 3
_INTERFACE_PHRASE_MAX_CHARS = 100   # three words, however long, never come near it


def is_interface_phrase(line: str) -> bool:
    """Whether `line` is a short interface phrase ("Sign in", "تسجيل الدخول", "Read more"): at most
    _INTERFACE_PHRASE_MAX_WORDS words, every word longer than two letters an interface word."""
    if len(line) > _INTERFACE_PHRASE_MAX_CHARS:
        return False
    tokens = _lower_words(line)
    if not tokens or len(tokens) > _INTERFACE_PHRASE_MAX_WORDS:
        return False
    longer = [token for token in tokens if len(token) > 2]
    return bool(longer) and all(map(_INTERFACE_WORDS.__contains__, longer))


@lru_cache(maxsize=None)
def _stoplists() -> dict[str, frozenset[str]]:
    """jusText's stop-word lists, read as `justext.get_stoplist` reads them.

    The package's data files are read without importing the package: importing jusText loads lxml and
    its HTML parser, a tenth of a second of every pipeline process that the lists do not need.
    """
    spec = importlib.util.find_spec("justext")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("boilerplate: the justext package (stop-word lists) is not installed")
    folder = Path(next(iter(spec.submodule_search_locations))) / "stoplists"
    return {code: frozenset(word.decode("utf8").lower()
                            for word in (folder / f"{name}.txt").read_bytes().splitlines())
            for code, name in _STOPLIST_LANGUAGES.items()}


@lru_cache(maxsize=None)
def _stopword_languages() -> tuple[dict[str, int], tuple[tuple[str, ...], ...]]:
    """For every word of the stop-word lists, the number of the set of languages whose lists hold it,
    and those sets: one look-up a word counts the votes of all languages, and the words of a page are
    counted by small numbers, which hash at once, instead of tuples of codes, which hash code by code."""
    languages: dict[str, tuple[str, ...]] = {}
    for code, words in _stoplists().items():
        for word in words:
            languages[word] = languages.get(word, ()) + (code,)
    groups = tuple(dict.fromkeys(languages.values()))
    number = {group: index for index, group in enumerate(groups)}
    return {word: number[group] for word, group in languages.items()}, groups


def guess_stopwords(lines: Sequence[str]) -> frozenset[str]:
    """The stop words of the page's language, guessed from the words of its longest lines.

    The language whose list holds most of the sample's words wins; between equals, the one holding the
    earliest of those words.
    """
    sample: list[str] = []
    for line in sorted(lines, key=len, reverse=True):
        sample.extend(_lower_words(line))
        if len(sample) >= _LANGUAGE_SAMPLE_WORDS:
            break
    stoplists = _stoplists()
    group_of_word, groups = _stopword_languages()
    votes = dict.fromkeys(stoplists, 0)
    for group, count in Counter(map(group_of_word.get, sample)).items():
        if group is not None:
            for code in groups[group]:
                votes[code] += count
    most = max(votes.values())
    if not most:
        return frozenset()
    leaders = [stoplists[code] for code, count in votes.items() if count == most]
    if len(leaders) == 1:
        return leaders[0]
    return next(words for word in sample for words in leaders if word in words)


SHAPE_NAMES = (
    "bias", "log_words", "log_chars", "stop_share", "log_stops", "sentence_end", "colon_end",
    "capitalised_share", "digit_share", "symbol_share", "separators", "interface_share", "comma_rate",
    "lowercase_start", "position", "in_main_block", "distance_to_main_block", "prose_before",
    "prose_after", "after_comment_prompt", "after_comment_header", "copy_of_earlier_line", "copied_later",
    "page_prose_share",
    "main_block_share", "short_x_page_prose", "short",
)
# What the lines around a line look like (empty lines skipped; a line a rule removed counts as removed,
# with no words): a teaser or link list is a run of short lines of one shape, a heading sits over prose.
_NEIGHBOUR_OFFSETS = (("previous", -1), ("next", 1), ("previous_2", -2), ("next_2", 2))
NEIGHBOUR_NAMES = tuple(f"{side}_{what}" for side, _ in _NEIGHBOUR_OFFSETS
                        for what in ("log_words", "sentence_end", "stop_share", "removed"))
WINDOW_NAMES = ("window_log_words", "window_sentence_end", "window_removed", "window_max_log_words",
                "short_run", "words_below_longest")
# Readers' comments and forum posts each carry a time stamp ("14 minutes ago", "March 3, 2019 at 9:41
# pm"); an article carries one: a run of stamps around a line marks a thread, with or without a prompt.
STAMP_NAMES = ("stamp", "stamps_near", "stamps_before", "stamps_after", "in_thread")
FEATURE_NAMES = SHAPE_NAMES + NEIGHBOUR_NAMES + WINDOW_NAMES + STAMP_NAMES + BLOCK_NAMES
_STAMP_START = len(SHAPE_NAMES + NEIGHBOUR_NAMES + WINDOW_NAMES)
_SHAPE_COUNT = len(SHAPE_NAMES)
_LOG_WORDS_COLUMN, _STOP_SHARE_COLUMN, _SENTENCE_END_COLUMN = (
    SHAPE_NAMES.index(name) for name in ("log_words", "stop_share", "sentence_end"))
_SHORT = FEATURE_NAMES.index("short")
_SHORT_RUN_LOG_WORDS = math.log1p(5)
# The context step reads the line model's scores (log-odds) of the line and of the lines around it.
CONTEXT_NAMES = ("own", "previous", "next", "previous_2", "next_2", "window_mean", "window_max",
                 "window_min", "window_second", "wide_mean", "wide_body_share")
# The wide window of the context step: the lines of a post, a listing or a thread around a line.
_WIDE_WINDOW = 10
# A reader's comment opens with a short header: "Anna says:", "Jean a écrit :", "Max schrieb:", the
# name beside a clock time ("March 3, 2019 at 9:41 pm"), or the name before its date ("Kate on").
_COMMENT_HEADER_MAX_CHARS = 80
_COMMENT_HEADER = re.compile(
    r"(?:\b(?:says|said|wrote|writes|replied|a écrit|a dit|schrieb|schreibt|escribió|escribe|dice|dijo"
    r"|disse|diz|escreveu|scrive|ha scritto|schreef|napisał|пишет|написал|написала|كتب|كتبت)\s*[:：]?"
    r"|说[:：]|写道[:：]?|さん[:：])\W*$"
    r"|\b\d{1,2}[:.]\d{2}\s*(?:[ap]\.?\s?m\b\.?)",
    re.IGNORECASE)
_NAME_BEFORE_DATE = re.compile(r"\S+(?:\s\S+){0,3}\s(?:on|at)", re.IGNORECASE)
# Searching that pattern over a whole line is slow (a dozen microseconds). A line without what a clock
# time starts with can only match one of its words, and that word ends at the line's last word character
# (only non-word characters may follow it): such a line is searched from _COMMENT_HEADER_WORD_CHARS
# characters before that one, and only if it can end one of the words (compared as the pattern compares).
_CLOCK_TIME_START = re.compile(r"\d[:.]\d")
_COMMENT_HEADER_WORD_ENDS = re.compile("[sdetbóozufłтлаبت说道ん]", re.IGNORECASE)
_COMMENT_HEADER_WORD_CHARS = 10   # "ha scritto"
_WINDOW = 3
_STAMP_MAX_WORDS = 12
_STAMP_WINDOW = 8
_THREAD_MIN_STAMPS = 3
_STAMP_HEAD_CHARS = 60
# A clock time ("05-06-2005, 05:28 PM") opens the first alternative of _TIME, what follows it optional.
_CLOCK_TIME = re.compile(r"\b\d{1,2}[:.]\d{2}")
# A clock time or a time ago ("14 minutes ago"), in several languages.
_TIME = re.compile(
    _CLOCK_TIME.pattern + r"\s*(?:[ap]\.?\s?m\b\.?)?"
    r"|\b\d+\s*(?:sec(?:ond)?s?|min(?:ute)?s?|h(?:ou)?rs?|days?|weeks?|months?|years?)\s+ago\b"
    r"|\b(?:il y a|hace|vor|há)\s+\d+|\d+\s*(?:минут[уы]?|час(?:а|ов)?|дн(?:я|ей)|день)\s+назад"
    r"|منذ\s+\d+|\d+\s*(?:秒|分钟|小时|天|周|个月|年)前|\d+\s*(?:分|時間|日)前",
    re.IGNORECASE)
# Searching _TIME is slow (a dozen microseconds a line with digits). A line where _CLOCK_TIME matches
# matches it, and every other alternative holds one of the words of _TIME_WORD, read with the same flag:
# a line with neither cannot match, and most are passed over.
_TIME_WORD = re.compile("ago|il y a|hace|vor|há|назад|منذ|前", re.IGNORECASE)
_YEAR = re.compile(r"\b(?:19|20)\d{2}\b")
# The log-odds a line removed by a rule (or past the page's edge) counts as in the context step.
_REMOVED_LOGIT = -6.0

# In ASCII, what is no symbol (_SYMBOL): letters, digits and the space (the underscore is a symbol).
_ASCII_LETTERS_DIGITS_SPACE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789 "
_ASCII_DIGITS = b"0123456789"
# What _WORD reads in a lower-cased line of ASCII: its word bytes (letters, digits, "_") lowered, and a
# space for every other byte.
_ASCII_LOWER_WORDS = bytes(
    ord(character.lower()) if character.isascii() and (character.isalnum() or character == "_") else 32
    for character in map(chr, range(256)))


def _lower_words(line: str) -> tuple[str, ...]:
    """The word tokens of `line`, lower-cased. Not cached: its callers mostly run on lines their own
    caches missed, so a cache of its own answered 39% of look-ups and cost more than it saved (the clean
    stage took 14.4 CPU-s over the benchmark's real pages without it, 14.8-16.5 with it).

    A line of ASCII (nine in ten of the benchmark's page lines) is read from its bytes, its capitals
    lowered and its other non-word bytes made spaces in one translation: half the time of the pattern.
    """
    if line.isascii():
        return tuple(line.encode("ascii").translate(_ASCII_LOWER_WORDS).decode("ascii").split())
    return tuple(_WORD.findall(line.lower()))


def _digits_and_symbols(line: str) -> tuple[int, int]:
    """How many characters of `line` match _DIGIT and _SYMBOL. A line of ASCII (most) is counted by
    deleting characters from its bytes, several times faster than listing the matches."""
    if line.isascii():
        data = line.encode("ascii")
        return (len(data) - len(data.translate(None, _ASCII_DIGITS)),
                len(data.translate(None, _ASCII_LETTERS_DIGITS_SPACE)))
    return len(_DIGIT.findall(line)), len(_SYMBOL.findall(line))


@short_line_cache
def _line_shape(line: str, stopwords: frozenset[str]) -> tuple[float, ...]:
    """Features of one line read alone."""
    is_ascii = line.isascii()
    unspaced = unspaced_words(line)
    tokens = _lower_words(line)
    words = line.split()
    if unspaced is not None:
        n_words = unspaced
        n_stops = len(_UNSPACED_STOP.findall(line))
        capitalised = 0.0
    else:
        n_words = len(words)
        # Stop words are counted among the line's word tokens ("l'état" holds "l" and "état").
        n_stops = sum(map(stopwords.__contains__, tokens))
        capitalised = sum([word[0].isupper() for word in words]) / max(n_words, 1)
    n_chars = len(line)
    n_digits, n_symbols = _digits_and_symbols(line)
    stripped = line.rstrip(_CLOSERS)
    if is_ascii:
        # Of the separators and commas counted, only "|" and "," are ASCII.
        separators, commas = line.count("|"), line.count(",")
    else:
        separators = line.count("|") + line.count("»") + line.count("•") + line.count("·")
        commas = line.count(",") + line.count("，") + line.count("،")
    words_or_one, chars_or_one = max(n_words, 1), max(n_chars, 1)
    return (
        math.log1p(n_words), math.log1p(n_chars), n_stops / words_or_one, math.log1p(n_stops),
        float(bool(stripped) and stripped[-1] in _SENTENCE_END), float(stripped.endswith((":", "："))),
        capitalised, n_digits / chars_or_one, n_symbols / chars_or_one, float(separators),
        sum(map(_INTERFACE_WORDS.__contains__, tokens)) / max(len(tokens), 1), commas / words_or_one,
        float(line[:1].islower()), n_words,
    )


def _main_block(word_counts: Sequence[float]) -> tuple[int, int]:
    """First and last index of the run of prose lines (gaps of up to BLOCK_GAP) holding most words."""
    best, best_words = (0, -1), 0.0
    start, last, words = -1, -1, 0.0
    for index, count in enumerate(word_counts):
        if count < PROSE_MIN_WORDS:
            continue
        if start < 0 or index - last > BLOCK_GAP + 1:
            start, words = index, 0.0
        last, words = index, words + count
        if words > best_words:
            best, best_words = (start, last), words
    return best


def _copies(lines: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """Per line: is it a copy of an earlier line, and is it copied later?

    A line printed twice is a menu at the top and the bottom, or an article printed twice, whose first
    copy is the one to keep. A dict keeps the last index given for a line: read backwards, its first.
    """
    n = len(lines)
    positions = np.arange(n)
    first_index = dict(zip(reversed(lines), range(n - 1, -1, -1)))
    last_index = dict(zip(lines, positions.tolist()))
    return (np.fromiter(map(first_index.__getitem__, lines), np.intp, n) < positions,
            np.fromiter(map(last_index.__getitem__, lines), np.intp, n) > positions)


def line_features(lines: Sequence[str], removed: Sequence[bool], comment_prompts: Sequence[bool],
                  stopwords: frozenset[str], comments_from: int | None = None) -> np.ndarray:
    """The features of FEATURE_NAMES for every line (one row a line; empty lines get zeros), for a page
    whose readers' comments start at line `comments_from` (pipeline.stages.regions; None: no comments).
    Positions and distances count the lines that hold text: a page laid out with blank lines between
    its paragraphs reads as the same page without them, as scraped pages come."""
    present = [index for index, line in enumerate(lines) if line]
    if len(present) < len(lines):
        rows = np.zeros((len(lines), len(FEATURE_NAMES)))
        if present:
            rows[present] = line_features(
                [lines[index] for index in present], [removed[index] for index in present],
                [comment_prompts[index] for index in present], stopwords,
                None if comments_from is None else bisect.bisect_left(present, comments_from))
        return rows
    n = len(lines)
    # Lines a rule removed are not scored, and count as no words for the page's prose.
    shapes = [_line_shape(line, stopwords) if line and not gone else None
              for line, gone in zip(lines, removed)]
    word_counts = [shape[-1] if shape else 0.0 for shape in shapes]
    prose = [count if count >= PROSE_MIN_WORDS else 0.0 for count in word_counts]
    total_prose = sum(prose) or 1.0
    page_prose_share = sum(prose) / (sum(word_counts) or 1.0)
    first, last = _main_block(word_counts)
    main_block_share = sum(prose[first:last + 1]) / total_prose
    rows = np.zeros((n, len(FEATURE_NAMES)))
    scored = np.array([shape is not None for shape in shapes])
    if not scored.any():
        return rows
    indexes = np.flatnonzero(scored)
    scored_shapes = [shape for shape in shapes if shape is not None]
    # fromiter reads the tuples half again as fast as np.array.
    shape_rows = np.fromiter(itertools.chain.from_iterable(scored_shapes), float,
                             len(scored_shapes) * len(scored_shapes[0])).reshape(len(scored_shapes), -1)
    prose_array = np.array(prose)
    prose_before = (np.cumsum(prose_array) - prose_array)[indexes]
    distance = np.where(indexes < first, first - indexes, np.where(indexes > last, indexes - last, 0))
    positions = np.arange(n)
    # A comment prompt after the start of the article: what follows it is readers' text.
    comment_seen = np.logical_or.accumulate(np.asarray(comment_prompts, dtype=bool) & (positions > first))
    # A comment header after the start of the article: it and what follows are readers' text.
    header_seen = positions >= _first_comment_header(lines, shapes, first + 1)
    copy_of_earlier, copied_later = _copies(lines)
    short = (shape_rows[:, -1] < 5).astype(float)
    rows[indexes, :_SHAPE_COUNT] = np.column_stack([
        np.ones(len(indexes)), shape_rows[:, :-1], indexes / max(n - 1, 1), (distance == 0).astype(float),
        np.log1p(distance), prose_before / total_prose,
        (total_prose - prose_before - prose_array[indexes]) / total_prose,
        comment_seen[indexes].astype(float), header_seen[indexes].astype(float),
        copy_of_earlier[indexes].astype(float), copied_later[indexes].astype(float),
        np.full(len(indexes), page_prose_share), np.full(len(indexes), main_block_share),
        short * page_prose_share, short,
    ])
    # Past the empty lines' split above, every line holds text.
    _neighbour_features(rows, np.asarray(removed, dtype=bool))
    _stamp_features(rows, lines, first)
    rows[:, len(FEATURE_NAMES) - len(BLOCK_NAMES):] = block_features(
        np.array(word_counts), n if comments_from is None else comments_from)
    return rows


_NO_STAMP, _DATE_STAMP, _TIME_STAMP = 0, 1, 2


@short_line_cache
def _stamp_kind(line: str) -> int:
    """_TIME_STAMP for a short line holding a clock time or a time ago, or a longer one that opens with
    one (a comment whose header shares its line: "Graham — July 11th, 2012, 4:30 am I'd say..."),
    _DATE_STAMP for a short line holding a year and no time, else _NO_STAMP."""
    short = line.count(" ") < _STAMP_MAX_WORDS
    end = len(line) if short else _STAMP_HEAD_CHARS
    # Every stamp holds a digit: most lines are passed over by that one fast search.
    if _DIGIT.search(line, 0, end) is None:
        return _NO_STAMP
    if _CLOCK_TIME.search(line, 0, end) is not None or (
            _TIME_WORD.search(line, 0, end) is not None and _TIME.search(line, 0, end) is not None):
        return _TIME_STAMP
    return _DATE_STAMP if short and _YEAR.search(line) is not None else _NO_STAMP


def _stamp_features(rows: np.ndarray, lines: Sequence[str], main_block_start: int) -> None:
    """Fill the STAMP_NAMES columns: stamps are counted on every line, removed by a rule or not.

    A thread starts at the first time stamp followed by _THREAD_MIN_STAMPS - 1 more within twice
    _STAMP_WINDOW lines (an article's date and its update are two). Dates alone do not open one: a
    list of dated teasers above an article is no thread.
    """
    kinds = np.array([_stamp_kind(line) for line in lines])
    stamps = (kinds != _NO_STAMP).astype(float)
    # The stamps among the 2 * _STAMP_WINDOW lines around each, as differences of running totals (whole
    # numbers, exact in floats): a page's thread of hundreds of lines needs no window per line.
    running = np.cumsum(np.concatenate([np.zeros(_STAMP_WINDOW + 1), stamps, np.zeros(_STAMP_WINDOW)]))
    windows = running[2 * _STAMP_WINDOW + 1:] - running[:len(lines)] - stamps
    counted = stamps * (np.arange(len(lines)) >= main_block_start)
    before = np.cumsum(counted) - counted
    at = np.flatnonzero(kinds == _TIME_STAMP)
    starts = at[:len(at) - _THREAD_MIN_STAMPS + 1][
        at[_THREAD_MIN_STAMPS - 1:] - at[:len(at) - _THREAD_MIN_STAMPS + 1] <= 2 * _STAMP_WINDOW]
    thread_start = int(starts[0]) if len(starts) else len(lines)
    rows[:, _STAMP_START:_STAMP_START + len(STAMP_NAMES)] = np.column_stack([
        stamps, windows, np.log1p(before), np.log1p(counted.sum() - before - counted),
        np.arange(len(lines)) >= thread_start])


def _first_comment_header(lines: Sequence[str], shapes: Sequence[tuple[float, ...] | None],
                          start: int) -> int:
    """The index of the first scored line from `start` on that is a reader's comment header, else
    len(lines). Only the first matters (what follows it is readers' text), so the search stops there."""
    for index in range(start, len(lines)):
        line = lines[index]
        if shapes[index] is not None and len(line) <= _COMMENT_HEADER_MAX_CHARS and _is_comment_header(line):
            return index
    return len(lines)


@short_line_cache
def _is_comment_header(line: str) -> bool:
    """Whether _COMMENT_HEADER.search(line) finds a header, searching no more of the line than needed, or
    the line is a name before its date ("Kate on")."""
    if _NAME_BEFORE_DATE.fullmatch(line):
        return True
    if _CLOCK_TIME_START.search(line):
        return _COMMENT_HEADER.search(line) is not None
    for end in range(len(line) - 1, -1, -1):
        # The last word character: what `\\w` matches, an alphanumeric character or "_".
        if line[end].isalnum() or line[end] == "_":
            return (_COMMENT_HEADER_WORD_ENDS.match(line[end]) is not None and _COMMENT_HEADER.search(
                line, max(0, end + 1 - _COMMENT_HEADER_WORD_CHARS)) is not None)
    return False


def _shifted(values: np.ndarray, offset: int, fill: float) -> np.ndarray:
    """values[i + offset] at i, `fill` past either end."""
    out = np.full(len(values), fill)
    if offset > 0:
        out[:-offset] = values[offset:]
    else:
        out[-offset:] = values[:offset]
    return out


def _windows(values: np.ndarray, fill: float) -> np.ndarray:
    """The 2 * _WINDOW values around each value (itself left out), `fill` past either end."""
    padded = np.concatenate([np.full(_WINDOW, fill), values, np.full(_WINDOW, fill)])
    count = len(values)
    return np.column_stack([padded[start:start + count]
                            for start in range(2 * _WINDOW + 1) if start != _WINDOW])


def _neighbour_features(rows: np.ndarray, removed: np.ndarray) -> None:
    """Fill the NEIGHBOUR_NAMES and WINDOW_NAMES columns of `rows`, one row a line that holds text, from
    its shape columns. Each column is written in place: stacking them first took a third of the time."""
    if not len(rows):
        return
    words, sentence_end, stop_share = (rows[:, column].copy() for column in (
        _LOG_WORDS_COLUMN, _SENTENCE_END_COLUMN, _STOP_SHARE_COLUMN))
    gone = removed.astype(float)
    column = _SHAPE_COUNT
    for _, offset in _NEIGHBOUR_OFFSETS:
        for values, fill in ((words, 0.0), (sentence_end, 0.0), (stop_share, 0.0), (gone, 1.0)):
            rows[:, column] = _shifted(values, offset, fill)
            column += 1
    word_windows = _windows(words, 0.0)
    # Runs of short or removed lines: menus, link lists, teaser lists, comment headers.
    short = (words < _SHORT_RUN_LOG_WORDS) | (gone > 0)
    change = np.flatnonzero(np.diff(short.astype(np.int8))) + 1
    bounds = np.concatenate([[0], change, [len(short)]])
    run_length = np.repeat(np.diff(bounds), np.diff(bounds)) * short
    for values in (word_windows.mean(axis=1), _windows(sentence_end, 0.0).mean(axis=1),
                   _windows(gone, 1.0).mean(axis=1), word_windows.max(axis=1), np.log1p(run_length),
                   words - words.max()):
        rows[:, column] = values
        column += 1


def _logits(scores: np.ndarray) -> np.ndarray:
    return np.log(np.clip(scores, 1e-4, 1 - 1e-4) / np.clip(1 - scores, 1e-4, 1))


def context_features(own: np.ndarray, removed: Sequence[bool], present: Sequence[bool] | None = None,
                     ) -> np.ndarray:
    """The features of CONTEXT_NAMES: a line's score beside its neighbours' (log-odds).

    Lines removed by a rule count as sure boilerplate neighbours; empty lines (not `present`) are
    skipped over and get zeros.
    """
    n = len(own)
    present_mask = np.ones(n, dtype=bool) if present is None else np.asarray(present, dtype=bool)
    indexes = np.flatnonzero(present_mask)
    rows = np.zeros((n, len(CONTEXT_NAMES)))
    if not len(indexes):
        return rows
    logit = np.where(np.asarray(removed, dtype=bool), _REMOVED_LOGIT, _logits(np.asarray(own)))[indexes]
    others = _windows(logit, _REMOVED_LOGIT)
    ordered = np.sort(others, axis=1)
    rows[indexes] = np.column_stack([
        logit, _shifted(logit, -1, _REMOVED_LOGIT), _shifted(logit, 1, _REMOVED_LOGIT),
        _shifted(logit, -2, _REMOVED_LOGIT), _shifted(logit, 2, _REMOVED_LOGIT),
        others.mean(axis=1), ordered[:, -1], ordered[:, 0], ordered[:, -2],
        window_means(logit, _WIDE_WINDOW), window_means((logit > 0).astype(float), _WIDE_WINDOW),
    ])
    return rows
