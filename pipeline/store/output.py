"""Write stage: Parquet parts written atomically and idempotently, and recovery after a crash.

Layout: `DIR/<dataset>/src_lang=<lang>/part-<key>.parquet` (rejects: `DIR/rejects/part-<key>.parquet`).
`<key>` is a hash of the shard's content (its doc_ids and reject keys), so a retried shard rewrites
its own files instead of adding new ones. Every file is written under a hidden temporary name
(`.part-<key>.parquet.<random>.tmp`, ignored by pyarrow, pandas, DuckDB and Polars) and then renamed
over its final name with `os.replace`.

A shard's parts are first written into a hidden staging directory outside the datasets
(`DIR/.staging/<key>-<random>/<dataset>~<partition>~part-<key>.parquet`), where no reader and no glob of
a dataset looks. The shard is committed by writing `COMMITTED.json` into that directory (atomically: it
names the files and the replaced documents); then its parts are renamed into the datasets, documents
first, so that a visible paragraph or sentence row always has its document, and only then are the
replaced rows of other parts removed, so that a rewrite never leaves a document absent. `recover()`
discards a staging directory without its marker (a crash before the commit: nothing of it was ever
visible) and completes one with it (a crash during publication). Paragraph and sentence parts of a key
without a documents part (left by versions that wrote parts in place) are removed too. Each commit and
each recovery ends by taking a snapshot (pipeline.store.snapshots): what snapshot readers see changes
only then, from one whole state to the next.

An `OutputStore` keeps an index of the `documents` and `rejects` parts (the few columns the decisions
need). Its own writes update the index directly; every other change is found by listing the directories
and comparing each part's (inode, mtime, size) with what was read, so only parts added, rewritten or
removed by another process are read again. Work per shard therefore stays constant as the output grows.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import uuid
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import quote

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipeline.errors import ConfigurationError
from pipeline.store.files import (TEMP_SUFFIX, temporary_name, write_parquet, write_parquet_atomic,
                                  write_text_atomic)
from pipeline.store.schemas import DATASETS, PARTITION_COLUMNS, SCHEMAS, file_schema
from pipeline.store.snapshots import take_snapshot, update_snapshot

PART_PREFIX = "part-"
PART_SUFFIX = ".parquet"
STAGING_DIR = ".staging"
COMMIT_MARKER = "COMMITTED.json"
PUBLISH_ORDER = ("documents", "paragraphs", "sentences", "removed")
# The datasets whose rows belong to a document of `documents/`: written, replaced and removed with it.
DOCUMENT_ROWS = PUBLISH_ORDER[1:]
_DOCUMENT_INDEX_COLUMNS = ["doc_id", "run_id", "models_fingerprint", "source_path", "source_record",
                           "paragraph_langs"]
_REJECT_INDEX_COLUMNS = ["source_path", "source_record", "reason"]


class OutputError(ConfigurationError):
    """The output directory cannot be used (missing permissions, not a directory, ...)."""


def part_key(doc_ids: Iterable[str], reject_keys: Iterable[tuple[str, str | None, str]] = ()) -> str:
    """Name of a shard's parts, derived from what it holds so a retry lands on the same files."""
    digest = hashlib.sha256()
    for doc_id in sorted(doc_ids):
        digest.update(b"d\0" + doc_id.encode() + b"\n")
    for path, record, reason in sorted(reject_keys, key=lambda key: (key[0], key[1] or "", key[2])):
        digest.update(f"r\0{path}\0{record or ''}\0{reason}\n".encode())
    return digest.hexdigest()[:20]


def staged_name(relative: str) -> str:
    """The name a part waits under in a shard's staging directory: flat, as every directory the
    staging holds costs its removal when the shard is published."""
    return relative.replace(os.sep, "~")


def key_of(path: Path) -> str:
    """The shard key in a part file name."""
    return path.name[len(PART_PREFIX):-len(PART_SUFFIX)]


def _read_file(path: Path, columns: list[str] | None = None) -> pa.Table | None:
    """One part file on its own (no partition discovery); None if another writer just removed it."""
    try:
        return pq.ParquetFile(path).read(columns=columns)
    except FileNotFoundError:
        return None


_Signature = tuple[int, int, int]


