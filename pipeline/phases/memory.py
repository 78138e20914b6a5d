"""How the pipeline's processes hold memory: Arrow allocating as Python does, pyarrow kept from
importing pandas, what the C library holds freed handed back to the system, and the cycle collector
run less often, and over less, while shards are prepared and assembled."""
from __future__ import annotations

import ctypes
import gc
import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache

import pyarrow as pa

# Allocations of container objects between two runs of the cycle collector's youngest generation while
# a shard is prepared or assembled (Python's default: 700).
CYCLE_COLLECTION_ALLOCATIONS = 10_000


def allocate_arrow_with_malloc() -> None:
    """Have pyarrow allocate with the C library's malloc, as Python does, rather than its bundled
    mimalloc, unless ARROW_DEFAULT_MEMORY_POOL names a pool.

    mimalloc keeps the memory a batch's tables free for later Arrow buffers only, so the next batch's
    Python objects take more from the system: over the real-text corpus of the benchmarks one worker's
    peak is about 150 MB higher with it, for no less CPU. Called once pyarrow is imported, this moves
    the allocations pyarrow makes for Python; Arrow's own (a Parquet writer's buffers) follow only the
    variable, which `python -m pipeline` sets before pyarrow is imported: 40 MB less again.
    """
    if "ARROW_DEFAULT_MEMORY_POOL" not in os.environ:
        pa.set_memory_pool(pa.system_memory_pool())


class _PandasUnavailable:
    """An import hook under which `import pandas` fails as if pandas were not installed."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> None:
        if name == "pandas":
            raise ModuleNotFoundError("pandas is held back while pyarrow looks for it", name=name)


def convert_lists_without_pandas() -> None:
    """Have pyarrow convert Python lists without importing pandas, when pandas is not imported yet.

    pyarrow's first conversion of a Python list imports pandas, only to ask whether the list is a pandas
    object, and remembers the answer. The pipeline never gives it one: importing pandas costs a process
    45 MB and 0.14 CPU-s. So pyarrow is made to look once while pandas cannot be imported. Asked for
    pandas later (`Table.to_pandas`, `Table.from_pandas`), pyarrow imports it then. Until then it reads a
    pandas object given to `pa.array` as a plain sequence (NaN stays NaN), so this is for the processes
    the pipeline owns (`python -m pipeline run` and its workers), not for a caller's.
    """
    if "pandas" in sys.modules:
        return
    sys.meta_path.insert(0, _PandasUnavailable)  # type: ignore[arg-type]
    try:
        pa.array([])
    finally:
        sys.meta_path.remove(_PandasUnavailable)  # type: ignore[arg-type]


def return_freed_memory() -> None:
    """Hand the pages the C library's malloc holds free back to the system (glibc's malloc_trim; where
    the C library has none, nothing happens).

    lingua loads a language's models by parsing them: the buffers it frees stay in the middle of
    malloc's heap, which malloc keeps, while Python's own objects come from arenas of their own and
    never reuse them. Trimmed after each batch, one worker's peak on the real-text corpus of the
    benchmarks is about 25 MB lower (444-456 -> 424-426 MB) for a few milliseconds."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@cache
def _malloc_trim() -> Callable[[int], int] | None:
    try:
        return ctypes.CDLL(None).malloc_trim
    except (AttributeError, OSError, TypeError):   # TypeError: Windows has no process-wide library
        return None


@contextmanager
def fewer_cycle_collections() -> Iterator[None]:
    """The cycle collector runs every CYCLE_COLLECTION_ALLOCATIONS allocations instead of every 700,
    until the block ends (the previous thresholds are then restored). A process that set a higher
    threshold keeps it, and one that turned automatic collection off (threshold 0) keeps it off.

    The stages make millions of short-lived objects that reference counting frees and few cycles; at
    Python's default the collector ran 3,400 times over the real-text pages of the benchmarks, 15 of
    them over every object, and took 1.6 of the run's 30 CPU-s. The older generations keep their
    thresholds, so a full collection still comes after a bounded number of allocations."""
    previous = gc.get_threshold()
    youngest = previous[0] and max(previous[0], CYCLE_COLLECTION_ALLOCATIONS)
    gc.set_threshold(youngest, *previous[1:])
    try:
        yield
    finally:
        gc.set_threshold(*previous)


@contextmanager
def frozen_between_batches() -> Iterator[None]:
    """What lives now (modules, loaded detectors, the shard's state) is frozen until the block ends: the
    cycle collector stops walking it at every full collection. Freeze again (`gc.freeze`) after each
    batch, so that what lives on from it is frozen too."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
