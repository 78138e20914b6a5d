"""Translate stage: source sentences -> English, one MarianMT model per source language.

A :class:`Translator` resolves each language's model through :mod:`pipeline.models.registry`, splits sentences
longer than the model's position table at clause punctuation (then by token windows) so nothing is
truncated, batches pieces by length under a token budget, and joins the pieces back into one English
string per sentence, in input order. Results are kept in a translation store on disk
(:mod:`pipeline.store.translations`), so a sentence is translated once per model, revision and decoding.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping, Sequence

import regex

from pipeline.models.registry import (ModelChoice, ModelLocation, ModelNotFound, ModelUnavailableError,
                                      Registry, check_model_files, convert_to_ctranslate2, fetch_hint,
                                      hub_status, locate)
from pipeline.records import Translation, TranslationFailure, TranslationStatus, UntranslatedReason
from pipeline.settings import Device, TranslationSettings, TranslatorKind
from pipeline.stages.align import without_bidi_controls
from pipeline.stages.base import Resource, Stage
from pipeline.stages.translate_backends import (CT2_CONVERT_DEFAULT, Decoding, Engine, find_ct2_directory,
                                                is_engine_loaded, load_engine, resolve_device)

log = logging.getLogger(__name__)

# A clause ends after one of these (Latin, Arabic and CJK forms); the mark stays with its clause.
_CLAUSE_END = regex.compile(r"(?<=[,;:،؛，；：、])\s*")
_WORD_END = regex.compile(r"(?<=\S)(?=\s)")
_MIN_OUTPUT_TOKENS = 16


@dataclass
class TranslationStats:
    sentences: int = 0  # sentences passed to translate()
    model_calls: int = 0  # generate / translate_batch calls
    cache_hits: int = 0  # sentences answered from the cache
    chunks_split: int = 0  # sentences split into more than one piece to fit the model
    seconds: float = 0.0  # time spent in translate()
    model_loads: int = 0  # models loaded (again, after being released to stay within the limit)
    model_load_seconds: float = 0.0  # time spent loading them


def split_for_model(text: str, count_tokens: Callable[[Sequence[str]], list[int]], limit: int) -> list[str]:
    """Split ``text`` into pieces of at most ``limit`` tokens each, in order, covering all of it.

    Splits at clause punctuation first (merging neighbouring clauses while they fit), then between
    words, then inside words (for scripts without spaces). Joining the pieces with the whitespace between
    them gives back the text. Linear in the length of the text: every part is tokenised once, and
    merged parts are sized by adding their counts (SentencePiece never joins tokens across a space);
    only a merge inside a word, whose count may differ from the sum, is counted again.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if count_tokens([text])[0] <= limit:
        return [text]
    clauses = _parts(text, _CLAUSE_END)
    units: list[tuple[str, int, str]] = []   # (text, tokens, separator before it)
    long_clauses: list[tuple[int, str]] = []
    for clause, count in zip(clauses, count_tokens(clauses)):
        if count <= limit:
            units.append((clause, count, " "))
        else:
            long_clauses.append((len(units), clause))
            units.append(("", 0, " "))  # replaced by the clause's own pieces below
    for position, clause in reversed(long_clauses):
        units[position:position + 1] = _pack(_split_words(clause, count_tokens, limit), limit)
    return [piece for piece, _, _ in _fit(_pack(units, limit), count_tokens, limit)]


def _parts(text: str, boundary: regex.Pattern) -> list[str]:
    return [part.strip() for part in boundary.split(text) if part.strip()]


