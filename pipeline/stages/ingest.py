"""Ingest stage: expand input paths, read bytes, decode them, and yield documents or rejects.

Supported formats are plain text (.txt, .md), HTML (.html, .htm; main text extracted with
trafilatura) and JSONL (.jsonl; one document per line, streamed). Anything that cannot become a
document is yielded as a `Reject` with a specific reason, and the rest of the batch goes on.
"""
from __future__ import annotations

import codecs
import errno
import glob
import json
import os
import re
import stat
import unicodedata
from functools import cache
from itertools import chain
from pathlib import Path
from typing import Any, BinaryIO, Iterable, Iterator, Mapping

import regex

from pipeline.records import RawDocument, Reject, RejectReason
from pipeline.stages.align import escaped_bidi_controls
from pipeline.stages.base import Source
from pipeline.stages.decode import DecodeError, content_id, decode_bytes

DEFAULT_MAX_BYTES = 50 * 2**20
TEXT_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}

_GLOB_CHARS = regex.compile(r"[*?\[]")
_LONE_SURROGATE = regex.compile(r"[\ud800-\udfff]")
# The only way a JSON line gets a surrogate: an escape such as \ud800 (a valid pair is joined by json).
_SURROGATE_ESCAPE = regex.compile(rb"\\u[dD][89a-fA-F]")
_META_CHARSET = regex.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", regex.IGNORECASE)
_HTML_METADATA_FIELDS = ("title", "author", "date", "url", "sitename", "description")
# An attribute value this long is a data: URI or inline data, never text the extraction keeps; one over
# libxml2's 10 MB limit would stop the parser and lose the rest of the page. Emptied before parsing. `<`
# ends a quoted value here, so that a stray `="` in the text can only run to the next tag. The standard
# library's engine keeps the count as a number, where the regex module's compiled pattern takes 56 MB.
MAX_HTML_ATTRIBUTE_CHARS = 64 * 1024
_LONG_ATTRIBUTE_VALUE = re.compile(
    r"""(=\s*+)(?:"[^"<]{%(n)d,}+"|'[^'<]{%(n)d,}+'|[^\s"'<>=`]{%(n)d,}+)"""
    % {"n": MAX_HTML_ATTRIBUTE_CHARS})


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def display_path(path: str | Path) -> str:
    """`path` as valid Unicode for the output: bytes of a file name that are not UTF-8 (kept by Python
    as lone surrogates) become `\\xNN` escapes, bidirectional controls `\\u202e` escapes (a name such
    as `invoice\\u202etxt.exe` would otherwise show as `invoiceexe.txt`). The file is still opened by its
    real name."""
    text = os.fspath(path)
    try:
        shown = text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        shown = text.encode("utf-8", "backslashreplace").decode("utf-8")
    return escaped_bidi_controls(shown)


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _link_reject(link: Path, root: str) -> Reject | None:
    """The reject of a symbolic link that cannot be resolved (a loop, a broken link) or that leads out
    of the directory `root` (resolved); None when it leads inside."""
    try:
        target = os.path.realpath(link, strict=True)
    except OSError as error:
        what = "a symbolic link loop" if error.errno == errno.ELOOP else "a broken symbolic link"
        return Reject(display_path(_absolute(link)), RejectReason.UNREADABLE,
                      f"{what}: {error.strerror or error}")
    if not _within(target, root):
        return Reject(display_path(_absolute(link)), RejectReason.OUTSIDE_INPUT,
                      f"symbolic link to {display_path(target)}, outside the input directory "
                      f"{display_path(root)}")
    return None


