"""How the pipeline's processes hold memory (pipeline.phases.memory); what needs a clean start is
checked in a new interpreter."""
from __future__ import annotations

import ctypes
import gc
import os

import pytest

from fresh_interpreter import printed_by_a_fresh_interpreter

from pipeline.phases.memory import CYCLE_COLLECTION_ALLOCATIONS, fewer_cycle_collections


@pytest.mark.parametrize("environment, pools", [
    ({}, "mimalloc system"),
    ({"ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}, "jemalloc jemalloc"),
])
def test_arrow_allocates_with_malloc_unless_the_environment_names_a_pool(environment: dict, pools: str):
    code = ("import pyarrow as pa; from pipeline.phases.memory import allocate_arrow_with_malloc; "
            "before = pa.default_memory_pool().backend_name; allocate_arrow_with_malloc(); "
            "print(before, pa.default_memory_pool().backend_name)")
    clean = {name: value for name, value in os.environ.items() if name != "ARROW_DEFAULT_MEMORY_POOL"}
    assert printed_by_a_fresh_interpreter(code, environment={**clean, **environment}) == [pools]


@pytest.mark.skipif(not hasattr(ctypes.CDLL(None), "malloc_trim"), reason="the C library has no malloc_trim")
def test_memory_malloc_holds_free_in_the_middle_of_its_heap_goes_back_to_the_system():
    code = """
import ctypes
from pipeline.phases.memory import return_freed_memory
libc = ctypes.CDLL(None)
libc.malloc.restype = ctypes.c_void_p
libc.free.argtypes = [ctypes.c_void_p]
def rss_mb():
    return int(open("/proc/self/status").read().split("VmRSS:")[1].split()[0]) // 1024
start = rss_mb()
blocks = [libc.malloc(65536) for _ in range(1600)]   # 100 MB under malloc's mmap threshold: its heap
for block in blocks:
    ctypes.memset(block, 1, 65536)
for block in blocks[:-1]:   # the last keeps the top of the heap in use: malloc cannot shrink it itself
    libc.free(block)
held = rss_mb() - start
return_freed_memory()
print(held, rss_mb() - start)
"""
    held, after = map(int, printed_by_a_fresh_interpreter(code)[-1].split())
    assert held >= 90
    assert after <= 10


@pytest.mark.parametrize("youngest, in_the_block", [
    (700, CYCLE_COLLECTION_ALLOCATIONS),            # Python's default
    (4 * CYCLE_COLLECTION_ALLOCATIONS, 4 * CYCLE_COLLECTION_ALLOCATIONS),   # the caller's, higher
    (0, 0),                                         # automatic collection turned off by the caller
])
def test_the_cycle_collector_runs_less_often_in_the_block_and_as_before_once_it_ends_even_by_an_error(
        youngest: int, in_the_block: int):
    default = gc.get_threshold()
    gc.set_threshold(youngest, 7, 9)
    try:
        with pytest.raises(ValueError), fewer_cycle_collections():
            inside = gc.get_threshold()
            raise ValueError("a stage failed")
        after = gc.get_threshold()
    finally:
        gc.set_threshold(*default)
    assert inside == (in_the_block, 7, 9)
    assert after == (youngest, 7, 9)
