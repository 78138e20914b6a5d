"""Body scores for the lines of a scraped page, kept apart from the decision to remove them.

Each line the rules of `pipeline.stages.clean` leave undecided gets a body probability in two steps:

1. *Line model*: small gradient-boosted trees over general features of the line itself (length in
   words, share of stop words in the page's language, terminal punctuation, share of capitalised words,
   digits and symbols, menu and interface words, position in the page, where the page's main run of
   prose lies, whether a comment prompt or a reader's comment header came before, whether it is the first
   or a later copy of a line printed twice) and of the lines around it (their length, punctuation and
   stop words, lines a rule removed, the run of short lines it belongs to, as link and teaser lists are
   made of, and its length against the page's longest), and the time stamps around it: readers'
   comments and forum posts each carry one, an article one at most.
2. *Context step*: smaller trees over the line model's scores of the line and of its neighbours (the
   lines just before and after and a window around it), so that short or unsure lines, such as a
   heading or a one-line paragraph inside an article, are decided by the text around them. This is
   jusText's good / near-good / bad reclassification, learned instead of hand-set.

Both ensembles are trained by `scripts/train_boilerplate.py` (fixed seed, cross-validated) and ship as a
small text file next to this module, read lazily; scoring needs numpy only. Stop words come from
jusText's lists (about 100 languages); scripts written without spaces use a few frequent function
characters instead; the page's language is guessed once from the stop words its longest lines hold.

Across documents, `SiteRepetition` counts the lines each site repeats within a batch: a line found in
many pages of the same site (menus, teasers, footers, sign-up forms) is boilerplate whatever its score.
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from typing import Iterable, Sequence

import numpy as np

from pipeline.stages.boilerplate_features import (CONTEXT_NAMES, FEATURE_NAMES, context_features,
                                                  guess_stopwords, line_features)
from pipeline.stages.regions import comments_start


@dataclass(frozen=True)
class TreeEnsemble:
    """Gradient-boosted trees, each laid out as a complete binary tree of `depth` levels.

    Inner node k of a tree has children 2k + 1 and 2k + 2 and sends a row right when its feature is
    above its threshold; a leaf reached before the last level is padded with nodes that always go left
    (threshold +inf). One level is one vectorised step over all rows and trees, so scoring a page costs
    `depth` numpy steps whatever its length.
    """

    depth: int
    bias: float
    features: np.ndarray      # (trees * inner nodes,) int32: feature index of each inner node
    thresholds: np.ndarray    # (trees * inner nodes,) float32 once read from the model file
    leaves: np.ndarray        # (trees * 2 ** depth,) leaf values, in log-odds

    @property
    def trees(self) -> int:
        return len(self.leaves) >> self.depth

    def decision(self, rows: np.ndarray) -> np.ndarray:
        """The ensemble's log-odds for every row of `rows` (one column per feature).

        Features are compared in the thresholds' type: a model read from its file holds float32
        thresholds and int32 features, which scores a quarter faster than float64 and intp.
        """
        count, width = rows.shape
        if len(self.features) and self.features.max() >= width:
            raise ValueError(f"boilerplate model: rows of {width} features, the trees read feature "
                             f"{self.features.max()}")
        inner = (1 << self.depth) - 1
        flat = np.ascontiguousarray(rows, dtype=self.thresholds.dtype).ravel()
        row_start = (np.arange(count, dtype=np.int32) * width)[:, None]
        tree_start = np.arange(self.trees, dtype=np.int32) * inner
        # Nodes are numbered across all trees (tree_start + node in the tree), so that features and
        # thresholds are read without an addition; the children of node k are 2k + 1 - tree_start and the
        # one after. Updated in place: a page's scoring is mostly these (rows x trees) arrays. Every index
        # is in range by construction, so `take` clips instead of checking each one: a third faster.
        node = np.repeat(tree_start[None, :], count, axis=0)
        to_child = 1 - tree_start
        for _ in range(self.depth):
            feature_at = self.features.take(node, mode="clip")
            feature_at += row_start
            right = flat.take(feature_at, mode="clip") > self.thresholds.take(node, mode="clip")
            node *= 2
            node += to_child
            node += right
        # Leaf j of tree t is leaves[t * 2 ** depth + j]; the last level's nodes are tree_start + inner + j.
        leaf = node
        leaf += np.arange(self.trees, dtype=np.int32) - inner
        return self.bias + self.leaves.take(leaf, mode="clip").sum(axis=1)

    def to_rows(self) -> list[str]:
        """One row per tree: its inner nodes as feature:threshold, then its leaves."""
        inner = (1 << self.depth) - 1
        rows = [f"depth {self.depth} trees {self.trees} bias {self.bias:.9g}"]
        for tree in range(self.trees):
            inner_nodes = slice(tree * inner, (tree + 1) * inner)
            nodes = " ".join(f"{feature}:{threshold:.9g}" for feature, threshold in zip(
                self.features[inner_nodes], self.thresholds[inner_nodes]))
            leaf_values = self.leaves[tree << self.depth:(tree + 1) << self.depth]
            leaves = " ".join(f"{value:.6g}" for value in leaf_values)
            rows.append(f"{nodes} | {leaves}")
        return rows

    @classmethod
    def from_rows(cls, rows: Sequence[str], width: int) -> "TreeEnsemble":
        head = rows[0].split()
        if head[0::2] != ["depth", "trees", "bias"]:
            raise ValueError(f"boilerplate model: expected 'depth D trees T bias B', got {rows[0]!r}")
        depth, trees, bias = int(head[1]), int(head[3]), float(head[5])
        if len(rows) != trees + 1:
            raise ValueError(f"boilerplate model: {trees} trees announced, {len(rows) - 1} found")
        features, thresholds, leaves = [], [], []
        for row in rows[1:]:
            nodes, values = row.split("|")
            pairs = [node.split(":") for node in nodes.split()]
            if len(pairs) != (1 << depth) - 1 or len(values.split()) != 1 << depth:
                raise ValueError(f"boilerplate model: a tree of depth {depth} has the wrong size: "
                                 f"{row[:60]!r}")
            features += [int(feature) for feature, _ in pairs]
            thresholds += [float(threshold) for _, threshold in pairs]
            leaves += [float(value) for value in values.split()]
        feature_array = np.array(features, dtype=np.int32)
        if len(feature_array) and (feature_array.min() < 0 or feature_array.max() >= width):
            raise ValueError(f"boilerplate model: a node reads a feature outside the {width} listed")
        return cls(depth, bias, feature_array, np.array(thresholds, dtype=np.float32), np.array(leaves))


@dataclass(frozen=True)
class BodyModel:
    """The line model (trees over FEATURE_NAMES) and the context step (trees over CONTEXT_NAMES)."""

    line: TreeEnsemble
    context: TreeEnsemble

    def line_scores(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.line.decision(features), -30, 30)))

    def context_scores(self, features: np.ndarray) -> np.ndarray:
        return 1.0 / (1.0 + np.exp(-np.clip(self.context.decision(features), -30, 30)))

    def to_text(self) -> str:
        rows = ["# Body-line model of pipeline.stages.boilerplate, written by scripts/train_boilerplate.py.",
                "# A section per model: its feature names, then its trees (see TreeEnsemble.to_rows)."]
        for section, names, ensemble in (("line", FEATURE_NAMES, self.line),
                                         ("context", CONTEXT_NAMES, self.context)):
            rows += [f"[{section}]", "features " + " ".join(names), *ensemble.to_rows()]
        return "\n".join(rows) + "\n"

    @classmethod
    def from_text(cls, text: str) -> "BodyModel":
        sections: dict[str, list[str]] = {}
        current: list[str] | None = None
        for raw in text.splitlines():
            row = raw.strip()
            if not row or row.startswith("#"):
                continue
            if row.startswith("["):
                current = sections.setdefault(row.strip("[]"), [])
            elif current is None:
                raise ValueError("boilerplate model: a row before the first [section]")
            else:
                current.append(row)
        ensembles = []
        for section, names in (("line", FEATURE_NAMES), ("context", CONTEXT_NAMES)):
            rows = sections.get(section, [])
            if not rows or tuple(rows[0].split()[1:]) != names:
                raise ValueError(f"boilerplate model: section [{section}] does not list {names}")
            ensembles.append(TreeEnsemble.from_rows(rows[1:], len(names)))
        return cls(*ensembles)


MODEL_FILE = "data/boilerplate_model.txt"


@lru_cache(maxsize=1)
def default_model() -> BodyModel:
    return BodyModel.from_text(resources.files("pipeline").joinpath(MODEL_FILE).read_text("utf-8"))


def body_scores(lines: Sequence[str], removed: Sequence[bool], comment_prompts: Sequence[bool],
                model: BodyModel | None = None, comments_from: int | None = None) -> np.ndarray:
    """Body probability of every line after the context step (lines removed by a rule score 0).

    `comments_from` is where the page's readers' comments start (pipeline.stages.regions.comments_start,
    worked out here if None)."""
    model = model or default_model()
    if not lines:
        return np.zeros(0)
    gone = np.asarray(removed, dtype=bool)
    stopwords = guess_stopwords([line for line, dropped in zip(lines, gone) if line and not dropped])
    if comments_from is None:
        comments_from = comments_start(lines, removed, comment_prompts)
    features = line_features(lines, removed, comment_prompts, stopwords, comments_from)
    scored = np.flatnonzero(np.array([bool(line) for line in lines]) & ~gone)
    own = np.zeros(len(lines))
    own[scored] = model.line_scores(features[scored])
    context = context_features(own, gone, [bool(line) for line in lines])
    scores = np.zeros(len(lines))
    scores[scored] = model.context_scores(context[scored])
    return scores


class SiteRepetition:
    """How many documents of each site in a batch hold each line.

    Only lines of a few words or more are counted: a single word repeats across any site by chance.
    """

    def __init__(self, min_chars: int = 12) -> None:
        self.min_chars = min_chars
        self._counts: dict[str, Counter[str]] = {}
        self._documents: Counter[str] = Counter()

    def add(self, site: str, lines: Iterable[str]) -> None:
        self._documents[site] += 1
        self._counts.setdefault(site, Counter()).update(
            {line for line in lines if len(line) >= self.min_chars})

    def documents(self, site: str) -> int:
        return self._documents[site]

    def sites(self) -> list[str]:
        return list(self._documents)

    def repeated(self, site: str, min_documents: int) -> frozenset[str]:
        """The lines found in at least `min_documents` documents of `site`."""
        counts = self._counts.get(site, Counter())
        return frozenset(line for line, count in counts.items() if count >= min_documents)
