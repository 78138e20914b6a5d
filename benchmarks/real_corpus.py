"""A benchmark corpus of real text, written from the shared benchmark data into a directory.

    python benchmarks/real_corpus.py OUT_DIR [--records 100000] [--record-files 4] [--seed 20261205]

Three parts, each in its own folder of OUT_DIR, all deterministic for a seed:

- ``pages/<source>/<name>.txt``: every page of ``boilerplate/dev.jsonl`` and
  ``boilerplate/cleaneval_final_dev.jsonl`` as the scraped text it is (menus, comments, footers and all).
- ``documents/<lang>/<lang>-NNNN.txt``: multilingual documents of real sentences. The UD dev sentences
  of each language (``langid/ud_dev/<lang>.txt``), in their file order, are grouped into paragraphs of
  3-6 sentences and documents of 3-8 paragraphs; around each body go real boilerplate lines: the lines
  above a dragnet page's first gold line (its header) and below its last one (its footer).
- ``records/part-NNNNN.jsonl``: short records, one JSON object a line, each 1-3 UD sentences of one
  language (about 200 bytes of text), no two alike, so none is rejected as a duplicate.

``corpus.json`` holds the summary the script prints: files, bytes and languages of each part.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_BENCHMARKS = REPO_ROOT.parent / "shared" / "benchmarks"
PAGE_FILES = ("boilerplate/dev.jsonl", "boilerplate/cleaneval_final_dev.jsonl")
UD_SENTENCES_DIR = "langid/ud_dev"
DEFAULT_SEED = 20261205

SENTENCES_PER_PARAGRAPH = (3, 6)
PARAGRAPHS_PER_DOCUMENT = (3, 8)
HEADER_LINES = (2, 6)
FOOTER_LINES = (2, 5)
# A record's text grows sentence by sentence up to this many bytes: short records, ~200 bytes each.
RECORD_TARGET_BYTES = 200
RECORD_MAX_SENTENCES = 3
# Scripts written without spaces between words join their sentences without one.
NO_SPACE_LANGS = frozenset({"zh", "ja"})
# Header and footer lines longer than this are article teasers rather than interface lines.
BOILERPLATE_MAX_CHARS = 120


@dataclass
class BoilerplatePool:
    """Runs of real boilerplate lines: the tops and bottoms of dragnet pages outside the gold text."""

    headers: list[list[str]] = field(default_factory=list)
    footers: list[list[str]] = field(default_factory=list)


@dataclass
class PartSummary:
    files: int = 0
    bytes: int = 0
    items: int = 0
    languages: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {"files": self.files, "bytes": self.bytes, "items": self.items,
                "languages": dict(sorted(self.languages.items()))}


def read_pages(shared: Path) -> list[dict]:
    """The scraped pages of both shared boilerplate files, in file order."""
    pages = []
    for name in PAGE_FILES:
        with (shared / name).open(encoding="utf-8") as lines:
            pages.extend(json.loads(line) for line in lines if line.strip())
    return pages


def page_boilerplate_runs(page: dict) -> tuple[list[str], list[str]]:
    """The lines above the page's first gold line and below its last one."""
    gold = {block["text"].strip() for block in page.get("gold_blocks", ())}
    lines = [line.strip() for line in page["scraped_text"].splitlines() if line.strip()]
    gold_positions = [number for number, line in enumerate(lines) if line in gold]
    if not gold_positions:
        return [], []
    header = [line for line in lines[:gold_positions[0]] if len(line) <= BOILERPLATE_MAX_CHARS]
    footer = [line for line in lines[gold_positions[-1] + 1:] if len(line) <= BOILERPLATE_MAX_CHARS]
    return header, footer


def boilerplate_pool(pages: list[dict]) -> BoilerplatePool:
    """Header and footer runs of the dragnet pages (their gold is the article, so the rest is boilerplate)."""
    pool = BoilerplatePool()
    for page in pages:
        if page.get("source") != "dragnet":
            continue
        header, footer = page_boilerplate_runs(page)
        if len(header) >= HEADER_LINES[0]:
            pool.headers.append(header)
        if len(footer) >= FOOTER_LINES[0]:
            pool.footers.append(footer)
    if not pool.headers or not pool.footers:
        raise SystemExit("no dragnet page with boilerplate above and below its gold text")
    return pool


def read_ud_sentences(shared: Path) -> dict[str, list[str]]:
    """UD dev sentences per language, in file order."""
    sentences = {}
    for path in sorted((shared / UD_SENTENCES_DIR).glob("*.txt")):
        lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        if lines:
            sentences[path.stem] = lines
    return sentences


def join_sentences(lang: str, sentences: list[str]) -> str:
    return ("" if lang in NO_SPACE_LANGS else " ").join(sentences)


def group_documents(lang: str, sentences: list[str], rng: random.Random) -> list[list[str]]:
    """Consecutive sentences as paragraphs of 3-6, paragraphs as documents of 3-8; a short tail is dropped."""
    paragraphs, position = [], 0
    while position + SENTENCES_PER_PARAGRAPH[0] <= len(sentences):
        size = rng.randint(*SENTENCES_PER_PARAGRAPH)
        paragraphs.append(join_sentences(lang, sentences[position:position + size]))
        position += size
    documents, position = [], 0
    while position + PARAGRAPHS_PER_DOCUMENT[0] <= len(paragraphs):
        size = rng.randint(*PARAGRAPHS_PER_DOCUMENT)
        documents.append(paragraphs[position:position + size])
        position += size
    return documents


