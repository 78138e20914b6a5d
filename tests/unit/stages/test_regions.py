"""Regions of a cleaned page (main article, readers' comments), comments=drop, and the line numbers of
removed lines. Pages are cleaned with threshold 0 where the test is about regions, so that what the body
scorer thinks of the comments does not decide which paragraphs are there to be labelled."""
from __future__ import annotations

from pipeline.records import Region
from pipeline.stages.clean import clean

ARTICLE_EN = """Home | News | Sport | Contact

How our town rebuilt its old harbour

The old harbour of our town was closed for twenty years after the storm of 1998 destroyed the pier.
Last spring the council finally agreed to rebuild it with money from the regional fund and local donors.
Fishermen who had moved their boats to the next village are now coming back, and the market is busy again.
The new pier is longer than the old one and can take the ferry that links the islands twice a day.
"""
COMMENTS_EN = """
3 comments

Anna says:
I grew up near the harbour and it is wonderful to see the boats back again after all these years.

Tom wrote:
The ferry is a great idea, but parking near the pier is still a problem for visitors in the summer.
"""
PAGE_RU = """Главная | Новости | Спорт

Как в нашем городе восстановили старую гавань

Старая гавань нашего города была закрыта двадцать лет после шторма, который разрушил причал.
Прошлой весной городской совет наконец решил восстановить её на деньги регионального фонда.
Рыбаки, которые перевели свои лодки в соседнюю деревню, теперь возвращаются, и рынок снова оживился.
Новый причал длиннее старого и может принимать паром, который дважды в день ходит к островам.

Комментарии

Иван пишет:
Я вырос рядом с гаванью, и очень приятно снова видеть там лодки после стольких лет.

Мария пишет:
Паром — отличная идея, но летом у причала по-прежнему негде поставить машину.
"""
PAGE_AR = """الرئيسية | أخبار | رياضة

كيف أعادت مدينتنا بناء الميناء القديم

ظل الميناء القديم في مدينتنا مغلقا عشرين عاما بعد العاصفة التي دمرت الرصيف بالكامل.
وفي الربيع الماضي وافق المجلس البلدي أخيرا على إعادة بنائه بأموال من الصندوق الإقليمي.
والصيادون الذين نقلوا قواربهم إلى القرية المجاورة يعودون الآن، والسوق مزدحم من جديد.
والرصيف الجديد أطول من القديم ويستطيع استقبال العبارة التي تربط الجزر مرتين في اليوم.

التعليقات

أحمد كتب:
نشأت بالقرب من الميناء ومن الرائع أن أرى القوارب تعود بعد كل هذه السنوات الطويلة.
"""
MAIN, COMMENTS = Region.MAIN, Region.COMMENTS


def test_a_blog_post_and_its_comments_in_english() -> None:
    cleaned = clean(ARTICLE_EN + COMMENTS_EN, threshold=0)
    assert cleaned.regions == (MAIN,) * 4 + (COMMENTS,) * 4
    assert cleaned.paragraphs[4:] == (
        "Anna says:", "I grew up near the harbour and it is wonderful to see the boats back again after all "
        "these years.", "Tom wrote:", "The ferry is a great idea, but parking near the pier is still a "
        "problem for visitors in the summer.")
    assert [cleaned.region(index) for index in (0, 7)] == [MAIN, COMMENTS]


def test_comments_in_russian_and_arabic() -> None:
    russian = clean(PAGE_RU, threshold=0)
    assert russian.regions == (MAIN,) * 4 + (COMMENTS,) * 4
    assert russian.paragraphs[4] == "Иван пишет:"
    arabic = clean(PAGE_AR, threshold=0)
    assert arabic.regions == (MAIN,) * 4 + (COMMENTS,) * 2
    assert arabic.paragraphs[4] == "أحمد كتب:"


def test_a_commenter_header_opens_the_comments_without_a_prompt() -> None:
    page = ARTICLE_EN + "\nAnna says:\nI grew up near the harbour and love to see the boats back again.\n"
    assert clean(page, threshold=0).regions == (MAIN,) * 4 + (COMMENTS,) * 2


def test_a_page_without_comments_and_a_count_above_the_article_are_all_main() -> None:
    assert clean(ARTICLE_EN, threshold=0).regions == (MAIN,) * 4
    counted_above = ARTICLE_EN.replace("\n\nThe old harbour", "\n\n3 comments\n\nThe old harbour")
    cleaned = clean(counted_above, threshold=0)
    assert cleaned.regions == (MAIN,) * 4 and len(cleaned.paragraphs) == 4


def test_dropped_comments_are_removed_lines_with_their_rule() -> None:
    cleaned = clean(ARTICLE_EN + COMMENTS_EN, threshold=0, comments="drop")
    assert cleaned.regions == (MAIN,) * 4 and len(cleaned.paragraphs) == 4
    dropped = [(line.line_no, line.text[:10]) for line in cleaned.removed if line.rule == "comments"]
    assert dropped == [(11, "Anna says:"), (12, "I grew up "), (14, "Tom wrote:"), (15, "The ferry ")]
    assert all(line.score is not None for line in cleaned.removed if line.rule == "comments")
    kept = clean(PAGE_RU, threshold=0).paragraphs
    assert clean(PAGE_RU, threshold=0, comments="drop").paragraphs == kept[:4]


def test_removed_lines_carry_their_line_number_in_the_unified_text() -> None:
    # CR LF and a lone CR are one break each; the wrapped paragraph of two lines is one line of the body.
    text = ("Home | News | Sport\r\n\r\nA town rebuilds its harbour\rafter twenty years.\n\n"
            "Copyright 2024 News.")
    cleaned = clean(text)
    assert [(line.rule, line.line_no) for line in cleaned.removed] == [("navigation", 0), ("copyright", 5)]
    assert cleaned.paragraphs == ("A town rebuilds its harbour after twenty years.",)
    wrapped_low = clean(ARTICLE_EN + "\nread more stories\nabout the coast", threshold=1)
    low = [line for line in wrapped_low.removed if line.text == "read more stories about the coast"]
    assert [line.line_no for line in low] == [9]


def test_a_count_of_comments_opens_them_and_a_long_thread_leaves_the_article_main() -> None:
    thread = "".join(
        f"\nreader{number}\nI have read this twice and I still think the harbour deserved the money more "
        f"than the new road, which nobody asked for and which will cost us all for years, {number} times.\n"
        for number in range(8))
    cleaned = clean(ARTICLE_EN + "\n106 Comments and 18 Replies\n" + thread, threshold=0)
    assert cleaned.regions[:4] == (MAIN,) * 4
    assert set(cleaned.regions[4:]) == {COMMENTS} and len(cleaned.regions) > 4


def test_the_byline_of_a_post_opens_no_comments() -> None:
    reply = "The pier opens to walkers next week, and the café too."
    page = ARTICLE_EN + f"\nPosted by Margaret at 09:14 PM\n{reply}\n"
    assert set(clean(page, threshold=0).regions) == {MAIN}
    signed = ARTICLE_EN + f"\nMargaret at 09:14 PM\n{reply}\n"
    assert clean(signed, threshold=0).regions[-1] is COMMENTS
