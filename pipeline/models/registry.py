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

import hashlib
import logging
import re
import tomllib
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Mapping, Sequence

from pipeline.errors import ConfigurationError
from pipeline.models.hub import (CONFIG_FILES, SAFETENSORS, SAFETENSORS_INDEX, HubError, fetch_model,
                                 hub_status, read_source)
from pipeline.roots import MODEL_SETTING, check_path

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

# What is read from the Hugging Face cache: nothing that can hold pickled code.
MODEL_FILES = [*CONFIG_FILES, "*.safetensors", SAFETENSORS_INDEX]
# Languages the fallback model serves that are common enough to be worth detecting by default.
FALLBACK_DETECTED = ("fa",)
log = logging.getLogger(__name__)
# owner/name in the characters the hub allows; `..` and `--` the hub refuses inside either part.
_HUB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.\-]*/[A-Za-z0-9][A-Za-z0-9_.\-]*$")
_COMMIT = re.compile(r"^[0-9a-f]{40}$")


class ModelUnavailableError(ConfigurationError, RuntimeError):
    """An explicitly configured model cannot be loaded; the message is one line that says what to do."""


class ModelNotFound(Exception):
    """A model is not available where it was looked for (internal; the reason is in the message)."""


class ModelOrigin(StrEnum):
    """Where the model configured for a language comes from, first match wins (see the module doc)."""

    OVERRIDE = "override"    # the run's --model LANG=ID_OR_DIR (the trigger form's `models`)
    REGISTRY = "registry"    # [models] of registry.toml in the model store
    DEFAULT = "default"      # the built-in OPUS-MT model of the language
    FALLBACK = "fallback"    # the multilingual model, for languages with none of the above


@dataclass(frozen=True)
class ModelChoice:
    """The model configured for a language, before anything is looked up."""

    lang: str
    spec: str  # hub id (optionally ``id@revision``) or a directory, as configured
    origin: ModelOrigin

    @property
    def explicit(self) -> bool:
        return self.origin in (ModelOrigin.OVERRIDE, ModelOrigin.REGISTRY)

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


def split_revision(spec: str) -> tuple[str, str | None]:
    """``org/name@rev`` -> (``org/name``, ``rev``); a pinned revision is optional."""
    repo, sep, revision = spec.partition("@")
    return (repo, revision) if sep and revision else (spec, None)


def is_hub_id(spec: str) -> bool:
    """Whether `spec` is a hub id, told by its form alone: whether some directory happens to exist
    decides nothing, or a path that climbs out of the store would pass for an id. Anything else is a
    path, and a directory whose name has the form of an id is written `./owner/name`."""
    repo, _ = split_revision(spec)
    return bool(_HUB_ID.match(repo)) and ".." not in repo and "--" not in repo


def spec_directory(spec: str, models_dir: Path) -> Path:
    """The directory a model spec that is not a hub id names: as given when it is absolute or a
    directory from here, else under the model store."""
    given = Path(spec).expanduser()
    return given if given.is_absolute() or given.is_dir() else Path(models_dir) / given


def check_model_path(path: Path, spec: str, allowed_roots: Sequence[str] | None) -> None:
    """PathNotAllowedError unless `path`, links resolved, lies inside the allowed model roots."""
    check_path(path, allowed_roots, MODEL_SETTING, f"model {spec}")


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
            return ModelChoice(lang, self.overrides[lang], ModelOrigin.OVERRIDE)
        if lang in self.entries:
            return ModelChoice(lang, self.entries[lang], ModelOrigin.REGISTRY)
        if lang in DEFAULT_MODELS:
            return ModelChoice(lang, DEFAULT_MODELS[lang], ModelOrigin.DEFAULT)
        if self.fallback:
            return ModelChoice(lang, self.fallback, ModelOrigin.FALLBACK)
        return None

    def languages(self) -> list[str]:
        return sorted(set(DEFAULT_MODELS) | set(self.entries) | set(self.overrides))

    def detection_languages(self) -> frozenset[str]:
        """Candidates for language detection: every language with a model here, English, and the
        common languages the fallback serves (detected even without a model, so that their text is
        not taken for a neighbouring language and sent to that language's model)."""
        return frozenset(self.languages()) | {"en"} | frozenset(FALLBACK_DETECTED)


def _has_weights(path: Path) -> bool:
    """A model folder: config.json and the weights transformers loads (not just any *.safetensors)."""
    return (path / "config.json").is_file() and (
        (path / SAFETENSORS).is_file() or (path / SAFETENSORS_INDEX).is_file())


_REVISIONS: dict[tuple, str] = {}


def directory_revision(path: Path) -> str:
    """The hub commit a fetched directory came from, else a short hash of its config and weights."""
    source = read_source(path)
    if source is not None:
        return source.revision
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


