"""Boilerplate removal on the development set: clean() over every page, scored by the set's score.py.

    python benchmarks/bench_boilerplate.py [--data ../shared/benchmarks/boilerplate/dev.jsonl]
        [--out benchmarks/.work/boilerplate_units.jsonl] [--threshold 0.5] [--repeats 3]
        [--final ../shared/benchmarks/boilerplate/cleaneval_final_dev.jsonl] [--folds 5]

Writes one units file per reading (`doc.paragraphs`; `+meta`: with title, byline, date and attribution
first, as the gold counts them as body), runs the scorer on each and prints the table per source with,
for comparison (hard-coded), the figures of clean() before the body scorer (rules only, from the set's
README), of clean() with the first tree ensembles and with the earlier logistic-regression body scorer,
and of two line baselines.
Speed: CPU time of clean() alone over all pages, best of --repeats passes, each with the line caches
of clean() emptied first.
Pages of unseen sites (--folds, scikit-learn needed): the pages of --data and --final, each cleaned with
the model scripts/train_boilerplate.py trains on the folds of sites that do not hold its site, scored
by each set's convention (see `print_region_figures`).
"""
from __future__ import annotations

import argparse
import importlib.util
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.records import Region  # noqa: E402
from pipeline.stages.boilerplate_features import (  # noqa: E402
    _is_comment_header, _line_shape, _stamp_kind)
from pipeline.stages.clean import BODY_THRESHOLD, MIN_SITE_REPEATS, clean, clean_batch  # noqa: E402
from pipeline.stages.clean_rules import _rule_and_metadata  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "boilerplate" / "dev.jsonl"
# clean() with line rules only (commit f58376b), from the development set's README.
BEFORE = {
    "dragnet": {"project": (0.330, 0.995, 0.496, 90.4), "project+meta": (0.329, 0.997, 0.495, 90.3),
                "min10words": (0.439, 0.960, 0.603, 67.7), "c4_style": (0.482, 0.892, 0.626, 68.4)},
    "cleaneval-dev": {"project": (0.888, 0.988, 0.936, 31.6), "project+meta": (0.887, 0.989, 0.935, 31.9),
                      "min10words": (0.971, 0.859, 0.911, 4.1), "c4_style": (0.976, 0.616, 0.755, 9.9)},
    "ALL": {"project": (0.366, 0.994, 0.535, 87.4), "project+meta": (0.366, 0.995, 0.535, 87.4),
            "min10words": (0.477, 0.944, 0.634, 62.1), "c4_style": (0.512, 0.848, 0.639, 65.0)},
}
# clean() with the logistic-regression line model and context step (threshold 0.25), the scorer before
# the tree ensembles.
LOGISTIC = {
    "dragnet": {"project": (0.576, 0.971, 0.723, 58.7), "project+meta": (0.574, 0.976, 0.723, 59.2)},
    "cleaneval-dev": {"project": (0.960, 0.924, 0.941, 6.2), "project+meta": (0.958, 0.925, 0.941, 6.7)},
    "ALL": {"project": (0.614, 0.964, 0.750, 51.7), "project+meta": (0.611, 0.968, 0.750, 52.5)},
}
# clean() with the first tree ensembles (commit 2708c68, threshold 0.25): before the time-stamp, thread
# and printed-twice features, joined continuation lines and the comment-count prompts.
FIRST_TREES = {
    "dragnet": {"project": (0.769, 0.964, 0.856, 41.7), "project+meta": (0.765, 0.969, 0.855, 43.5)},
    "cleaneval-dev": {"project": (0.960, 0.958, 0.959, 6.8), "project+meta": (0.959, 0.959, 0.959, 7.3)},
    "ALL": {"project": (0.794, 0.963, 0.870, 34.8), "project+meta": (0.790, 0.968, 0.870, 36.7)},
}
BEFORE_MB_PER_S = 0.56


def _units(document, with_metadata: bool) -> list[str]:
    return [*(document.metadata_values if with_metadata else ()), *document.paragraphs]