def _signature(stat: os.stat_result) -> _Signature:
    # The inode changes on every atomic rewrite, even within one mtime tick and at the same size.
    return stat.st_ino, stat.st_mtime_ns, stat.st_size


class _PartIndex:
    """Some columns of every part of one dataset, as rows; a part is read again only when its file changed.

    `refresh` reports the rows of parts that changed or disappeared (`dropped`) and of parts that
    appeared or changed (`added`), so that the caller can keep its own lookups current.
    """

    def __init__(self, columns: list[str]) -> None:
        self.columns = columns
        self.rows: dict[Path, list[dict]] = {}
        self._signatures: dict[Path, _Signature] = {}

    def refresh(self, paths: Iterable[Path]) -> tuple[dict[Path, list[dict]], dict[Path, list[dict]]]:
        dropped: dict[Path, list[dict]] = {}
        added: dict[Path, list[dict]] = {}
        on_disk: dict[Path, _Signature] = {}
        for path in paths:
            try:
                on_disk[path] = _signature(path.stat())
            except FileNotFoundError:
                continue
        for path in [path for path, known in self._signatures.items() if on_disk.get(path) != known]:
            dropped[path] = self.forget(path)
        for path in on_disk.keys() - self._signatures.keys():
            rows = self._read(path)
            if rows is not None:
                added[path] = rows
        return dropped, added

    def _read(self, path: Path) -> list[dict] | None:
        # The signature comes from the open file, so it always belongs to the content read.
        try:
            with open(path, "rb") as handle:
                signature = _signature(os.fstat(handle.fileno()))
                rows = pq.ParquetFile(handle).read(columns=self.columns).to_pylist()
        except FileNotFoundError:
            return None
        self._signatures[path] = signature
        self.rows[path] = rows
        return rows

    def record(self, path: Path, table: pa.Table) -> list[dict]:
        """`table` was just written to `path` by this process (under the lock): index it without reading."""
        rows = table.select(self.columns).to_pylist()
        self._signatures[path] = _signature(path.stat())
        self.rows[path] = rows
        return rows

    def forget(self, path: Path) -> list[dict]:
        self._signatures.pop(path, None)
        return self.rows.pop(path, [])


@dataclass(frozen=True, slots=True)
class CommittedDocument:
    """A document present in `documents/`, and which part holds it."""

    doc_id: str
    key: str
    run_id: str
    models_fingerprint: str
    source_path: str
    source_record: str | None
    paragraph_langs: list[str] | None = None


class _CommittedDocuments(Mapping[str, CommittedDocument]):
    """Read-only view of the committed documents by doc_id, kept current by its OutputStore.

    A doc_id is tracked in every part that holds it (after a crash one may be in two partitions of a
    key for a moment); the last part in path order answers, as a full scan in that order would.
    """

    def __init__(self) -> None:
        self._parts: dict[str, dict[Path, CommittedDocument]] = {}

    def __getitem__(self, doc_id: str) -> CommittedDocument:
        parts = self._parts[doc_id]
        return parts[max(parts)]

    def __iter__(self) -> Iterator[str]:
        return iter(self._parts)

    def __len__(self) -> int:
        return len(self._parts)

    def add(self, path: Path, rows: Iterable[dict]) -> None:
        key = key_of(path)
        for row in rows:
            self._parts.setdefault(row["doc_id"], {})[path] = CommittedDocument(key=key, **row)

    def drop(self, path: Path, rows: Iterable[dict]) -> None:
        for row in rows:
            parts = self._parts.get(row["doc_id"])
            if parts is not None:
                parts.pop(path, None)
                if not parts:
                    del self._parts[row["doc_id"]]


