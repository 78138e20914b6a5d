"""Ingest stage: expand input paths, read bytes, decode them, and yield documents or rejects.

Supported formats are plain text (.txt, .md), HTML (.html, .htm; main text extracted with
trafilatura) and JSONL (.jsonl; one document per line, streamed). Anything that cannot become a
document is yielded as a `Reject` with a specific reason, and the rest of the batch goes on.
"""
from __future__ import annotations

import codecs
import errno
import glob
import hashlib
import json
import os
import stat
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable, Iterator, Mapping

import regex

from pipeline.records import RawDocument, Reject, RejectReason
from pipeline.stages.base import Source

if TYPE_CHECKING:
    from charset_normalizer import CharsetMatch, CharsetMatches

DEFAULT_MAX_BYTES = 50 * 2**20
TEXT_FORMATS = {".txt": "txt", ".md": "md", ".html": "html", ".htm": "html", ".jsonl": "jsonl"}

_GLOB_CHARS = regex.compile(r"[*?\[]")
# Magic numbers of common binary formats that can still be partly valid text in some single-byte codec.
_BINARY_SIGNATURES: tuple[tuple[bytes, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", "PNG image"),
    (b"\xff\xd8\xff", "JPEG image"),
    (b"GIF87a", "GIF image"),
    (b"GIF89a", "GIF image"),
    (b"%PDF-", "PDF document"),
    (b"PK\x03\x04", "ZIP archive"),
    (b"\x1f\x8b", "gzip archive"),
    (b"BZh", "bzip2 archive"),
    (b"\xfd7zXZ\x00", "xz archive"),
    (b"7z\xbc\xaf\x27\x1c", "7z archive"),
    (b"Rar!\x1a\x07", "RAR archive"),
    (b"\x7fELF", "ELF executable"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "OLE2 (legacy Office) document"),
    (b"PAR1", "Parquet file"),
    (b"SQLite format 3\x00", "SQLite database"),
)
# (byte-order mark, codec of the bytes after it, name reported for the document)
_BOMS: tuple[tuple[bytes, str, str], ...] = (
    (codecs.BOM_UTF32_LE, "utf-32-le", "utf-32-le"),   # before UTF-16 LE, whose BOM is its prefix
    (codecs.BOM_UTF32_BE, "utf-32-be", "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8", "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16-le", "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be", "utf-16-be"),
)
# Control characters that never occur in text (tab, newlines, form feed and escape excluded).
_BINARY_CONTROL = regex.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\x80-\x9f]")
_MAX_CONTROL_SHARE = 0.01
# A handful of stray controls (a BEL, a backspace) in a short text is damage that clean removes, not binary.
_TOLERATED_CONTROLS = 8
_MAX_CONTROL_SHARE_SHORT = 0.25
# Code points that never occur in text decoded with the right codec: unassigned, private use, surrogates.
_IMPLAUSIBLE = regex.compile(r"[\p{Cn}\p{Co}\p{Cs}]")
# C1 controls beside the Latin-1 letters that UTF-8 lead bytes become: UTF-8 text decoded as Latin-1.
_C1_MOJIBAKE = regex.compile(r"[\xc2-\xf4][\x80-\xbf]")
_LONE_SURROGATE = regex.compile(r"[\ud800-\udfff]")
# The only way a JSON line gets a surrogate: an escape such as \ud800 (a valid pair is joined by json).
_SURROGATE_ESCAPE = regex.compile(rb"\\u[dD][89a-fA-F]")
_META_CHARSET = regex.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]+)""", regex.IGNORECASE)
_HTML_METADATA_FIELDS = ("title", "author", "date", "url", "sitename", "description")


class DecodeError(ValueError):
    """Bytes that cannot become text; `reason` says which kind of reject they produce."""

    reason = RejectReason.UNDECODABLE


class BinaryContentError(DecodeError):
    """The bytes are not text in any encoding (an image, an archive, NUL or control bytes)."""

    reason = RejectReason.BINARY


class UndecodableError(DecodeError):
    """The bytes look like text but contain bytes that no encoding decodes cleanly."""

    reason = RejectReason.UNDECODABLE


def content_id(text: str) -> str:
    """Stable identifier of a document's content: the first 32 hex digits of sha256(NFC text)."""
    return hashlib.sha256(unicodedata.normalize("NFC", text).encode("utf-8")).hexdigest()[:32]


def _reject_binary_signature(data: bytes) -> None:
    for signature, kind in _BINARY_SIGNATURES:
        if data.startswith(signature):
            raise BinaryContentError(f"{kind} signature at byte 0")


