"""The three phases of a run, each a list of stages run over batches.

1. `prepare_shard` (per shard, CPU): ingest -> clean -> detect -> segment -> decide; the shard's
   documents and rejects go to the run's work area (pipeline.store.work_area), unseen by dataset readers.
2. `plan_translation` then `translate_chunk` (per language and chunk of sentences, across every shard of
   the run): one model per task; sentences from many documents batched by length; the English goes to
   the translation store, keyed by model, revision, decoding and source text.
3. `assemble_shard` (per shard, CPU): align every document with the English from the store, and write
   the datasets, committed batch by batch as pipeline.store.output describes.

The command line runs the three phases in one process (pipeline.phases.runner); the DAG runs each as mapped
tasks, so text work stays on CPU workers and each translation task loads exactly one model.
Documents already in the output with the same translation set-up (`models_fingerprint`) are left out;
`force` reprocesses them, and a changed set-up (a model became available, another translator) does too.
Either way their earlier rows are replaced, never duplicated.
"""
from __future__ import annotations

import gc
import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from enum import StrEnum
from itertools import chain, count, islice
from typing import TYPE_CHECKING, Any

from pipeline.phases.plan import Shard, plural
from pipeline.records import (PreparedDocument, RawDocument, Reject, RejectReason, SegmentedRecord,
                              Translation, TranslationFailure, TranslationStatus, UntranslatedReason)
from pipeline.settings import ENGLISH, RunSettings
from pipeline.stages.base import Stage, run_stages
from pipeline.store.work_area import RunWorkArea

if TYPE_CHECKING:
    from pipeline.stages.align import AlignedDocument
    from pipeline.stages.translate import Translator
    from pipeline.store.output import CommittedDocument, OutputStore

log = logging.getLogger(__name__)

STAGES = ("ingest", "clean", "detect", "segment", "decide", "translate", "align", "write")


class Decision(StrEnum):
    """What becomes of a document the output may already hold."""

    PROCESS = "process"
    SKIP = "skip"          # already in the output, made with the same translation set-up


class ReplacedBecause(StrEnum):
    """Why a document already in the output was processed again (the manifest's `replaced_because`)."""

    FORCE = "force"
    MODELS_CHANGED = "models_changed"   # the models, translator or beams changed


@dataclass(frozen=True)
class PhaseResult:
    """What one task of a phase did; JSON-safe, so it travels through Airflow XCom."""

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]):
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


@dataclass(frozen=True)
class PreparedShard(PhaseResult):
    index: int
    run_id: str
    documents: int = 0                                          # documents to assemble
    sentences: dict[str, int] = field(default_factory=dict)     # lang -> distinct sentences to translate
    skipped: int = 0                # documents already in the output with the same models
    stage_seconds: dict[str, float] = field(default_factory=dict)
    hub: str = ""


@dataclass(frozen=True)
class TranslationChunk(PhaseResult):
    lang: str
    index: int
    sentences: int
    path: str


@dataclass(frozen=True)
class ChunkResult(PhaseResult):
    lang: str
    index: int
    model: str | None = None
    translation: dict[str, float] = field(default_factory=dict)   # the translator's counters
    missing_models: dict[str, str] = field(default_factory=dict)  # lang -> how to get it
    hub: str = ""

    @property
    def sentences(self) -> int:
        return int(self.translation.get("sentences", 0))

    @property
    def seconds(self) -> float:
        return self.translation.get("seconds", 0.0)

    @property
    def model_loads(self) -> int:
        return int(self.translation.get("model_loads", 0))

    @property
    def model_load_seconds(self) -> float:
        return self.translation.get("model_load_seconds", 0.0)


@dataclass(frozen=True)
class ShardResult(PhaseResult):
    """What one shard wrote: rows per dataset and language, rejects, timings, files."""

    shard_index: int
    run_id: str
    documents: dict[str, int] = field(default_factory=dict)                # src_lang -> rows
    paragraphs: dict[str, dict[str, int]] = field(default_factory=dict)    # src_lang -> status -> rows
    sentences: dict[str, dict[str, int]] = field(default_factory=dict)     # src_lang -> status -> rows
    rejects: dict[str, int] = field(default_factory=dict)                  # reason -> rows
    skipped: int = 0        # documents already in the output with the same models
    replaced: int = 0       # documents whose earlier rows were replaced
    replaced_because: dict[str, int] = field(default_factory=dict)        # why -> documents
    stage_seconds: dict[str, float] = field(default_factory=dict)
    models: dict[str, list[str]] = field(default_factory=dict)             # src_lang -> models used
    files: list[str] = field(default_factory=list)                         # relative to the output
    missing_inputs: list[str] = field(default_factory=list)                # patterns that matched nothing
    hub: str = ""           # the Hugging Face hub as the shard's processes found it ("" if never needed)


