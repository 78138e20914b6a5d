"""`python -m pipeline export`: the command line of `export_pairs`."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from pipeline.export import FORMATS, REQUIRABLE_SIGNALS, STATUSES, UNITS

if TYPE_CHECKING:
    from pipeline.export.filters import ExportFilters


def add_export_parser(subparsers: Any) -> argparse.ArgumentParser:
    export = subparsers.add_parser(
        "export", help="write the aligned pairs of an output directory as TMX, Moses, HF datasets or JSONL")
    export.add_argument("--output", required=True, type=Path, metavar="DIR",
                        help="the pipeline's output directory")
    export.add_argument("--format", dest="fmt", required=True, choices=FORMATS)
    export.add_argument("--to", required=True, type=Path, metavar="DIR", help="directory to write into")
    export.add_argument("--unit", choices=tuple(UNITS), default="sentence",
                        help="sentence pairs (default) or paragraph pairs")
    export.add_argument("--min-len-ratio", type=float, default=None, metavar="R")
    export.add_argument("--max-len-ratio", type=float, default=None, metavar="R")
    export.add_argument("--require", action="append", default=[], metavar="SIGNALS",
                        help=f"comma-separated signals that must be true: {', '.join(REQUIRABLE_SIGNALS)}")
    export.add_argument("--no-flags", action="store_true", help="only pairs without quality_flags")
    export.add_argument("--status", dest="statuses", action="append", choices=STATUSES, default=None,
                        help="statuses to export (repeatable; default: translated)")
    export.add_argument("--region", default=None,
                        help="only rows of this region (needs a region column in the dataset)")
    export.add_argument("--dedup", action="store_true",
                        help="drop exact duplicate pairs and source sentences seen before")
    export.add_argument("--lang", dest="langs", action="append", default=[], metavar="LANG",
                        help="only these source languages (repeatable)")
    return export


def filters_from_args(args: argparse.Namespace) -> ExportFilters:
    from pipeline.export.filters import ExportFilters, parse_require

    return ExportFilters(
        min_len_ratio=args.min_len_ratio,
        max_len_ratio=args.max_len_ratio,
        require=parse_require(args.require),
        no_flags=args.no_flags,
        statuses=frozenset(args.statuses or ("translated",)),
        region=args.region,
        dedup=args.dedup,
        langs=frozenset(args.langs),
    )


def run_export(args: argparse.Namespace) -> int:
    """Print what each filter removed and what was written; `error: ...` and 1 when it cannot run."""
    from pipeline.export.api import export_pairs, use_system_memory_pool
    from pipeline.export.filters import ExportError

    use_system_memory_pool()
    try:
        report = export_pairs(args.output, args.to, args.fmt, unit=args.unit, filters=filters_from_args(args))
    except (ExportError, OSError) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1
    print("\n".join(report.lines()))
    return 0
