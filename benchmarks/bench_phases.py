"""Model loads and seconds of a DAG run: one task per shard (every stage) against the three phases.

A synthetic corpus in L languages (default 8, none of them English) is written as S shards (default
10). Every language is given "its" translation model through a per-run override (`--model LANG=DIR`):
one random-weight model of OPUS-MT's size (benchmarks/bench_translate.py), converted to CTranslate2
int8, behind a directory of its own per language, so that the engine cache counts one load per
language as a run with L different models would. Each task runs as a fresh worker would: loaded
engines are released before it (detectors and model identities are loaded once beforehand, for both
layouts alike).

- shard tasks (the layout before): per shard, one task that loads every per-run model up front (as
  the shard task of that layout did) and runs the three phases over its own shard alone;
- three phases (the layout now): `prepare_shard` per shard,
  `plan_translation` over all of them, `translate_chunk` per (language, chunk of sentences),
  `assemble_shard` per shard.

It prints model loads (shard tasks: up to S x L; phases: must equal the number of (language, chunk)
tasks), seconds spent loading, CPU (`time.process_time()`) and wall seconds per phase, and the
sentences per second of each loaded model (its sentences over its translation time, loading included).
Of `--repeats` runs of each layout, the one with the least CPU time is kept.

    python benchmarks/bench_phases.py [--shards 10] [--languages 8] [--documents 20] [--device cpu]
        [--repeats 1] [--json PATH]
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
# A `benchmarks` package from pysbd shadows this folder: the scripts import each other by file name.
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
WORK = REPO_ROOT / "benchmarks" / ".work"
# Labelled sentences per language (see ../shared/benchmarks/README.md): the samples alone hold too
# few distinct sentences, and in too few languages, for a translation benchmark.
SENTENCE_DIRS = (
    REPO_ROOT.parent / "shared" / "benchmarks" / "langid" / "lingua",
    REPO_ROOT / "shared" / "benchmarks" / "langid" / "lingua",
)
# Document languages, in the order --languages takes them: those of the samples first.
LANGUAGE_ORDER = ("ar", "de", "es", "fr", "ja", "ru", "zh", "hi", "it", "pt", "nl", "pl", "tr", "uk", "ko",
                  "vi", "id", "ur")
SENTENCES_PER_LANGUAGE = 1000
# Random weights never stop early: each output runs to its budget (twice the source, plus 10 tokens),
# so short sentences keep a CPU run to minutes.
MAX_SENTENCE_CHARS = 80
QUANTIZATION = "int8"
TRANSLATOR = "ctranslate2"


# -- corpus and models ---------------------------------------------------------------------------------

def _sentence_dir(given: Path | None) -> Path | None:
    for candidate in ((given,) if given else SENTENCE_DIRS):
        if candidate is not None and candidate.is_dir():
            return candidate
    if given:
        raise SystemExit(f"--sentences-dir {given} is not a directory")
    return None


def _pool(languages: Sequence[str], sentence_dir: Path | None):
    """The samples' pool limited to the document languages and English, with labelled sentences added."""
    from synthetic_corpus import extend_pool, load_sample_pool, read_sentence_lines

    pool = load_sample_pool(REPO_ROOT / "samples")
    keep = {*languages, "en"}
    pool = dataclasses.replace(pool, sentences={lang: found for lang, found in pool.sentences.items()
                                                if lang in keep})
    if sentence_dir is None:
        missing = [lang for lang in languages if lang not in pool.languages]
        if missing:
            raise SystemExit(
                f"the samples have too little text in {', '.join(missing)} and no labelled sentences were "
                f"found in {' or '.join(map(str, SENTENCE_DIRS))}; pass --sentences-dir")
        return pool
    extra = {}
    for lang in languages:
        path = sentence_dir / lang / "sentences.txt"
        if not path.is_file():
            raise SystemExit(f"no labelled sentences for '{lang}': {path} is missing")
        extra[lang] = read_sentence_lines(path, SENTENCES_PER_LANGUAGE, max_chars=MAX_SENTENCE_CHARS)
    return extend_pool(pool, extra)