def hub_state() -> str:
    from pipeline.models.hub import known_hub_status

    status = known_hub_status()
    return status.describe() if status else ""


def _stage_seconds(stages: Sequence[Stage], **others: float) -> dict[str, float]:
    seconds = {stage.name: stage.stats.seconds for stage in stages}
    seconds.update(others)
    return {name: round(value, 4) for name, value in seconds.items()}


# -- what each language's sentences become: a model, or the reason there is none ---------------------

class TranslationPlan:
    """Per language, the model that will translate it or why none will, and the fingerprint of a set of
    languages (what decides whether a document in the output was made with the same set-up)."""

    def __init__(self, settings: RunSettings, translator: Translator):
        self.settings = settings
        self.translator = translator
        self._plans: dict[str, str] = {}
        self._fingerprints: dict[frozenset[str], str] = {}
        self._untranslated: dict[str, Translation] = {}

    def excluded(self, lang: str) -> UntranslatedReason | None:
        """Why sentences of `lang` are not given to the translator at all, or None."""
        from pipeline.stages.detect import UNDETERMINED

        reason = self.settings.untranslated_reason(lang)
        if reason is None and lang == UNDETERMINED:
            return UntranslatedReason.LANGUAGE_UNDETERMINED
        return reason

    def needs_translation(self, lang: str) -> bool:
        return lang != ENGLISH and self.excluded(lang) is None

    def untranslated(self, lang: str) -> Translation:
        """The one shared value of every sentence of an excluded language."""
        if lang not in self._untranslated:
            self._untranslated[lang] = Translation(None, TranslationStatus.UNTRANSLATED,
                                                   detail=self.excluded(lang))
        return self._untranslated[lang]

    def _plan(self, lang: str) -> str:
        if lang not in self._plans:
            # model_for is None both for a language without a model and for an unavailable default.
            self._plans[lang] = (self.excluded(lang) or self.translator.model_for(lang)
                                 or UntranslatedReason.NO_USABLE_MODEL)
        return self._plans[lang]

    def fingerprint(self, languages: set[str]) -> str:
        # Documents share a few language sets: hashing the plan once per set keeps it off the per-record cost.
        key = frozenset(languages)
        if key not in self._fingerprints:
            plan = {lang: self._plan(lang) for lang in sorted(key - {ENGLISH})}
            described = {"translator": self.settings.translator.value, "num_beams": self.settings.num_beams,
                         "languages": plan}
            encoded = json.dumps(described, sort_keys=True).encode()
            self._fingerprints[key] = hashlib.sha256(encoded).hexdigest()[:16]
        return self._fingerprints[key]


def _duplicate(document: PreparedDocument, earlier: tuple[str, str | None]) -> Reject:
    path, record = earlier
    where = f"{path} ({record})" if record else path
    return Reject(document.raw.source_path, RejectReason.DUPLICATE,
                  f"same content as {where} (doc_id {document.raw.doc_id})", document.raw.source_record,
                  document.raw.record_id)


def decide(document: PreparedDocument, committed: Mapping[str, CommittedDocument], settings: RunSettings
           ) -> Decision | Reject:
    """Process the document, skip it, or reject it as a DUPLICATE of another source's."""
    existing = committed.get(document.raw.doc_id)
    if existing is None:
        return Decision.PROCESS
    existing_source = (existing.source_path, existing.source_record)
    if existing.run_id == settings.run_id:
        return Decision.SKIP if existing_source == document.source else _duplicate(document, existing_source)
    if settings.force or existing.models_fingerprint != document.fingerprint:
        return Decision.PROCESS
    return Decision.SKIP


