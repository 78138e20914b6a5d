"""Body scores: line features, the context step, the shipped model, and cleaning pages of unseen sites."""
from __future__ import annotations

import math
import random
import re

import justext
import numpy as np
import pytest
from project_paths import DATA_DIR

from pipeline.stages.boilerplate import BodyModel, TreeEnsemble, body_scores, default_model
from pipeline.stages.boilerplate_blocks import BLOCK_NAMES, block_features
from pipeline.stages.boilerplate_features import (_COMMENT_HEADER, _COMMENT_HEADER_WORD_CHARS,
                                                  _COMMENT_HEADER_WORD_ENDS, _DATE_STAMP, _DIGIT,
                                                  _NAME_BEFORE_DATE, _SYMBOL, _TIME, _TIME_STAMP, _WORD,
                                                  CONTEXT_NAMES, FEATURE_NAMES, _digits_and_symbols,
                                                  _is_comment_header, _lower_words, _stamp_kind,
                                                  context_features,
                                                  guess_stopwords, line_features)
from pipeline.stages.clean import (BODY_THRESHOLD, LOW_SCORE_RULE, REPEATED_RULE, SHORT_LINE_WORDS, clean,
                                   clean_batch, judge_lines, repeated_lines, site_of)
from pipeline.stages.words import word_count

PAGES = DATA_DIR / "boilerplate"

# The body of each test page: everything else (menus, teasers, comments, footers) must go.
BODY = {
    "ru_news.txt": [
        "Городской совет в четверг утвердил план реконструкции набережной, работы начнутся весной и "
        "продлятся два года.",
        "По словам мэра, на проект выделено около трёх миллиардов рублей, большая часть средств поступит "
        "из областного бюджета.",
        "Жители, которые участвовали в обсуждении, попросили сохранить старые деревья и добавить "
        "велосипедные дорожки.",
        "Подрядчика выберут на открытом конкурсе до конца апреля, сообщили в администрации.",
    ],
    "ar_news.txt": [
        "افتتحت البلدية يوم الأحد مكتبة عامة جديدة تضم أكثر من خمسين ألف كتاب باللغتين العربية والإنجليزية.",
        "وقال رئيس البلدية إن المكتبة ستفتح أبوابها يوميا من الساعة التاسعة صباحا حتى العاشرة مساء.",
        "وتضم المكتبة قاعة للأطفال ومختبرا للحاسوب وقاعة للمحاضرات تتسع لمئتي شخص.",
        "وأضاف أن الدخول مجاني لجميع السكان، وأن البلدية تخطط لافتتاح فرعين آخرين في العام المقبل.",
    ],
    "zh_news.txt": [
        "本市地铁五号线今天上午正式开通运营，全长二十八公里，共设二十个车站。",
        "据市交通局介绍，新线路开通后，从城东到市中心的通勤时间将由一小时缩短到三十五分钟。",
        "首班车于早上六点发车，末班车为晚上十一点，高峰时段发车间隔为三分钟。",
        "不少市民一早就来到车站体验新线路，他们表示新线路让出行更加方便了。",
    ],
}
TITLES = {
    "ru_news.txt": "Городской совет утвердил план ремонта набережной",
    "ar_news.txt": "افتتاح مكتبة عامة جديدة في وسط المدينة",
    "zh_news.txt": "城市地铁新线路今日开通运营",
}
COMMENTS = {
    "ru_news.txt": "Наконец-то! Давно пора было этим заняться, набережная в ужасном состоянии.",
    "ar_news.txt": "خبر رائع، نتمنى أن تكون هناك مكتبات مثلها في كل حي.",
    "zh_news.txt": "终于开通了，以后上班方便多了！",
}


def _features(lines: list[str]) -> np.ndarray:
    removed = [False] * len(lines)
    return line_features(lines, removed, removed, guess_stopwords(lines))


def _column(rows: np.ndarray, name: str) -> np.ndarray:
    return rows[:, FEATURE_NAMES.index(name)]


