"""Regions of a cleaned page: the article ("main") and the readers' comments below it ("comments").

Readers' comments, forum replies and guest-book entries begin at the first comment prompt ("Leave a
comment", "3 comments", "Комментарии") or reader's comment header ("Anna says:", "Иван пишет:", a name
beside a clock time) after the start of the article's main block, the run of prose holding most of the
page's words. That is the boundary the body scorer's `after_comment_prompt` and `after_comment_header`
features read (pipeline.stages.boilerplate_features): everything from there on is readers' text. A page
with neither has no comments. The same prompt or header above the article ("12 comments" beside the
byline) opens nothing.
"""
from __future__ import annotations

from collections.abc import Sequence

from pipeline.stages.boilerplate_features import (_COMMENT_HEADER_MAX_CHARS, _is_comment_header, _main_block,
                                                  word_count)


def comments_start(lines: Sequence[str], removed: Sequence[bool], comment_prompts: Sequence[bool]) -> int:
    """The index of the line where the readers' comments of a page begin, else len(lines).

    `removed` says which lines a rule took out (they hold no words of the article), `comment_prompts`
    which of them are comment prompts. Empty lines are skipped, as the scorer skips them.
    """
    present = [index for index, line in enumerate(lines) if line]
    article_start, _ = _main_block([0.0 if removed[index] else word_count(lines[index]) for index in present])
    for index in present[article_start + 1:]:
        if comment_prompts[index]:
            return index
        line = lines[index]
        if not removed[index] and len(line) <= _COMMENT_HEADER_MAX_CHARS and _is_comment_header(line):
            return index
    return len(lines)
