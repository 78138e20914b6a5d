"""Persistent translation cache: (model, revision, decoding, source text) -> English, in SQLite.

Several processes (Airflow tasks) may share one cache file: it uses WAL journaling and a busy timeout,
and reads or writes a whole batch in one transaction. Only real translations are stored.
"""

from __future__ import annotations

import hashlib
import sqlite3
from pathlib import Path
from typing import Iterable, Mapping, Sequence

_SCHEMA = """
CREATE TABLE IF NOT EXISTS translations (
    model TEXT NOT NULL,
    revision TEXT NOT NULL,
    decoding TEXT NOT NULL,
    source_hash TEXT NOT NULL,
    en_text TEXT NOT NULL,
    PRIMARY KEY (model, revision, decoding, source_hash)
) WITHOUT ROWID
"""
_BUSY_TIMEOUT_MS = 60_000
_MAX_PARAMS = 500


def source_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


class TranslationCache:
    """English by source text for one model revision and decoding setup (``decoding``, e.g. ``beams=1``)."""

    def __init__(self, path: Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(self.path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
        self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.execute(_SCHEMA)

    def get_many(self, model: str, revision: str, decoding: str, texts: Sequence[str]) -> dict[str, str]:
        """Cached English for those of ``texts`` that have it, keyed by source text."""
        by_hash: dict[str, list[str]] = {}
        for text in texts:
            by_hash.setdefault(source_hash(text), []).append(text)
        hashes = list(by_hash)
        found: dict[str, str] = {}
        self._db.execute("BEGIN")
        try:
            for start in range(0, len(hashes), _MAX_PARAMS):
                chunk = hashes[start:start + _MAX_PARAMS]
                rows = self._db.execute(
                    "SELECT source_hash, en_text FROM translations WHERE model = ? AND revision = ? AND "
                    f"decoding = ? AND source_hash IN ({','.join('?' * len(chunk))})",
                    (model, revision, decoding, *chunk),
                )
                for digest, en_text in rows:
                    for text in by_hash[digest]:
                        found[text] = en_text
        finally:
            self._db.execute("COMMIT")
        return found

    def put_many(
        self, model: str, revision: str, decoding: str, pairs: Mapping[str, str] | Iterable[tuple[str, str]]
    ) -> None:
        """Store source -> English pairs in one transaction; an existing entry is kept."""
        items = pairs.items() if isinstance(pairs, Mapping) else pairs
        rows = [(model, revision, decoding, source_hash(src), en) for src, en in items]
        if not rows:
            return
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.executemany("INSERT OR IGNORE INTO translations VALUES (?, ?, ?, ?, ?)", rows)
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    def __len__(self) -> int:
        return self._db.execute("SELECT count(*) FROM translations").fetchone()[0]

    def close(self) -> None:
        self._db.close()