def _check_control_share(text: str, encoding: str) -> str:
    """`text`, or its repair when its controls are Latin-1 mojibake of UTF-8; BinaryContentError when
    it holds more control characters than damaged text does."""
    sample = text[:65536]
    controls = len(_BINARY_CONTROL.findall(sample))
    if not sample or controls <= _TOLERATED_CONTROLS and controls / len(sample) <= _MAX_CONTROL_SHARE_SHORT:
        return text
    if controls / len(sample) <= _MAX_CONTROL_SHARE:
        return text
    if len(_C1_MOJIBAKE.findall(sample)) * 2 >= controls:
        import ftfy

        repaired = ftfy.fix_encoding(text)
        if len(_BINARY_CONTROL.findall(repaired[:65536])) <= len(repaired[:65536]) * _MAX_CONTROL_SHARE:
            return repaired
    raise BinaryContentError(
        f"{controls} control characters in the first {len(sample)} characters decoded as {encoding}")


def _utf16_without_bom(data: bytes) -> str | None:
    """The codec of BOM-less UTF-16 text, or None.

    The NUL bytes of UTF-16 text are the high bytes of ASCII characters (spaces, digits, newlines): all
    at odd offsets in little-endian text, all at even offsets in big-endian text, whatever the script of
    the rest (Arabic or Chinese text has few). Binary data has NULs at both. The decoding must also
    look like text: no unassigned, private-use or surrogate code points.
    """
    sample = data[:65536]
    sample = sample[:len(sample) - len(sample) % 2]
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    if even_nuls and odd_nuls or not sample:
        return None
    encoding = "utf-16-le" if odd_nuls else "utf-16-be"
    decoded = sample.decode(encoding, errors="replace")
    if len(_IMPLAUSIBLE.findall(decoded)) + decoded.count("\ufffd") > len(decoded) * 0.01:
        return None
    return encoding


def _decode_strict(data: bytes, encoding: str, offset: int = 0) -> str:
    """Decode `data`, which starts at byte `offset` of the file, reporting the first bad byte."""
    try:
        return data.decode(encoding)
    except UnicodeDecodeError as error:
        raise UndecodableError(
            f"invalid {encoding} byte 0x{data[error.start]:02x} at offset {offset + error.start}") from error


def _is_damaged_utf8(data: bytes) -> bool:
    """Mostly valid multi-byte UTF-8 with a few invalid bytes: a damaged UTF-8 file, not a legacy codec.

    Legacy single- and double-byte codecs rarely form valid UTF-8 sequences, so many valid sequences
    beside few errors mean that guessing another codec would only turn the whole text into mojibake.
    """
    sample = data[:1 << 20].decode("utf-8", errors="replace")
    errors = sample.count("\ufffd")
    non_ascii = len(sample) - len(sample.encode("ascii", errors="ignore")) - errors
    return non_ascii >= 3 and errors * 10 <= non_ascii


def _prefer_cp1252(matches: CharsetMatches) -> CharsetMatch | None:
    """The best match, with ties broken in favour of cp1252.

    On short Western European text several Latin code pages (cp1250, cp1252, ...) score the same or
    decode to the same text; cp1252 is by far the most common of them (browsers read Latin-1 as cp1252).
    """
    best = matches.best()
    if best is None:
        return None
    for match in matches:
        if match.encoding == "cp1252" and match is not best and (
                (match.chaos <= best.chaos and match.coherence >= best.coherence) or str(match) == str(best)):
            return match
    return best


def decode_bytes(data: bytes) -> tuple[str, str]:
    """Decode a document's bytes; return (text, codec name).

    Order: byte-order mark, binary signatures and NUL bytes, strict UTF-8, then charset-normalizer.
    Raises BinaryContentError for non-text content and UndecodableError (with the byte offset) for
    text that no encoding decodes cleanly.
    """
    for bom, encoding, name in _BOMS:
        if data.startswith(bom):
            text = _decode_strict(data[len(bom):], encoding, offset=len(bom))
            return _check_control_share(text, name), name
    _reject_binary_signature(data)
    if b"\x00" in data:
        encoding = _utf16_without_bom(data)
        if encoding is None:
            raise BinaryContentError(f"NUL byte at offset {data.index(0)}")
        text = _decode_strict(data, encoding)
        return _check_control_share(text, encoding), encoding
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        first_error = error
    else:
        return _check_control_share(text, "utf-8"), "utf-8"
    bad_byte = f"invalid UTF-8 byte 0x{data[first_error.start]:02x} at offset {first_error.start}"
    if _is_damaged_utf8(data):
        raise UndecodableError(f"{bad_byte}, in otherwise valid UTF-8 text")

    import charset_normalizer

    best = _prefer_cp1252(charset_normalizer.from_bytes(data))
    if best is None or best.encoding is None:
        raise UndecodableError(f"{bad_byte}; no other encoding decodes it cleanly")
    encoding = codecs.lookup(best.encoding).name
    text = _decode_strict(data, encoding)
    return _check_control_share(text, encoding), encoding


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def display_path(path: str | Path) -> str:
    """`path` as valid Unicode for the output: bytes of a file name that are not UTF-8 (kept by Python
    as lone surrogates) become `\\xNN` escapes. The file is still opened by its real name."""
    text = os.fspath(path)
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


