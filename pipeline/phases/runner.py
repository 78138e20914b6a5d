"""A whole run from one command: plan, then the three phases over every shard, then the manifest.

The same functions as the DAG's tasks (pipeline.phases.prepare, .translate, .assemble), in the same
order, with one translator: each model is loaded once, because the translation tasks of one language run
in turn. With several workers the shards are prepared by this process and a pool of processes, each
loading its own detectors; translation and assembly stay in this process, assembly shard after shard, so
that which copy of a document found twice is kept (the first in input order) is the same as with one
worker. What the phases hand on lives in the run's work area, which no dataset reader sees, and is
removed with the manifest's writing; the shards prepared in this process are handed to assembly in
memory up to a bound (pipeline.phases.handoff).
"""
from __future__ import annotations

import logging
import multiprocessing
import threading
import time
from collections import deque
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pipeline.phases.assemble import assemble_shard
from pipeline.phases.finalize import RunSummary, finalize_run
from pipeline.phases.handoff import PreparedBatches
from pipeline.phases.plan import Shard, open_output, plan_shards
from pipeline.phases.prepare import prepare_shard
from pipeline.phases.results import PreparedShard
from pipeline.phases.translate import open_translator, plan_translation, translate_chunk
from pipeline.settings import RunSettings
from pipeline.store.work_area import RunWorkArea

if TYPE_CHECKING:
    from pipeline.stages.translate import Translator
    from pipeline.store.output import OutputStore

log = logging.getLogger(__name__)


def run(inputs: Sequence[str], settings: RunSettings, *, translator: Translator | None = None,
        workers: int = 1, listed_from: str | None = None) -> RunSummary:
    """Plan, prepare every shard, translate every (language, chunk) task, assemble every shard, and
    finalise: the whole run in this process, with one translator for every phase. `translator` (by
    default one for `settings`) lets a caller keep loaded models across runs; `workers` processes
    prepare the shards; `listed_from` is the directory the inputs were listed from (see plan_shards)."""
    from pipeline.store.output import OutputStore

    started_at = datetime.now(timezone.utc)
    shards = plan_shards(inputs, settings, workers=workers, listed_from=listed_from)
    open_output(settings)
    translator = translator if translator is not None else open_translator(settings)
    # A --model that cannot be found stops the run before any document; one that is there but does not
    # load, when its first translation task loads it (still before any row is written).
    translator.check_explicit_models(load=False)
    output = OutputStore(settings.output)
    seconds: dict[str, float] = {}

    started = time.perf_counter()
    handoff = PreparedBatches(RunWorkArea(settings.output, settings.run_id))
    prepared = _prepare(shards, settings, output, translator, workers, handoff)
    seconds["prepare"] = time.perf_counter() - started

    started = time.perf_counter()
    chunks = plan_translation(settings, prepared)
    translated = [translate_chunk(chunk, settings, translator=translator) for chunk in chunks]
    seconds["translate"] = time.perf_counter() - started

    started = time.perf_counter()
    results = []
    for shard in prepared:
        results.append(assemble_shard(shard, settings, output=output, translator=translator, handoff=handoff))
        log.info("shard %d/%d written", shard.index + 1, len(prepared))
    seconds["assemble"] = time.perf_counter() - started
    return finalize_run(settings, results, [str(item) for item in inputs], started_at, translated, seconds)


def _prepare(shards: Sequence[Shard], settings: RunSettings, output: OutputStore, translator: Translator,
             workers: int, handoff: PreparedBatches) -> list[PreparedShard]:
    """Every shard prepared, in shard order. With several workers, this process is one of them: it takes
    shards from the front, into `handoff`, while a pool of the others takes them from the back through
    the work area; which process prepares a shard changes nothing in what the shard becomes."""
    pending = deque(shards)
    if workers < 2 or len(shards) < 2:
        return [prepare_shard(shard, settings, output=output, translator=translator, handoff=handoff)
                for shard in pending]
    lock = threading.Lock()

    def next_shard(from_front: bool) -> Shard | None:
        with lock:
            return (pending.popleft() if from_front else pending.pop()) if pending else None

    def stop() -> None:
        with lock:   # a failed shard fails the run: no other shard starts
            pending.clear()

    def feed() -> list[PreparedShard]:
        done = []
        try:
            while (shard := next_shard(from_front=False)) is not None:
                done.append(pool.submit(prepare_shard, shard, settings=settings).result())
        except BaseException:
            stop()
            raise
        return done

    # Spawned, not forked: this process may already hold threads (a loaded model, Arrow's pools).
    context = multiprocessing.get_context("spawn")
    level = logging.getLogger().getEffectiveLevel()
    others = min(workers, len(shards)) - 1
    with ProcessPoolExecutor(others, mp_context=context, initializer=_log_like_the_parent,
                             initargs=(level,)) as pool, ThreadPoolExecutor(others) as feeders:
        fed = [feeders.submit(feed) for _ in range(others)]
        prepared = []
        try:
            while (shard := next_shard(from_front=True)) is not None:
                prepared.append(prepare_shard(shard, settings, output=output, translator=translator,
                                              handoff=handoff))
        except BaseException:
            stop()
            raise
        for feeder in fed:
            prepared.extend(feeder.result())
    return sorted(prepared, key=lambda result: result.index)


def _log_like_the_parent(level: int) -> None:
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(processName)s %(message)s",
                        datefmt="%H:%M:%S")
