"""Ingest: encodings, content ids, rejects with specific reasons, JSONL, HTML and input expansion."""
from __future__ import annotations

import codecs
import json
import os
import random
from pathlib import Path

import pytest

from pipeline.records import RawDocument, Reject, RejectReason
from pipeline.stages import ingest
from pipeline.stages.decode import BinaryContentError, UndecodableError, content_id, decode_bytes
from pipeline.stages.ingest import expand_inputs, read_documents

FRENCH = "« Où êtes-vous allé cet été ? » demanda-t-il. L’œuvre coûte 20 € — c’est “cher”, dit Zoë, naïve."
GERMAN = "Die Größe der Stadt München überrascht. Äpfel und Öl sind günstig, sagte der Bürgermeister."
CHINESE = "北京市政府正在推进服务业扩大开放综合示范区建设，这是一项重要的改革措施。城市将继续优化营商环境。"
MIXED = "Café “two zones” — 中文 and العربية … ß"


@pytest.fixture(scope="module")
def arabic_text(arabic_seed: Path) -> str:
    return arabic_seed.read_text(encoding="utf-8").split("\n")[0]


def _only(items: list) -> RawDocument:
    assert len(items) == 1 and isinstance(items[0], RawDocument), items
    return items[0]


@pytest.mark.parametrize(("encoding", "bom", "text"), [
    ("utf-8", b"", MIXED),
    ("utf-8", codecs.BOM_UTF8, MIXED),
    ("utf-16-le", codecs.BOM_UTF16_LE, MIXED),
    ("utf-16-be", codecs.BOM_UTF16_BE, MIXED),
    ("gb18030", b"", CHINESE),
    ("cp1252", b"", FRENCH),
    ("latin-1", b"", GERMAN),
])
def test_each_encoding_round_trips(tmp_path: Path, encoding: str, bom: bytes, text: str) -> None:
    path = tmp_path / "doc.txt"
    path.write_bytes(bom + text.encode(encoding))
    document = _only(list(read_documents([path])))
    assert document.text == text
    assert document.n_bytes == len(bom) + len(text.encode(encoding))
    assert document.source_path == os.path.abspath(path)
    assert document.source_format == "txt"


def test_arabic_cp1256_round_trips_and_names_its_encoding(tmp_path: Path, arabic_text: str) -> None:
    path = tmp_path / "arabic.txt"
    path.write_bytes(arabic_text.encode("cp1256"))
    document = _only(list(read_documents([path])))
    assert document.text == arabic_text
    assert document.encoding == "cp1256"


def test_utf8_and_gb18030_report_their_encodings() -> None:
    assert decode_bytes(MIXED.encode("utf-8")) == (MIXED, "utf-8")
    assert decode_bytes(codecs.BOM_UTF8 + MIXED.encode("utf-8")) == (MIXED, "utf-8-sig")
    assert decode_bytes(CHINESE.encode("gb18030")) == (CHINESE, "gb18030")
    assert decode_bytes(FRENCH.encode("cp1252")) == (FRENCH, "cp1252")


def test_doc_id_is_stable_and_independent_of_the_encoding(tmp_path: Path, arabic_text: str) -> None:
    (tmp_path / "a.txt").write_bytes(arabic_text.encode("utf-8"))
    (tmp_path / "b.txt").write_bytes(arabic_text.encode("cp1256"))
    first = [item.doc_id for item in read_documents([tmp_path])]
    second = [item.doc_id for item in read_documents([tmp_path])]
    assert first == second
    assert first[0] == first[1] == content_id(arabic_text)
    assert len(first[0]) == 32 and int(first[0], 16) >= 0


def test_text_is_normalised_to_nfc_and_the_id_ignores_normalisation(tmp_path: Path) -> None:
    (tmp_path / "nfd.txt").write_text("Cafe\u0301 au lait", encoding="utf-8")
    document = _only(list(read_documents([tmp_path / "nfd.txt"])))
    assert document.text == "Caf\u00e9 au lait"
    assert content_id("Cafe\u0301 au lait") == content_id("Caf\u00e9 au lait") == document.doc_id