def _within(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


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
            if not supported:
                continue
            try:
                target = os.path.realpath(entry.path, strict=True)
            except OSError as error:
                what = "a symbolic link loop" if error.errno == errno.ELOOP else "a broken symbolic link"
                yield Reject(display_path(_absolute(Path(entry.path))), RejectReason.UNREADABLE,
                             f"{what}: {error.strerror or error}")
                continue
            if not _within(target, root):
                yield Reject(display_path(_absolute(Path(entry.path))), RejectReason.OUTSIDE_INPUT,
                             f"symbolic link to {display_path(target)}, outside the input directory "
                             f"{display_path(root)}")
                continue
            yield Path(entry.path)
        elif entry.is_dir(follow_symlinks=False):
            # A directory named like a document is listed too, so that reading it reports it as unreadable.
            if supported:
                yield Path(entry.path)
            yield from _walk_directory(Path(entry.path), root)
        elif supported:
            yield Path(entry.path)


def expand_inputs(patterns: Iterable[str | Path]) -> Iterator[Path | Reject]:
    """Expand files, directories (recursively) and glob patterns (`**` allowed) into absolute paths.

    Directories contribute only files of a supported format; files named explicitly or matched by a
    glob are yielded whatever their format, so that an unsupported one is reported, not skipped.
    Each path is yielded once. A pattern that matches nothing yields a NOT_FOUND reject.
    """
    seen: set[Path] = set()

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
            if match.is_dir() and match.suffix.lower() not in TEXT_FORMATS:
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
    record_id = str(record["id"]) if record.get("id") is not None else None
    if repair and record_id is not None:
        record_id = _valid_unicode(record_id)
    text = record.get("text")
    if not isinstance(text, str):
        found = "no 'text' field" if text is None else f"'text' is {type(text).__name__}, not a string"
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


def _read_jsonl(path: str, shown: str, max_bytes: int) -> Iterator[RawDocument | Reject]:
    with _open_regular(path) as stream:
        line_number = 0
        found_content = False
        while (item := _read_line(stream, max_bytes)) is not None:
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


def _extract_html(markup: str) -> tuple[str, dict[str, str]]:
    """Main text of an HTML page (paragraphs separated by blank lines) and its metadata."""
    import trafilatura

    extracted = trafilatura.bare_extraction(markup, options=_html_extractor())
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
               ) -> Iterator[RawDocument | Reject]:
    """Stream documents from files already found (by `expand_inputs`), without expanding them again."""
    for item in map(Path, files):
        path = str(item)
        shown = display_path(path)
        source_format = TEXT_FORMATS.get(item.suffix.lower())
        if source_format is None:
            yield Reject(shown, RejectReason.UNSUPPORTED_FORMAT,
                         f"extension {display_path(item.suffix) or '(none)'!r} is not one of "
                         f"{', '.join(TEXT_FORMATS)}")
            continue
        try:
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
        except _NotRegularFile as error:
            yield Reject(shown, RejectReason.SPECIAL_FILE, f"{error}, not a regular file")
        except OSError as error:
            yield Reject(shown, RejectReason.UNREADABLE, _unreadable(error))


class IngestSource(Source[RawDocument]):
    """The documents of files already found (by the plan), after the rejects the plan made: the source
    stage of a shard."""

    name = "ingest"

    def __init__(self, files: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
                 planned_rejects: Iterable[Reject] = ()):
        super().__init__()
        self.files = list(files)
        self.max_bytes = max_bytes
        self.planned_rejects = list(planned_rejects)

    def read(self) -> Iterator[RawDocument | Reject]:
        yield from self.planned_rejects
        yield from read_files(self.files, max_bytes=self.max_bytes)
