"""`python -m pipeline models list|fetch|prefetch|build-test-model|convert`: the model store from the
command line."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from pipeline.models.hub import HubError, HubStatus, known_hub_status
from pipeline.models.registry import (ModelChoice, ModelNotFound, ModelOrigin, ModelUnavailableError,
                                      Registry, convert_to_ctranslate2, directory_revision, fetch, fetch_hint,
                                      fetch_into_store, hub_status, locate, store_name)


def add_models_parser(commands: argparse._SubParsersAction) -> None:
    models = commands.add_parser("models", help="the translation model registry and local store")
    models.add_argument("--models-dir", type=Path, default=Path("models"), metavar="DIR")
    model_commands = models.add_subparsers(dest="models_command", required=True)
    model_commands.add_parser("list", help="each language, its model, and whether it is available")
    fetch_command = model_commands.add_parser("fetch",
                                              help="download a language's model into the local store")
    fetch_command.add_argument("lang", metavar="LANG")
    prefetch_command = model_commands.add_parser(
        "prefetch", help="download the models the documents of these inputs need, if the hub is reachable")
    prefetch_command.add_argument("--input", dest="inputs", nargs="+", required=True, metavar="PATH")
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


def input_languages(inputs: list[str], languages: frozenset[str]) -> set[str]:
    """The paragraph languages of the documents in `inputs`, read, cleaned and detected by the stages of
    a run."""
    from pipeline.phases.prepare import detected_documents
    from pipeline.stages.ingest import expand_inputs

    files = [str(item) for item in expand_inputs(inputs) if isinstance(item, Path)]
    return {guess.lang for record in detected_documents(files, languages) for guess in record.languages}


def prefetch(inputs: list[str], models_dir: Path) -> int:
    """Download the hub models that the documents of `inputs` need and the store lacks.

    The hub is asked once whether it is reachable; when it is not (or offline is set) nothing is
    downloaded and the lines printed say how to get each model. Exit status 0 either way: a run without
    a model still completes, with those sentences untranslated.
    """
    models_dir = Path(models_dir)
    registry = Registry(models_dir)
    needed: dict[str, list[str]] = {}
    for lang in sorted(input_languages(inputs, registry.detection_languages()) - {"en", "und"}):
        choice = registry.choice(lang)
        if choice is None or choice.hub_id is None:
            continue
        try:
            locate(choice.spec, models_dir, download=False)
        except ModelNotFound:
            needed.setdefault(choice.spec, []).append(lang)
    if not needed:
        print("models: every model these inputs need is already available")
        return 0
    status = hub_status()
    if not status.usable:
        print(f"models: the Hugging Face hub is {status.describe()}; running offline, without "
              f"{len(needed)} model(s):")
        for spec, langs in needed.items():
            print(f"  {' '.join(langs)}: {spec}: {fetch_hint(langs[0], models_dir, spec)}")
        return 0
    print(f"models: fetching {len(needed)} model(s) into {models_dir}/ (about 300 MB each; "
          "MLP_FETCH_MODELS=0 skips this)")
    for spec, langs in needed.items():
        print(f"models: {spec} (for {' '.join(langs)})", flush=True)
        try:
            target = fetch_into_store(spec, models_dir)
        except HubError as error:
            print(f"models: {spec} not fetched: {error}")
            continue
        print(f"models: {spec} -> {target} @ {directory_revision(target)}", flush=True)
    return 0


def availability(choice: ModelChoice, models_dir: Path, hub: HubStatus | None = None) -> str:
    """Where the model would load from; for a hub model that is not local, whether the hub (`hub`, asked
    once by the caller) can supply it, and if not how to get it."""
    try:
        location = locate(choice.spec, models_dir, download=False)
    except ModelNotFound as missing:
        if choice.hub_id is None:
            return f"NOT AVAILABLE ({missing})"
        hub = hub or hub_status()
        if hub.usable:
            return "download from the hub on first use (into the local store)"
        how = (f"`python -m pipeline models fetch {choice.lang}`" if choice.lang != "*"
               else f"a save_pretrained copy of {choice.hub_id}")
        return (f"NOT AVAILABLE offline ({missing}; the hub is {hub.state}): get it on a connected machine "
                f"with {how}, then copy {models_dir}/{store_name(choice.hub_id)}/ here")
    return f"{location.where}: {location.path} @ {location.revision}"


def _list(models_dir: Path) -> int:
    registry = Registry(models_dir)
    rows = [(lang, registry.choice(lang)) for lang in registry.languages()]
    print(f"{'lang':<6} {'model':<36} {'origin':<9} where")
    for lang, choice in rows:
        assert choice is not None
        print(f"{lang:<6} {choice.spec:<36} {choice.origin:<9} {availability(choice, models_dir)}")
    if registry.fallback:
        fallback = ModelChoice("*", registry.fallback, ModelOrigin.FALLBACK)
        print(f"{'*':<6} {registry.fallback:<36} {fallback.origin:<9} {availability(fallback, models_dir)}")
    else:
        print("*      (no fallback: other languages stay untranslated)")
    status = known_hub_status()
    if status is not None:
        print(f"Hugging Face hub: {status.describe()}")
    return 0


def models_cli(args: argparse.Namespace) -> int:
    """`python -m pipeline models list|fetch|build-test-model|convert`."""
    models_dir = Path(args.models_dir)
    try:
        if args.models_command == "list":
            return _list(models_dir)
        if args.models_command == "fetch":
            print(fetch(args.lang, models_dir))
            return 0
        if args.models_command == "prefetch":
            return prefetch(args.inputs, models_dir)
        if args.models_command == "build-test-model":
            from pipeline.models.tiny import build_test_model

            print(build_test_model(args.directory, max_positions=args.max_positions, langs=args.langs))
            return 0
        if args.models_command == "convert":
            print(convert_to_ctranslate2(args.directory, args.quantization))
            return 0
    except (ModelUnavailableError, ModelNotFound, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    raise ValueError(f"unknown models command {args.models_command!r}")