@pytest.mark.parametrize("name", sorted(BODY))
def test_own_pages_lose_menus_teasers_and_footers_and_keep_their_body(name: str) -> None:
    text = (PAGES / name).read_text(encoding="utf-8")
    cleaned = clean(text)
    assert [paragraph for paragraph in cleaned.paragraphs if paragraph in BODY[name]] == BODY[name]
    assert cleaned.title == TITLES[name]
    # Menus, teasers and footers go at any threshold; at the default the interface lines and readers'
    # comments go too, and every comment scores under every body line.
    page = text.split("\n")
    teasers = page[page.index(BODY[name][-1]) + 1:page.index(COMMENTS[name]) - 2]
    assert len(teasers) == 4 and not set(teasers) & set(cleaned.paragraphs)
    assert page[0] not in cleaned.paragraphs and page[-1] not in cleaned.paragraphs
    assert cleaned.paragraphs == tuple(BODY[name])
    lines, rules, _ = judge_lines(text)
    scores = dict(zip(lines, body_scores(lines, [rule is not None for rule in rules],
                                         [rule == "comment_prompt" for rule in rules])))
    assert scores[COMMENTS[name]] < min(scores[line] for line in BODY[name])
    for line in cleaned.removed:
        # Scores are kept with the decision they led to, and only lines removed for their score have one.
        if line.rule == LOW_SCORE_RULE:
            assert line.score is not None and 0.0 <= line.score < BODY_THRESHOLD
        else:
            assert line.score is None


def test_threshold_is_a_parameter_of_the_decision_not_of_the_scores() -> None:
    text = (PAGES / "ru_news.txt").read_text(encoding="utf-8")
    everything = clean(text, threshold=0.0)
    default = clean(text)
    strict = clean(text, threshold=0.99)
    assert not any(line.rule == LOW_SCORE_RULE for line in everything.removed)
    assert "Ответить" in everything.paragraphs
    assert set(default.paragraphs) < set(everything.paragraphs)
    assert len(strict.paragraphs) < len(default.paragraphs)
    low = [(line.text, line.score) for line in default.removed if line.rule == LOW_SCORE_RULE]
    assert low and set(low) <= {(line.text, line.score) for line in strict.removed}


def _constant_model(score: float) -> BodyModel:
    """A model that scores every line `score`: one tree of one level whose two leaves are equal."""
    logit = math.log(score / (1 - score))
    constant = TreeEnsemble(1, 0.0, np.zeros(1, dtype=np.int32), np.full(1, np.inf, dtype=np.float32),
                            np.array([logit, logit]))
    return BodyModel(constant, constant)


def test_a_short_line_needs_a_surer_score_than_a_longer_one() -> None:
    sentences = ["The council approved the new budget for the harbour district on Monday evening.",
                 "Work on the quay starts in spring and should take about two years to finish.",
                 "Residents asked the council to keep the old trees and to add a cycle path.",
                 "A contractor will be chosen in an open tender before the end of April."]
    short = ["Bridge reopens", "Rain expected tomorrow", "Harbour works"]
    text = "\n".join([sentences[0], short[0], sentences[1], short[1], sentences[2], short[2], sentences[3]])
    unsure = clean(text, model=_constant_model(0.4))
    assert set(sentences[1:]) <= set(unsure.paragraphs) and not set(short) & set(unsure.paragraphs)
    assert {(line.text, line.rule, line.score) for line in unsure.removed} >= {
        (line, LOW_SCORE_RULE, 0.4) for line in short}
    sure = clean(text, model=_constant_model(0.75))
    assert set(short) <= set(sure.paragraphs)
    # The bar for short lines moves with the threshold: at 0.05 a short line needs odds of 7/19 (p 0.27).
    lenient = clean(text, threshold=0.05, model=_constant_model(0.4))
    assert set(short) <= set(lenient.paragraphs)
    assert not any(line.rule == LOW_SCORE_RULE for line in clean(text, threshold=0.0,
                                                                 model=_constant_model(0.01)).removed)


def test_words_of_a_short_line_are_counted_in_any_script() -> None:
    assert word_count("Rain expected tomorrow") == 3 < SHORT_LINE_WORDS
    assert word_count("地铁开通") < SHORT_LINE_WORDS < word_count("城市地铁新线路今日开通运营")
    assert word_count("Городской совет утвердил план") == 4


def test_stop_words_are_picked_by_the_page_language() -> None:
    russian = guess_stopwords(BODY["ru_news.txt"])
    arabic = guess_stopwords(BODY["ar_news.txt"])
    assert russian == frozenset(justext.get_stoplist("Russian")) and {"в", "и", "на"} <= russian
    assert arabic == frozenset(justext.get_stoplist("Arabic")) and {"في", "من"} <= arabic
    assert guess_stopwords(["12345 67890"]) == frozenset()


def test_stop_word_share_separates_prose_from_labels() -> None:
    for name, label in (("ru_news.txt", "Цены на бензин снова выросли"), ("zh_news.txt", "市图书馆延长开放时间")):
        rows = _features([*BODY[name], label])
        stop_share = _column(rows, "stop_share")
        assert stop_share[:4].min() > stop_share[4], name


