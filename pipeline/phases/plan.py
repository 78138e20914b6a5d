"""Planning a run: the output made ready once, the inputs expanded once and cut into shards."""
from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from pipeline.records import Reject, RejectReason
from pipeline.settings import RunSettings, SettingsError

log = logging.getLogger(__name__)


def plural(count: int, noun: str) -> str:
    """"1 file", "2 files"."""
    return f"{count} {noun}" if count == 1 else f"{count} {noun}s"


Piece = tuple[str, int, int, int]   # a part of a JSONL file: path, first byte, end byte, its first line


@dataclass(frozen=True)
class Shard:
    """A group of input files processed together, and the rejects the plan decided for its share of
    the inputs: a pattern that matched nothing, a link out of an input directory, a loop (a shard given
    the link's path alone could not tell that it came from a directory walk)."""

    index: int
    inputs: tuple[str, ...]
    rejects: tuple[tuple[str, str, str], ...] = ()     # (source_path, reason, detail)
    pieces: tuple[Piece, ...] = ()     # parts of large JSONL files

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "inputs": list(self.inputs),
                "rejects": [list(item) for item in self.rejects],
                "pieces": [list(item) for item in self.pieces]}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Shard:
        return cls(index=int(data["index"]), inputs=tuple(str(item) for item in data["inputs"]),
                   rejects=tuple((str(path), str(reason), str(detail))
                                 for path, reason, detail in data.get("rejects", ())),
                   pieces=tuple((str(path), int(start), int(end), int(line))
                                for path, start, end, line in data.get("pieces", ())))


MIN_FILES_PER_WORKER = 50
# Shards per worker when several share a run's files: files differ in size, so a worker that drew the
# larger ones would finish last while the others wait; smaller shards even that out, and let the first
# ones be written while later ones are still prepared.
SHARDS_PER_WORKER = 8
# With several workers, a shard holds this much input at most, unless one file is larger; a JSONL file
# of twice this or more is cut at line breaks into pieces of this size or more, each a shard of its
# own: a few large dumps of records are then shared by every worker.
MIN_PIECE_BYTES = 4 * 2**20


