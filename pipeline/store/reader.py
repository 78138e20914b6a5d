"""Read an output directory back, for notebooks: one dataset as a pandas DataFrame, filtered at the source.

Reads go through the output's current snapshot (pipeline.store.snapshots), so a read never mixes two
states of the output, even while a run commits, rewrites with `--force` or was killed mid-publication.
An output written before snapshots existed is read by listing its directories.
"""
from __future__ import annotations

from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline.store.schemas import DATASETS, PARTITION_COLUMNS, SCHEMAS, partition_schema
from pipeline.store.snapshots import Snapshot, current_snapshot

# A read that outlives the retention of its snapshot finds a file gone; it starts again on the newer one.
_READ_ATTEMPTS = 3

if TYPE_CHECKING:
    import pandas


def open_dataset(directory: str | Path, level: str = "sentences",
                 snapshot: Snapshot | None = None) -> ds.Dataset:
    """The `level` dataset of an output directory as a pyarrow Dataset with the declared schema.

    Its files are those of `snapshot`, by default the output's current one. Partition columns are read
    as plain strings (never inferred).
    """
    if level not in DATASETS:
        raise ValueError(f"level must be one of {', '.join(DATASETS)}, got {level!r}")
    partitioning = None
    if PARTITION_COLUMNS[level]:
        partitioning = ds.partitioning(partition_schema(level), flavor="hive")
    snapshot = snapshot or current_snapshot(directory)
    if snapshot is not None:
        return ds.dataset(snapshot.files(level), schema=SCHEMAS[level], format="parquet",
                          partitioning=partitioning, partition_base_dir=str(snapshot.base_dir(level)))
    path = Path(directory) / level
    if not path.is_dir():
        raise FileNotFoundError(f"no {level} dataset in {directory} (expected the directory {path})")
    # Files whose names start with `.` or `_` (a write in progress) are left out by the listing.
    return ds.dataset(path, schema=SCHEMAS[level], format="parquet", partitioning=partitioning)


def _condition(column: str, value: Any) -> ds.Expression:
    if isinstance(value, (list, tuple, set, frozenset)):
        return pc.field(column).isin(list(value))
    if value is None:
        return pc.field(column).is_null()
    return pc.field(column) == value


def read_output(directory: str | Path, level: str = "sentences", columns: list[str] | None = None,
                snapshot: Snapshot | None = None, **filters: Any) -> pandas.DataFrame:
    """One dataset (`documents`, `paragraphs`, `sentences`, `rejects` or `removed`) as a DataFrame.

    Each filter is `column=value` or `column=[values]` (None matches nulls), combined with AND and
    pushed down to the Parquet scan, e.g. `read_output("output", src_lang="ar", status="translated")`.
    Pass one `snapshot=current_snapshot(directory)` to several calls to read them from the same state.
    """
    attempts_left = 1 if snapshot is not None else _READ_ATTEMPTS
    while True:
        attempts_left -= 1
        try:
            return _read(directory, level, columns, snapshot, filters)
        except FileNotFoundError:
            if not attempts_left or current_snapshot(directory) is None:
                raise


def _read(directory: str | Path, level: str, columns: list[str] | None, snapshot: Snapshot | None,
          filters: dict[str, Any]) -> pandas.DataFrame:
    dataset = open_dataset(directory, level, snapshot)
    names = set(dataset.schema.names)
    unknown = sorted(set(filters) - names) + sorted(set(columns or ()) - names)
    if unknown:
        raise ValueError(f"unknown column(s) for {level}: {', '.join(unknown)}; "
                         f"columns are: {', '.join(dataset.schema.names)}")
    conditions = [_condition(column, value) for column, value in filters.items()]
    expression = reduce(lambda left, right: left & right, conditions) if conditions else None
    table: pa.Table = dataset.to_table(columns=columns, filter=expression)
    return table.to_pandas()
