"""Line rules of the clean stage: which rule, if any, takes a line out of the body (menus, stamps, prompts,
footers), and which lines are the title, byline, date and attribution of the page.
"""
from __future__ import annotations

import math
import re
from typing import Callable, Iterable

from pipeline.stages.boilerplate_features import is_interface_phrase
from pipeline.stages.clean_vocabulary import (
    _ARABIC, _ARABIC_ROLE, _ASCII_GLUE, _ASCII_LOWER_UPPER, _ATTRIBUTION_IN_PARENS, _ATTRIBUTION_LINE,
    _BROWSER_NOTE, _BY_PREFIX, _CAPTCHA, _CJK_RIGHTS, _CLOSERS, _COMMENT_PROMPT, _COOKIE_WORD, _COOKIES,
    _COPYRIGHT_START, _CREDIT_SEPARATOR, _DATE_IN_TEXT, _DATE_LINE, _DATED_SOURCE_LINE, _DESK_CREDIT, _DIGIT,
    _FOUR_DIGITS, _GLUE, _GLUED_BREADCRUMB, _HAN, _HAN_NAME, _HAN_NAV_WORDS, _HEADER_TRAILER,
    _HEADLINE_MAX_CHARS, _HEADLINE_MAX_LINE_CHARS, _HEADLINE_MAX_WORDS, _INLINE_RELATED, _JOB_TITLE, _LICENCE,
    _LIST_MARKER, _LONG_LINE,
    _LONG_NUMBER, _LOWER_UPPER, _LOWER_UPPER_GLUE, _MARKDOWN_HEADING, _MENU_ITEM_MAX_CHARS,
    _MENU_ITEM_MAX_WORDS, _MENU_SEPARATOR, _MENU_SEPARATOR_CHARACTER, _NAME_PARTICLES, _NAME_SEPARATORS,
    _NAV_WORDS, _NEWSLETTER, _PAGE_STAMP, _PARENTHESIZED_NAME, _RIGHTS_AS_SENTENCE, _RIGHTS_RESERVED, _ROLE,
    _SECTION_HEADERS, _SEPARATED_BREADCRUMB, _SHARE_CORE, _SHARE_WORDS, _SHORT_LINE, _SITE_SUFFIX, _SPACES,
    _TERMINAL, _UI_LINES, _UNSPACED_HEADLINE_MIN_CHARS, _UNSPACED_SCRIPT, _UNSPACED_SHARE, _WORD_SPLIT, _YEAR)
from pipeline.stages.line_cache import short_line_cache


def _by_first_character(words: Iterable[str]) -> str:
    """A pattern matching any of `words` (literal text), with one alternative per first character.

    `re` tries a pattern's alternatives one after the other at every position of a line; grouped by
    their first character, most are passed over at once: the scan takes a quarter less time.
    """
    groups: dict[str, list[str]] = {}
    for word in words:
        groups.setdefault(word[0], []).append(re.escape(word[1:]))
    return "|".join(f"{re.escape(first)}(?:{'|'.join(rests)})" for first, rests in groups.items())


def _ends_sentence(line: str) -> bool:
    stripped = line.rstrip(_CLOSERS + " ")
    return bool(stripped) and stripped[-1] in _TERMINAL


def _words(line: str) -> list[str]:
    # _GLUE over a line without Han reduces to lower-then-upper, which `re` finds several times faster
    # on a line of ASCII.
    if line.isascii():
        glued = _ASCII_GLUE.sub(" ", line)
    else:
        glued = (_GLUE if _HAN.search(line) else _LOWER_UPPER_GLUE).sub(" ", line)
    return [word for word in _WORD_SPLIT.split(glued) if word]


def _segment_han(word: str, vocabulary: frozenset[str]) -> bool:
    """Whether a run of Han characters is made entirely of vocabulary words (greedy longest match)."""
    position = 0
    while position < len(word):
        for end in range(len(word), position, -1):
            if word[position:end] in vocabulary:
                position = end
                break
        else:
            return False
    return True


def _mostly_vocabulary(
        line: str, vocabulary: frozenset[str], han_vocabulary: frozenset[str], share: float) -> bool:
    """Whether the line has two words or more and at least `share` of them are in the vocabulary.

    Counting stops at the first unknown word too many: on most lines, the first word.
    """
    words = _words(line)
    if len(words) < 2:
        return False
    unknown_allowed = len(words) - math.ceil(share * len(words))
    for word in words:
        if not (word.casefold() in vocabulary
                or (not word.isascii() and _HAN.match(word) and _segment_han(word, han_vocabulary))):
            unknown_allowed -= 1
            if unknown_allowed < 0:
                return False
    return True


