"""Clean: the seed pages lose exactly their boilerplate, keep every body paragraph, and yield metadata."""
from __future__ import annotations

import random
import re
from pathlib import Path

import ftfy
import pytest
import regex
from project_paths import DATA_DIR, REPO_ROOT

from pipeline.records import CleanedDocument, RawDocument, RemovedLine
from pipeline.stages.clean import MIN_SITE_REPEATS, REPEATED_RULE, CleanStage, clean, removed_by_rule
from pipeline.stages.clean_repair import (_BADNESS_MAX_WIDTH, _FTFY_CONFIG, _MOJIBAKE_SUSPECT,
                                          _ftfy_may_change, _looks_like_mojibake, _unify_line_breaks)
from pipeline.stages.clean_rules import (_by_first_character, _is_navigation, _is_share_prompt,
                                         _without_site_suffix)
from pipeline.stages.clean_vocabulary import (_HEADER_TRAILER, _SHARE_CORE, _SHARE_WORDS, _SITE_SUFFIX,
                                              _WHITE_SPACE)

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
    assert cleaned.removed == (RemovedLine("Port traffic grows", "title", line_no=0),)
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


# --- the project's sample documents (samples/), read through ingest as the pipeline reads them ---------

SAMPLES_DIR = REPO_ROOT / "samples"
EN_COOKIES = ("We value your privacy. We and our partners use cookies to personalise content and ads. "
              "Accept all | Manage preferences")
FR_COOKIES = ("Accepter les cookies ? Nous utilisons des cookies pour améliorer votre expérience. "
              "Tout accepter | Paramétrer")
RU_COOKIES = "Мы используем файлы cookie. Продолжая пользоваться сайтом, вы соглашаетесь с этим. Понятно"
ZH_COOKIES = "本网站使用Cookie以改善您的浏览体验。继续浏览即表示您同意我们的隐私政策。"

