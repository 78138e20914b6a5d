"""What the tasks of a run hand to each other: frozen records with their own JSON round trip.

They travel through Airflow XCom between tasks (and through the work area between processes), so each
holds counts, ids and paths only, never a document's text.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from pipeline.stages.base import RESOURCES, Resource

STAGES = ("ingest", "clean", "detect", "segment", "decide", "translate", "align", "write")
# The stages each phase runs, in order.
PHASE_STAGES = {
    "prepare": ("ingest", "clean", "detect", "segment", "decide"),
    "translate": ("translate",),
    "assemble": ("align", "write"),
}


def phase_resource(phase: str) -> Resource:
    """What a phase's task needs: an accelerator when one of its stages declares it needs one."""
    needs = {RESOURCES[stage] for stage in PHASE_STAGES[phase]}
    return Resource.ACCELERATOR if Resource.ACCELERATOR in needs else Resource.CPU


_Result = TypeVar("_Result", bound="PhaseResult")


@dataclass(frozen=True)
class PhaseResult:
    """A JSON-safe record: `to_dict` gives plain JSON, `from_dict` takes it back."""

    def to_dict(self) -> dict[str, Any]:
        return {item.name: _plain(getattr(self, item.name)) for item in dataclasses.fields(self)}

    @classmethod
    def from_dict(cls: type[_Result], data: Mapping[str, Any]) -> _Result:
        return cls(**{item.name: data[item.name] for item in dataclasses.fields(cls) if item.name in data})


def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return list(value)
    return value


@dataclass(frozen=True)
class PreparedShard(PhaseResult):
    index: int
    run_id: str
    documents: int = 0                                          # documents to assemble
    sentences: dict[str, int] = field(default_factory=dict)     # lang -> distinct sentences to translate
    skipped: int = 0                # documents already in the output with the same models
    stage_seconds: dict[str, float] = field(default_factory=dict)
    hub: list[str] = field(default_factory=list)    # how the shard's process found the hub, if it asked


@dataclass(frozen=True)
class TranslationChunk(PhaseResult):
    lang: str
    index: int
    sentences: int
    path: str


@dataclass(frozen=True)
class ChunkResult(PhaseResult):
    lang: str
    index: int
    model: str | None = None
    translation: dict[str, float] = field(default_factory=dict)   # the translator's counters
    missing_models: dict[str, str] = field(default_factory=dict)  # lang -> how to get it
    hub: list[str] = field(default_factory=list)

    @property
    def sentences(self) -> int:
        return int(self.translation.get("sentences", 0))

    @property
    def seconds(self) -> float:
        return self.translation.get("seconds", 0.0)

    @property
    def model_loads(self) -> int:
        return int(self.translation.get("model_loads", 0))

    @property
    def model_load_seconds(self) -> float:
        return self.translation.get("model_load_seconds", 0.0)


@dataclass(frozen=True)
class StoredEnglish(PhaseResult):
    """Where a translation task's English is: the translation store's key and the model that made it."""

    store_key: tuple[str, ...]
    model: str

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> StoredEnglish:
        return cls(tuple(data["store_key"]), data["model"])


@dataclass(frozen=True)
class Untranslated(PhaseResult):
    """Why a sentence has no English, and the model that was tried, if any."""

    detail: str
    model: str | None = None


@dataclass(frozen=True)
class ChunkOutcome(PhaseResult):
    """What one translation task did, as the assemble phase reads it from the work area.

    `stored` is None when none of the task's English is in the store. `all_untranslated` is set when
    every sentence of the task stayed untranslated for one reason (said once instead of per sentence);
    otherwise `untranslated` and `failed` name the sentences, by source hash, that have no English.
    """

    lang: str
    stored: StoredEnglish | None = None
    all_untranslated: Untranslated | None = None
    untranslated: dict[str, Untranslated] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)        # source hash -> error

    def to_dict(self) -> dict[str, Any]:
        return {
            "lang": self.lang,
            "stored": self.stored.to_dict() if self.stored else None,
            "all_untranslated": self.all_untranslated.to_dict() if self.all_untranslated else None,
            "untranslated": {digest: value.to_dict() for digest, value in self.untranslated.items()},
            "failed": dict(self.failed),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ChunkOutcome:
        return cls(
            lang=data["lang"],
            stored=StoredEnglish.from_dict(data["stored"]) if data.get("stored") else None,
            all_untranslated=(Untranslated.from_dict(data["all_untranslated"])
                              if data.get("all_untranslated") else None),
            untranslated={digest: Untranslated.from_dict(value)
                          for digest, value in data.get("untranslated", {}).items()},
            failed=dict(data.get("failed", {})),
        )


@dataclass(frozen=True)
class ShardResult(PhaseResult):
    """What one shard wrote: rows per dataset and language, rejects, timings, files."""

    shard_index: int
    run_id: str
    documents: dict[str, int] = field(default_factory=dict)                # src_lang -> rows
    paragraphs: dict[str, dict[str, int]] = field(default_factory=dict)    # src_lang -> status -> rows
    sentences: dict[str, dict[str, int]] = field(default_factory=dict)     # src_lang -> status -> rows
    rejects: dict[str, int] = field(default_factory=dict)                  # reason -> rows
    removed: dict[str, int] = field(default_factory=dict)                  # rule -> rows of removed/
    skipped: int = 0        # documents already in the output with the same models
    replaced: int = 0       # documents whose earlier rows were replaced
    replaced_because: dict[str, int] = field(default_factory=dict)        # why -> documents
    stage_seconds: dict[str, float] = field(default_factory=dict)
    models: dict[str, list[str]] = field(default_factory=dict)             # src_lang -> models used
    files: list[str] = field(default_factory=list)                         # relative to the output
    missing_inputs: list[str] = field(default_factory=list)                # patterns that matched nothing
    hub: list[str] = field(default_factory=list)   # how the shard's processes found the hub


def hub_state() -> list[str]:
    """How this process found the Hugging Face hub, if it asked it: [] when it never needed to."""
    from pipeline.models.hub import known_hub_status

    status = known_hub_status()
    return [status.describe()] if status else []