def _is_navigation(line: str) -> bool:
    if len(line) > 100 or _ends_sentence(line):
        return False
    if _UI_LINES.match(line):
        return True
    if _mostly_vocabulary(line, _NAV_WORDS, _HAN_NAV_WORDS, 0.75):
        return True
    # Menus flattened by a scraper glue their items together: "HomeWorldBusinessTech".
    glued = len((_ASCII_LOWER_UPPER if line.isascii() else _LOWER_UPPER).findall(line))
    return glued >= 3 and glued > line.count(" ")


def _is_menu(items: list[str]) -> bool:
    """Whether the parts of a line are menu items: three or more short labels without digits."""
    if len(items) < 3:
        return False
    for item in items:
        item = item.strip()
        if (not item or len(item) > _MENU_ITEM_MAX_CHARS or len(item.split()) > _MENU_ITEM_MAX_WORDS
                or _DIGIT.search(item) or _ends_sentence(item)):
            return False
    return True


def _is_menu_line(line: str) -> bool:
    return (len(line) <= _SHORT_LINE and _MENU_SEPARATOR_CHARACTER.search(line) is not None
            and _is_menu(_MENU_SEPARATOR.split(line)))


def _is_single_word(line: str) -> bool:
    return " " not in line and not (
        len(line) >= _UNSPACED_HEADLINE_MIN_CHARS and _UNSPACED_SCRIPT.search(line))


# A share prompt of ASCII text holds a core word as one of its words: a line whose lower-cased text holds
# none anywhere (most lines) is passed over by one search, without being split into words.
_ASCII_SHARE_CORE = re.compile(_by_first_character(sorted(word for word in _SHARE_CORE if word.isascii())))


def _is_share_prompt(line: str) -> bool:
    if len(line) > 80 or (line.isascii() and _ASCII_SHARE_CORE.search(line.lower()) is None):
        return False
    # Split at separators only: brand names keep their inner capitals ("LinkedIn", "WhatsApp").
    words = [word.casefold() for word in _WORD_SPLIT.split(line) if word]
    if len(words) == 1 and _UNSPACED_SHARE.match(words[0]):
        return True
    return bool(words) and all(word in _SHARE_WORDS for word in words) and any(
        word in _SHARE_CORE for word in words)


def _is_copyright(line: str) -> bool:
    if _COPYRIGHT_START.match(line):
        return True
    if len(line) > _LONG_LINE:
        return False
    if "©" in line and len(line) <= 200:
        return True
    return bool(_RIGHTS_AS_SENTENCE.search(line)) or (len(line) <= 150 and bool(_CJK_RIGHTS.search(line)))


def _is_cookie_banner(line: str) -> bool:
    return len(line) <= 600 and bool(_COOKIE_WORD.search(line)) and bool(_COOKIES.search(line))


def _is_licence(line: str) -> bool:
    return (len(line) <= _SHORT_LINE and not _ends_sentence(line) and bool(_LICENCE.search(line))
            and bool(_LONG_NUMBER.search(line)))


def _is_section_header(line: str) -> bool:
    return len(line) <= 60 and line.rstrip(_HEADER_TRAILER).casefold() in _SECTION_HEADERS


def _is_page_stamp(line: str) -> bool:
    # A stamp holds a year: "19" or "20" is looked for before any pattern.
    return (len(line) <= 80 and not _ends_sentence(line) and ("19" in line or "20" in line)
            and bool(_YEAR.search(line)) and bool(_PAGE_STAMP.search(line)))


def _names_like(text: str) -> bool:
    """Whether `text` reads as a list of personal or organisation names."""
    parts = [part.strip() for part in _NAME_SEPARATORS.split(text.strip()) if part and part.strip()]
    if not parts or len(parts) > 8:
        return False
    for part in parts:
        words = part.split()
        if _HAN.search(part):
            # Chinese names are two to four characters; foreign names are joined by a middle dot.
            if len(words) > 4 or not all(_HAN_NAME.match(word) for word in words):
                return False
        elif _ARABIC.search(part):
            if len(words) > 3:
                return False
        elif not (1 <= len(words) <= 5 and all(
                (word[0].isupper() or word.casefold() in _NAME_PARTICLES)
                and not any(char.isdigit() for char in word)
                for word in words)):
            return False
    return True


