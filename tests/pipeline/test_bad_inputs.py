"""Hostile inputs: none may stop, stall or vanish from a run.

A corpus of bad-input cases is built once. Each case is run on its own (in this process, so the
detectors load once; the cases that could block a reader run in a subprocess under a timeout), then all
of them together in one run. Every time the run must complete (exit 0) within its bound, and its rows
must account for every input, counted: each file or JSONL record is a document or a reject with the
reason the case expects, never merged with another, never missing.
"""
from __future__ import annotations

import codecs
import json
import os
import signal
import socket
import subprocess
import sys
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import pyarrow.dataset as ds
import pytest
from project_paths import REPO_ROOT

from pipeline.phases.runner import run
from pipeline.settings import RunSettings
from pipeline.store.reader import read_output

MAX_INPUT_BYTES = 2**20
RUN_BOUND_S = 300     # a hang guard, far above what any case needs: a case that stalls fails here
BIDI = "\u202e\u202a\u202b\u202c\u202d\u2066\u2067\u2068\u2069"

TOPICS = ("harbour", "library", "railway", "festival", "budget", "bakery", "stadium", "lighthouse")


def prose(tag: str, sentences: int = 3) -> str:
    """English prose that cleaning keeps, unique to `tag` (no two cases share content)."""
    topic = TOPICS[sum(map(ord, tag)) % len(TOPICS)]
    return " ".join(
        f"The council discussed the {topic} during meeting {tag} number {number}, and residents asked "
        f"many questions about its future before the vote." for number in range(sentences))


def arabic(tag: str) -> str:
    return (f"ناقش المجلس البلدي ميزانية المدينة الجديدة في اجتماعه رقم {len(tag)} يوم الثلاثاء. "
            f"وقال السكان إن الميناء تغير كثيرا خلال السنوات الأخيرة ({tag}). "
            "وطالب كثيرون بمزيد من المعلومات قبل الاجتماع المقبل.")


def chinese(tag: str) -> str:
    return (f"市议会周二讨论了新的城市预算（{tag}）。 居民们说，港口在过去几年里发生了很大变化。"
            "许多人要求在下次会议之前获得更多信息。")


@dataclass
class Case:
    """One kind of bad input: how to build it, and the rows it must become."""

    name: str
    build: Callable[[Path], list[Path] | None]   # writes into its directory; returns inputs (default: it)
    documents: int = 0
    rejects: dict[str, int] = field(default_factory=dict)
    subprocess: bool = False                      # reading it wrongly would block: run it under a timeout
    check: Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame], None] | None = None
    inputs: list[Path] = field(default_factory=list)

    @property
    def n_inputs(self) -> int:
        return self.documents + sum(self.rejects.values())


def _text(name: str, text: str, encoding: str = "utf-8") -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        (directory / name).write_bytes(text.encode(encoding))
    return build


def _bytes(name: str, data: bytes) -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        (directory / name).write_bytes(data)
    return build


def _jsonl(*lines: str | bytes, name: str = "dump.jsonl") -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        (directory / name).write_bytes(b"".join(
            (line if isinstance(line, bytes) else line.encode("utf-8", "surrogatepass")) + b"\n"
            for line in lines))
    return build


def _record(**fields: str | int | None) -> str:
    # ensure_ascii keeps a lone surrogate as the escape \udXXX, exactly as a JSONL dump holds it.
    return json.dumps(fields, ensure_ascii=True)


def _fifo(name: str) -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        os.mkfifo(directory / name)
    return build


def _socket(name: str) -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.bind(str(directory / name))
        server.close()   # the socket file stays
    return build


def _symlink_given(name: str, target: str) -> Callable[[Path], list[Path]]:
    """A link named as an input on its own (not found by a directory walk)."""
    def build(directory: Path) -> list[Path]:
        (directory / name).symlink_to(target)
        return [directory / name]
    return build


def _links(*pairs: tuple[str, str], real: dict[str, str] | None = None) -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        for name, text in (real or {}).items():
            (directory / name).write_text(text, encoding="utf-8")
        for name, target in pairs:
            (directory / name).symlink_to(target)
    return build


def _non_utf8_name(name: bytes, text: str) -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        with open(os.path.join(os.fsencode(directory), name), "wb") as handle:
            handle.write(text.encode("utf-8"))
    return build


def _sparse(name: str, size: int) -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        with open(directory / name, "wb") as handle:
            handle.truncate(size)
    return build


