"""Snapshots of an output: the exact part files of one committed state, for readers that must never see
a write in progress.

The part files in the datasets' directories are replaced in place and removed as shards commit, so a
reader that lists a directory during a commit (a `--force` rewrite, another shard size, a crashed
publication) can see a mixture of two states. Snapshot readers never list those directories. After each
commit, under the output's lock, the store takes a snapshot:

1. every part file of every dataset is hard-linked, once per version, under `DIR/.snapshots/parts/`, at
   its own relative path with its inode in the name (`part-<key>.<inode>.parquet`): the link keeps that
   version's bytes whatever later happens to the file in the dataset directory;
2. the list of those links, with their row counts, is written to `DIR/snapshot.json` through a temporary
   file and a rename: the one moment at which the new state becomes visible;
3. links that left the snapshot more than RETENTION_SECONDS ago are removed. A reader that took a
   snapshot's list therefore reads that same state for at least that long, however many commits follow.

The links cost no space while the dataset directories hold the same versions; a rewrite keeps the old
versions on disk for the retention time.
"""
from __future__ import annotations

import json
import os
import shutil
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from pipeline.store.files import write_text_atomic
from pipeline.store.schemas import DATASETS

SNAPSHOT_FILE = "snapshot.json"
LINKS_DIR = Path(".snapshots") / "parts"
_LINKS_PREFIX = f"{LINKS_DIR}/"
RETENTION_SECONDS = 15 * 60
FORMAT_VERSION = 1


@dataclass(frozen=True)
class Snapshot:
    """One committed state of an output: for each dataset, its part files (relative to the output) and
    their row counts. `files(level)` are the paths a reader opens, under the directory it was read from."""

    root: Path
    number: int
    committed_at: float
    parts: Mapping[str, Mapping[str, int]]
    retired: Mapping[str, float] = field(default_factory=dict)

    def files(self, level: str) -> list[str]:
        if level not in DATASETS:
            raise ValueError(f"level must be one of {', '.join(DATASETS)}, got {level!r}")
        return [str(self.root / relative) for relative in sorted(self.parts.get(level, {}))]

    def rows(self, level: str) -> int:
        return sum(self.parts.get(level, {}).values())

    def base_dir(self, level: str) -> Path:
        """The directory the hive partition paths of `level`'s files are relative to."""
        return self.root / LINKS_DIR / level

    def to_json(self) -> str:
        # Without indentation: json then encodes in C, ten times faster on an output of many parts.
        return json.dumps({"format": FORMAT_VERSION, "snapshot": self.number,
                           "committed_at": self.committed_at,
                           "datasets": {level: self.parts.get(level, {}) for level in DATASETS},
                           "retired": self.retired})


def current_snapshot(directory: str | Path) -> Snapshot | None:
    """The output's current snapshot, or None for an output written before snapshots existed."""
    root = Path(directory)
    try:
        data = json.loads((root / SNAPSHOT_FILE).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    return Snapshot(root, data["snapshot"], data["committed_at"], data["datasets"], data.get("retired", {}))


def snapshot_files(directory: str | Path, level: str = "sentences") -> list[str]:
    """The Parquet files of `level` in the output's current snapshot, for DuckDB, Polars or pyarrow.

    Take the snapshot once (`current_snapshot`) to read several datasets of the same state.
    """
    snapshot = current_snapshot(directory)
    if snapshot is None:
        raise FileNotFoundError(f"no {SNAPSHOT_FILE} in {directory}: not an output directory, or one "
                                "written by an older version (any run over it takes a snapshot)")
    return snapshot.files(level)


def _link_name(root: Path, part: Path, inode: int) -> Path:
    relative = part.relative_to(root)
    return LINKS_DIR / relative.with_name(f"{relative.stem}.{inode}{relative.suffix}")


def _link(source: Path, link: Path) -> None:
    link.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, link)
    except FileExistsError:
        pass
    except OSError:   # a file system without hard links: a copy keeps the version as well
        shutil.copyfile(source, link)


