"""The translation store: keys, first answer kept, and processes writing at once without a database."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from project_paths import REPO_ROOT

from pipeline.store.translations import TranslationStore, key_directory


def test_lookup_is_keyed_by_model_revision_and_decoding(tmp_path: Path) -> None:
    store = TranslationStore(tmp_path / "store")
    store.put_many("m", "rev1", "marian:fp32;beams=1", {"صباح الخير": "Good morning", "شكرا": "Thanks"})
    assert store.get_many("m", "rev1", "marian:fp32;beams=1", ["صباح الخير", "غير موجود", "شكرا"]) == {
        "صباح الخير": "Good morning",
        "شكرا": "Thanks",
    }
    assert store.get_many("m", "rev2", "marian:fp32;beams=1", ["صباح الخير"]) == {}
    assert store.get_many("m", "rev1", "marian:fp32;beams=4", ["صباح الخير"]) == {}
    assert store.get_many("other", "rev1", "marian:fp32;beams=1", ["صباح الخير"]) == {}
    store.put_many("m", "rev1", "marian:fp32;beams=1", {"شكرا": "Thank you"})  # first answer kept
    assert store.get_many("m", "rev1", "marian:fp32;beams=1", ["شكرا"]) == {"شكرا": "Thanks"}


def test_parts_are_append_only_and_empty_english_is_not_stored(tmp_path: Path) -> None:
    store = TranslationStore(tmp_path)
    first = store.put_many("m", "r", "d", {"a": "A", "b": ""})
    assert store.put_many("m", "r", "d", {"c": ""}) is None     # nothing real: no part
    second = store.put_many("m", "r", "d", [("b", "B")])
    assert first is not None and second is not None and first.parent == second.parent
    assert first.parent.name == key_directory("m", "r", "d")
    assert sorted(path.name for path in first.parent.iterdir()) == sorted([first.name, second.name])
    assert first.name < second.name   # names sort by time written: the earliest answer is read first
    assert store.get_many("m", "r", "d", ["a", "b", "c"]) == {"a": "A", "b": "B"}
    # A half-written part (the hidden temporary name of a writer that died) is never read.
    (first.parent / f".{first.name}.dead.tmp").write_bytes(b"not parquet")
    assert store.get_many("m", "r", "d", ["a"]) == {"a": "A"} and len(store) == 2


_WRITER = """
import sys
from pipeline.store.translations import TranslationStore
store = TranslationStore(sys.argv[1])
start = int(sys.argv[2])
for batch in range(20):
    first = start + batch * 50
    store.put_many("m", "r", "d", {f"src {first + i}": f"en {first + i} by {start}" for i in range(50)})
    store.get_many("m", "r", "d", [f"src {i}" for i in range(0, 2000, 7)])
"""


def test_processes_write_concurrently_and_every_reader_agrees(tmp_path: Path) -> None:
    writers = [
        subprocess.Popen([sys.executable, "-c", _WRITER, str(tmp_path), str(start)], cwd=REPO_ROOT,
                         stderr=subprocess.PIPE, text=True)
        for start in (0, 500, 250)
    ]
    # The ranges overlap, so the processes also race on the same keys.
    errors = [writer.communicate(timeout=120)[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0, 0], errors
    store = TranslationStore(tmp_path)
    assert len(store) == 1500
    texts = [f"src {i}" for i in range(1500)]
    answers = store.get_many("m", "r", "d", texts)
    assert set(answers) == set(texts)
    assert all(answer.startswith(f"en {text[4:]} by ") for text, answer in answers.items())
    assert TranslationStore(tmp_path).get_many("m", "r", "d", texts) == answers   # the same for every reader
    assert not list(tmp_path.rglob("*.tmp"))
