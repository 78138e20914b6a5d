"""Features of the body scorer that read a page's blocks of prose (pipeline.stages.boilerplate_features).

A page may hold several pieces of authored text: the posts of a blog archive, the summaries of a listing,
the points of an essay, the replies of a thread. Each is a block of prose lines, and the lines between
them (titles, dates, "Permalink") belong to them; menus, link lists and footers are runs of short lines
far from any prose. So a line is read against the block it sits in, how many such blocks the page holds
and how much prose lies around it, not only against the page's single largest block.
"""
from __future__ import annotations

import numpy as np

BLOCK_NAMES = ("block_log_words", "block_vs_main", "page_blocks", "distance_to_block", "prose_density_near",
               "prose_density_wide", "prose_words_wide", "in_comments")
# As pipeline.stages.boilerplate_features reads a page's main block: prose lines of this many words or
# more, with gaps of up to BLOCK_GAP other lines inside a block.
PROSE_MIN_WORDS = 8
BLOCK_GAP = 2
# A block of this many words is a piece of text (a post, a summary), not a stray long line.
PIECE_MIN_WORDS = 25
_NEAR_LINES = 4
_WIDE_LINES = 12


def _window_bounds(count: int, reach: int) -> tuple[np.ndarray, np.ndarray]:
    """For each of `count` lines, where the window of the 2 * reach + 1 lines around it starts and ends
    (fewer lines at the page's edges)."""
    positions = np.arange(count)
    return np.maximum(positions - reach, 0), np.minimum(positions + reach + 1, count)


def _window_sums(values: np.ndarray, reach: int) -> np.ndarray:
    """The sum of `values` over the window of `reach` around each line."""
    running = np.concatenate([[0.0], np.cumsum(values)])
    starts, ends = _window_bounds(len(values), reach)
    return running[ends] - running[starts]


def window_means(values: np.ndarray, reach: int) -> np.ndarray:
    """The mean of `values` over the window of `reach` around each line."""
    starts, ends = _window_bounds(len(values), reach)
    return _window_sums(values, reach) / (ends - starts)


def _blocks(prose: np.ndarray) -> list[tuple[int, int, float]]:
    """The blocks of prose of a page: (first line, last line, words), prose lines with gaps of up to
    BLOCK_GAP lines inside."""
    at = np.flatnonzero(prose)
    if not len(at):
        return []
    starts = np.concatenate([[0], np.flatnonzero(np.diff(at) > BLOCK_GAP + 1) + 1])
    ends = np.concatenate([starts[1:] - 1, [len(at) - 1]])
    words = np.add.reduceat(prose[at], starts)
    return list(zip(at[starts].tolist(), at[ends].tolist(), words.tolist()))


def block_features(word_counts: np.ndarray, comments_from: int) -> np.ndarray:
    """The BLOCK_NAMES columns for the lines of a page, from their words (0 for a line a rule removed) and
    the line its readers' comments start at (pipeline.stages.regions), the last of its blocks."""
    count = len(word_counts)
    prose = np.where(word_counts >= PROSE_MIN_WORDS, word_counts, 0.0)
    blocks = _blocks(prose)
    block_words = np.zeros(count)
    in_piece = np.zeros(count, dtype=bool)
    for first, last, words in blocks:
        block_words[first:last + 1] = words
        in_piece[first:last + 1] = words >= PIECE_MIN_WORDS
    largest = max((words for _, _, words in blocks), default=0.0) or 1.0
    pieces = np.flatnonzero(in_piece)
    if len(pieces):
        # The distance to the nearest line of a piece: the pieces' lines before and after each line.
        positions = np.arange(count)
        after = np.minimum(np.searchsorted(pieces, positions), len(pieces) - 1)
        before = np.maximum(after - 1, 0)
        distance = np.minimum(np.abs(pieces[after] - positions), np.abs(pieces[before] - positions))
    else:
        distance = np.full(count, count)
    all_words = np.maximum(word_counts, 0.0)
    near_prose, wide_prose = _window_sums(prose, _NEAR_LINES), _window_sums(prose, _WIDE_LINES)
    return np.column_stack([
        np.log1p(block_words), block_words / largest,
        np.full(count, np.log1p(sum(words >= PIECE_MIN_WORDS for _, _, words in blocks))),
        np.log1p(distance), near_prose / np.maximum(_window_sums(all_words, _NEAR_LINES), 1.0),
        wide_prose / np.maximum(_window_sums(all_words, _WIDE_LINES), 1.0), np.log1p(wide_prose),
        np.arange(count) >= comments_from,
    ])
