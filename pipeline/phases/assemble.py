"""Phase 3, per shard (CPU): align every document with the English from the store, and write it.

The English of the run's sentences is looked up per batch from what the translation tasks recorded in
the work area; the write sink commits the datasets batch by batch as pipeline.store.output describes.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from pipeline.phases.memory import allocate_arrow_with_malloc, fewer_cycle_collections
from pipeline.phases.plan import plural
from pipeline.phases.results import ChunkOutcome, PreparedShard, ShardResult, hub_state
from pipeline.records import (PreparedDocument, Translation, TranslationFailure, TranslationStatus,
                              UntranslatedReason)
from pipeline.settings import ENGLISH, RunSettings
from pipeline.stages.base import run_stages, seconds_by_step
from pipeline.stages.decide import TranslationPlan, plan_translator
from pipeline.store.work_area import RunWorkArea

if TYPE_CHECKING:
    from pipeline.phases.handoff import PreparedBatches
    from pipeline.records import Reject
    from pipeline.stages.align import AlignedDocument
    from pipeline.stages.write import WriteSink
    from pipeline.stages.translate import Translator
    from pipeline.store.output import OutputStore

log = logging.getLogger(__name__)

Known = dict[str, Translation | TranslationFailure]


class RunTranslations:
    """The English of the run's sentences, as the translation tasks left it: looked up per batch."""

    def __init__(self, settings: RunSettings, plan: TranslationPlan):
        from pipeline.store.translations import TranslationStore

        self.plan = plan
        self.work = RunWorkArea(settings.output, settings.run_id)
        self.store = TranslationStore(settings.translation_store)
        self._outcomes: dict[str, list[ChunkOutcome]] = {}
        self._known: dict[str, Known] = {}

    def _outcomes_of(self, lang: str) -> list[ChunkOutcome]:
        if lang not in self._outcomes:
            self._outcomes[lang] = [ChunkOutcome.from_dict(data) for data in self.work.outcomes({lang})]
        return self._outcomes[lang]

    def load(self, documents: Sequence[PreparedDocument]) -> None:
        """Look up the English of every sentence of `documents` that needs one."""
        wanted: dict[str, dict[str, None]] = {}
        for document in documents:
            for lang, text in document.sentences():
                if self.plan.needs_translation(lang):
                    wanted.setdefault(lang, {})[text] = None
        self._known = {lang: self._lookup(self._outcomes_of(lang), texts) for lang, texts in wanted.items()}

    def _lookup(self, outcomes: list[ChunkOutcome], texts: dict[str, None]) -> Known:
        from pipeline.stages.translate import model_input
        from pipeline.store.translations import source_hash

        known: Known = {}
        hashes = {text: source_hash(text) for text in texts}
        for outcome in outcomes:
            for text, digest in hashes.items():
                if text in known:
                    continue
                if digest in outcome.failed:
                    known[text] = TranslationFailure(outcome.failed[digest])
                elif digest in outcome.untranslated:
                    why = outcome.untranslated[digest]
                    known[text] = Translation(None, TranslationStatus.UNTRANSLATED, model=why.model,
                                              detail=UntranslatedReason(why.detail))
        # Every task of a language usually stored under one key: each key is read once.
        for stored in dict.fromkeys(outcome.stored for outcome in outcomes if outcome.stored is not None):
            missing = [text for text in texts if text not in known]
            if not missing:
                break
            inputs = {model_input(text): text for text in missing}
            english = self.store.get_many(*stored.store_key, list(inputs))
            for key_text, en_text in english.items():
                known[inputs[key_text]] = Translation(en_text, TranslationStatus.TRANSLATED,
                                                      model=stored.model)
        every = next((outcome.all_untranslated for outcome in outcomes if outcome.all_untranslated), None)
        if every is not None:
            for text in texts:
                if text not in known:
                    known[text] = Translation(None, TranslationStatus.UNTRANSLATED, model=every.model,
                                              detail=UntranslatedReason(every.detail))
        return known

    def __call__(self, lang: str, text: str) -> Translation | TranslationFailure:
        if lang == ENGLISH:
            return Translation(text, TranslationStatus.SOURCE_IS_ENGLISH)
        if not self.plan.needs_translation(lang):
            return self.plan.untranslated(lang)
        try:
            return self._known[lang][text]
        except KeyError:
            raise LookupError(f"no translation task of this run covered a {lang} sentence") from None