def _walk_directory(directory: Path, root: str | None = None) -> Iterator[Path | Reject]:
    """Files of a supported format under `directory`, recursively, in sorted path order.

    Symbolic links are followed only to what lies inside the directory the walk started from (`root`,
    resolved); a link that leads out of it, or that cannot be resolved (a loop), becomes a reject.
    """
    root = root if root is not None else os.path.realpath(directory)
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        yield Reject(display_path(_absolute(directory)), RejectReason.UNREADABLE,
                     f"cannot list the directory: {error.strerror or error}")
        return
    for entry in entries:
        supported = Path(entry.name).suffix.lower() in TEXT_FORMATS
        if entry.is_symlink():
            if supported:
                yield _link_reject(Path(entry.path), root) or Path(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            # A directory named like a document is listed too, so that reading it reports it as unreadable.
            if supported:
                yield Path(entry.path)
            yield from _walk_directory(Path(entry.path), root)
        elif supported:
            yield Path(entry.path)


def expand_inputs(patterns: Iterable[str | Path], listed_from: str | Path | None = None
                  ) -> Iterator[Path | Reject]:
    """Expand files, directories (recursively) and glob patterns (`**` allowed) into absolute paths.

    Directories contribute only files of a supported format; files named explicitly or matched by a
    glob are yielded whatever their format, so that an unsupported one is reported, not skipped.
    Each path is yielded once. A pattern that matches nothing yields a NOT_FOUND reject. Inputs listed
    from a directory (`listed_from`, an inbox) are held to it as a walk of it would be: a link among
    them that leads out of it is a reject, not a document.
    """
    seen: set[Path] = set()
    listing_root = os.path.realpath(listed_from) if listed_from is not None else None

    def unseen(paths: Iterable[Path | Reject]) -> Iterator[Path | Reject]:
        for path in paths:
            if isinstance(path, Reject):
                yield path
                continue
            absolute = _absolute(path)
            if absolute not in seen:
                seen.add(absolute)
                yield absolute

    for pattern in patterns:
        text = os.path.expanduser(str(pattern))
        if _GLOB_CHARS.search(text) and not Path(text).exists():
            matches = [Path(match) for match in sorted(glob.glob(text, recursive=True))]
        else:
            matches = [Path(text)] if Path(text).exists() or Path(text).is_symlink() else []
        if not matches:
            yield Reject(display_path(pattern), RejectReason.NOT_FOUND,
                         f"no file or directory matches {display_path(pattern)!r}")
            continue
        for match in matches:
            link_reject = listing_root and _link_reject(match, listing_root)
            if link_reject:
                yield link_reject
            elif match.is_dir() and match.suffix.lower() not in TEXT_FORMATS:
                yield from unseen(_walk_directory(match))
            else:
                yield from unseen([match])


def _too_large(path: str, size: int, max_bytes: int, record: str | None = None,
               record_id: str | None = None) -> Reject:
    return Reject(path, RejectReason.TOO_LARGE, f"{size} bytes is over the limit of {max_bytes} bytes",
                  record, record_id)


def _valid_unicode(text: str) -> str:
    """`text` with lone surrogates (which JSON escapes such as \\ud800 can produce, but no UTF-8 file
    or Parquet column can hold) replaced by U+FFFD."""
    return _LONE_SURROGATE.sub("\ufffd", text)


def _scalar_metadata(record: Mapping[str, Any], repair: bool) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for key, value in record.items():
        if key == "text" or value is None or isinstance(value, (dict, list)):
            continue
        text = json.dumps(value) if isinstance(value, bool) else str(value)
        metadata[_valid_unicode(key) if repair else key] = _valid_unicode(text) if repair else text
    return metadata


def _read_line(stream: BinaryIO, max_bytes: int) -> tuple[bytes, int] | None:
    """The next line without its terminator, and its length; None at the end of the file.

    Only max_bytes + 2 bytes of a line are kept: the rest of an over-long line is skipped in chunks,
    so a huge record never has to fit in memory (its length is still counted for the reject).
    """
    line = stream.readline(max_bytes + 2)
    if not line:
        return None
    content = line.rstrip(b"\r\n")
    length = len(content)
    if len(content) == len(line) == max_bytes + 2:   # cut before the end of the line
        while chunk := stream.readline(1 << 20):
            length += len(chunk.rstrip(b"\r\n"))
            if chunk.endswith(b"\n"):
                break
    return content, length


def _jsonl_document(path: str, raw: bytes, line_number: int) -> RawDocument | Reject:
    """One JSONL line as a document. A record is keyed by its line number (`line:N`), so that records
    sharing an `id` stay apart; the `id` is kept as `record_id`."""
    line_record = f"line:{line_number}"
    try:
        line = raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        detail = f"line {line_number}: invalid UTF-8 byte 0x{raw[error.start]:02x} at offset {error.start}"
        return Reject(path, RejectReason.UNDECODABLE, detail, line_record)
    try:
        record = json.loads(line)
    except (json.JSONDecodeError, RecursionError) as error:
        message = error if isinstance(error, json.JSONDecodeError) else "nested too deeply"
        return Reject(path, RejectReason.MALFORMED_JSONL, f"line {line_number}: {message}", line_record)
    if not isinstance(record, dict):
        return Reject(path, RejectReason.MALFORMED_JSONL,
                      f"line {line_number}: expected a JSON object, got {type(record).__name__}", line_record)
    # Checking the line once is far cheaper than checking every string of every record.
    repair = _SURROGATE_ESCAPE.search(raw) is not None
    record_id = escaped_bidi_controls(str(record["id"])) if record.get("id") is not None else None
    if repair and record_id is not None:
        record_id = _valid_unicode(record_id)
    text = record.get("text")
    if not isinstance(text, str):
        found = ("no 'text' field" if "text" not in record else "'text' is null" if text is None
                 else f"'text' is {type(text).__name__}, not a string")
        return Reject(path, RejectReason.MALFORMED_JSONL, f"line {line_number}: {found}", line_record,
                      record_id)
    text = unicodedata.normalize("NFC", _valid_unicode(text) if repair else text)
    if not text.strip():
        return Reject(path, RejectReason.EMPTY, f"line {line_number}: 'text' is empty", line_record,
                      record_id)
    return RawDocument(
        doc_id=content_id(text), source_path=path, source_format="jsonl", text=text, encoding="utf-8",
        n_bytes=len(raw), source_record=line_record, metadata=_scalar_metadata(record, repair),
        record_id=record_id)


def _open_regular(path: str) -> BinaryIO:
    """Open a regular file for reading without ever blocking: a FIFO put in its place after the stat
    is opened non-blocking and refused by fstat before any read."""
    descriptor = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0))
    try:
        mode = os.fstat(descriptor).st_mode
        if not stat.S_ISREG(mode):
            raise _NotRegularFile(_file_kind(mode))
        return os.fdopen(descriptor, "rb")
    except BaseException:
        os.close(descriptor)
        raise