# For each sample document (file, JSONL record id): its lines that are not body text, with their rules.
SAMPLE_NOT_BODY: dict[tuple[str, str | None], list[tuple[str, str]]] = {
    ("en_harbour_ferry.txt", None): [
        ("Home | News | Business | Opinion | Sport | Weather", "navigation"),
        (EN_COOKIES, "cookie_banner"),
        ("Electric ferry enters service on the Kingsport harbour route", "title"),
        ("By Daniel Hughes, Transport Correspondent", "byline"),
        ("Published 6 May 2026", "published"),
        ("Share this article", "share_prompt"),
        ("Related articles", "section_header"),
        ("Harbour bridge repairs to begin in September", "related_link"),
        ("Council backs plan for new cycle lanes along the waterfront", "related_link"),
        ("© 2026 Kingsport Evening Post. All rights reserved.", "copyright"),
    ],
    ("fr_budget_participatif.txt", None): [
        ("Accueil | Actualités | Régions | Économie | Culture | Sport", "navigation"),
        (FR_COOKIES, "cookie_banner"),
        ("Budget participatif : les habitants de Saint-Aubin-sur-Loire choisissent leurs projets", "title"),
        ("Par Claire Morel, correspondante régionale", "byline"),
        ("Publié le 14 mars 2026 à 08h12, mis à jour à 10h45", "published"),
        ("Partager cet article : Facebook | X | LinkedIn | E-mail", "share_prompt"),
        ("Articles similaires", "section_header"),
        ("Saint-Aubin : la médiathèque prolonge ses horaires d'ouverture", "related_link"),
        ("Loire : les crues de février ont coûté 3 millions d'euros aux communes riveraines", "related_link"),
        ("© 2026 Le Courrier de la Loire. Tous droits réservés. Mentions légales | Contact", "copyright"),
    ],
    ("es_sequia_embalses.txt", None): [
        ("Inicio", "navigation"),
        ("Nacional", "navigation"),
        ("Internacional", "navigation"),
        ("Economía", "navigation"),
        ("Suscríbete", "newsletter"),
        ("La sequía deja los embalses del sureste por debajo del 20 % de su capacidad", "title"),
        ("Redacción / Agencias", "byline"),
        ("Murcia, 3 de abril de 2026", "published"),
        ("Comparte esta noticia en tus redes sociales", "share_prompt"),
        ("¿Te ha resultado útil este artículo? Déjanos tu comentario", "comment_prompt"),
        ("Noticias relacionadas", "section_header"),
        ("El Gobierno aprueba ayudas para los agricultores afectados por la sequía", "related_link"),
        ("Así funciona una planta desaladora por dentro", "related_link"),
        ("© 2026 Diario del Sureste. Todos los derechos reservados.", "copyright"),
    ],
    ("ru_metro_novaya_liniya.txt", None): [
        ("Главная | Новости | Город | Транспорт | Спорт | Афиша", "navigation"),
        (RU_COOKIES, "cookie_banner"),
        ("В Северогорске открыли первый участок новой линии метро", "title"),
        ("Автор: Ирина Соколова", "byline"),
        ("12 сентября 2026, 09:40", "published"),
        ("Поделиться: ВКонтакте | Telegram | Одноклассники", "share_prompt"),
        ("Читайте также", "section_header"),
        ("Стоимость проезда в общественном транспорте вырастет с января", "related_link"),
        ("Какие улицы перекроют в выходные из-за ремонта", "related_link"),
        ("© 2026 «Северогорские вести». Все права защищены. Перепечатка материалов запрещена.", "copyright"),
    ],
    ("ar_maarad_alkitab.txt", None): [
        ("الرئيسية | أخبار | اقتصاد | ثقافة | رياضة | اتصل بنا", "navigation"),
        ("يستخدم هذا الموقع ملفات تعريف الارتباط لتحسين تجربتك. موافق", "cookie_banner"),
        ("انطلاق معرض المدينة الدولي للكتاب بمشاركة أكثر من ثلاثمئة دار نشر", "title"),
        ("كتب: يوسف الحداد", "byline"),
        ("الأربعاء 22 أبريل 2026", "published"),
        ("شارك الخبر: فيسبوك | واتساب | تويتر", "share_prompt"),
        ("أخبار ذات صلة", "section_header"),
        ("ارتفاع أسعار الورق يهدد صناعة النشر المحلية", "related_link"),
        ("جائزة الرواية العربية تعلن قائمتها الطويلة", "related_link"),
        ("جميع الحقوق محفوظة © 2026 جريدة المدينة", "copyright"),
    ],
    ("zh_tushuguan_yejian_gb18030.txt", None): [
        ("首页 | 新闻 | 财经 | 科技 | 体育 | 视频", "navigation"),
        (ZH_COOKIES, "cookie_banner"),
        ("江城图书馆夜间开放试点受到年轻读者欢迎", "title"),
        ("记者 王晓雨", "byline"),
        ("2026年6月18日 10:05 来源：江城日报", "published"),
        ("分享到：微信 | 微博 | QQ空间", "share_prompt"),
        ("相关阅读", "section_header"),
        ("江城将新建三座社区书房", "related_link"),
        ("暑期少儿阅读活动开始报名", "related_link"),
        ("版权所有 © 2026 江城日报社 未经授权禁止转载", "copyright"),
    ],
    # Ingest extracts the article from the page, so only the headline is left to take out.
    ("de_bahnstreik.html", None): [("Bahnstreik: Pendler müssen sich auf Ausfälle einstellen", "title")],
    ("news_dump.jsonl", "wire-2026-0412-001"): [
        ("Home | World | Business | Science", "navigation"),
        ("Solar panels to cover roofs of forty schools", "title"),
        ("By Priya Nair | 12 April 2026", "byline"),
        ("Related articles", "section_header"),
        ("Westvale budget puts new science labs first", "related_link"),
        ("© 2026 Westvale Wire. All rights reserved.", "copyright"),
    ],
    ("news_dump.jsonl", "wire-2026-0412-002"): [
        ("Volunteers pull two tonnes of rubbish from the Arden", "title"),
        ("Share this story: Facebook | X | Email", "share_prompt"),
        ("Sign up for our newsletter", "newsletter"),
    ],
    ("news_dump.jsonl", "wire-2026-0413-007"): [
        ("ホーム | ニュース | 経済 | 地域 | スポーツ", "navigation"),
        ("山あいの温泉街、外国人旅行者が過去最多に", "title"),
        ("2026年4月13日 9時30分", "published"),
        ("この記事をシェアする", "share_prompt"),
        ("関連記事", "section_header"),
        ("春の桜まつり、三年ぶりに夜間ライトアップ", "related_link"),
        ("Copyright © 2026 信州地域新聞 All rights reserved.", "copyright"),
    ],
    ("news_dump.jsonl", "wire-2026-0414-003"): [
        ("Early monsoon forecast brings relief to farmers", "title"),
        ("By Arjun Mehta | 14 April 2026", "byline"),
        ("Related articles", "section_header"),
        ("Water tanker prices rise ahead of summer", "related_link"),
        ("© 2026 Westvale Wire", "copyright"),
    ],
}

