"""The Translator: never truncating, batching, caching, error policy, and both engines."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import regex

from pipeline.models.registry import ModelUnavailableError, convert_to_ctranslate2
from pipeline.records import TranslationStatus
from pipeline.settings import TranslationSettings
from pipeline.stages.translate import Translator, make_batches, output_budget, split_for_model


@pytest.fixture(autouse=True)
def offline_empty_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")


@pytest.fixture(scope="module")
def seed_sentences(arabic_seed: Path) -> list[str]:
    text = arabic_seed.read_text(encoding="utf-8")
    try:
        from pipeline.stages.segment import split_sentences
    except ImportError:
        return [part.strip() for part in regex.split(r"[.؟!\n]", text) if part.strip()]
    from pipeline.stages.segment import split_paragraphs

    return [sentence for paragraph in split_paragraphs(text) for sentence in split_sentences(paragraph, "ar")]


@pytest.fixture(scope="module")
def source_tokens(tiny_model_dir: Path):
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(tiny_model_dir / "source.spm"))
    return lambda texts: [len(ids) for ids in processor.encode(list(texts))]


def _settings(tmp_path: Path, tiny_model_dir: Path, **extra) -> TranslationSettings:
    return TranslationSettings(
        models_dir=tmp_path / "models", model_overrides={"ar": str(tiny_model_dir)}, device="cpu", **extra
    )


def test_seed_document_is_translated_whole_then_served_from_the_store(
    tmp_path: Path, tiny_model_dir: Path, seed_sentences: list[str]
) -> None:
    settings = _settings(tmp_path, tiny_model_dir, store_path=tmp_path / "store")
    progress: list[tuple[int, int]] = []
    translator = Translator(settings, progress=lambda done, total: progress.append((done, total)))
    first = translator.translate("ar", seed_sentences)
    identity = translator.model_for("ar")
    assert translator.stats.chunks_split > 0  # the seed has sentences over 31 tokens
    assert translator.stats.model_calls >= 1
    assert len(first) == len(seed_sentences) > 5
    assert identity is not None and identity.startswith(f"{tiny_model_dir}@")
    for result in first:
        assert result.status is TranslationStatus.TRANSLATED
        assert result.en_text and result.en_text.strip()
        assert result.model == identity
    assert progress[-1][0] == progress[-1][1]
    model, revision, decoding = translator.store_key("ar")
    assert (model, decoding) == (str(tiny_model_dir), "marian:fp32;beams=1") and identity.endswith(revision)

    again = Translator(settings)
    second = again.translate("ar", seed_sentences)
    assert again.stats.model_calls == 0
    assert again.stats.cache_hits == len(seed_sentences)
    assert second == first


def test_pieces_fit_the_model_and_cover_the_text(source_tokens, seed_sentences: list[str]) -> None:
    long = max(seed_sentences, key=len)
    cjk = (
        "委员会于星期一在市里举行了第一次会议讨论发展计划与会者强调国际合作对于实现可持续的经济增长至关重要"
        * 2
    )
    for text in (long, cjk, "word " * 80):
        pieces = split_for_model(text, source_tokens, 12)
        assert len(pieces) > 1
        assert all(count <= 12 for count in source_tokens(pieces))
        assert regex.sub(r"\s+", "", "".join(pieces)) == regex.sub(r"\s+", "", text)  # in order, all of it
    assert split_for_model("short one", source_tokens, 12) == ["short one"]


def test_clause_punctuation_is_preferred_for_splitting(source_tokens) -> None:
    text = "أكد الاجتماع أن الانفتاح المؤسسي هو الجوهر، ويجب بذل جهود أكبر لتعزيز الانفتاح؛ واتخاذ الإجراءات"
    first_clause = text.split(" ويجب")[0]
    limit = max(source_tokens(part)[0] for part in ([first_clause], ["ويجب بذل جهود أكبر لتعزيز الانفتاح؛"]))
    assert source_tokens([text])[0] > limit
    pieces = split_for_model(text, source_tokens, limit)
    assert pieces[0] == first_clause and pieces[1].endswith("؛")


def test_batches_respect_the_token_budget_and_cover_every_item() -> None:
    lengths = [5, 40, 7, 33, 12, 12, 90, 3, 28, 16]
    batches = make_batches(lengths, 64)
    assert sorted(index for batch in batches for index in batch) == list(range(len(lengths)))
    for batch in batches:
        assert len(batch) == 1 or len(batch) * max(lengths[i] for i in batch) <= 64


def test_small_batches_give_the_same_output_in_input_order(
    tmp_path: Path, tiny_model_dir: Path, seed_sentences: list[str]
) -> None:
    sentences = seed_sentences[:10]
    whole = Translator(_settings(tmp_path, tiny_model_dir)).translate("ar", sentences)
    small = Translator(_settings(tmp_path, tiny_model_dir, max_batch_tokens=40))
    assert small.translate("ar", sentences) == whole
    assert small.stats.model_calls > 1


def test_output_length_is_bounded_by_input_and_model() -> None:
    assert output_budget(3, 512) == 16
    assert output_budget(40, 512) == 90
    assert output_budget(400, 512) == 512
    assert output_budget(31, 32) == 32


def test_empty_and_duplicate_sentences(tmp_path: Path, tiny_model_dir: Path) -> None:
    translator = Translator(_settings(tmp_path, tiny_model_dir))
    results = translator.translate("ar", ["", "مرحبا بكم", "   ", "مرحبا بكم"])
    assert [r.detail for r in (results[0], results[2])] == ["empty_source", "empty_source"]
    assert results[0].en_text is None and results[1] == results[3]


def test_language_without_any_model(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "registry.toml").write_text("[fallback]\nenabled = false\n", encoding="utf-8")
    translator = Translator(TranslationSettings(models_dir=models))
    results = translator.translate("sw", ["Habari ya asubuhi"])
    assert results[0].status is TranslationStatus.UNTRANSLATED and results[0].en_text is None
    assert results[0].detail == "no_model_for_language"
    assert translator.model_for("sw") is None and translator.missing_models() == {}


def test_missing_default_model_leaves_sentences_untranslated(tmp_path: Path) -> None:
    translator = Translator(TranslationSettings(models_dir=tmp_path / "models"))
    results = translator.translate("ar", ["صباح الخير", "شكرا"])
    assert [(r.status, r.detail, r.en_text) for r in results] == [
        (TranslationStatus.UNTRANSLATED, "model_not_available", None)
    ] * 2
    missing = translator.missing_models()
    assert list(missing) == ["ar"]
    assert "Helsinki-NLP/opus-mt-ar-en" in missing["ar"] and "models fetch ar" in missing["ar"]
    assert translator.model_for("ar") is None
    fallback = translator.translate("fa", ["سلام"])
    assert (
        fallback[0].detail == "model_not_available" and "opus-mt-mul-en" in translator.missing_models()["fa"]
    )


@pytest.mark.parametrize("configured_in", ["override", "registry"])
def test_explicit_model_that_cannot_load_is_an_error(tmp_path: Path, configured_in: str) -> None:
    models = tmp_path / "models"
    models.mkdir()
    overrides = {}
    if configured_in == "override":
        overrides = {"ar": "Helsinki-NLP/opus-mt-tc-big-ar-en"}
    else:
        (models / "registry.toml").write_text(
            '[models]\nar = "Helsinki-NLP/opus-mt-tc-big-ar-en"\n', encoding="utf-8"
        )
    translator = Translator(TranslationSettings(models_dir=models, model_overrides=overrides))
    with pytest.raises(ModelUnavailableError) as error:
        translator.translate("ar", ["صباح الخير"])
    message = str(error.value)
    assert "Helsinki-NLP/opus-mt-tc-big-ar-en" in message and "python -m pipeline models fetch ar" in message
    assert "\n" not in message
    with pytest.raises(ModelUnavailableError):
        translator.model_for("ar")


def test_missing_override_directory_is_an_error(tmp_path: Path) -> None:
    translator = Translator(
        TranslationSettings(models_dir=tmp_path, model_overrides={"ar": str(tmp_path / "nope")})
    )
    with pytest.raises(ModelUnavailableError, match="not found"):
        translator.translate("ar", ["صباح الخير"])


def test_ctranslate2_float32_greedy_equals_transformers(
    tmp_path: Path, tiny_model_dir: Path, seed_sentences: list[str]
) -> None:
    model_dir = tmp_path / "tiny"
    shutil.copytree(tiny_model_dir, model_dir)
    settings = TranslationSettings(
        models_dir=tmp_path / "models", model_overrides={"ar": str(model_dir)}, device="cpu"
    )
    with pytest.raises(ModelUnavailableError, match="models convert"):  # never converted implicitly here
        Translator(TranslationSettings(**{**settings.__dict__, "translator": "ctranslate2"})).translate(
            "ar", ["سلام"]
        )
    convert_to_ctranslate2(model_dir, "float32")
    transformers = Translator(settings).translate("ar", seed_sentences)
    ctranslate2 = Translator(TranslationSettings(**{**settings.__dict__, "translator": "ctranslate2"}))
    assert ctranslate2.translate("ar", seed_sentences) == transformers
    assert ctranslate2.stats.model_calls >= 1


def test_ctranslate2_converts_inside_the_local_store(tmp_path: Path, tiny_model_dir: Path) -> None:
    stored = tmp_path / "models" / "opus-mt-ar-en"
    shutil.copytree(tiny_model_dir, stored)
    translator = Translator(
        TranslationSettings(models_dir=tmp_path / "models", translator="ctranslate2", device="cpu")
    )
    result = translator.translate("ar", ["صباح الخير"])[0]
    assert result.status is TranslationStatus.TRANSLATED
    assert result.model.startswith("Helsinki-NLP/opus-mt-ar-en@")
    assert (stored / "ctranslate2-int8" / "model.bin").is_file()


def test_a_long_text_without_punctuation_is_split_in_bounded_pieces(source_tokens) -> None:
    words = ("المجلس البلدي يناقش خطة جديدة لتطوير الحدائق العامة والطرق "
             "في المدينة خلال الأعوام المقبلة").split()
    text = " ".join(words[index % len(words)] for index in range(40_000))   # about 200 KB, no punctuation
    text += " " + "委员会于星期一在市里举行了第一次会议" * 200                   # and a long run without spaces
    calls: list[int] = []

    def counting(texts):
        calls.append(sum(len(part) for part in texts))
        return source_tokens(texts)

    for limit in (31, 511):
        calls.clear()
        pieces = split_for_model(text, counting, limit)
        assert max(source_tokens(pieces)) <= limit
        assert regex.sub(r"\s+", "", "".join(pieces)) == regex.sub(r"\s+", "", text)
        # Every character is tokenised a bounded number of times (the old splitter re-read long prefixes).
        assert sum(calls) <= 6 * len(text)


def test_at_most_max_loaded_models_stay_loaded(tmp_path: Path, tiny_model_dir: Path) -> None:
    from pipeline.stages.translate_backends import _ENGINES, release_engines

    overrides = {}
    for lang in ("ar", "fr", "de"):
        shutil.copytree(tiny_model_dir, tmp_path / lang)
        overrides[lang] = str(tmp_path / lang)
    release_engines()
    for limit, loads in ((1, 4), (3, 3)):
        release_engines()
        translator = Translator(TranslationSettings(models_dir=tmp_path / "models", model_overrides=overrides,
                                                    device="cpu", max_loaded_models=limit))
        for lang in ("ar", "fr", "de", "ar"):
            result = translator.translate(lang, ["مرحبا بكم في المدينة"])[0]
            assert result.status is TranslationStatus.TRANSLATED
            assert len(_ENGINES) <= limit
        assert translator.stats.model_loads == loads and translator.stats.model_load_seconds > 0
        assert translator.order_languages(["fr", "de", "ar"])[0] == "ar"   # the loaded one first
    release_engines()


def test_default_model_limit_follows_the_memory() -> None:
    from pipeline.stages.translate import default_max_loaded_models

    assert default_max_loaded_models(24 * 2**30) == 10
    assert default_max_loaded_models(4 * 2**30) == 1
    assert default_max_loaded_models(512 * 2**30) == 16
    assert default_max_loaded_models() >= 1


def test_an_override_that_does_not_load_is_an_error(tmp_path: Path, tiny_model_dir: Path) -> None:
    broken = tmp_path / "broken"
    shutil.copytree(tiny_model_dir, broken)
    (broken / "model.safetensors").write_bytes(b"not safetensors")
    translator = Translator(TranslationSettings(models_dir=tmp_path, model_overrides={"ar": str(broken)}))
    with pytest.raises(ModelUnavailableError, match="does not load"):
        translator.check_explicit_models()


def test_overrides_beyond_the_model_limit_are_checked_without_loading(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    from pipeline.stages.translate_backends import release_engines

    overrides = {}
    for lang in ("ar", "de", "fr"):
        shutil.copytree(tiny_model_dir, tmp_path / lang)
        overrides[lang] = str(tmp_path / lang)
    release_engines()
    translator = Translator(TranslationSettings(models_dir=tmp_path / "models", model_overrides=overrides,
                                                device="cpu", max_loaded_models=1))
    translator.check_explicit_models()
    assert translator.stats.model_loads == 1
    (tmp_path / "fr" / "model.safetensors").write_bytes(b"\0" * 16)
    broken = Translator(TranslationSettings(models_dir=tmp_path / "models", model_overrides=overrides,
                                            device="cpu", max_loaded_models=1))
    with pytest.raises(ModelUnavailableError, match="'fr' cannot be loaded.*does not load"):
        broken.check_explicit_models()
    release_engines()
