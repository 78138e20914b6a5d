"""Command line: `python -m pipeline run|detect|models` (the contract in DESIGN.md and the README)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn, Sequence

if TYPE_CHECKING:
    from pipeline.settings import Option, RunSettings


def _language(value: str) -> str:
    """A language code, checked by the validator the trigger form's settings go through too."""
    from pipeline.settings import SettingsError, language_code

    try:
        return language_code("language", value)
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _positive(value: str) -> int:
    if not value.isdigit() or int(value) < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value!r}")
    return int(value)


def _language_model(value: str) -> tuple[str, str]:
    lang, sep, model = value.partition("=")
    if not sep or not lang or not model.strip():
        raise argparse.ArgumentTypeError(f"expected LANG=MODEL_ID_OR_DIR, got {value!r}")
    return _language(lang), model.strip()


def _add_option(parser: argparse.ArgumentParser, option: Option) -> None:
    """The command-line flag of a run setting, from its one definition (pipeline.settings.OPTIONS)."""
    help_text = option.help
    if option.kind is bool:
        # A setting on by default is turned off by its --no- flag.
        action = argparse.BooleanOptionalAction if option.default else "store_true"
        parser.add_argument(option.flag, dest=option.name, action=action, default=option.default,
                            help=help_text)
        return
    if option.kind is list:
        parser.add_argument(option.flag, dest=option.name, action="append", default=[], type=_language,
                            metavar=option.metavar, help=f"{help_text} Repeatable.")
        return
    shown = option.shown_default if option.default is None else option.default
    parser.add_argument(option.flag, dest=option.name, type=option.kind, default=option.default,
                        choices=list(option.choices) or None, metavar=option.metavar,
                        help=f"{help_text} (default: {shown})")


# What one worker holds at its peak on the benchmarks' real text, most of it its language detectors:
# 421 MB on scraped English pages, 649 MB on short records in 18 languages.
WORKER_MEMORY_BYTES = 700 * 2**20
# The shell's status for a command ended by Ctrl-C (128 + SIGINT), so that scripts tell it from an error.
INTERRUPTED_STATUS = 130
DASH_PATH_HINT = "a path that starts with '-' is given as ./-x.txt or after two dashes: --input -- -x.txt"


class _Parser(argparse.ArgumentParser):
    """Errors about a missing path or an unknown option say how to give a path that starts with '-'
    (argparse takes `-x.txt` for an option); the subcommands' parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        if "--input" in message or message.startswith("unrecognized arguments: -"):
            message = f"{message}; {DASH_PATH_HINT}"
        super().error(message)


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    _add_run_parser(commands)
    detect = commands.add_parser("detect", help="print the language of every cleaned paragraph of FILE")
    detect.add_argument("file", type=Path, metavar="FILE")
    from pipeline.models.cli import add_models_parser

    add_models_parser(commands)
    from pipeline.export.cli import add_export_parser

    add_export_parser(commands)
    return parser


def _add_run_parser(commands: argparse._SubParsersAction) -> None:
    from pipeline.settings import OPTIONS

    run = commands.add_parser("run", help="process documents into aligned bilingual Parquet datasets")
    run.add_argument("--input", nargs="*", action="extend", required=True, metavar="PATH",
                     help=f"files, directories or glob patterns (.txt .md .html .jsonl); {DASH_PATH_HINT}")
    # What follows `--` (or stands alone) is more input paths, so that `--input -- -x.txt` names a file.
    run.add_argument("input", nargs="*", action="extend", help=argparse.SUPPRESS)
    run.add_argument("--output", required=True, type=Path, metavar="DIR")
    run.add_argument("--run-id", help="identifier of this run (default: derived from the time)")
    run.add_argument("--models-dir", type=Path, default=Path("models"), metavar="DIR",
                     help="local model store (default: ./models)")
    run.add_argument("--model", dest="models", action="append", type=_language_model, default=[],
                     metavar="LANG=MODEL_ID_OR_DIR", help="override the model registry for a language")
    for option in OPTIONS:
        _add_option(run, option)
    run.add_argument("--max-input-mb", type=float, default=50.0,
                     help="inputs larger than this are rejected as too_large")
    run.add_argument("--shard-size", type=int, default=1000,
                     help="documents per batch; a shard is this many files or fewer that hold 2 MB of "
                          "input, or a 2 MB piece of a large JSONL file; a Parquet part holds one batch, "
                          "or several small ones up to 8 MB of input")
    run.add_argument("--workers", type=_positive, default=None, metavar="N",
                     help="processes that prepare shards at once; the shards and their batches are the "
                          "same with any number, and so is the output (default: the machine's cores, "
                          f"{os.cpu_count() or 1} here, or fewer where its available memory holds fewer "
                          f"at {WORKER_MEMORY_BYTES / 2**30:.1f} GB each)")
    run.add_argument("--max-loaded-models", type=int, default=None, metavar="N",
                     help="translation models kept in memory at once (default: sized to the machine's "
                          "memory, about 0.5 GB each)")


def _detect(file: Path) -> int:
    """`python -m pipeline detect FILE`: each paragraph's language as a run finds it, one JSON line each."""
    from pipeline.models.registry import Registry
    from pipeline.phases.prepare import detected_documents
    from pipeline.records import Reject

    rejects: list[Reject] = []
    languages = Registry(Path("models")).detection_languages()
    for record in detected_documents([str(file)], languages, rejects=rejects):
        for index, (text, guess) in enumerate(zip(record.cleaned.paragraphs, record.languages)):
            line = {"index": index, "lang": guess.lang, "score": round(guess.score, 4), "text": text}
            if record.raw.source_record is not None:   # a JSONL record: its own id, else its line
                line["record"] = record.raw.record_id or record.raw.source_record
            print(json.dumps(line, ensure_ascii=False))
    for item in rejects:
        print(f"error: {item.source_path}: {item.reason}: {item.detail}", file=sys.stderr)
    return 1 if rejects else 0