def _read_jsonl(path: str, shown: str, max_bytes: int, piece: tuple[int, int, int] | None = None
                ) -> Iterator[RawDocument | Reject]:
    """The records of a JSONL file, or of the `piece` of it (first byte, end byte, number of its first
    line) that a plan cut at line breaks: the same records, numbered as in the whole file."""
    start, end, first_line = piece if piece is not None else (0, None, 1)
    with _open_regular(path) as stream:
        stream.seek(start)
        line_number = first_line - 1
        found_content = piece is not None   # a cut file holds records: the plan found them
        while (end is None or stream.tell() < end) and (item := _read_line(stream, max_bytes)) is not None:
            raw, length = item
            line_number += 1
            if length > max_bytes:
                found_content = True
                yield _too_large(shown, length, max_bytes, f"line:{line_number}")
                continue
            if not raw.strip():
                continue
            found_content = True
            yield _jsonl_document(shown, raw, line_number)
        if not found_content:
            yield Reject(shown, RejectReason.EMPTY, "no records: the file is empty or blank")


def _html_charset(data: bytes) -> str | None:
    match = _META_CHARSET.search(data[:4096])
    if match is None:
        return None
    try:
        return codecs.lookup(match.group(1).decode("ascii")).name
    except LookupError:
        return None


def _decode_html(data: bytes) -> tuple[str, str]:
    """Decode HTML, trusting its declared charset when the bytes agree with it."""
    declared = _html_charset(data)
    if declared is not None:
        try:
            return data.decode(declared), declared
        except UnicodeDecodeError:
            pass
    return decode_bytes(data)


