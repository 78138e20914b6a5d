"""The persistent translation cache: keys, batches, and several processes writing at once."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from pipeline.translation_cache import TranslationCache

REPO_ROOT = Path(__file__).resolve().parent.parent


def test_lookup_is_keyed_by_model_revision_and_decoding(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path / "cache.sqlite")
    cache.put_many("m", "rev1", "marian:fp32;beams=1", {"صباح الخير": "Good morning", "شكرا": "Thanks"})
    assert cache.get_many("m", "rev1", "marian:fp32;beams=1", ["صباح الخير", "غير موجود", "شكرا"]) == {
        "صباح الخير": "Good morning",
        "شكرا": "Thanks",
    }
    assert cache.get_many("m", "rev2", "marian:fp32;beams=1", ["صباح الخير"]) == {}
    assert cache.get_many("m", "rev1", "marian:fp32;beams=4", ["صباح الخير"]) == {}
    assert cache.get_many("other", "rev1", "marian:fp32;beams=1", ["صباح الخير"]) == {}
    cache.put_many("m", "rev1", "marian:fp32;beams=1", {"شكرا": "Thank you"})  # first answer kept
    assert cache.get_many("m", "rev1", "marian:fp32;beams=1", ["شكرا"]) == {"شكرا": "Thanks"}
    cache.close()


def test_large_batches_span_the_parameter_limit(tmp_path: Path) -> None:
    cache = TranslationCache(tmp_path / "cache.sqlite")
    pairs = {f"جملة {i}": f"sentence {i}" for i in range(1800)}
    cache.put_many("m", "r", "d", pairs)
    found = cache.get_many("m", "r", "d", list(pairs) + ["missing"])
    assert found == pairs and len(cache) == 1800
    cache.close()


_WRITER = """
import sys
from pipeline.translation_cache import TranslationCache
cache = TranslationCache(sys.argv[1])
start = int(sys.argv[2])
for batch in range(20):
    first = start + batch * 50
    cache.put_many("m", "r", "d", {f"src {first + i}": f"en {first + i}" for i in range(50)})
    cache.get_many("m", "r", "d", [f"src {i}" for i in range(0, 2000, 7)])
cache.close()
"""


def test_two_processes_write_concurrently(tmp_path: Path) -> None:
    path = tmp_path / "shared.sqlite"
    TranslationCache(path).close()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(path), str(start)],
            cwd=REPO_ROOT,
            stderr=subprocess.PIPE,
            text=True,
        )
        for start in (0, 500)
    ]
    # The ranges overlap by 500 keys, so both processes also race on the same rows.
    errors = [writer.communicate(timeout=120)[1] for writer in writers]
    assert [writer.returncode for writer in writers] == [0, 0], errors
    cache = TranslationCache(path)
    assert len(cache) == 1500
    assert cache.get_many("m", "r", "d", ["src 1499", "src 0"]) == {"src 1499": "en 1499", "src 0": "en 0"}
    cache.close()
