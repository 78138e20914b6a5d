"""Translation models: which model serves a language, where it loads from, and the `models` command.

Resolution of a source language, first match wins: a per-run override (``--model LANG=ID_OR_DIR``), an
entry of ``[models]`` in ``<models_dir>/registry.toml``, the built-in OPUS-MT default, the multilingual
fallback. Overrides and registry entries are explicit: if such a model cannot be loaded the run stops
with :class:`ModelUnavailableError`. Defaults and the fallback are not: an unavailable one leaves its
sentences untranslated and is reported, so that a run offline still completes.

A hub id loads from the local store ``<models_dir>/<name>/`` first, then the Hugging Face cache, then
the hub (unless ``HF_HUB_OFFLINE`` or ``TRANSFORMERS_OFFLINE`` is set). Weights are safetensors only.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import re
import sys
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Mapping

from pipeline.errors import ConfigurationError

OPUS_MT = "Helsinki-NLP/opus-mt-{}-en"
# Languages with a dedicated OPUS-MT model into English (see models/README.md for how each was checked).
DEFAULT_MODELS: dict[str, str] = {
    **{
        lang: OPUS_MT.format(lang)
        for lang in (
            "ar",
            "zh",
            "fr",
            "es",
            "de",
            "ru",
            "ja",
            "ko",
            "it",
            "nl",
            "pl",
            "tr",
            "uk",
            "hi",
            "id",
            "vi",
            "ur",
        )
    },
    # No opus-mt-pt-en exists; the Romance-languages model reads Portuguese and needs no target token.
    "pt": "Helsinki-NLP/opus-mt-ROMANCE-en",
}
# Reads many source languages and writes English without a target-language token; its quality is
# clearly below the single-pair models, so it only serves languages that have none.
FALLBACK_MODEL = "Helsinki-NLP/opus-mt-mul-en"
REGISTRY_FILE = "registry.toml"

# What a model directory needs; nothing that can hold pickled code is ever downloaded.
MODEL_FILES = [
    "*.safetensors",
    "config.json",
    "generation_config.json",
    "source.spm",
    "target.spm",
    "vocab.json",
    "target_vocab.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
]
_HUB_ID = re.compile(r"^[A-Za-z0-9][\w.\-]*/[\w.\-]+$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")
_TRUE = {"1", "true", "yes", "on"}


class ModelUnavailableError(ConfigurationError, RuntimeError):
    """An explicitly configured model cannot be loaded; the message is one line that says what to do."""


class ModelNotFound(Exception):
    """A model is not available where it was looked for (internal; the reason is in the message)."""


@dataclass(frozen=True)
class ModelChoice:
    """The model configured for a language, before anything is looked up."""

    lang: str
    spec: str  # hub id (optionally ``id@revision``) or a directory, as configured
    origin: str  # "override" | "registry" | "default" | "fallback"

    @property
    def explicit(self) -> bool:
        return self.origin in ("override", "registry")

    @property
    def hub_id(self) -> str | None:
        repo, _ = split_revision(self.spec)
        return repo if is_hub_id(self.spec) else None


@dataclass(frozen=True)
class ModelLocation:
    """Where a model was found: a directory with its files, and the revision that identifies it."""

    name: str  # the hub id, or the directory as configured
    path: Path
    revision: str
    where: str  # "store" | "directory" | "hf-cache" | "hub"

    @property
    def identity(self) -> str:
        return f"{self.name}@{self.revision}"


def is_offline() -> bool:
    return any(
        os.environ.get(var, "").strip().lower() in _TRUE for var in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")
    )


def split_revision(spec: str) -> tuple[str, str | None]:
    """``org/name@rev`` -> (``org/name``, ``rev``); a pinned revision is optional."""
    repo, sep, revision = spec.partition("@")
    return (repo, revision) if sep and revision else (spec, None)


def is_hub_id(spec: str) -> bool:
    repo, _ = split_revision(spec)
    return bool(_HUB_ID.match(repo)) and not Path(spec).expanduser().is_dir()


def store_name(hub_id: str) -> str:
    """``Helsinki-NLP/opus-mt-ar-en`` -> ``opus-mt-ar-en``: the folder name in the local store."""
    return split_revision(hub_id)[0].rsplit("/", 1)[-1]


def fetch_hint(lang: str, models_dir: Path, hub_id: str | None) -> str:
    where = f"{models_dir}/{store_name(hub_id)}/" if hub_id else f"a directory under {models_dir}/"
    return (
        f"run `python -m pipeline models fetch {lang}` on a connected machine (it downloads into "
        f"{where}), or put a save_pretrained copy in {where} or pass --model {lang}=DIR"
    )


def read_registry(models_dir: Path) -> tuple[dict[str, str], str | None]:
    """The user's ``[models]`` entries and the fallback (None when disabled) from registry.toml."""
    path = Path(models_dir) / REGISTRY_FILE
    if not path.is_file():
        return {}, FALLBACK_MODEL
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as error:
        raise ModelUnavailableError(f"cannot read the model registry {path}: {error}") from error
    models = data.get("models", {})
    fallback = data.get("fallback", {})
    if not isinstance(models, dict) or not all(isinstance(v, str) for v in models.values()):
        raise ModelUnavailableError(f"{path}: [models] must map a language code to a model id or directory")
    enabled = fallback.get("enabled", True)
    fallback_model = fallback.get("model", FALLBACK_MODEL) if enabled else None
    return {lang.lower(): spec for lang, spec in models.items()}, fallback_model