class DecideStage(Stage[SegmentedRecord, PreparedDocument]):
    """Names each document's translation set-up, and leaves out the documents already in the output with
    it (unless forced); a second copy of a document met earlier in the shard is a DUPLICATE reject."""

    name = "decide"

    def __init__(self, settings: RunSettings, plan: TranslationPlan,
                 committed: Mapping[str, CommittedDocument]):
        super().__init__()
        self.settings = settings
        self.plan = plan
        self.committed = committed
        self.seen: dict[str, tuple[str, str | None]] = {}

    def already_done(self, raw: RawDocument) -> bool:
        """True when the output already holds this content, processed with the translation set-up this
        run would use: decided from the content hash and the languages the output records, before any
        cleaning, so that a rerun of unchanged inputs costs ingest only. Detection is deterministic,
        so the recorded paragraph languages are the ones this run would find."""
        if self.settings.force:
            return False
        existing = self.committed.get(raw.doc_id)
        if existing is None or existing.run_id == self.settings.run_id or existing.paragraph_langs is None:
            return False
        earlier = self.seen.get(raw.doc_id)
        if earlier is not None and earlier != (raw.source_path, raw.source_record):
            return False   # decided later: a duplicate within this run
        try:
            return self.plan.fingerprint(set(existing.paragraph_langs)) == existing.models_fingerprint
        except Exception:  # the full path decides, and rejects the document if it must
            return False

    def process(self, batch: Sequence[SegmentedRecord]) -> list[PreparedDocument | Reject | None]:
        results: list[PreparedDocument | Reject | None] = []
        for record in batch:
            fingerprint = self.plan.fingerprint({guess.lang for guess in record.languages})
            document = PreparedDocument(record.raw, record.cleaned, record.document_language,
                                        record.languages, record.spans, fingerprint)
            earlier = self.seen.get(record.raw.doc_id)
            decision = (_duplicate(document, earlier) if earlier is not None and earlier != document.source
                        else decide(document, self.committed, self.settings))
            if decision is Decision.PROCESS:
                self.seen[record.raw.doc_id] = document.source
                results.append(document)
            else:
                results.append(None if decision is Decision.SKIP else decision)
        return results


# -- phase 1: prepare --------------------------------------------------------------------------------

def cleaning_options(settings: RunSettings) -> dict[str, Any]:
    """The keyword arguments of CleanStage that `settings` sets (the others keep pipeline.stages.clean's
    defaults)."""
    options = {"threshold": settings.body_threshold, "min_repeats": settings.site_repeats}
    return {name: value for name, value in options.items() if value is not None}


def _plan_translator(settings: RunSettings) -> Translator:
    """A translator that only resolves models (loading none), for planning."""
    from pipeline.stages.translate import Translator

    return Translator(replace(settings.translation_settings(), store_path=None))


def prepare_shard(shard: Shard, settings: RunSettings, *, output: OutputStore | None = None) -> PreparedShard:
    """Ingest, clean, detect and segment one shard into the run's work area. Idempotent: a retry
    starts the shard again."""
    from pipeline.stages.clean import CleanStage
    from pipeline.stages.detect import DetectStage
    from pipeline.stages.ingest import read_files
    from pipeline.stages.segment import SegmentStage
    from pipeline.store.output import OutputStore

    output = output if output is not None else OutputStore(settings.output)
    work = RunWorkArea(settings.output, settings.run_id)
    work.start_shard(shard.index)
    translator = _plan_translator(settings)
    plan = TranslationPlan(settings, translator)
    decider = DecideStage(settings, plan, output.committed_documents())
    stages: list[Stage] = [CleanStage(decider.already_done, **cleaning_options(settings)),
                           DetectStage(translator.registry.detection_languages()), SegmentStage(), decider]
    planned = (Reject(path, RejectReason(reason), detail) for path, reason, detail in shard.rejects)
    inputs = chain(planned, read_files(shard.inputs, max_bytes=settings.max_input_bytes))
    sentences: dict[str, dict[str, None]] = {}
    ingest_seconds = 0.0
    documents = 0
    try:
        for number in count(1):
            # What lives between batches (modules, loaded detectors, the shard's state) lives as long as
            # the shard: frozen, the cycle collector stops walking it at every full collection.
            gc.freeze()
            started = time.perf_counter()
            items = list(islice(inputs, settings.shard_size))
            read_seconds = time.perf_counter() - started
            ingest_seconds += read_seconds
            if not items:
                break
            rejects = [item for item in items if isinstance(item, Reject)]
            log.info("shard %d, batch %d, ingest: %s read, %d rejected in %.2f s", shard.index, number,
                     plural(len(items) - len(rejects), "document"), len(rejects), read_seconds)
            batch = run_stages(stages, [item for item in items if isinstance(item, RawDocument)], rejects,
                               f"shard {shard.index}, batch {number}")
            for document in batch:
                documents += 1
                for lang, text in document.sentences():
                    if plan.needs_translation(lang):
                        sentences.setdefault(lang, {})[text] = None
            work.write_batch(shard.index, number, batch, rejects)
    finally:
        gc.unfreeze()
    result = PreparedShard(
        shard.index, settings.run_id, documents,
        {lang: len(texts) for lang, texts in sorted(sentences.items())},
        sum(stage.stats.left_out for stage in stages), _stage_seconds(stages, ingest=ingest_seconds),
        hub_state())
    work.finish_shard(shard.index, sentences, result.to_dict())
    return result


