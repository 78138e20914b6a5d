"""Whether a document is processed, left out as already done, or rejected as a duplicate: decided here.

The output may already hold a document (same content hash). It is left out when it was made with the
translation set-up this run would use (`models_fingerprint`), unless `force` is set; a changed set-up (a
model became available, another translator or beam count) processes it again. Either way its earlier
rows are replaced, never duplicated. A second copy of a document met earlier in the same run is a
DUPLICATE reject. The same `OutputDecisions` answers before cleaning (`already_done`: a rerun of
unchanged inputs costs ingest only), after segmenting (`DecideStage`) and again when writing (the
output may have changed meanwhile: a parallel shard committed).
"""
from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import replace
from enum import StrEnum
from typing import TYPE_CHECKING

from pipeline.records import (PreparedDocument, RawDocument, Reject, RejectReason, SegmentedRecord,
                              Translation, TranslationStatus, UntranslatedReason)
from pipeline.settings import ENGLISH, RunSettings
from pipeline.stages.base import Stage

if TYPE_CHECKING:
    from pipeline.stages.translate import Translator
    from pipeline.store.output import CommittedDocument


class Decision(StrEnum):
    """What becomes of a document the output may already hold."""

    PROCESS = "process"
    SKIP = "skip"          # already in the output, made with the same translation set-up


class ReplacedBecause(StrEnum):
    """Why a document already in the output was processed again (the manifest's `replaced_because`)."""

    FORCE = "force"
    MODELS_CHANGED = "models_changed"   # the models, translator or beams changed


def plan_translator(settings: RunSettings) -> Translator:
    """A translator that only resolves models (loading none), for planning."""
    from pipeline.stages.translate import Translator

    return Translator(replace(settings.translation_settings(), store_path=None))


class TranslationPlan:
    """Per language, the model that will translate it or why none will, and the fingerprint of a set of
    languages (what decides whether a document in the output was made with the same set-up)."""

    def __init__(self, settings: RunSettings, translator: Translator):
        self.settings = settings
        self.translator = translator
        self._plans: dict[str, str] = {}
        self._fingerprints: dict[frozenset[str], str] = {}
        self._untranslated: dict[str, Translation] = {}
        self._needed: dict[str, bool] = {}

    def excluded(self, lang: str) -> UntranslatedReason | None:
        """Why sentences of `lang` are not given to the translator at all, or None."""
        from pipeline.stages.detect import UNDETERMINED

        reason = self.settings.untranslated_reason(lang)
        if reason is None and lang == UNDETERMINED:
            return UntranslatedReason.LANGUAGE_UNDETERMINED
        return reason

    def needs_translation(self, lang: str) -> bool:
        # Asked for every sentence of a run, twice: the answer per language is worked out once.
        needed = self._needed.get(lang)
        if needed is None:
            needed = self._needed[lang] = lang != ENGLISH and self.excluded(lang) is None
        return needed

    def untranslated(self, lang: str) -> Translation:
        """The one shared value of every sentence of an excluded language."""
        if lang not in self._untranslated:
            self._untranslated[lang] = Translation(None, TranslationStatus.UNTRANSLATED,
                                                   detail=self.excluded(lang))
        return self._untranslated[lang]

    def _plan(self, lang: str) -> str:
        if lang not in self._plans:
            # model_for is None both for a language without a model and for an unavailable default.
            self._plans[lang] = (self.excluded(lang) or self.translator.model_for(lang)
                                 or UntranslatedReason.NO_USABLE_MODEL)
        return self._plans[lang]

    def fingerprint(self, languages: set[str]) -> str:
        # Documents share a few language sets: hashing the plan once per set keeps it off the per-record cost.
        key = frozenset(languages)
        if key not in self._fingerprints:
            plan = {lang: self._plan(lang) for lang in sorted(key - {ENGLISH})}
            described = {"translator": self.settings.translator.value, "num_beams": self.settings.num_beams,
                         "languages": plan}
            encoded = json.dumps(described, sort_keys=True).encode()
            self._fingerprints[key] = hashlib.sha256(encoded).hexdigest()[:16]
        return self._fingerprints[key]


