"""Input-shape benchmark: large single-line inputs, many small JSONL records, and reruns.

    python benchmarks/bench_inputs.py                       # every figure (long: the 48 MB input)
    python benchmarks/bench_inputs.py --sizes 1 4 --records 20000 --repeats 1   # a quicker look
    python benchmarks/bench_inputs.py --peak --sizes 1 8 48   # peak memory of one large input

Three figures, each the CPU time (`time.process_time()`) of `pipeline.phases.runner.run` in this process,
after a warm-up run that loads the detectors, the best of `--repeats` runs:

1. **Large inputs.** One `.txt` file per size in `--sizes` (MB), the whole file one line: English
   sentences with their punctuation, so that segmentation sees one paragraph of that size. Reports
   seconds per MB; cost linear in the input size means the same figure at every size. The input limit
   is raised above the largest size.
2. **Many small records.** One JSONL file of `--records` records of about 140 bytes (English, French,
   German, Spanish sentences with a record number, so that no two are equal), first run into an empty
   output: MB/s and microseconds per record.
3. **Rerun.** The same JSONL again into the same output: every record is already there, so the run
   should cost about what reading the file costs. Reports the rerun's time and the ratio first / rerun.
4. **Peak memory** (`--peak`): each single-line input of `--sizes` run by `python -m pipeline run` in a
   child process of its own, whose peak RSS (`os.wait4`) is printed in MB and as a multiple of the input.

No model is loaded: English needs none, and the other languages are written `untranslated` (no model
in the empty model store, the hub off), so the figures are those of the text path. Inputs and outputs
go to benchmarks/.work/inputs/. The pipeline imported is the one first on `sys.path`: set PYTHONPATH to
another checkout to measure it with the same script.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

BENCH_DIR = Path(__file__).resolve().parent
WORK = BENCH_DIR / ".work" / "inputs"
if "pipeline" not in sys.modules and not os.environ.get("PYTHONPATH"):
    sys.path.insert(0, str(BENCH_DIR.parent))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

SENTENCES = {
    "en": ["The council approved the budget for the new library after a long debate.",
           "Residents asked whether the harbour would stay open during the winter months.",
           "A small bakery near the station won a prize for its bread last week."],
    "fr": ["Le conseil municipal a voté le budget de la nouvelle bibliothèque mardi soir.",
           "Les habitants ont demandé si le port resterait ouvert pendant l'hiver.",
           "Une petite boulangerie près de la gare a gagné un prix pour son pain."],
    "de": ["Der Stadtrat hat den Haushalt für die neue Bibliothek nach langer Debatte beschlossen.",
           "Die Einwohner fragten, ob der Hafen im Winter geöffnet bleibt.",
           "Eine kleine Bäckerei am Bahnhof hat einen Preis für ihr Brot gewonnen."],
    "es": ["El ayuntamiento aprobó el presupuesto de la nueva biblioteca tras un largo debate.",
           "Los vecinos preguntaron si el puerto seguiría abierto durante el invierno.",
           "Una pequeña panadería cerca de la estación ganó un premio por su pan."],
}


def write_long_line(path: Path, megabytes: float) -> None:
    """One line of English sentences, `megabytes` MB long."""
    rng = random.Random(7)
    target = int(megabytes * 2**20)
    parts: list[str] = []
    size = 0
    number = 0
    while size < target:
        sentence = f"{rng.choice(SENTENCES['en'])[:-1]} (item {number})."
        parts.append(sentence)
        size += len(sentence) + 1
        number += 1
    path.write_text(" ".join(parts)[:target], encoding="utf-8")


def write_records(path: Path, records: int) -> None:
    rng = random.Random(11)
    languages = sorted(SENTENCES)
    with open(path, "w", encoding="utf-8") as handle:
        for number in range(records):
            lang = languages[number % len(languages)]
            text = f"{rng.choice(SENTENCES[lang])} ({number})"
            handle.write(json.dumps({"id": f"r{number}", "text": text}, ensure_ascii=False) + "\n")


def timed_run(inputs: list[str], output: Path, run_id: str, max_mb: float, fresh: bool) -> float:
    from pipeline.phases.runner import run
    from pipeline.settings import RunSettings

    if fresh and output.exists():
        shutil.rmtree(output)
    settings = RunSettings(output=output, run_id=run_id, models_dir=WORK / "no-models", device="cpu",
                           max_input_bytes=int(max_mb * 2**20))
    started = time.process_time()
    run(inputs, settings)
    return time.process_time() - started


def peak_rss_mb(path: Path, output: Path, max_mb: float) -> float:
    """The peak RSS of `python -m pipeline run` over `path` alone, in a fresh process."""
    shutil.rmtree(output, ignore_errors=True)
    command = [sys.executable, "-m", "pipeline", "run", "--input", str(path), "--output", str(output),
               "--run-id", "peak", "--models-dir", str(WORK / "no-models"), "--max-input-mb", str(max_mb)]
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                             cwd=BENCH_DIR.parent)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status) != 0:
        raise RuntimeError(f"{' '.join(command)} failed")
    return usage.ru_maxrss / 1024


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", type=float, nargs="*", default=[1, 4, 16, 48],
                        help="MB, single-line inputs")
    parser.add_argument("--records", type=int, default=100_000, help="records of the small-record JSONL")
    parser.add_argument("--repeats", type=int, default=3, help="runs per figure; the best counts")
    parser.add_argument("--peak", action="store_true",
                        help="only the peak memory of each single-line input, each in a process of its own")
    args = parser.parse_args(argv)
    if args.peak:
        WORK.mkdir(parents=True, exist_ok=True)
        (WORK / "no-models").mkdir(exist_ok=True)
        for megabytes in args.sizes:
            path = WORK / f"line-{megabytes:g}mb.txt"
            if not path.exists() or path.stat().st_size != int(megabytes * 2**20):
                write_long_line(path, megabytes)
            peak = peak_rss_mb(path, WORK / "out-peak", max(args.sizes) + 1)
            print(f"single line {megabytes:g} MB: peak RSS {peak:.0f} MB, {peak / megabytes:.1f}x the input",
                  flush=True)
        return 0
    import pipeline

    WORK.mkdir(parents=True, exist_ok=True)
    (WORK / "no-models").mkdir(exist_ok=True)
    print(f"pipeline from {Path(pipeline.__file__).parent}")
    from pipeline.stages.detectors import load_detectors

    load_detectors()   # every detector, so that no figure includes loading one
    warm = WORK / "warm.txt"
    warm.write_text(" ".join(SENTENCES["en"] + SENTENCES["fr"]), encoding="utf-8")
    timed_run([str(warm)], WORK / "out-warm", "warm", 64, fresh=True)

    max_mb = max(args.sizes or [1]) + 1
    for megabytes in args.sizes:
        path = WORK / f"line-{megabytes:g}mb.txt"
        if not path.exists() or path.stat().st_size != int(megabytes * 2**20):
            write_long_line(path, megabytes)
        seconds = min(timed_run([str(path)], WORK / "out-line", f"line-{repeat}", max_mb, fresh=True)
                      for repeat in range(args.repeats))
        print(f"single line {megabytes:g} MB: {seconds:.2f} s CPU, {seconds / megabytes:.2f} s/MB",
              flush=True)

    if args.records:
        path = WORK / f"records-{args.records}.jsonl"
        if not path.exists():
            write_records(path, args.records)
        megabytes = path.stat().st_size / 2**20
        output = WORK / "out-records"
        firsts, reruns = [], []
        for repeat in range(args.repeats):
            firsts.append(timed_run([str(path)], output, f"first-{repeat}", 64, fresh=True))
            reruns.append(timed_run([str(path)], output, f"rerun-{repeat}", 64, fresh=False))
        first, rerun = min(firsts), min(reruns)
        print(f"{args.records} records ({megabytes:.1f} MB), first run: {first:.2f} s CPU, "
              f"{megabytes / first:.3f} MB/s, {first / args.records * 1e6:.0f} us/record", flush=True)
        print(f"rerun: {rerun:.2f} s CPU, {first / rerun:.1f}x faster than the first run", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
