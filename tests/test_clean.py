"""Clean: the seed pages lose exactly their boilerplate, keep every body paragraph, and yield metadata."""
from __future__ import annotations

from pathlib import Path

import pytest

from pipeline.clean import clean, removed_by_rule
from pipeline.records import RemovedLine

ARABIC_SOURCE = '(المصدر: الحساب الرسمي الخاص بـ"شي تشنغ (识政)" على تطبيق الويتشات)'
CHINA_DAILY_COPYRIGHT = "Copyright 1995 - . All rights reserved."   # the start of a longer footer line
TITLE_003 = "Focus Interview: Strong Confidence in Seeking Development and Promoting High-level Opening-up"

# For each seed: the lines that are not body text, with the rule expected to take each one out.
NOT_BODY: dict[str, list[tuple[str, str]]] = {
    "000_03845748b57dba8f.txt": [(ARABIC_SOURCE, "attribution")],
    "001_ceece1dd1d5bb97f.txt": [("(Reporters: Qi Mengzhu and Liu Feifei; photographer: Sun Yue)", "byline")],
    "002_a4cd0184137e6532.txt": [
        ("Global EditionASIA 中文双语Français", "navigation"),
        ("China Daily / 2020-06 / 30 / Page010", "page_stamp"),
        ("Local government moves forward opening-up with innovation", "title"),
        ("By YUAN SHENGGAO | China Daily | Updated: 2020-06-30 00:00", "byline"),
        ("Most Viewed", "section_header"),
        (CHINA_DAILY_COPYRIGHT, "copyright"),
        ("License for publishing multimedia online 0108263", "licence"),
        ("Registration Number: 130349", "licence"),
    ],
    "003_53ec2901118c88b5.txt": [
        (f"HomeNews{TITLE_003}-Chinanews.com", "title"),
        (f"{TITLE_003}-Chinanews.com", "repeated_title"),
        ("Related Articles", "section_header"),
        ("Please enter your comment!", "comment_prompt"),
        ("Please enter your name here", "comment_prompt"),
        ("Captcha verification failed!", "captcha"),
        ("CAPTCHA user score failed. Please contact us!", "captcha"),
        ("Popular Articles", "section_header"),
    ],
    "004_c677c84f33242afe.txt": [
        ("More than 170 new pilot initiatives have been launched", "title"),
        ("Reporter Ouyang Jie", "byline"),
    ],
}

METADATA = {
    "000_03845748b57dba8f.txt": dict(title=None, byline=None, published=None,
                                     attribution=ARABIC_SOURCE[1:-1]),
    "001_ceece1dd1d5bb97f.txt": dict(title=None, published=None, attribution=None,
                                     byline="Reporters: Qi Mengzhu and Liu Feifei; photographer: Sun Yue"),
    "002_a4cd0184137e6532.txt": dict(title="Local government moves forward opening-up with innovation",
                                     byline="YUAN SHENGGAO", published="2020-06-30 00:00",
                                     attribution="China Daily"),
    "003_53ec2901118c88b5.txt": dict(title=TITLE_003, byline=None, published=None, attribution=None),
    "004_c677c84f33242afe.txt": dict(title="More than 170 new pilot initiatives have been launched",
                                     byline="Reporter Ouyang Jie", published=None, attribution=None),
}


def _is_listed(line: str, listed: str) -> bool:
    return line == listed or (listed == CHINA_DAILY_COPYRIGHT and line.startswith(listed))


def _expected_body(seed: Path) -> list[str]:
    body = []
    for line in seed.read_text(encoding="utf-8").split("\n"):
        normalised = " ".join(line.split())
        if normalised and not any(_is_listed(normalised, listed) for listed, _ in NOT_BODY[seed.name]):
            body.append(normalised)
    return body


@pytest.fixture(scope="module")
def seeds(seeds_dir: Path) -> list[Path]:
    paths = sorted(seeds_dir.glob("*.txt"))
    assert [path.name for path in paths] == sorted(NOT_BODY)
    return paths


def test_every_seed_keeps_exactly_its_body_paragraphs(seeds: list[Path]) -> None:
    for seed in seeds:
        cleaned = clean(seed.read_text(encoding="utf-8"))
        assert list(cleaned.paragraphs) == _expected_body(seed), seed.name


def test_every_seed_loses_exactly_its_boilerplate_with_the_expected_rules(seeds: list[Path]) -> None:
    for seed in seeds:
        cleaned = clean(seed.read_text(encoding="utf-8"))
        listed = NOT_BODY[seed.name]
        assert len(cleaned.removed) == len(listed) == cleaned.n_boilerplate_removed, seed.name
        for removed, (text, rule) in zip(cleaned.removed, listed):
            assert _is_listed(removed.text, text) and removed.rule == rule, (seed.name, removed)
        for paragraph in cleaned.paragraphs:
            assert not any(_is_listed(paragraph, text) for text, _ in listed)


