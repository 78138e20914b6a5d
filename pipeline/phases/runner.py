"""A whole run from one command: plan, then the three phases over every shard, then the manifest.

The same functions as the DAG's tasks (pipeline.phases.prepare, .translate, .assemble), in the same
order, with one translator: each model is loaded once, because the translation tasks of one language run
in turn. With several workers the shards are prepared by this process and a pool of processes, each
loading its own detectors; translation and assembly stay in this process, assembly shard after shard, so
that which copy of a document found twice is kept (the first in input order) is the same as with one
worker. Shards with no sentence to translate are assembled as soon as they and the shards before them
are prepared, while the pool prepares the next (InOrderAssembly). What the phases hand on lives in the
run's work area, which no dataset reader sees, and is removed with the manifest's writing; the shards
prepared in this process are handed to assembly in memory up to a bound (pipeline.phases.handoff).
"""
from __future__ import annotations

import logging
import multiprocessing
import multiprocessing.connection
import os
import queue
import signal
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from pipeline.phases.assemble import assemble_shard
from pipeline.phases.finalize import RunSummary, finalize_run
from pipeline.phases.handoff import PreparedBatches
from pipeline.phases.plan import Shard, open_output, plan_shards
from pipeline.phases.prepare import prepare_shard
from pipeline.phases.results import PreparedShard, ShardResult
from pipeline.phases.translate import open_translator, plan_translation, translate_chunk
from pipeline.settings import RunSettings
from pipeline.stages.detectors import unload_detectors
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
    shards = plan_shards(inputs, settings, listed_from=listed_from)
    open_output(settings)
    translator = translator if translator is not None else open_translator(settings)
    # A --model that cannot be found stops the run before any document; one that is there but does not
    # load, when its first translation task loads it (still before any row is written).
    translator.check_explicit_models(load=False)
    output = OutputStore(settings.output)
    seconds: dict[str, float] = {}

    handoff = PreparedBatches(RunWorkArea(settings.output, settings.run_id))
    assembly = InOrderAssembly(settings, output, translator, handoff, len(shards))
    started = time.perf_counter()
    prepared = _prepare(shards, settings, output, translator, workers, handoff, assembly)
    seconds["prepare"] = time.perf_counter() - started - assembly.seconds
    # Every text is detected: the detectors' models (lingua's alone take a few hundred MB) make room for
    # the translation models and the report.
    unload_detectors()

    started = time.perf_counter()
    chunks = plan_translation(settings, prepared)
    translated = [translate_chunk(chunk, settings, translator=translator) for chunk in chunks]
    seconds["translate"] = time.perf_counter() - started

    assembly.finish()
    seconds["assemble"] = assembly.seconds
    return finalize_run(settings, assembly.results, [str(item) for item in inputs], started_at, translated,
                        seconds)


class InOrderAssembly:
    """Assembles prepared shards in shard order, each as soon as it and every shard before it are
    prepared, while none of them has a sentence to translate: assembly then overlaps preparation,
    and a shard's batches held in memory go as soon as they are written. From the first shard that
    has sentences to translate on, the shards wait for the translation phase (`finish`).

    The order is what one worker would write: which copy of a document found twice is kept (the first
    in input order) does not change, and a shard without sentences to translate reads nothing the
    translation phase writes."""

    def __init__(self, settings: RunSettings, output: OutputStore, translator: Translator,
                 handoff: PreparedBatches, shards: int):
        self.settings, self.output, self.translator, self.handoff = settings, output, translator, handoff
        self.shards = shards
        self.results: list[ShardResult] = []
        self.seconds = 0.0          # spent assembling
        self._ready: dict[int, PreparedShard] = {}
        self._waiting_for_translation = False

    def offer(self, prepared: PreparedShard) -> None:
        """`prepared` is ready: assemble it, and the shards after it that wait on it, if they may be."""
        self._ready[prepared.index] = prepared
        while not self._waiting_for_translation and len(self.results) in self._ready:
            if self._ready[len(self.results)].sentences:
                self._waiting_for_translation = True
            else:
                self._assemble(self._ready.pop(len(self.results)))

    def finish(self) -> None:
        """Assemble the shards that waited, once every shard is prepared and translated."""
        while self._ready:
            self._assemble(self._ready.pop(len(self.results)))

    def _assemble(self, shard: PreparedShard) -> None:
        started = time.perf_counter()
        self.results.append(assemble_shard(shard, self.settings, output=self.output,
                                           translator=self.translator, handoff=self.handoff))
        self.seconds += time.perf_counter() - started
        log.info("shard %d/%d written", shard.index + 1, self.shards)


