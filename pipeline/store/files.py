"""Files written whole or not at all: through a hidden temporary name in the same directory, then renamed.

Readers (pyarrow, pandas, DuckDB, Polars) ignore names that start with a dot, so a write in progress is
never read, and a killed writer leaves only a `.tmp` file that the next run removes.
"""
from __future__ import annotations

import os
import sys
import uuid
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from pipeline.store.schemas import parquet_column_paths

TEMP_SUFFIX = ".tmp"
COMPRESSION = "zstd"
# The writer holds a row group's encoded pages until the group is done: this bounds them.
ROW_GROUP_ROWS = 65_536
# Text columns get no min/max statistics: no reader prunes on them, and computing those of a 48 MB
# paragraph takes four copies of it (Parquet then leaves such values out of the footer anyway). Nor a
# dictionary: few texts repeat, and the dictionary page of a long one holds another copy of it.
TEXT_COLUMNS = frozenset({"src_text", "en_text", "paragraphs", "text", "removed"})


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


def temporary_name(path: Path) -> Path:
    return path.with_name(f".{path.name}.{uuid.uuid4().hex[:8]}{TEMP_SUFFIX}")


def write_parquet(table: pa.Table, path: Path) -> None:
    """Write `table` as Parquet, with min/max statistics and dictionaries for every column but the long
    text ones."""
    other_columns = parquet_column_paths(table.schema, leaving_out=TEXT_COLUMNS)
    pq.write_table(table, path, compression=COMPRESSION, write_statistics=other_columns,
                   use_dictionary=other_columns, row_group_size=ROW_GROUP_ROWS)


def write_parquet_atomic(table: pa.Table, path: Path) -> None:
    """Write `table` to `path` through a hidden temporary file in the same directory, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(path)
    try:
        write_parquet(table, temporary)
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)


def write_text_atomic(text: str, path: Path) -> None:
    """Write `text` to `path` through a hidden temporary file in the same directory, then rename."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = temporary_name(path)
    try:
        with open(temporary, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    finally:
        temporary.unlink(missing_ok=True)
