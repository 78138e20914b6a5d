"""Decoding of input bytes: the encoding detected (charset-normalizer, with UTF-16 and damaged UTF-8
recognised), binary content refused, and text that only a wrong codec would give rejected.
"""
from __future__ import annotations

import codecs
import hashlib
import re
import unicodedata
from typing import TYPE_CHECKING

import regex

from pipeline.records import RejectReason

if TYPE_CHECKING:
    from charset_normalizer import CharsetMatch, CharsetMatches


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
# Control characters that never occur in text (tab, newlines, form feed and escape excluded). A class of
# code points alone: `re` counts them in a page five times faster than `regex`.
_BINARY_CONTROL = re.compile(r"[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f\x80-\x9f]")
_MAX_CONTROL_SHARE = 0.01
# A handful of stray controls (a BEL, a backspace) in a short text is damage that clean removes, not binary.
_TOLERATED_CONTROLS = 8
_MAX_CONTROL_SHARE_SHORT = 0.25
# Code points that never occur in text decoded with the right codec: unassigned, private use, surrogates.
_IMPLAUSIBLE = regex.compile(r"[\p{Cn}\p{Co}\p{Cs}]")
# C1 controls beside the Latin-1 letters that UTF-8 lead bytes become: UTF-8 text decoded as Latin-1.
_C1_MOJIBAKE = regex.compile(r"[\xc2-\xf4][\x80-\xbf]")


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