def _timed_cleaning(texts: list[str], threshold: float, repeats: int) -> tuple[list, list[float]]:
    """clean() over `texts` `repeats` times: the documents and the CPU seconds of each pass."""
    timings = []
    for _ in range(repeats):
        # Every pass starts cold: lines judged in an earlier pass would otherwise come from the caches.
        _rule_and_metadata.cache_clear()
        _line_shape.cache_clear()
        _stamp_kind.cache_clear()
        _is_comment_header.cache_clear()
        started = time.process_time()
        documents = [clean(text, threshold=threshold) for text in texts]
        timings.append(time.process_time() - started)
    return documents, timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path,
                        default=ROOT / "benchmarks" / ".work" / "boilerplate_units.jsonl")
    parser.add_argument("--threshold", type=float, default=BODY_THRESHOLD)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--final", type=Path, default=DEFAULT_DATA.with_name("cleaneval_final_dev.jsonl"))
    parser.add_argument("--folds", type=int, default=5, help="folds of sites for held-out figures; 0: none")
    args = parser.parse_args()
    with args.data.open(encoding="utf-8") as source:
        pages = [json.loads(line) for line in source]
    texts = [page["scraped_text"] for page in pages]
    megabytes = sum(len(text.encode("utf-8")) for text in texts) / 1e6
    documents, timings = _timed_cleaning(texts, args.threshold, args.repeats)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    figures = {}
    for reading, with_metadata in (("project", False), ("project+meta", True)):
        path = args.out.with_name(args.out.stem + ("_meta" if with_metadata else "") + args.out.suffix)
        with path.open("w", encoding="utf-8") as out:
            for page, document in zip(pages, documents):
                out.write(json.dumps({"id": page["id"], "units": _units(document, with_metadata)},
                                     ensure_ascii=False) + "\n")
        scorer = str(args.data.parent / "score.py")
        scored = subprocess.run([sys.executable, scorer, str(args.data), str(path),
                                 "--json"], check=True, capture_output=True, text=True).stdout
        figures[reading] = json.loads(scored)
    print(f"threshold {args.threshold}; {len(pages)} pages, {megabytes:.1f} MB")
    print("| source | system | P | R | F1 | macro F1 | boilerplate units kept % |")
    print("|---|---|---|---|---|---|---|")
    for source in ("dragnet", "cleaneval-dev", "ALL"):
        for reading in ("project", "project+meta"):
            row = _row(figures[reading], source)
            print(f"| {source} | clean() {reading} | {row['P']:.3f} | {row['R']:.3f} | {row['F1']:.3f} | "
                  f"{row['macro_F1']:.3f} | {100 * row['bp_units_kept']:.1f} |")
        for label, earlier in (("first trees", FIRST_TREES), ("logistic scorer", LOGISTIC)):
            for system, (precision, recall, f1, kept) in earlier[source].items():
                print(f"| {source} | {label}: clean() {system} | {precision:.3f} | {recall:.3f} "
                      f"| {f1:.3f} | | {kept:.1f} |")
        for system, (precision, recall, f1, kept) in BEFORE[source].items():
            label = f"rules only: clean() {system}" if system.startswith("project") else system
            print(f"| {source} | {label} | {precision:.3f} | {recall:.3f} | {f1:.3f} | | {kept:.1f} |")
    spec = importlib.util.spec_from_file_location("boilerplate_score", args.data.parent / "score.py")
    score_module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(score_module)
    site_repetition(pages, score_module)
    best = min(timings)
    print(f"speed: clean() {megabytes / best:.2f} MB/s CPU ({len(pages) / best:.0f} pages/s), best of "
          f"{args.repeats}: " + ", ".join(f"{timing:.1f}" for timing in timings)
          + f" s (rules only, on another day: {BEFORE_MB_PER_S} MB/s)")
    if args.folds > 1:
        held_out_figures([args.data, args.final], args.folds, args.threshold)


