"""Train the body-line model of pipeline.stages.boilerplate on the boilerplate development set.

    python scripts/train_boilerplate.py [--data DEV.jsonl [CLEANEVAL_FINAL.jsonl ...]]
                                        [--out pipeline/data/boilerplate_model.txt] [--folds 5]

Each line that the rules of `pipeline.stages.clean` leave undecided is labelled body when at least half of its
tokens align with the page's gold text (the scorer's own alignment: score.py's tokens and difflib,
autojunk off). Two small gradient-boosted tree ensembles (scikit-learn's HistGradientBoostingClassifier,
fixed seed; `pip install -e .[train]`) are fitted, each row weighted by the square root of its token
count (the scorer counts tokens, not lines): the line model, then the context step on the line model's
out-of-fold scores. Prints the cross-validated token precision / recall / F1 of the kept lines per fold
(pages split by site, see SITE_SHARED_LINES) and per source at several thresholds, score.py's figures
of clean() itself on every page cleaned with the fold model that did not see its site (what a page of
an unseen site gets), and the figures of a model trained on dragnet alone and checked on the CleanEval
pages (other sites, years and annotators). The data are dev.jsonl and cleaneval_final_dev.jsonl of
../shared/benchmarks/boilerplate. Then trains on every page and writes the trees as text;
pipeline.stages.boilerplate scores with them without scikit-learn.
"""
from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import sys
from collections import Counter
from pathlib import Path
from typing import Sequence
from urllib.parse import urlsplit

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.stages.boilerplate import BodyModel, TreeEnsemble  # noqa: E402
from pipeline.stages.boilerplate_features import (  # noqa: E402
    context_features, guess_stopwords, line_features)
from pipeline.stages.clean import BODY_THRESHOLD, clean, judge_lines  # noqa: E402
from pipeline.stages.regions import comments_start  # noqa: E402

DATA_FOLDER = ROOT.parent / "shared" / "benchmarks" / "boilerplate"
# dragnet and cleaneval-dev (one main article a page) beside CleanEval's final set (every piece of authored
# text a page holds: the posts of an archive, the summaries of a listing, forum posts, readers' comments).
DEFAULT_DATA = (DATA_FOLDER / "dev.jsonl", DATA_FOLDER / "cleaneval_final_dev.jsonl")
SEED = 20261128
# Trees of the line model and of the context step: (depth, trees). Deeper or more trees score the dev set
# better in-sample and no better held out.
LINE_TREES = (4, 100)
CONTEXT_TREES = (3, 60)
LEARNING_RATE = 0.1
MIN_LEAF_WEIGHT_ROWS = 50
MAX_ROWS = 80_000
THRESHOLDS = (0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.4, 0.5)
# clean() runs once per threshold over every page: only those around the default.
CLEANED_THRESHOLDS = (0.15, 0.2, 0.25, 0.3)


# Pages of one site share its menus and footers, and a model that has seen a site's pages scores its
# others too well. dragnet's pages carry no url, so sites are read from the pages: two that share
# SITE_SHARED_LINES or more lines of SITE_LINE_MIN_CHARS characters or more are of one site (a line that
# SITE_LINE_MAX_PAGES or more pages print comes with a blog platform, not a site). Folds are drawn by
# site, so that held-out figures are those of sites never seen.
SITE_SHARED_LINES = 3
SITE_LINE_MIN_CHARS = 25
SITE_LINE_MAX_PAGES = 60


