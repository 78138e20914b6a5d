"""Alignment of sentences and paragraphs, and the model-free quality signals."""
from __future__ import annotations

import pytest

from pipeline.records import LanguageGuess, Translation, TranslationStatus
from pipeline.stages.align import (align_paragraph, align_sentences, assess, has_repeated_words, latin_share,
                                   length_ratio, numbers, numbers_match, urls_match, weighted_length)

TRANSLATED = TranslationStatus.TRANSLATED
UNTRANSLATED = TranslationStatus.UNTRANSLATED
ENGLISH = TranslationStatus.SOURCE_IS_ENGLISH


def translated(text: str, model: str = "tiny@abc") -> Translation:
    return Translation(text, TRANSLATED, model=model)


def test_cjk_characters_weigh_more_than_latin_ones():
    assert weighted_length("abc") == 3
    assert weighted_length("北京市") == 9          # Han x3
    assert weighted_length("한국어") == 7.5         # Hangul x2.5
    assert weighted_length("ひらがな") == 8         # kana x2
    assert weighted_length("a b\tc") == 3          # whitespace does not count


def test_length_ratio_is_about_one_for_a_plausible_chinese_translation():
    # 14 Han characters ~ 42 English-equivalent characters.
    ratio = length_ratio("北京举行了服务业扩大开放会议", "Beijing held a meeting on opening up services")
    assert 0.8 < ratio < 1.3
    assert length_ratio("", "anything") is None


def test_numbers_are_normalised_across_scripts_and_separators():
    assert numbers("في عام ٢٠٢٠ زار ١٬٠٠٠ شخص") == numbers("In 2020, 1,000 people visited")
    assert numbers("۱۴۰۲") == numbers("1402")                  # Persian digits
    assert numbers("２０２３年") == numbers("in 2023")          # full-width digits
    assert numbers("1.000 Euro") == numbers("1,000 euros")      # locale grouping ignored
    assert numbers_match("العدد ٧", "number 7")
    assert not numbers_match("العدد ٧", "number 8")
    assert not numbers_match("٥ و ٥", "5")                      # counted, not just a set
    assert numbers_match("لا أرقام هنا", "no numbers here")
    assert numbers_match("يوم ٠٩", "day 9")                     # leading zeros do not matter


def test_urls_and_emails_must_be_carried_over():
    assert urls_match("زوروا https://example.org/page.", "Visit https://example.org/page")
    assert urls_match("راسلونا info@example.com", "Write to INFO@example.com.")
    assert not urls_match("زوروا www.example.org", "Visit the site")
    assert not urls_match("بلا روابط", "See https://invented.example")


def test_repeated_words_and_non_latin_output():
    assert has_repeated_words("the the the the meeting")
    assert not has_repeated_words("the meeting, the city, the zone and the plan")
    assert latin_share("Hello") == 1.0
    assert latin_share("مرحبا") == 0.0
    assert latin_share("2020") is None


def test_assess_raises_flags_from_the_raw_signals():
    good = assess("عقد اجتماع في ٢٠٢٠", "A meeting was held in 2020")
    assert good.quality_flags == ()
    assert good.numbers_match is True and good.urls_match is True
    bad = assess("عقد اجتماع مهم جدا في بكين عام ٢٠٢٠ لبحث التجارة", "the the the the")
    assert set(bad.quality_flags) == {"length_ratio_low", "numbers_mismatch", "repeated_words"}
    copied = assess("Beijing 2020", "Beijing 2020")
    assert "copied_source" in copied.quality_flags
    not_english = assess("会议", "会议会议会议")
    assert {"output_not_latin", "length_ratio_high"} <= set(not_english.quality_flags)


ARABIC = LanguageGuess("ar", 0.99, "detected")


def test_sentence_pairs_keep_offsets_into_the_paragraph():
    paragraph = "جملة أولى. جملة ثانية؟"
    spans = [(0, 10), (11, 22)]
    pairs = align_sentences(3, "ar", paragraph, spans, [translated("First one."), translated("Second?")])
    assert [pair.sent_id for pair in pairs] == [0, 1]
    assert all(pair.para_id == 3 for pair in pairs)
    assert [paragraph[p.char_start:p.char_end] for p in pairs] == [p.src_text for p in pairs]
    assert pairs[1].src_text == "جملة ثانية؟"
    assert pairs[0].quality.len_ratio is not None


def test_sentence_count_mismatch_is_an_error():
    with pytest.raises(ValueError, match="2 sentences but 1 translations"):
        align_sentences(0, "ar", "أ. ب.", [(0, 2), (3, 5)], [translated("A.")])


def test_paragraph_of_translated_sentences_joins_their_english():
    paragraph = "جملة أولى. جملة ثانية؟"
    pairs = align_sentences(0, "ar", paragraph, [(0, 10), (11, 22)],
                            [translated("First one."), translated("Second?")])
    result = align_paragraph(0, paragraph, ARABIC, pairs)
    assert result.status is TRANSLATED
    assert result.en_text == "First one. Second?"
    assert result.model == "tiny@abc"
    assert (result.n_sentences, result.n_sentences_translated) == (2, 2)
    assert result.quality.len_ratio is not None


def test_partly_translated_paragraph_is_never_presented_as_translated():
    paragraph = "جملة أولى. جملة ثانية؟"
    pairs = align_sentences(0, "ar", paragraph, [(0, 10), (11, 22)], [
        translated("First one."), Translation(None, UNTRANSLATED, detail="empty_output")])
    result = align_paragraph(0, paragraph, ARABIC, pairs)
    assert result.status is UNTRANSLATED
    assert result.en_text is None
    assert result.status_detail == "partial_translation"
    assert (result.n_sentences, result.n_sentences_translated) == (2, 1)
    assert result.quality.quality_flags is None


def test_untranslated_paragraph_keeps_the_common_reason():
    paragraph = "一句。二句。"
    missing = Translation(None, UNTRANSLATED, detail="no_model_for_language")
    pairs = align_sentences(0, "zh", paragraph, [(0, 3), (3, 6)], [missing, missing])
    result = align_paragraph(0, paragraph, LanguageGuess("zh", 0.9, "detected"), pairs)
    assert (result.status, result.status_detail) == (UNTRANSLATED, "no_model_for_language")
    assert result.en_text is None


def test_english_paragraph_is_its_own_english():
    paragraph = "One. Two."
    same = [Translation("One.", ENGLISH), Translation("Two.", ENGLISH)]
    pairs = align_sentences(0, "en", paragraph, [(0, 4), (5, 9)], same)
    result = align_paragraph(0, paragraph, LanguageGuess("en", 0.98, "detected"), pairs)
    assert result.status is ENGLISH
    assert result.en_text == paragraph
    assert result.model is None
    assert pairs[0].quality.len_ratio is None


def test_translated_sentence_without_english_is_refused():
    with pytest.raises(ValueError, match="no English"):
        align_sentences(0, "ar", "نص", [(0, 2)], [Translation("", TRANSLATED, model="m")])
