"""Clean stage: repair text and remove web boilerplate, keeping the body faithful.

The text is repaired first (NFC, mojibake, control characters; pipeline.stages.clean_repair), then judged
line by line, because scraped boilerplate is line-shaped: menus, page stamps, block headers and the links
under them, copyright and licence footers, comment, captcha, share, newsletter and cookie prompts. Title,
byline, date and source attribution lines become metadata. Every line taken out of the body is recorded
with the rule that matched it, so what was dropped can be audited. The remaining lines are split into
paragraphs by the rules of `split_paragraphs` (`pipeline.stages.segment.paragraphs_from_lines`). Rules
are general patterns and vocabularies in several languages, not strings of particular pages.
"""
from __future__ import annotations

from pathlib import PurePath
from typing import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import regex

from pipeline.records import (CleanedDocument, CleanedRecord, RawDocument, Region, Reject, RejectReason,
                              RemovedLine)
from pipeline.settings import BODY_THRESHOLD, MIN_SITE_REPEATS, CommentsPolicy
from pipeline.stages.base import Stage
from pipeline.stages.boilerplate import BodyModel, SiteRepetition, body_scores
from pipeline.stages.boilerplate_features import is_interface_phrase
from pipeline.stages.clean_rules import (_classify_repeating, _ends_sentence, _headline_key, _headline_text,
                                         _is_headline, _is_single_word, _Metadata, _segment_han)
from pipeline.stages.clean_repair import _repair, _unify_line_breaks
from pipeline.stages.clean_vocabulary import (_CLOSERS, _DIGIT, _HAN, _HAN_NAV_WORDS, _NAV_WORDS, _SPACES,
                                              _UNSPACED_SCRIPT)
from pipeline.stages.regions import comments_start
from pipeline.stages.segment import paragraphs_from_lines
from pipeline.stages.words import word_count

_TITLE_MAX_WORDS_SKIPPED = 3
# A line the rules leave is kept when its body score (pipeline.stages.boilerplate) reaches BODY_THRESHOLD; a
# headline needs less, being short, but a line scored as sure boilerplate never becomes the title.
# A short line weighs a few words in a page's text and a whole segment in its output: menus, labels and
# teaser fragments are made of them. Removing an unsure one costs the body little, keeping it adds a
# boilerplate segment to translate and write; so a line of fewer than SHORT_LINE_WORDS words is kept
# only when its odds of being body are SHORT_LINE_ODDS times those a longer line needs (0.7 for 0.25).
# Readers' comments are body, and a thread brings many short lines (names, "Reply", dates): on pages of
# unseen sites, odds of 7 rather than 4.5 keep fewer of them at the same F1.
SHORT_LINE_WORDS = 4
SHORT_LINE_ODDS = 7
# A sentence right after a kept sentence needs this share of the threshold (see `_mark_low_scores`).
CONTINUED_SENTENCE_SHARE = 0.5
TITLE_MIN_SCORE = 0.2
TITLE_SURE_SCORE = 0.35
# A text of fewer undecided lines than this is no scraped page with menus and teasers to judge: the
# rules alone clean it.
MIN_SCORED_LINES = 5
# A page whose undecided lines are all sentences (a headline aside) is prose through and through: the
# body scorer keeps every such line, so it is not run. A sentence here ends with a full stop of its
# script and holds five words or more (twelve characters in scripts written without spaces).
_FULL_STOPS = ".!?。！？؟…।"
_PROSE_MIN_SPACES = 4
_PROSE_MIN_UNSPACED_CHARS = 12
LOW_SCORE_RULE = "low_score"
# Repetition across a batch: a line of this many characters found in this many pages of one site.
REPEATED_RULE = "repeated_in_site"
REPEATED_MIN_CHARS = 12
# Readers' comments left out by the run setting comments=drop.
COMMENTS_RULE = "comments"
# The rules whose lines keep their body score in `removed` (for the others the rule decided, not it).
_SCORED_RULES = (LOW_SCORE_RULE, COMMENTS_RULE)


