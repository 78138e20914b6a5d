"""Settings of one run, shared by the command line and the Airflow DAG (JSON-safe for XCom).

Light to import (no third-party module): the DAG file takes its choices from here when it is parsed.
"""
from __future__ import annotations

import dataclasses
import re
import secrets
from collections.abc import Mapping
from dataclasses import InitVar, dataclass, field
from datetime import datetime, timezone
from enum import StrEnum
from pathlib import Path
from typing import Any, TypeVar

from pipeline.errors import ConfigurationError
from pipeline.records import UntranslatedReason
from pipeline.roots import parse_roots


class TranslatorKind(StrEnum):
    """The engine that runs the translation models (the `translator` setting)."""

    MARIAN = "marian"              # transformers' MarianMTModel
    CTRANSLATE2 = "ctranslate2"    # the same models converted to CTranslate2


class Device(StrEnum):
    """Where the models run (the `device` setting); AUTO resolves to CUDA when present, else CPU."""

    AUTO = "auto"
    CPU = "cpu"
    CUDA = "cuda"


class CommentsPolicy(StrEnum):
    """What cleaning does with readers' comments below an article (the `comments` setting)."""

    KEEP = "keep"    # kept, translated and written like the article, with region "comments"
    DROP = "drop"    # removed by cleaning: neither translated nor written (removed/ lists them)


class DetectionAccuracy(StrEnum):
    """How lingua reads short text fastText is unsure of (the `detection_accuracy` setting)."""

    HIGH = "high"    # every n-gram length, one to five: about 350 MB of models in a process
    LOW = "low"      # trigrams only: about 30 MB; short lines are misjudged more often


DEFAULT_MAX_BATCH_TOKENS = 4096
MAX_BEAMS = 8
ENGLISH = "en"
# Cleaning: a line no rule removes is body when its body score reaches BODY_THRESHOLD; a line of a site
# found in MIN_SITE_REPEATS pages of a batch is boilerplate (pipeline.stages.clean).
BODY_THRESHOLD = 0.25
MIN_SITE_REPEATS = 3
# A language code as the command line and the trigger form take it (any case): an ISO 639 code with
# optional BCP 47 subtags, such as "ar", "fil" or "zh-Hant". Also the form's JSON-schema pattern.
LANGUAGE_CODE_PATTERN = r"^[A-Za-z]{2,3}(?:-[A-Za-z0-9]{2,8})*$"
_LANGUAGE = re.compile(LANGUAGE_CODE_PATTERN)
_Choice = TypeVar("_Choice", bound=StrEnum)
_UNSAFE_RUN_ID = re.compile(r"[^A-Za-z0-9._-]+")
# An ISO 8601 time with a UTC offset at the end of a run id, as in Airflow's "manual__2026-...+00:00".
_TRAILING_TIMESTAMP = re.compile(r"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?[+-]\d{2}:?\d{2})$")


class SettingsError(ConfigurationError, ValueError):
    """A setting has an invalid value; the message names the setting."""


def new_run_id(now: datetime | None = None) -> str:
    """A sortable, unique run id such as "20261122T073000Z-3f2a"."""
    now = now or datetime.now(timezone.utc)
    return f"{now.astimezone(timezone.utc):%Y%m%dT%H%M%SZ}-{secrets.token_hex(2)}"


