"""A synthetic multilingual corpus of any size, recombined from the project's own `samples/`.

The samples are read with the pipeline's own stages: ingest decodes them (GB18030, HTML, JSONL records),
clean separates the body from the web boilerplate it removes, detect labels each body paragraph with
its language, and segment splits the paragraphs into sentences. Each synthetic document then draws, with
an RNG seeded by the corpus seed and its index, a language, a format (txt, html or jsonl), a length (a
few paragraphs to long documents), paragraphs made of that language's sample sentences, some of the
samples' boilerplate lines (navigation and cookie banners above, share prompts and copyright below) and,
in some documents, paragraphs in another language or paragraphs that switch language mid-way.

Document `i` depends only on the seed, `i` and the samples, so a corpus of 1,000 documents is the first
1,000 documents of the corpus of 10,000 with the same seed. No two documents share their body text, so
the pipeline's duplicate check rejects none of them.
"""

from __future__ import annotations

import hashlib
import html
import json
import math
import random
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path

import regex

FORMAT_SHARES: Mapping[str, float] = {"txt": 0.5, "html": 0.2, "jsonl": 0.3}
JSONL_RECORDS_PER_FILE = 100
# Boilerplate kinds, where they go in a document, and how often a document carries one.
BOILERPLATE_PLAN: tuple[tuple[str, str, float], ...] = (
    ("navigation", "header", 0.7),
    ("cookie_banner", "header", 0.25),
    ("share_prompt", "footer", 0.5),
    ("newsletter", "footer", 0.2),
    ("copyright", "footer", 0.7),
)
MIXED_DOCUMENT_SHARE = 0.15  # documents that contain paragraphs of another language
FOREIGN_PARAGRAPH_SHARE = 0.3  # in such a document: paragraphs wholly in another language
CODE_SWITCHED_SHARE = 0.15  # ... and paragraphs whose last sentence is in another language
MEDIAN_PARAGRAPHS = 6  # lengths are log-normal around this, clipped to the range below
PARAGRAPHS_RANGE = (2, 80)
SENTENCES_PER_PARAGRAPH = (1, 4)
MIN_SENTENCES = 4  # a language needs this many sample sentences to be a document language
UNSPACED_LANGUAGES = frozenset({"zh", "ja"})  # sentences joined without a space
CORPUS_MANIFEST = "corpus.json"
GENERATOR_VERSION = 1

# A body paragraph is prose: long enough and ending like a sentence (this drops bylines and menu items
# that cleaning leaves in the body).
_PROSE_MIN_CHARS = 40
_SENTENCE_END = regex.compile(r"[.!?。！？؟।…\"'”’»」)]\s*$")


@dataclass(frozen=True)
class SamplePool:
    """Sample text by language: body sentences, titles, and boilerplate lines by kind."""

    sentences: Mapping[str, tuple[str, ...]]
    titles: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    boilerplate: Mapping[str, Mapping[str, tuple[str, ...]]] = field(
        default_factory=dict
    )  # kind -> lang -> lines

    @property
    def languages(self) -> tuple[str, ...]:
        """Languages with enough sentences to write whole documents in."""
        return tuple(sorted(lang for lang, found in self.sentences.items() if len(found) >= MIN_SENTENCES))

    def fingerprint(self) -> str:
        data = json.dumps(asdict(self), sort_keys=True, ensure_ascii=False)
        return hashlib.sha256(data.encode("utf-8")).hexdigest()[:16]