def _scorer(data: Path):
    spec = importlib.util.spec_from_file_location("boilerplate_score", data.parent / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page_rows(page: dict, score) -> dict:
    """Features, labels and token counts of the undecided lines of one page.

    Readers' comments (dragnet's `gold_comments`, which its gold sets apart from the article) are body:
    they are kept, in their own region (pipeline.stages.regions).
    """
    lines, rules, _ = judge_lines(page["scraped_text"])
    removed = [rule is not None for rule in rules]
    stopwords = guess_stopwords([line for line, gone in zip(lines, removed) if line and not gone])
    prompts = [rule == "comment_prompt" for rule in rules]
    features = line_features(lines, removed, prompts, stopwords, comments_start(lines, removed, prompts))
    line_tokens = [score.tokens(line) for line in lines]
    page_tokens = [token for tokens in line_tokens for token in tokens]
    comments = page.get("gold_comments") or []
    gold = [token for block in [*score.gold_blocks(page), *comments] for token in score.tokens(block)]
    aligned = np.zeros(len(page_tokens), dtype=bool)
    matcher = difflib.SequenceMatcher(None, page_tokens, gold, autojunk=False)
    for start, _, size in matcher.get_matching_blocks():
        aligned[start:start + size] = True
    labels, counts, position = [], [], 0
    for tokens in line_tokens:
        labels.append(aligned[position:position + len(tokens)].mean() >= 0.5 if tokens else False)
        counts.append(len(tokens))
        position += len(tokens)
    return {"text": page["scraped_text"], "gold": score.gold_blocks(page), "gold_comments": comments,
            "url": page.get("url"),
            "features": features, "removed": np.array(removed), "labels": np.array(labels),
            "tokens": np.array(counts, dtype=float), "source": page["source"],
            "scored": ~np.array(removed) & (np.array(counts) > 0),
            "present": np.array([bool(line) for line in lines])}


def fit(features: np.ndarray, labels: np.ndarray, weights: np.ndarray, shape: tuple[int, int],
        ) -> TreeEnsemble:
    """A gradient-boosted tree ensemble of `shape` (depth, trees), as pipeline.stages.boilerplate scores it.

    At most MAX_ROWS rows, drawn with the fixed seed, enter a fit: more do not change the trees much.
    """
    from sklearn.ensemble import HistGradientBoostingClassifier

    if len(labels) > MAX_ROWS:
        rows = np.random.default_rng(SEED).choice(len(labels), MAX_ROWS, replace=False)
        features, labels, weights = features[rows], labels[rows], weights[rows]
    depth, trees = shape
    model = HistGradientBoostingClassifier(
        max_depth=depth, max_iter=trees, learning_rate=LEARNING_RATE, min_samples_leaf=MIN_LEAF_WEIGHT_ROWS,
        l2_regularization=1.0, early_stopping=False, random_state=SEED)
    model.fit(features, labels, sample_weight=weights)
    ensemble = _ensemble(model, depth)
    check = features[:2000]
    if not np.allclose(ensemble.decision(check), model.decision_function(check), atol=1e-6):
        raise RuntimeError("the trees written differ from scikit-learn's: its tree layout has changed")
    return ensemble


def _ensemble(model, depth: int) -> TreeEnsemble:
    """scikit-learn's trees laid out as complete binary trees of `depth` levels (see TreeEnsemble)."""
    inner = (1 << depth) - 1
    count = len(model._predictors)
    features = np.zeros(count * inner, dtype=np.intp)
    thresholds = np.full(count * inner, np.inf)
    leaves = np.zeros(count << depth)
    for tree, (predictor,) in enumerate(model._predictors):
        nodes = predictor.nodes

        def place(node: int, position: int, level: int) -> None:
            if level == depth:
                leaves[(tree << depth) + position - inner] = nodes[node]["value"]
                return
            if nodes[node]["is_leaf"]:   # padded: always left, the same leaf below
                place(node, 2 * position + 1, level + 1)
                place(node, 2 * position + 2, level + 1)
                return
            features[tree * inner + position] = nodes[node]["feature_idx"]
            thresholds[tree * inner + position] = nodes[node]["num_threshold"]
            place(int(nodes[node]["left"]), 2 * position + 1, level + 1)
            place(int(nodes[node]["right"]), 2 * position + 2, level + 1)

        place(0, 0, 0)
    return TreeEnsemble(depth, float(np.ravel(model._baseline_prediction)[0]), features.astype(np.int32),
                        thresholds, leaves)


def _stack(pages: list[dict], key: str) -> np.ndarray:
    return np.concatenate([page[key][page["scored"]] for page in pages])


def _weights(pages: list[dict]) -> np.ndarray:
    """Row weights: the square root of a line's tokens, times sqrt(pages / pages of its source) so that
    the few assorted pages of cleaneval are not drowned by the news articles of dragnet."""
    per_source: dict[str, int] = {}
    for page in pages:
        per_source[page["source"]] = per_source.get(page["source"], 0) + 1
    return np.concatenate([np.sqrt(page["tokens"][page["scored"]] * len(pages) / per_source[page["source"]])
                           for page in pages])


def _line_scores(page: dict, line_model: TreeEnsemble) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-np.clip(line_model.decision(page["features"]), -30, 30)))