def _given(name: str, data: bytes) -> Callable[[Path], list[Path]]:
    def build(directory: Path) -> list[Path]:
        (directory / name).write_bytes(data)
        return [directory / name]
    return build


def _pattern_beside_a_document(pattern: str) -> Callable[[Path], list[Path]]:
    """A pattern that matches nothing, given with a readable file (alone it would stop the run)."""
    def build(directory: Path) -> list[Path]:
        _text("found.txt", prose("found"))(directory)
        return [directory / pattern, directory / "found.txt"]
    return build


def _several(*builders: Callable[[Path], None]) -> Callable[[Path], None]:
    def build(directory: Path) -> None:
        for builder in builders:
            builder(directory)
    return build


def _flagged_bidi(documents: pd.DataFrame, paragraphs: pd.DataFrame, sentences: pd.DataFrame) -> None:
    with_controls = sentences[sentences["src_text"].str.contains(f"[{BIDI}]")]
    assert len(with_controls) > 0   # the source stays faithful ...
    assert with_controls["quality_flags"].map(lambda flags: "bidi_controls" in list(flags)).all()
    clean = sentences[~sentences["src_text"].str.contains(f"[{BIDI}]")]
    assert not clean["quality_flags"].map(
        lambda flags: flags is not None and "bidi_controls" in list(flags)).any()
    flagged_paragraphs = paragraphs["quality_flags"].map(lambda flags: "bidi_controls" in list(flags or ()))
    assert flagged_paragraphs.any()


def _language(lang: str, encoding: str | None = None):
    def check(documents: pd.DataFrame, paragraphs: pd.DataFrame, sentences: pd.DataFrame) -> None:
        assert documents["src_lang"].tolist() == [lang] * len(documents)
        if encoding is not None:
            assert set(documents["encoding"]) == {encoding}
    return check


def _valid_unicode(column: str, expected: str) -> Callable[[pd.DataFrame, pd.DataFrame, pd.DataFrame], None]:
    """Every text column is valid UTF-8, and `column` of the document holds `expected` in its place."""
    def check(documents: pd.DataFrame, paragraphs: pd.DataFrame, sentences: pd.DataFrame) -> None:
        for frame in (documents, paragraphs, sentences):
            for name in frame.columns:
                if frame[name].dtype == object or str(frame[name].dtype) == "str":
                    for value in frame[name].dropna():
                        if isinstance(value, str):
                            value.encode("utf-8")   # raises on a lone surrogate
        assert documents[column].str.contains(expected, regex=False).all(), documents[column].tolist()
    return check