def _utc_suffix(match: re.Match[str]) -> str:
    moment = datetime.fromisoformat(match.group(1)).astimezone(timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ" if moment.microsecond else "%Y-%m-%dT%H:%M:%SZ")


def sanitize_run_id(run_id: str) -> str:
    """`run_id` reduced to [A-Za-z0-9._-] (it names a file); raises SettingsError when nothing is left.

    A trailing timestamp with an offset is written in UTC with a `Z`: "+00:00" would become "-00-00",
    which reads as a negative offset.
    """
    try:
        run_id = _TRAILING_TIMESTAMP.sub(_utc_suffix, run_id.strip())
    except ValueError:  # not a real date after all: sanitise it as it is
        pass
    cleaned = _UNSAFE_RUN_ID.sub("-", run_id.strip()).strip("-.")
    if not cleaned:
        raise SettingsError(f"run_id {run_id!r} has no usable character (allowed: A-Z a-z 0-9 . _ -)")
    return cleaned


def known_languages(models_dir: Path | str = Path("models")) -> frozenset[str]:
    """The languages a run can name: those detection can report with the model registry (defaults,
    registry.toml): every language with a model, English, and the common ones the fallback serves."""
    from pipeline.models.registry import Registry

    return Registry(Path(models_dir)).detection_languages()


def language_code(name: str, value: Any, known: frozenset[str] | None = None) -> str:
    """`value` as a lower-case language code; raises SettingsError naming the setting `name`.

    The one check behind the command line's `--include-lang`/`--skip-lang`/`--model` and the trigger
    form's `include_langs`/`skip_langs`/`models`. With `known`, a code whose language (its primary
    subtag: "zh" of "zh-Hant") is not in it is refused with the list of known ones.
    """
    code = str(value).strip()
    if not _LANGUAGE.match(code):
        raise SettingsError(f"{name}: {value!r} is not a language code such as 'ar', 'fil' or 'zh-Hant'")
    code = code.lower()
    if known is not None and code not in known and code.split("-", 1)[0] not in known:
        raise SettingsError(f"{name}: unknown language {value!r}; known: {', '.join(sorted(known))} "
                            "(another language needs a model: an entry in registry.toml of the model store)")
    return code


def _languages(name: str, values: Any, known: frozenset[str] | None = None) -> frozenset[str]:
    if isinstance(values, str):
        values = [part for part in re.split(r"[\s,]+", values) if part]
    if not isinstance(values, (list, tuple, set, frozenset)):
        raise SettingsError(f"{name} must be a list of language codes, got {values!r}")
    return frozenset(language_code(name, value, known) for value in values)


def _choice(name: str, choices: type[_Choice], value: Any) -> _Choice:
    try:
        return choices(value)
    except ValueError:
        raise SettingsError(f"{name} must be one of {', '.join(choices)}, got {value!r}") from None


def _positive_int(name: str, value: Any, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise SettingsError(f"{name} must be a positive integer, got {value!r}")
    if maximum is not None and value > maximum:
        # Refused rather than lowered: a silently different setting is harder to notice than an error.
        raise SettingsError(f"{name} must be between 1 and {maximum}, got {value}")
    return value


def _body_threshold(value: Any) -> float | None:
    if value is None:
        return None
    low, high = OPTION["body_threshold"].minimum, OPTION["body_threshold"].maximum
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not low <= value <= high:
        # NaN fails the range test too: it compares false with everything.
        raise SettingsError(f"body_threshold must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _site_repeats(value: Any) -> int | None:
    # 1 would count every line of every page with a url as repeated, leaving nothing of it.
    low = int(OPTION["site_repeats"].minimum)
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < low):
        raise SettingsError(f"site_repeats must be an integer of {low} or more, got {value!r}")
    return value


class Group(StrEnum):
    """The part of the pipeline a setting is for."""

    INPUT = "input"
    CLEANING = "cleaning"
    DETECTION = "detection"
    TRANSLATION = "translation"
    OUTPUT = "output"


@dataclass(frozen=True)
class Option:
    """One run setting as the command line and the trigger form offer it: its default, bounds and help
    are written here once, and both are generated from this (pipeline.cli, pipeline.airflow.params).

    `kind` is the value's type: bool, int, float, str (with `choices`) or list (of language codes).
    A default of None means the stage's own default, `shown_default`, which the help names.
    """

    name: str
    group: Group
    kind: type
    help: str
    title: str
    default: Any = None
    shown_default: Any = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    flag: str | None = None
    metavar: str | None = None

    @property
    def empty_means(self) -> str:
        """What leaving the option out gives, as the help ends: "Empty: 0.25."."""
        if self.kind in (list, bool) or self.choices:   # a list says it itself; the others are never empty
            return ""
        return f"Empty: {self.shown_default if self.default is None else self.default}."


OPTIONS: tuple[Option, ...] = (
    Option("include_langs", Group.TRANSLATION, list, title="Translate only", flag="--include-lang",
           metavar="LANG", help="Translate only these source languages (ISO 639 codes such as fr, zh, "
           "zh-Hant). Empty: all."),
    Option("skip_langs", Group.TRANSLATION, list, title="Skip languages", flag="--skip-lang", metavar="LANG",
           help="Leave these source languages untranslated. Empty: none."),
    Option("translator", Group.TRANSLATION, str, default=TranslatorKind.MARIAN.value, title="Translator",
           choices=tuple(TranslatorKind), flag="--translator",
           help="MarianMT through transformers, or the same models converted to CTranslate2."),
    Option("device", Group.TRANSLATION, str, default=Device.AUTO.value, title="Device",
           choices=tuple(Device), flag="--device", help="auto uses CUDA when present."),
    Option("num_beams", Group.TRANSLATION, int, default=1, minimum=1, maximum=MAX_BEAMS, title="Beams",
           flag="--num-beams", help=f"1 (greedy decoding) to {MAX_BEAMS}."),
    Option("body_threshold", Group.CLEANING, float, shown_default=BODY_THRESHOLD, minimum=0, maximum=1,
           title="Boilerplate threshold", flag="--body-threshold", metavar="SCORE",
           help="0 to 1: a line no rule removes is kept when its body score reaches this (lines of fewer "
           "than four words need more). Higher removes more boilerplate and risks more body; 0 keeps "
           "every such line."),
    Option("site_repeats", Group.CLEANING, int, shown_default=MIN_SITE_REPEATS, minimum=2,
           title="Site repeats", flag="--site-repeats", metavar="N",
           help="A line found in this many pages of one site (url host) in a batch or more is "
           "boilerplate: 2 or more; more than the documents of a batch turns it off."),
    Option("comments", Group.CLEANING, str, default=CommentsPolicy.KEEP.value, title="Readers' comments",
           choices=tuple(CommentsPolicy), flag="--comments",
           help="Readers' comments, forum replies and guest-book entries below an article (after a comment "
           "prompt or a commenter's header): keep translates and writes them with region comments, drop "
           "leaves them out of translation and output."),
    Option("detection_accuracy", Group.DETECTION, str, default=DetectionAccuracy.HIGH.value,
           title="Detection accuracy", choices=tuple(DetectionAccuracy), flag="--detection-accuracy",
           help="How lingua judges short lines fastText is unsure of: high reads every n-gram length "
           "and holds about 350 MB of models in each process once such lines of many languages appear; "
           "low reads trigrams only, about 30 MB, and misjudges more of them (a pair of words: one in ten "
           "instead of one in sixteen)."),
    Option("write_removed", Group.OUTPUT, bool, default=True, title="Write removed lines",
           flag="--write-removed",
           help="Write the lines cleaning removed, with the rule and score that removed each, to the "
           "removed/ dataset (--no-write-removed: none for this run)."),
    Option("force", Group.OUTPUT, bool, default=False, title="Force", flag="--force",
           help="Reprocess documents already in the output and replace their rows."),
)
OPTION = {option.name: option for option in OPTIONS}


@dataclass(frozen=True)
class TranslationSettings:
    """The translator's share of the run settings (RunSettings.translation_settings)."""

    models_dir: Path = Path("models")
    model_overrides: Mapping[str, str] = field(default_factory=dict)  # lang -> hub id or directory
    translator: TranslatorKind = TranslatorKind(OPTION["translator"].default)
    device: Device = Device(OPTION["device"].default)  # fp16 on CUDA
    num_beams: int = OPTION["num_beams"].default  # 1 = greedy
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS  # padded source tokens per batch
    store_path: Path | None = None  # translation store (Parquet parts); None disables it
    threads: int = 0  # CPU threads for the engine; 0 keeps the library's default
    max_loaded_models: int | None = None  # models kept loaded at once; None: sized to the memory
    allowed_model_roots: tuple[str, ...] | None = None  # where models may load from; None: anywhere
    # Benchmarks only: generate exactly this many tokens per piece (no early stop); not for real runs.
    fixed_output_tokens: int | None = None


@dataclass(frozen=True)
class RunSettings:
    """Everything that decides what a run writes; validated on creation."""

    output: Path
    run_id: str
    models_dir: Path = Path("models")
    model_overrides: Mapping[str, str] = field(default_factory=dict)
    translator: TranslatorKind = TranslatorKind(OPTION["translator"].default)
    device: Device = Device(OPTION["device"].default)
    num_beams: int = OPTION["num_beams"].default
    force: bool = OPTION["force"].default
    write_removed: bool = OPTION["write_removed"].default   # rows in removed/ for this run's documents
    include_langs: frozenset[str] = frozenset()
    skip_langs: frozenset[str] = frozenset()
    max_input_bytes: int = 50 * 2**20
    shard_size: int = 1000     # documents per batch (small batches share a part); files per shard in a plan
    store_path: Path | None = None          # translation store; default: OUTPUT/.translations
    translation_chunk_size: int = 20_000    # distinct sentences of one language per translation task
    max_batch_tokens: int = DEFAULT_MAX_BATCH_TOKENS
    # Directories inputs may be read from, output written to, models loaded from (see pipeline.roots);
    # None: unrestricted.
    allowed_input_roots: tuple[str, ...] | None = None
    allowed_output_roots: tuple[str, ...] | None = None
    allowed_model_roots: tuple[str, ...] | None = None
    max_loaded_models: int | None = None    # translation models loaded at once; None: sized to memory
    # Cleaning (pipeline.stages.clean); None: BODY_THRESHOLD and MIN_SITE_REPEATS.
    body_threshold: float | None = None     # a line whose body score is lower is boilerplate
    site_repeats: int | None = None         # pages of a site in a batch that make a shared line boilerplate
    comments: CommentsPolicy = CommentsPolicy(OPTION["comments"].default)   # readers' comments kept or not
    detection_accuracy: DetectionAccuracy = DetectionAccuracy(OPTION["detection_accuracy"].default)
    # Language codes are checked against the model registry's languages when settings are made from what
    # a user gave; settings decoded from to_dict() were checked then, and decoding reads no file.
    check_languages: InitVar[bool] = True

    def __post_init__(self, check_languages: bool) -> None:
        set_ = object.__setattr__  # frozen: normalise in place once, at creation
        if not str(self.output).strip():
            raise SettingsError("output must be a directory path")
        set_(self, "output", Path(self.output))
        set_(self, "run_id", sanitize_run_id(str(self.run_id)))
        set_(self, "models_dir", Path(self.models_dir))
        if self.store_path is not None:
            set_(self, "store_path", Path(self.store_path))
        if not isinstance(self.model_overrides, Mapping):
            raise SettingsError(
                f"model_overrides must map a language to a model, got {self.model_overrides!r}")
        overrides = {}
        for lang, model in self.model_overrides.items():
            code = language_code("model_overrides", lang)
            if not isinstance(model, str) or not model.strip():
                raise SettingsError(f"model_overrides[{lang!r}] must be a model id or directory")
            overrides[code] = model.strip()
        set_(self, "model_overrides", dict(sorted(overrides.items())))
        set_(self, "translator", _choice("translator", TranslatorKind, self.translator))
        set_(self, "device", _choice("device", Device, self.device))
        for name in ("force", "write_removed"):
            if not isinstance(getattr(self, name), bool):
                raise SettingsError(f"{name} must be true or false, got {getattr(self, name)!r}")
        set_(self, "comments", _choice("comments", CommentsPolicy, self.comments))
        set_(self, "detection_accuracy",
             _choice("detection_accuracy", DetectionAccuracy, self.detection_accuracy))
        _positive_int("num_beams", self.num_beams, OPTION["num_beams"].maximum)
        _positive_int("max_input_bytes", self.max_input_bytes)
        _positive_int("shard_size", self.shard_size)
        _positive_int("max_batch_tokens", self.max_batch_tokens)
        _positive_int("translation_chunk_size", self.translation_chunk_size)
        if self.max_loaded_models is not None:
            _positive_int("max_loaded_models", self.max_loaded_models)
        set_(self, "body_threshold", _body_threshold(self.body_threshold))
        set_(self, "site_repeats", _site_repeats(self.site_repeats))
        for name in ("allowed_input_roots", "allowed_output_roots", "allowed_model_roots"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, (str, list, tuple)):
                raise SettingsError(f"{name} must be a list of directories, got {value!r}")
            set_(self, name, parse_roots(value))
        # A language the registry does not know (nor an override names) would only ever match nothing.
        known = (known_languages(self.models_dir) | set(overrides)
                 if check_languages and (self.include_langs or self.skip_langs) else None)
        set_(self, "include_langs", _languages("include_langs", self.include_langs, known))
        set_(self, "skip_langs", _languages("skip_langs", self.skip_langs, known))

    @property
    def translation_store(self) -> Path:
        from pipeline.store.translations import STORE_DIR

        return self.store_path or self.output / STORE_DIR

    def untranslated_reason(self, lang: str) -> UntranslatedReason | None:
        """Why `lang` is left untranslated by these settings, or None when it is translated."""
        if lang in self.skip_langs:
            return UntranslatedReason.LANGUAGE_SKIPPED
        if self.include_langs and lang not in self.include_langs:
            return UntranslatedReason.LANGUAGE_NOT_INCLUDED
        return None

    def to_dict(self) -> dict[str, Any]:
        """JSON-safe form, the inverse of from_dict."""
        data: dict[str, Any] = {}
        for item in dataclasses.fields(self):
            value = getattr(self, item.name)
            if isinstance(value, Path):
                value = str(value)
            elif isinstance(value, StrEnum):
                value = value.value
            elif isinstance(value, frozenset):
                value = sorted(value)
            elif isinstance(value, Mapping):
                value = dict(value)
            data[item.name] = value
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RunSettings:
        """Settings decoded from to_dict()'s mapping (a task's XCom); unknown keys are errors. Reads no
        file."""
        if not isinstance(data, Mapping):
            raise SettingsError(f"settings must be a mapping, got {type(data).__name__}")
        known = {item.name for item in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise SettingsError(
                f"unknown setting(s): {', '.join(unknown)} (known: {', '.join(sorted(known))})")
        missing = [name for name in ("output", "run_id") if data.get(name) in (None, "")]
        if missing:
            raise SettingsError(f"missing setting(s): {', '.join(missing)}")
        return cls(**data, check_languages=False)

    def translation_settings(self) -> TranslationSettings:
        """The translator's share of these settings."""
        return TranslationSettings(
            models_dir=self.models_dir,
            model_overrides=dict(self.model_overrides),
            translator=self.translator,
            device=self.device,
            num_beams=self.num_beams,
            max_batch_tokens=self.max_batch_tokens,
            store_path=self.translation_store,
            max_loaded_models=self.max_loaded_models,
            allowed_model_roots=self.allowed_model_roots,
        )
