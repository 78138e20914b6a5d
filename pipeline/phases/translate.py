"""Phase 2, per language and chunk of sentences across every shard of the run: one model per task.

`plan_translation` gathers each language's distinct sentences from the prepared shards and cuts them into
tasks; `translate_chunk` translates one task's sentences, batched by length, into the translation store
(keyed by model, revision, decoding and source text) and records its outcome in the work area.
"""
from __future__ import annotations

import hashlib
import logging
import time
from collections import Counter
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.phases.plan import plural
from pipeline.phases.results import (ChunkOutcome, ChunkResult, PreparedShard, StoredEnglish,
                                     TranslationChunk, Untranslated, hub_state)
from pipeline.records import TranslationFailure, TranslationStatus
from pipeline.settings import RunSettings
from pipeline.store.work_area import RunWorkArea

if TYPE_CHECKING:
    from pipeline.stages.translate import Translator

log = logging.getLogger(__name__)

_COUNTERS = ("sentences", "model_calls", "cache_hits", "chunks_split", "seconds", "model_loads",
             "model_load_seconds")


def plan_translation(settings: RunSettings, prepared: Sequence[PreparedShard]) -> list[TranslationChunk]:
    """The run's translation tasks: each language's distinct sentences over every shard, in chunks of
    `translation_chunk_size`, written to the work area. Deterministic for the same prepared shards."""
    work = RunWorkArea(settings.output, settings.run_id)
    work.clear_chunks()
    pending: dict[str, list[str]] = {}
    seen: dict[str, set[bytes]] = {}
    chunks: list[TranslationChunk] = []
    counts: Counter[str] = Counter()

    def flush(lang: str) -> None:
        texts = pending.pop(lang)
        path = work.write_chunk(lang, counts[lang], texts)
        chunks.append(TranslationChunk(lang, counts[lang], len(texts), str(path)))
        counts[lang] += 1

    for shard in sorted(prepared, key=lambda item: item.index):
        table = work.sentences(shard.index)
        for lang, text in zip(table["lang"].to_pylist(), table["text"].to_pylist()):
            digest = hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=12).digest()
            if digest in seen.setdefault(lang, set()):
                continue
            seen[lang].add(digest)
            pending.setdefault(lang, []).append(text)
            if len(pending[lang]) >= settings.translation_chunk_size:
                flush(lang)
    for lang in sorted(pending):
        flush(lang)
    chunks.sort(key=lambda chunk: (chunk.lang, chunk.index))
    log.info("planned %s over %s: %s", plural(len(chunks), "translation task"),
             plural(len(counts), "language"),
             ", ".join(f"{lang} {sum(chunk.sentences for chunk in chunks if chunk.lang == lang)}"
                       for lang in sorted(counts)))
    return chunks


class _TranslationProgress:
    """Logs how far a long translation call has come, at most every `interval` seconds."""

    def __init__(self, interval: float = 30.0):
        self.interval = interval
        self.last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval or (done == total and now - self.last >= 1.0):
            self.last = now
            log.info("translated %d of %d segments", done, total)


def open_translator(settings: RunSettings) -> Translator:
    from pipeline.stages.translate import Translator

    return Translator(settings.translation_settings(), progress=_TranslationProgress())


def _outcome(lang: str, texts: Sequence[str], results: Sequence, key: tuple[str, ...] | None) -> ChunkOutcome:
    """The task's outcome from the translator's results, one per text."""
    from pipeline.store.translations import source_hash

    untranslated: dict[str, Untranslated] = {}
    failed: dict[str, str] = {}
    model = None
    for text, result in zip(texts, results, strict=True):
        if isinstance(result, TranslationFailure):
            failed[source_hash(text)] = result.detail
            continue
        model = model or result.model
        if result.status is not TranslationStatus.TRANSLATED:
            untranslated[source_hash(text)] = Untranslated(result.detail, result.model)
    if key is not None and len(untranslated) == len(texts):
        key = None   # nothing of this task is in the store
    stored = StoredEnglish(tuple(key), model) if key is not None else None
    if stored is None and untranslated and len(set(untranslated.values())) == 1:
        # One reason for all: said once instead of per sentence.
        return ChunkOutcome(lang, None, next(iter(untranslated.values())), {}, failed)
    return ChunkOutcome(lang, stored, None, untranslated, failed)


def translate_chunk(chunk: TranslationChunk, settings: RunSettings, *,
                    translator: Translator | None = None) -> ChunkResult:
    """Translate one task's sentences with its language's model into the translation store, and record
    in the work area under which model and decoding the English is, and which sentences stayed without.

    `translator` lets one process reuse loaded models across tasks."""
    from pipeline.stages.translate import TranslateStage

    work = RunWorkArea(settings.output, settings.run_id)
    active = translator if translator is not None else open_translator(settings)
    before = {name: getattr(active.stats, name) for name in _COUNTERS}
    texts = work.chunk_texts(chunk.path)
    log.info("translating %d %s sentences (task %d)", len(texts), chunk.lang, chunk.index)
    results = TranslateStage(active, chunk.lang)(texts, [])
    outcome = _outcome(chunk.lang, texts, results, active.store_key(chunk.lang))
    work.write_outcome(chunk.lang, chunk.index, outcome.to_dict())
    model = next((result.model for result in results
                  if not isinstance(result, TranslationFailure) and result.model), None)
    after = {name: getattr(active.stats, name) for name in _COUNTERS}
    seconds = after["seconds"] - before["seconds"]
    translated = (0 if outcome.all_untranslated
                  else len(texts) - len(outcome.untranslated) - len(outcome.failed))
    log.info("translate: %d/%d sentences translated (%s %d/%d), %d failed, in %.2f s, %.1f sentences/s",
             translated, len(texts), chunk.lang, translated, len(texts), len(outcome.failed), seconds,
             translated / seconds if seconds > 0 else 0.0)
    return ChunkResult(chunk.lang, chunk.index, model,
                       {name: round(after[name] - before[name], 4) for name in _COUNTERS},
                       dict(active.missing_models()), hub_state())