def _duplicate(document: PreparedDocument, earlier: tuple[str, str | None]) -> Reject:
    path, record = earlier
    where = f"{path} ({record})" if record else path
    return Reject(document.raw.source_path, RejectReason.DUPLICATE,
                  f"same content as {where} (doc_id {document.raw.doc_id})", document.raw.source_record,
                  document.raw.record_id)


class OutputDecisions:
    """The one place that decides what becomes of a document the output may hold (see the module)."""

    def __init__(self, settings: RunSettings, plan: TranslationPlan,
                 committed: Mapping[str, CommittedDocument]):
        self.settings = settings
        self.plan = plan
        self.committed = committed
        self.seen: dict[str, tuple[str, str | None]] = {}

    def already_done(self, raw: RawDocument) -> bool:
        """True when the output already holds this content, processed with the translation set-up this
        run would use: decided from the content hash and the languages the output records, before any
        cleaning. Detection is deterministic, so the recorded paragraph languages are the ones this run
        would find."""
        if self.settings.force:
            return False
        existing = self.committed.get(raw.doc_id)
        if existing is None or existing.run_id == self.settings.run_id or existing.paragraph_langs is None:
            return False
        earlier = self.seen.get(raw.doc_id)
        if earlier is not None and earlier != (raw.source_path, raw.source_record):
            return False   # decided later: a duplicate within this run
        try:
            return self.plan.fingerprint(set(existing.paragraph_langs)) == existing.models_fingerprint
        except Exception:  # the full path decides, and rejects the document if it must
            return False

    def first_sight(self, document: PreparedDocument) -> Decision | Reject:
        """The decision on a document met for the first time or again in this run (a duplicate)."""
        earlier = self.seen.get(document.raw.doc_id)
        if earlier is not None and earlier != document.source:
            return _duplicate(document, earlier)
        decision = decide(document, self.committed, self.settings)
        if decision is Decision.PROCESS:
            self.seen[document.raw.doc_id] = document.source
        return decision


def decide(document: PreparedDocument, committed: Mapping[str, CommittedDocument], settings: RunSettings
           ) -> Decision | Reject:
    """Process the document, skip it, or reject it as a DUPLICATE of another source's, against the
    output as `committed` describes it."""
    existing = committed.get(document.raw.doc_id)
    if existing is None:
        return Decision.PROCESS
    existing_source = (existing.source_path, existing.source_record)
    if existing.run_id == settings.run_id:
        return Decision.SKIP if existing_source == document.source else _duplicate(document, existing_source)
    if settings.force or existing.models_fingerprint != document.fingerprint:
        return Decision.PROCESS
    return Decision.SKIP


def replaced_because(settings: RunSettings) -> ReplacedBecause:
    return ReplacedBecause.FORCE if settings.force else ReplacedBecause.MODELS_CHANGED


class DecideStage(Stage[SegmentedRecord, PreparedDocument]):
    """Names each document's translation set-up, and leaves out the documents already in the output with
    it (unless forced); a second copy of a document met earlier in the shard is a DUPLICATE reject."""

    name = "decide"

    def __init__(self, decisions: OutputDecisions):
        super().__init__()
        self.decisions = decisions

    def process(self, batch: Sequence[SegmentedRecord]) -> list[PreparedDocument | Reject | None]:
        results: list[PreparedDocument | Reject | None] = []
        for record in batch:
            fingerprint = self.decisions.plan.fingerprint({guess.lang for guess in record.languages})
            document = PreparedDocument(record.raw, record.cleaned, record.document_language,
                                        record.languages, record.spans, fingerprint)
            decision = self.decisions.first_sight(document)
            if decision is Decision.PROCESS:
                results.append(document)
            else:
                results.append(None if decision is Decision.SKIP else decision)
        return results
