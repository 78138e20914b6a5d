"""The stage contract: one small method per stage; timing, counting and error isolation in one place.

A stage takes a batch of typed records and returns records of the next type, rejects, or nothing for a
record it leaves out on purpose (a document already in the output). It declares its name and what it
needs to run (a CPU, or an accelerator when one is there), and loads heavy things (detectors, models) in
`setup`, which runs once, lazily, in the process that runs the stage: only settings travel between
processes. The base times each call, counts records in, out, rejected and left out, and when a batch
fails it processes the batch's records one by one, so that the record that breaks the stage becomes a
`processing_error` reject and the others go on. Configuration errors are never isolated: a wrong setting
is wrong for every record, and stops the run.
"""
from __future__ import annotations

import logging
import time
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from itertools import islice
from typing import Any, ClassVar, Generic, TypeVar

from pipeline.errors import ConfigurationError
from pipeline.records import RawDocument, Reject, RejectReason

log = logging.getLogger(__name__)

In = TypeVar("In")
Out = TypeVar("Out")


class Resource(StrEnum):
    """What a stage needs to run; the DAG puts stages that need an accelerator on its own queue."""

    CPU = "cpu"
    ACCELERATOR = "accelerator"   # used when the worker has one (CUDA), else the CPU


# What each stage declares it needs (its class's `resource`), readable without importing the stages:
# the DAG file reads it at every parse to place each task. A stage class that says otherwise is refused
# when it is defined, so the two cannot drift apart.
RESOURCES: dict[str, Resource] = {
    "ingest": Resource.CPU, "clean": Resource.CPU, "detect": Resource.CPU, "segment": Resource.CPU,
    "decide": Resource.CPU, "translate": Resource.ACCELERATOR, "align": Resource.CPU, "write": Resource.CPU,
}


@dataclass
class StageStats:
    seconds: float = 0.0
    calls: int = 0
    items_in: int = 0
    items_out: int = 0
    rejected: int = 0
    left_out: int = 0   # records a stage left out on purpose (already in the output)

    def to_dict(self) -> dict[str, float]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def document_of(item: Any) -> RawDocument:
    """The input document a record comes from: the record itself, or its `raw`."""
    return item if isinstance(item, RawDocument) else item.raw


def processing_error(item: Any, stage: str, error: Exception) -> Reject:
    """The reject of a record that `stage` failed on, with the error's type and message."""
    raw = document_of(item)
    message = " ".join(str(error).split()) or "no message"
    return Reject(raw.source_path, RejectReason.PROCESSING_ERROR,
                  f"{stage}: {type(error).__name__}: {message}", raw.source_record, raw.record_id)


class Step(ABC):
    """What every step of a flow has: a name, the resource it needs, its stats, and `setup`, which loads
    heavy things once, lazily, in the process that runs the step."""

    name: ClassVar[str]
    resource: ClassVar[Resource] = Resource.CPU

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        declared = RESOURCES.get(getattr(cls, "name", ""))
        if declared is not None and cls.resource is not declared:
            raise TypeError(f"stage {cls.name!r} needs {cls.resource}, but RESOURCES says {declared}")

    def __init__(self) -> None:
        self.stats = StageStats()
        self._ready = False

    def setup(self) -> None:
        """Load what the step needs (models, detectors, an output); runs once, before the first batch."""

    def _ensure_ready(self) -> None:
        if not self._ready:
            self.setup()
            self._ready = True

    @contextmanager
    def _timed(self, *, call: bool = True) -> Iterator[None]:
        """Adds the time spent inside to `stats.seconds`, and one call unless `call` is false."""
        started = time.perf_counter()
        try:
            yield
        finally:
            self.stats.seconds += time.perf_counter() - started
            self.stats.calls += call