def _strip_parentheses(line: str) -> str:
    if line[:1] in "(（" and line[-1:] in ")）":
        return line[1:-1].strip()
    return line


def _has_colon(line: str) -> bool:
    return ":" in line or "：" in line


def _date_of(text: str) -> str | None:
    match = _DATE_IN_TEXT.search(text)
    return match.group(0).strip() if match else None


class _Metadata:
    """Title, byline, date and attribution found in the text; the first of each wins."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def offer(self, field: str, value: str | None) -> None:
        if value and field not in self.values:
            self.values[field] = value


def _byline(line: str, found: _Metadata) -> bool:
    """Recognise a credit line: "By X | Paper | Updated: date", "Reporter X", "(Reporters: X; photo: Y)"."""
    if len(line) > 200:
        return False
    by = _BY_PREFIX.match(line)
    if by:
        names, _, rest = by.group("rest").partition("|")
        names = _JOB_TITLE.sub("", names)
        if not _names_like(names):
            return False
        found.offer("byline", names.strip())
        for part in filter(None, (part.strip() for part in rest.split("|"))):
            if _DATE_LINE.match(part):
                found.offer("published", _date_of(part))
            else:
                found.offer("attribution", part)
        return True
    if _DESK_CREDIT.match(line):
        found.offer("byline", line)
        return True
    credit = _strip_parentheses(line)
    segments = [segment.strip() for segment in _CREDIT_SEPARATOR.split(credit) if segment.strip()]
    for index, segment in enumerate(segments):
        role = _ROLE.match(segment) or (not segment.isascii() and _ARABIC_ROLE.match(segment))
        names = role.group("names") if role else (segment if index else None)
        if names is None or not _names_like(names.rstrip(".")):
            return False
    found.offer("byline", credit)
    return True


def _attribution(line: str, found: _Metadata) -> bool:
    if len(line) > 260:
        return False
    # Each pattern needs an opening parenthesis first or a colon: most lines hold neither.
    parenthesized = line.startswith(("(", "（"))
    if ((parenthesized and _ATTRIBUTION_IN_PARENS.match(line))
            or (_has_colon(line) and _ATTRIBUTION_LINE.match(line))):
        found.offer("attribution", _strip_parentheses(line))
        return True
    named = _PARENTHESIZED_NAME.match(line) if parenthesized else None
    if named and _names_like(named.group("name")):
        found.offer("attribution", named.group("name").strip())
        return True
    return False


def _published(line: str, found: _Metadata) -> bool:
    # Every date pattern holds four digits in a row (a year): lines without are passed over cheaply.
    if len(line) > 100 or not _FOUR_DIGITS.search(line):
        return False
    if len(line) <= 60 and _DATE_LINE.match(line):
        found.offer("published", _date_of(line))
        return True
    dated_source = _DATED_SOURCE_LINE.match(line) if _has_colon(line) else None
    if dated_source:
        found.offer("published", _date_of(line))
        found.offer("attribution", dated_source.group("source").strip())
        return True
    return False


def _headline_text(line: str) -> str:
    """A headline without the breadcrumb glued before it or the site name after it."""
    text = _MARKDOWN_HEADING.sub("", line)
    text = _SEPARATED_BREADCRUMB.sub("", text)
    text = _GLUED_BREADCRUMB.sub("", text)
    return _without_site_suffix(text).strip()


def _without_site_suffix(text: str) -> str:
    # A site suffix ends the text in a lower-case ASCII letter or 网, white space aside (every character
    # `\s` matches is one str.rstrip removes). The pattern tries every position of a text, most
    # of a headline's cost on prose: it runs on the texts that end so only.
    last = text.rstrip()[-1:]
    return _SITE_SUFFIX.sub("", text) if "a" <= last <= "z" or last == "网" else text


def _headline_key(line: str) -> str:
    return _SPACES.sub(" ", _headline_text(line)).strip(" " + _TERMINAL).casefold()


def _is_headline(line: str) -> bool:
    """Headline-shaped: short, more than one word, not a sentence, not a list item or a menu."""
    if len(line) > _HEADLINE_MAX_LINE_CHARS:
        return False
    text = _headline_text(line)
    return (bool(text) and len(text) <= _HEADLINE_MAX_CHARS and len(text.split()) <= _HEADLINE_MAX_WORDS
            and not _ends_sentence(text) and not _is_single_word(text) and not _LIST_MARKER.match(line)
            and not _is_menu_line(line))


# Order matters: specific footers and prompts first, metadata lines last. Each rule is (name, predicate,
# whether the predicate also takes the metadata found so far, which it fills in).
_LINE_RULES: tuple[tuple[str, Callable[..., bool], bool], ...] = (
    ("copyright", _is_copyright, False),
    ("licence", _is_licence, False),
    ("browser_note", lambda line: len(line) <= 200 and bool(_BROWSER_NOTE.search(line)), False),
    ("cookie_banner", _is_cookie_banner, False),
    ("captcha", lambda line: len(line) <= _SHORT_LINE and bool(_CAPTCHA.search(line)), False),
    ("comment_prompt", lambda line: len(line) <= _SHORT_LINE and bool(_COMMENT_PROMPT.match(line)), False),
    ("share_prompt", _is_share_prompt, False),
    ("newsletter", lambda line: len(line) <= _SHORT_LINE and len(line.split()) <= 12
     and bool(_NEWSLETTER.search(line)), False),
    ("section_header", _is_section_header, False),
    ("related_link", lambda line: _has_colon(line) and bool(_INLINE_RELATED.match(line)), False),
    ("page_stamp", _is_page_stamp, False),
    ("navigation", _is_navigation, False),
    ("byline", _byline, True),
    ("attribution", _attribution, True),
    ("published", _published, True),
    # Last, so that credit lines such as "By X | Paper | Updated: date" are read as metadata first.
    ("navigation", _is_menu_line, False),
    # "Sign in", "تسجيل الدخول", "Read more": a short phrase of interface words only (on the dev set,
    # 17,000 tokens of such lines are boilerplate and 130 body).
    ("interface", is_interface_phrase, False),
)


# The rules that only match a line holding one of their key words, and those words (lower case): one
# search of the lower-cased line passes over all of them on the lines (most) that hold none. The
# standard `re` without IGNORECASE scans a lower-cased line several times faster than `regex` with it.
_KEYWORD_RULES = frozenset({"copyright", "licence", "browser_note", "cookie_banner", "captcha", "newsletter"})
_RULE_KEYWORDS = re.compile(_by_first_character([
    "copyright", "©", "(c)", "copr.", *_RIGHTS_RESERVED.split("|"), "未经",
    "licence", "license", "registration", "registered", "permit", "icp", "备案", "许可证", "登记证", "经营许可",
    "browser", "resolution", "best viewed", "分辨率", "浏览器",
    "cookie", "куки", "クッキー", "الكوكيز", "ملفات تعريف الارتباط",
    "captcha", "not a robot", "are you a robot", "验证码", "رمز التحقق",
    "subscri", "sign up", "signup", "newsletter", "suscr", "abonn", "inscrivez", "подпис", "订阅", "اشترك"]))
_RULES_WITHOUT_KEYWORDS = tuple(rule for rule in _LINE_RULES if rule[0] not in _KEYWORD_RULES)


def _classify(line: str, found: _Metadata) -> str | None:
    if len(line) > _LONG_LINE:
        # Prose: of all the rules only a copyright footer or a cookie banner can be this long.
        if _COPYRIGHT_START.match(line):
            return "copyright"
        return "cookie_banner" if _is_cookie_banner(line) else None
    rules = _LINE_RULES if _RULE_KEYWORDS.search(line.lower()) else _RULES_WITHOUT_KEYWORDS
    for name, matches, takes_metadata in rules:
        if matches(line, found) if takes_metadata else matches(line):
            return name
    return None


@short_line_cache
def _rule_and_metadata(line: str) -> tuple[str | None, tuple[tuple[str, str], ...]]:
    """The rule that takes `line` and the metadata it offers, read on its own."""
    found = _Metadata()
    return _classify(line, found), tuple(found.values.items())


def _classify_repeating(line: str, found: _Metadata) -> str | None:
    """`_classify`, with the rule of a line seen before taken from a cache.

    A rule's verdict depends on the line alone; what it offers as metadata is offered again, in the
    same order, so the first value of each field still wins.
    """
    if len(line) > _LONG_LINE:
        return _classify(line, found)
    rule, offers = _rule_and_metadata(line)
    for field, value in offers:
        found.offer(field, value)
    return rule