@dataclass(frozen=True)
class SyntheticDocument:
    """One generated document, with the labels it was built from."""

    index: int
    lang: str
    format: str
    title: str | None
    date: str
    header: tuple[str, ...]  # boilerplate lines above the title
    paragraphs: tuple[str, ...]
    paragraph_langs: tuple[str, ...]  # the language each paragraph was drawn from ("fr+en": switched)
    footer: tuple[str, ...]  # boilerplate lines below the body

    @property
    def doc_name(self) -> str:
        return f"doc-{self.index:07d}"

    @property
    def boilerplate_lines(self) -> int:
        return len(self.header) + len(self.footer)

    @property
    def foreign_paragraphs(self) -> int:
        return sum(1 for lang in self.paragraph_langs if lang != self.lang and "+" not in lang)

    @property
    def code_switched_paragraphs(self) -> int:
        return sum(1 for lang in self.paragraph_langs if "+" in lang)

    def text(self) -> str:
        """The document as plain text: one block per line or paragraph, blank lines between."""
        blocks = [*self.header, *([self.title] if self.title else []), *self.paragraphs, *self.footer]
        return "\n\n".join(blocks) + "\n"

    def html(self) -> str:
        """The document as a web page, boilerplate in the page chrome around the article."""
        escape = html.escape
        title = escape(self.title or "")
        head_lines = "\n".join(f'<div class="top">{escape(line)}</div>' for line in self.header)
        body = "\n".join(f"<p>{escape(paragraph)}</p>" for paragraph in self.paragraphs)
        foot_lines = "\n".join(f"<p>{escape(line)}</p>" for line in self.footer)
        return (
            f'<!DOCTYPE html>\n<html lang="{self.lang}">\n<head>\n<meta charset="utf-8">\n'
            f"<title>{title}</title>\n</head>\n<body>\n<header>\n{head_lines}\n</header>\n<main>\n<article>\n"
            f'<h1>{title}</h1>\n<p class="date">{self.date}</p>\n{body}\n</article>\n</main>\n'
            f"<footer>\n{foot_lines}\n</footer>\n</body>\n</html>\n"
        )

    def jsonl_record(self) -> str:
        record = {
            "id": self.doc_name,
            "url": f"https://example.org/{self.lang}/{self.doc_name}",
            "title": self.title or "",
            "date": self.date,
            "text": self.text(),
        }
        return json.dumps(record, ensure_ascii=False)


def load_sample_pool(samples_dir: Path) -> SamplePool:
    """Read every sample document (not the README) into a pool, through the pipeline's own stages."""
    from pipeline.stages.clean import clean
    from pipeline.stages.detect import UNDETERMINED, detect_document
    from pipeline.stages.ingest import read_documents
    from pipeline.records import RawDocument
    from pipeline.stages.segment import split_sentences

    kinds = {kind for kind, _, _ in BOILERPLATE_PLAN}
    paths = sorted(
        path
        for path in Path(samples_dir).iterdir()
        if path.is_file() and not path.name.lower().startswith("readme")
    )
    sentences: dict[str, dict[str, None]] = {}  # dicts as ordered sets: deterministic and unique
    titles: dict[str, dict[str, None]] = {}
    boilerplate: dict[str, dict[str, dict[str, None]]] = {kind: {} for kind in sorted(kinds)}
    for document in read_documents(paths, max_bytes=2**24):
        if not isinstance(document, RawDocument):
            continue
        cleaned = clean(document.text, metadata=document.metadata)
        languages = detect_document(cleaned.paragraphs)
        doc_lang = languages.document.lang
        if doc_lang == UNDETERMINED:
            continue
        for paragraph, guess in zip(cleaned.paragraphs, languages.own):
            if (
                guess.lang != UNDETERMINED
                and len(paragraph) >= _PROSE_MIN_CHARS
                and _SENTENCE_END.search(paragraph)
            ):
                found = sentences.setdefault(guess.lang, {})
                found.update(dict.fromkeys(split_sentences(paragraph, guess.lang)))
        if cleaned.title and "|" not in cleaned.title:
            titles.setdefault(doc_lang, {})[cleaned.title] = None
        for line in cleaned.removed:
            if line.rule in kinds:
                boilerplate[line.rule].setdefault(doc_lang, {})[line.text] = None
    if not sentences:
        raise ValueError(f"no sample text found in {samples_dir}")
    return SamplePool(
        sentences={lang: tuple(found) for lang, found in sorted(sentences.items())},
        titles={lang: tuple(found) for lang, found in sorted(titles.items())},
        boilerplate={
            kind: {lang: tuple(lines) for lang, lines in sorted(by_lang.items())}
            for kind, by_lang in boilerplate.items()
            if by_lang
        },
    )


def extend_pool(pool: SamplePool, sentences: Mapping[str, Iterable[str]]) -> SamplePool:
    """The pool with more sentences: each language's own first, then the new ones; new languages join.

    For corpora in more languages than the samples write documents in, or with more distinct sentences
    than they hold (a translation cache, or a translator that translates each distinct sentence once,
    would otherwise see the same few sentences again and again). Whitespace is collapsed, blank lines
    dropped, and a sentence already there is not added twice.
    """
    merged = {lang: dict.fromkeys(found) for lang, found in pool.sentences.items()}
    for lang, extra in sentences.items():
        cleaned = (" ".join(line.split()) for line in extra)
        merged.setdefault(lang, {}).update(dict.fromkeys(line for line in cleaned if line))
    return replace(pool, sentences={lang: tuple(found) for lang, found in sorted(merged.items())})