def test_unspaced_script_is_counted_in_words_not_as_one_word() -> None:
    rows = _features([BODY["zh_news.txt"][0], "首页"])
    log_words = _column(rows, "log_words")
    assert np.expm1(log_words[0]) > 10 and np.expm1(log_words[1]) < 3


def test_line_shape_features() -> None:
    lines = ["Home | Search | Login | Contact us", "The council approved the plan on Monday, officials said.",
             "Page 3 of 12 - 2024"]
    rows = _features(lines)
    assert _column(rows, "sentence_end").tolist() == [0.0, 1.0, 0.0]
    assert _column(rows, "interface_share")[0] == 0.8 and _column(rows, "interface_share")[1] == 0.0
    assert _column(rows, "separators")[0] == 3
    assert _column(rows, "digit_share")[2] > _column(rows, "digit_share")[1]
    assert _column(rows, "capitalised_share")[0] > _column(rows, "capitalised_share")[1]


def test_main_block_and_comment_position() -> None:
    prose = "The council approved the plan on Monday after a long debate about the budget and its cost."
    comment = "I disagree with the council on this plan, it will cost far too much for what it gives us."
    lines = ["Menu", prose, prose.replace("Monday", "Tuesday"), "Comments", comment]
    removed = [False, False, False, True, False]
    comment_prompts = [False, False, False, True, False]
    rows = line_features(lines, removed, comment_prompts, guess_stopwords(lines))
    assert _column(rows, "in_main_block").tolist()[:3] == [0.0, 1.0, 1.0]
    # The prompt itself was removed by a rule: it has no features of its own.
    assert _column(rows, "after_comment_prompt").tolist() == [0.0, 0.0, 0.0, 0.0, 1.0]
    assert _column(rows, "prose_before")[4] > 0.6


def test_comment_headers_after_the_article_mark_readers_text_in_any_language() -> None:
    prose = "The council approved the plan on Monday after a long debate about the budget and its cost."
    first_comment = "I disagree with the council on this plan, it will cost far too much for what it gives."
    second_comment = "Je trouve que ce projet arrive bien trop tard pour les habitants du quartier du port."
    lines = ["Alice says:", prose, prose.replace("Monday", "Tuesday"), prose.replace("Monday", "Friday"),
             "Bob says:", first_comment, "Marie a écrit :", second_comment]
    nothing = [False] * len(lines)
    rows = line_features(lines, nothing, nothing, guess_stopwords(lines))
    # A header-like line before the article opens nothing; one after it opens the readers' text.
    assert _column(rows, "after_comment_header").tolist() == [0.0] * 4 + [1.0] * 4
    french_only = [line for line in lines if line not in ("Bob says:", first_comment)]
    rows = line_features(french_only, nothing[:6], nothing[:6], guess_stopwords(french_only))
    assert _column(rows, "after_comment_header").tolist() == [0.0] * 4 + [1.0] * 2
    # A sentence that reports speech and a clock time in an article line are no headers.
    quoted = ["Alice says the plan is good.", prose, prose.replace("Monday", "Tuesday at 9:30 am"),
              "He wrote that the cost was too high, and the mayor agreed with him on Friday."]
    rows = line_features(quoted, nothing[:4], nothing[:4], guess_stopwords(quoted))
    assert _column(rows, "after_comment_header").tolist() == [0.0, 0.0, 0.0, 0.0]
    # A name before its date, the date a link of its own line: "Kate on".
    named = [prose, prose.replace("Monday", "Tuesday"), "Kate on", first_comment]
    rows = line_features(named, nothing[:4], nothing[:4], guess_stopwords(named))
    assert _column(rows, "after_comment_header").tolist() == [0.0, 0.0, 1.0, 1.0]


@pytest.mark.parametrize("line", [
    "14 minutes ago", "March 3, 2019 at 9:41 pm", "Posted Aug 9th 2012 2:15PM", "05-06-2005, 05:28 PM",
    "il y a 3 heures", "hace 2 días", "3 дня назад", "منذ 3 ساعات", "5分钟前", "2時間前",
    "Graham — July 11th, 2012, 4:30 am I'd say use her familiarity with it to get back in touch with her."])
def test_time_stamps_of_posts_are_recognised_in_several_languages(line: str) -> None:
    assert _stamp_kind(line) == _TIME_STAMP