# -- phase 2: translate ------------------------------------------------------------------------------

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


_COUNTERS = ("sentences", "model_calls", "cache_hits", "chunks_split", "seconds", "model_loads",
             "model_load_seconds")


def translate_chunk(chunk: TranslationChunk, settings: RunSettings, *,
                    translator: Translator | None = None) -> ChunkResult:
    """Translate one task's sentences with its language's model into the translation store, and record
    in the work area under which model and decoding the English is, and which sentences stayed without.

    `translator` lets one process reuse loaded models across tasks."""
    from pipeline.stages.translate import TranslateStage
    from pipeline.store.translations import source_hash

    work = RunWorkArea(settings.output, settings.run_id)
    active = translator if translator is not None else open_translator(settings)
    before = {name: getattr(active.stats, name) for name in _COUNTERS}
    texts = work.chunk_texts(chunk.path)
    log.info("translating %d %s sentences (task %d)", len(texts), chunk.lang, chunk.index)
    results = TranslateStage(active, chunk.lang)(texts, [])
    untranslated: dict[str, list[str | None]] = {}
    failed: dict[str, str] = {}
    model = None
    for text, result in zip(texts, results, strict=True):
        if isinstance(result, TranslationFailure):
            failed[source_hash(text)] = result.detail
            continue
        model = model or result.model
        if result.status is not TranslationStatus.TRANSLATED:
            untranslated[source_hash(text)] = [result.detail, result.model]
    key = active.store_key(chunk.lang)
    if key is not None and len(untranslated) == len(texts):
        key = None   # nothing of this task is in the store
    if key is None and untranslated and len({tuple(value) for value in untranslated.values()}) == 1:
        every, untranslated = next(iter(untranslated.values())), {}   # one reason for all: say it once
    else:
        every = None
    work.write_outcome(chunk.lang, chunk.index, {
        "lang": chunk.lang, "model": model, "store_key": list(key) if key else None, "every": every,
        "untranslated": untranslated, "failed": failed})
    after = {name: getattr(active.stats, name) for name in _COUNTERS}
    seconds = after["seconds"] - before["seconds"]
    translated = 0 if every else len(texts) - len(untranslated) - len(failed)
    log.info("translate: %d/%d sentences translated (%s %d/%d), %d failed, in %.2f s, %.1f sentences/s",
             translated, len(texts), chunk.lang, translated, len(texts), len(failed), seconds,
             translated / seconds if seconds > 0 else 0.0)
    return ChunkResult(chunk.lang, chunk.index, model,
                       {name: round(after[name] - before[name], 4) for name in _COUNTERS},
                       dict(active.missing_models()), hub_state())