class Registry:
    """Language -> configured model, from overrides, registry.toml, defaults and the fallback."""

    def __init__(self, models_dir: Path = Path("models"), overrides: Mapping[str, str] | None = None):
        self.models_dir = Path(models_dir)
        self.overrides = {lang.lower(): spec for lang, spec in (overrides or {}).items()}
        self.entries, self.fallback = read_registry(self.models_dir)

    def choice(self, lang: str) -> ModelChoice | None:
        lang = lang.lower()
        if lang in self.overrides:
            return ModelChoice(lang, self.overrides[lang], "override")
        if lang in self.entries:
            return ModelChoice(lang, self.entries[lang], "registry")
        if lang in DEFAULT_MODELS:
            return ModelChoice(lang, DEFAULT_MODELS[lang], "default")
        if self.fallback:
            return ModelChoice(lang, self.fallback, "fallback")
        return None

    def languages(self) -> list[str]:
        return sorted(set(DEFAULT_MODELS) | set(self.entries) | set(self.overrides))


def _has_weights(path: Path) -> bool:
    return (path / "config.json").is_file() and any(path.glob("*.safetensors"))


_REVISIONS: dict[tuple, str] = {}


def directory_revision(path: Path) -> str:
    """The hub commit a fetched directory came from, else a short hash of its config and weights."""
    metadata = path / ".cache" / "huggingface" / "download" / "config.json.metadata"
    if metadata.is_file():
        first = metadata.read_text(encoding="utf-8").splitlines()[:1]
        if first and _COMMIT.match(first[0].strip()):
            return first[0].strip()
    files = [path / "config.json", *sorted(path.glob("*.safetensors"))]
    key = tuple((str(f), f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    if key not in _REVISIONS:
        digest = hashlib.blake2b(digest_size=16)
        for file in files:
            with file.open("rb") as handle:
                while block := handle.read(1 << 22):
                    digest.update(block)
        _REVISIONS[key] = digest.hexdigest()[:12]
    return _REVISIONS[key]


def _directory_location(spec: str, models_dir: Path) -> ModelLocation | None:
    for candidate in (Path(spec).expanduser(), models_dir / spec):
        if candidate.is_dir():
            if not _has_weights(candidate):
                raise ModelNotFound(f"directory {candidate} has no config.json and *.safetensors weights")
            return ModelLocation(spec, candidate.resolve(), directory_revision(candidate), "directory")
    return None


def locate(spec: str, models_dir: Path, *, download: bool = True) -> ModelLocation:
    """Find a model: a directory, the local store, the Hugging Face cache, then (online) the hub.

    Raises ModelNotFound with the reason when it is nowhere it may be loaded from.
    """
    models_dir = Path(models_dir)
    if not is_hub_id(spec):
        location = _directory_location(spec, models_dir)
        if location is None:
            raise ModelNotFound(f"directory {spec} not found")
        return location
    repo, revision = split_revision(spec)
    stored = models_dir / store_name(repo)
    if _has_weights(stored):
        return ModelLocation(repo, stored.resolve(), directory_revision(stored), "store")

    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import HfHubHTTPError, LocalEntryNotFoundError

    try:
        cached = Path(
            snapshot_download(repo, revision=revision, allow_patterns=MODEL_FILES, local_files_only=True)
        )
        if _has_weights(cached):
            return ModelLocation(repo, cached, cached.name, "hf-cache")
    except (LocalEntryNotFoundError, OSError, ValueError):
        pass
    if not download:
        raise ModelNotFound("not in the local store or the Hugging Face cache")
    if is_offline():
        raise ModelNotFound(
            "not in the local store or the Hugging Face cache, and the hub is off "
            "(HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set)"
        )
    try:
        downloaded = Path(
            snapshot_download(repo, revision=revision, allow_patterns=MODEL_FILES, etag_timeout=5)
        )
    except (HfHubHTTPError, LocalEntryNotFoundError, OSError, ValueError) as error:
        raise ModelNotFound(
            f"download from the hub failed ({type(error).__name__}: "
            f"{str(error).splitlines()[0] if str(error) else 'no detail'})"
        ) from error
    if not _has_weights(downloaded):
        raise ModelNotFound(
            f"the hub revision {downloaded.name} has no safetensors weights; pin one that "
            "has them as ID@REVISION"
        )
    return ModelLocation(repo, downloaded, downloaded.name, "hub")


def ct2_directory(model_dir: Path, quantization: str) -> Path:
    """Where `models convert` writes, and the CTranslate2 backend reads, a converted model."""
    return Path(model_dir) / f"ctranslate2-{quantization}"


def convert_to_ctranslate2(model_dir: Path, quantization: str = "int8", *, force: bool = False) -> Path:
    """Convert a local Marian directory to CTranslate2 beside it (``DIR/ctranslate2-<quantization>/``)."""
    from ctranslate2.converters import TransformersConverter

    model_dir = Path(model_dir)
    if not _has_weights(model_dir):
        raise ModelNotFound(f"{model_dir} is not a Marian model directory with safetensors weights")
    output = ct2_directory(model_dir, quantization)
    copy = [
        name for name in ("source.spm", "target.spm", "tokenizer_config.json") if (model_dir / name).is_file()
    ]
    converter = TransformersConverter(str(model_dir), copy_files=copy, trust_remote_code=False)
    converter.convert(str(output), quantization=quantization, force=force or output.exists())
    return output


def fetch(lang: str, models_dir: Path) -> Path:
    """Download the language's configured hub model into ``<models_dir>/<name>/`` (safetensors only)."""
    models_dir = Path(models_dir)
    choice = Registry(models_dir).choice(lang)
    if choice is None:
        raise ModelUnavailableError(
            f"no model is configured for language '{lang}' and the fallback is disabled"
        )
    if choice.hub_id is None:
        raise ModelUnavailableError(
            f"language '{lang}' uses the directory {choice.spec}; there is nothing to fetch"
        )
    repo, revision = split_revision(choice.spec)
    target = models_dir / store_name(repo)
    if is_offline():
        raise ModelUnavailableError(
            f"cannot fetch {repo}: HF_HUB_OFFLINE/TRANSFORMERS_OFFLINE is set; run this "
            f"on a connected machine and copy {target}/ here"
        )
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(
            repo, revision=revision, local_dir=target, allow_patterns=MODEL_FILES, etag_timeout=5
        )
    except Exception as error:  # any failure of the download is reported the same way, in one line
        detail = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise ModelUnavailableError(
            f"cannot fetch {repo} from the Hugging Face hub ({detail}); run this on a "
            f"connected machine, or copy a save_pretrained directory to {target}/"
        ) from error
    if not _has_weights(target):
        raise ModelUnavailableError(
            f"{repo} has no safetensors weights at revision {revision or 'main'}; pin a "
            f"revision that has them in {models_dir / REGISTRY_FILE} as "
            f'{lang} = "{repo}@REVISION"'
        )
    return target


def availability(choice: ModelChoice, models_dir: Path) -> str:
    """Where the model would load from, without touching the network."""
    try:
        location = locate(choice.spec, models_dir, download=False)
    except ModelNotFound as missing:
        if choice.hub_id and not is_offline():
            return "download from the hub on first use"
        return f"NOT AVAILABLE ({missing}); `python -m pipeline models fetch {choice.lang}`"
    return f"{location.where}: {location.path} @ {location.revision}"


def _list(models_dir: Path) -> int:
    registry = Registry(models_dir)
    rows = [(lang, registry.choice(lang)) for lang in registry.languages()]
    print(f"{'lang':<6} {'model':<36} {'origin':<9} where")
    for lang, choice in rows:
        assert choice is not None
        print(f"{lang:<6} {choice.spec:<36} {choice.origin:<9} {availability(choice, models_dir)}")
    if registry.fallback:
        fallback = ModelChoice("*", registry.fallback, "fallback")
        print(f"{'*':<6} {registry.fallback:<36} {'fallback':<9} {availability(fallback, models_dir)}")
    else:
        print("*      (no fallback: other languages stay untranslated)")
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
        if args.models_command == "build-test-model":
            from pipeline.tiny_model import build_test_model

            print(build_test_model(args.directory, max_positions=args.max_positions, langs=args.langs))
            return 0
        if args.models_command == "convert":
            print(convert_to_ctranslate2(args.directory, args.quantization))
            return 0
    except (ModelUnavailableError, ModelNotFound, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    raise ValueError(f"unknown models command {args.models_command!r}")