def _prepare(shards: Sequence[Shard], settings: RunSettings, output: OutputStore, translator: Translator,
             workers: int, handoff: PreparedBatches, assembly: InOrderAssembly) -> list[PreparedShard]:
    """Every shard prepared, in shard order, each offered to `assembly` once prepared. With several
    workers, this process is one of them, and the one that assembles: it and a pool of the others take
    shards in order, this process into `handoff`, the pool through the work area; between its own
    shards it assembles those the pool has prepared. Which process prepares a shard changes nothing in
    what the shard becomes."""
    prepared: list[PreparedShard] = []

    def offer(result: PreparedShard) -> None:
        prepared.append(result)
        assembly.offer(result)

    def prepare_here(shard: Shard) -> None:
        offer(prepare_shard(shard, settings, output=output, translator=translator, handoff=handoff))

    if workers < 2 or len(shards) < 2:
        for shard in shards:
            prepare_here(shard)
        return prepared
    shared = _SharedShards(shards)
    # Spawned, not forked: this process may already hold threads (a loaded model, Arrow's pools).
    context = multiprocessing.get_context("spawn")
    level = logging.getLogger().getEffectiveLevel()
    others = min(workers, len(shards)) - 1
    started_before = set(multiprocessing.active_children())
    with ProcessPoolExecutor(others, mp_context=context, initializer=_start_worker,
                             initargs=(level,)) as pool, ThreadPoolExecutor(others) as feeders:
        shard = shared.next()   # this process starts with the first shard, which it assembles first
        fed = [feeders.submit(shared.feed, pool, settings) for _ in range(others)]
        feeding = len(fed)
        try:
            while shard is not None:
                prepare_here(shard)
                feeding = shared.take(feeding, offer, wait=False)
                shard = shared.next()
            shared.take(feeding, offer, wait=True)
        except BaseException:
            shared.stop()
            # The run has failed or was interrupted: what the pool prepares now would never be
            # committed, so its processes are stopped rather than waited for through their current
            # shards (minutes, for a large file, after a Ctrl-C sent to this process alone).
            for process in set(multiprocessing.active_children()) - started_before:
                process.terminate()
            raise
        for feeder in fed:
            feeder.result()
    return sorted(prepared, key=lambda result: result.index)


class WorkerLost(RuntimeError):
    """A process of the pool ended abruptly while it prepared a shard: killed, most often by the system
    for lack of memory. Nothing of that shard was committed: the output holds the shards written before
    it, and the same command run again skips those and completes the run."""

    def __init__(self, shard_index: int):
        super().__init__(
            f"the process preparing shard {shard_index + 1} ended abruptly (killed, or out of memory); the "
            "shards written so far stay in the output, and running the same command again completes the "
            "run (with fewer --workers, each holding its own detectors, if memory is short)")


class _SharedShards:
    """The shards still to prepare, which this process and the pool's feeders take in order, and the
    shards the pool has prepared, on their way back to this process."""

    def __init__(self, shards: Sequence[Shard]):
        self._pending = deque(shards)
        self._lock = threading.Lock()
        self._finished: queue.SimpleQueue[PreparedShard | None] = queue.SimpleQueue()

    def next(self) -> Shard | None:
        with self._lock:
            return self._pending.popleft() if self._pending else None

    def stop(self) -> None:
        with self._lock:   # a failed shard fails the run: no other shard starts
            self._pending.clear()

    def feed(self, pool: ProcessPoolExecutor, settings: RunSettings) -> None:
        """A feeder thread: the pool prepares shards one after another until none is left."""
        try:
            while (shard := self.next()) is not None:
                try:
                    prepared = pool.submit(prepare_shard, shard, settings=settings).result()
                except BrokenProcessPool as error:
                    raise WorkerLost(shard.index) from error
                self._finished.put(prepared)
        except BaseException:
            self.stop()
            raise
        finally:
            self._finished.put(None)

    def take(self, feeding: int, offer: Callable[[PreparedShard], None], *, wait: bool) -> int:
        """Offer what the pool has prepared (with `wait`, until the `feeding` feeders still running are
        done); returns how many are still running."""
        while feeding:
            try:
                result = self._finished.get(block=wait)
            except queue.Empty:
                break
            if result is None:
                feeding -= 1
            else:
                offer(result)
        return feeding


def _start_worker(level: int) -> None:
    """A pool worker logs like the process that started it, ends with it (`_end_with_parent`) or on
    Ctrl-C and, being the pipeline's own, converts its rows without pandas
    (pipeline.phases.memory.convert_lists_without_pandas)."""
    from pipeline.phases.memory import convert_lists_without_pandas

    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(processName)s %(message)s",
                        datefmt="%H:%M:%S")
    # Ctrl-C reaches the whole process group: the command's process says so in one line, and a worker
    # ends without a traceback of its own.
    signal.signal(signal.SIGINT, lambda number, _: os._exit(128 + number))
    _end_with_parent()
    convert_lists_without_pandas()


def _end_with_parent() -> None:
    """Exit as soon as the process that started this one is gone.

    A pool worker waits for its next shard on a queue whose write end it holds itself (the queue is
    handed over whole), so a run killed outright (SIGKILL, the out-of-memory killer) would leave it
    waiting for ever, with its detectors' hundreds of MB. The parent's sentinel becomes ready when the
    parent ends; nothing the worker was doing can be delivered after that.
    """
    parent = multiprocessing.parent_process()
    if parent is None:
        return

    def wait_for_parent() -> None:
        multiprocessing.connection.wait([parent.sentinel])
        os._exit(1)

    threading.Thread(target=wait_for_parent, name="end-with-parent", daemon=True).start()