def test_time_stamps_are_found_wherever_the_whole_time_pattern_finds_one() -> None:
    # _stamp_kind searches the whole pattern only on lines holding a clock time or one of its words.
    pieces = ["12:30", "9.41", "1:5", "123:45", "x12:30", "3 days ago", "5 MINS AGO", "ago", "Agony",
              "il y a 2", "IL Y A 3", "HÁ 4", "há", "hace 1", "Vor 5", "3 дня назад", "ЧАСА НАЗАД", "منذ 3",
              "5分钟前", "前", "2時間前", "7", "2012", " pm", "a.m.", " ", ", ", "hours", "x"]
    rng = random.Random(11)
    lines = ["".join(rng.choice(pieces) for _ in range(rng.randint(1, 5))) for _ in range(4000)]
    found = [_stamp_kind(line) == _TIME_STAMP for line in lines]
    assert found == [_TIME.search(line) is not None for line in lines]
    assert 500 < sum(found) < len(lines) - 500


@pytest.mark.parametrize("line", ["Aug 2012 by Whelk", "Posted July 3, 2012", "12 марта 2024"])
def test_a_date_without_a_time_is_a_date_stamp(line: str) -> None:
    assert _stamp_kind(line) == _DATE_STAMP


@pytest.mark.parametrize("line", [
    "The cat sat on the mat",
    "In 2012 the government of the country decided to raise the tax on everything sold in its shops.",
    "The council met on Monday and voted at last, after four hours, to close the road at 9:30 pm.",
    "Read more"])
def test_prose_and_labels_are_no_time_stamps(line: str) -> None:
    assert not _stamp_kind(line)


def test_time_stamps_after_the_article_are_counted_before_and_around_each_line() -> None:
    prose = "The council approved the plan on Monday after a long debate about the budget and its cost."
    comment = "I disagree with the council on this plan, it will cost far too much for what it gives us."
    lines = ["Posted July 3, 2012", *[prose] * 12, "anna77", "2 hours ago", comment,
             "bob_k", "1 hour ago", comment, "cara", "30 minutes ago", comment]
    rows = _features(lines)
    assert np.flatnonzero(_column(rows, "stamp")).tolist() == [0, 14, 17, 20]
    # The article's own date comes before its main block: only the readers' stamps count.
    assert np.expm1(_column(rows, "stamps_before")).round().tolist() == [0] * 15 + [1] * 3 + [2] * 3 + [3]
    assert np.expm1(_column(rows, "stamps_after")).round().tolist() == [3] * 14 + [2] * 3 + [1] * 3 + [0] * 2
    # Eight lines either side: the article's middle sees its date alone, a comment the three stamps.
    assert _column(rows, "stamps_near")[[5, 15, 21]].tolist() == [1, 3, 3]
    # The date and the first comment's stamp are too far apart to open a thread together.
    assert _column(rows, "in_thread").tolist() == [0] * 14 + [1] * 8


def test_dated_teasers_above_an_article_open_no_thread() -> None:
    prose = "The council approved the plan on Monday after a long debate about the budget and its cost."
    lines = ["More from the blog", "Rays shut out the Orioles", "Aug 2012 by Whelk", "Early 2013 outlook",
             "Jul 2012 by Whelk", "A quiet trade deadline", "Jul 2012 by Erik", *[prose] * 6]
    rows = _features(lines)
    assert _column(rows, "stamp").tolist() == [0, 0, 1, 1, 1, 0, 1] + [0] * 6
    assert not _column(rows, "in_thread").any()


def test_a_line_printed_twice_knows_which_copy_it_is() -> None:
    article = "The council approved the plan on Monday after a long debate about the budget and its cost."
    other = "Work on the new bridge is to start in the spring and to last for about two years."
    rows = _features(["Home News Sport", article, other, article, "Home News Sport"])
    assert _column(rows, "copy_of_earlier_line").tolist() == [0, 0, 0, 1, 1]
    assert _column(rows, "copied_later").tolist() == [1, 1, 0, 0, 0]


def test_stamps_near_and_copies_agree_with_their_definitions_on_a_random_page() -> None:
    """The running totals and index dicts behind these columns against the plain definitions."""
    rng = random.Random(7)
    pool = ["Home", "2 hours ago", "Posted 12:30 pm", "Reply", "The plan was approved after a long debate.",
            "It will cost more than the council says it will.", "Share this article", "2012"]
    lines = [rng.choice(pool) for _ in range(60)]
    rows = _features(lines)
    stamps = [_stamp_kind(line) != 0 for line in lines]
    near = [sum(stamps[max(0, index - 8):index + 9]) - stamps[index] for index in range(len(lines))]
    assert _column(rows, "stamps_near").tolist() == near
    assert _column(rows, "copy_of_earlier_line").tolist() == [
        float(line in lines[:index]) for index, line in enumerate(lines)]
    assert _column(rows, "copied_later").tolist() == [
        float(line in lines[index + 1:]) for index, line in enumerate(lines)]