# (title, byline, published, attribution); JSONL and HTML metadata given by ingest wins over the text.
SAMPLE_METADATA: dict[tuple[str, str | None], tuple[str | None, ...]] = {
    ("en_harbour_ferry.txt", None): (
        "Electric ferry enters service on the Kingsport harbour route", "Daniel Hughes", "6 May 2026", None),
    ("fr_budget_participatif.txt", None): (
        "Budget participatif : les habitants de Saint-Aubin-sur-Loire choisissent leurs projets",
        "Claire Morel", "14 mars 2026 à 08h12", None),
    ("es_sequia_embalses.txt", None): (
        "La sequía deja los embalses del sureste por debajo del 20 % de su capacidad", "Redacción / Agencias",
        "3 de abril de 2026", None),
    ("ru_metro_novaya_liniya.txt", None): (
        "В Северогорске открыли первый участок новой линии метро", "Автор: Ирина Соколова",
        "12 сентября 2026, 09:40", None),
    ("ar_maarad_alkitab.txt", None): (
        "انطلاق معرض المدينة الدولي للكتاب بمشاركة أكثر من ثلاثمئة دار نشر", "كتب: يوسف الحداد",
        "22 أبريل 2026", None),
    ("zh_tushuguan_yejian_gb18030.txt", None): (
        "江城图书馆夜间开放试点受到年轻读者欢迎", "记者 王晓雨", "2026年6月18日 10:05", "江城日报"),
    ("de_bahnstreik.html", None): (
        "Bahnstreik: Pendler müssen sich auf Ausfälle einstellen", "Katrin Vogel", "2026-02-18", None),
    ("news_dump.jsonl", "wire-2026-0412-001"): (
        "Solar panels to cover roofs of forty schools", "Priya Nair", "2026-04-12", None),
    ("news_dump.jsonl", "wire-2026-0412-002"): (
        "Volunteers pull two tonnes of rubbish from the Arden", None, "2026-04-12", None),
    ("news_dump.jsonl", "wire-2026-0413-007"): ("山あいの温泉街、外国人旅行者が過去最多に", None, "2026-04-13", None),
    ("news_dump.jsonl", "wire-2026-0414-003"): (
        "Early monsoon forecast brings relief to farmers", "Arjun Mehta", "2026-04-14", None),
}


@pytest.fixture(scope="module")
def sample_documents() -> dict[tuple[str, str | None], RawDocument]:
    from pipeline.stages.ingest import read_documents

    paths = [path for path in sorted(SAMPLES_DIR.iterdir()) if path.name != "empty.txt"]
    documents = {(Path(document.source_path).name, document.record_id or document.source_record): document
                 for document in read_documents(paths) if isinstance(document, RawDocument)}
    assert sorted(documents, key=str) == sorted(SAMPLE_NOT_BODY, key=str)
    return documents


def _clean_sample(document: RawDocument) -> CleanedDocument:
    return clean(document.text, metadata=document.metadata)


def test_every_sample_loses_exactly_its_boilerplate_with_the_expected_rules(
        sample_documents: dict[tuple[str, str | None], RawDocument]) -> None:
    for key, document in sample_documents.items():
        cleaned = _clean_sample(document)
        assert [(line.text, line.rule) for line in cleaned.removed] == SAMPLE_NOT_BODY[key], key
        listed = {text for text, _ in SAMPLE_NOT_BODY[key]}
        assert not any(paragraph in listed for paragraph in cleaned.paragraphs), key


def test_every_sample_keeps_every_body_paragraph(
        sample_documents: dict[tuple[str, str | None], RawDocument]) -> None:
    for key, document in sample_documents.items():
        listed = {text for text, _ in SAMPLE_NOT_BODY[key]}
        lines = [line.strip() for line in document.text.split("\n")]
        body = [line for line in lines if line and line not in listed]
        assert list(_clean_sample(document).paragraphs) == body, key
        assert len(body) >= 3, key