def _corpus(shards: int, languages: Sequence[str], documents: int, seed: int,
            sentence_dir: Path | None) -> tuple[Path, list]:
    """One corpus folder per shard, written once and reused while the pool is unchanged."""
    from synthetic_corpus import GENERATOR_VERSION, read_corpus_summary, write_corpus

    directory = WORK / f"phases-corpus-s{shards}-{'-'.join(languages)}-n{documents}-seed{seed}"
    folders = [directory / f"shard-{index:03d}" for index in range(shards)]
    summaries = [read_corpus_summary(folder) for folder in folders]
    written = all(summary is not None and summary.generator_version == GENERATOR_VERSION
                  for summary in summaries)
    if written and sentence_dir is None:
        return directory, summaries  # brought along with the tree; its pool cannot be rebuilt here
    pool = _pool(languages, sentence_dir)
    if written and all(summary.pool_fingerprint == pool.fingerprint() for summary in summaries):
        return directory, summaries
    shutil.rmtree(directory, ignore_errors=True)
    weights = dict.fromkeys(languages, 1.0)
    # Each shard is a corpus of its own (seeded by the seed and the shard), so shards are equal in size.
    summaries = [write_corpus(pool, folder, documents // shards + (index < documents % shards),
                              seed=seed * 1000 + index, language_weights=weights)
                 for index, folder in enumerate(folders)]
    return directory, summaries


def _language_models(languages: Sequence[str]) -> dict[str, str]:
    """A model directory per language, each a real directory whose files link to the one built model.

    The engine cache is keyed by the converted directory's path (and a directory override is resolved
    to its real path first), so separate directories are what makes each language load "its" model.
    """
    from bench_translate import build_model

    source = build_model()
    converted = source / f"ctranslate2-{QUANTIZATION}"
    root = WORK / "phases-models"
    overrides = {}
    for lang in languages:
        model_dir = root / f"opus-mt-{lang}-en-random"
        for from_dir, to_dir in ((source, model_dir), (converted, model_dir / converted.name)):
            to_dir.mkdir(parents=True, exist_ok=True)
            for file in from_dir.iterdir():
                link = to_dir / file.name
                if file.is_file() and not link.exists():
                    link.symlink_to(os.path.relpath(file, to_dir))
        overrides[lang] = str(model_dir)
    return overrides


# -- measuring -----------------------------------------------------------------------------------------

@dataclasses.dataclass
class LoadWatch:
    """Engines constructed (model loads) and their seconds, counted where the engines are made: a check
    of what each layout reports itself. Loads inside `Translator.translate` are told apart, since that
    call's own seconds already include them."""

    loads: int = 0
    seconds: float = 0.0
    seconds_inside_translate: float = 0.0
    _depth: int = 0

    @contextmanager
    def installed(self):
        from pipeline.stages import translate, translate_backends

        names = ("MarianEngine", "CTranslate2Engine")
        originals = {name: getattr(translate_backends, name) for name in names}
        original_translate = translate.Translator.translate
        watch = self

        def counting(engine_class):
            class Counted(engine_class):
                def __init__(self, *args, **kwargs):
                    started = time.perf_counter()
                    super().__init__(*args, **kwargs)
                    elapsed = time.perf_counter() - started
                    watch.loads += 1
                    watch.seconds += elapsed
                    if watch._depth:
                        watch.seconds_inside_translate += elapsed

            return Counted

        def translate_counted(translator, *args, **kwargs):
            watch._depth += 1
            try:
                return original_translate(translator, *args, **kwargs)
            finally:
                watch._depth -= 1

        for name, engine_class in originals.items():
            setattr(translate_backends, name, counting(engine_class))
        translate.Translator.translate = translate_counted
        try:
            yield self
        finally:
            for name, engine_class in originals.items():
                setattr(translate_backends, name, engine_class)
            translate.Translator.translate = original_translate

    def take(self) -> dict[str, float]:
        taken = {"loads": self.loads, "seconds": self.seconds,
                 "seconds_inside_translate": self.seconds_inside_translate}
        self.loads, self.seconds, self.seconds_inside_translate = 0, 0.0, 0.0
        return taken


def _task(run: Callable[[], Any], watch: LoadWatch) -> tuple[Any, dict[str, float]]:
    """One task as a fresh worker runs it: nothing loaded; its wall and CPU seconds, the loads seen."""
    from pipeline.stages.translate_backends import release_engines

    release_engines()
    watch.take()
    started_cpu, started = time.process_time(), time.perf_counter()
    result = run()
    timing = {"wall": time.perf_counter() - started, "cpu": time.process_time() - started_cpu}
    return result, {**timing, **{f"observed_{key}": value for key, value in watch.take().items()}}


def _phase(tasks: list[dict[str, float]]) -> dict[str, float]:
    return {"tasks": len(tasks), **{key: sum(task[key] for task in tasks)
                                    for key in ("wall", "cpu", "observed_loads", "observed_seconds")}}