def test_a_forum_thread_opens_at_the_first_post() -> None:
    post = "I think the second film was better than the first one, and the music was far better too."
    lines = ["Board index", "anna77", "05-06-2005, 05:28 PM", post, "bob_k", "05-06-2005, 05:41 PM", post,
             "cara", "05-06-2005, 05:48 PM", post, "dan", "05-06-2005, 05:52 PM", post]
    rows = _features(lines)
    # The thread starts at the first post's stamp, before the first line of prose.
    assert _column(rows, "in_thread").tolist() == [0] * 2 + [1] * 11


def test_context_step_lets_neighbours_decide_an_unsure_line() -> None:
    model = default_model()
    # The same unsure line in the middle of an article and in the middle of a menu (four lines each side,
    # past the reach of the context window).
    own = np.array([0.95] * 4 + [0.3] + [0.95] * 4 + [0.05] * 4 + [0.3] + [0.05] * 4)
    scores = model.context_scores(context_features(own, [False] * len(own)))
    assert scores[4] > BODY_THRESHOLD and scores[4] > own[4]
    assert scores[13] < BODY_THRESHOLD and scores[13] < own[13] and scores[4] - scores[13] > 0.2


def test_context_counts_lines_removed_by_rules_as_boilerplate_and_skips_empty_lines() -> None:
    own = np.array([0.9, 0.4, 0.9])
    free = context_features(own, [False, False, False])
    fenced = context_features(own, [True, False, True])
    previous, window_max = CONTEXT_NAMES.index("previous"), CONTEXT_NAMES.index("window_max")
    assert fenced[1, previous] < free[1, previous] and fenced[1, window_max] < free[1, window_max]
    spaced = context_features(np.array([0.9, 0.0, 0.4, 0.0, 0.9]), [False] * 5,
                              [True, False, True, False, True])
    assert np.allclose(spaced[[0, 2, 4]], free) and not spaced[[1, 3]].any()


def test_neighbour_features_see_past_empty_lines_and_count_runs_of_short_lines() -> None:
    prose = "The council approved the plan on Monday after a long debate about the budget and its cost."
    lines = [prose, "", "Sport", "Weather", "Travel", "Money", prose.replace("Monday", "Friday"), "Share"]
    removed = [False, False, False, False, False, False, False, True]
    rows = line_features(lines, removed, [False] * len(lines), guess_stopwords(lines))
    column = {name: rows[:, FEATURE_NAMES.index(name)] for name in FEATURE_NAMES}
    assert column["previous_log_words"][2] == column["log_words"][0]        # the empty line is skipped
    assert column["previous_removed"][0] == 1.0 and column["next_removed"][6] == 1.0   # page edge, rule
    assert column["next_sentence_end"][5] == 1.0 and column["previous_sentence_end"][3] == 0.0
    # Four menu words make one run; the removed "Share" is a run of one; prose is in none.
    assert np.expm1(column["short_run"][[2, 3, 4, 5]]).round().tolist() == [4.0] * 4
    assert column["short_run"][0] == 0.0 and np.expm1(column["short_run"][7]).round() == 1.0
    assert column["words_below_longest"][0] == 0.0 > column["words_below_longest"][2]


def test_blank_lines_between_paragraphs_change_no_score() -> None:
    # Positions count the lines that hold text: a short paragraph between blank lines does not split
    # the page's main block, and the last paragraphs stay body.
    text = (PAGES / "ru_news.txt").read_text(encoding="utf-8")
    lines, rules, _ = judge_lines(text)
    spaced_lines, spaced_rules, _ = judge_lines(text.replace("\n", "\n\n"))
    scores = body_scores(lines, [rule is not None for rule in rules],
                         [rule == "comment_prompt" for rule in rules])
    spaced = body_scores(spaced_lines, [rule is not None for rule in spaced_rules],
                         [rule == "comment_prompt" for rule in spaced_rules])
    assert len(spaced_lines) > len(lines) and not spaced[[not line for line in spaced_lines]].any()
    assert np.allclose(spaced[[bool(line) for line in spaced_lines]], scores[[bool(line) for line in lines]])


