"""How much of a run is its libraries' work: the least CPU that any code calling them could reach.

    python benchmarks/bench_floor.py [--records 100000] [--datatrove-python /tmp/dt-venv/bin/python]

For the pages + documents and for the short records of the real-text corpus (real_corpus.py), one
`python -m pipeline run --workers 1` as bench_real.py runs it (translation off), in a child process that
times every call the pipeline makes into the libraries doing its heavy work:
  - fastText: loading lid.176 and every prediction;
  - lingua: every confidence computation, through detectors.lingua_probabilities (a few lines around
    lingua's call), its models' loading included: they load when a text first needs them;
  - langdetect: every vote, through detectors.langdetect_probabilities, its profiles' loading included;
  - sentencex: every segmentation;
  - Parquet: every table pyarrow writes or reads.
Each call is timed by the process's CPU clock (a call inside another timed call counts once, in the
outer one). The run's whole CPU, start-up included, is timed from outside as in bench_real.py. What is
left is the pipeline's own Python: the cleaner's line rules and features (with the `regex` searches they
make), the segmenter's rules around sentencex, alignment, the output's rows, the interpreter and imports.

The libraries' share is a floor: code that did nothing but make the same calls would still spend it. So
the script says, for each target of the speed issue (2.0 MB per CPU-second on pages + documents, a
quarter of the CPU of the datatrove pipeline of datatrove_run.py on them, run once here when
`--datatrove-python` is given, and 150 us of CPU a record), how far the own Python would have to shrink
to meet it. Other library work (Arrow's conversions of Python lists, `regex`, ftfy) and the timing itself
(about 1.5 us a call) are counted as the pipeline's, so the true floor is higher.
Figures go to `benchmarks/results/<date>-<HHMM>-floor-<machine>.json`.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCHMARKS_DIR))  # pysbd's `benchmarks` package shadows this folder

from bench_real import (TEXT_PARTS, WORK, begin_report, corpus_at, datatrove_run, end_report,  # noqa: E402
                        manifest_timings, measure, part_totals, run_arguments, run_environment)

TEXT_TARGET_MB_PER_CPU_S = 2.0
DATATROVE_TARGET_RATIO = 0.25
RECORD_TARGET_US = 150.0

Tally = dict[str, list[float]]   # library -> [calls, CPU seconds]


class LibraryClock:
    """CPU seconds and calls per library, for the functions it wraps."""

    def __init__(self) -> None:
        self.tally: Tally = {}
        self._depth = 0

    def wrap(self, function: Callable, library: str) -> Callable:
        entry = self.tally.setdefault(library, [0, 0.0])

        @functools.wraps(function)
        def timed(*args, **kwargs):
            if self._depth:
                return function(*args, **kwargs)
            self._depth += 1
            started = time.process_time()
            try:
                return function(*args, **kwargs)
            finally:
                entry[1] += time.process_time() - started
                entry[0] += 1
                self._depth -= 1
        return timed

    def install(self) -> None:
        """Wrap the library calls a run makes (see the module docstring)."""
        import fasttext
        import pyarrow.parquet as pq
        import sentencex
        from fasttext.FastText import _FastText

        import pipeline.stages.detect as detect

        fasttext.load_model = self.wrap(fasttext.load_model, "fastText")
        _FastText.predict = self.wrap(_FastText.predict, "fastText")
        detect.lingua_probabilities = self.wrap(detect.lingua_probabilities, "lingua")
        detect.langdetect_probabilities = self.wrap(detect.langdetect_probabilities, "langdetect")
        # The segment stage imports `segment` from sentencex at each call, so it finds the wrapper.
        sentencex.segment = self.wrap(sentencex.segment, "sentencex")
        pq.write_table = self.wrap(pq.write_table, "Parquet")
        pq.read_table = self.wrap(pq.read_table, "Parquet")
        pq.ParquetFile.read = self.wrap(pq.ParquetFile.read, "Parquet")


def timed_run(tally_path: Path, run_arguments: list[str]) -> int:
    """`python -m pipeline <run_arguments>` in this process with the library calls timed; the tally is
    written to `tally_path` as JSON."""
    # As pipeline/__main__.py does, before pyarrow is first imported.
    os.environ.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    clock = LibraryClock()
    clock.install()
    from pipeline.cli import main

    status = main(run_arguments)
    tally = {library: {"calls": int(calls), "cpu_s": seconds}
             for library, (calls, seconds) in clock.tally.items()}
    tally_path.write_text(json.dumps(tally), encoding="utf-8")
    return status


def timed_pipeline_run(inputs: list[Path], name: str) -> dict:
    """One timed run of `inputs` into a fresh output: the run's CPU from outside, the libraries' from
    inside, and the manifest's timings."""
    output = WORK / "floor-out" / name
    tally_path = output.parent / f"{name}.tally.json"
    command = [sys.executable, str(Path(__file__).resolve()), "--timed-run", str(tally_path), "--",
               *run_arguments(inputs, output, workers=1)]
    figures = measure(command, output.parent / f"{name}.log", run_environment())
    figures["libraries"] = json.loads(tally_path.read_text(encoding="utf-8"))
    return {**figures, **manifest_timings(output)}