def _translation(loads: float, load_seconds: float, seconds: float, sentences: float) -> dict[str, float]:
    """The translation figures of a layout; `seconds` is translation time with its loads included."""
    return {
        "sentences": sentences,
        "model_loads": loads,
        "model_load_seconds": load_seconds,
        "seconds": seconds,
        "load_share": load_seconds / seconds if seconds else 0.0,
        "sentences_per_load": sentences / loads if loads else 0.0,
        # Each loaded model's sentences over its translation time (loading included), over all of them.
        "sentences_per_second_per_model": sentences / seconds if seconds else 0.0,
    }


def _one_shard_task(shard, settings):
    """What a shard task of the layout before did: every per-run model loaded up front (its check),
    then every stage of its own shard, translating only its own sentences."""
    from pipeline.phases.assemble import assemble_shard
    from pipeline.phases.translate import open_translator, plan_translation, translate_chunk
    from pipeline.phases.prepare import prepare_shard

    translator = open_translator(settings)
    translator.check_explicit_models()
    prepared = prepare_shard(shard, settings)
    for chunk in plan_translation(settings, [prepared]):
        translate_chunk(chunk, settings, translator=translator)
    counters = ("sentences", "model_loads", "model_load_seconds", "seconds")
    return assemble_shard(prepared, settings), {name: getattr(translator.stats, name) for name in counters}


def _shard_tasks(shards, settings, watch: LoadWatch) -> dict[str, Any]:
    """The layout before: one task per shard runs every stage and loads every model it needs."""
    tasks, per_shard, stage_seconds, languages_met = [], [], Counter(), 0
    loads = load_seconds = seconds = sentences = 0.0
    rows = Counter()
    for shard in shards:
        (result, translation), timing = _task(lambda: _one_shard_task(shard, settings), watch)
        tasks.append(timing)
        met = sorted(lang for lang, statuses in result.sentences.items() if statuses.get("translated"))
        per_shard.append({"shard": shard.index, **{key: translation.get(key, 0) for key in (
            "sentences", "model_loads", "model_load_seconds", "seconds")}, "wall": timing["wall"],
            "cpu": timing["cpu"], "languages_translated": met})
        languages_met += len(met)
        loads += translation.get("model_loads", 0)
        load_seconds += translation.get("model_load_seconds", 0.0)
        # Loads before the first translate() call (the check of the per-run models) are outside its time.
        seconds += (translation.get("seconds", 0.0) + translation.get("model_load_seconds", 0.0)
                    - timing["observed_seconds_inside_translate"])
        sentences += translation.get("sentences", 0)
        stage_seconds.update(result.stage_seconds)
        for statuses in result.sentences.values():
            rows.update(statuses)
    return {
        "phases": {"shard": _phase(tasks)},
        "stage_seconds": dict(stage_seconds),
        "shard_languages_with_translations": languages_met,
        "shards": per_shard,
        "sentence_rows": dict(rows),
        "translation": _translation(loads, load_seconds, seconds, sentences),
        "observed_loads": sum(task["observed_loads"] for task in tasks),
    }


def _three_phases(shards, settings, watch: LoadWatch) -> dict[str, Any]:
    """The layout after: prepare per shard, translate per (language, chunk), assemble per shard."""
    from pipeline.phases.assemble import assemble_shard
    from pipeline.phases.translate import plan_translation, translate_chunk
    from pipeline.phases.prepare import prepare_shard

    prepare_tasks, prepared = [], []
    for shard in shards:
        result, timing = _task(lambda: prepare_shard(shard, settings), watch)
        prepare_tasks.append(timing)
        prepared.append(result)
    chunks, plan_timing = _task(lambda: plan_translation(settings, prepared), watch)
    translate_tasks, per_chunk = [], []
    loads = load_seconds = sentences = 0.0
    for chunk in chunks:
        result, timing = _task(lambda: translate_chunk(chunk, settings), watch)
        translate_tasks.append(timing)
        loads += result.model_loads
        load_seconds += result.model_load_seconds
        sentences += result.sentences
        per_chunk.append({"lang": chunk.lang, "index": chunk.index, "sentences": chunk.sentences,
                          "model_loads": result.model_loads, "model_load_seconds": result.model_load_seconds,
                          "seconds": result.seconds, "wall": timing["wall"], "cpu": timing["cpu"]})
    assemble_tasks, rows = [], Counter()
    for item in prepared:
        result, timing = _task(lambda: assemble_shard(item, settings), watch)
        assemble_tasks.append(timing)
        for statuses in result.sentences.values():
            rows.update(statuses)
    phases = {"prepare": _phase(prepare_tasks), "plan": _phase([plan_timing]),
              "translate": _phase(translate_tasks), "assemble": _phase(assemble_tasks)}
    return {
        "phases": phases,
        "translation_tasks": len(chunks),
        "language_chunks": dict(Counter(chunk.lang for chunk in chunks)),
        "chunks": per_chunk,
        "sentence_rows": dict(rows),
        # A translate task's time is its whole task: the model's load, its sentences, its store writes.
        "translation": _translation(loads, load_seconds, phases["translate"]["wall"], sentences),
        "observed_loads": sum(phase["observed_loads"] for phase in phases.values()),
    }