@cache
def _html_extractor():
    """trafilatura's options, built once: building them reads its configuration on every call.

    `fast` skips the comparison with the fallback extractors (readability, jusText), which costs a
    fifth of the extraction time and changes nothing on news pages, whose main text is marked up.
    The date comes from the markup (meta tags, time elements, JSON-LD, the URL) without htmldate's
    extensive search of the page's text: that search costs a fifth of the extraction time, and the
    clean stage reads a dateline in the text itself.
    """
    from trafilatura.settings import Extractor, set_date_params

    return Extractor(
        output_format="python", fast=True, comments=False, tables=True, dedup=False, with_metadata=True,
        date_params=set_date_params(extensive=False))


@cache
def _html_parser():
    """trafilatura's own parser settings, with huge_tree: a text node over libxml2's 10 MB default is
    kept whole instead of ending the page there (a file is bounded by max_input_bytes anyway)."""
    from lxml.html import HTMLParser

    return HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8", remove_comments=True,
                      remove_pis=True, huge_tree=True)


def _parse_html(markup: str):
    """The page's tree as trafilatura's load_html builds it (its repairs, then lxml), with oversized
    attribute values emptied first; None when the markup holds no element."""
    from lxml.etree import ParserError
    from lxml.html import fromstring
    from trafilatura.utils import is_dubious_html, repair_faulty_html

    markup = _LONG_ATTRIBUTE_VALUE.sub(r'\1""', markup)
    beginning = markup[:50].lower()
    try:
        tree = fromstring(repair_faulty_html(markup, beginning).encode("utf-8", "surrogatepass"),
                          parser=_html_parser())
    except ParserError:   # nothing but whitespace or comments
        return None
    # trafilatura's test of whether this is a page at all, kept so that its verdicts do not change
    return None if is_dubious_html(beginning) and len(tree) < 2 else tree


def _extract_html(markup: str) -> tuple[str, dict[str, str]]:
    """Main text of an HTML page (paragraphs separated by blank lines) and its metadata."""
    import trafilatura

    tree = _parse_html(markup)
    extracted = trafilatura.bare_extraction(tree, options=_html_extractor()) if tree is not None else None
    if extracted is None:
        return "", {}
    blocks = [line.strip() for line in (extracted.text or "").split("\n")]
    metadata = {
        field: str(value) for field in _HTML_METADATA_FIELDS
        if (value := getattr(extracted, field, None)) not in (None, "")
    }
    return "\n\n".join(block for block in blocks if block), metadata


def _read_file(path: str, shown: str, source_format: str, size: int, max_bytes: int) -> RawDocument | Reject:
    if size > max_bytes:   # decided from the size, never read
        return _too_large(shown, size, max_bytes)
    with _open_regular(path) as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        return _too_large(shown, len(data), max_bytes)
    if not data:
        return Reject(shown, RejectReason.EMPTY, "the file is empty (0 bytes)")
    try:
        text, encoding = _decode_html(data) if source_format == "html" else decode_bytes(data)
    except DecodeError as error:
        return Reject(shown, error.reason, str(error))
    metadata: dict[str, str] = {}
    if not text.strip():
        return Reject(shown, RejectReason.EMPTY, f"only whitespace in {len(data)} bytes")
    if source_format == "html":
        text, metadata = _extract_html(text)
        if not text.strip():
            return Reject(shown, RejectReason.NO_TEXT, "no main text found in the HTML")
    text = unicodedata.normalize("NFC", text)
    return RawDocument(
        doc_id=content_id(text), source_path=shown, source_format=source_format, text=text,
        encoding=encoding, n_bytes=len(data), metadata=metadata)


class _NotRegularFile(Exception):
    """The path is a FIFO, a socket or a device: reading it could block forever or never end."""