def _directory_location(spec: str, models_dir: Path, allowed_roots: Sequence[str] | None) -> ModelLocation:
    directory = spec_directory(spec, models_dir)
    check_model_path(directory, spec, allowed_roots)
    if not directory.is_dir():
        raise ModelNotFound(f"directory {spec} not found")
    if not _has_weights(directory):
        raise ModelNotFound(
            f"directory {directory} has no config.json with {SAFETENSORS} (or {SAFETENSORS_INDEX})")
    return ModelLocation(spec, directory.resolve(), directory_revision(directory), "directory")


def check_model_files(path: Path) -> None:
    """Raise ModelNotFound unless the folder's configuration parses, its tokenizer files are there and
    its safetensors headers can be read: a check that loads no weights."""
    import json

    from safetensors import safe_open

    try:
        json.loads((path / "config.json").read_text(encoding="utf-8"))
        missing = [name for name in ("source.spm", "target.spm", "vocab.json") if not (path / name).is_file()]
        if missing:
            raise FileNotFoundError(f"no {', '.join(missing)}")
        if (path / SAFETENSORS).is_file():
            weights = [path / SAFETENSORS]
        else:
            index = json.loads((path / SAFETENSORS_INDEX).read_text(encoding="utf-8"))
            weights = [path / name for name in sorted(set(index["weight_map"].values()))]
        for file in weights:
            with safe_open(str(file), framework="pt") as handle:
                if not list(handle.keys()):
                    raise ValueError(f"{file.name} holds no tensors")
    except Exception as error:  # whatever is wrong, the folder is not a usable model
        message = " ".join(str(error).split())[:300] or "no message"
        raise ModelNotFound(f"{path} does not load ({type(error).__name__}: {message})") from error


def _stored(repo: str, revision: str | None, models_dir: Path,
            allowed_roots: Sequence[str] | None = None) -> ModelLocation | None:
    """The local store's copy, if it holds this repository at the pinned revision (any, unpinned)."""
    stored = models_dir / store_name(repo)
    if not stored.exists():
        return None
    check_model_path(stored, repo, allowed_roots)   # the store's folder may be a link that leads out
    if not _has_weights(stored):
        return None
    source = read_source(stored)
    if source is not None and (source.repo != repo or not source.matches(revision)):
        return None
    return ModelLocation(repo, stored.resolve(), directory_revision(stored), "store")


def locate(spec: str, models_dir: Path, *, download: bool = True,
           allowed_roots: Sequence[str] | None = None) -> ModelLocation:
    """Find a model: a directory, the local store, the Hugging Face cache, then (online) the hub.

    A download goes into the local store (see :func:`fetch_into_store`). Raises ModelNotFound with the
    reason when the model is nowhere it may be loaded from, and PathNotAllowedError when the directory
    or the store's folder, links resolved, lies outside `allowed_roots` (None: unrestricted). The
    Hugging Face cache holds hub ids only and is not a path of the run's settings.
    """
    models_dir = Path(models_dir)
    if not is_hub_id(spec):
        return _directory_location(spec, models_dir, allowed_roots)
    repo, revision = split_revision(spec)
    stored = _stored(repo, revision, models_dir, allowed_roots)
    if stored is not None:
        return stored

    from huggingface_hub import snapshot_download
    from huggingface_hub.errors import LocalEntryNotFoundError

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
    status = hub_status()
    if not status.usable:
        raise ModelNotFound(f"not in the local store or the Hugging Face cache, and the hub is "
                            f"{status.describe()}")
    try:
        fetch_into_store(spec, models_dir)
    except HubError as error:
        raise ModelNotFound(str(error)) from error
    location = _stored(repo, revision, models_dir, allowed_roots)
    assert location is not None, "a completed fetch leaves the model in the store"
    return ModelLocation(repo, location.path, location.revision, "hub")


def fetch_into_store(spec: str, models_dir: Path) -> Path:
    """Download hub model `spec` (``org/name[@REV]``) into ``<models_dir>/<name>/``; HubError if it cannot."""
    repo, revision = split_revision(spec)
    target = Path(models_dir) / store_name(repo)
    target.parent.mkdir(parents=True, exist_ok=True)
    source = fetch_model(repo, revision, target)
    log.info("fetched %s@%s (%s weights) into %s", repo, source.revision, source.weights, target)
    return target


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
    """Download the language's configured hub model into ``<models_dir>/<name>/`` (see the weight policy
    in :mod:`pipeline.models.hub`)."""
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
    target = models_dir / store_name(choice.hub_id)
    try:
        return fetch_into_store(choice.spec, models_dir)
    except HubError as error:
        raise ModelUnavailableError(
            f"cannot fetch {choice.spec}: {error}; run `python -m pipeline models fetch {lang}` on a "
            f"connected machine and copy {target}/ here"
        ) from error