def _mark_links_under_headers(lines: list[str], rules: list[str | None]) -> None:
    """Short link lines under a "Related Articles"-style header belong to that block, not the body."""
    in_block = False
    for index, line in enumerate(lines):
        if not line:
            continue
        if rules[index] == "section_header":
            in_block = True
        elif rules[index] is None:
            if in_block and len(line) <= 150 and not _ends_sentence(line):
                rules[index] = "related_link"
            else:
                in_block = False


def _mark_menu_words_at_top(lines: list[str], rules: list[str | None]) -> None:
    """Menu items one per line at the top of a page ("Inicio", "Nacional", "Economía") are navigation.

    A run of single words before the first other line is a menu when one of them is a known menu word
    or the run sits next to a recognised navigation line.
    """
    run: list[int] = []
    known = 0
    for index, line in enumerate(lines):
        if not line:
            continue
        rule = rules[index]
        if rule == "navigation":
            known += 1
        elif rule is None:
            if not _is_single_word(line) or _ends_sentence(line) or _DIGIT.search(line):
                break
            run.append(index)
            known += line.casefold() in _NAV_WORDS or bool(
                _HAN.match(line) and _segment_han(line, _HAN_NAV_WORDS))
        elif rule in ("title", "repeated_title"):
            break
    if known and len(run) + known >= 2:
        for index in run:
            rules[index] = "navigation"


def _mark_title(lines: list[str], rules: list[str | None], given_title: str | None,
                scores: Sequence[float], min_score: float) -> str | None:
    """Find the headline at the top, and its repeats (often one with a breadcrumb glued on).

    Without a given title, the first headline-shaped line is taken, looking past a few single words
    (a kicker or an unrecognised menu item), past short interface phrases ("Sign in") whatever their
    score, and past lines scored as boilerplate ("Accessibility links"), but never past a sentence.
    """
    title_key = _headline_key(given_title) if given_title else None
    title: str | None = None
    words_skipped = 0
    # The lines no rule took, read one ahead; the search mostly ends near the top, so they are listed
    # lazily. Only the line at hand is ever marked, after the next one is read.
    content = (index for index, line in enumerate(lines) if line and rules[index] is None)
    upcoming = next(content, None)
    while upcoming is not None:
        index, upcoming = upcoming, next(content, None)
        line = lines[index]
        # Before a title is known no line repeats it: its key is only worked out for a headline candidate.
        if title_key is not None and _headline_key(line) == title_key:
            rules[index] = "repeated_title" if title else "title"
            title = title or _headline_text(line)
            continue
        if scores[index] < min_score or (title_key is None and is_interface_phrase(line)):
            continue
        if (title_key is None and words_skipped < _TITLE_MAX_WORDS_SKIPPED and _is_single_word(line)
                and not _ends_sentence(line)):
            words_skipped += 1
            continue
        if title_key is not None or not _is_headline(line) or upcoming is None:
            return title
        key = _headline_key(line)
        if (scores[index] < TITLE_SURE_SCORE and scores[upcoming] > scores[index]
                and _is_headline(lines[upcoming]) and _headline_key(lines[upcoming]) != key):
            continue   # an unsure line ("Sign in") before a headline scored more like body
        following = lines[index + 1] if index + 1 < len(lines) else ""
        if following and rules[index + 1] is None and following[:1].islower():
            return title   # a hard-wrapped paragraph, not a headline
        rules[index] = "title"
        title = _headline_text(line)
        title_key = key
    return title


def _given(metadata: Mapping[str, str], *keys: str) -> str | None:
    for key in keys:
        value = metadata.get(key)
        if value and value.strip():
            return _SPACES.sub(" ", value).strip()
    return None


def judge_lines(text: str, repeated: frozenset[str] = frozenset(),
                ) -> tuple[list[str], list[str | None], _Metadata]:
    """The page's repaired lines, the rule (or None) that removes each, and the metadata the rules found.

    Lines in `repeated` (lines a site repeats across many documents of a batch) are boilerplate.
    """
    lines, rules, _, found = _judge_numbered_lines(text, repeated)
    return lines, rules, found


