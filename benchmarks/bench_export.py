"""Export speed and memory: pairs per second and peak RSS of `export_pairs` for each format, over outputs
of 1,000 and 10,000 documents.

A run without models leaves the non-English sentences untranslated, so the outputs are synthesised
directly with the project's sentences schema at the size the pipeline benchmark produces (about 21
sentences a document: 20,619 for 1,000 documents, 209,499 for 10,000), in parts of 1,000 documents per
language as a run with the default shard size writes them, every non-English sentence translated.

Each export runs in a fresh interpreter, so that its peak RSS is its own: the high-water mark of
/proc/self/status (VmHWM), which starts afresh at exec, unlike getrusage's ru_maxrss, which keeps the
parent's (the one that synthesised the dataset) where the platform has no /proc. The peak after the
imports and before the export is printed beside it, so that the export's own share shows.

    python benchmarks/bench_export.py                 # 1,000 and 10,000 documents, every format
    python benchmarks/bench_export.py --docs 1000 --formats tmx --dedup
"""
from __future__ import annotations

import argparse
import json
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

WORK_DIR = Path(__file__).resolve().parent / ".work" / "export"
LANGUAGES = ("ar", "de", "es", "fr", "ja", "ru", "zh", "en")
DOCS_PER_PART = 1000
SEED = 20261205
_SYLLABLES = {
    "ar": "ال ما في من لا كا تب سي ر ة",
    "de": "ver ein ung der sch ten ich bahn",
    "es": "la de que ción el ra",
    "fr": "le de que tion eau ment ais",
    "ja": "の に は を た が で て し",
    "ru": "по на ть ско про ния ва",
    "zh": "的 一 是 了 我 不 在 人 有 他",
    "en": "the ing tion and er ly ment",
}


def _sentence(rng: random.Random, lang: str) -> str:
    syllables = _SYLLABLES[lang].split()
    joiner = "" if lang in ("ja", "zh") else " "
    words = ["".join(rng.choices(syllables, k=rng.randint(1, 3))) for _ in range(rng.randint(6, 22))]
    return joiner.join(words) + ("。" if lang in ("ja", "zh") else ".")


def _rows(rng: random.Random, doc: int) -> list[dict]:
    lang = rng.choice(LANGUAGES)
    rows = []
    for sent in range(rng.randint(5, 37)):
        source = _sentence(rng, lang)
        english = source if lang == "en" else _sentence(rng, "en")
        translated = lang != "en"
        ratio = len(english) / len(source) if translated else None
        rows.append({
            "doc_id": f"{doc:032x}", "para_id": sent // 4, "sent_id": sent % 4, "char_start": 0,
            "char_end": len(source), "src_text": source, "en_text": english,
            "status": "translated" if translated else "source_is_english", "status_detail": None,
            "model": f"Helsinki-NLP/opus-mt-{lang}-en@main" if translated else None,
            "len_ratio": ratio, "numbers_match": True if translated else None,
            "urls_match": True if translated else None,
            "quality_flags": ([] if ratio is None or 0.5 <= ratio <= 2 else ["length_ratio_off"])
            if translated else None,
            "run_id": "bench", "src_lang": lang,
        })
    return rows


def synthesise(output: Path, documents: int) -> int:
    """A sentences dataset of `documents` documents in the project's schema; returns its rows."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.store.schemas import SCHEMAS, file_schema

    shutil.rmtree(output, ignore_errors=True)
    rng, total = random.Random(SEED), 0
    for first in range(0, documents, DOCS_PER_PART):
        rows = [row for doc in range(first, min(first + DOCS_PER_PART, documents)) for row in _rows(rng, doc)]
        total += len(rows)
        for lang in LANGUAGES:
            part = [row for row in rows if row["src_lang"] == lang]
            table = pa.Table.from_pylist(part, schema=SCHEMAS["sentences"]).drop_columns(["src_lang"])
            directory = output / "sentences" / f"src_lang={lang}"
            directory.mkdir(parents=True, exist_ok=True)
            pq.write_table(table.cast(file_schema("sentences")), directory / f"part-{first:06d}.parquet",
                           compression="zstd")
    (output / "runs").mkdir(exist_ok=True)
    (output / "runs" / "bench.json").write_text(json.dumps(
        {"run_id": "bench", "started_at": "2026-12-01T00:00:00+00:00",
         "finished_at": "2026-12-01T01:00:00+00:00"}))
    return total


def peak_rss_mb() -> float:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(output: Path, fmt: str, to: Path, dedup: bool, default_pool: bool) -> None:
    """One export in this interpreter; prints its figures as JSON."""
    from pipeline.export import ExportFilters
    from pipeline.export.api import export_pairs, use_system_memory_pool

    if not default_pool:
        use_system_memory_pool()   # as the command line and the Airflow task do
    baseline_mb = peak_rss_mb()
    started = time.perf_counter()
    report = export_pairs(output, to, fmt, filters=ExportFilters(dedup=dedup))
    seconds = time.perf_counter() - started
    print(json.dumps({"pairs": report.pairs_written, "seconds": seconds,
                      "baseline_mb": baseline_mb, "peak_mb": peak_rss_mb()}))


def measure(output: Path, fmt: str, dedup: bool, default_pool: bool) -> dict:
    to = WORK_DIR / f"to-{fmt}"
    shutil.rmtree(to, ignore_errors=True)
    command = [sys.executable, __file__, "--child", str(output), fmt, str(to)]
    command += (["--dedup"] if dedup else []) + (["--default-pool"] if default_pool else [])
    completed = subprocess.run(command, capture_output=True, text=True, check=True)
    figures = json.loads(completed.stdout.strip().splitlines()[-1])
    shutil.rmtree(to, ignore_errors=True)
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--docs", type=int, nargs="+", default=[1000, 10000])
    parser.add_argument("--formats", nargs="+", default=["tmx", "moses", "hf", "jsonl"])
    parser.add_argument("--dedup", action="store_true", help="export with --dedup")
    parser.add_argument("--default-pool", action="store_true",
                        help="keep Arrow's default allocator (a notebook calling export_pairs does)")
    parser.add_argument("--child", nargs=3, metavar=("OUTPUT", "FORMAT", "TO"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], Path(args.child[2]), args.dedup, args.default_pool)
        return
    print("docs   rows     format  pairs    seconds  pairs/s   RSS before  peak RSS")
    for documents in args.docs:
        output = WORK_DIR / f"out-{documents}"
        rows = synthesise(output, documents)
        for fmt in args.formats:
            figures = measure(output, fmt, args.dedup, args.default_pool)
            print(f"{documents:<6} {rows:<8} {fmt:<7} {figures['pairs']:<8} {figures['seconds']:<8.2f} "
                  f"{figures['pairs'] / figures['seconds']:<9.0f} {figures['baseline_mb']:<6.0f} MB   "
                  f"{figures['peak_mb']:.0f} MB", flush=True)


if __name__ == "__main__":
    main()
