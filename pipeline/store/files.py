"""Files written whole or not at all: through a hidden temporary name in the same directory, then renamed.

Readers (pyarrow, pandas, DuckDB, Polars) ignore names that start with a dot, so a write in progress is
never read, and a killed writer leaves only a `.tmp` file that the next run removes.
"""
from __future__ import annotations

import os
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