def settings_from_args(args: argparse.Namespace) -> RunSettings:
    """RunSettings from the parsed `run` command line; allowed roots only from the environment."""
    from pipeline.roots import INPUT_SETTING, MODEL_SETTING, OUTPUT_SETTING, roots_from_env
    from pipeline.settings import OPTIONS, RunSettings, new_run_id

    return RunSettings(
        output=args.output,
        run_id=args.run_id or new_run_id(),
        models_dir=args.models_dir,
        model_overrides=dict(args.models),
        max_input_bytes=max(1, int(args.max_input_mb * 2**20)),
        shard_size=args.shard_size,
        allowed_input_roots=roots_from_env(INPUT_SETTING),
        allowed_output_roots=roots_from_env(OUTPUT_SETTING),
        allowed_model_roots=roots_from_env(MODEL_SETTING),
        max_loaded_models=args.max_loaded_models,
        **{option.name: getattr(args, option.name) for option in OPTIONS},
    )


def default_workers(cores: int | None = None, available_memory: int | None = None) -> int:
    """The machine's cores, or fewer where its available memory holds fewer workers of
    WORKER_MEMORY_BYTES: a worker killed for lack of memory ends the run."""
    cores = cores or os.cpu_count() or 1
    if available_memory is None:
        import psutil

        available_memory = psutil.virtual_memory().available
    return max(1, min(cores, available_memory // WORKER_MEMORY_BYTES))


def run_from_cli(args: argparse.Namespace) -> int:
    """`python -m pipeline run`: print the summary, or one `error: ...` line and exit 1 when the run
    cannot complete (bad settings, unusable output directory, a configured model that cannot load, a
    worker process killed); one `interrupted: ...` line and INTERRUPTED_STATUS on Ctrl-C."""
    from pipeline.errors import ConfigurationError
    from pipeline.phases.memory import convert_lists_without_pandas
    from pipeline.phases.runner import WorkerLost, run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    convert_lists_without_pandas()
    cores = os.cpu_count() or 1
    workers = args.workers or default_workers(cores)
    if args.workers is None and workers < cores:
        from pipeline.phases.plan import plural

        logging.getLogger(__name__).info(
            "%s for %s: the available memory holds no more at %.1f GB each (--workers sets the number)",
            plural(workers, "worker"), plural(cores, "core"), WORKER_MEMORY_BYTES / 2**30)
    try:
        summary = run(args.input, settings_from_args(args), workers=workers)
    except (ConfigurationError, OSError, WorkerLost) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("interrupted: the shards committed so far stay in the output, and the same command run "
              "again completes the run", file=sys.stderr)
        return INTERRUPTED_STATUS
    print(summary.format())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "run" and not args.input:
        parser.error("argument --input: expected at least one PATH")
    try:
        return _dispatch(args)
    except BrokenPipeError:
        # The reader (`| head`) has what it wanted. Point stdout at /dev/null so that the flush at exit
        # does not raise again (the recipe of Python's `signal` documentation).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _dispatch(args: argparse.Namespace) -> int:
    if args.command == "run":
        return run_from_cli(args)
    if args.command == "detect":
        return _detect(args.file)
    if args.command == "export":
        from pipeline.export.cli import run_export

        return run_export(args)
    from pipeline.models.cli import models_cli

    return models_cli(args)