def floor(run_cpu_s: float, library_cpu_s: float, budget_cpu_s: float) -> dict:
    """What the libraries leave to the own Python (`run_cpu_s - library_cpu_s`) against a target that
    allows `budget_cpu_s` for the whole run: the most the own Python may take, and how many times less
    than now that is (None when the libraries alone exceed the budget)."""
    own = run_cpu_s - library_cpu_s
    allowed = budget_cpu_s - library_cpu_s
    return {"own_python_cpu_s": own, "own_python_allowed_cpu_s": allowed,
            "own_python_must_shrink": own / allowed if allowed > 0 else None}


def summary(figures: dict, budget_cpu_s: float) -> dict:
    library_cpu = sum(entry["cpu_s"] for entry in figures["libraries"].values())
    return {**figures, "library_cpu_s": library_cpu, **floor(figures["cpu_s"], library_cpu, budget_cpu_s)}


def print_case(title: str, figures: dict, per_unit: Callable[[float], str], target: str) -> None:
    cpu = figures["cpu_s"]
    print(f"\n{title}: run CPU {cpu:.1f} s ({per_unit(cpu)})")
    for library, entry in sorted(figures["libraries"].items(), key=lambda item: -item[1]["cpu_s"]):
        seconds = entry["cpu_s"]
        print(f"  {library:<11} {entry['calls']:>9,} calls {seconds:7.2f} s {seconds / cpu:6.1%}")
    library_cpu = figures["library_cpu_s"]
    print(f"  {'libraries':<21} {library_cpu:7.2f} s {library_cpu / cpu:6.1%}  -> at best "
          f"{per_unit(library_cpu)} if the own Python took no time")
    print(f"  {'own Python, start-up':<21} {figures['own_python_cpu_s']:7.2f} s "
          f"{figures['own_python_cpu_s'] / cpu:6.1%}")
    stages = figures["stage_seconds"].items()
    print("  stages (manifest, s): " + ", ".join(f"{stage} {seconds:.1f}" for stage, seconds in stages))
    print_target(target, figures)


def print_target(target: str, figures: dict) -> None:
    shrink = figures["own_python_must_shrink"]
    print(f"  {target}: the own Python may take {figures['own_python_allowed_cpu_s']:.2f} s, "
          + (f"{shrink:.1f}x less than now" if shrink else "nothing: the libraries alone exceed it"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--records", type=int, default=100_000, help="0 skips the short-record case")
    parser.add_argument("--datatrove-python", default=None, help="python of a venv with datatrove 0.10.x")
    parser.add_argument("--timed-run", type=Path, metavar="TALLY",
                        help="(internal) run the pipeline with the arguments after -- and write the tally")
    args, rest = parser.parse_known_args(argv)
    if args.timed_run:
        return timed_run(args.timed_run, rest[1:] if rest[:1] == ["--"] else rest)
    if rest:
        parser.error(f"unrecognized arguments: {' '.join(rest)}")

    corpus, corpus_summary = corpus_at(WORK / f"real-corpus-{args.records}", max(args.records, 1))
    report = begin_report(corpus_summary)

    text_mb, _ = part_totals(corpus_summary, TEXT_PARTS)
    text = timed_pipeline_run([corpus / part for part in TEXT_PARTS], "floor-text")
    report["text"] = summary(text, text_mb / TEXT_TARGET_MB_PER_CPU_S)
    print_case(f"pages + documents ({text_mb:.1f} MB)", report["text"],
               lambda seconds: f"{text_mb / seconds:.2f} MB/CPU-s",
               f"for {TEXT_TARGET_MB_PER_CPU_S} MB/CPU-s")
    if args.datatrove_python:
        datatrove = datatrove_run(args.datatrove_python, corpus, "txt", "floor-datatrove")
        report["text"]["datatrove_cpu_s"] = datatrove["cpu_s"]
        report["text"]["datatrove_target"] = floor(
            text["cpu_s"], report["text"]["library_cpu_s"], DATATROVE_TARGET_RATIO * datatrove["cpu_s"])
        print(f"  datatrove: CPU {datatrove['cpu_s']:.1f} s; the run's "
              f"{text['cpu_s'] / datatrove['cpu_s']:.2f}x of it, its libraries' "
              f"{report['text']['library_cpu_s'] / datatrove['cpu_s']:.2f}x")
        print_target(f"for {DATATROVE_TARGET_RATIO}x datatrove's CPU", report["text"]["datatrove_target"])
    if args.records:
        records = timed_pipeline_run([corpus / "records"], "floor-records")
        report["records"] = summary(records, args.records * RECORD_TARGET_US / 1e6)
        print_case(f"short records ({args.records:,})", report["records"],
                   lambda seconds: f"{seconds / args.records * 1e6:.0f} us/record",
                   f"for {RECORD_TARGET_US:.0f} us/record")
    end_report(report, "floor")
    return 0


if __name__ == "__main__":
    sys.exit(main())
