"""Regions of a cleaned page: the article ("main") and the readers' comments below it ("comments").

Readers' comments, forum replies and guest-book entries begin at the first comment prompt ("Leave a
comment", "3 comments", "Комментарии"), count of comments ("Reader Comments (4)", "106 Comments and 18
Replies") or reader's comment header ("Anna says:", "Иван пишет:", a name beside a clock time) after the
start of the article: the page's first run of prose of PIECE_MIN_WORDS words or more, else its largest
(a thread may hold many more words than the article it follows); a header, only past the start of the
largest (a teaser may come first, and the article's dateline is no header). A page with none of those has no
comments; the same prompt or header above the article ("12 comments" beside the byline) opens nothing.
Neither do the counts under each post of a blog archive ("Posted by Anna at 9:14 PM | Permalink |
Comments (4)", several on the page), nor the byline or footer of a post: what follows is the next post.
"""
from __future__ import annotations

from collections.abc import Sequence

import re

from pipeline.stages.boilerplate_blocks import BLOCK_GAP, PIECE_MIN_WORDS, PROSE_MIN_WORDS
from pipeline.stages.boilerplate_features import _COMMENT_HEADER_MAX_CHARS, _is_comment_header, _main_block
from pipeline.stages.words import word_count

_DIGIT = re.compile(r"\d")
_COMMENT_COUNT = re.compile(
    r"(?i)\b\d+\s*(?:comments?|responses?|replies|reactions?|thoughts|kommentare?|commentaires?|comentarios?"
    r"|комментари\w*|отзыв\w*|ответ\w*|تعليق\w*|ردود?|条评论|条回复)\b"
    r"|\b(?:comments?|discussion|responses|replies|kommentare|commentaires|comentarios|комментари\w*|отзывы"
    r"|التعليقات|تعليقات|评论|回复)\s*[(（]\s*\d+\s*[)）]")
# A post's own byline or footer ("Posted by Anna at 9:14 PM", "Submitted by Bo on 8 August 2012 - 8:22am",
# "By Seth Roberts at 1:12 pm") or stamp ("Updated 4:22 PM EST"): the page's posts', not a reader's.
# "Posted by: Anna | March 3, 2005 at 10:14 PM", with its colon, is how blogs sign readers' comments.
_POST_BYLINE = re.compile(
    r"(?i)^\W*(?:(?:posted|submitted|written|published|filed|updated|publié|veröffentlicht|publicado"
    r"|pubblicato|опубликовано|написано)\b(?!\s*(?:by|par|von|por|da)?\s*:)|by\b|автор\b)")
# A reader's header is a name and a date at most: a longer line ending in "writes:" introduces a quote.
_HEADER_MAX_WORDS = 10
# Counts under this many posts after the article's start make a list of posts, not one post's comments.
_ARCHIVE_MIN_COUNTS = 3


def _is_count(line: str) -> bool:
    # Every count holds a digit: most lines are passed over by that one fast search.
    return (len(line) <= _COMMENT_HEADER_MAX_CHARS and _DIGIT.search(line) is not None
            and _COMMENT_COUNT.search(line) is not None)


def _opens_comments(line: str, removed: bool, comment_prompt: bool, in_article: bool) -> bool:
    """Whether `line`, no count of comments, opens the comments. A reader's header only does past the
    start of the article's main block (`in_article`): the first piece of a page may be a teaser above the
    article, whose dateline is no reader's header."""
    if len(line) > _COMMENT_HEADER_MAX_CHARS:
        return comment_prompt
    return comment_prompt or (in_article and not removed and line.count(" ") < _HEADER_MAX_WORDS
                              and _is_comment_header(line) and _POST_BYLINE.match(line) is None)


def _first_piece(words: Sequence[float]) -> int:
    """The index of the first line of the page's first run of prose lines holding PIECE_MIN_WORDS words or
    more (gaps of up to BLOCK_GAP lines), else len(words)."""
    start, last, total = 0, -len(words), 0.0
    for place, count in enumerate(words):
        if count < PROSE_MIN_WORDS:
            continue
        if place - last > BLOCK_GAP + 1:
            start, total = place, 0.0
        last, total = place, total + count
        if total >= PIECE_MIN_WORDS:
            return start
    return len(words)


def comments_start(lines: Sequence[str], removed: Sequence[bool], comment_prompts: Sequence[bool]) -> int:
    """The index of the line where the readers' comments of a page begin, else len(lines).

    `removed` says which lines a rule took out (they hold no words of the article), `comment_prompts`
    which of them are comment prompts. Empty lines are skipped, as the scorer skips them.
    """
    present = [index for index, line in enumerate(lines) if line]
    words = [0.0 if removed[index] else word_count(lines[index]) for index in present]
    main_start = _main_block(words)[0]
    article_start = min(_first_piece(words), main_start)
    # Whether the page is a list of posts, each with its count: only read once a count is met.
    archive: bool | None = None
    for place in range(article_start + 1, len(present)):
        index = present[place]
        if _is_count(lines[index]):
            if archive is None:
                archive = sum(_is_count(lines[later]) for later in present[place:]) >= _ARCHIVE_MIN_COUNTS
            if not archive:
                return index
        elif _opens_comments(lines[index], removed[index], comment_prompts[index], place > main_start):
            return index
    return len(lines)