def test_sample_titles_bylines_and_dates(sample_documents: dict[tuple[str, str | None], RawDocument]) -> None:
    for key, document in sample_documents.items():
        cleaned = _clean_sample(document)
        found = (cleaned.title, cleaned.byline, cleaned.published, cleaned.attribution)
        assert found == SAMPLE_METADATA[key], key


# --- synthetic cases for the multilingual rules ---------------------------------------------------------

def test_share_prompts_in_several_languages() -> None:
    prompts = [
        "Partager", "Partager sur Facebook", "Compartir", "Compártelo en WhatsApp", "Поделиться",
        "Поделитесь с друзьями", "シェア", "ツイート", "この記事をシェアする", "分享到", "分享到微信",
        "شارك", "مشاركة على واتساب", "Teilen", "Artikel teilen: Facebook WhatsApp E-Mail",
        "Share on LinkedIn",
    ]
    text = "\n".join(["The council approved the budget on Monday evening."] + prompts)
    cleaned = clean(text)
    assert cleaned.paragraphs == ("The council approved the budget on Monday evening.",)
    assert _rules(text) == [(prompt, "share_prompt") for prompt in prompts]


def test_a_line_of_ascii_share_words_is_a_share_prompt_when_one_is_a_core_word() -> None:
    """The core-word search that passes over most ASCII lines never passes over a prompt: lines made of
    share words, in any case and between any separators, are taken exactly when one word is a core word."""
    share_words = sorted(word for word in _SHARE_WORDS if word.isascii())
    other_words = ["council", "sharp", "printer", "facebooked", "weather", "the"]
    generator = random.Random(5)
    for _ in range(3000):
        words = [generator.choice(share_words + other_words * (generator.random() < 0.2))
                 for _ in range(generator.randrange(1, 6))]
        separators = [generator.choice([" ", " | ", ": ", " / ", ", ", " - ", " · "]) for _ in words[1:]]
        line = "".join(word + separator for word, separator in zip(words, separators + [""]))
        line = generator.choice([str.lower, str.title, str.upper])(line)
        if len(line) > 80 or not line.isascii():
            continue
        expected = all(word in _SHARE_WORDS for word in words) and any(word in _SHARE_CORE for word in words)
        assert _is_share_prompt(line) == expected, line


def test_comment_counts_over_a_thread_are_prompts_and_a_sentence_like_them_is_not() -> None:
    prompts = ["156 Responses to “Shuteye”", "3 thoughts on “Why we sleep”", "One Response", "No Comments",
               "12 respuestas", "5 réponses", "7 ответов"]
    sentence = "One response to the crisis was to raise taxes on fuel and tobacco."
    text = "\n".join([sentence] + prompts)
    assert clean(text).paragraphs == (sentence,)
    assert _rules(text) == [(prompt, "comment_prompt") for prompt in prompts]


def test_cookie_banners_in_several_languages() -> None:
    banners = [
        "We and our partners use cookies to personalise content and ads.",
        "Мы используем файлы cookie, чтобы сайт работал лучше.",
        "Этот сайт использует куки. Продолжая, вы соглашаетесь на использование куки-файлов.",
        "Nous utilisons des cookies pour mesurer l'audience.",
        "Wir verwenden Cookies. Diese Seite nutzt Cookies für Statistiken.",
        "当サイトではCookieを使用しています。",
        "本サイトはクッキー（Cookie）を利用しています。",
        "Este sitio web utiliza cookies propias y de terceros. Política de cookies",
        "يستخدم موقعنا ملفات تعريف الارتباط (الكوكيز).",
        "本网站使用Cookie以改善您的体验。",
    ]
    text = "\n".join(["El Ayuntamiento aprobó el presupuesto el lunes."] + banners)
    assert clean(text).paragraphs == ("El Ayuntamiento aprobó el presupuesto el lunes.",)
    assert _rules(text) == [(banner, "cookie_banner") for banner in banners]