def plan_shards(inputs: Sequence[str], settings: RunSettings, files_per_shard: int | None = None, *,
                workers: int = 1, listed_from: str | None = None) -> list[Shard]:
    """Expand files, directories and globs into shards of `files_per_shard` files (default: shard_size).

    With `workers` processes to share the shards, the files are cut into SHARDS_PER_WORKER shards per
    worker, each of MIN_FILES_PER_WORKER files or more (fewer files make one shard: a process of its
    own would cost more than it saves) or of MIN_PIECE_BYTES of input, and a large JSONL file into
    pieces at line breaks, a shard each (see _input_sizes_and_pieces).

    Deterministic for the same inputs, which are expanded here only: a shard carries its files, the
    patterns that matched nothing (its shard records them as `not_found` rejects; logged as a warning)
    and the rejects the walk decided. When the inputs yield nothing to read or to record as a reject,
    the run stops with a SettingsError naming them. Inputs listed from a directory (`listed_from`, the
    inbox) are held to it as a walk of it would be: a link out of it is an `outside_input` reject.
    """
    from pipeline.roots import INPUT_SETTING, check_path, check_run
    from pipeline.stages.ingest import expand_inputs

    size = files_per_shard or settings.shard_size
    if size < 1:
        raise SettingsError(f"files_per_shard must be positive, got {size}")
    # A listing's links are rejected below, not a reason to stop: the directory itself is what is checked.
    check_run(inputs if listed_from is None else [listed_from], settings)
    expanded = list(expand_inputs(inputs, listed_from))
    missing = [item.source_path for item in expanded
               if isinstance(item, Reject) and item.reason is RejectReason.NOT_FOUND]
    files = [item for item in expanded if not isinstance(item, Reject)]
    if workers > 1:
        size = min(size, max(MIN_FILES_PER_WORKER, -(-len(files) // (workers * SHARDS_PER_WORKER))))
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
    sizes, pieces = _input_sizes_and_pieces(files, workers) if workers > 1 else ({}, {})
    shards: list[Shard] = []
    for group in _groups(expanded, size, sizes, pieces):
        if isinstance(group, tuple):
            shards.append(Shard(len(shards), (), (), (group,)))
            continue
        shards.append(Shard(
            len(shards),
            tuple(str(item) for item in group if not isinstance(item, Reject)),
            tuple((item.source_path, str(item.reason), item.detail) for item in group
                  if isinstance(item, Reject))))
    cut = f", {plural(len(pieces), 'JSONL file')} cut into pieces" if pieces else ""
    log.info("planned %s in %s%s", plural(len(files), "file"), plural(len(shards), "shard"), cut)
    return shards


def _groups(expanded: Sequence[Any], size: int, sizes: Mapping[str, int],
            pieces: Mapping[str, list[Piece]]) -> list[list[Any] | Piece]:
    """The expanded inputs in order, in groups of `size`, or fewer that hold MIN_PIECE_BYTES of input
    (`sizes`, with several workers); each piece of a cut file is a group of its own."""
    groups: list[list[Any] | Piece] = []
    current: list[Any] = []
    held = 0
    for item in expanded:
        if not isinstance(item, Reject) and str(item) in pieces:
            if current:
                groups.append(current)
                current, held = [], 0
            groups.extend(pieces[str(item)])
            continue
        current.append(item)
        held += 0 if isinstance(item, Reject) else sizes.get(str(item), 0)
        if len(current) == size or held >= MIN_PIECE_BYTES:
            groups.append(current)
            current, held = [], 0
    if current:
        groups.append(current)
    return groups


def _input_sizes_and_pieces(files: Sequence[Any], workers: int
                            ) -> tuple[dict[str, int], dict[str, list[Piece]]]:
    """Each file's size, and the pieces of each JSONL file worth cutting so that every worker has
    SHARDS_PER_WORKER shards of about equal input: files of twice the piece size or more
    (MIN_PIECE_BYTES at least) that hold a record (a file of blank lines stays whole, to be reported)."""
    import os

    sizes = {str(item): os.stat(item).st_size for item in files}
    piece_bytes = max(MIN_PIECE_BYTES, sum(sizes.values()) // (workers * SHARDS_PER_WORKER))
    cut = {}
    for path, size in sizes.items():
        if path.lower().endswith(".jsonl") and size >= 2 * piece_bytes:
            found = _line_pieces(path, piece_bytes)
            if len(found) > 1:
                cut[path] = [(path, *piece) for piece in found]
    return sizes, cut


def _line_pieces(path: str, piece_bytes: int) -> list[tuple[int, int, int]]:
    """(first byte, end byte, number of the first line) of consecutive pieces of `path` of about
    `piece_bytes`, each ending after a line break; [] when the file holds nothing but whitespace."""
    pieces: list[tuple[int, int, int]] = []
    start, first_line, target = 0, 1, piece_bytes
    position, breaks, content = 0, 0, False
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 23):
            content = content or bool(chunk.strip())
            search = max(target - position, 0)
            while (cut := chunk.find(b"\n", search)) >= 0:
                end = position + cut + 1
                pieces.append((start, end, first_line))
                start, first_line = end, breaks + chunk.count(b"\n", 0, cut + 1) + 1
                target = end + piece_bytes
                search = max(target - position, cut + 1)
            breaks += chunk.count(b"\n")
            position += len(chunk)
    if start < position:
        pieces.append((start, position, first_line))
    return pieces if content else []


def open_output(settings: RunSettings) -> None:
    """Make the output directory ready (or raise OutputError) and complete or remove what a crashed
    earlier run left in it: once per run, before any shard task writes."""
    from pipeline.store.output import OutputStore
    from pipeline.store.work_area import (STALE_AFTER_DAYS, STALE_TEMPORARY_HOURS,
                                          remove_stale_temporary_files, remove_stale_work_areas)

    store = OutputStore(settings.output)
    store.prepare()
    with store.lock():
        recovery = store.recover()
    if any(recovery.to_dict().values()):
        log.warning("removed leftovers of an interrupted run in %s: %s", settings.output, recovery.to_dict())
    stale = remove_stale_work_areas(settings.output)
    if stale:
        log.warning("removed the work areas of runs that never finished, untouched for %d days: %s",
                    STALE_AFTER_DAYS, ", ".join(stale))
    temporary = remove_stale_temporary_files(settings.output)
    if temporary:
        log.warning("removed %s left by killed writers in the work areas and the translation store, "
                    "untouched for %d hours", plural(temporary, "temporary file"), STALE_TEMPORARY_HOURS)


def check_models(settings: RunSettings, *, load: bool) -> None:
    """Stop the run before any document when a model set for this run cannot be found, or with `load`,
    cannot be loaded (a process that translates next keeps what it loaded)."""
    from pipeline.stages.translate import Translator

    Translator(settings.translation_settings()).check_explicit_models(load=load)