def _context_rows(page: dict, line_model: TreeEnsemble) -> np.ndarray:
    return context_features(_line_scores(page, line_model), page["removed"], page["present"])


def train(pages: list[dict], folds: int = 2) -> BodyModel:
    """The line model on `pages`, then the context step on out-of-fold line scores."""
    line = fit(_stack(pages, "features"), _stack(pages, "labels"), _weights(pages), LINE_TREES)
    # Out-of-fold line scores, so that the context step learns from scores as they are on unseen pages.
    order = np.random.default_rng(SEED).permutation(len(pages))
    context = [None] * len(pages)
    for fold in range(folds):
        held = set(order[fold::folds].tolist())
        inner = [page for index, page in enumerate(pages) if index not in held]
        inner_line = fit(_stack(inner, "features"), _stack(inner, "labels"), _weights(inner), LINE_TREES)
        for index in held:
            context[index] = _context_rows(pages[index], inner_line)
    rows = np.concatenate([rows[page["scored"]] for rows, page in zip(context, pages)])
    return BodyModel(line, fit(rows, _stack(pages, "labels"), _weights(pages), CONTEXT_TREES))


def held_out_scores(model: BodyModel, page: dict) -> np.ndarray:
    return model.context_scores(_context_rows(page, model.line))


def token_figures(pages: list[dict], scores: list[np.ndarray], threshold: float,
                  ) -> tuple[float, float, float]:
    """Token P / R / F1 of the kept undecided lines against their labels (rules' lines left aside)."""
    kept_body = kept = body = 0.0
    for page, page_scores in zip(pages, scores):
        keep = (page_scores >= threshold)[page["scored"]]
        tokens, labels = page["tokens"][page["scored"]], page["labels"][page["scored"]]
        kept += tokens[keep].sum()
        kept_body += tokens[keep & labels].sum()
        body += tokens[labels].sum()
    precision, recall = kept_body / max(kept, 1), kept_body / max(body, 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)


def _sources(pages: list[dict]) -> list[str]:
    return sorted({page["source"] for page in pages})


def _print_figures(pages: list[dict], scores: list[np.ndarray]) -> None:
    sources = _sources(pages)
    print("| threshold | ALL P / R / F1 | " + " | ".join(f"{source} P / R / F1" for source in sources) + " |")
    print("|---" * (len(sources) + 2) + "|")
    for threshold in THRESHOLDS:
        cells = []
        for source in (None, *sources):
            chosen = [index for index, page in enumerate(pages) if source in (None, page["source"])]
            figures = token_figures([pages[i] for i in chosen], [scores[i] for i in chosen], threshold)
            cells.append("{:.3f} / {:.3f} / {:.3f}".format(*figures))
        print(f"| {threshold} | " + " | ".join(cells) + " |")


def print_cleaned_figures(pages: list[dict], models: list[BodyModel], score) -> None:
    """score.py's figures of clean() itself on every page, each page cleaned with the model in
    `models` that did not see its site (see benchmarks/bench_boilerplate.py's `print_region_figures`)."""
    from benchmarks.bench_boilerplate import print_region_figures

    print("clean() on pages of held-out sites, scored by score.py (title, byline, date kept):")
    for threshold in CLEANED_THRESHOLDS:
        documents = [clean(page["text"], threshold=threshold, model=model)
                     for page, model in zip(pages, models)]
        print(f"threshold {threshold}:")
        print_region_figures(pages, documents, score)


