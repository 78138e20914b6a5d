"""Ingest stage: expand input paths, read bytes, decode them, and yield documents or rejects.

Supported formats are plain text (.txt, .md), HTML (.html, .htm; main text extracted with
trafilatura) and JSONL (.jsonl; one document per line, streamed). Anything that cannot become a
document is yielded as a `Reject` with a specific reason, and the rest of the batch goes on.
"""
from __future__ import annotations

import codecs
import glob
import hashlib
import json
import os
import unicodedata
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, Iterable, Iterator, Mapping

import regex

from pipeline.records import RawDocument, Reject, RejectReason

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


def _check_control_share(text: str, encoding: str) -> None:
    sample = text[:65536]
    controls = len(_BINARY_CONTROL.findall(sample))
    if sample and controls / len(sample) > _MAX_CONTROL_SHARE:
        raise BinaryContentError(
            f"{controls} control characters in the first {len(sample)} characters decoded as {encoding}")


def _utf16_without_bom(data: bytes) -> str | None:
    """The codec of BOM-less UTF-16 text (NUL in every other byte), or None."""
    sample = data[:4096]
    even_nuls = sample[0::2].count(0)
    odd_nuls = sample[1::2].count(0)
    half = len(sample) // 2
    if half and odd_nuls >= 0.9 * half and even_nuls == 0:
        return "utf-16-le"
    if half and even_nuls >= 0.9 * half and odd_nuls == 0:
        return "utf-16-be"
    return None


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
            _check_control_share(text, name)
            return text, name
    _reject_binary_signature(data)
    if b"\x00" in data:
        encoding = _utf16_without_bom(data)
        if encoding is None:
            raise BinaryContentError(f"NUL byte at offset {data.index(0)}")
        text = _decode_strict(data, encoding)
        _check_control_share(text, encoding)
        return text, encoding
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        first_error = error
    else:
        _check_control_share(text, "utf-8")
        return text, "utf-8"
    bad_byte = f"invalid UTF-8 byte 0x{data[first_error.start]:02x} at offset {first_error.start}"
    if _is_damaged_utf8(data):
        raise UndecodableError(f"{bad_byte}, in otherwise valid UTF-8 text")

    import charset_normalizer

    best = _prefer_cp1252(charset_normalizer.from_bytes(data))
    if best is None or best.encoding is None:
        raise UndecodableError(f"{bad_byte}; no other encoding decodes it cleanly")
    encoding = codecs.lookup(best.encoding).name
    text = _decode_strict(data, encoding)
    _check_control_share(text, encoding)
    return text, encoding


def _absolute(path: Path) -> Path:
    return Path(os.path.abspath(path))


def _walk_directory(directory: Path) -> Iterator[Path | Reject]:
    """Files of a supported format under `directory`, recursively, in sorted path order."""
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda entry: entry.name)
    except OSError as error:
        yield Reject(str(_absolute(directory)), RejectReason.UNREADABLE,
                     f"cannot list the directory: {error.strerror or error}")
        return
    for entry in entries:
        supported = Path(entry.name).suffix.lower() in TEXT_FORMATS
        if entry.is_dir():
            # A directory named like a document is listed too, so that reading it reports it as unreadable.
            if supported:
                yield Path(entry.path)
            if not entry.is_symlink():   # symbolic links to directories could loop
                yield from _walk_directory(Path(entry.path))
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
            yield Reject(str(pattern), RejectReason.NOT_FOUND,
                         f"no file or directory matches {str(pattern)!r}")
            continue
        for match in matches:
            if match.is_dir() and match.suffix.lower() not in TEXT_FORMATS:
                yield from unseen(_walk_directory(match))
            else:
                yield from unseen([match])


def _too_large(path: str, size: int, max_bytes: int, record: str | None = None) -> Reject:
    return Reject(path, RejectReason.TOO_LARGE, f"{size} bytes is over the limit of {max_bytes} bytes",
                  record)