def _file_kind(mode: int) -> str:
    kinds = ((stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISSOCK, "a socket"),
             (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"))
    return next((kind for test, kind in kinds if test(mode)), "not a regular file")


def _unreadable(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return f"a symbolic link loop: {error.strerror}"
    return f"{type(error).__name__}: {error.strerror or error}"


def read_documents(
    paths: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[RawDocument | Reject]:
    """Stream documents from files, directories and glob patterns; yield a Reject for each bad input.

    `max_bytes` limits a file (checked with stat before reading) or, for JSONL, each record line.
    Only regular files are read: what a path is, is decided from `stat` before it is opened.
    Paths in the records are shown as valid Unicode (see `display_path`).
    """
    for item in expand_inputs(paths):
        if isinstance(item, Reject):
            yield item
        else:
            yield from read_files([item], max_bytes=max_bytes)


def read_files(files: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
               pieces: Iterable[tuple[str, int, int, int]] = ()) -> Iterator[RawDocument | Reject]:
    """Stream documents from files already found (by `expand_inputs`), without expanding them again,
    then from `pieces` of JSONL files a plan cut (path, first byte, end byte, number of the first line)."""
    for item in map(Path, files):
        path = str(item)
        shown = display_path(path)
        source_format = TEXT_FORMATS.get(item.suffix.lower())
        if source_format is None:
            yield Reject(shown, RejectReason.UNSUPPORTED_FORMAT,
                         f"extension {display_path(item.suffix) or '(none)'!r} is not one of "
                         f"{', '.join(TEXT_FORMATS)}")
            continue
        yield from _unless_unreadable(shown, _read_path(path, shown, source_format, max_bytes))
    for path, *piece in pieces:
        shown = display_path(path)
        yield from _unless_unreadable(shown, _read_jsonl(path, shown, max_bytes, tuple(piece)))


def _read_path(path: str, shown: str, source_format: str, max_bytes: int) -> Iterator[RawDocument | Reject]:
    info = os.stat(path)
    mode = info.st_mode
    if stat.S_ISDIR(mode):
        yield Reject(shown, RejectReason.UNREADABLE, "is a directory, not a file")
    elif not stat.S_ISREG(mode):
        yield Reject(shown, RejectReason.SPECIAL_FILE, f"{_file_kind(mode)}, not a regular file")
    elif source_format == "jsonl":
        yield from _read_jsonl(path, shown, max_bytes)
    else:
        yield _read_file(path, shown, source_format, info.st_size, max_bytes)


def _unless_unreadable(shown: str, documents: Iterator[RawDocument | Reject]
                       ) -> Iterator[RawDocument | Reject]:
    """`documents`, ended by a Reject when the file turns out not to be a regular one or not readable."""
    try:
        yield from documents
    except _NotRegularFile as error:
        yield Reject(shown, RejectReason.SPECIAL_FILE, f"{error}, not a regular file")
    except OSError as error:
        yield Reject(shown, RejectReason.UNREADABLE, _unreadable(error))


class IngestSource(Source[RawDocument]):
    """The documents of files already found (by the plan), after the rejects the plan made: the source
    stage of a shard.

    `slices` counts the files of each of the plan's slices, in order (none: the files are one); a
    slice, and each piece, is a section of its own, which no batch spans (pipeline.phases.plan).
    """

    name = "ingest"

    def __init__(self, files: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 planned_rejects: Iterable[Reject] = (), pieces: Iterable[tuple[str, int, int, int]] = (),
                 slices: Iterable[int] = ()):
        super().__init__()
        self.files = list(files)
        self.max_bytes = max_bytes
        self.planned_rejects = list(planned_rejects)
        self.pieces = list(pieces)
        self.slices = list(slices) or [len(self.files)]
        if sum(self.slices) != len(self.files):
            raise ValueError(f"slices of {sum(self.slices)} files for {len(self.files)} files")

    def read(self) -> Iterator[RawDocument | Reject]:
        for section in self.sections():
            yield from section

    def sections(self) -> Iterator[Iterator[RawDocument | Reject]]:
        start = 0
        for count in self.slices:
            files = read_files(self.files[start:start + count], max_bytes=self.max_bytes)
            # The plan's rejects come first, with the first batch: rejects take no room in a batch.
            yield chain(self.planned_rejects, files) if start == 0 else files
            start += count
        for piece in self.pieces:
            yield read_files((), max_bytes=self.max_bytes, pieces=(piece,))
