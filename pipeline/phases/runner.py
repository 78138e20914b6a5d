"""A whole run in one process: plan, then the three phases over every shard, then the manifest.

The same functions as the DAG's tasks (pipeline.phases.prepare, .translate, .assemble), in the same order; each model is loaded once,
because the translation tasks of one language run in turn with one translator. What the phases hand on
lives in the run's work area, which no dataset reader sees, and is removed with the manifest's writing.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pipeline.phases.assemble import assemble_shard
from pipeline.phases.finalize import RunSummary, finalize_run
from pipeline.phases.plan import open_output, plan_shards
from pipeline.phases.prepare import prepare_shard
from pipeline.phases.translate import open_translator, plan_translation, translate_chunk
from pipeline.settings import RunSettings

if TYPE_CHECKING:
    from pipeline.stages.translate import Translator

log = logging.getLogger(__name__)


def run(inputs: Sequence[str], settings: RunSettings, *, translator: Translator | None = None,
        listed_from: str | None = None) -> RunSummary:
    """Plan, prepare every shard, translate every (language, chunk) task, assemble every shard, and
    finalise: the whole run in this process. `translator` (by default one for `settings`) lets a caller
    keep loaded models across runs; `listed_from` is the directory the inputs were listed from (see
    plan_shards)."""
    from pipeline.store.output import OutputStore

    started_at = datetime.now(timezone.utc)
    shards = plan_shards(inputs, settings, listed_from=listed_from)
    open_output(settings)
    translator = translator if translator is not None else open_translator(settings)
    # A --model that cannot be found stops the run before any document; one that is there but does not
    # load, when its first translation task loads it (still before any row is written).
    translator.check_explicit_models(load=False)
    output = OutputStore(settings.output)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    prepared = [prepare_shard(shard, settings, output=output) for shard in shards]
    seconds["prepare"] = time.perf_counter() - started

    started = time.perf_counter()
    chunks = plan_translation(settings, prepared)
    translated = [translate_chunk(chunk, settings, translator=translator) for chunk in chunks]
    seconds["translate"] = time.perf_counter() - started

    started = time.perf_counter()
    results = []
    for shard in prepared:
        results.append(assemble_shard(shard, settings, output=output))
        log.info("shard %d/%d written", shard.index + 1, len(prepared))
    seconds["assemble"] = time.perf_counter() - started
    return finalize_run(settings, results, [str(item) for item in inputs], started_at, translated, seconds)
