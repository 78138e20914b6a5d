"""Translation store: (model, revision, decoding, source hash) -> English, as append-only Parquet parts.

Translation tasks of one run may run on different machines that share only the output directory, where
SQLite's locking cannot be trusted (network file systems). So nothing is ever updated in place: each
`put_many` writes one new part, atomically (hidden temporary name, then rename), into the directory of
its key, `STORE/<digest of model, revision, decoding>/<time>-<random>.parquet`. Readers list a key's
parts in name order and take the first English found for a source hash: the earliest translation wins,
for every reader and forever after, even when two tasks translated the same sentence at the same time.
Only real translations are stored; a sentence the model left empty is translated again next time.
"""
from __future__ import annotations

import hashlib
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path

STORE_DIR = ".translations"
PART_SUFFIX = ".parquet"
_COLUMNS = ("source_hash", "en_text")


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def key_directory(model: str, revision: str, decoding: str) -> str:
    """The directory name of one model revision and decoding set-up."""
    return hashlib.sha256(f"{model}\0{revision}\0{decoding}".encode()).hexdigest()[:24]


class TranslationStore:
    """English by source text for one model revision and decoding set-up (`decoding`, e.g. `beams=1`)."""

    def __init__(self, root: Path):
        self.root = Path(root)

    def _parts(self, model: str, revision: str, decoding: str) -> list[Path]:
        directory = self.root / key_directory(model, revision, decoding)
        if not directory.is_dir():
            return []
        return sorted(path for path in directory.iterdir()
                      if path.name.endswith(PART_SUFFIX) and not path.name.startswith("."))

    def get_many(self, model: str, revision: str, decoding: str, texts: Sequence[str]) -> dict[str, str]:
        """Stored English for those of `texts` that have it, keyed by source text."""
        import pyarrow as pa
        import pyarrow.compute as pc
        import pyarrow.parquet as pq

        missing = {source_hash(text): text for text in texts}   # what no earlier part answered yet
        found: dict[str, str] = {}
        for part in self._parts(model, revision, decoding):
            if not missing:
                break
            try:
                table = pq.read_table(part, columns=list(_COLUMNS))
            except FileNotFoundError:
                continue
            wanted = pa.array(list(missing), pa.string())
            table = table.filter(pc.is_in(table["source_hash"], value_set=wanted))
            for digest, en_text in zip(table["source_hash"].to_pylist(), table["en_text"].to_pylist()):
                if digest in missing:
                    found[missing.pop(digest)] = en_text
        return found

    def put_many(self, model: str, revision: str, decoding: str,
                 pairs: Mapping[str, str] | Iterable[tuple[str, str]]) -> Path | None:
        """Store source -> English pairs as one new part; returns it (None when there was nothing)."""
        import pyarrow as pa

        from pipeline.store.output import write_parquet_atomic

        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        rows = {source_hash(src): en for src, en in items if en}
        if not rows:
            return None
        table = pa.table({"source_hash": pa.array(list(rows), pa.string()),
                          "en_text": pa.array(list(rows.values()), pa.string())})
        name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:12]}{PART_SUFFIX}"   # sorts by time written
        path = self.root / key_directory(model, revision, decoding) / name
        write_parquet_atomic(table, path)
        return path

    def __len__(self) -> int:
        """Distinct source hashes stored, over every key."""
        import pyarrow.parquet as pq

        hashes: set[tuple[str, str]] = set()
        if not self.root.is_dir():
            return 0
        for directory in self.root.iterdir():
            if directory.is_dir():
                for part in directory.glob(f"[!.]*{PART_SUFFIX}"):
                    column = pq.read_table(part, columns=["source_hash"])["source_hash"].to_pylist()
                    hashes.update((directory.name, digest) for digest in column)
        return len(hashes)