def test_navigation_lines_in_several_scripts_and_layouts() -> None:
    menus = [
        "Главная | Афиша | Город",              # known menu words
        "Ressorts | Hallstadt | Neuberg | Leserbriefe",   # any short items between bars
        "Politique · Culture · Sport",
        "Inicio » Nacional » Madrid",
        "Home / Sport / Football",
        "ホーム",
        "اتصل بنا",
        "首页",
        "Accueil",
    ]
    body = "The strike closed most regional lines on Thursday and Friday."
    text = "\n".join(menus + ["", body, "", "Startseite   Politik   Region   Sport"])
    cleaned = clean(text)
    assert cleaned.paragraphs == (body,)
    assert cleaned.title is None
    assert [rule for _, rule in _rules(text)] == ["navigation"] * (len(menus) + 1)


def test_section_words_alone_at_the_top_are_navigation_but_not_in_the_body() -> None:
    text = "\n".join([
        "Noticias", "Sociedad", "Madrid",
        "El metro amplía su horario nocturno",
        "El metro de Madrid abrirá hasta las dos de la madrugada los fines de semana.",
        "Sociedad",
        "Los vecinos celebraron la medida en una asamblea.",
    ])
    cleaned = clean(text)
    assert cleaned.title == "El metro amplía su horario nocturno"
    assert _rules(text)[:3] == [("Noticias", "navigation"), ("Sociedad", "navigation"),
                                ("Madrid", "navigation")]
    assert cleaned.paragraphs == (
        "El metro de Madrid abrirá hasta las dos de la madrugada los fines de semana.", "Sociedad",
        "Los vecinos celebraron la medida en una asamblea.")


def test_title_is_never_a_boilerplate_line() -> None:
    text = "\n".join([
        "Мы используем файлы cookie. Понятно",
        "Главная | Новости | Город",
        "Поделиться",
        "",
        "Город откроет новый парк у реки",
        "",
        "Парк площадью двенадцать гектаров откроется летом.",
    ])
    cleaned = clean(text)
    assert cleaned.title == "Город откроет новый парк у реки"
    assert cleaned.paragraphs == ("Парк площадью двенадцать гектаров откроется летом.",)


def test_title_is_headline_shaped_not_a_single_word_or_a_sentence() -> None:
    kicker = clean("Exclusive\nHarbour ferry goes electric\n\nThe ferry started service on Tuesday.")
    assert kicker.title == "Harbour ferry goes electric"
    assert kicker.paragraphs == ("Exclusive", "The ferry started service on Tuesday.")
    sentence = clean("The ferry started service on Tuesday.\n\nIt carries 240 passengers.")
    assert sentence.title is None and len(sentence.paragraphs) == 2


def test_datelines_and_credits_in_several_languages() -> None:
    cases = [
        ("Murcia, 3 de abril de 2026", "published", "3 de abril de 2026"),
        ("Publié le 14 mars 2026 à 08h12, mis à jour à 10h45", "published", "14 mars 2026 à 08h12"),
        ("12 сентября 2026, 09:40", "published", "12 сентября 2026, 09:40"),
        ("الأربعاء 22 أبريل 2026", "published", "22 أبريل 2026"),
        ("2026年4月13日 9時30分", "published", "2026年4月13日 9時30分"),
    ]
    for line, rule, value in cases:
        cleaned = clean(f"{line}\n\nThe first paragraph of the article is here.")
        assert cleaned.removed == (RemovedLine(line, rule, line_no=0),) and cleaned.published == value, line
    credit = clean("Redacción / Agencias\n\nEl primer párrafo del artículo.")
    assert credit.byline == "Redacción / Agencias"
    job = clean("By Jane Doe, Senior Correspondent\n\nThe first paragraph of the article.")
    assert job.byline == "Jane Doe"


def test_prose_with_share_cookie_and_menu_words_is_kept() -> None:
    body = (
        "Partager les frais de transport entre les communes reste un sujet sensible.",
        "Les élèves apprennent à partager leurs goûters et à ranger la classe.",
        "The bakery sold more than 2,000 cookies during the festival weekend.",
        "Regulators fined the company because its website set tracking cookies without consent.",
        "Shares of the ferry operator rose after the announcement.",
        "Жители поделились впечатлениями о новой линии метро.",
        "Die Kinder teilen sich ein Zimmer, sagte die Mutter.",
        "多くの利用者が駅の写真をシェアしている。",
        "他在会上分享了自己的经验。",
        "شارك أكثر من مئة طالب في المسابقة هذا العام.",
        "Comparte su experiencia con otros agricultores de la comarca.",
        "Home, work and school are all within walking distance, residents said.",
        "Redaktion und Verlag sitzen seit 1950 in Hallstadt.",
    )
    cleaned = clean("\n\n".join(body))
    assert cleaned.paragraphs == body
    assert cleaned.removed == ()
    assert cleaned.title is None