class Stage(Step, Generic[In, Out]):
    """A pipeline stage: `process` one batch; the base does the rest (see the module's docstring)."""

    def begin_batch(self, batch: Sequence[In]) -> None:
        """Compute what the whole batch shares (lines repeated across its pages), once, before `process`:
        records processed one by one after a failure still see the batch they came in."""

    @abstractmethod
    def process(self, batch: Sequence[In]) -> Iterable[Out | Reject | None]:
        """One result per record of `batch`, in order: the next record, a reject, or None to leave it out.

        May raise: the base then calls it again with each record alone."""

    def failed(self, item: In, error: Exception) -> Out | Reject:
        """What a record that breaks the stage becomes: by default a `processing_error` reject."""
        return processing_error(item, self.name, error)

    def describe(self, outputs: Sequence[Out]) -> str:
        """What a batch gave, for the progress line of the log (e.g. the languages found)."""
        return ""

    def __call__(self, batch: Sequence[In], rejects: list[Reject]) -> list[Out]:
        """Run the stage over `batch`: what it gives, with its rejects appended to `rejects`."""
        self._ensure_ready()
        with self._timed():
            self.begin_batch(batch)
            results = self._isolating(batch)
        outputs: list[Out] = []
        for result in results:
            if result is None:
                self.stats.left_out += 1
            elif isinstance(result, Reject):
                self.stats.rejected += 1
                rejects.append(result)
            else:
                outputs.append(result)
        self.stats.items_in += len(batch)
        self.stats.items_out += len(outputs)
        return outputs

    def _isolating(self, batch: Sequence[In]) -> list[Out | Reject | None]:
        try:
            return self._checked(batch, self.process(batch))
        except ConfigurationError:
            raise
        except Exception as error:
            if len(batch) == 1:
                return [self.failed(batch[0], error)]
            log.warning("%s failed on a batch of %d (%s: %s); processing its records one by one",
                        self.name, len(batch), type(error).__name__, error)
        results: list[Out | Reject | None] = []
        for item in batch:
            try:
                results.extend(self._checked([item], self.process([item])))
            except ConfigurationError:
                raise
            except Exception as error:   # this record breaks the stage: it alone becomes a reject
                results.append(self.failed(item, error))
        return results

    def _checked(self, batch: Sequence[In], results: Iterable[Out | Reject | None],
                 ) -> list[Out | Reject | None]:
        listed = list(results)
        if len(listed) != len(batch):
            raise RuntimeError(f"stage {self.name} gave {len(listed)} results for {len(batch)} records")
        return listed


# Rejects a batch takes besides its records, per record it may hold: they are small, but a file of
# nothing but broken lines must not gather them all at once.
REJECTS_PER_RECORD = 16


def _chunk(items: Iterator[Any], records: int, total: int) -> tuple[list[Any], list[Reject]]:
    """The next `records` records of `items` and the rejects among them, `total` items at most."""
    found: list[Any] = []
    rejects: list[Reject] = []
    for item in islice(items, total):
        if isinstance(item, Reject):
            rejects.append(item)
        else:
            found.append(item)
            if len(found) == records:
                break
    return found, rejects


class Source(Step, Generic[Out]):
    """The first step of a flow: reads records, and rejects of what it cannot read, in batches.

    Timed and counted like a stage: `stats.seconds` is the time spent reading.
    """

    @abstractmethod
    def read(self) -> Iterator[Out | Reject]:
        """Every record and reject, lazily, in input order."""

    def sections(self) -> Iterable[Iterator[Out | Reject]]:
        """What `read` gives, in parts that no batch spans: by default one."""
        return (self.read(),)

    def batches(self, size: int) -> Iterator[tuple[list[Out], list[Reject]]]:
        """The records in batches of up to `size` records, each with the rejects read among them, a
        batch ending with its section.

        Rejects do not count (up to REJECTS_PER_RECORD times `size` of them), so that which records
        share a batch depends on the records alone, as what a batch decides across its documents does
        (the lines a site repeats, pipeline.stages.clean).
        """
        self._ensure_ready()
        for section in self.sections():
            items = iter(section)
            while True:
                with self._timed(call=False):   # a call is a batch: the read that finds the end is none
                    records, rejects = _chunk(items, size, REJECTS_PER_RECORD * size)
                if not records and not rejects:
                    break
                self.stats.calls += 1
                self.stats.items_out += len(records)
                self.stats.rejected += len(rejects)
                yield records, rejects


class Sink(Step, Generic[In]):
    """The last step of a flow: writes a batch of records and its rejects. Timed and counted like a
    stage; what it writes to opens in `setup`, once, before the first batch."""

    @abstractmethod
    def write(self, batch: Sequence[In], rejects: list[Reject]) -> None:
        """Write `batch` and `rejects` (the sink may add rejects of its own, such as duplicates)."""

    def __call__(self, batch: Sequence[In], rejects: list[Reject]) -> None:
        self._ensure_ready()
        with self._timed():
            self.write(batch, rejects)
        self.stats.items_in += len(batch)


def seconds_by_step(steps: Sequence[Step]) -> dict[str, float]:
    """Each step's seconds by its name, rounded as the manifest keeps them."""
    return {step.name: round(step.stats.seconds, 4) for step in steps}


def run_stages(stages: Sequence[Stage], batch: Sequence[Any], rejects: list[Reject], label: str) -> list[Any]:
    """Pass `batch` through `stages` in turn (each over the whole batch, so its code and models stay in
    the processor's cache), logging one line per stage: `<label>, <stage>: N documents (...) in S s`."""
    items = list(batch)
    for stage in stages:
        before = stage.stats.seconds
        items = stage(items, rejects)
        described = stage.describe(items)
        log.info("%s, %s: %d document%s%s in %.2f s", label, stage.name, len(items),
                 "" if len(items) == 1 else "s", f" ({described})" if described else "",
                 stage.stats.seconds - before)
    return items