def _small_ensemble() -> TreeEnsemble:
    # One tree of depth 2 over two features: feature 0 at the root, feature 1 below on the right;
    # the left child is a leaf padded to depth 2 (threshold +inf: always left).
    return TreeEnsemble(depth=2, bias=-0.5, features=np.array([0, 0, 1]),
                        thresholds=np.array([1.0, np.inf, 3.0]), leaves=np.array([0.25, 0.25, -1.0, 2.0]))


def test_tree_ensemble_follows_each_row_to_its_leaf() -> None:
    ensemble = _small_ensemble()
    rows = np.array([[0.5, 9.0], [1.0, 0.0], [2.0, 3.0], [2.0, 3.5]])
    assert ensemble.decision(rows).tolist() == [-0.25, -0.25, -1.5, 1.5]
    doubled = TreeEnsemble(2, -0.5, np.tile(ensemble.features, 2), np.tile(ensemble.thresholds, 2),
                           np.tile(ensemble.leaves, 2))
    assert doubled.decision(rows).tolist() == [0.0, 0.0, -2.5, 3.5]


def test_model_file_round_trips_and_rejects_a_wrong_feature_list_or_tree() -> None:
    model = default_model()
    again = BodyModel.from_text(model.to_text())
    rows = np.random.default_rng(0).normal(size=(50, len(FEATURE_NAMES)))
    assert np.allclose(again.line_scores(rows), model.line_scores(rows))
    assert 0 < model.line.trees and model.line.depth <= 6
    text = model.to_text()
    with pytest.raises(ValueError, match=r"\[line\]"):
        BodyModel.from_text(text.replace(" stop_share ", " stopword_share "))
    rows_of_text = text.splitlines()
    tree = rows_of_text[rows_of_text.index("[context]") + 3]
    with pytest.raises(ValueError, match="wrong size"):
        BodyModel.from_text(text.replace(tree, tree.split("|")[0] + "| 0.5"))
    outside = TreeEnsemble(2, 0.0, np.array([0, 0, 99]), np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="outside"):
        TreeEnsemble.from_rows(outside.to_rows(), len(CONTEXT_NAMES))


def test_rule_removed_lines_score_zero() -> None:
    lines = ["Home | News | Sport", "The council approved the plan on Monday after a long debate.",
             "Work is expected to start in the spring and to last two years, the mayor told reporters.",
             "Residents asked the council to keep the old trees and to add cycle lanes along the river."]
    scores = body_scores(lines, [True, False, False, False], [False] * 4)
    assert scores[0] == 0.0 and min(scores[1:]) > BODY_THRESHOLD


def test_title_is_not_taken_from_boilerplate() -> None:
    text = "\n".join([
        "Accessibility links",
        "Skip to content",
        "Council approves riverside plan",
        "The city council approved the riverside plan on Thursday after a debate that lasted four hours.",
        "Work is expected to start in the spring and to last two years, the mayor told reporters.",
        "Residents asked the council to keep the old trees and to add cycle lanes along the river.",
    ])
    cleaned = clean(text)
    assert cleaned.title == "Council approves riverside plan"
    assert [paragraph[:8] for paragraph in cleaned.paragraphs][-3:] == ["The city", "Work is ", "Resident"]


@pytest.mark.parametrize("interface_line", ["Sign in", "تسجيل الدخول", "Войти"])
def test_interface_phrase_is_never_the_title_whatever_its_score(
        interface_line: str, monkeypatch: pytest.MonkeyPatch) -> None:
    import pipeline.stages.clean as clean_module

    monkeypatch.setattr(clean_module, "body_scores",
                        lambda lines, removed, prompts, model, comments_from: np.full(len(lines), 0.9))
    text = "\n".join([
        interface_line,
        "Council approves riverside plan",
        "The city council approved the riverside plan on Thursday after a debate that lasted four hours.",
        "Work is expected to start in the spring and to last two years, the mayor told reporters.",
        "Residents asked the council to keep the old trees and to add cycle lanes along the river.",
        "Read the council's report",
        "Contact the newsroom",
    ])
    assert clean(text).title == "Council approves riverside plan"


# --- repetition across the documents of a batch ------------------------------------------------------

def _site_pages(site: int, pages: int) -> list[str]:
    header = [f"Site {site} Daily", "Subscribe for our morning briefing today",
              "Weather forecast for the week ahead"]
    teasers = [f"Opinion: why the port of site {site} matters", "Five places to eat this weekend"]
    return ["\n".join([*header, f"Story {site}-{page} is about the harbour and its new cranes, the "
                       f"authority said on day {page} of the works, and more work is planned.",
                       f"The second paragraph of story {site}-{page} gives the figures for the year and "
                       "the plans for the years after it.", *teasers])
            for page in range(pages)]