def _judge_numbered_lines(text: str, repeated: frozenset[str],
                          ) -> tuple[list[str], list[str | None], list[int], _Metadata]:
    """`judge_lines`, with the number of each line in the text (of its first, for joined lines)."""
    lines, spaced_menus = _repair(text)
    found = _Metadata()
    rules = [_classify_repeating(line, found) if line else None for line in lines]
    for index in spaced_menus:
        if rules[index] is None:
            rules[index] = "navigation"
    if repeated:
        for index, line in enumerate(lines):
            if rules[index] is None and line in repeated:
                rules[index] = REPEATED_RULE
    _mark_menu_words_at_top(lines, rules)
    _mark_links_under_headers(lines, rules)
    return (*_join_continued_lines(lines, rules), found)


_CONTINUATION_START = regex.compile(r"\p{Ll}")


def _join_continued_lines(lines: list[str], rules: list[str | None],
                          ) -> tuple[list[str], list[str | None], list[int]]:
    """Lines no rule removed that continue the line before (it stops short of a sentence end, the next
    starts in lower case), joined into one: text wrapped by `<br>` or by width is one paragraph, scored
    and kept as one. Also returns the index in `lines` of each joined line's first line."""
    joined_lines: list[str] = []
    joined_rules: list[str | None] = []
    line_numbers: list[int] = []
    for number, (line, rule) in enumerate(zip(lines, rules)):
        if (rule is None and line and joined_lines and joined_rules[-1] is None and joined_lines[-1]
                and _CONTINUATION_START.match(line)
                and joined_lines[-1].rstrip(_CLOSERS)[-1:] not in _FULL_STOPS):
            joined_lines[-1] += " " + line
        else:
            joined_lines.append(line)
            joined_rules.append(rule)
            line_numbers.append(number)
    return joined_lines, joined_rules, line_numbers


def _is_sentence(line: str) -> bool:
    return (line.rstrip(_CLOSERS + " ")[-1:] in _FULL_STOPS
            and (line.count(" ") >= _PROSE_MIN_SPACES
                 or (len(line) >= _PROSE_MIN_UNSPACED_CHARS and bool(_UNSPACED_SCRIPT.search(line)))))


def _all_prose(lines: Sequence[str], rules: Sequence[str | None]) -> bool:
    """Whether `lines` are all sentences on a page without a comment prompt (readers' comments are
    sentences too, and the scorer is what removes them)."""
    return all(map(_is_sentence, lines)) and "comment_prompt" not in rules


def _short_line_threshold(threshold: float) -> float:
    """The score a short line needs: SHORT_LINE_ODDS times the odds of `threshold` (0 and 1 stay)."""
    if threshold <= 0 or threshold >= 1:
        return threshold
    odds = SHORT_LINE_ODDS * threshold / (1 - threshold)
    return odds / (1 + odds)


def clean(text: str, *, metadata: Mapping[str, str] | None = None, threshold: float = BODY_THRESHOLD,
          repeated: frozenset[str] = frozenset(), model: BodyModel | None = None,
          comments: str = CommentsPolicy.KEEP) -> CleanedDocument:
    """Repair `text`, remove boilerplate lines and return the body paragraphs with document metadata.

    A line goes when a rule matches it, when it is in `repeated` (see `clean_batch`), or when its body
    score (`pipeline.stages.boilerplate.body_scores`) is below `threshold` (a short line needs more, see
    SHORT_LINE_ODDS); 0 keeps every line no rule takes.
    Values in `metadata` (keys title, author/byline, date/published, attribution/source) win over
    values found in the text. Every line removed from the body is listed in `removed` with its rule, its
    line number and, where it had one, its score; `line_scores` gives each paragraph's (of its first
    line) where the page was scored. Paragraphs below the page's comment prompt, count of comments or
    first reader's comment header (pipeline.stages.regions) are in the region "comments", the others in
    "main"; `comments="drop"` removes those lines instead (rule "comments"). `model` replaces the
    shipped body model (one trained on other pages, see scripts/train_boilerplate.py).
    """
    metadata = metadata or {}
    lines, rules, line_numbers, found = _judge_numbered_lines(text, repeated)
    by_rule = [rule is not None for rule in rules]
    prompts = [rule == "comment_prompt" for rule in rules]
    undecided = [line for line, rule in zip(lines, rules) if line and rule is None]
    scored = len(undecided) >= MIN_SCORED_LINES and not _all_prose(undecided[1:], rules)
    comments_from = comments_start(lines, by_rule, prompts)
    scores = (body_scores(lines, by_rule, prompts, model, comments_from).tolist() if scored
              else [1.0] * len(lines))
    given_title = _given(metadata, "title")
    guessed_title = _mark_title(lines, rules, given_title, scores, min(threshold, TITLE_MIN_SCORE))
    _mark_low_scores(lines, rules, scores, threshold)
    if CommentsPolicy(comments) is CommentsPolicy.DROP:
        for index in range(comments_from, len(lines)):
            if rules[index] is None and lines[index]:
                rules[index] = COMMENTS_RULE
    paragraphs, first_lines = _paragraphs(lines, rules)
    return CleanedDocument(
        paragraphs=tuple(paragraphs),
        title=given_title or guessed_title,
        byline=_given(metadata, "byline", "author") or found.values.get("byline"),
        published=_given(metadata, "published", "date") or found.values.get("published"),
        attribution=_given(metadata, "attribution", "source") or found.values.get("attribution"),
        removed=_removed_lines(lines, rules, line_numbers, scores if scored else None),
        regions=tuple(Region.COMMENTS if index >= comments_from else Region.MAIN for index in first_lines),
        line_scores=tuple(round(scores[index], 4) for index in first_lines) if scored else (),
    )


