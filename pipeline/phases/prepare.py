"""Phase 1, per shard (CPU): ingest -> clean -> detect -> segment -> decide, into the run's work area.

The shard's documents and rejects go to the work area (pipeline.store.work_area), unseen by dataset
readers, with the distinct sentences each language needs translated, for the translation phase.
"""
from __future__ import annotations

import gc
import logging
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

from pipeline.phases.memory import (allocate_arrow_with_malloc, fewer_cycle_collections,
                                    frozen_between_batches, return_freed_memory)
from pipeline.phases.plan import Shard, plural
from pipeline.phases.results import PreparedShard, hub_state
from pipeline.records import DetectedRecord, Reject, RejectReason
from pipeline.settings import DetectionAccuracy, RunSettings
from pipeline.stages.base import Stage, run_stages, seconds_by_step
from pipeline.stages.decide import DecideStage, OutputDecisions, TranslationPlan, plan_translator
from pipeline.store.work_area import RunWorkArea

if TYPE_CHECKING:
    from pipeline.phases.handoff import PreparedBatches
    from pipeline.stages.translate import Translator
    from pipeline.store.output import OutputStore

log = logging.getLogger(__name__)


def cleaning_options(settings: RunSettings) -> dict[str, Any]:
    """The keyword arguments of CleanStage that `settings` sets (the others keep the cleaner's
    defaults)."""
    options = {"threshold": settings.body_threshold, "min_repeats": settings.site_repeats,
               "comments": settings.comments}
    return {name: value for name, value in options.items() if value is not None}


def text_stages(settings: RunSettings, decisions: OutputDecisions) -> list[Stage]:
    """clean -> detect -> segment -> decide, set up for `settings`."""
    from pipeline.stages.clean import CleanStage
    from pipeline.stages.detect import DetectStage
    from pipeline.stages.segment import SegmentStage

    languages = decisions.plan.translator.registry.detection_languages()
    low_accuracy = settings.detection_accuracy is DetectionAccuracy.LOW
    return [CleanStage(decisions.already_done, **cleaning_options(settings)),
            DetectStage(languages, low_accuracy=low_accuracy), SegmentStage(), DecideStage(decisions)]


def prepare_shard(shard: Shard, settings: RunSettings, *, output: OutputStore | None = None,
                  translator: Translator | None = None, handoff: PreparedBatches | None = None
                  ) -> PreparedShard:
    """Ingest, clean, detect and segment one shard into the run's work area. Idempotent: a retry
    starts the shard again. `translator` (by default one that only resolves models) names each
    language's model; a process running every phase passes its one translator, and `handoff`, which
    keeps the prepared batches for assemble_shard in this process."""
    from pipeline.stages.ingest import IngestSource
    from pipeline.store.output import OutputStore

    allocate_arrow_with_malloc()
    output = output if output is not None else OutputStore(settings.output)
    work = RunWorkArea(settings.output, settings.run_id)
    work.start_shard(shard.index)
    staged = work if handoff is None else handoff
    plan = TranslationPlan(settings, translator if translator is not None else plan_translator(settings))
    stages = text_stages(settings, OutputDecisions(settings, plan, output.committed_documents()))
    source = IngestSource(shard.inputs, max_bytes=settings.max_input_bytes, planned_rejects=(
        Reject(path, RejectReason(reason), detail) for path, reason, detail in shard.rejects),
        pieces=shard.pieces, slices=shard.slices)
    sentences: dict[str, dict[str, None]] = {}
    documents = 0
    with fewer_cycle_collections(), frozen_between_batches():
        read_before = 0.0
        for number, (raws, rejects) in enumerate(source.batches(settings.shard_size), start=1):
            log.info("shard %d, batch %d, ingest: %s read, %d rejected in %.2f s", shard.index, number,
                     plural(len(raws), "document"), len(rejects), source.stats.seconds - read_before)
            read_before = source.stats.seconds
            batch = run_stages(stages, raws, rejects, f"shard {shard.index}, batch {number}")
            for document in batch:
                documents += 1
                for lang, text in document.sentences():
                    if plan.needs_translation(lang):
                        sentences.setdefault(lang, {})[text] = None
            staged.write_batch(shard.index, number, batch, rejects)
            gc.freeze()
            return_freed_memory()
    result = PreparedShard(
        shard.index, settings.run_id, documents,
        {lang: len(texts) for lang, texts in sorted(sentences.items())},
        sum(stage.stats.left_out for stage in stages), seconds_by_step([source, *stages]), hub_state())
    work.finish_shard(shard.index, sentences, result.to_dict())
    return result


def detected_documents(files: list[str], languages: frozenset[str], *, rejects: list[Reject] | None = None,
                       cleaning: Mapping[str, Any] | None = None, batch_size: int = 1000,
                       ) -> Iterator[DetectedRecord]:
    """The documents of `files` read, cleaned and detected by the stages of a run (with the cleaning
    options of `cleaning_options`), for the commands that look at inputs without running: `detect` and
    the model prefetch. What cannot be read or has no text goes to `rejects`."""
    from pipeline.stages.clean import CleanStage
    from pipeline.stages.detect import DetectStage
    from pipeline.stages.ingest import IngestSource

    stages: list[Stage] = [CleanStage(**(cleaning or {})), DetectStage(languages)]
    collected = rejects if rejects is not None else []
    for raws, batch_rejects in IngestSource(files).batches(batch_size):
        collected.extend(batch_rejects)
        yield from run_stages(stages, raws, collected, "detect")