# A shard's aligned batches are written together, as one commit and one part per dataset and language,
# until their input reaches this: a commit costs a Parquet file per dataset and language whatever it
# holds, and 1,000 short records (a batch) are a quarter of a megabyte. A batch this large or larger,
# as 1,000 scraped pages are, is written alone.
PART_MIN_INPUT_BYTES = 8 * 2**20


class _Part:
    """The aligned batches of a shard waiting to be written together (see PART_MIN_INPUT_BYTES)."""

    def __init__(self, shard: int, writer: WriteSink):
        self.shard, self.writer = shard, writer
        self._clear()

    def _clear(self) -> None:
        self.batches: list[int] = []
        self.documents: list[AlignedDocument] = []
        self.rejects: list[Reject] = []
        self.input_bytes = 0

    def add(self, number: int, documents: Sequence[AlignedDocument], rejects: Sequence[Reject],
            input_bytes: int) -> None:
        self.batches.append(number)
        self.documents.extend(documents)
        self.rejects.extend(rejects)
        self.input_bytes += input_bytes
        if self.input_bytes >= PART_MIN_INPUT_BYTES:
            self.write()

    def write(self) -> None:
        if not self.batches:
            return
        writer = self.writer
        before, written, skipped = writer.stats.seconds, sum(writer.documents.values()), writer.skipped
        writer(self.documents, self.rejects)
        batches = (f"batch {self.batches[0]}" if len(self.batches) == 1
                   else f"batches {self.batches[0]}-{self.batches[-1]}")
        log.info("shard %d, %s, write: %s, %d already in the output, %s in %.2f s", self.shard, batches,
                 plural(sum(writer.documents.values()) - written, "document"), writer.skipped - skipped,
                 plural(len(self.rejects), "reject"), writer.stats.seconds - before)
        self._clear()


def assemble_shard(prepared: PreparedShard, settings: RunSettings, *, output: OutputStore | None = None,
                   translator: Translator | None = None, handoff: PreparedBatches | None = None
                   ) -> ShardResult:
    """Align a prepared shard's documents with their English and write them. Idempotent: a rerun, or a
    run after a crash, adds no rows. `translator` and `handoff` as for prepare_shard."""
    from pipeline.stages.align import AlignStage
    from pipeline.stages.write import WriteSink
    from pipeline.store.output import OutputStore

    allocate_arrow_with_malloc()
    output = output if output is not None else OutputStore(settings.output)
    output.prepare()
    work = RunWorkArea(settings.output, settings.run_id)
    if not work.is_prepared(prepared.index):
        raise RuntimeError(f"shard {prepared.index} of run {settings.run_id} was not prepared "
                           f"(no {work.shard_dir(prepared.index)})")
    plan = TranslationPlan(settings, translator if translator is not None else plan_translator(settings))
    translations = RunTranslations(settings, plan)
    aligner = AlignStage(translations)
    writer = WriteSink(settings, output)
    staged = work if handoff is None else handoff
    part = _Part(prepared.index, writer)
    with fewer_cycle_collections():
        for number, (documents, rejects) in enumerate(staged.batches(prepared.index), start=1):
            translations.load(documents)
            aligned = run_stages([aligner], documents, rejects, f"shard {prepared.index}, batch {number}")
            part.add(number, aligned, rejects, sum(document.raw.n_bytes for document in documents))
        part.write()
    return ShardResult(
        shard_index=prepared.index,
        run_id=settings.run_id,
        documents=dict(writer.documents),
        paragraphs={lang: dict(counts) for lang, counts in writer.paragraphs.items()},
        sentences={lang: dict(counts) for lang, counts in writer.sentences.items()},
        rejects=dict(writer.rejects),
        removed=dict(writer.removed),
        skipped=prepared.skipped + writer.skipped,
        replaced=writer.replaced,
        replaced_because=dict(writer.replaced_because),
        stage_seconds={**prepared.stage_seconds, **seconds_by_step([aligner, writer])},
        models={lang: sorted(models) for lang, models in writer.models.items() if models},
        files=writer.files,
        missing_inputs=list(writer.missing_inputs),
        hub=sorted({*prepared.hub, *hub_state()}),
    )