class _RunTranslations:
    """The English of the run's sentences, as the translation tasks left it: looked up per batch."""

    def __init__(self, settings: RunSettings, plan: TranslationPlan):
        from pipeline.store.translations import TranslationStore

        self.plan = plan
        self.work = RunWorkArea(settings.output, settings.run_id)
        self.store = TranslationStore(settings.translation_store)
        self._outcomes: dict[str, list[dict[str, Any]]] = {}
        self._known: dict[str, dict[str, Translation | TranslationFailure]] = {}

    def _outcomes_of(self, lang: str) -> list[dict[str, Any]]:
        if lang not in self._outcomes:
            self._outcomes[lang] = list(self.work.outcomes({lang}))
        return self._outcomes[lang]

    def load(self, documents: Sequence[PreparedDocument]) -> None:
        """Look up the English of every sentence of `documents` that needs one."""
        from pipeline.stages.translate import model_input
        from pipeline.store.translations import source_hash

        wanted: dict[str, dict[str, None]] = {}
        for document in documents:
            for lang, text in document.sentences():
                if self.plan.needs_translation(lang):
                    wanted.setdefault(lang, {})[text] = None
        self._known = {}
        for lang, texts in wanted.items():
            outcomes = self._outcomes_of(lang)
            known: dict[str, Translation | TranslationFailure] = {}
            hashes = {text: source_hash(text) for text in texts}
            for outcome in outcomes:
                for text, digest in hashes.items():
                    if text in known:
                        continue
                    if digest in outcome["failed"]:
                        known[text] = TranslationFailure(outcome["failed"][digest])
                    elif digest in outcome["untranslated"]:
                        detail, model = outcome["untranslated"][digest]
                        known[text] = Translation(None, TranslationStatus.UNTRANSLATED, model=model,
                                                  detail=UntranslatedReason(detail))
            # Every task of a language usually stored under one key: each key is read once.
            stored = dict.fromkeys((tuple(outcome["store_key"]), outcome["model"])
                                   for outcome in outcomes if outcome["store_key"] is not None)
            for store_key, model in stored:
                missing = [text for text in texts if text not in known]
                if not missing:
                    break
                inputs = {model_input(text): text for text in missing}
                english = self.store.get_many(*store_key, list(inputs))
                for key_text, en_text in english.items():
                    known[inputs[key_text]] = Translation(en_text, TranslationStatus.TRANSLATED, model=model)
            every = next((outcome["every"] for outcome in outcomes if outcome["every"]), None)
            for text in texts:
                if text not in known and every is not None:
                    known[text] = Translation(None, TranslationStatus.UNTRANSLATED, model=every[1],
                                              detail=UntranslatedReason(every[0]))
            self._known[lang] = known

    def __call__(self, lang: str, text: str) -> Translation | TranslationFailure:
        if lang == ENGLISH:
            return Translation(text, TranslationStatus.SOURCE_IS_ENGLISH)
        if not self.plan.needs_translation(lang):
            return self.plan.untranslated(lang)
        try:
            return self._known[lang][text]
        except KeyError:
            raise LookupError(f"no translation task of this run covered a {lang} sentence") from None


# -- phase 3: assemble -------------------------------------------------------------------------------

