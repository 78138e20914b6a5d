"""Pages holding several pieces of authored text: every piece is kept, the menus and teasers around them go.

A blog archive of several posts, a listing with a summary under each title, an essay of numbered points
and a forum thread with replies, each in English and in Russian. Prose lines are the pieces; short lines
(post titles, dates) may go either way and are not asserted.
"""
from __future__ import annotations

import pytest
from project_paths import DATA_DIR

from pipeline.records import Region
from pipeline.stages.boilerplate import body_scores
from pipeline.stages.clean import BODY_THRESHOLD, clean, judge_lines

PAGES = DATA_DIR / "boilerplate"
# The lines of each page that are navigation, teasers, link lists or footers.
BOILERPLATE = {
    "en_blog_archive.txt": ["Home", "Archives", "Recent Posts", "Categories", "Compost", "May 2023",
                            "Powered by TypePad"],
    "ru_blog_archive.txt": ["Главная", "О блоге", "Последние записи", "Рубрики", "Города", "Поезда"],
    "en_listing.txt": ["Search", "Quick links", "Timetable", "Library", "Student services", "Apply now",
                       "Read more"],
    "ru_listing.txt": ["Поиск", "Популярное", "Расписание автобусов", "Погода на неделю", "Подробнее"],
    "en_numbered_essay.txt": ["Previous essay", "Next essay", "Share this page"],
    "ru_numbered_essay.txt": ["Предыдущая статья", "Следующая статья", "Поделиться"],
    "en_forum_thread.txt": ["Reply", "Quote", "Similar threads", "Bottle conditioning temperature",
                            "Yeast for a beginner"],
    "ru_forum_thread.txt": ["Ответить", "Цитировать", "Похожие темы", "Рассада перцев",
                            "Когда сажать огурцы"],
}
THREADS = ("en_forum_thread.txt", "ru_forum_thread.txt")
# The replies of each thread: the lines after its second post header.
REPLY_HEADERS = {"en_forum_thread.txt": "greg_b said:", "ru_forum_thread.txt": "Сергей пишет:"}


def _prose(text: str) -> list[str]:
    """The pieces of a test page: its sentences of ten words or more."""
    return [line for line in text.split("\n") if len(line.split()) >= 10 and line.endswith((".", "?"))]


@pytest.mark.parametrize("name", sorted(BOILERPLATE))
def test_every_piece_of_a_page_is_kept_and_its_menus_and_teasers_go(name: str) -> None:
    text = (PAGES / name).read_text(encoding="utf-8")
    cleaned = clean(text)
    pieces = _prose(text)
    assert len(pieces) >= 4
    assert [paragraph for paragraph in cleaned.paragraphs if paragraph in pieces] == pieces
    assert not set(BOILERPLATE[name]) & set(cleaned.paragraphs)
    assert set(BOILERPLATE[name]) <= {line.text for line in cleaned.removed}


@pytest.mark.parametrize("name", sorted(set(BOILERPLATE) - set(THREADS)))
def test_posts_summaries_and_points_are_the_main_region(name: str) -> None:
    cleaned = clean((PAGES / name).read_text(encoding="utf-8"))
    assert set(cleaned.regions) == {Region.MAIN}


@pytest.mark.parametrize("name", THREADS)
def test_the_replies_of_a_thread_are_the_comments_region(name: str) -> None:
    text = (PAGES / name).read_text(encoding="utf-8")
    cleaned = clean(text)
    replies = _prose(text[text.index(REPLY_HEADERS[name]):])
    assert len(replies) == 4
    regions = dict(zip(cleaned.paragraphs, cleaned.regions))
    assert [regions.get(reply) for reply in replies] == [Region.COMMENTS] * len(replies)
    opening = _prose(text)[0]
    assert regions[opening] is Region.MAIN


def test_kept_paragraphs_carry_their_body_score() -> None:
    text = (PAGES / "en_listing.txt").read_text(encoding="utf-8")
    cleaned = clean(text)
    lines, rules, _ = judge_lines(text)
    scores = dict(zip(lines, body_scores(lines, [rule is not None for rule in rules],
                                         [rule == "comment_prompt" for rule in rules]).tolist()))
    assert len(cleaned.line_scores) == len(cleaned.paragraphs)
    assert cleaned.line_scores == tuple(round(scores[paragraph], 4) for paragraph in cleaned.paragraphs)
    assert min(cleaned.line_scores) >= BODY_THRESHOLD
    # A page the scorer does not read (too few lines to judge) has no scores to give.
    assert clean("A single sentence of prose with nothing around it at all.").line_scores == ()