def cases() -> list[Case]:
    long_line = " ".join(f"word{number} of a long unpunctuated line" for number in range(12000))
    long_arabic = " ".join(["كلمة عربية طويلة بلا علامات ترقيم"] * 3000)
    return [
        # 1. inputs that aborted the whole run
        Case("jsonl_surrogate_text", _jsonl(_record(id="s1", text=prose("st") + " \ud800 end.")), 1,
             check=_valid_unicode("record_id", "s1")),
        Case("jsonl_surrogate_id", _jsonl(_record(id="bad\udfffid", text=prose("sid"))), 1,
             check=_valid_unicode("record_id", "bad\ufffdid")),
        Case("jsonl_surrogate_url",
             _jsonl(_record(url="http://x.org/\ud800", text=prose("su") + " \udc00")), 1,
             check=_valid_unicode("url", "http://x.org/\ufffd")),
        Case("jsonl_surrogate_title", _jsonl(_record(title="T\udbff", text=prose("stitle") + " \ud800")), 1,
             check=_valid_unicode("title", "T\ufffd")),
        Case("jsonl_surrogate_key", _jsonl('{"\\ud800k": "v", "text": "%s \\udfff"}' % prose("skey")), 1),
        Case("jsonl_escaped_pair_ok", _jsonl(_record(text=prose("emoji") + " \U0001F600")), 1),
        Case("filename_not_utf8", _non_utf8_name(b"\xff\xfe.txt", prose("nameff")), 1,
             check=_valid_unicode("source_path", "/\\xff\\xfe.txt")),
        Case("filename_latin1", _non_utf8_name(b"caf\xe9 r\xe9sum\xe9.txt", prose("namee9")), 1,
             check=_valid_unicode("source_path", "/caf\\xe9 r\\xe9sum\\xe9.txt")),
        Case("symlink_loop", _links(("a.txt", "b.txt"), ("b.txt", "a.txt")), 0, {"unreadable": 2}),
        Case("symlink_to_itself", _links(("self.txt", "self.txt")), 0, {"unreadable": 1}),
        Case("symlink_dangling", _links(("gone.txt", "missing.txt")), 0, {"unreadable": 1}),
        # 2. inputs that blocked or never ended
        Case("fifo_txt", _fifo("x.txt"), 0, {"special_file": 1}, subprocess=True),
        Case("fifo_jsonl", _fifo("x.jsonl"), 0, {"special_file": 1}, subprocess=True),
        Case("dev_zero_jsonl_given", _symlink_given("zero.jsonl", "/dev/zero"), 0, {"special_file": 1},
             subprocess=True),
        Case("dev_zero_txt_given", _symlink_given("zero.txt", "/dev/zero"), 0, {"special_file": 1},
             subprocess=True),
        Case("dev_zero_in_directory", _links(("zero.jsonl", "/dev/zero")), 0, {"outside_input": 1},
             subprocess=True),
        Case("dev_null_given", _symlink_given("null.txt", "/dev/null"), 0, {"special_file": 1},
             subprocess=True),
        Case("socket_txt", _socket("s.txt"), 0, {"special_file": 1}, subprocess=True),
        Case("jsonl_line_over_limit", _jsonl(_record(text="x" * (MAX_INPUT_BYTES + 10)),
                                             _record(text=prose("afterlong"))), 1, {"too_large": 1}),
        Case("jsonl_unterminated_huge_line",
             _bytes("tail.jsonl", (_record(text=prose("beforehuge")) + "\n").encode()
                    + b'{"text": "' + b"y" * (3 * MAX_INPUT_BYTES)), 1,
             {"too_large": 1}),
        Case("file_over_limit", _sparse("huge.txt", 40 * MAX_INPUT_BYTES), 0, {"too_large": 1}),
        # 3. large inputs under the limit
        Case("long_unpunctuated_line", _text("long.txt", long_line), 1),
        Case("long_arabic_paragraph", _text("long_ar.txt", long_arabic), 1, check=_language("ar")),
        # 4. JSONL records keyed by line
        Case("jsonl_bad_records_sharing_an_id",
             _jsonl(_record(id="x", text=5), _record(id="x", body="no text"), _record(id="x", text="  ")),
             0, {"malformed_jsonl": 2, "empty": 1}),
        Case("jsonl_good_records_sharing_an_id",
             _jsonl(_record(id="x", text=prose("same-id-1")), _record(id="x", text=prose("same-id-2"))), 2),
        Case("jsonl_same_record_twice",
             _jsonl(_record(id="x", text=prose("twice")), _record(id="x", text=prose("twice"))), 1,
             {"duplicate": 1}),
        Case("jsonl_mixed_lines",
             _jsonl(_record(text=prose("mixed")), '{"text": "broken', "[1, 2]", b'{"text": "bad \xff"}', ""),
             1, {"malformed_jsonl": 2, "undecodable": 1}),
        Case("jsonl_deeply_nested", _jsonl("[" * 100000 + "]" * 100000, _record(text=prose("deep"))), 1,
             {"malformed_jsonl": 1}),
        Case("jsonl_empty_file", _bytes("empty.jsonl", b""), 0, {"empty": 1}),
        Case("jsonl_bom_first_line",
             _bytes("bom.jsonl", codecs.BOM_UTF8 + _record(text=prose("bom")).encode()), 1),
        # 6. encodings called binary before
        Case("utf16le_nobom_arabic", _text("ar16le.txt", arabic("le"), "utf-16-le"), 1,
             check=_language("ar", "utf-16-le")),
        Case("utf16be_nobom_arabic", _text("ar16be.txt", arabic("be"), "utf-16-be"), 1,
             check=_language("ar", "utf-16-be")),
        Case("utf16le_nobom_chinese", _text("zh16le.txt", chinese("le"), "utf-16-le"), 1,
             check=_language("zh", "utf-16-le")),
        Case("utf16be_nobom_chinese", _text("zh16be.txt", chinese("be"), "utf-16-be"), 1,
             check=_language("zh", "utf-16-be")),
        Case("latin1_mojibake_arabic", _text("moji.txt", arabic("moji").encode("utf-8").decode("latin-1")), 1,
             check=_language("ar")),
        Case("bel_and_backspace", _text("bell.txt", prose("bell", 1).replace(" during", "\x07\x07 during", 1)
                                        .replace("residents", "resi\x08dents", 1)), 1, check=_language("en")),
        Case("utf16_with_bom_russian", _bytes("ru.txt", codecs.BOM_UTF16_LE + (
            "Городской совет обсудил новый бюджет во вторник. Жители задали много вопросов."
        ).encode("utf-16-le")),
             1, check=_language("ru")),
        Case("cp1256_arabic", _text("cp1256.txt", arabic("cp"), "cp1256"), 1, check=_language("ar")),
        Case("gb18030_chinese", _text("gb.txt", chinese("gb") * 3, "gb18030"), 1, check=_language("zh")),
        # 8. bidirectional controls
        Case("bidi_override_txt", _text("bidi.txt", prose("bidi").replace("council", "coun\u202elic\u202c", 1)
                                        + "\n\n" + arabic("bidi").replace("المجلس", "\u2067المجلس\u2069")), 1,
             check=_flagged_bidi),
        Case("bidi_isolates_jsonl", _jsonl(_record(text="\u2066" + prose("isolate") + "\u2069")), 1,
             check=_flagged_bidi),
        # links out of the input directory, and other bad files
        Case("symlink_out_of_directory", _links(("passwd.txt", "/etc/passwd")), 0, {"outside_input": 1}),
        Case("symlink_inside_directory", _links(("alias.txt", "real.txt"), real={"real.txt": prose("alias")}),
             1, {"duplicate": 1}),
        Case("empty_file", _bytes("empty.txt", b""), 0, {"empty": 1}),
        Case("whitespace_only", _bytes("blank.md", b" \n\t\r\n  \n"), 0, {"empty": 1}),
        Case("png_named_txt", _bytes("image.txt", b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4), 0,
             {"binary": 1}),
        Case("random_binary", _bytes("noise.txt", bytes((n * 7919) % 256 for n in range(4096))), 0,
             {"binary": 1}),
        Case("damaged_utf8",
             _bytes("damaged.txt", chinese("d").encode() * 3 + b"\xff\xfe" + chinese("e").encode()),
             0, {"undecodable": 1}),
        Case("directory_named_txt", lambda directory: (directory / "folder.txt").mkdir(), 0,
             {"unreadable": 1}),
        Case("unsupported_format_given", _given("report.pdf", b"%PDF-1.7"), 0, {"unsupported_format": 1}),
        Case("html_without_text", _bytes("empty.html", b"<html><head><script>var a=1;</script></head><body>"
                                         b"</body></html>"), 0, {"no_text": 1}),
        Case("duplicate_files", _several(_text("one.txt", prose("dup")), _text("two.txt", prose("dup"))), 1,
             {"duplicate": 1}),
        Case("pattern_matching_nothing", _pattern_beside_a_document("nothing-*.txt"), 1, {"not_found": 1}),
        Case("nul_in_jsonl_text", _jsonl(_record(text=prose("nul") + " \u0000 tail.")), 1),
    ]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> list[Case]:
    root = tmp_path_factory.mktemp("bad-inputs")
    built = []
    for case in cases():
        directory = root / case.name
        directory.mkdir()
        inputs = case.build(directory)
        case.inputs = inputs if inputs else [directory]
        built.append(case)
    return built