def _mandatory_sets(branch) -> list[list[tuple]]:
    """The character sets a match of one regex branch must each take a character from."""
    sets = []
    for op, argument in branch:
        if op is re._constants.LITERAL:
            sets.append([(argument, argument)])
        elif op is re._constants.IN and all(item[0] in (re._constants.LITERAL, re._constants.RANGE)
                                            for item in argument):
            sets.append([(value, value) if kind is re._constants.LITERAL else value
                         for kind, value in argument])
    return sets


def test_every_mojibake_pattern_of_ftfy_needs_a_suspect_character() -> None:
    # ftfy's is_bad runs only on lines holding a suspect character: that is safe only if each
    # alternative of its pattern needs one character of a set made entirely of suspects.
    def all_suspect(ranges: list[tuple]) -> bool:
        return all(_MOJIBAKE_SUSPECT.match(chr(code))
                   for low, high in ranges for code in range(low, high + 1))

    parsed = re._parser.parse(ftfy.badness.BADNESS_RE.pattern, ftfy.badness.BADNESS_RE.flags)
    (op, (_, branches)), = list(parsed)
    assert op is re._constants.BRANCH and len(branches) > 20
    for branch in branches:
        assert any(all_suspect(ranges) for ranges in _mandatory_sets(branch)), branch


def test_mojibake_windows_are_as_wide_as_the_longest_match_of_ftfy() -> None:
    parsed = re._parser.parse(ftfy.badness.BADNESS_RE.pattern, ftfy.badness.BADNESS_RE.flags)
    assert parsed.getwidth()[1] <= _BADNESS_MAX_WIDTH


def test_mojibake_check_on_windows_misses_nothing_is_bad_finds() -> None:
    lines = _test_lines(random.Random(7))
    # Suspects far from each other and from the line's ends, so windows cut through ordinary text.
    lines += [f"« {'x' * 40} {line} {'y' * 40} »" for line in lines]
    found = [line for line in lines if ftfy.badness.is_bad(line)]
    assert len(found) > 100
    assert all(_looks_like_mojibake(line) for line in found)
    assert not _looks_like_mojibake("Le président a annoncé « une réforme » à l'Élysée, déjà critiquée.")


_TEXTS = (
    "Le président a annoncé « une réforme » à l'Élysée, déjà critiquée.",
    "El niño comió piña en Sevilla; ¿quién pagó? ¡Él!", "Straße, Größe, Übermaß: 3 € für Bücher.",
    "Москва — столица России. Выборы в Государственную думу.", "Η Αθήνα είναι η πρωτεύουσα της Ελλάδας.",
    "São Paulo e Brasília não são iguais.", "Zażółć gęślą jaźń; Čeština, Škoda, Łódź.",
    "الرئيسية أخبار: قال الرئيس إن الاقتصاد ينمو.", "北京时间2026年6月18日，记者报道。", "日本語のニュース・記事",
    "Café ½ price ± 2°C © 2026 ™ • “quoted” ‘single’ – — …", "Ørsted Ærø Ù ŒUVRE œuvre ² ³ µ ¶ §",
)

# Ampersands that make no HTML entity: ftfy leaves such a line alone.
_BARE_AMPERSANDS = "News & Politics | AT&T, R&D & more; this&not that, &#; & amp; &é;"


def _test_lines(rng: random.Random) -> list[str]:
    lines = list(_TEXTS)
    for text in _TEXTS:
        for encoding in ("cp1252", "latin-1", "cp1251", "mac_roman", "cp1253", "cp1250", "iso-8859-7"):
            lines.append(text.encode("utf-8").decode(encoding, errors="replace"))
        lines.append(text.replace("é", "&eacute;").replace(" ", "&nbsp;", 1) + " &amp; &#233;")
    lines += [_BARE_AMPERSANDS, _BARE_AMPERSANDS + " &amp;", _BARE_AMPERSANDS + " &EACUTE;", "&#x27;",
              "&" * 30 + ";"]
    alphabet = "".join(_TEXTS) + "".join(ftfy.badness.MOJIBAKE_CATEGORIES.values()) + "ÂÃÐØÙŒœ°вЂ‚√≈β€ā"
    for _ in range(1500):
        lines.append("".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8))))
    return lines