def site_groups(pages: list[dict]) -> np.ndarray:
    """The site of each page, as a number: pages linked by shared lines (see SITE_SHARED_LINES)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    holders: dict[str, list[int]] = {}
    for index, page in enumerate(pages):
        # A page's url host links it to the other pages of that host, as that many shared lines would.
        host = urlsplit(page.get("url") or "").hostname
        if host:
            for copy in range(SITE_SHARED_LINES):
                holders.setdefault(f"host {copy} {host.removeprefix('www.')}", []).append(index)
        for line in set(page["text"].split("\n")):
            if len(line) >= SITE_LINE_MIN_CHARS:
                holders.setdefault(line, []).append(index)
    shared: Counter[tuple[int, int]] = Counter()
    for holding in holders.values():
        if 2 <= len(holding) < SITE_LINE_MAX_PAGES:
            shared.update((holding[0], other) for other in holding[1:])
    pairs = np.array([pair for pair, count in shared.items() if count >= SITE_SHARED_LINES],
                     dtype=np.intp).reshape(-1, 2)
    links = coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(len(pages), len(pages)))
    return connected_components(links, directed=False)[1]


def site_folds(sites: np.ndarray, folds: int) -> np.ndarray:
    """The fold of each page of `sites` (see site_groups): its site's place in a seeded draw of the sites,
    dealt round `folds`."""
    rank = np.empty(sites.max() + 1, dtype=np.intp)
    rank[np.random.default_rng(SEED).permutation(len(rank))] = np.arange(len(rank))
    return rank[sites] % folds


def held_out_models(pages: list[dict], folds: int, threshold: float = BODY_THRESHOLD,
                    ) -> tuple[list[BodyModel], list[np.ndarray]]:
    """Per page, the model trained on the other `folds` - 1 folds of sites and its scores of the page;
    prints each fold's token figures at `threshold`."""
    sites = site_groups(pages)
    fold_of = site_folds(sites, folds)
    print(f"{folds} folds of {sites.max() + 1} sites (token P / R / F1 of the undecided lines kept, "
          "pages of held-out sites):")
    scores: list = [None] * len(pages)
    models: list = [None] * len(pages)
    for fold in range(folds):
        held = np.flatnonzero(fold_of == fold).tolist()
        held_set = set(held)
        model = train([page for index, page in enumerate(pages) if index not in held_set])
        for index in held:
            scores[index] = held_out_scores(model, pages[index])
            models[index] = model
        figures = token_figures([pages[index] for index in held], [scores[index] for index in held],
                                threshold)
        print("  fold {}: P {:.3f}  R {:.3f}  F1 {:.3f}".format(fold + 1, *figures), flush=True)
    return models, scores


def cross_validate(pages: list[dict], folds: int, threshold: float, score) -> None:
    """Print held-out figures: `folds` folds of sites, then dragnet against the other sources."""
    models, scores = held_out_models(pages, folds, threshold)
    _print_figures(pages, scores)
    print_cleaned_figures(pages, models, score)
    dragnet = [page for page in pages if page["source"] == "dragnet"]
    cleaneval = [page for page in pages if page["source"] != "dragnet"]
    model = train(dragnet)
    held_out = token_figures(cleaneval, [held_out_scores(model, page) for page in cleaneval], threshold)
    print("trained on dragnet, checked on cleaneval: P {:.3f}  R {:.3f}  F1 {:.3f}".format(*held_out))


def read_pages(paths: Sequence[Path], score) -> list[dict]:
    """`page_rows` of every page of the data files `paths`."""
    pages = []
    for path in paths:
        with path.open(encoding="utf-8") as source:
            pages += [page_rows(json.loads(line), score) for line in source]
    return pages


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, nargs="+", default=list(DEFAULT_DATA))
    parser.add_argument("--out", type=Path, default=ROOT / "pipeline" / "data" / "boilerplate_model.txt")
    parser.add_argument("--folds", type=int, default=5, help="folds of cross-validation; 0: none")
    parser.add_argument("--threshold", type=float, default=BODY_THRESHOLD)
    args = parser.parse_args()
    score = _scorer(args.data[0])
    pages = read_pages(args.data, score)
    print(f"{len(pages)} pages, {sum(int(page['scored'].sum()) for page in pages)} undecided lines, "
          f"seed {SEED}, threshold {args.threshold}")
    if args.folds > 1:
        cross_validate(pages, args.folds, args.threshold, score)
    model = train(pages)
    args.out.write_text(model.to_text(), encoding="utf-8")
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
