"""Read an output directory back, for notebooks: one dataset as a pandas DataFrame, filtered at the source."""
from __future__ import annotations

from functools import reduce
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds

from pipeline.store.schemas import DATASETS, PARTITION_COLUMNS, SCHEMAS, partition_schema

if TYPE_CHECKING:
    import pandas


def open_dataset(directory: str | Path, level: str = "sentences") -> ds.Dataset:
    """The `level` dataset of an output directory as a pyarrow Dataset with the declared schema.

    Partition columns are read as plain strings (never inferred), and files whose names start with
    `.` or `_` (temporary files of a write in progress) are ignored.
    """
    if level not in DATASETS:
        raise ValueError(f"level must be one of {', '.join(DATASETS)}, got {level!r}")
    path = Path(directory) / level
    if not path.is_dir():
        raise FileNotFoundError(f"no {level} dataset in {directory} (expected the directory {path})")
    partitioning = None
    if PARTITION_COLUMNS[level]:
        partitioning = ds.partitioning(partition_schema(level), flavor="hive")
    return ds.dataset(path, schema=SCHEMAS[level], format="parquet", partitioning=partitioning)


def _condition(column: str, value: Any) -> ds.Expression:
    if isinstance(value, (list, tuple, set, frozenset)):
        return pc.field(column).isin(list(value))
    if value is None:
        return pc.field(column).is_null()
    return pc.field(column) == value


def read_output(directory: str | Path, level: str = "sentences", columns: list[str] | None = None,
                **filters: Any) -> pandas.DataFrame:
    """One dataset (`documents`, `paragraphs`, `sentences` or `rejects`) as a DataFrame.

    Each filter is `column=value` or `column=[values]` (None matches nulls), combined with AND and
    pushed down to the Parquet scan, e.g. `read_output("output", src_lang="ar", status="translated")`.
    """
    dataset = open_dataset(directory, level)
    names = set(dataset.schema.names)
    unknown = sorted(set(filters) - names) + sorted(set(columns or ()) - names)
    if unknown:
        raise ValueError(f"unknown column(s) for {level}: {', '.join(unknown)}; "
                         f"columns are: {', '.join(dataset.schema.names)}")
    conditions = [_condition(column, value) for column, value in filters.items()]
    expression = reduce(lambda left, right: left & right, conditions) if conditions else None
    table: pa.Table = dataset.to_table(columns=columns, filter=expression)
    return table.to_pandas()