def _scalar_metadata(record: Mapping[str, Any]) -> dict[str, str]:
    metadata: dict[str, str] = {}
    for key, value in record.items():
        if key == "text" or value is None or isinstance(value, (dict, list)):
            continue
        metadata[str(key)] = json.dumps(value) if isinstance(value, bool) else str(value)
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
    line_record = f"line:{line_number}"
    try:
        line = raw.decode("utf-8-sig" if line_number == 1 else "utf-8")
    except UnicodeDecodeError as error:
        detail = f"line {line_number}: invalid UTF-8 byte 0x{raw[error.start]:02x} at offset {error.start}"
        return Reject(path, RejectReason.UNDECODABLE, detail, line_record)
    try:
        record = json.loads(line)
    except json.JSONDecodeError as error:
        return Reject(path, RejectReason.MALFORMED_JSONL, f"line {line_number}: {error}", line_record)
    if not isinstance(record, dict):
        return Reject(path, RejectReason.MALFORMED_JSONL,
                      f"line {line_number}: expected a JSON object, got {type(record).__name__}", line_record)
    source_record = str(record["id"]) if record.get("id") is not None else line_record
    text = record.get("text")
    if not isinstance(text, str):
        found = "no 'text' field" if text is None else f"'text' is {type(text).__name__}, not a string"
        return Reject(path, RejectReason.MALFORMED_JSONL, f"line {line_number}: {found}", source_record)
    text = unicodedata.normalize("NFC", text)
    if not text.strip():
        return Reject(path, RejectReason.EMPTY, f"line {line_number}: 'text' is empty", source_record)
    return RawDocument(
        doc_id=content_id(text), source_path=path, source_format="jsonl", text=text, encoding="utf-8",
        n_bytes=len(raw), source_record=source_record, metadata=_scalar_metadata(record))


def _read_jsonl(path: str, max_bytes: int) -> Iterator[RawDocument | Reject]:
    with open(path, "rb") as stream:
        line_number = 0
        found_content = False
        while (item := _read_line(stream, max_bytes)) is not None:
            raw, length = item
            line_number += 1
            if length > max_bytes:
                found_content = True
                yield _too_large(path, length, max_bytes, f"line:{line_number}")
                continue
            if not raw.strip():
                continue
            found_content = True
            yield _jsonl_document(path, raw, line_number)
        if not found_content:
            yield Reject(path, RejectReason.EMPTY, "no records: the file is empty or blank")


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


def _read_file(path: str, source_format: str, max_bytes: int) -> RawDocument | Reject:
    size = os.stat(path).st_size
    if size > max_bytes:
        return _too_large(path, size, max_bytes)
    with open(path, "rb") as stream:
        data = stream.read(max_bytes + 1)
    if len(data) > max_bytes:
        return _too_large(path, len(data), max_bytes)
    if not data:
        return Reject(path, RejectReason.EMPTY, "the file is empty (0 bytes)")
    try:
        text, encoding = _decode_html(data) if source_format == "html" else decode_bytes(data)
    except DecodeError as error:
        return Reject(path, error.reason, str(error))
    metadata: dict[str, str] = {}
    if not text.strip():
        return Reject(path, RejectReason.EMPTY, f"only whitespace in {len(data)} bytes")
    if source_format == "html":
        text, metadata = _extract_html(text)
        if not text.strip():
            return Reject(path, RejectReason.NO_TEXT, "no main text found in the HTML")
    text = unicodedata.normalize("NFC", text)
    return RawDocument(
        doc_id=content_id(text), source_path=path, source_format=source_format, text=text,
        encoding=encoding, n_bytes=len(data), metadata=metadata)


def read_documents(
    paths: Iterable[str | Path], *, max_bytes: int = DEFAULT_MAX_BYTES,
) -> Iterator[RawDocument | Reject]:
    """Stream documents from files, directories and glob patterns; yield a Reject for each bad input.

    `max_bytes` limits a file (checked with stat before reading) or, for JSONL, each record line.
    """
    for item in expand_inputs(paths):
        if isinstance(item, Reject):
            yield item
            continue
        path = str(item)
        source_format = TEXT_FORMATS.get(item.suffix.lower())
        if source_format is None:
            yield Reject(path, RejectReason.UNSUPPORTED_FORMAT,
                         f"extension {item.suffix or '(none)'!r} is not one of {', '.join(TEXT_FORMATS)}")
            continue
        try:
            if item.is_dir():
                yield Reject(path, RejectReason.UNREADABLE, "is a directory, not a file")
            elif source_format == "jsonl":
                yield from _read_jsonl(path, max_bytes)
            else:
                yield _read_file(path, source_format, max_bytes)
        except OSError as error:
            yield Reject(path, RejectReason.UNREADABLE, f"{type(error).__name__}: {error.strerror or error}")