def take_snapshot(root: Path, parts_by_dataset: Mapping[str, Iterable[Path]],
                  written: Mapping[Path, tuple[int, int]] | None = None,
                  now: float | None = None) -> Snapshot:
    """Record every part file now in the datasets as the output's current snapshot, and remove the
    links no snapshot needs, those a crash left included.

    Hold the output's lock: the files must be one committed state, and no other writer may take a
    snapshot meanwhile. `written` gives (inode, rows) of parts the caller has just written, whose
    footers then need no reading.
    """
    previous = current_snapshot(root)
    known = _rows_by_link(previous)
    parts: dict[str, dict[str, int]] = {level: {} for level in DATASETS}
    for level in DATASETS:
        for part in parts_by_dataset.get(level, ()):
            _add_version(root, parts[level], part, known, written or {})
    snapshot = _record(root, previous, known, parts, now)
    _remove_links_outside(root, set(snapshot.retired)
                          | {relative for level_parts in parts.values() for relative in level_parts})
    return snapshot


def update_snapshot(root: Path, changed: Mapping[Path, str], written: Mapping[Path, tuple[int, int]],
                    list_parts: Callable[[], Mapping[str, Iterable[Path]]],
                    now: float | None = None) -> Snapshot:
    """The current snapshot with the parts in `changed` (path -> dataset; written, rewritten or removed
    since) as they are now: a commit's cost then grows with what it changed, not with the output.
    Without a snapshot yet, every part (`list_parts`) is recorded."""
    previous = current_snapshot(root)
    if previous is None:
        return take_snapshot(root, list_parts(), written, now)
    known = _rows_by_link(previous)
    parts = {level: dict(previous.parts.get(level, {})) for level in DATASETS}
    by_part = {_part_of(relative): (level, relative) for level, level_parts in parts.items()
               for relative in level_parts}
    for part, level in changed.items():
        replaced = by_part.get(str(part.relative_to(root)))
        if replaced is not None:
            del parts[replaced[0]][replaced[1]]
        _add_version(root, parts[level], part, known, written)
    return _record(root, previous, known, parts, now)


def _rows_by_link(snapshot: Snapshot | None) -> dict[str, int]:
    return {relative: rows for level_parts in (snapshot.parts.values() if snapshot else ())
            for relative, rows in level_parts.items()}


def _part_of(link: str) -> str:
    """The part file a link was made from, relative to the output: the link's path without its inode."""
    without_inode, _, suffix = link[len(_LINKS_PREFIX):].rsplit(".", 2)
    return f"{without_inode}.{suffix}"


def _add_version(root: Path, parts: dict[str, int], part: Path, known: Mapping[str, int],
                 written: Mapping[Path, tuple[int, int]]) -> None:
    """Link the version of `part` now on disk (once) and enter it with its row count; a part that is
    gone is left out."""
    try:
        inode = part.stat().st_ino
    except FileNotFoundError:
        return
    link = str(_link_name(root, part, inode))
    if link in known:
        parts[link] = known[link]
        return
    _link(part, root / link)
    inode_written, rows = written.get(part, (None, 0))
    parts[link] = rows if inode_written == inode else pq.read_metadata(root / link).num_rows


def _record(root: Path, previous: Snapshot | None, known: Mapping[str, int], parts: dict[str, dict[str, int]],
            now: float | None) -> Snapshot:
    """Write `parts` as the next snapshot, then remove the links whose retention has ended. `known` are
    the links of `previous` with their row counts."""
    now = time.time() if now is None else now
    live = {relative for level_parts in parts.values() for relative in level_parts}
    earlier = previous.retired if previous else {}
    retired = {relative: since for relative, since in earlier.items()
               if relative not in live and since > now - RETENTION_SECONDS}
    retired.update({relative: now for relative in known.keys() - live - retired.keys()})
    snapshot = Snapshot(root, (previous.number + 1) if previous else 1, now, parts, retired)
    write_text_atomic(snapshot.to_json(), root / SNAPSHOT_FILE)
    for expired in earlier.keys() - retired.keys() - live:
        (root / expired).unlink(missing_ok=True)
    return snapshot


def _remove_links_outside(root: Path, kept: set[str]) -> None:
    """Remove the links no snapshot within the retention time refers to (and those a crash left)."""
    links_root = root / LINKS_DIR
    if not links_root.is_dir():
        return
    for link in links_root.rglob("*.parquet"):
        if str(link.relative_to(root)) not in kept:
            link.unlink(missing_ok=True)
    for directory in sorted((path for path in links_root.rglob("*") if path.is_dir()), reverse=True):
        if not any(directory.iterdir()):
            directory.rmdir()