def test_ftfy_is_skipped_only_where_it_would_change_nothing() -> None:
    lines = _test_lines(random.Random(20261122))
    skipped = [line for line in lines if not _ftfy_may_change(line)]
    for line in skipped:
        assert ftfy.fix_text(line, _FTFY_CONFIG) == line
    assert all(_ftfy_may_change(line) for line in lines if ftfy.fix_text(line, _FTFY_CONFIG) != line)
    # Ordinary text in every script is skipped; real mojibake is not.
    assert not any(_ftfy_may_change(text) for text in _TEXTS[:-2])
    assert not _ftfy_may_change(_BARE_AMPERSANDS) and _ftfy_may_change(_BARE_AMPERSANDS + " &amp;")
    for text in _TEXTS:
        for encoding in ("latin-1", "mac_roman"):
            mojibake = text.encode("utf-8").decode(encoding)
            assert _ftfy_may_change(mojibake) and ftfy.fix_text(mojibake, _FTFY_CONFIG) == text
    assert len(skipped) > len(lines) // 4


KEYWORD_RULE_LINES = [
    "Copyright 2024 Example Media", "© 2023 Les Échos", "COPYRIGHT (C) 2020 BY NEWS GROUP",
    "Все права защищены.", "版权所有 未经许可不得转载", "جميع الحقوق محفوظة",
    "License for publishing multimedia online 0108263",
    "Registration Number: 130349", "京ICP备12345678号", "Best viewed with browser at 1024x768 resolution",
    "We use cookies to improve your experience. Accept cookies", "Мы используем файлы cookie",
    "Captcha failed",
    "I'm not a robot", "Subscribe to our newsletter", "SUSCRÍBETE", "Abonnez-vous à la newsletter",
    "Подписаться", "订阅", "اشترك في النشرة البريدية",
]


def test_rules_passed_over_for_lack_of_a_key_word_would_not_have_matched(seeds: list[Path]) -> None:
    """The key-word search that lets _classify pass over six rules never skips a line one of them takes."""
    import importlib

    clean_module = importlib.import_module("pipeline.stages.clean_rules")
    lines = KEYWORD_RULE_LINES + [
        line for path in seeds for line in path.read_text(encoding="utf-8").splitlines()]
    taken = 0
    for line in filter(None, (" ".join(line.split()) for line in lines)):
        for name, matches, takes_metadata in clean_module._LINE_RULES:
            if name in clean_module._KEYWORD_RULES and (
                    matches(line, clean_module._Metadata()) if takes_metadata else matches(line)):
                taken += 1
                assert clean_module._RULE_KEYWORDS.search(line.lower()), (name, line)
    assert taken >= len(KEYWORD_RULE_LINES)


def test_white_space_is_what_regex_matches_as_white_space() -> None:
    every_character = "".join(map(chr, range(0x110000)))
    assert set(regex.findall(r"\s", every_character)) == set(_WHITE_SPACE)


def test_header_trailers_are_stripped_as_the_trailer_pattern_removes_them() -> None:
    trailer = regex.compile(r"[\s:：»>›→…+|\-–—.]+$")
    for line in ("Related Articles »", "Lire aussi :", "Read More...", "相关新闻 >>", "See also - – —",
                 "Most Read\u3000|", "Top Stories", "»", "Voir aussi\xa0: +", "A. B."):
        assert line.rstrip(_HEADER_TRAILER) == trailer.sub("", line), line


def test_line_breaks_are_unified_as_the_line_break_pattern_would() -> None:
    line_breaks = re.compile("\r\n|[\r\v\f\x85\u2028\u2029]")
    generator = random.Random(7)
    for _ in range(500):
        length = generator.randrange(30)
        text = "".join(generator.choice("ab \r\n\v\f\x85\u2028\u2029") for _ in range(length))
        assert _unify_line_breaks(text) == line_breaks.sub("\n", text), repr(text)