def read_sentence_lines(
    path: Path, limit: int | None = None, min_chars: int = 20, max_chars: int | None = None
) -> list[str]:
    """Sentences of a one-sentence-a-line file: those that end like a sentence and have `min_chars` to
    `max_chars` characters (labelled data sets hold fragments and lists too), the first `limit` of them."""
    kept: list[str] = []
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        line = " ".join(line.split())
        fits = len(line) >= min_chars and (max_chars is None or len(line) <= max_chars)
        if fits and _SENTENCE_END.search(line):
            kept.append(line)
            if limit is not None and len(kept) == limit:
                break
    return kept


class CorpusGenerator:
    """Generates documents from a pool, deterministically for a seed."""

    def __init__(self, pool: SamplePool, seed: int = 0, language_weights: Mapping[str, float] | None = None):
        languages = pool.languages
        if not languages:
            raise ValueError(f"no language has {MIN_SENTENCES} sample sentences to write documents in")
        weights = dict(language_weights) if language_weights else dict.fromkeys(languages, 1.0)
        unknown = sorted(set(weights) - set(languages))
        if unknown:
            raise ValueError(f"no sample text for {', '.join(unknown)}; available: {', '.join(languages)}")
        self.pool = pool
        self.seed = seed
        self._languages = sorted(lang for lang, weight in weights.items() if weight > 0)
        self._weights = [weights[lang] for lang in self._languages]
        self._other_languages = {
            lang: [other for other in sorted(pool.sentences) if other != lang] for lang in self._languages
        }
        self._seen_bodies: set[bytes] = set()
        self._next_index = 0

    def documents(self, count: int) -> Iterator[SyntheticDocument]:
        """The next `count` documents; each body differs from every body generated before it."""
        for _ in range(count):
            attempt = 0
            while True:
                document = self._document(self._next_index, attempt)
                digest = hashlib.blake2b(
                    "\n".join(document.paragraphs).encode("utf-8"), digest_size=16
                ).digest()
                if digest not in self._seen_bodies:
                    break
                attempt += 1
            self._seen_bodies.add(digest)
            self._next_index += 1
            yield document

    def _paragraph(self, rng: random.Random, lang: str) -> str:
        count = rng.randint(*SENTENCES_PER_PARAGRAPH)
        return _join(lang, rng.choices(self.pool.sentences[lang], k=count))

    def _boilerplate_line(self, rng: random.Random, kind: str, lang: str) -> str | None:
        by_lang = self.pool.boilerplate.get(kind)
        if not by_lang:
            return None
        lines = by_lang.get(lang) or [line for found in by_lang.values() for line in found]
        return rng.choice(lines)

    def _document(self, index: int, attempt: int) -> SyntheticDocument:
        rng = random.Random(f"{self.seed}:{index}:{attempt}")
        lang = rng.choices(self._languages, self._weights)[0]
        source_format = rng.choices(list(FORMAT_SHARES), list(FORMAT_SHARES.values()))[0]
        low, high = PARAGRAPHS_RANGE
        count = min(high, max(low, round(rng.lognormvariate(math.log(MEDIAN_PARAGRAPHS), 0.8))))
        others = self._other_languages[lang]
        mixed = bool(others) and rng.random() < MIXED_DOCUMENT_SHARE
        paragraphs: list[str] = []
        paragraph_langs: list[str] = []
        for _ in range(count):
            draw = rng.random() if mixed else 1.0
            if draw < FOREIGN_PARAGRAPH_SHARE:
                other = rng.choice(others)
                paragraphs.append(self._paragraph(rng, other))
                paragraph_langs.append(other)
            elif draw < FOREIGN_PARAGRAPH_SHARE + CODE_SWITCHED_SHARE:
                other = rng.choice(others)
                own = self._paragraph(rng, lang)
                switched = _join(lang, [own, rng.choice(self.pool.sentences[other])])
                paragraphs.append(switched)
                paragraph_langs.append(f"{lang}+{other}")
            else:
                paragraphs.append(self._paragraph(rng, lang))
                paragraph_langs.append(lang)
        header: list[str] = []
        footer: list[str] = []
        for kind, place, share in BOILERPLATE_PLAN:
            if rng.random() < share:
                line = self._boilerplate_line(rng, kind, lang)
                if line is not None:
                    (header if place == "header" else footer).append(line)
        titles = self.pool.titles.get(lang)
        title = rng.choice(titles) if titles else None
        date = f"2026-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
        return SyntheticDocument(
            index,
            lang,
            source_format,
            title,
            date,
            tuple(header),
            tuple(paragraphs),
            tuple(paragraph_langs),
            tuple(footer),
        )