def test_lines_repeated_across_a_site_are_removed_in_a_batch() -> None:
    batch = [(text, {"url": f"https://www.site{site}.example/{index}"}, site_of(
        {"url": f"https://www.site{site}.example/{index}"}))
        for site in range(3) for index, text in enumerate(_site_pages(site, 6))]
    alone = [clean(text, metadata=metadata) for text, metadata, _ in batch]
    together = clean_batch(batch)
    for single, batched in zip(alone, together):
        assert all(paragraph.startswith(("Story", "The second")) for paragraph in batched.paragraphs)
        assert len(batched.paragraphs) == 2
        assert len(batched.paragraphs) <= len(single.paragraphs)
        assert any(line.rule == REPEATED_RULE for line in batched.removed)
    # Lines shared by fewer documents of a site than the threshold stay to the line scores.
    few = clean_batch(batch, min_repeats=7)
    assert not any(line.rule == REPEATED_RULE for document in few for line in document.removed)


def test_repetition_is_counted_per_site() -> None:
    pages = _site_pages(1, 3)
    repeated = repeated_lines([(pages[0], "a.example"), (pages[1], "b.example"), (pages[2], "c.example")], 2)
    assert all(not lines for lines in repeated.values())
    repeated = repeated_lines([(page, "a.example") for page in pages], 3)
    assert "Five places to eat this weekend" in repeated["a.example"]
    assert not any(line.startswith("Story") for line in repeated["a.example"])


def test_site_of_reads_the_url_host_else_the_source_directory() -> None:
    assert site_of({"url": "https://www.example.org/news/1.html"}) == "example.org"
    assert site_of({}, "/data/crawl/example.net/page1.txt") == "/data/crawl/example.net"
    assert site_of({"url": "not a url"}, "/data/x/page.txt") == "/data/x"
    assert site_of(None) == ""


def test_lines_that_continue_a_sentence_are_joined_into_one_paragraph() -> None:
    text = "\n".join([
        "Home | News | Sport",
        "Schools in",
        "the United States are organized in different ways: some schools",
        "include K-3, others are organized as middle schools.",
        "Students",
        "may be able to take part in more activities.",
        "The cost of travel rises.",
        "sign in",
    ])
    lines, rules, _ = judge_lines(text)
    assert lines[1:] == [
        "Schools in the United States are organized in different ways: some schools include K-3, others are "
        "organized as middle schools.",
        "Students may be able to take part in more activities.",
        # After a full stop a line in lower case starts anew, and a rule's line is never joined.
        "The cost of travel rises.",
        "sign in",
    ]
    assert rules[0] is not None and rules[-1] is not None


def test_comment_header_search_knows_the_last_letter_and_length_of_every_header_word() -> None:
    # The verbs between "\b(?:" and ")\s*" in the pattern: "says|said|wrote|...".
    verbs = re.search(r"\\b\(\?:(.*?)\)\\s\*", _COMMENT_HEADER.pattern).group(1).split("|")
    assert "says" in verbs and "написала" in verbs
    for word in verbs + ["说", "写道", "さん"]:
        assert len(word) <= _COMMENT_HEADER_WORD_CHARS, word
        assert _COMMENT_HEADER_WORD_ENDS.match(word[-1]), word
        assert _COMMENT_HEADER_WORD_ENDS.match(word[-1].upper()), word


def test_comment_header_search_finds_what_the_pattern_finds() -> None:
    lines = ["Anna says:", "ANNA SAYS", "Jean a écrit :", "Max schrieb:", "Мария написала:", "كتب أحمد: كتبت",
             "张三说：", "李四写道", "田中さん：", "March 3, 2019 at 9:41 pm", "12.30 AM", "— 5:48 am",
             "Anna says: hello", "The essays", "essays:", "Bob said, and left", "Page 2", "Version 2.0",
             "by Tom", "Comments (3)", "_", "", "!!!", "Gianni ha scritto: …", "x_says", "Bo said_"]
    generator = random.Random(5)
    pieces = ["says", "said", " ", ":", "a", "_", "é", "9", ".", "pm", "ha scritto"]
    lines += ["".join(generator.choice(pieces) for _ in range(generator.randrange(8))) for _ in range(3000)]
    found = 0
    for line in lines:
        assert _is_comment_header(line) == (_COMMENT_HEADER.search(line) is not None
                                            or _NAME_BEFORE_DATE.fullmatch(line) is not None), line
        found += _is_comment_header(line)
    assert found > 100
    assert not _is_comment_header("The essays of the year") and _is_comment_header("Anna says:")