@contextmanager
def bounded(seconds: int) -> Iterator[None]:
    """Fail instead of hanging: SIGALRM interrupts a run that takes longer than `seconds`."""
    def expire(signum, frame):  # type: ignore[no-untyped-def]
        raise TimeoutError(f"the run did not end within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, previous)


def run_in_subprocess(inputs: list[Path], output: Path, run_id: str, models: Path) -> None:
    command = [sys.executable, "-m", "pipeline", "run", "--input", *map(str, inputs), "--output", str(output),
               "--run-id", run_id, "--models-dir", str(models), "--device", "cpu",
               "--max-input-mb", str(MAX_INPUT_BYTES / 2**20)]
    # Unrestricted, as the command line is by default: what is checked here is how each input is read
    # (a link given explicitly to /dev/zero under allowed roots fails the run instead: test_allowed_roots).
    env = {name: value for name, value in os.environ.items() if not name.startswith("MLP_ALLOWED_")}
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=RUN_BOUND_S,
                               env={**env, "PYTHONPATH": str(REPO_ROOT)})
    assert completed.returncode == 0, completed.stderr[-3000:]


def rows_of(output: Path) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    return (read_output(output, "documents"), read_output(output, "paragraphs"),
            read_output(output, "sentences"), read_output(output, "rejects"))