def _join(lang: str, parts: Sequence[str]) -> str:
    return ("" if lang in UNSPACED_LANGUAGES else " ").join(parts)


@dataclass
class CorpusSummary:
    """What was written: the figures a benchmark divides by, and the labels of the mix."""

    directory: str
    documents: int
    seed: int
    pool_fingerprint: str
    generator_version: int = GENERATOR_VERSION
    files: int = 0
    bytes: int = 0
    paragraphs: int = 0
    boilerplate_lines: int = 0
    mixed_documents: int = 0
    foreign_paragraphs: int = 0
    code_switched_paragraphs: int = 0
    documents_by_language: dict[str, int] = field(default_factory=dict)
    documents_by_format: dict[str, int] = field(default_factory=dict)
    bytes_by_format: dict[str, int] = field(default_factory=dict)

    @property
    def inputs(self) -> list[str]:
        """The folders to give the pipeline (the manifest beside them is not an input)."""
        return [str(Path(self.directory) / source_format) for source_format in FORMAT_SHARES]


def write_corpus(
    pool: SamplePool,
    directory: Path,
    documents: int,
    *,
    seed: int = 0,
    language_weights: Mapping[str, float] | None = None,
) -> CorpusSummary:
    """Write `documents` documents under `directory`/{txt,html,jsonl}/ and a manifest `corpus.json`.

    Streams: one document (and one open JSONL part) at a time. The directory must not hold a corpus.
    """
    directory = Path(directory)
    if (directory / CORPUS_MANIFEST).exists() or any((directory / name).exists() for name in FORMAT_SHARES):
        raise FileExistsError(f"{directory} already holds a corpus; remove it first")
    for source_format in FORMAT_SHARES:
        (directory / source_format).mkdir(parents=True)
    summary = CorpusSummary(str(directory), documents, seed, pool.fingerprint())
    by_language: Counter[str] = Counter()
    by_format: Counter[str] = Counter()
    bytes_by_format: Counter[str] = Counter()
    jsonl_part = None
    jsonl_parts = 0
    jsonl_records = 0
    try:
        for document in CorpusGenerator(pool, seed, language_weights).documents(documents):
            if document.format == "jsonl":
                if jsonl_part is None or jsonl_records == JSONL_RECORDS_PER_FILE:
                    if jsonl_part is not None:
                        jsonl_part.close()
                    jsonl_part = (directory / "jsonl" / f"part-{jsonl_parts:05d}.jsonl").open("wb")
                    jsonl_parts += 1
                    jsonl_records = 0
                    summary.files += 1
                data = (document.jsonl_record() + "\n").encode("utf-8")
                jsonl_part.write(data)
                jsonl_records += 1
            else:
                data = (document.text() if document.format == "txt" else document.html()).encode("utf-8")
                (directory / document.format / f"{document.doc_name}.{document.format}").write_bytes(data)
                summary.files += 1
            bytes_by_format[document.format] += len(data)
            by_format[document.format] += 1
            by_language[document.lang] += 1
            summary.paragraphs += len(document.paragraphs)
            summary.boilerplate_lines += document.boilerplate_lines
            summary.foreign_paragraphs += document.foreign_paragraphs
            summary.code_switched_paragraphs += document.code_switched_paragraphs
            summary.mixed_documents += bool(document.foreign_paragraphs or document.code_switched_paragraphs)
    finally:
        if jsonl_part is not None:
            jsonl_part.close()
    summary.bytes = sum(bytes_by_format.values())
    summary.documents_by_language = dict(sorted(by_language.items()))
    summary.documents_by_format = dict(sorted(by_format.items()))
    summary.bytes_by_format = dict(sorted(bytes_by_format.items()))
    (directory / CORPUS_MANIFEST).write_text(json.dumps(asdict(summary), indent=2) + "\n", encoding="utf-8")
    return summary


def read_corpus_summary(directory: Path) -> CorpusSummary | None:
    """The manifest of a corpus written by write_corpus, or None when there is none."""
    path = Path(directory) / CORPUS_MANIFEST
    if not path.is_file():
        return None
    return CorpusSummary(**json.loads(path.read_text(encoding="utf-8")))
