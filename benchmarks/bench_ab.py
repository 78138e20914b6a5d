"""Before and after of a change: an earlier version of the pipeline and this working tree, run in turn
on the real-text corpus, their CPU compared and their outputs compared row for row.

    python benchmarks/bench_ab.py HEAD~1                          # pages + documents, 3 rounds
    python benchmarks/bench_ab.py 76c33fd --corpus records --rounds 2
    python benchmarks/bench_ab.py HEAD~1 --workers 2

The earlier version (any git revision) is checked out with `git worktree` under benchmarks/.work and
removed afterwards; each run is started from its version's folder, so it imports that version's
`pipeline`, with the same Python and packages. The versions take turns, the earlier one first in odd
rounds and second in even ones, so that a machine whose speed drifts (a shared one does, by more than
most changes) weighs on both alike. Each run is a fresh `python -m pipeline run` into a fresh output,
translation off and measured as in bench_real.py (CPU of the process tree, peak RSS of its largest
process). After the last round the two outputs' datasets are compared with
scripts/output_fingerprint.py's canonical rows; the command exits with 1 when they differ. Figures go
to benchmarks/results/<date>-<HHMM>-ab-<machine>.json.
"""

from __future__ import annotations

import argparse
import datetime
import platform
import shutil
import subprocess
import sys
from pathlib import Path

BENCHMARKS_DIR = Path(__file__).resolve().parent
REPO_ROOT = BENCHMARKS_DIR.parent
sys.path.insert(0, str(BENCHMARKS_DIR))  # pysbd's `benchmarks` package shadows this folder
sys.path.insert(1, str(REPO_ROOT / "scripts"))

from bench_real import (RECORD_PARTS, TEXT_PARTS, WORK, corpus_at, load_average, part_totals,  # noqa: E402
                        pipeline_run, run_environment, save_report, summarise)
from output_fingerprint import DATASETS, fingerprint  # noqa: E402

CORPUS_PARTS = {"text": TEXT_PARTS, "records": RECORD_PARTS}
EARLIER, THIS = "earlier", "this"


def check_out(revision: str) -> tuple[str, Path]:
    """The commit `revision` names, checked out in a worktree of its own."""
    found = subprocess.run(["git", "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}"],
                           cwd=REPO_ROOT, capture_output=True, text=True)
    if found.returncode:
        raise SystemExit(f"bench_ab: {revision!r} names no commit of {REPO_ROOT}")
    commit = found.stdout.strip()
    tree = WORK / f"ab-{commit[:12]}"
    remove_checkout(tree)
    subprocess.run(["git", "worktree", "add", "--detach", "--quiet", str(tree), commit], cwd=REPO_ROOT,
                   check=True)
    return commit, tree


def remove_checkout(tree: Path) -> None:
    if tree.exists():
        subprocess.run(["git", "worktree", "remove", "--force", str(tree)], cwd=REPO_ROOT, check=False)
    shutil.rmtree(tree, ignore_errors=True)
    subprocess.run(["git", "worktree", "prune"], cwd=REPO_ROOT, check=False)


def version_environment(tree: Path) -> dict[str, str]:
    """The environment in which a run started from `tree` imports the `pipeline` of `tree`, checked: an
    installed copy found first would make both versions the same code."""
    environment = run_environment(tree)
    found = subprocess.run([sys.executable, "-c", "import pipeline; print(pipeline.__file__)"], cwd=tree,
                           env=environment, capture_output=True, text=True)
    if found.returncode:
        raise SystemExit(f"bench_ab: a run started from {tree} cannot import pipeline: "
                         f"{found.stderr.strip().splitlines()[-1:]}")
    imported = found.stdout.strip()
    if not Path(imported).resolve().is_relative_to(tree.resolve()):
        raise SystemExit(f"bench_ab: a run started from {tree} imports pipeline from {imported}")
    return environment