def document_text(paragraphs: list[str], pool: BoilerplatePool, rng: random.Random) -> str:
    """Header lines of one real page, the body's paragraphs apart by blank lines, footer lines of another."""
    header = rng.choice(pool.headers)[:rng.randint(*HEADER_LINES)]
    footer = rng.choice(pool.footers)
    footer = footer[-rng.randint(*FOOTER_LINES):]
    return "\n".join(header) + "\n\n" + "\n\n".join(paragraphs) + "\n\n" + "\n".join(footer) + "\n"


def write_file(path: Path, text: str, summary: PartSummary) -> None:
    data = text.encode("utf-8")
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    summary.files += 1
    summary.bytes += len(data)


def write_pages(directory: Path, pages: list[dict]) -> PartSummary:
    summary = PartSummary()
    for page in pages:
        source, _, name = page["id"].partition("/")
        write_file(directory / source / f"{name}.txt", page["scraped_text"] + "\n", summary)
        summary.items += 1
        summary.languages["en (mostly)"] += 1
    return summary


def write_documents(directory: Path, sentences: dict[str, list[str]], pool: BoilerplatePool,
                    seed: int) -> PartSummary:
    summary = PartSummary()
    for lang, lang_sentences in sorted(sentences.items()):
        rng = random.Random(f"{seed}-documents-{lang}")
        for number, paragraphs in enumerate(group_documents(lang, lang_sentences, rng)):
            write_file(directory / lang / f"{lang}-{number:04d}.txt", document_text(paragraphs, pool, rng),
                       summary)
            summary.items += 1
            summary.languages[lang] += 1
    return summary


def record_texts(sentences: dict[str, list[str]], count: int, seed: int):
    """`count` distinct (lang, text) pairs, the languages in turn, each text 1-3 sentences of ~200 bytes."""
    rng = random.Random(f"{seed}-records")
    langs = sorted(sentences)
    seen: set[str] = set()
    attempts = 0
    while len(seen) < count:
        attempts += 1
        if attempts > count * 20:
            raise SystemExit(f"only {len(seen)} distinct records from these sentences; ask for fewer")
        lang = langs[len(seen) % len(langs)]
        chosen = [rng.choice(sentences[lang])]
        while (len(chosen) < RECORD_MAX_SENTENCES
               and len(join_sentences(lang, chosen).encode()) < RECORD_TARGET_BYTES):
            longer = chosen + [rng.choice(sentences[lang])]
            if len(join_sentences(lang, longer).encode()) > RECORD_TARGET_BYTES * 1.5:
                break
            chosen = longer
        text = join_sentences(lang, chosen)
        if text not in seen:
            seen.add(text)
            yield lang, text


def write_records(directory: Path, sentences: dict[str, list[str]], count: int, files: int,
                  seed: int) -> PartSummary:
    summary = PartSummary()
    per_file = -(-count // max(1, files))
    lines: list[str] = []
    for number, (lang, text) in enumerate(record_texts(sentences, count, seed)):
        lines.append(json.dumps({"id": f"ud-{lang}-{number:06d}", "text": text}, ensure_ascii=False))
        summary.items += 1
        summary.languages[lang] += 1
        if len(lines) == per_file:
            write_file(directory / f"part-{summary.files:05d}.jsonl", "\n".join(lines) + "\n", summary)
            lines = []
    if lines:
        write_file(directory / f"part-{summary.files:05d}.jsonl", "\n".join(lines) + "\n", summary)
    return summary


def write_corpus(out_dir: Path, shared: Path = SHARED_BENCHMARKS, records: int = 100_000,
                 record_files: int = 4, seed: int = DEFAULT_SEED, max_pages: int | None = None) -> dict:
    """Write the three parts under `out_dir` and return (and save as corpus.json) their summary."""
    pages = read_pages(shared)
    sentences = read_ud_sentences(shared)
    pool = boilerplate_pool(pages)
    out_dir.mkdir(parents=True, exist_ok=True)
    summary = {
        "seed": seed,
        "pages": write_pages(out_dir / "pages", pages[:max_pages]).as_dict(),
        "documents": write_documents(out_dir / "documents", sentences, pool, seed).as_dict(),
        "records": write_records(out_dir / "records", sentences, records, record_files, seed).as_dict(),
        "boilerplate_runs": {"headers": len(pool.headers), "footers": len(pool.footers)},
    }
    (out_dir / "corpus.json").write_text(json.dumps(summary, indent=1, ensure_ascii=False) + "\n",
                                         encoding="utf-8")
    return summary


def print_summary(summary: dict) -> None:
    for part in ("pages", "documents", "records"):
        figures = summary[part]
        langs = ", ".join(f"{lang} {count}" for lang, count in figures["languages"].items())
        print(f"{part:<10} {figures['files']:6d} files {figures['bytes'] / 1e6:8.2f} MB "
              f"{figures['items']:7d} items   {langs}")
    runs = summary["boilerplate_runs"]
    print(f"boilerplate from {runs['headers']} page headers and {runs['footers']} page footers (dragnet)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--shared", type=Path, default=SHARED_BENCHMARKS,
                        help="the shared benchmarks folder (boilerplate/, langid/ud_dev/)")
    parser.add_argument("--records", type=int, default=100_000, help="short records in all")
    parser.add_argument("--record-files", type=int, default=4)
    parser.add_argument("--max-pages", type=int, default=None, help="the first N scraped pages only")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    args = parser.parse_args(argv)
    print_summary(write_corpus(args.out_dir, args.shared, args.records, args.record_files, args.seed,
                               args.max_pages))
    return 0


if __name__ == "__main__":
    sys.exit(main())