def test_bad_files_are_rejected_with_specific_reasons_and_the_batch_goes_on(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(7)
    (tmp_path / "good.txt").write_text("A perfectly good document.", encoding="utf-8")
    png = b"\x89PNG\r\n\x1a\n" + bytes(rng.randrange(256) for _ in range(2048))
    (tmp_path / "image.txt").write_bytes(png)
    (tmp_path / "empty.txt").write_bytes(b"")
    (tmp_path / "blank.md").write_bytes(b" \n\t\r\n  \n")
    damaged = "中文文本，".encode("utf-8") * 5 + b"\xff\xfe" + "更多的文本。".encode("utf-8") * 5
    (tmp_path / "damaged.txt").write_bytes(damaged)
    (tmp_path / "nul.txt").write_bytes(b"text\x00with\x00nul bytes here and there")
    (tmp_path / "controls.txt").write_bytes(bytes(range(1, 9)) * 50 + b"some text")
    with open(tmp_path / "huge.txt", "wb") as sparse:
        sparse.truncate(200 * 2**20)
    (tmp_path / "folder.txt").mkdir()
    (tmp_path / "report.pdf").write_bytes(b"%PDF-1.7")
    (tmp_path / "zz_last.txt").write_text("The last good document.", encoding="utf-8")

    opened: list[str] = []
    real_open = os.open

    def recording_open(file, *args, **kwargs):  # type: ignore[no-untyped-def]
        opened.append(os.fspath(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(ingest.os, "open", recording_open)
    inputs = [tmp_path, tmp_path / "report.pdf"]
    results = {Path(item.source_path).name: item for item in read_documents(inputs, max_bytes=2**20)}

    assert results["good.txt"].text == "A perfectly good document."
    assert results["zz_last.txt"].text == "The last good document."
    expected = {
        "image.txt": (RejectReason.BINARY, "PNG"),
        "empty.txt": (RejectReason.EMPTY, "0 bytes"),
        "blank.md": (RejectReason.EMPTY, "whitespace"),
        "damaged.txt": (RejectReason.UNDECODABLE, "0xff at offset 75"),
        "nul.txt": (RejectReason.BINARY, "NUL byte at offset 4"),
        "controls.txt": (RejectReason.BINARY, "control characters"),
        "huge.txt": (RejectReason.TOO_LARGE, f"{200 * 2**20} bytes is over the limit of {2**20} bytes"),
        "folder.txt": (RejectReason.UNREADABLE, "directory"),
        "report.pdf": (RejectReason.UNSUPPORTED_FORMAT, "'.pdf'"),
    }
    for name, (reason, detail) in expected.items():
        reject = results[name]
        assert isinstance(reject, Reject), name
        assert reject.reason == reason, (name, reject)
        assert detail in reject.detail, (name, reject.detail)
    assert str(tmp_path / "huge.txt") not in opened
    assert str(tmp_path / "good.txt") in opened


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_a_file_without_read_permission_is_unreadable(tmp_path: Path) -> None:
    path = tmp_path / "secret.txt"
    path.write_text("hidden", encoding="utf-8")
    path.chmod(0)
    (reject,) = read_documents([path])
    assert isinstance(reject, Reject) and reject.reason == RejectReason.UNREADABLE
    assert "Permission" in reject.detail


def test_decode_bytes_raises_specific_errors() -> None:
    with pytest.raises(BinaryContentError, match="ZIP archive"):
        decode_bytes(b"PK\x03\x04rest of an archive")
    with pytest.raises(UndecodableError, match="offset 6"):
        decode_bytes("日本".encode("utf-8") + b"\xc3(" + "日本語のテキスト".encode("utf-8"))
    with pytest.raises(UndecodableError, match="offset 3"):
        decode_bytes(codecs.BOM_UTF8 + b"\xff\xfe\xfd")


def test_utf16_without_bom_is_recognised() -> None:
    assert decode_bytes("Plain English text.".encode("utf-16-le")) == ("Plain English text.", "utf-16-le")


def test_jsonl_good_lines_come_through_and_bad_lines_are_rejected(tmp_path: Path) -> None:
    lines = [
        json.dumps({"id": "a1", "text": "First record.", "title": "One", "year": 2020, "tags": ["x"]}),
        json.dumps({"text": "Second record, no id.", "draft": False}),
        '{"text": "broken',
        json.dumps(["not", "an", "object"]),
        json.dumps({"id": 5, "body": "no text field"}),
        json.dumps({"text": 42}),
        "",
        json.dumps({"id": "blank", "text": "   "}),
        json.dumps({"text": "x" * 500}),
        json.dumps({"text": "Last record, after the bad ones.", "lang": "en"}),
    ]
    path = tmp_path / "dump.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    items = list(read_documents([path], max_bytes=200))
    documents = [item for item in items if isinstance(item, RawDocument)]
    rejects = {item.source_record: item for item in items if isinstance(item, Reject)}

    assert [d.text for d in documents] == [
        "First record.", "Second record, no id.", "Last record, after the bad ones."]
    assert [d.source_record for d in documents] == ["line:1", "line:2", "line:10"]
    assert [d.record_id for d in documents] == ["a1", None, None]
    assert documents[0].metadata == {"id": "a1", "title": "One", "year": "2020"}
    assert documents[1].metadata == {"draft": "false"}
    assert documents[0].n_bytes == len(lines[0].encode("utf-8"))
    assert all(d.source_format == "jsonl" and d.doc_id == content_id(d.text) for d in documents)

    assert rejects["line:3"].reason == RejectReason.MALFORMED_JSONL
    assert rejects["line:3"].detail.startswith("line 3: ")
    assert rejects["line:4"].detail == "line 4: expected a JSON object, got list"
    assert rejects["line:5"].reason == RejectReason.MALFORMED_JSONL
    assert "no 'text' field" in rejects["line:5"].detail and rejects["line:5"].record_id == "5"
    assert "'text' is int" in rejects["line:6"].detail
    assert rejects["line:8"].reason == RejectReason.EMPTY and rejects["line:8"].record_id == "blank"
    assert rejects["line:9"].reason == RejectReason.TOO_LARGE
    assert set(rejects) == {"line:3", "line:4", "line:5", "line:6", "line:8", "line:9"}


def test_jsonl_invalid_utf8_line_is_rejected_alone(tmp_path: Path) -> None:
    path = tmp_path / "dump.jsonl"
    path.write_bytes(b'{"text": "ok one"}\n{"text": "bad \xff"}\n{"text": "ok two"}\n')
    items = list(read_documents([path]))
    assert [getattr(item, "text", None) for item in items] == ["ok one", None, "ok two"]
    assert items[1].reason == RejectReason.UNDECODABLE and items[1].detail.startswith("line 2: ")


def test_empty_jsonl_file_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "empty.jsonl").write_bytes(b"\n\n")
    (reject,) = read_documents([tmp_path / "empty.jsonl"])
    assert reject.reason == RejectReason.EMPTY


HTML_PAGE = """<!DOCTYPE html><html><head><meta charset="utf-8">
<title>Port traffic grows - Example News</title>
<meta name="author" content="Jane Doe"><meta property="article:published_time" content="2023-05-01">
<link rel="canonical" href="https://example.com/port-traffic"></head><body>
<nav><ul><li><a href="/">Home</a></li><li><a href="/world">World</a></li>
<li><a href="/sport">Sport</a></li></ul></nav>
<article><h1>Port traffic grows</h1>
<p>Ningbo Zhoushan Port handled more cargo than any other port in the world
for the fourteenth year in a row.</p>
<p>The city plans to link its airport, railways and port more closely, officials said on Monday morning.</p>
</article>
<footer><p>Copyright 2023 Example News. All rights reserved.</p><a href="/privacy">Privacy policy</a></footer>
</body></html>"""


def test_html_main_text_is_extracted_without_navigation_or_footer(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(HTML_PAGE, encoding="utf-8")
    document = _only(list(read_documents([path])))
    assert document.source_format == "html"
    assert "Ningbo Zhoushan Port handled more cargo" in document.text
    assert ("fourteenth year in a row.\n\nThe city plans" in document.text)
    assert "Sport" not in document.text and "All rights reserved" not in document.text
    assert document.metadata["title"] == "Port traffic grows"
    assert document.metadata["author"] == "Jane Doe"
    assert document.metadata["date"] == "2023-05-01"
    assert document.metadata["url"] == "https://example.com/port-traffic"


@pytest.mark.parametrize("quote", ['"', "'", ""], ids=["double", "single", "unquoted"])
def test_a_huge_attribute_keeps_the_text_before_and_after_it(tmp_path: Path, quote: str) -> None:
    huge_link = f'<p><a href={quote}data:image/png;base64,{"A" * 50_000_000}{quote}>the picture</a></p>'
    page = HTML_PAGE.replace("</p>\n<p>The city plans", f"</p>\n{huge_link}\n<p>The city plans")
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    document = _only(list(read_documents([path], max_bytes=60 * 2**20)))
    assert "Ningbo Zhoushan Port handled more cargo" in document.text
    assert "officials said on Monday morning" in document.text
    assert "AAAA" not in document.text


def test_a_text_node_over_the_parsers_default_limit_is_kept_whole(tmp_path: Path) -> None:
    words = "harbour " * 1_500_000   # 12 MB in one text node, over libxml2's 10 MB without huge_tree
    page = HTML_PAGE.replace("</p>\n<p>The city plans", f" {words}</p>\n<p>The city plans")
    path = tmp_path / "page.html"
    path.write_text(page, encoding="utf-8")
    document = _only(list(read_documents([path])))
    assert document.text.count("harbour") == 1_500_000
    assert "officials said on Monday morning" in document.text


def test_html_in_a_declared_legacy_charset(tmp_path: Path, arabic_text: str) -> None:
    page = (f'<html><head><meta http-equiv="Content-Type" content="text/html; charset=windows-1256">'
            f"</head><body><article><p>{arabic_text}</p></article></body></html>")
    (tmp_path / "ar.htm").write_bytes(page.encode("cp1256"))
    document = _only(list(read_documents([tmp_path / "ar.htm"])))
    assert document.text == arabic_text
    assert document.encoding == "cp1256"


def test_directories_and_globs_expand_sorted_and_once(tmp_path: Path) -> None:
    for name in ("b/z.txt", "b/deep/y.md", "a.html", "c.jsonl", "notes.png", "b/skip.bin"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text("content", encoding="utf-8")
    from_directory = [path.relative_to(tmp_path).as_posix() for path in expand_inputs([tmp_path])]
    assert from_directory == ["a.html", "b/deep/y.md", "b/z.txt", "c.jsonl"]

    pattern = str(tmp_path / "**" / "*.txt")
    expanded = list(expand_inputs([pattern, tmp_path / "b" / "z.txt", str(tmp_path / "*.png")]))
    assert expanded == [tmp_path / "b" / "z.txt", tmp_path / "notes.png"]
    assert all(path.is_absolute() for path in expanded)


def test_missing_paths_and_empty_globs_are_not_found(tmp_path: Path) -> None:
    (tmp_path / "real.txt").write_text("Real text.", encoding="utf-8")
    missing = str(tmp_path / "missing.txt")
    empty_glob = str(tmp_path / "*.md")
    items = list(read_documents([missing, tmp_path / "real.txt", empty_glob]))
    assert [type(item) for item in items] == [Reject, RawDocument, Reject]
    assert items[0].reason == items[2].reason == RejectReason.NOT_FOUND
    assert items[0].source_path == missing and missing in items[0].detail
    assert items[2].source_path == empty_glob


def test_jsonl_record_limit_excludes_the_line_terminator(tmp_path: Path) -> None:
    record = json.dumps({"text": "exactly at the limit"}).encode("utf-8")
    (tmp_path / "limit.jsonl").write_bytes(record + b"\r\n" + record + b"x\n")
    first, second = read_documents([tmp_path / "limit.jsonl"], max_bytes=len(record))
    assert isinstance(first, RawDocument) and first.text == "exactly at the limit"
    assert second.reason == RejectReason.TOO_LARGE
    assert second.detail == f"{len(record) + 1} bytes is over the limit of {len(record)} bytes"


def test_a_null_text_is_reported_as_null_not_as_missing(tmp_path: Path) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text('{"id": "a", "text": null}\n{"id": "b"}\n', encoding="utf-8")
    null, missing = read_documents([path])
    assert null.reason == RejectReason.MALFORMED_JSONL and null.detail == "line 1: 'text' is null"
    assert missing.detail == "line 2: no 'text' field"


def test_bidirectional_controls_in_names_and_ids_are_written_as_escapes(tmp_path: Path) -> None:
    document_path = tmp_path / "invoice\u202etxt.exe.txt"
    document_path.write_text("A document whose name reads backwards on screen.", encoding="utf-8")
    records = tmp_path / "records\u2067.jsonl"
    records.write_text('{"id": "user\u202e1", "text": "A record."}\n{"id": "x\u2066", "text": null}\n',
                       encoding="utf-8")
    document, record, reject = read_documents([document_path, records])
    assert document.source_path == str(tmp_path / "invoice\\u202etxt.exe.txt")
    assert record.source_path == reject.source_path == str(tmp_path / "records\\u2067.jsonl")
    assert (record.record_id, reject.record_id) == ("user\\u202e1", "x\\u2066")
    assert record.text == "A record."


def test_the_pieces_a_plan_cuts_a_jsonl_file_into_read_as_the_whole_file(tmp_path: Path) -> None:
    from pipeline.phases.plan import _line_pieces

    lines = [json.dumps({"id": number, "text": f"Record {number} says something of its own."})
             for number in range(200)]
    lines[7] = "{not json"
    lines[40] = ""
    lines[41] = json.dumps({"id": "long", "text": "x" * 5000})
    path = tmp_path / "dump.jsonl"
    path.write_bytes(("\r\n".join(lines[:100]) + "\n" + "\n".join(lines[100:]) + "\n").encode())
    pieces = _line_pieces(str(path), 1000)
    assert len(pieces) > 5
    assert pieces[0][:1] == (0,) and pieces[-1][1] == path.stat().st_size
    assert all(previous[1] == following[0] for previous, following in zip(pieces, pieces[1:]))
    data = path.read_bytes()
    assert all(data[end - 1:end] == b"\n" for _, end, _ in pieces)
    assert all(data.count(b"\n", 0, start) + 1 == line for start, _, line in pieces)

    def records(items):
        return [(item.source_record, item.doc_id if isinstance(item, RawDocument) else str(item.reason))
                for item in items]

    whole = records(ingest.read_files([path], max_bytes=1000))
    pieced = records(ingest.read_files([], max_bytes=1000, pieces=[(str(path), *piece) for piece in pieces]))
    assert pieced == whole
    assert ("line:8", "malformed_jsonl") in whole and ("line:42", "too_large") in whole
    blank = tmp_path / "blank.jsonl"
    blank.write_bytes(b"\n \n" * 2000)
    assert _line_pieces(str(blank), 1000) == []
