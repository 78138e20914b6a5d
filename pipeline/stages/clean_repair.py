"""Repair of a scraped text before its lines are judged (pipeline.stages.clean): line breaks unified, NFC,
mojibake and encoding debris fixed, control characters removed, whitespace collapsed.
"""
from __future__ import annotations

import re
import unicodedata

import ftfy
from ftfy.badness import MOJIBAKE_CATEGORIES, is_bad
from ftfy.chardata import HTML_ENTITY_RE

from pipeline.stages.clean_rules import _is_menu
from pipeline.stages.clean_vocabulary import _SHORT_LINE, _SPACE_RUN

# Repair mojibake and encoding debris, but leave every deliberate character alone: the source side of
# a bilingual record must be faithful, so typographic quotes, ligatures and full-width forms stay.
_FTFY_CONFIG = ftfy.TextFixerConfig(
    uncurl_quotes=False, fix_latin_ligatures=False, fix_character_width=False, normalization="NFC",
    explain=False,
)
# ftfy is the slowest step, so only lines holding a character that mojibake, HTML entities, terminal
# escapes or surrogates are made of go through it (UTF-8 misread as cp1252, Latin-1, cp1250/1251, Greek
# or MacRoman always yields Latin-1/Latin Extended, Greek, Cyrillic, spacing modifiers or symbols).
# The scans over the whole text use the standard `re`: they are plain code-point ranges, which it scans
# several times faster than `regex`.
_MOJIBAKE_HINT = re.compile(
    "[&\x1b\x80-\u024f\u02c6-\u02dd\u0370-\u04ff\u2190-\u25ff\ufb01\ufb02\ufffd\ud800-\udfff]")
# A hinted line still goes through ftfy only if one of its fixers could change it: fix_text returns its
# input unchanged unless the line holds what a fixer acts on (an HTML entity as ftfy's unescape_html
# reads them, a control, C1 or format character, a line break, a surrogate, a terminal escape), is not
# NFC, or looks like mojibake to `ftfy.badness.is_bad`. Every pattern of is_bad needs a character of one
# of the categories below or one of the characters listed after them, so is_bad only runs on lines
# holding one. A bare "&" ("News & Politics") is no entity: such lines, many on some pages, skip ftfy.
_FTFY_FIXABLE = re.compile(
    HTML_ENTITY_RE.pattern
    + "|[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u206a-\u206f\ud800-\udfff\ufeff\ufff9-\ufffc]")
_MOJIBAKE_SUSPECT = re.compile("[" + "".join(
    MOJIBAKE_CATEGORIES[category] for category in (
        "c1", "bad", "law", "currency", "start_punctuation", "end_punctuation", "numeric", "box",
        "upper_accented")) + "ŒœÙ°Ђ]")
# The longest text one match of is_bad's pattern covers (checked against ftfy's pattern by a test).
_BADNESS_MAX_WIDTH = 7
# Line breaks other than "\n" (CR LF is one break); str.replace finds them ten times faster than `re`.
_OTHER_LINE_BREAKS = "\r\v\f\x85\u2028\u2029"
# Control characters (C0 and C1 but newline and tab), and the invisible format characters ftfy also
# removes: deprecated format characters, byte-order mark, interlinear annotation.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u206a-\u206f\ufeff\ufff9-\ufffb]")
_WHITESPACE_RUN = re.compile(r"\s+")   # \s and str.split() both take what str.isspace() takes
# Past this length a line's whitespace is collapsed in place: split() would hold one object per word.
_LONG_LINE = 100_000


def _ftfy_may_change(line: str) -> bool:
    """False only where `ftfy.fix_text(line, _FTFY_CONFIG)` would return `line` unchanged."""
    return bool(
        _FTFY_FIXABLE.search(line) or not unicodedata.is_normalized("NFC", line)
        or _looks_like_mojibake(line)
        # fix_text cuts longer lines into pieces, which this reasoning does not cover.
        or len(line) > _FTFY_CONFIG.max_decode_length)


def _looks_like_mojibake(line: str) -> bool:
    """`is_bad(line)`, or True where it might be: is_bad is run on the characters around each suspect.

    Every match of is_bad's pattern holds a suspect character and is at most _BADNESS_MAX_WIDTH long,
    so the window around that character holds it too; a window can only add matches (one that starts
    mid-line matches `^`), which costs a call to ftfy but never skips one. French text has « » on
    most lines: searching a few windows instead of the whole line made cleaning 10 % faster.
    """
    reach = _BADNESS_MAX_WIDTH - 1
    return any(is_bad(line[max(0, match.start() - reach):match.start() + _BADNESS_MAX_WIDTH])
               for match in _MOJIBAKE_SUSPECT.finditer(line))


def _unify_line_breaks(text: str) -> str:
    """`text` with every line break written "\n"."""
    text = text.replace("\r\n", "\n")
    for line_break in _OTHER_LINE_BREAKS:
        if line_break in text:
            text = text.replace(line_break, "\n")
    return text


def _has_mojibake_hint(line: str) -> bool:
    # In ASCII, only "&" and the escape character are hints: most lines of a page need no search.
    return (not line.isascii() or "&" in line or "\x1b" in line) and _MOJIBAKE_HINT.search(line) is not None


def _repair(text: str) -> tuple[list[str], set[int]]:
    """NFC, mojibake and control characters repaired; lines with whitespace collapsed.

    Also returns the indexes of lines laid out as menus with runs of spaces ("Home  News  Sport"),
    since collapsing the whitespace erases that layout.
    """
    text = _unify_line_breaks(text)
    if _MOJIBAKE_HINT.search(text):
        repaired = "\n".join(
            ftfy.fix_text(line, _FTFY_CONFIG) if _has_mojibake_hint(line) and _ftfy_may_change(line)
            else line
            for line in text.split("\n"))
    else:
        repaired = text
    raw_lines = _CONTROL.sub("", unicodedata.normalize("NFC", repaired)).split("\n")
    spaced_menus = {
        index for index, line in enumerate(raw_lines)
        if ("  " in line or "\t" in line) and len(line) <= _SHORT_LINE
        and _is_menu(_SPACE_RUN.split(line.strip()))
    }
    return [_collapse_whitespace(line) for line in raw_lines], spaced_menus


def _collapse_whitespace(line: str) -> str:
    """Every run of whitespace (each Unicode space and tab) as one space, none at either end."""
    return _WHITESPACE_RUN.sub(" ", line).strip() if len(line) > _LONG_LINE else " ".join(line.split())
