"""Train the body-line model of pipeline.boilerplate on the boilerplate development set.

    python scripts/train_boilerplate.py [--data ../shared/benchmarks/boilerplate/dev.jsonl]
                                        [--out pipeline/boilerplate_model.txt] [--folds 5]

Each line that the rules of `pipeline.clean` leave undecided is labelled body when at least half of its
tokens align with the page's gold text (the scorer's own alignment: score.py's tokens and difflib,
autojunk off). Two L2-regularised logistic regressions are fitted with Newton's method, each row
weighted by the square root of its token count (the scorer counts tokens, not lines): the line model,
then the context step on the line model's out-of-fold scores. Prints, with a fixed seed, the
cross-validated token precision / recall / F1 of the kept lines per fold (pages split at random), and
the figures of a model trained on dragnet alone and checked on cleaneval-dev (another set of sites,
years and annotators). Then trains on every page and writes the weights.
"""
from __future__ import annotations

import argparse
import difflib
import importlib.util
import json
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from pipeline.boilerplate import (CONTEXT_NAMES, FEATURE_NAMES, LineModel, context_features,  # noqa: E402
                                  guess_stopwords, line_features)
from pipeline.clean import BODY_THRESHOLD, judge_lines  # noqa: E402

DEFAULT_DATA = ROOT.parent / "shared" / "benchmarks" / "boilerplate" / "dev.jsonl"
SEED = 20261128
SHORT_COLUMN = FEATURE_NAMES.index("short")
L2 = 1.0
NEWTON_STEPS = 10
MAX_ROWS = 100_000