def test_key_words_grouped_by_first_character_match_as_the_plain_alternation() -> None:
    words = ["copyright", "copr.", "(c)", "©", "cookie", "cookies", "all rights reserved", "icp", "订阅"]
    grouped = re.compile(_by_first_character(words))
    plain = re.compile("|".join(map(re.escape, words)))
    generator = random.Random(11)
    texts = ["(c) 2024", "copr. 1999", "a cook", "we set cookies", "all rights", "京icp备", "订", "c"] + [
        "".join(generator.choice("copyright(.)©ikesalr 订阅") for _ in range(12)) for _ in range(2000)]
    for text in texts:
        assert bool(grouped.search(text)) == bool(plain.search(text)), text


def test_navigation_needs_three_menu_words_in_four() -> None:
    assert _is_navigation("Home News Sport Zebra")         # three of four words are menu words
    assert not _is_navigation("Home News Zebra Yak")       # two of four are not enough
    assert not _is_navigation("Zebra Home News Sport Yak")
    assert _is_navigation("Home News Sport Weather Zebra")


# -- CleanStage: the run's cleaning settings ----------------------------------------------------------

BOILERPLATE_PAGES = DATA_DIR / "boilerplate"


def _raw(text: str, name: str, url: str | None = None) -> RawDocument:
    return RawDocument(doc_id=name, source_path=f"/in/{name}.txt", source_format="txt", text=text,
                       encoding="utf-8", n_bytes=len(text.encode()), metadata={"url": url} if url else {})


def test_clean_stage_cleans_at_its_threshold() -> None:
    text = (BOILERPLATE_PAGES / "ru_news.txt").read_text(encoding="utf-8")
    page = _raw(text, "ru")

    def paragraphs(stage: CleanStage) -> tuple[str, ...]:
        rejects: list = []
        (record,) = stage([page], rejects)
        assert rejects == []
        return record.cleaned.paragraphs

    # Strict enough to remove the first paragraph: the sentences that continue it need half of it.
    default, strict, lenient = (paragraphs(CleanStage()), paragraphs(CleanStage(threshold=0.85)),
                                paragraphs(CleanStage(threshold=0.0)))
    assert default == clean(text).paragraphs
    assert strict == clean(text, threshold=0.85).paragraphs
    assert lenient == clean(text, threshold=0.0).paragraphs
    # A stricter threshold removes lines the default keeps; 0 keeps lines (comments) the default removes.
    assert set(strict) < set(default) < set(lenient)


def test_clean_stage_counts_repetition_across_as_few_pages_as_it_is_told() -> None:
    shared = "The harbour authority publishes these figures every Monday morning."
    pages = [_raw(f"Story {index} is about the harbour and its new cranes, the authority said today.\n\n"
                  f"{shared}\n\nThe second paragraph of story {index} gives the figures for the year.",
                  f"page{index}", f"https://www.port.example/{index}") for index in range(2)]
    elsewhere = _raw(pages[1].text, "other", "https://other.example/1")

    def kept(stage: CleanStage, batch: list[RawDocument]) -> list[bool]:
        return [shared in record.cleaned.paragraphs for record in stage(batch, [])]

    assert MIN_SITE_REPEATS > 2
    assert kept(CleanStage(), pages) == [True, True]
    assert kept(CleanStage(min_repeats=2), pages) == [False, False]
    removed = CleanStage(min_repeats=2)(pages, [])[0].cleaned.removed
    assert [(line.text, line.rule) for line in removed] == [(shared, REPEATED_RULE)]
    # Two pages of different sites share nothing.
    assert kept(CleanStage(min_repeats=2), [pages[0], elsewhere]) == [True, True]


def test_metadata_values_are_the_metadata_found_in_reading_order() -> None:
    document = CleanedDocument(paragraphs=("Body.",), title="Port sets a record", published="2026-03-01",
                               attribution="Reuters")
    assert document.metadata_values == ("Port sets a record", "2026-03-01", "Reuters")
    assert CleanedDocument(paragraphs=("Body.",)).metadata_values == ()


@pytest.mark.parametrize("text", [
    "Floods in the north - example.com", "Floods | news.bbc.co.uk  ", "Floods – site.org\n",
    "Floods - site.org\u3000\u2029", "标题_新华网", "标题 | 新华网 \u3000", "Floods - EXAMPLE.COM",
    "Floods - example.com.", "Floods - example.com and more", "The end.", "",
])
def test_a_site_suffix_is_removed_as_the_pattern_removes_it(text: str):
    assert _without_site_suffix(text) == _SITE_SUFFIX.sub("", text)