def _mark_low_scores(lines: Sequence[str], rules: list[str | None], scores: Sequence[float],
                     threshold: float) -> None:
    """Lines no rule took whose body score is below `threshold` (for a short line, the stricter
    `_short_line_threshold`) get the rule LOW_SCORE_RULE.

    A sentence right after a kept sentence needs only CONTINUED_SENTENCE_SHARE of `threshold`: the last
    lines of a post or a reply, followed by its buttons and the page's footer, score low for their
    neighbours though they continue the text above them.
    """
    short_line_threshold = _short_line_threshold(threshold)
    continues = False
    for index, (line, rule) in enumerate(zip(lines, rules)):
        if rule is not None or not line:
            continues = continues and not line
            continue
        needed = threshold * CONTINUED_SENTENCE_SHARE if continues and _is_sentence(line) else threshold
        if scores[index] < needed or (
                scores[index] < short_line_threshold and word_count(line) < SHORT_LINE_WORDS):
            rules[index] = LOW_SCORE_RULE
        continues = rules[index] is None and _is_sentence(line)


def _removed_lines(lines: Sequence[str], rules: Sequence[str | None], line_numbers: Sequence[int],
                   scores: Sequence[float] | None) -> tuple[RemovedLine, ...]:
    """A RemovedLine for every line a rule took; the score for those removed for it or as comments
    (`scores` is None when the page was not scored: a rule's verdict there has no score)."""
    return tuple(
        RemovedLine(line, rule, round(scores[index], 4) if scores is not None and rule in _SCORED_RULES
                    else None, line_numbers[index])
        for index, (line, rule) in enumerate(zip(lines, rules)) if rule)


def _paragraphs(lines: Sequence[str], rules: Sequence[str | None]) -> tuple[list[str], list[int]]:
    """The paragraphs of the lines no rule took, as `paragraphs_from_lines` splits them, and the index of
    each paragraph's first line. A run of lines becomes one paragraph (hard-wrapped) or one per line."""
    paragraphs: list[str] = []
    first_lines: list[int] = []
    block: list[int] = []
    for index, (line, rule) in enumerate([*zip(lines, rules), ("", None)]):
        if line and not rule:
            block.append(index)
        elif block:
            # _repair's lines are stripped and collapsed already: split_paragraphs would redo both.
            found = paragraphs_from_lines([lines[number] for number in block])
            paragraphs.extend(found)
            first_lines.extend(block if len(found) == len(block) else [block[0]] * len(found))
            block = []
    return paragraphs, first_lines


def site_of(metadata: Mapping[str, str] | None, source: str | None = None) -> str:
    """The site a document comes from: the host of its url, else its source's directory."""
    url = (metadata or {}).get("url") or ""
    host = urlsplit(url.strip()).hostname if "://" in url else None
    if host:
        return host.removeprefix("www.")
    return str(PurePath(source).parent) if source else ""