def site_repetition(pages: list[dict], score_module, sites: int = 20, pages_per_site: int = 10) -> None:
    """Pages of many sites: each synthetic site prints the lines of one real page that are neither body
    nor readers' comments (its menus, teasers, footers) around the text of ten other real pages; cleaned
    one by one and as a batch; their main region (pipeline.stages.regions) scored against the article."""
    import random

    rng = random.Random(20261128)
    dragnet = [page for page in pages if page["source"] == "dragnet"]
    rng.shuffle(dragnet)
    batch, golds = [], []
    for site in range(sites):
        template = dragnet[site]
        authored = [*score_module.gold_blocks(template), *(template.get("gold_comments") or [])]
        gold = set(score_module.tokens(" ".join(authored)))
        chrome = [line for line in template["scraped_text"].split("\n")
                  if not set(score_module.tokens(line)) <= gold]
        header, footer = chrome[:len(chrome) // 2], chrome[len(chrome) // 2:]
        for page in dragnet[sites + site * pages_per_site: sites + (site + 1) * pages_per_site]:
            text = "\n".join([*header, page["scraped_text"], *footer])
            batch.append((text, {"url": f"https://site{site}.example/{page['id']}"}, f"site{site}.example"))
            golds.append(score_module.gold_blocks(page))
    print(f"\nsite repetition: {sites} synthetic sites x {pages_per_site} pages "
          f"(min_repeats {MIN_SITE_REPEATS})")
    print("| cleaning | P | R | F1 | boilerplate units kept % |")
    print("|---|---|---|---|---|")
    for label, documents in (("page by page", [clean(text, metadata=meta) for text, meta, _ in batch]),
                             ("batch, lines repeated across a site removed", clean_batch(batch))):
        rows = [score_module.score_page(_region_units(document, Region.MAIN), gold)
                for document, gold in zip(documents, golds)]
        total = score_module.aggregate(rows)
        print(f"| {label} | {total['P']:.3f} | {total['R']:.3f} | {total['F1']:.3f} | "
              f"{100 * total['bp_units_kept']:.1f} |")


def _region_units(document, region: Region | None) -> list[str]:
    """The paragraphs of `region` (None: all), with the metadata for the main region and all."""
    paragraphs = [paragraph for index, paragraph in enumerate(document.paragraphs)
                  if region is None or document.region(index) is region]
    return [*(document.metadata_values if region is not Region.COMMENTS else ()), *paragraphs]


def print_region_figures(pages: list[dict], documents: list, score_module) -> None:
    """score.py's figures of `documents` (the cleaned `pages`, as scripts/train_boilerplate.py reads
    them) by each set's convention: every region against the gold for every source (CleanEval's gold
    holds all authored text, readers' comments too); dragnet's main region against its gold (the article);
    and dragnet's comment region against its `gold_comments` (token precision and recall, pooled)."""
    print("| source | regions | P | R | F1 | macro F1 | boilerplate units kept % |")
    print("|---|---|---|---|---|---|---|")
    readings = [(source, "all", None) for source in sorted({page["source"] for page in pages})]
    readings.append(("dragnet", "main", Region.MAIN))
    for source, label, region in readings:
        chosen = [(page, document) for page, document in zip(pages, documents) if page["source"] == source]
        if not chosen:
            continue
        total = score_module.aggregate([score_module.score_page(_region_units(document, region), page["gold"])
                                        for page, document in chosen])
        print(f"| {source} | {label} | {total['P']:.3f} | {total['R']:.3f} | {total['F1']:.3f} | "
              f"{total['macro_F1']:.3f} | {100 * total['bp_units_kept']:.1f} |")
    rows = [score_module.score_page(_region_units(document, Region.COMMENTS), page["gold_comments"])
            for page, document in zip(pages, documents) if page["source"] == "dragnet"]
    if rows:
        overlap, kept, gold = (sum(row[key] for row in rows) for key in ("overlap", "n_out", "n_gold"))
        precision, recall, f1 = score_module.prf(overlap, kept, gold)
        print(f"dragnet comment region against gold_comments: P {precision:.3f}  R {recall:.3f}  F1 {f1:.3f} "
              f"({kept} tokens labelled comments, {gold} gold comment tokens)")


def held_out_figures(paths: list[Path], folds: int, threshold: float) -> None:
    """Clean every page of `paths` with the model that did not see its site and print the figures."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import train_boilerplate

    score_module = train_boilerplate._scorer(paths[0])
    pages = train_boilerplate.read_pages(paths, score_module)
    models, _ = train_boilerplate.held_out_models(pages, folds, threshold)
    documents = [clean(page["text"], threshold=threshold, model=model) for page, model in zip(pages, models)]
    print(f"\npages of unseen sites ({folds} folds of sites), threshold {threshold}:")
    print_region_figures(pages, documents, score_module)


def _row(figures: dict, source: str) -> dict:
    return figures["all"] if source == "ALL" else figures["sources"][source]


if __name__ == "__main__":
    main()
