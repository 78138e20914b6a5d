"""Command line: `python -m pipeline run|detect|models` (the contract in DESIGN.md and the README)."""
from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

if TYPE_CHECKING:
    from pipeline.settings import RunSettings


def _language(value: str) -> str:
    """A language code, checked by the validator the trigger form's settings go through too."""
    from pipeline.settings import SettingsError, language_code

    try:
        return language_code("language", value)
    except SettingsError as error:
        raise argparse.ArgumentTypeError(str(error)) from error


def _language_model(value: str) -> tuple[str, str]:
    lang, sep, model = value.partition("=")
    if not sep or not lang or not model.strip():
        raise argparse.ArgumentTypeError(f"expected LANG=MODEL_ID_OR_DIR, got {value!r}")
    return _language(lang), model.strip()


def build_parser() -> argparse.ArgumentParser:
    from pipeline.settings import Device, TranslatorKind

    parser = argparse.ArgumentParser(prog="python -m pipeline", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)

    run = commands.add_parser("run", help="process documents into aligned bilingual Parquet datasets")
    run.add_argument("--input", nargs="+", required=True, metavar="PATH",
                     help="files, directories or glob patterns (.txt .md .html .jsonl)")
    run.add_argument("--output", required=True, type=Path, metavar="DIR")
    run.add_argument("--run-id", help="identifier of this run (default: derived from the time)")
    run.add_argument("--models-dir", type=Path, default=Path("models"), metavar="DIR",
                     help="local model store (default: ./models)")
    run.add_argument("--translator", choices=[kind.value for kind in TranslatorKind],
                     default=TranslatorKind.MARIAN.value)
    run.add_argument("--device", choices=[device.value for device in Device], default=Device.AUTO.value)
    run.add_argument("--force", action="store_true",
                     help="reprocess documents already in the output and replace their rows")
    run.add_argument("--model", dest="models", action="append", type=_language_model, default=[],
                     metavar="LANG=MODEL_ID_OR_DIR", help="override the model registry for a language")
    run.add_argument("--include-lang", dest="include_langs", action="append", default=[], type=_language,
                     metavar="LANG",
                     help="translate only these source languages (repeatable)")
    run.add_argument("--skip-lang", dest="skip_langs", action="append", default=[], type=_language,
                     metavar="LANG",
                     help="leave these source languages untranslated (repeatable)")
    run.add_argument("--num-beams", type=int, default=1, help="1 (greedy decoding) to 8")
    run.add_argument("--max-input-mb", type=float, default=50.0,
                     help="inputs larger than this are rejected as too_large")
    run.add_argument("--shard-size", type=int, default=1000,
                     help="documents per batch and Parquet part (and files per shard)")
    run.add_argument("--max-loaded-models", type=int, default=None, metavar="N",
                     help="translation models kept in memory at once (default: sized to the machine's "
                          "memory, about 0.5 GB each)")
    run.add_argument("--body-threshold", type=float, default=None, metavar="SCORE",
                     help="0 to 1: a line no rule removes is kept when its body score reaches this "
                          "(lines of fewer than four words need more); higher removes more boilerplate "
                          "and risks more body, 0 keeps every such line (default: 0.25)")
    run.add_argument("--site-repeats", type=int, default=None, metavar="N",
                     help="a line found in N or more pages of one site (url host) in a batch is "
                          "boilerplate; 2 or more (default: 3; larger than --shard-size turns it off)")

    detect = commands.add_parser("detect", help="print the language of every cleaned paragraph of FILE")
    detect.add_argument("file", type=Path, metavar="FILE")

    models = commands.add_parser("models", help="the translation model registry and local store")
    models.add_argument("--models-dir", type=Path, default=Path("models"), metavar="DIR")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    model_commands.add_parser("list", help="each language, its model, and whether it is available")
    fetch = model_commands.add_parser("fetch", help="download a language's model into the local store")
    fetch.add_argument("lang", metavar="LANG")
    prefetch = model_commands.add_parser(
        "prefetch", help="download the models the documents of these inputs need, if the hub is reachable")
    prefetch.add_argument("--input", dest="inputs", nargs="+", required=True, metavar="PATH")
    build = model_commands.add_parser("build-test-model",
                                      help="build a tiny random-weight MarianMT model (for tests only)")
    build.add_argument("directory", type=Path, metavar="DIR")
    build.add_argument("--max-positions", type=int, default=64)
    build.add_argument("--langs", nargs="+", default=None, metavar="LANG",
                       help="languages whose sample text trains the SentencePiece vocabulary")
    convert = model_commands.add_parser("convert", help="convert a local Marian directory to CTranslate2")
    convert.add_argument("directory", type=Path, metavar="DIR")
    convert.add_argument("--quantization", default="int8",
                         choices=("int8", "int8_float32", "int8_float16", "float16", "float32"))
    from pipeline.export.cli import add_export_parser

    add_export_parser(commands)
    return parser


def _detect(file: Path) -> int:
    from pipeline.clean import clean
    from pipeline.detect import detect_document
    from pipeline.ingest import read_documents
    from pipeline.records import Reject

    status = 0
    for item in read_documents([file]):
        if isinstance(item, Reject):
            print(f"error: {item.source_path}: {item.reason}: {item.detail}", file=sys.stderr)
            status = 1
            continue
        cleaned = clean(item.text, metadata=item.metadata)
        languages = detect_document(cleaned.paragraphs)
        for index, (text, guess) in enumerate(zip(cleaned.paragraphs, languages.paragraphs)):
            line = {"index": index, "lang": guess.lang, "score": round(guess.score, 4), "text": text}
            if item.source_record is not None:   # a JSONL record: its own id, else its line
                line["record"] = item.record_id or item.source_record
            print(json.dumps(line, ensure_ascii=False))
    return status


def settings_from_args(args: argparse.Namespace) -> RunSettings:
    """RunSettings from the parsed `run` command line; allowed roots only from the environment."""
    from pipeline.roots import INPUT_SETTING, MODEL_SETTING, OUTPUT_SETTING, roots_from_env
    from pipeline.settings import RunSettings, new_run_id

    return RunSettings(
        output=args.output,
        run_id=args.run_id or new_run_id(),
        models_dir=args.models_dir,
        model_overrides=dict(args.models),
        translator=args.translator,
        device=args.device,
        num_beams=args.num_beams,
        force=args.force,
        include_langs=frozenset(args.include_langs),
        skip_langs=frozenset(args.skip_langs),
        max_input_bytes=max(1, int(args.max_input_mb * 2**20)),
        shard_size=args.shard_size,
        allowed_input_roots=roots_from_env(INPUT_SETTING),
        allowed_output_roots=roots_from_env(OUTPUT_SETTING),
        allowed_model_roots=roots_from_env(MODEL_SETTING),
        max_loaded_models=args.max_loaded_models,
        body_threshold=args.body_threshold,
        site_repeats=args.site_repeats,
    )


def run_from_cli(args: argparse.Namespace) -> int:
    """`python -m pipeline run`: print the summary, or one `error: ...` line and exit 1 when the run
    cannot complete (bad settings, unusable output directory, a configured model that cannot load)."""
    from pipeline.errors import ConfigurationError
    from pipeline.runner import run

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    try:
        summary = run(args.input, settings_from_args(args))
    except (ConfigurationError, OSError) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1
    print(summary.format())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
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
    from pipeline.models import models_cli

    return models_cli(args)
