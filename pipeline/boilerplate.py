"""Body scores for the lines of a scraped page, kept apart from the decision to remove them.

Each line the rules of `pipeline.clean` leave undecided gets a body probability in two steps:

1. *Line model*: a logistic regression over general features of the line itself (length in words,
   share of stop words in the page's language, terminal punctuation, share of capitalised words,
   digits and symbols, menu and interface words, position in the page, where the page's main run of
   prose lies, whether a comment prompt came before).
2. *Context step*: a second logistic regression that reads the line's own score with its neighbours'
   (the lines just before and after and a window around it), so that short or unsure lines, such
   as a heading or a one-line paragraph inside an article, are decided by the text around them.
   This is jusText's good / near-good / bad reclassification, learned instead of hand-set.

Both models are trained by `scripts/train_boilerplate.py` (fixed seed, cross-validated) and their weights
ship as a small text file next to this module. Stop words come from jusText's lists (about 100
languages); scripts written without spaces use a few frequent function characters instead; the page's
language is guessed once from the stop words its longest lines hold.

Across documents, `SiteRepetition` counts the lines each site repeats within a batch: a line found in
many pages of the same site (menus, teasers, footers, sign-up forms) is boilerplate whatever its score.
"""
from __future__ import annotations

import importlib.util
import math
import re
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

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
_UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uf900-\ufaff\u0e00-\u0eff\u1000-\u109f\u1780-\u17ff]")
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
inicio buscar registrarse contraseña usuario comentarios compartir accueil rechercher connexion
commentaires partager startseite suche anmelden kommentare teilen главная поиск войти регистрация
комментарии поделиться подписаться الرئيسية بحث تسجيل الدخول التعليقات شارك اشترك
首页 登录 注册 搜索 评论 分享 更多 返回
""".split())

_INTERFACE_PHRASE_MAX_WORDS = 3


def is_interface_phrase(line: str) -> bool:
    """Whether `line` is a short interface phrase ("Sign in", "تسجيل الدخول", "Read more"): at most
    _INTERFACE_PHRASE_MAX_WORDS words, every word longer than two letters an interface word."""
    tokens = _WORD.findall(line.lower())
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


def guess_stopwords(lines: Sequence[str]) -> frozenset[str]:
    """The stop words of the page's language, guessed from the words of its longest lines.

    The language whose list holds most of the sample's words wins; between equals, the one holding the
    earliest of those words.
    """
    sample: list[str] = []
    for line in sorted(lines, key=len, reverse=True):
        sample.extend(_WORD.findall(line.lower()))
        if len(sample) >= _LANGUAGE_SAMPLE_WORDS:
            break
    stoplists = _stoplists()
    votes = {code: sum(map(words.__contains__, sample)) for code, words in stoplists.items()}
    most = max(votes.values())
    if not most:
        return frozenset()
    leaders = [stoplists[code] for code, count in votes.items() if count == most]
    if len(leaders) == 1:
        return leaders[0]
    return next(words for word in sample for words in leaders if word in words)


FEATURE_NAMES = (
    "bias", "log_words", "log_chars", "stop_share", "log_stops", "sentence_end", "colon_end",
    "capitalised_share", "digit_share", "symbol_share", "separators", "interface_share", "comma_rate",
    "lowercase_start", "position", "in_main_block", "distance_to_main_block", "prose_before",
    "prose_after", "after_comment_prompt", "after_comment_header", "repeated_in_page", "page_prose_share",
    "main_block_share", "short_x_page_prose", "short",
)
# Features whose pairwise products the line model also reads: a linear model cannot otherwise learn
# that a short line is body inside the main text and boilerplate far from it.
_CROSSED = ("log_words", "stop_share", "sentence_end", "in_main_block", "distance_to_main_block",
            "prose_before", "page_prose_share")
_BASE_COUNT = len(FEATURE_NAMES)
_CROSSED_INDEXES = [FEATURE_NAMES.index(name) for name in _CROSSED]
_PAIRS = [(a, b) for position, a in enumerate(_CROSSED_INDEXES) for b in _CROSSED_INDEXES[position + 1:]]
FEATURE_NAMES = FEATURE_NAMES + tuple(f"{FEATURE_NAMES[a]}*{FEATURE_NAMES[b]}" for a, b in _PAIRS)
_SHORT = FEATURE_NAMES.index("short")
CONTEXT_NAMES = (
    "bias", "own", "previous", "next", "window_mean", "window_max", "short", "short_x_window",
    "removed_neighbours",
)
_PROSE_MIN_WORDS = 8
_BLOCK_GAP = 2
# A reader's comment opens with a short header: "Anna says:", "Jean a écrit :", "Max schrieb:", or the
# name beside a clock time ("March 3, 2019 at 9:41 pm").
_COMMENT_HEADER_MAX_CHARS = 80
_COMMENT_HEADER = re.compile(
    r"(?:\b(?:says|said|wrote|writes|replied|a écrit|a dit|schrieb|schreibt|escribió|escribe|dice|dijo"
    r"|disse|diz|escreveu|scrive|ha scritto|schreef|napisał|пишет|написал|написала|كتب|كتبت)\s*[:：]?"
    r"|说[:：]|写道[:：]?|さん[:：])\W*$"
    r"|\b\d{1,2}[:.]\d{2}\s*(?:[ap]\.?\s?m\b\.?)",
    re.IGNORECASE)
_WINDOW = 3


_WORD_EDGES = ".,;:!?\"'()«»“”‘’[]"
# Menus, teasers and footers recur on every page of a site: their features are looked up.
_SHAPE_CACHE_LINES = 1 << 16


@lru_cache(maxsize=_SHAPE_CACHE_LINES)
def _line_shape(line: str, stopwords: frozenset[str]) -> tuple[float, ...]:
    """Features of one line read alone."""
    unspaced = len(_UNSPACED.findall(line)) if not line.isascii() and _UNSPACED.search(line) else 0
    lowered_line = line.lower()
    if unspaced > len(line) / 3:
        # About 1.7 characters a word in Chinese and Japanese prose.
        n_words = max(len(line.split()), unspaced / 1.7)
        n_stops = len(_UNSPACED_STOP.findall(line))
        capitalised = 0.0
    else:
        words = line.split()
        n_words = len(words)
        n_stops = sum(map(stopwords.__contains__, [word.strip(_WORD_EDGES) for word in lowered_line.split()]))
        capitalised = sum([word[0].isupper() for word in words]) / max(n_words, 1)
    n_chars = len(line)
    stripped = line.rstrip(_CLOSERS)
    tokens = _WORD.findall(lowered_line)
    return (
        math.log1p(n_words), math.log1p(n_chars), n_stops / max(n_words, 1), math.log1p(n_stops),
        float(bool(stripped) and stripped[-1] in _SENTENCE_END), float(stripped.endswith((":", "："))),
        capitalised, len(_DIGIT.findall(line)) / max(n_chars, 1),
        len(_SYMBOL.findall(line)) / max(n_chars, 1),
        float(line.count("|") + line.count("»") + line.count("•") + line.count("·")),
        sum(map(_INTERFACE_WORDS.__contains__, tokens)) / max(len(tokens), 1),
        (line.count(",") + line.count("，") + line.count("،")) / max(n_words, 1),
        float(line[:1].islower()), n_words,
    )


def _main_block(word_counts: Sequence[float]) -> tuple[int, int]:
    """First and last index of the run of prose lines (gaps of up to _BLOCK_GAP) holding most words."""
    best, best_words = (0, -1), 0.0
    start, last, words = -1, -1, 0.0
    for index, count in enumerate(word_counts):
        if count < _PROSE_MIN_WORDS:
            continue
        if start < 0 or index - last > _BLOCK_GAP + 1:
            start, words = index, 0.0
        last, words = index, words + count
        if words > best_words:
            best, best_words = (start, last), words
    return best


def line_features(lines: Sequence[str], removed: Sequence[bool], comment_prompts: Sequence[bool],
                  stopwords: frozenset[str]) -> np.ndarray:
    """The features of FEATURE_NAMES for every line (one row a line; empty lines get zeros)."""
    n = len(lines)
    # Lines a rule removed are not scored, and count as no words for the page's prose.
    shapes = [_line_shape(line, stopwords) if line and not gone else None
              for line, gone in zip(lines, removed)]
    word_counts = [shape[-1] if shape else 0.0 for shape in shapes]
    prose = [count if count >= _PROSE_MIN_WORDS else 0.0 for count in word_counts]
    total_prose = sum(prose) or 1.0
    page_prose_share = sum(prose) / (sum(word_counts) or 1.0)
    first, last = _main_block(word_counts)
    main_block_share = sum(prose[first:last + 1]) / total_prose
    rows = np.zeros((n, _BASE_COUNT))
    scored = np.array([shape is not None for shape in shapes])
    if not scored.any():
        return np.hstack([rows, np.zeros((n, len(_PAIRS)))])
    indexes = np.flatnonzero(scored)
    shape_rows = np.array([shape for shape in shapes if shape is not None])
    prose_array = np.array(prose)
    prose_before = (np.cumsum(prose_array) - prose_array)[indexes]
    distance = np.where(indexes < first, first - indexes, np.where(indexes > last, indexes - last, 0))
    # A comment prompt after the start of the article: what follows it is readers' text.
    comment_seen = np.logical_or.accumulate(np.asarray(comment_prompts, dtype=bool) & (np.arange(n) > first))
    # A comment header after the start of the article: it and what follows are readers' text.
    header_seen = np.logical_or.accumulate(np.array(
        [index > first and shape is not None and len(line) <= _COMMENT_HEADER_MAX_CHARS
         and _COMMENT_HEADER.search(line) is not None
         for index, (line, shape) in enumerate(zip(lines, shapes))], dtype=bool))
    repeats = Counter(lines)
    short = (shape_rows[:, -1] < 5).astype(float)
    rows[indexes] = np.column_stack([
        np.ones(len(indexes)), shape_rows[:, :-1], indexes / max(n - 1, 1), (distance == 0).astype(float),
        np.log1p(distance), prose_before / total_prose,
        (total_prose - prose_before - prose_array[indexes]) / total_prose,
        comment_seen[indexes].astype(float), header_seen[indexes].astype(float),
        np.array([repeats[lines[index]] > 1 for index in indexes], dtype=float),
        np.full(len(indexes), page_prose_share), np.full(len(indexes), main_block_share),
        short * page_prose_share, short,
    ])
    left, right = zip(*_PAIRS)
    return np.hstack([rows, rows[:, left] * rows[:, right]])


def _sigmoid(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(values, -30, 30)))


def context_features(own: np.ndarray, removed: Sequence[bool], short: np.ndarray) -> np.ndarray:
    """The features of CONTEXT_NAMES: a line's score beside its neighbours' (log-odds).

    Lines removed by a rule count as sure boilerplate neighbours; empty lines are skipped over.
    """
    n = len(own)
    gone = np.asarray(removed, dtype=bool)
    logit = np.where(gone, -4.0, np.log(np.clip(own, 1e-4, 1 - 1e-4) / np.clip(1 - own, 1e-4, 1)))
    padded = np.concatenate([np.full(_WINDOW, -4.0), logit, np.full(_WINDOW, -4.0)])
    windows = np.lib.stride_tricks.sliding_window_view(padded, 2 * _WINDOW + 1)
    others = np.delete(windows, _WINDOW, axis=1)
    window_mean = others.mean(axis=1)
    gone_padded = np.concatenate([np.ones(_WINDOW), gone, np.ones(_WINDOW)])
    removed_share = np.delete(np.lib.stride_tricks.sliding_window_view(gone_padded, 2 * _WINDOW + 1),
                              _WINDOW, axis=1).mean(axis=1)
    rows = np.empty((n, len(CONTEXT_NAMES)))
    rows[:, 0] = 1.0
    rows[:, 1] = logit
    rows[:, 2] = padded[_WINDOW - 1:_WINDOW - 1 + n]
    rows[:, 3] = padded[_WINDOW + 1:_WINDOW + 1 + n]
    rows[:, 4] = window_mean
    rows[:, 5] = others.max(axis=1)
    rows[:, 6] = short
    rows[:, 7] = short * window_mean
    rows[:, 8] = removed_share
    return rows


@dataclass(frozen=True)
class LineModel:
    """Standardisation and weights of the line model and of the context step."""

    mean: np.ndarray
    scale: np.ndarray
    weights: np.ndarray
    context_mean: np.ndarray
    context_scale: np.ndarray
    context_weights: np.ndarray

    def line_scores(self, features: np.ndarray) -> np.ndarray:
        return _sigmoid(((features - self.mean) / self.scale) @ self.weights)

    def context_scores(self, features: np.ndarray) -> np.ndarray:
        return _sigmoid(((features - self.context_mean) / self.context_scale) @ self.context_weights)

    def to_text(self) -> str:
        rows = ["# Body-line model of pipeline.boilerplate, written by scripts/train_boilerplate.py.",
                "# name mean scale weight; a section per model."]
        for section, names, mean, scale, weights in (
                ("line", FEATURE_NAMES, self.mean, self.scale, self.weights),
                ("context", CONTEXT_NAMES, self.context_mean, self.context_scale, self.context_weights)):
            rows.append(f"[{section}]")
            rows += [f"{name} {m:.6g} {s:.6g} {w:.6g}" for name, m, s, w in zip(names, mean, scale, weights)]
        return "\n".join(rows) + "\n"

    @classmethod
    def from_text(cls, text: str) -> "LineModel":
        sections: dict[str, list[tuple[str, float, float, float]]] = {}
        current = None
        for raw in text.splitlines():
            row = raw.strip()
            if not row or row.startswith("#"):
                continue
            if row.startswith("["):
                current = sections.setdefault(row.strip("[]"), [])
                continue
            name, mean, scale, weight = row.split()
            assert current is not None
            current.append((name, float(mean), float(scale), float(weight)))
        for section, names in (("line", FEATURE_NAMES), ("context", CONTEXT_NAMES)):
            if tuple(name for name, *_ in sections.get(section, [])) != names:
                raise ValueError(f"boilerplate model: section [{section}] does not list {names}")
        line, context = (np.array([values[1:] for values in sections[key]]).T for key in ("line", "context"))
        return cls(line[0], line[1], line[2], context[0], context[1], context[2])


MODEL_FILE = "boilerplate_model.txt"


@lru_cache(maxsize=1)
def default_model() -> LineModel:
    return LineModel.from_text(resources.files("pipeline").joinpath(MODEL_FILE).read_text("utf-8"))


def body_scores(lines: Sequence[str], removed: Sequence[bool], comment_prompts: Sequence[bool],
                model: LineModel | None = None) -> np.ndarray:
    """Body probability of every line after the context step (lines removed by a rule score 0)."""
    model = model or default_model()
    if not lines:
        return np.zeros(0)
    stopwords = guess_stopwords([line for line, gone in zip(lines, removed) if line and not gone])
    features = line_features(lines, removed, comment_prompts, stopwords)
    own = model.line_scores(features)
    scores = model.context_scores(context_features(own, removed, features[:, _SHORT]))
    scores[np.asarray(removed, dtype=bool)] = 0.0
    return scores


class SiteRepetition:
    """How many documents of each site in a batch hold each line.

    Only lines of a few words or more are counted: a single word repeats across any site by chance.
    """

    def __init__(self, min_chars: int = 12) -> None:
        self.min_chars = min_chars
        self._counts: dict[str, Counter[str]] = {}
        self._documents: Counter[str] = Counter()

    def add(self, site: str, lines: Iterable[str]) -> None:
        self._documents[site] += 1
        self._counts.setdefault(site, Counter()).update(
            {line for line in lines if len(line) >= self.min_chars})

    def documents(self, site: str) -> int:
        return self._documents[site]

    def sites(self) -> list[str]:
        return list(self._documents)

    def repeated(self, site: str, min_documents: int) -> frozenset[str]:
        """The lines found in at least `min_documents` documents of `site`."""
        counts = self._counts.get(site, Counter())
        return frozenset(line for line, count in counts.items() if count >= min_documents)