def test_seed_metadata_is_extracted(seeds: list[Path]) -> None:
    for seed in seeds:
        cleaned = clean(seed.read_text(encoding="utf-8"))
        found = dict(title=cleaned.title, byline=cleaned.byline, published=cleaned.published,
                     attribution=cleaned.attribution)
        assert found == METADATA[seed.name], seed.name


def test_seed_paragraph_counts_and_inline_attributions(seeds: list[Path]) -> None:
    by_name = {seed.name: clean(seed.read_text(encoding="utf-8")) for seed in seeds}
    assert len(by_name["000_03845748b57dba8f.txt"].paragraphs) == 4
    assert len(by_name["001_ceece1dd1d5bb97f.txt"].paragraphs) == 11
    last_003 = by_name["003_53ec2901118c88b5.txt"].paragraphs[-1]
    assert last_003.endswith("benefit the people of all countries. (CCTV)")
    assert by_name["004_c677c84f33242afe.txt"].paragraphs[-1].endswith("(People's Daily)")


def test_typographic_characters_are_preserved() -> None:
    text = "He said “two zones” — it’s ‘done’… ﬁnal ＡＢＣ１２３ «bien» „gut“ 「中文」."
    assert clean(text).paragraphs == (text,)


def test_mojibake_is_repaired() -> None:
    cleaned = clean("The CafÃ© served â€œcoffeeâ€\x9d and crÃ¨me brÃ»lÃ©e to the guests.")
    assert cleaned.paragraphs == ("The Café served “coffee” and crème brûlée to the guests.",)


def test_control_characters_removed_and_whitespace_normalised() -> None:
    cleaned = clean("Hel\x00lo\x07 \t wor\x7fld,\u00a0 again\ufeff.\r\n\x0b\nSecond\u3000 paragraph here.")
    assert cleaned.paragraphs == ("Hello world, again.", "Second paragraph here.")


def test_text_is_nfc() -> None:
    assert clean("Cafe\u0301 and re\u0301sume\u0301.").paragraphs == ("Caf\u00e9 and r\u00e9sum\u00e9.",)


def _rules(text: str) -> list[tuple[str, str]]:
    return [(line.text, line.rule) for line in clean(text).removed]


def test_english_boilerplate_rules() -> None:
    text = "\n".join([
        "Home > World > Asia",
        "Port traffic grows again",
        "By Jane Doe and John Roe | Reuters | Published: March 3, 2024",
        "Share this article",
        "Ningbo Zhoushan Port handled more cargo than any other port in the world last year.",
        "We use cookies to improve your experience. By continuing to browse, you agree to our Cookie Policy.",
        "Accept all cookies",
        "The city plans to link its airport and port more closely, officials said.",
        "Read more: Beijing opens a new bonded zone",
        "Subscribe to our newsletter",
        "Leave a Reply",
        "Your email address will not be published. Required fields are marked *",
        "Most Popular",
        "City unveils new trade plan",
        "Markets rally on export data",
        "© 2024 Example Media Ltd",
    ])
    cleaned = clean(text)
    assert cleaned.paragraphs == (
        "Ningbo Zhoushan Port handled more cargo than any other port in the world last year.",
        "The city plans to link its airport and port more closely, officials said.",
    )
    assert (cleaned.title, cleaned.byline, cleaned.published, cleaned.attribution) == (
        "Port traffic grows again", "Jane Doe and John Roe", "March 3, 2024", "Reuters")
    assert [rule for _, rule in _rules(text)] == [
        "navigation", "title", "byline", "share_prompt", "cookie_banner", "cookie_banner", "related_link",
        "newsletter", "comment_prompt", "comment_prompt", "section_header", "related_link", "related_link",
        "copyright"]


def test_french_boilerplate_rules() -> None:
    text = "\n".join([
        "Accueil | Actualités | Monde | Économie",
        "Partager cet article",
        "Le conseil municipal a adopté le budget lundi soir après un long débat.",
        "Nous utilisons des cookies pour améliorer votre expérience de navigation.",
        "Les travaux commenceront au printemps, selon la mairie.",
        "À lire aussi",
        "Le maire répond aux critiques",
        "Laisser un commentaire",
        "© 2024 Le Journal. Tous droits réservés.",
    ])
    cleaned = clean(text)
    assert cleaned.paragraphs == (
        "Le conseil municipal a adopté le budget lundi soir après un long débat.",
        "Les travaux commenceront au printemps, selon la mairie.",
    )
    assert [rule for _, rule in _rules(text)] == [
        "navigation", "share_prompt", "cookie_banner", "section_header", "related_link", "comment_prompt",
        "copyright"]