def compare_outputs(earlier: Path, this: Path) -> dict[str, str]:
    """Per dataset: "equal", or how the two outputs differ (rows, or the rows' fingerprint)."""
    found = {EARLIER: fingerprint(earlier, None), THIS: fingerprint(this, None)}
    verdicts = {}
    for dataset in DATASETS:
        before, after = found[EARLIER].get(dataset), found[THIS].get(dataset)
        if before == after:
            verdicts[dataset] = "equal" if before else "absent from both"
        elif before is None or after is None:
            verdicts[dataset] = f"written by the {EARLIER if after is None else THIS} version only"
        elif before["rows"] != after["rows"]:
            verdicts[dataset] = f"{before['rows']} rows -> {after['rows']}"
        else:
            verdicts[dataset] = f"{before['rows']} rows each, different content"
    return verdicts


def outputs_match(verdicts: dict[str, str]) -> bool:
    """Whether compare_outputs found the two outputs alike in every dataset."""
    return all(verdict in ("equal", "absent from both") for verdict in verdicts.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("revision", help="the earlier version: a commit, branch or tag")
    parser.add_argument("--corpus", choices=sorted(CORPUS_PARTS), default="text",
                        help="text: the pages and documents (23.4 MB); records: the short JSONL records")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--records", type=int, default=100_000, help="records in the corpus")
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.workers < 1:
        parser.error("--rounds and --workers must be 1 or more")

    corpus, corpus_summary = corpus_at(WORK / f"real-corpus-{args.records}", max(args.records, 1))
    inputs = [corpus / part for part in CORPUS_PARTS[args.corpus]]
    commit, earlier_tree = check_out(args.revision)
    trees = {EARLIER: earlier_tree, THIS: REPO_ROOT}
    outputs = {label: WORK / "real-out" / f"ab-{label}" for label in trees}
    runs: dict[str, list[dict]] = {label: [] for label in trees}
    try:
        for tree in trees.values():
            version_environment(tree)   # refuses a tree whose runs would import another `pipeline`
        print(f"# {args.revision} ({commit[:12]}) against this working tree, {args.corpus}, "
              f"{args.workers} worker(s), load {load_average()}", flush=True)
        for number in range(args.rounds):
            order = [EARLIER, THIS] if number % 2 == 0 else [THIS, EARLIER]
            for label in order:
                figures = pipeline_run(inputs, args.workers, outputs[label].name, tree=trees[label])
                runs[label].append(figures)
                print(f"  round {number + 1} {label:<8} CPU {figures['cpu_s']:6.2f} s  wall "
                      f"{figures['wall_s']:6.2f} s  peak RSS {figures['peak_rss_largest_mb']:5.0f} MB  "
                      f"load {load_average()}", flush=True)
        verdicts = compare_outputs(outputs[EARLIER], outputs[THIS])
    finally:
        remove_checkout(earlier_tree)

    megabytes, items = part_totals(corpus_summary, CORPUS_PARTS[args.corpus])
    figures = {label: summarise(label_runs, megabytes, items) for label, label_runs in runs.items()}
    change = figures[THIS]["cpu_s"] / figures[EARLIER]["cpu_s"] - 1
    for label in trees:
        print(f"{label:<8} CPU median {figures[label]['cpu_s']:6.2f} s {figures[label]['cpu_s_all']}, "
              f"peak RSS {figures[label]['peak_rss_largest_mb']:.0f} MB")
    print(f"CPU change: {change:+.1%}")
    for dataset, verdict in verdicts.items():
        print(f"  {dataset}: {verdict}")
    report = {"date": datetime.datetime.now().isoformat(timespec="minutes"), "machine": platform.node(),
              "revision": args.revision, "commit": commit, "corpus": args.corpus,
              "corpus_summary": {part: corpus_summary[part] for part in CORPUS_PARTS[args.corpus]},
              "workers": args.workers, "runs": runs, "figures": figures, "cpu_change": change,
              "outputs": verdicts}
    save_report(report, "ab")
    return 0 if outputs_match(verdicts) else 1


if __name__ == "__main__":
    sys.exit(main())