def test_digits_and_symbols_are_counted_as_their_patterns_count() -> None:
    for line in ("Home | News 2024 — “quoted” text_with_underscore!", "12:30 pm, 3/4", "plain words",
                 "Цена ١٢٣ рубля: 5 % — «скидка»", "价格：１２３元（含税）", "a\tb", ""):
        assert _digits_and_symbols(line) == (len(_DIGIT.findall(line)), len(_SYMBOL.findall(line))), line


def test_a_lines_lower_cased_words_are_what_the_word_pattern_finds_in_ascii_and_in_other_text() -> None:
    every_ascii_character = "".join(map(chr, range(128)))
    for line in (every_ascii_character, f"Ab{every_ascii_character}Cd", "L'ÉTAT de l'Union_2 (AB-cd)",
                 "Hello, World! it's 3:45 PM_x\x1c\x1fend", "Straße ÜBER 12ème", "价格：１２３元", ""):
        assert _lower_words(line) == tuple(_WORD.findall(line.lower())), line
    assert _lower_words("Read MORE_now, 2x!") == ("read", "more_now", "2x")


def test_tree_ensemble_rejects_rows_without_the_features_its_trees_read() -> None:
    with pytest.raises(ValueError, match="rows of 1 features, the trees read feature 1"):
        _small_ensemble().decision(np.array([[0.5], [2.0]]))


def test_cleaning_a_long_line_keeps_nothing_of_it_in_the_line_caches() -> None:
    import gc
    import tracemalloc

    long_line = "The council approved the plan for the harbour and the ferries. " * 60_000   # 3.8 MB
    clean("warm up the caches\n\nwith a short page of two lines")
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        document = clean(long_line)   # a one-line file
        assert document.paragraphs == (long_line.strip(),)
        del document
        gc.collect()
        retained = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert retained < len(long_line) / 4   # before: its 660,000 word tokens and copies of the line


def test_lines_from_the_start_of_the_comments_on_are_marked_whatever_the_blank_lines() -> None:
    lines = ["Home | News", "", "A headline", "", "The article says something long enough to be prose here.",
             "", "3 comments", "", "Anna says:", "", "A reader's reply that is long enough to be prose too."]
    nothing = [False] * len(lines)
    rows = line_features(lines, nothing, nothing, guess_stopwords(lines), comments_from=6)
    present = [index for index, line in enumerate(lines) if line]
    assert _column(rows, "in_comments")[present].tolist() == [0.0, 0.0, 0.0, 1.0, 1.0, 1.0]
    assert not _column(line_features(lines, nothing, nothing, guess_stopwords(lines)), "in_comments").any()


def test_blocks_of_prose_are_read_around_each_line() -> None:
    words = np.array([2.0, 12, 10, 3, 15, 0, 0, 0, 0, 40, 1])
    rows = block_features(words, comments_from=len(words))
    column = dict(zip(BLOCK_NAMES, rows.T))
    # Lines 1-4 are one block of 37 words (the short line 3 inside it), line 9 another of 40.
    expected_blocks = [0, 37, 37, 37, 37, 0, 0, 0, 0, 40, 0]
    assert column["block_log_words"].tolist() == pytest.approx(np.log1p(expected_blocks))
    assert column["block_vs_main"][1] == pytest.approx(37 / 40)
    assert column["page_blocks"][0] == pytest.approx(np.log1p(2))
    assert column["distance_to_block"].tolist() == pytest.approx(np.log1p([1, 0, 0, 0, 0, 1, 2, 2, 1, 0, 1]))


def test_a_sentence_that_continues_a_kept_one_needs_half_the_threshold(
        monkeypatch: pytest.MonkeyPatch) -> None:
    first = "The council approved the new budget for the harbour district on Monday evening."
    second = "Work on the quay starts in spring and should take about two years to finish."
    third = "The old crane will be taken down first and sold to a museum in the north."
    alone = "Residents asked the council to keep the old trees and to add a cycle path."
    lines = [first, second, third, "Contact the town hall", alone, "Photos of the harbour"]
    scores = {first: 0.9, second: 0.15, third: 0.1, alone: 0.15}
    import pipeline.stages.clean as clean_module

    monkeypatch.setattr(clean_module, "body_scores", lambda lines, removed, prompts, model, comments_from:
                        np.array([scores.get(line, 0.01) for line in lines]))
    # 0.15 is enough after a kept sentence (0.125 at the threshold 0.25), 0.1 is not, and a sentence after
    # a removed line needs the whole threshold.
    assert clean("\n".join(lines)).paragraphs == (first, second)