def _split_words(clause: str, count_tokens, limit: int) -> list[tuple[str, int, str]]:
    """The clause's words as (text, tokens, separator); a word over the limit becomes windows of
    characters joined without a separator."""
    words = _parts(clause, _WORD_END)
    counts = count_tokens(words)
    width = max(1, limit // 4)
    windows = [word[start:start + width] for word, count in zip(words, counts) if count > limit
               for start in range(0, len(word), width)]
    window_counts = iter(count_tokens(windows)) if windows else iter(())
    window_texts = iter(windows)
    units: list[tuple[str, int, str]] = []
    for word, count in zip(words, counts):
        if count <= limit:
            units.append((word, count, " "))
            continue
        for index in range(-(-len(word) // width)):
            units.append((next(window_texts), next(window_counts), " " if index == 0 else ""))
    return units


def _pack(units: list[tuple[str, int, str]], limit: int) -> list[tuple[str, int, str]]:
    """Merge neighbouring units while the sum of their tokens fits, so pieces are not needlessly small."""
    packed: list[tuple[str, int, str]] = []
    for text, count, separator in units:
        if packed and packed[-1][1] + count <= limit:
            last_text, last_count, last_separator = packed[-1]
            packed[-1] = (f"{last_text}{separator}{text}", last_count + count, last_separator)
        else:
            packed.append((text, count, separator))
    return packed


def _fit(pieces: list[tuple[str, int, str]], count_tokens, limit: int) -> list[tuple[str, int, str]]:
    """Count the packed pieces once; the rare one over the limit (a merge inside a word that tokenises
    longer than its parts, or a character worth many byte tokens) is cut at its longest fitting prefix."""
    fitted: list[tuple[str, int, str]] = []
    for (text, _, separator), count in zip(pieces, count_tokens([piece for piece, _, _ in pieces])):
        while count > limit and len(text) > 1:
            cut = _longest_fitting_prefix(text, count_tokens, limit)
            fitted.append((text[:cut], limit, separator))
            text, separator = text[cut:], ""
            count = count_tokens([text])[0]
        fitted.append((text, count, separator))
    return fitted


def _longest_fitting_prefix(text: str, count_tokens, limit: int) -> int:
    low, high = 1, len(text)
    while low < high:
        middle = (low + high + 1) // 2
        if count_tokens([text[:middle]])[0] <= limit:
            low = middle
        else:
            high = middle - 1
    return low


def make_batches(lengths: Sequence[int], max_batch_tokens: int) -> list[list[int]]:
    """Group indices, sorted by length, so that each batch's padded size (count x longest) fits the
    budget. A single item longer than the budget still forms its own batch."""
    order = sorted(range(len(lengths)), key=lambda index: lengths[index])
    batches: list[list[int]] = []
    current: list[int] = []
    for index in order:
        if current and (len(current) + 1) * lengths[index] > max_batch_tokens:
            batches.append(current)
            current = []
        current.append(index)
    if current:
        batches.append(current)
    return batches


def output_budget(source_tokens: int, max_target_tokens: int) -> int:
    """Most tokens to generate for a source of that length: generous, but never unbounded."""
    return min(max_target_tokens, max(_MIN_OUTPUT_TOKENS, 2 * source_tokens + 10))


def model_input(text: str) -> str:
    """What the model is given for a source sentence, and the text its English is stored under."""
    return without_bidi_controls(text).strip()


def _untranslated(detail: UntranslatedReason) -> Translation:
    return Translation(en_text=None, status=TranslationStatus.UNTRANSLATED, detail=detail)


# What one loaded OPUS-MT model costs on CPU, and what the rest of a shard task needs (detectors, a batch).
MODEL_MEMORY_BYTES = 512 * 2**20
BASE_MEMORY_BYTES = 2**30


def default_max_loaded_models(total_memory: int | None = None) -> int:
    """Models to keep loaded at once: a quarter of the machine's memory, less a base, at 0.5 GB each."""
    if total_memory is None:
        import psutil

        total_memory = psutil.virtual_memory().total
    return max(1, min(16, (total_memory // 4 - BASE_MEMORY_BYTES) // MODEL_MEMORY_BYTES))


class Translator:
    """Translates sentences of any configured language to English; models load on first use."""

    def __init__(self, settings: TranslationSettings, progress: Callable[[int, int], None] | None = None):
        if settings.translator not in tuple(TranslatorKind):
            raise ValueError(f"translator must be marian or ctranslate2, got {settings.translator!r}")
        if settings.num_beams < 1 or settings.max_batch_tokens < 1:
            raise ValueError("num_beams and max_batch_tokens must be positive")
        self.settings = settings
        self.registry = Registry(settings.models_dir, settings.model_overrides)
        self.progress = progress
        self._decoding = Decoding(settings.num_beams, settings.fixed_output_tokens)
        self.max_loaded_models = settings.max_loaded_models or default_max_loaded_models()
        if self.max_loaded_models < 1:
            raise ValueError("max_loaded_models must be positive")
        self._resolved_device: Device | None = None
        self._models: dict[str, ModelLocation | None] = {}
        self._missing: dict[str, str] = {}
        self._checked = False
        self._stats = TranslationStats()
        self._store = None
        if settings.store_path is not None:
            from pipeline.store.translations import TranslationStore

            self._store = TranslationStore(settings.store_path)
        self._store_keys: dict[str, tuple[str, str, str]] = {}

    @property
    def stats(self) -> TranslationStats:
        return self._stats

    def missing_models(self) -> Mapping[str, str]:
        """Default models that were needed but not available: lang -> "model id: how to get it"."""
        return dict(self._missing)

    def model_for(self, lang: str) -> str | None:
        """The identity of the model that would translate ``lang``, without loading it.

        ``id@revision`` when it is available locally, the bare hub id when it would be downloaded, None
        when there is none (no model, or a default model that is unavailable offline). Raises
        ModelUnavailableError for an explicitly configured model that cannot be found.
        """
        if lang in self._models:
            known = self._models[lang]
            return known.identity if known else None
        choice = self.registry.choice(lang)
        if choice is None:
            return None
        try:
            return self._locate(choice, download=False).identity
        except ModelNotFound as missing:
            if choice.hub_id and hub_status().usable:
                return choice.hub_id
            if choice.explicit:
                raise self._unavailable(choice, str(missing)) from missing
            return None

    def check_explicit_models(self, load: bool = True) -> None:
        """Check every per-run override once, so that one that cannot load stops the run before any
        document is processed (ModelUnavailableError). With `load`, the first max_loaded_models are loaded
        (and kept for the run); the others are checked without loading their weights, which would only be
        released again. Registry-file entries are checked when first needed: a run may never meet their
        language."""
        if self._checked:
            return
        for index, lang in enumerate(sorted(self.registry.overrides)):
            if load and index < self.max_loaded_models:
                self._model(lang)
                continue
            choice = self.registry.choice(lang)
            assert choice is not None
            try:
                check_model_files(self._locate(choice).path)
            except ModelNotFound as missing:
                raise self._unavailable(choice, str(missing)) from missing
        self._checked = True

    def order_languages(self, languages: Sequence[str]) -> list[str]:
        """`languages` with those whose model is loaded first, so a batch reuses them before loading more."""
        def loaded(lang: str) -> bool:
            location = self._models.get(lang)
            return location is not None and is_engine_loaded(*self._engine_args(location))

        return sorted(languages, key=lambda lang: (not loaded(lang), lang))

    def translate(self, lang: str, sentences: Sequence[str]) -> list[Translation]:
        """English for each sentence, same length and order. Explicit models that fail raise
        ModelUnavailableError; everything else comes back as UNTRANSLATED with a reason."""
        started = time.perf_counter()
        try:
            return self._translate(lang.lower(), list(sentences))
        finally:
            self._stats.sentences += len(sentences)
            self._stats.seconds += time.perf_counter() - started

    def store_key(self, lang: str) -> tuple[str, str, str] | None:
        """(model, revision, decoding) under which the English of `lang` was looked up and stored by the
        last translate() of that language; None when no model translated it."""
        return self._store_keys.get(lang.lower())

    # -- internals ------------------------------------------------------------------------------

    def _locate(self, choice: ModelChoice, download: bool = True) -> ModelLocation:
        return locate(choice.spec, self.settings.models_dir, download=download,
                      allowed_roots=self.settings.allowed_model_roots)

    def _unavailable(self, choice: ModelChoice, reason: str) -> ModelUnavailableError:
        return ModelUnavailableError(
            f"the {choice.origin} model {choice.spec!r} for language '{choice.lang}' "
            f"cannot be loaded: {reason}; "
            + fetch_hint(choice.lang, self.settings.models_dir, choice.hub_id)
        )

    def _model(self, lang: str) -> tuple[ModelLocation, Engine] | UntranslatedReason:
        """The model and its loaded engine, or a reason code when there is none to use."""
        known = self._models.get(lang, ...)
        if known is None:
            return UntranslatedReason.MODEL_NOT_AVAILABLE
        choice = self.registry.choice(lang)
        if choice is None:
            return UntranslatedReason.NO_MODEL_FOR_LANGUAGE
        try:
            location = known if known is not ... else self._locate(choice)
            engine = self._engine(location)
        except ModelNotFound as missing:
            if choice.explicit:
                raise self._unavailable(choice, str(missing)) from missing
            log.warning(
                "no translation for '%s': default model %s unavailable (%s)", lang, choice.spec, missing
            )
            self._missing[lang] = (
                f"{choice.spec}: {fetch_hint(lang, self.settings.models_dir, choice.hub_id)}"
            )
            self._models[lang] = None
            return UntranslatedReason.MODEL_NOT_AVAILABLE
        self._models[lang] = location
        return location, engine

    @property
    def _device(self) -> Device:
        if self._resolved_device is None:  # resolving "auto" imports torch: only once a model is needed
            self._resolved_device = resolve_device(self.settings.device)
        return self._resolved_device

    def _engine_args(self, location: ModelLocation) -> tuple[TranslatorKind, Path, Device, int]:
        if self.settings.translator == TranslatorKind.MARIAN:
            return TranslatorKind.MARIAN, location.path, self._device, self.settings.threads
        converted = find_ct2_directory(location.path, self._device)
        return TranslatorKind.CTRANSLATE2, converted or location.path, self._device, self.settings.threads

    def _engine(self, location: ModelLocation) -> Engine:
        """The loaded engine of a model, loading it (within max_loaded_models) when needed."""
        args = self._engine_args(location)
        if not is_engine_loaded(*args):
            started = time.perf_counter()
            try:
                engine = self._load(location)
            except ModelNotFound:
                raise
            except Exception as error:  # a model folder that does not load is as unusable as a missing one
                message = " ".join(str(error).split())[:300] or "no message"
                raise ModelNotFound(f"{location.path} does not load ({type(error).__name__}: {message})")
            self._stats.model_loads += 1
            self._stats.model_load_seconds += time.perf_counter() - started
            return engine
        return load_engine(*args, max_loaded=self.max_loaded_models)

    def _load(self, location: ModelLocation) -> Engine:
        device = self._device
        limit = self.max_loaded_models
        if self.settings.translator == TranslatorKind.MARIAN:
            return load_engine(TranslatorKind.MARIAN, location.path, device, self.settings.threads, limit)
        converted = find_ct2_directory(location.path, device)
        if converted is None:
            store = self.settings.models_dir.resolve()
            if not location.path.resolve().is_relative_to(store):
                raise ModelNotFound(
                    f"no CTranslate2 conversion beside {location.path}; run "
                    f"`python -m pipeline models convert {location.path}`"
                )
            log.warning(
                "converting %s to CTranslate2 (%s) inside the local store",
                location.path,
                CT2_CONVERT_DEFAULT[device],
            )
            converted = convert_to_ctranslate2(location.path, CT2_CONVERT_DEFAULT[device])
        return load_engine(TranslatorKind.CTRANSLATE2, converted, device, self.settings.threads, limit)

    def _translate(self, lang: str, sentences: list[str]) -> list[Translation]:
        model = self._model(lang)
        if isinstance(model, str):
            return [_untranslated(model) for _ in sentences]
        location, engine = model
        results: list[Translation | None] = [None] * len(sentences)
        todo: dict[str, list[int]] = {}
        for index, sentence in enumerate(sentences):
            if sentence.strip():
                todo.setdefault(sentence.strip(), []).append(index)
            else:
                results[index] = _untranslated(UntranslatedReason.EMPTY_SOURCE)
        identity = location.identity
        key = (location.name, location.revision, self._decoding_key(engine))
        self._store_keys[lang] = key
        english: dict[str, str] = {}
        if self._store is not None and todo:
            english = self._store.get_many(*key, list(todo))
            self._stats.cache_hits += sum(len(todo[text]) for text in english)
        fresh = self._run_model(engine, [text for text in todo if text not in english])
        if self._store is not None and fresh:
            self._store.put_many(*key, fresh)
        english.update(fresh)
        for text, indices in todo.items():
            en_text = english.get(text)
            result = (
                Translation(en_text, TranslationStatus.TRANSLATED, model=identity)
                if en_text
                else Translation(None, TranslationStatus.UNTRANSLATED, model=identity,
                                 detail=UntranslatedReason.EMPTY_OUTPUT)
            )
            for index in indices:
                results[index] = result
        return results  # type: ignore[return-value]

    def _decoding_key(self, engine: Engine) -> str:
        key = f"{engine.decoding_key};beams={self._decoding.num_beams}"
        if self._decoding.fixed_output_tokens:
            key += f";fixed={self._decoding.fixed_output_tokens}"
        return key

    def _run_model(self, engine: Engine, texts: list[str]) -> dict[str, str]:
        if not texts:
            return {}
        pieces: list[str] = []
        owners: list[int] = []
        for owner, text in enumerate(texts):
            split = split_for_model(text, engine.count_tokens, engine.max_source_tokens)
            if len(split) > 1:
                self._stats.chunks_split += 1
            pieces.extend(split)
            owners.extend([owner] * len(split))
        lengths = [count + 1 for count in engine.count_tokens(pieces)]  # + end-of-sentence token
        outputs: list[str] = [""] * len(pieces)
        done = 0
        for batch in make_batches(lengths, self.settings.max_batch_tokens):
            budgets = [
                min(
                    self._decoding.fixed_output_tokens
                    or output_budget(lengths[index], engine.max_target_tokens),
                    engine.max_target_tokens,
                )
                for index in batch
            ]
            translated = engine.translate_batch([pieces[index] for index in batch], budgets, self._decoding)
            self._stats.model_calls += 1
            for index, text in zip(batch, translated):
                outputs[index] = " ".join(text.split())
            done += len(batch)
            if self.progress is not None:
                self.progress(done, len(pieces))
        joined: list[list[str]] = [[] for _ in texts]
        for owner, text in zip(owners, outputs):
            joined[owner].append(text)
        # A piece with no output would leave part of the sentence silently untranslated.
        return {text: " ".join(parts) if all(parts) else "" for text, parts in zip(texts, joined)}


class TranslateStage(Stage[str, "Translation | TranslationFailure"]):
    """The English of source sentences of one language: one `Translator.translate` call per batch, so the
    translator batches them by length. Bidirectional controls, kept in the source text, are not given to
    the model. A sentence the model raises on becomes a TranslationFailure, which rejects its documents."""

    name = "translate"
    resource = Resource.ACCELERATOR

    def __init__(self, translator: Translator, lang: str):
        super().__init__()
        self.translator = translator
        self.lang = lang

    def process(self, batch: Sequence[str]) -> list[Translation]:
        return self.translator.translate(self.lang, [model_input(text) for text in batch])

    def failed(self, item: str, error: Exception) -> TranslationFailure:
        message = " ".join(str(error).split()) or "no message"
        return TranslationFailure(f"{self.name}: {type(error).__name__}: {message}")