def assert_accounted(output: Path, documents_expected: int, rejects_expected: Counter[str],
                     inputs_expected: int) -> None:
    documents, paragraphs, sentences, rejects = rows_of(output)
    assert len(documents) == documents_expected
    assert Counter(rejects["reason"]) == rejects_expected
    assert (rejects["detail"].str.len() > 0).all()
    # Each input is its own row: no two share (source, record, reason) and none is missing.
    keys = set(zip(documents["source_path"], documents["source_record"].fillna(""))) | set(
        zip(rejects["source_path"], rejects["source_record"].fillna("") + "/" + rejects["reason"]))
    assert len(keys) == len(documents) + len(rejects) == inputs_expected
    assert documents["doc_id"].is_unique


def test_the_corpus_covers_at_least_forty_distinct_cases(corpus: list[Case]):
    assert len({case.name for case in corpus}) == len(corpus) >= 40
    reasons = Counter(reason for case in corpus for reason in case.rejects)
    assert set(reasons) >= {"unreadable", "special_file", "outside_input", "too_large", "malformed_jsonl",
                            "empty", "binary", "undecodable", "duplicate", "not_found", "no_text",
                            "unsupported_format"}


@pytest.fixture(scope="module")
def models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("no-models")


@pytest.mark.slow
@pytest.mark.parametrize("name", [case.name for case in cases()])
def test_each_case_completes_and_every_input_is_a_row(name: str, corpus: list[Case], tmp_path: Path,
                                                      models_dir: Path):
    case = next(case for case in corpus if case.name == name)
    output = tmp_path / "out"
    if case.subprocess:
        run_in_subprocess(case.inputs, output, f"case-{name}", models_dir)
    else:
        settings = RunSettings(output=output, run_id=f"case-{name}", models_dir=models_dir, device="cpu",
                               max_input_bytes=MAX_INPUT_BYTES)
        with bounded(RUN_BOUND_S):
            summary = run([str(path) for path in case.inputs], settings)
        assert summary.documents == case.documents
        assert summary.rejects == case.rejects
    assert_accounted(output, case.documents, Counter(case.rejects), case.n_inputs)
    if case.check is not None:
        documents, paragraphs, sentences, _ = rows_of(output)
        case.check(documents, paragraphs, sentences)


@pytest.mark.slow
def test_all_cases_in_one_run_account_for_every_input(corpus: list[Case], tmp_path: Path, models_dir: Path):
    output = tmp_path / "out"
    inputs = [path for case in corpus for path in case.inputs]
    run_in_subprocess(inputs, output, "combined", models_dir)
    documents_expected = sum(case.documents for case in corpus)
    rejects_expected: Counter[str] = Counter()
    for case in corpus:
        rejects_expected.update(case.rejects)
    assert_accounted(output, documents_expected, rejects_expected, sum(case.n_inputs for case in corpus))
    # Every documented reader sees the same committed rows.
    for dataset in ("documents", "paragraphs", "sentences"):
        directory = output / dataset
        glob = f"{directory}/**/*.parquet"
        counts = {
            len(pd.read_parquet(directory)),
            ds.dataset(directory, partitioning="hive").count_rows(),
            duckdb.sql(f"select count(*) from read_parquet('{glob}', hive_partitioning=true)"
                       ).fetchall()[0][0],
            pl.scan_parquet(glob, hive_partitioning=True).select(pl.len()).collect().item(),
        }
        assert len(counts) == 1, (dataset, counts)


@pytest.mark.slow
def test_bidi_controls_never_reach_the_translator(corpus: list[Case], tmp_path: Path, tiny_model_dir: Path,
                                                  monkeypatch: pytest.MonkeyPatch):
    from pipeline.stages.translate import Translator

    given: list[str] = []
    real_translate = Translator.translate

    def recording(self, lang, sentences):  # type: ignore[no-untyped-def]
        given.extend(sentences)
        return real_translate(self, lang, sentences)

    monkeypatch.setattr(Translator, "translate", recording)
    case = next(case for case in corpus if case.name == "bidi_override_txt")
    settings = RunSettings(output=tmp_path / "out", run_id="bidi", models_dir=tmp_path / "models",
                           device="cpu", model_overrides={"ar": str(tiny_model_dir)})
    with bounded(RUN_BOUND_S):
        summary = run([str(path) for path in case.inputs], settings)
    assert summary.translated > 0
    assert given and not any(character in text for text in given for character in BIDI)
    sentences = read_output(tmp_path / "out", "sentences", src_lang="ar")
    assert sentences["src_text"].str.contains("\u2067").any()
