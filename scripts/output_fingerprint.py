"""Fingerprint of what a run writes, for comparing two versions of the code row for row.

Runs `python -m pipeline run` (a fresh process, so the code under test is the installed or checked-out
package) over the given inputs into a new output directory, then prints, for every dataset, its row count
and a SHA-256 of its rows in a canonical order, leaving out the columns that differ from run to run (run
ids and times), with input paths under the working directory made relative. With `--dump DIR` it also
writes each dataset's canonical rows as JSON lines, so that two fingerprints that differ can be compared
with `diff`. `--ignore-columns` leaves more columns out (a column a change adds), so the rows of the
others can be compared with those of a version without it.

    python scripts/output_fingerprint.py --work /tmp/fp --input samples ../shared/corpus/seeds \
        -- --model ar=/tmp/tiny-ar-en
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pyarrow.dataset as ds

DATASETS = ("documents", "paragraphs", "sentences", "rejects", "removed")
VARYING_COLUMNS = {"run_id", "processed_at", "rejected_at"}


def canonical_rows(directory: Path, ignored: frozenset[str] = frozenset()) -> list[str]:
    """The rows of one dataset as sorted JSON strings, without the columns that vary between runs and
    those `ignored`."""
    table = ds.dataset(directory, format="parquet", partitioning="hive").to_table()
    kept = [name for name in table.column_names if name not in VARYING_COLUMNS | ignored]
    rows = table.select(kept).to_pylist()
    # Two checkouts of the code read the same bundled samples from different places.
    here = str(Path.cwd()) + "/"
    for row in rows:
        if isinstance(row.get("source_path"), str) and row["source_path"].startswith(here):
            row["source_path"] = row["source_path"][len(here):]
    return sorted(json.dumps(row, sort_keys=True, ensure_ascii=False, default=str) for row in rows)


def fingerprint(output: Path, dump: Path | None, ignored: frozenset[str] = frozenset(),
                ) -> dict[str, dict[str, object]]:
    result: dict[str, dict[str, object]] = {}
    for name in DATASETS:
        if not (output / name).is_dir():
            continue
        rows = canonical_rows(output / name, ignored)
        digest = hashlib.sha256("\n".join(rows).encode()).hexdigest()
        result[name] = {"rows": len(rows), "sha256": digest}
        if dump is not None:
            dump.mkdir(parents=True, exist_ok=True)
            (dump / f"{name}.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--work", type=Path, required=True, help="scratch directory (emptied first)")
    parser.add_argument("--input", nargs="+", required=True, help="inputs of the run")
    parser.add_argument("--dump", type=Path, help="write each dataset's canonical rows here")
    parser.add_argument("--ignore-columns", default="", metavar="NAME,...",
                        help="columns left out of every dataset's rows, comma-separated")
    parser.add_argument("run_options", nargs="*", help="more options of `pipeline run` (after --)")
    args = parser.parse_args()
    shutil.rmtree(args.work, ignore_errors=True)
    output = args.work / "output"
    command = [sys.executable, "-m", "pipeline", "run", "--input", *args.input, "--output", str(output),
               "--run-id", "fingerprint", *args.run_options]
    completed = subprocess.run(command, capture_output=True, text=True)
    if completed.returncode != 0:
        print(completed.stderr[-4000:], file=sys.stderr)
        return completed.returncode
    ignored = frozenset(name for name in args.ignore_columns.split(",") if name)
    print(json.dumps(fingerprint(output, args.dump, ignored), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