def repeated_lines(documents: Iterable[tuple[str, str]], min_repeats: int = MIN_SITE_REPEATS,
                   ) -> dict[str, frozenset[str]]:
    """Per site, the lines found in `min_repeats` or more of its documents in a batch of (text, site).

    Lines are compared with whitespace collapsed, as `clean` reads them; only lines of REPEATED_MIN_CHARS
    or more count, since a single word repeats across any site by chance.
    """
    repetition = SiteRepetition(REPEATED_MIN_CHARS)
    for text, site in documents:
        repetition.add(site, {" ".join(line.split()) for line in _unify_line_breaks(text).split("\n")})
    return {site: repetition.repeated(site, min_repeats) for site in repetition.sites()}


def clean_batch(documents: Iterable[tuple[str, Mapping[str, str] | None, str]], *,
                threshold: float = BODY_THRESHOLD, min_repeats: int = MIN_SITE_REPEATS,
                ) -> list[CleanedDocument]:
    """`clean` over a batch of (text, metadata, site), with the lines a site repeats removed.

    A line found in `min_repeats` or more documents of the same site in the batch (menus, teasers and
    footers a site prints on every page) is boilerplate: rule "repeated_in_site". See `site_of`.
    """
    batch = list(documents)
    repeated = repeated_lines(((text, site) for text, _, site in batch), min_repeats)
    return [clean(text, metadata=metadata, threshold=threshold, repeated=repeated.get(site, frozenset()))
            for text, metadata, site in batch]


def removed_by_rule(documents: Iterable[CleanedDocument]) -> dict[str, int]:
    """How many lines each rule removed across `documents`, for auditing a run."""
    counts: dict[str, int] = {}
    for document in documents:
        for line in document.removed:
            counts[line.rule] = counts.get(line.rule, 0) + 1
    return dict(sorted(counts.items(), key=lambda item: (-item[1], item[0])))


class CleanStage(Stage[RawDocument, CleanedRecord]):
    """`clean` over a batch; lines repeated across the batch's pages of one site count as boilerplate.

    Only documents with a url are grouped by site (a folder of files is no site). Documents already in
    the output (`already_done`) count towards the repetition too, so that a page cleans the same in a
    first run and in a rerun, but are left out. `threshold`, `min_repeats` and `comments` are those of
    `clean` and `repeated_lines` (the run settings body_threshold, site_repeats and comments).
    """

    name = "clean"

    def __init__(self, already_done: Callable[[RawDocument], bool] | None = None, *,
                 threshold: float = BODY_THRESHOLD, min_repeats: int = MIN_SITE_REPEATS,
                 comments: str = CommentsPolicy.KEEP):
        super().__init__()
        self.already_done = already_done
        self.threshold = threshold
        self.min_repeats = min_repeats
        self.comments = CommentsPolicy(comments)
        self._repeated: dict[str, frozenset[str]] = {}

    def begin_batch(self, batch: Sequence[RawDocument]) -> None:
        self._repeated = repeated_lines(
            ((raw.text, site) for raw in batch if (site := site_of(raw.metadata))), self.min_repeats)

    def process(self, batch: Sequence[RawDocument]) -> list[CleanedRecord | Reject | None]:
        results: list[CleanedRecord | Reject | None] = []
        for raw in batch:
            if self.already_done is not None and self.already_done(raw):
                results.append(None)
                continue
            document = clean(raw.text, metadata=raw.metadata, threshold=self.threshold,
                             repeated=self._repeated.get(site_of(raw.metadata), frozenset()),
                             comments=self.comments)
            if document.paragraphs:
                results.append(CleanedRecord(raw, document))
            else:
                reason = (f"nothing left after cleaning ({document.n_boilerplate_removed} boilerplate lines "
                          "removed)")
                results.append(Reject(raw.source_path, RejectReason.NO_TEXT, reason, raw.source_record,
                                      raw.record_id))
        return results

    def describe(self, outputs: Sequence[CleanedRecord]) -> str:
        return f"{len(outputs)} with text"