def _scorer(data: Path):
    spec = importlib.util.spec_from_file_location("boilerplate_score", data.parent / "score.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def page_rows(page: dict, score) -> dict:
    """Features, labels and token counts of the undecided lines of one page."""
    lines, rules, _ = judge_lines(page["scraped_text"])
    removed = [rule is not None for rule in rules]
    stopwords = guess_stopwords([line for line, gone in zip(lines, removed) if line and not gone])
    features = line_features(lines, removed, [rule == "comment_prompt" for rule in rules], stopwords)
    line_tokens = [score.tokens(line) for line in lines]
    page_tokens = [token for tokens in line_tokens for token in tokens]
    gold = [token for block in score.gold_blocks(page) for token in score.tokens(block)]
    aligned = np.zeros(len(page_tokens), dtype=bool)
    matcher = difflib.SequenceMatcher(None, page_tokens, gold, autojunk=False)
    for start, _, size in matcher.get_matching_blocks():
        aligned[start:start + size] = True
    labels, counts, position = [], [], 0
    for tokens in line_tokens:
        labels.append(aligned[position:position + len(tokens)].mean() >= 0.5 if tokens else False)
        counts.append(len(tokens))
        position += len(tokens)
    return {"features": features, "removed": np.array(removed), "labels": np.array(labels),
            "tokens": np.array(counts, dtype=float), "source": page["source"],
            "scored": ~np.array(removed) & (np.array(counts) > 0)}


def fit(features: np.ndarray, labels: np.ndarray, weights: np.ndarray) -> tuple[np.ndarray, ...]:
    """Standardisation and weights of a weighted, L2-regularised logistic regression (Newton steps).

    At most MAX_ROWS rows, drawn with the fixed seed, enter a fit: more do not change the weights.
    """
    if len(labels) > MAX_ROWS:
        rows = np.random.default_rng(SEED).choice(len(labels), MAX_ROWS, replace=False)
        features, labels, weights = features[rows], labels[rows], weights[rows]
    mean = features.mean(axis=0)
    scale = features.std(axis=0)
    mean[0], scale[0] = 0.0, 1.0               # the bias column
    scale[scale == 0] = 1.0
    x = ((features - mean) / scale).astype(np.float32)
    coefficients = np.zeros(x.shape[1])
    penalty = L2 * np.eye(x.shape[1])
    penalty[0, 0] = 0.0
    for _ in range(NEWTON_STEPS):
        p = 1.0 / (1.0 + np.exp(-np.clip(x @ coefficients, -30, 30)))
        gradient = x.T @ (weights * (p - labels)) + penalty @ coefficients
        hessian = (x * (weights * p * (1 - p))[:, None]).T @ x + penalty
        step = np.linalg.solve(hessian, gradient)
        coefficients -= step
        if np.abs(step).max() < 1e-4:
            break
    return mean, scale, coefficients


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


def _context_rows(pages: list[dict], line_model: LineModel) -> list[np.ndarray]:
    return [context_features(line_model.line_scores(page["features"]), page["removed"],
                             page["features"][:, SHORT_COLUMN]) for page in pages]


def train(pages: list[dict], folds: int = 3) -> LineModel:
    """The line model on `pages`, then the context step on out-of-fold line scores."""
    line_fit = fit(_stack(pages, "features"), _stack(pages, "labels"), _weights(pages))
    # Out-of-fold line scores, so that the context step learns from scores as they are on unseen pages.
    order = np.random.default_rng(SEED).permutation(len(pages))
    context = [None] * len(pages)
    for fold in range(folds):
        held = set(order[fold::folds].tolist())
        inner = [page for index, page in enumerate(pages) if index not in held]
        inner_fit = fit(_stack(inner, "features"), _stack(inner, "labels"), _weights(inner))
        inner_model = LineModel(*inner_fit, *inner_fit)
        for index in held:
            context[index] = _context_rows([pages[index]], inner_model)[0]
    rows = np.concatenate([rows[page["scored"]] for rows, page in zip(context, pages)])
    context_fit = fit(rows, _stack(pages, "labels"), _weights(pages))
    return LineModel(*line_fit, *context_fit)


def token_figures(model: LineModel, pages: list[dict], threshold: float) -> tuple[float, float, float]:
    """Token P / R / F1 of the kept undecided lines against their labels (rules' lines left aside)."""
    kept_body = kept = body = 0.0
    for page, rows in zip(pages, _context_rows(pages, model)):
        keep = (model.context_scores(rows) >= threshold)[page["scored"]]
        tokens, labels = page["tokens"][page["scored"]], page["labels"][page["scored"]]
        kept += tokens[keep].sum()
        kept_body += tokens[keep & labels].sum()
        body += tokens[labels].sum()
    precision, recall = kept_body / max(kept, 1), kept_body / max(body, 1)
    return precision, recall, 2 * precision * recall / max(precision + recall, 1e-9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--out", type=Path, default=ROOT / "pipeline" / "boilerplate_model.txt")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threshold", type=float, default=BODY_THRESHOLD)
    args = parser.parse_args()
    score = _scorer(args.data)
    with args.data.open(encoding="utf-8") as source:
        pages = [page_rows(json.loads(line), score) for line in source]
    print(f"{len(pages)} pages, {sum(int(page['scored'].sum()) for page in pages)} undecided lines, "
          f"seed {SEED}, threshold {args.threshold}")
    order = np.random.default_rng(SEED).permutation(len(pages))
    print("cross-validation (token P / R / F1 of the undecided lines kept, held-out pages):")
    figures = []
    for fold in range(args.folds):
        held = set(order[fold::args.folds].tolist())
        model = train([page for index, page in enumerate(pages) if index not in held])
        figures.append(token_figures(model, [pages[index] for index in sorted(held)], args.threshold))
        print(f"  fold {fold + 1}: P {figures[-1][0]:.3f}  R {figures[-1][1]:.3f}  F1 {figures[-1][2]:.3f}")
    mean = np.mean(figures, axis=0)
    print(f"  mean:   P {mean[0]:.3f}  R {mean[1]:.3f}  F1 {mean[2]:.3f}")
    dragnet = [page for page in pages if page["source"] == "dragnet"]
    cleaneval = [page for page in pages if page["source"] != "dragnet"]
    held_out = token_figures(train(dragnet), cleaneval, args.threshold)
    print("trained on dragnet, checked on cleaneval-dev: P {:.3f}  R {:.3f}  F1 {:.3f}".format(*held_out))
    model = train(pages)
    args.out.write_text(model.to_text(), encoding="utf-8")
    print(f"wrote {args.out}")
    for section, names, weights in (("line", FEATURE_NAMES, model.weights),
                                    ("context", CONTEXT_NAMES, model.context_weights)):
        print(f"{section}: " + ", ".join(f"{name} {weight:+.2f}" for name, weight in zip(names, weights)))


if __name__ == "__main__":
    main()
