"""Planning a run: the output made ready once, the inputs expanded once and cut into shards."""
from __future__ import annotations

import logging
import os
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
    the link's path alone could not tell that it came from a directory walk). `slices` counts the files
    of each slice it holds (none: its files are one slice); `pieces` are parts of large JSONL files, a
    slice each."""

    index: int
    inputs: tuple[str, ...]
    rejects: tuple[tuple[str, str, str], ...] = ()     # (source_path, reason, detail)
    pieces: tuple[Piece, ...] = ()     # parts of large JSONL files
    slices: tuple[int, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"index": self.index, "inputs": list(self.inputs),
                "rejects": [list(item) for item in self.rejects],
                "pieces": [list(item) for item in self.pieces], "slices": list(self.slices)}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Shard:
        return cls(index=int(data["index"]), inputs=tuple(str(item) for item in data["inputs"]),
                   rejects=tuple((str(path), str(reason), str(detail))
                                 for path, reason, detail in data.get("rejects", ())),
                   pieces=tuple((str(path), int(start), int(end), int(line))
                                for path, start, end, line in data.get("pieces", ())),
                   slices=tuple(int(count) for count in data.get("slices", ())))


# The plan cuts the inputs into slices: consecutive whole files, up to the shard size of them and this
# much input, or a piece of this much of a JSONL file of twice this or more, cut at line breaks. No
# batch spans two slices, and slices depend on the inputs alone, so one worker, several, and the DAG's
# tasks put the same documents in the same batches: what a batch decides across its documents (the
# lines a site repeats, pipeline.stages.clean), and so the output, is the same. It also bounds a
# batch's input, and so its memory, and lets workers share a large dump.
SLICE_BYTES = 2 * 2**20
# The DAG packs the pieces of a JSONL file into tasks of this many (Airflow maps 1,024 task instances
# at most, by default).
PIECES_PER_SHARD = 64


def plan_shards(inputs: Sequence[str], settings: RunSettings, files_per_shard: int | None = None, *,
                listed_from: str | None = None) -> list[Shard]:
    """Expand files, directories and globs into slices (see SLICE_BYTES), each a shard of its own; with
    `files_per_shard` (the DAG's tasks), consecutive slices of whole files are packed into shards of
    that many files or fewer (a slice larger than that is a shard alone), and consecutive pieces of a
    JSONL file into shards of PIECES_PER_SHARD: the slices, and so the batches, are the same.

    Deterministic for the same inputs, which are expanded here only: a shard carries its files, the
    patterns that matched nothing (its shard records them as `not_found` rejects; logged as a warning)
    and the rejects the walk decided. When the inputs yield nothing to read or to record as a reject,
    the run stops with a SettingsError naming them. Inputs listed from a directory (`listed_from`, the
    inbox) are held to it as a walk of it would be: a link out of it is an `outside_input` reject.
    """
    from pipeline.roots import INPUT_SETTING, check_path, check_run
    from pipeline.stages.ingest import expand_inputs

    if files_per_shard is not None and files_per_shard < 1:
        raise SettingsError(f"files_per_shard must be positive, got {files_per_shard}")
    # A listing's links are rejected below, not a reason to stop: the directory itself is what is checked.
    check_run(inputs if listed_from is None else [listed_from], settings)
    expanded = list(expand_inputs(inputs, listed_from))
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
    sizes, pieces = _input_sizes_and_pieces(files)
    slices = _slices(expanded, settings.shard_size, sizes, pieces)
    shards = [_shard(index, packed) for index, packed in enumerate(_packed(slices, files_per_shard))]
    cut = f", {plural(len(pieces), 'JSONL file')} cut into pieces" if pieces else ""
    log.info("planned %s in %s%s", plural(len(files), "file"), plural(len(shards), "shard"), cut)
    return shards


def _slices(expanded: Sequence[Any], size: int, sizes: Mapping[str, int],
            pieces: Mapping[str, list[Piece]]) -> list[list[Any] | Piece]:
    """The expanded inputs in order, in slices of `size` files or fewer that hold SLICE_BYTES of input
    (`sizes`); each piece of a cut file is a slice of its own."""
    slices: list[list[Any] | Piece] = []
    current: list[Any] = []
    files = held = 0
    for item in expanded:
        if not isinstance(item, Reject) and str(item) in pieces:
            if current:
                slices.append(current)
                current, files, held = [], 0, 0
            slices.extend(pieces[str(item)])
            continue
        if not isinstance(item, Reject):
            # A slice closes when the next file comes, so that the rejects after its last file stay in it.
            if files == size or held >= SLICE_BYTES:
                slices.append(current)
                current, files, held = [], 0, 0
            files += 1
            held += sizes[str(item)]
        current.append(item)
    if current:
        slices.append(current)
    return slices


def _packed(slices: Sequence[list[Any] | Piece], files_per_shard: int | None
            ) -> list[list[list[Any]] | list[Piece]]:
    """Consecutive slices in shards: each alone without `files_per_shard`; with it, slices of files
    together up to that many files, and pieces of one file together up to PIECES_PER_SHARD."""
    shards: list[Any] = []
    files_in_last = 0
    for item in slices:
        last = shards[-1] if shards and files_per_shard is not None else None
        if isinstance(item, tuple):
            if (last is not None and isinstance(last[0], tuple) and last[0][0] == item[0]
                    and len(last) < PIECES_PER_SHARD):
                last.append(item)
            else:
                shards.append([item])
            continue
        files = sum(not isinstance(entry, Reject) for entry in item)
        if last is not None and isinstance(last[0], list) and files_in_last + files <= files_per_shard:
            last.append(item)
            files_in_last += files
        else:
            shards.append([item])
            files_in_last = files
    return shards


def _shard(index: int, packed: list[list[Any]] | list[Piece]) -> Shard:
    if isinstance(packed[0], tuple):
        return Shard(index, (), (), tuple(packed))
    files = [[str(entry) for entry in group if not isinstance(entry, Reject)] for group in packed]
    return Shard(index, tuple(path for group in files for path in group),
                 tuple((entry.source_path, str(entry.reason), entry.detail)
                       for group in packed for entry in group if isinstance(entry, Reject)),
                 slices=tuple(len(group) for group in files) if len(files) > 1 else ())


def _input_sizes_and_pieces(files: Sequence[Any]) -> tuple[dict[str, int], dict[str, list[Piece]]]:
    """Each file's size, and the pieces of SLICE_BYTES of each JSONL file of twice that or more that
    holds a record (a file of blank lines stays whole, to be reported)."""
    sizes = {str(item): _size(item) for item in files}
    cut = {}
    for path, size in sizes.items():
        if path.lower().endswith(".jsonl") and size >= 2 * SLICE_BYTES:
            try:
                found = _line_pieces(path, SLICE_BYTES)
            except OSError:   # read whole, its shard reports why it cannot be
                continue
            if len(found) > 1:
                cut[path] = [(path, *piece) for piece in found]
    return sizes, cut


def _size(path: Any) -> int:
    """The size of the file at `path`; 0 when it cannot be read, which its shard reports."""
    try:
        return os.stat(path).st_size
    except OSError:
        return 0


def _line_pieces(path: str, piece_bytes: int) -> list[tuple[int, int, int]]:
    """(first byte, end byte, number of the first line) of consecutive pieces of `path` of about
    `piece_bytes`, each ending after a line break; [] when the file holds nothing but whitespace."""
    pieces: list[tuple[int, int, int]] = []
    start, first_line, target = 0, 1, piece_bytes
    position, breaks, content = 0, 0, False   # breaks: the line breaks read before the chunk's `counted`
    with open(path, "rb") as stream:
        while chunk := stream.read(1 << 23):
            content = content or bool(chunk.strip())
            search = max(target - position, 0)
            counted = 0
            while (cut := chunk.find(b"\n", search)) >= 0:
                end = position + cut + 1
                pieces.append((start, end, first_line))
                breaks += chunk.count(b"\n", counted, cut + 1)
                counted = cut + 1
                start, first_line = end, breaks + 1
                target = end + piece_bytes
                search = max(target - position, cut + 1)
            breaks += chunk.count(b"\n", counted)
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