class _Writer:
    """Writes aligned batches as committed parts, deciding each document again against the output as it
    is now (a parallel shard may have committed meanwhile), and counts what it wrote."""

    def __init__(self, settings: RunSettings, output: OutputStore):
        self.settings = settings
        self.output = output
        self.documents: Counter[str] = Counter()
        self.paragraphs: dict[str, Counter[str]] = {}
        self.sentences: dict[str, Counter[str]] = {}
        self.rejects: Counter[str] = Counter()
        self.models: dict[str, set[str]] = {}
        self.files: list[str] = []
        self.skipped = 0
        self.replaced = 0
        self.replaced_because: Counter[str] = Counter()
        self.missing_inputs: list[str] = []
        self.seconds = 0.0

    def write(self, aligned: Sequence[AlignedDocument], rejects: list[Reject]) -> None:
        import pyarrow as pa

        from pipeline.store.rows import document_row, paragraph_row, reject_row, sentence_row
        from pipeline.store.schemas import SCHEMAS
        from pipeline.store.output import part_key

        started = time.perf_counter()
        with self.output.lock():
            committed = self.output.committed_documents()
            kept = []
            replaced: dict[str, set[str]] = {}
            for entry in aligned:
                decision = decide(entry.document, committed, self.settings)
                if isinstance(decision, Reject):
                    rejects.append(decision)
                elif decision is Decision.SKIP:
                    self.skipped += 1
                else:
                    kept.append(entry)
                    existing = committed.get(entry.document.raw.doc_id)
                    if existing is not None:
                        replaced.setdefault(existing.key, set()).add(existing.doc_id)
                        self.replaced_because[ReplacedBecause.FORCE if self.settings.force
                                              else ReplacedBecause.MODELS_CHANGED] += 1
            if kept or rejects:
                now = datetime.now(timezone.utc)
                run_id = self.settings.run_id
                rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}
                for entry in kept:
                    doc_id = entry.document.raw.doc_id
                    rows["documents"].append(document_row(entry.document, entry.paragraphs, entry.sentences,
                                                          run_id, now))
                    rows["paragraphs"].extend(paragraph_row(doc_id, pair, run_id)
                                              for pair in entry.paragraphs)
                    rows["sentences"].extend(sentence_row(doc_id, pair, run_id) for pair in entry.sentences)
                unique_rejects = {(r.source_path, r.source_record, str(r.reason)): r for r in rejects}
                rows["rejects"] = [reject_row(reject, run_id, now) for reject in unique_rejects.values()]
                tables = {name: pa.Table.from_pylist(value, schema=SCHEMAS[name])
                          for name, value in rows.items()}
                key = part_key([entry.document.raw.doc_id for entry in kept], unique_rejects)
                written = self.output.commit_shard(key, tables, replaced,
                                                   [entry.document.source for entry in kept])
                self.files.extend(str(path.relative_to(self.settings.output)) for path in written)
                self.replaced += sum(len(ids) for ids in replaced.values())
                self._count(rows)
        self.seconds += time.perf_counter() - started

    def _count(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        for row in rows["documents"]:
            self.documents[row["src_lang"]] += 1
        for level, counters in (("paragraphs", self.paragraphs), ("sentences", self.sentences)):
            for row in rows[level]:
                counters.setdefault(row["src_lang"], Counter())[row["status"]] += 1
        for row in rows["sentences"]:
            if row["model"]:
                self.models.setdefault(row["src_lang"], set()).add(row["model"])
        for row in rows["rejects"]:
            self.rejects[row["reason"]] += 1
            if row["reason"] == RejectReason.NOT_FOUND.value:
                self.missing_inputs.append(row["source_path"])


def assemble_shard(prepared: PreparedShard, settings: RunSettings, *,
                   output: OutputStore | None = None) -> ShardResult:
    """Align a prepared shard's documents with their English and write them. Idempotent: a rerun, or a
    run after a crash, adds no rows."""
    from pipeline.stages.align import AlignStage
    from pipeline.store.output import OutputStore

    output = output if output is not None else OutputStore(settings.output)
    output.prepare()
    work = RunWorkArea(settings.output, settings.run_id)
    if not work.is_prepared(prepared.index):
        raise RuntimeError(f"shard {prepared.index} of run {settings.run_id} was not prepared "
                           f"(no {work.shard_dir(prepared.index)})")
    plan = TranslationPlan(settings, _plan_translator(settings))
    translations = _RunTranslations(settings, plan)
    aligner = AlignStage(translations)
    writer = _Writer(settings, output)
    for number, (documents, rejects) in enumerate(work.batches(prepared.index), start=1):
        translations.load(documents)
        aligned = run_stages([aligner], documents, rejects, f"shard {prepared.index}, batch {number}")
        before = writer.seconds
        written, skipped = sum(writer.documents.values()), writer.skipped
        writer.write(aligned, rejects)
        log.info("shard %d, batch %d, write: %s, %d already in the output, %s in %.2f s", prepared.index,
                 number, plural(sum(writer.documents.values()) - written, "document"),
                 writer.skipped - skipped, plural(len(rejects), "reject"), writer.seconds - before)
    return ShardResult(
        shard_index=prepared.index,
        run_id=settings.run_id,
        documents=dict(writer.documents),
        paragraphs={lang: dict(counts) for lang, counts in writer.paragraphs.items()},
        sentences={lang: dict(counts) for lang, counts in writer.sentences.items()},
        rejects=dict(writer.rejects),
        skipped=prepared.skipped + writer.skipped,
        replaced=writer.replaced,
        replaced_because=dict(writer.replaced_because),
        stage_seconds={**prepared.stage_seconds, **_stage_seconds([aligner], write=writer.seconds)},
        models={lang: sorted(models) for lang, models in writer.models.items() if models},
        files=writer.files,
        missing_inputs=list(writer.missing_inputs),
        hub="; ".join(sorted({state for state in (prepared.hub, hub_state()) if state})),
    )