@dataclass(frozen=True, slots=True)
class Recovery:
    """What `recover()` cleaned up."""

    temporary_files: int = 0
    orphan_parts: int = 0
    discarded_shards: int = 0     # staged, never committed
    completed_shards: int = 0     # committed, publication finished by recovery

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class OutputStore:
    """The five datasets under one output directory."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self._indexes = {"documents": _PartIndex(_DOCUMENT_INDEX_COLUMNS),
                         "rejects": _PartIndex(_REJECT_INDEX_COLUMNS)}
        self._committed = _CommittedDocuments()
        # Parts changed since the last snapshot: their datasets, and (inode, rows) of those written here.
        self._changed: dict[Path, str] = {}
        self._written: dict[Path, tuple[int, int]] = {}

    def dataset_dir(self, dataset: str) -> Path:
        return self.root / dataset

    def prepare(self) -> None:
        """Create the dataset directories and prove the output is writable, or raise OutputError."""
        try:
            for dataset in DATASETS:
                self.dataset_dir(dataset).mkdir(parents=True, exist_ok=True)
            (self.root / "runs").mkdir(exist_ok=True)
            probe = temporary_name(self.root / "probe")
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as error:
            reason = error.strerror or str(error)
            raise OutputError(f"cannot write to output directory {self.root}: {reason}") from error

    @contextmanager
    def lock(self) -> Iterator[None]:
        """Exclusive lock on the output while parts are rewritten (shards may run in parallel)."""
        with open(self.root / ".lock", "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def part_files(self, dataset: str, key: str | None = None) -> list[Path]:
        name = f"{PART_PREFIX}{key}{PART_SUFFIX}" if key else f"{PART_PREFIX}*{PART_SUFFIX}"
        directory = self.dataset_dir(dataset)
        if not directory.is_dir():
            return []
        pattern = f"*/{name}" if PARTITION_COLUMNS[dataset] else name
        return sorted(directory.glob(pattern))

    def committed_documents(self) -> Mapping[str, CommittedDocument]:
        """Every document in `documents/`, by doc_id, as the directory is now.

        Reads only the parts that changed since the last call. The view returned stays the same
        object and follows later calls and this store's own writes; hold the lock to decide against it.
        """
        dropped, added = self._indexes["documents"].refresh(self.part_files("documents"))
        for path, rows in dropped.items():
            self._committed.drop(path, rows)
        for path, rows in added.items():
            self._committed.add(path, rows)
        return self._committed

    def _store(self, dataset: str, table: pa.Table, path: Path) -> None:
        """Write one part file and keep this store's index of `dataset` current."""
        write_parquet_atomic(table, path)
        self._note_change(dataset, path, table.num_rows)
        index = self._indexes.get(dataset)
        if index is not None:
            self._forget(dataset, path)
            rows = index.record(path, table)
            if dataset == "documents":
                self._committed.add(path, rows)

    def _remove(self, dataset: str, path: Path) -> None:
        path.unlink(missing_ok=True)
        self._note_change(dataset, path)
        self._forget(dataset, path)

    def _note_change(self, dataset: str, path: Path, rows: int | None = None) -> None:
        """`path` was written, replaced or removed since the last snapshot; `rows`: this store wrote it."""
        self._changed[path] = dataset
        if rows is not None:
            self._written[path] = (path.stat().st_ino, rows)

    def _snapshot(self, *, every_part: bool) -> None:
        """Take the snapshot: of every part after a recovery, else of the parts noted as changed."""
        if every_part:
            take_snapshot(self.root, self._all_parts(), self._written)
        else:
            update_snapshot(self.root, self._changed, self._written, self._all_parts)
        self._changed.clear()
        self._written.clear()

    def _forget(self, dataset: str, path: Path) -> None:
        index = self._indexes.get(dataset)
        if index is not None:
            rows = index.forget(path)
            if dataset == "documents":
                self._committed.drop(path, rows)

    def _part_tables(self, dataset: str, table: pa.Table, key: str) -> dict[Path, pa.Table]:
        """The rows of `table` (full dataset schema) as part `key`: final path -> file table."""
        table = table.cast(SCHEMAS[dataset])
        partition_columns = PARTITION_COLUMNS[dataset]
        if not partition_columns:
            path = self.dataset_dir(dataset) / f"{PART_PREFIX}{key}{PART_SUFFIX}"
            return {path: table.cast(file_schema(dataset))} if table.num_rows else {}
        (column,) = partition_columns
        parts = {}
        values = sorted(pc.unique(table.column(column)).to_pylist())
        for value in values:
            # One partition (most shards of one language) takes the rows as they are, without a copy.
            chosen = table if len(values) == 1 else table.filter(pc.equal(table.column(column), value))
            rows = chosen.drop_columns([column])
            partition = self.dataset_dir(dataset) / f"{column}={quote(value, safe='')}"
            parts[partition / f"{PART_PREFIX}{key}{PART_SUFFIX}"] = rows.cast(file_schema(dataset))
        return parts

    def _remove_stale(self, dataset: str, key: str, written: Iterable[Path]) -> None:
        # A part of the same key in another partition can only hold an earlier attempt's rows.
        for stale in set(self.part_files(dataset, key)) - set(written):
            self._remove(dataset, stale)

    def write_part(self, dataset: str, table: pa.Table, key: str) -> list[Path]:
        """Write the rows of `table` (full dataset schema) as part `key`, one file per partition, in place."""
        parts = self._part_tables(dataset, table, key)
        for path, rows in parts.items():
            self._store(dataset, rows, path)
        self._remove_stale(dataset, key, parts)
        return list(parts)

    def _drop_rows(self, dataset: str, path: Path, keep: pa.Array) -> int:
        """Rewrite `path` keeping the rows where `keep` is true; remove it when none is left."""
        table = _read_file(path)
        if table is None:
            return 0
        kept = table.filter(keep)
        dropped = table.num_rows - kept.num_rows
        if dropped and kept.num_rows:
            self._store(dataset, kept, path)
        elif dropped:
            self._remove(dataset, path)
        return dropped

    def remove_documents(self, doc_ids_by_key: Mapping[str, set[str]]) -> int:
        """Remove every row of these documents, documents first so they are uncommitted before the rest."""
        removed = 0
        for dataset in PUBLISH_ORDER:
            for key, doc_ids in doc_ids_by_key.items():
                for path in self.part_files(dataset, key):
                    ids = _read_file(path, ["doc_id"])
                    if ids is None:
                        continue
                    keep = pc.invert(pc.is_in(ids.column("doc_id"), pa.array(sorted(doc_ids), pa.string())))
                    removed += self._drop_rows(dataset, path, keep)
        return removed

    def upsert_rejects(self, table: pa.Table, key: str,
                       accepted: Iterable[tuple[str, str | None]]) -> list[Path]:
        """Write this shard's rejects, first removing rows of the same (source_path, source_record,
        reason) from older parts, and rejects of sources that are now accepted documents."""
        new_keys = {(row["source_path"], row["source_record"], row["reason"])
                    for row in table.select(["source_path", "source_record", "reason"]).to_pylist()}
        accepted_sources = set(accepted)
        own_name = f"{PART_PREFIX}{key}{PART_SUFFIX}"
        index = self._indexes["rejects"]
        index.refresh(self.part_files("rejects"))
        for path, existing in list(index.rows.items()):
            if path.name == own_name:
                continue
            keep = [
                (row["source_path"], row["source_record"], row["reason"]) not in new_keys
                and (row["source_path"], row["source_record"]) not in accepted_sources
                for row in existing
            ]
            if not all(keep):
                self._drop_rows("rejects", path, pa.array(keep, pa.bool_()))
        if table.num_rows == 0:
            self._remove("rejects", self.dataset_dir("rejects") / own_name)
        return self.write_part("rejects", table, key)

    def commit_shard(self, key: str, tables: Mapping[str, pa.Table], replaced: Mapping[str, set[str]],
                     accepted: Iterable[tuple[str, str | None]]) -> list[Path]:
        """Write one shard: staged, committed by its marker, published; replaced rows removed last.

        Each dataset's table is taken from `tables` once, when its parts are staged, and let go after:
        a mapping that builds its tables on access holds one at a time.
        """
        staging = self.root / STAGING_DIR / f"{key}-{uuid.uuid4().hex[:8]}"
        staging.mkdir(parents=True)
        rows: dict[str, dict[Path, int]] = {}
        indexed: dict[str, dict[Path, pa.Table]] = {}
        for dataset in PUBLISH_ORDER:
            parts = self._part_tables(dataset, tables[dataset], key)
            for path, part in parts.items():
                write_parquet(part, staging / staged_name(str(path.relative_to(self.root))))
            rows[dataset] = {path: part.num_rows for path, part in parts.items()}
            if dataset in self._indexes:
                indexed[dataset] = parts
        marker = {"key": key,
                  "files": {dataset: [str(path.relative_to(self.root)) for path in dataset_rows]
                            for dataset, dataset_rows in rows.items()},
                  "replaced": {other: sorted(ids) for other, ids in replaced.items() if other != key}}
        write_text_atomic(json.dumps(marker), staging / COMMIT_MARKER)
        self._publish(staging, marker, indexed, rows)
        written = [path for dataset_rows in rows.values() for path in dataset_rows]
        written += self.upsert_rejects(tables["rejects"], key, accepted)
        self._snapshot(every_part=False)
        return written

    def _publish(self, staging: Path, marker: Mapping, tables: Mapping[str, Mapping[Path, pa.Table]],
                 rows: Mapping[str, Mapping[Path, int]]) -> None:
        """Move a committed shard's staged parts into the datasets and remove the rows it replaces.

        `tables` holds the parts of the indexed datasets and `rows` every part's row count, when known.
        Every step can be repeated: recovery calls it again for a shard whose publication a crash cut.
        """
        key = marker["key"]
        for dataset in PUBLISH_ORDER:
            finals = [self.root / relative for relative in marker["files"][dataset]]
            for final in finals:
                staged = staging / staged_name(str(final.relative_to(self.root)))
                if not staged.exists():   # staged by a version that kept the datasets' folders
                    staged = staging / final.relative_to(self.root)
                if staged.exists():
                    final.parent.mkdir(parents=True, exist_ok=True)
                    self._forget(dataset, final)
                    os.replace(staged, final)
                    self._note_change(dataset, final, rows.get(dataset, {}).get(final))
                    table = tables.get(dataset, {}).get(final)
                    index = self._indexes.get(dataset)
                    if table is not None and index is not None:
                        indexed_rows = index.record(final, table)
                        if dataset == "documents":
                            self._committed.add(final, indexed_rows)
            self._remove_stale(dataset, key, finals)
        self.remove_documents({other: set(ids) for other, ids in marker["replaced"].items()})
        shutil.rmtree(staging, ignore_errors=True)

    def _recover_staged(self) -> tuple[int, int]:
        """Discard staged shards without a commit marker; finish publishing those with one."""
        discarded = completed = 0
        staging_root = self.root / STAGING_DIR
        if not staging_root.is_dir():
            return 0, 0
        for staging in sorted(staging_root.iterdir()):
            marker_path = staging / COMMIT_MARKER
            if marker_path.is_file():
                self._publish(staging, json.loads(marker_path.read_text(encoding="utf-8")), {}, {})
                completed += 1
            else:
                shutil.rmtree(staging, ignore_errors=True)
                discarded += 1
        return discarded, completed

    def recover(self) -> Recovery:
        """Remove what a crashed run left: temporary files, uncommitted shards, parts without a documents
        part; finish publishing a committed shard. Call it holding the lock."""
        discarded, completed = self._recover_staged()
        temporary = 0
        for dataset in DATASETS:
            for path in self.dataset_dir(dataset).rglob(f".*{TEMP_SUFFIX}"):
                path.unlink(missing_ok=True)
                temporary += 1
        # Parts of a key without a documents part: left by versions that wrote parts in place. Decided
        # from the file names alone, so a run's start costs the same however large the output grows.
        committed_keys = {key_of(path) for path in self.part_files("documents")}
        orphan_parts = 0
        for dataset in DOCUMENT_ROWS:
            for path in self.part_files(dataset):
                if key_of(path) not in committed_keys:
                    path.unlink(missing_ok=True)
                    orphan_parts += 1
        for dataset in DATASETS:
            for directory in self.dataset_dir(dataset).glob("*=*"):
                if directory.is_dir() and not any(directory.iterdir()):
                    directory.rmdir()
        self._snapshot(every_part=True)
        return Recovery(temporary, orphan_parts, discarded, completed)

    def _all_parts(self) -> dict[str, list[Path]]:
        return {dataset: self.part_files(dataset) for dataset in DATASETS}

    def row_counts(self) -> dict[str, int]:
        """Rows in each dataset, from the Parquet footers."""
        return {dataset: sum(pq.ParquetFile(path).metadata.num_rows for path in self.part_files(dataset))
                for dataset in DATASETS}