def test_arabic_boilerplate_rules() -> None:
    text = "\n".join([
        "الرئيسية | أخبار | اقتصاد | رياضة",
        "شارك هذا المقال",
        "أعلنت الحكومة عن خطة جديدة لدعم الشركات الصغيرة والمتوسطة.",
        "وقال الوزير إن الخطة ستنفذ على مراحل خلال العامين المقبلين.",
        "اقرأ أيضاً",
        "اترك تعليقاً",
        "جميع الحقوق محفوظة لشبكة الأخبار 2024",
    ])
    cleaned = clean(text)
    assert cleaned.paragraphs == (
        "أعلنت الحكومة عن خطة جديدة لدعم الشركات الصغيرة والمتوسطة.",
        "وقال الوزير إن الخطة ستنفذ على مراحل خلال العامين المقبلين.",
    )
    assert [rule for _, rule in _rules(text)] == [
        "navigation", "share_prompt", "section_header", "comment_prompt", "copyright"]


def test_chinese_boilerplate_rules() -> None:
    text = "\n".join([
        "首页 > 新闻 > 国内",
        "北京市政府发布了支持服务业扩大开放的新措施。",
        "这些措施将在明年全面实施。",
        "分享到：微信 微博",
        "相关新闻",
        "责任编辑：王晓明",
        "版权所有 中国新闻网 未经授权禁止转载",
    ])
    cleaned = clean(text)
    assert cleaned.paragraphs == ("北京市政府发布了支持服务业扩大开放的新措施。", "这些措施将在明年全面实施。")
    assert cleaned.byline == "责任编辑：王晓明"
    assert [rule for _, rule in _rules(text)] == [
        "navigation", "share_prompt", "section_header", "byline", "copyright"]


def test_spanish_and_german_boilerplate_rules() -> None:
    text = "\n".join([
        "Inicio | Noticias | Deportes",
        "Compartir en Facebook",
        "El gobierno aprobó ayer la nueva ley de vivienda.",
        "Suscríbete a nuestro boletín",
        "Noticias relacionadas",
        "Todos los derechos reservados.",
        "Die Regierung hat gestern das neue Wohngesetz beschlossen.",
        "Wir verwenden Cookies, um Ihnen das beste Nutzererlebnis zu bieten.",
        "Diesen Artikel teilen",
        "Alle Rechte vorbehalten.",
    ])
    cleaned = clean(text)
    assert cleaned.paragraphs == (
        "El gobierno aprobó ayer la nueva ley de vivienda.",
        "Die Regierung hat gestern das neue Wohngesetz beschlossen.",
    )
    assert [rule for _, rule in _rules(text)] == [
        "navigation", "share_prompt", "newsletter", "section_header", "copyright", "cookie_banner",
        "share_prompt", "copyright"]


def test_prose_that_mentions_boilerplate_words_is_kept() -> None:
    body = (
        "The court ruled that copyright in the photographs belongs to the agency, not the photographer.",
        "Readers left more than 300 comments under the article, and the editor replied to many of them.",
        "All rights reserved by the treaty remain with the member states, the minister said.",
        "Share prices rose by 3 percent on Monday after the announcement.",
        "By 2025, the city expects the new zone to attract 200 foreign companies.",
        "Home prices in the capital rose sharply last year.",
        "Reporters were told that the registration number 130349 had expired.",
    )
    cleaned = clean("\n".join(body))
    assert cleaned.paragraphs == body
    assert cleaned.removed == ()


def test_given_metadata_wins_over_guesses() -> None:
    text = "Port traffic grows\n\nNingbo handled more cargo than ever.\n\nThe city plans new rail links."
    given = {"title": "Port Traffic Grows", "author": "Jane Doe", "date": "2023-05-01"}
    cleaned = clean(text, metadata=given)
    assert (cleaned.title, cleaned.byline, cleaned.published) == tuple(given.values())
    assert cleaned.removed == (RemovedLine("Port traffic grows", "title"),)
    other = clean("A Different Heading\n\nNingbo handled more cargo than ever.", metadata={"title": "Port"})
    assert other.title == "Port"
    assert other.paragraphs == ("A Different Heading", "Ningbo handled more cargo than ever.")


def test_a_hard_wrapped_first_paragraph_is_not_taken_for_a_title() -> None:
    text = ("The city announced a series of action plans earlier this month to\n"
            "create new economic growth spots in the service sector.\n\nA second paragraph follows.")
    cleaned = clean(text)
    assert cleaned.title is None
    assert cleaned.paragraphs == (
        "The city announced a series of action plans earlier this month to create new economic growth spots "
        "in the service sector.",
        "A second paragraph follows.")


def test_removed_lines_can_be_counted_by_rule(seeds: list[Path]) -> None:
    counts = removed_by_rule(clean(seed.read_text(encoding="utf-8")) for seed in seeds)
    assert counts["title"] == 3 and counts["section_header"] == 3 and counts["byline"] == 3
    assert sum(counts.values()) == sum(len(lines) for lines in NOT_BODY.values())