def _best(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """The run with the least CPU time: other work on a shared machine only ever adds to it."""
    best = min(runs, key=lambda run: sum(phase["cpu"] for phase in run["phases"].values()))
    return {**best, "repeats_cpu": [sum(phase["cpu"] for phase in run["phases"].values()) for run in runs]}


def _settings(output: Path, overrides: dict[str, str], device: str, languages: Sequence[str]):
    from pipeline.settings import RunSettings

    models_dir = WORK / "phases-empty-store"  # no registry file: only the overrides are explicit
    models_dir.mkdir(parents=True, exist_ok=True)
    return RunSettings(
        output=output, run_id="bench-phases", models_dir=models_dir, model_overrides=overrides,
        translator=TRANSLATOR, device=device,
        # Only the benchmark's languages are translated (a paragraph taken for another language is
        # written untranslated rather than sent to a default model that is not here).
        include_langs=frozenset(languages),
        # Room for every language's model at once, so today's shard task loads each once, never twice.
        max_loaded_models=len(languages))


def _fresh(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path


# -- report --------------------------------------------------------------------------------------------

def _print_layout(name: str, figures: dict[str, Any]) -> None:
    print(f"\n{name}")
    print(f"  {'phase':<10} {'tasks':>5} {'wall s':>9} {'CPU s':>9} {'loads seen':>10} {'load s seen':>11}")
    for phase, row in figures["phases"].items():
        print(f"  {phase:<10} {row['tasks']:>5} {row['wall']:>9.1f} {row['cpu']:>9.1f} "
              f"{row['observed_loads']:>10} {row['observed_seconds']:>11.1f}")
    total_wall = sum(row["wall"] for row in figures["phases"].values())
    total_cpu = sum(row["cpu"] for row in figures["phases"].values())
    print(f"  {'total':<10} {'':>5} {total_wall:>9.1f} {total_cpu:>9.1f}")
    t = figures["translation"]
    print(f"  model loads {t['model_loads']:.0f} ({t['model_load_seconds']:.1f} s, "
          f"{t['load_share'] * 100:.0f} % of translation time {t['seconds']:.1f} s); "
          f"{t['sentences']:.0f} sentences, {t['sentences_per_load']:.1f} per loaded model, "
          f"{t['sentences_per_second_per_model']:.2f} sentences/s per loaded model")
    print(f"  sentence rows by status: {figures['sentence_rows']}")


def _environment(device: str) -> dict[str, Any]:
    from importlib import metadata

    def version(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return ""

    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO_ROOT, capture_output=True,
                            text=True).stdout.strip()
    return {"date": datetime.datetime.now().isoformat(timespec="minutes"), "machine": platform.node(),
            "cpus": os.cpu_count(), "load_average": os.getloadavg(), "device": device, "commit": commit,
            "ctranslate2": version("ctranslate2"), "python": platform.python_version()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--shards", type=int, default=10)
    parser.add_argument("--languages", type=int, default=8, help=f"at most {len(LANGUAGE_ORDER)}")
    parser.add_argument("--documents", type=int, default=20,
                        help="documents in all (default 20: a few minutes on 2 CPU cores)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--sentences-dir", type=Path, help="labelled sentences, LANG/sentences.txt "
                        "(default: ../shared/benchmarks/langid/lingua)")
    parser.add_argument("--only", choices=("before", "after"), help="run one layout only")
    parser.add_argument("--json", type=Path, help="write the figures to this file")
    args = parser.parse_args(argv)
    if not 1 <= args.languages <= len(LANGUAGE_ORDER):
        parser.error(f"--languages must be between 1 and {len(LANGUAGE_ORDER)}")
    if args.shards < 1 or args.documents < args.shards or args.repeats < 1:
        parser.error("need at least one shard, a document per shard and one repeat")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # every model is local; nothing is fetched

    from pipeline.stages.detectors import load_detectors
    from pipeline.models.registry import locate
    from pipeline.phases.plan import plan_shards

    languages = LANGUAGE_ORDER[:args.languages]
    corpus_dir, summaries = _corpus(args.shards, languages, args.documents, args.seed,
                                    _sentence_dir(args.sentences_dir))
    overrides = _language_models(languages)
    # Loaded once for both layouts, as a worker's start-up: the detectors, and each model's identity (a
    # hash of a directory's weights; a fetched model reads its identity from a file instead).
    load_detectors()
    for spec in overrides.values():
        locate(spec, WORK)
    documents_by_language = Counter()
    for summary in summaries:
        documents_by_language.update(summary.documents_by_language)
    print(f"# {corpus_dir.relative_to(REPO_ROOT)}: {args.shards} shards, {len(languages)} languages "
          f"({', '.join(languages)}), {sum(s.documents for s in summaries)} documents "
          f"({dict(sorted(documents_by_language.items()))}), "
          f"{sum(s.paragraphs for s in summaries)} paragraphs, "
          f"{sum(s.bytes for s in summaries) / 1e6:.2f} MB; one {TRANSLATOR} {QUANTIZATION} model per "
          f"language on {args.device}; best of {args.repeats}", flush=True)

    watch = LoadWatch()
    results: dict[str, Any] = {}
    layouts = {"before": ("shard tasks (one per shard, every stage)", _shard_tasks),
               "after": ("three phases (prepare, translate per language and chunk, assemble)", _three_phases)}
    with watch.installed():
        for key, (title, measure) in layouts.items():
            if args.only and key != args.only:
                continue
            runs = []
            for _ in range(args.repeats):
                output = _fresh(WORK / f"phases-output-{key}")
                settings = _settings(output, overrides, args.device, languages)
                inputs = [str(folder / kind) for folder in sorted(corpus_dir.iterdir()) if folder.is_dir()
                          for kind in ("txt", "html", "jsonl")]
                # One shard per corpus folder (three input folders each), numbered in order.
                shards = [dataclasses.replace(shard, index=index) for index, shard in enumerate(
                    next(iter(plan_shards(inputs[start:start + 3], settings, files_per_shard=10**9)))
                    for start in range(0, len(inputs), 3))]
                runs.append(measure(shards, settings, watch))
            results[key] = _best(runs)
            _print_layout(title, results[key])

    before, after = results.get("before"), results.get("after")
    if before:
        most = args.shards * len(languages)
        print(f"\nshard tasks: {before['translation']['model_loads']:.0f} model loads (at most shards x "
              f"languages = {most}; {before['shard_languages_with_translations']} shard-language pairs had "
              f"sentences to translate); engines seen constructed: {before['observed_loads']}")
    if after:
        tasks = after["translation_tasks"]
        loads = after["translation"]["model_loads"]
        print(f"three phases: {loads:.0f} model loads for {tasks} (language, chunk) tasks "
              f"({after['language_chunks']}): {'PASS' if loads == tasks else 'MISS'} (must be equal); "
              f"engines seen constructed: {after['observed_loads']}")
    if before and after:
        ratios = {}
        for name, get in (
            ("model loads", lambda r: r["translation"]["model_loads"]),
            ("model load seconds", lambda r: r["translation"]["model_load_seconds"]),
            ("wall seconds", lambda r: sum(p["wall"] for p in r["phases"].values())),
            ("CPU seconds", lambda r: sum(p["cpu"] for p in r["phases"].values())),
            ("translation seconds", lambda r: r["translation"]["seconds"]),
        ):
            ratios[f"{name} before/after"] = get(before) / get(after) if get(after) else None
        ratios["sentences/s per loaded model after/before"] = (
            after["translation"]["sentences_per_second_per_model"]
            / before["translation"]["sentences_per_second_per_model"]
            if before["translation"]["sentences_per_second_per_model"] else None)
        results["ratios"] = ratios
        shown = (f"{name} {value:.2f}x" if value is not None else f"{name} n/a"
                 for name, value in ratios.items())
        print("ratios: " + "; ".join(shown))
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report = {"environment": _environment(args.device),
                  "config": {"shards": args.shards, "languages": list(languages), "documents": args.documents,
                             "seed": args.seed, "repeats": args.repeats, "translator": TRANSLATOR,
                             "quantization": QUANTIZATION},
                  "corpus": {"directory": str(corpus_dir.relative_to(REPO_ROOT)),
                             "documents_by_language": dict(documents_by_language),
                             "paragraphs": sum(s.paragraphs for s in summaries),
                             "bytes": sum(s.bytes for s in summaries)},
                  **results}
        args.json.write_text(json.dumps(report, indent=2, default=str) + "\n", encoding="utf-8")
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
