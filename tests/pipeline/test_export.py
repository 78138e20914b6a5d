"""Exporting aligned pairs: counts equal the filtered Parquet rows in every format, each format reads back
to the same pairs, filters count what they remove, hostile text survives or is counted, and the Airflow
DAG exports when its Variable asks."""
from __future__ import annotations

import json
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections import Counter
from datetime import datetime, timezone
from pathlib import Path

import pandas
import pyarrow as pa
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from project_paths import REPO_ROOT

from pipeline import cli
from pipeline.export import ExportError, ExportFilters, export_pairs
from pipeline.export.tmx import dtd_text
from pipeline.store.schemas import SCHEMAS, file_schema

XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
TMX_HEADER_REQUIRED = ("creationtool", "creationtoolversion", "segtype", "o-tmf", "adminlang", "srclang",
                       "datatype")


@pytest.fixture(scope="module")
def pipeline_output(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path, tiny_model_dir: Path) -> Path:
    """The seeds and the samples run through the pipeline once, Arabic translated by the tiny model."""
    output = tmp_path_factory.mktemp("export") / "out"
    status = cli.main(["run", "--input", str(seeds_dir), str(REPO_ROOT / "samples"), "--output", str(output),
                       "--run-id", "export-test", "--models-dir", str(output.parent / "models"),
                       "--model", f"ar={tiny_model_dir}", "--device", "cpu"])
    assert status == 0
    return output


def _translated(output: Path, level: str = "sentences") -> pandas.DataFrame:
    rows = pandas.read_parquet(output / level)
    rows = rows[(rows["status"] == "translated") & rows["en_text"].notna()]
    rows = rows.assign(src_lang=rows["src_lang"].astype(str))
    return rows[(rows["src_text"].str.len() > 0) & (rows["en_text"].str.len() > 0)]


def _expected(rows: pandas.DataFrame) -> Counter:
    return Counter(zip(rows["src_lang"], rows["src_text"], rows["en_text"]))


# Readers: every format back to (lang, source, english) pairs ---------------------------------------

def _read_tmx(directory: Path) -> list[tuple[str, str, str]]:
    pairs = []
    for path in sorted(directory.glob("*.tmx")):
        root = ET.parse(path).getroot()
        for unit in root.iter("tu"):
            source, english = unit.findall("tuv")
            pairs.append((source.get(XML_LANG), source.findtext("seg"), english.findtext("seg")))
    return pairs


def _read_moses(directory: Path) -> list[tuple[str, str, str]]:
    pairs = []
    for ids in sorted(directory.glob("*-en.ids")):
        lang = ids.name.split("-")[0]
        source_lines = _lines(directory / f"{lang}-en.{lang}")
        english_lines = _lines(directory / f"{lang}-en.en")
        assert len(source_lines) == len(english_lines) == len(_lines(ids))
        assert not [line for line in source_lines + english_lines if "\t" in line]
        pairs.extend((lang, source, english) for source, english in zip(source_lines, english_lines))
    return pairs


def _lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    assert text.endswith("\n") and "\r" not in text
    return text[:-1].split("\n")


def _read_jsonl(directory: Path) -> list[tuple[str, str, str]]:
    pairs = []
    for path in sorted(directory.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").split("\n")[:-1]:
            record = json.loads(line)
            pairs.append((record["src_lang"], record["src_text"], record["en_text"]))
    return pairs


def _read_hf(directory: Path) -> list[tuple[str, str, str]]:
    pairs = []
    for path in sorted(directory.glob("*-en/*.parquet")):
        lang = path.parent.name.split("-")[0]
        for row in pq.read_table(path).to_pylist():
            pairs.append((lang, row["translation"][lang], row["translation"]["en"]))
    return pairs


READERS = {"tmx": _read_tmx, "moses": _read_moses, "jsonl": _read_jsonl, "hf": _read_hf}


@pytest.mark.parametrize("fmt", sorted(READERS))
def test_each_format_holds_exactly_the_filtered_rows(pipeline_output: Path, tmp_path: Path, fmt: str) -> None:
    expected = _translated(pipeline_output)
    assert len(expected) > 0

    report = export_pairs(pipeline_output, tmp_path / fmt, fmt)

    pairs = READERS[fmt](tmp_path / fmt)
    assert len(pairs) == report.pairs_written == len(expected)
    assert Counter(pairs) == _expected(expected)
    assert dict(report.written) == expected["src_lang"].value_counts().to_dict()
    assert report.rows_read == len(pandas.read_parquet(pipeline_output / "sentences"))
    assert report.rows_read == report.pairs_written + sum(report.removed.values())
    assert not report.text_changes


def test_paragraph_pairs_come_from_the_paragraphs_dataset(pipeline_output: Path, tmp_path: Path) -> None:
    expected = _translated(pipeline_output, "paragraphs")

    report = export_pairs(pipeline_output, tmp_path / "jsonl", "jsonl", unit="paragraph")

    records = [json.loads(line) for line in (tmp_path / "jsonl" / "ar-en.jsonl").read_text().splitlines()]
    assert report.pairs_written == len(records) == len(expected) > 0
    assert all("sent_id" not in record for record in records)
    assert Counter(_read_jsonl(tmp_path / "jsonl")) == _expected(expected)


def test_tmx_units_carry_the_run_its_date_and_the_model(pipeline_output: Path, tmp_path: Path) -> None:
    export_pairs(pipeline_output, tmp_path, "tmx")

    root = ET.parse(tmp_path / "ar-en.tmx").getroot()
    manifest = json.loads((pipeline_output / "runs" / "export-test.json").read_text())
    finished = datetime.fromisoformat(manifest["finished_at"]).astimezone(timezone.utc)
    units = list(root.iter("tu"))
    assert units and {unit.get("creationid") for unit in units} == {"export-test"}
    assert {unit.get("creationdate") for unit in units} == {finished.strftime("%Y%m%dT%H%M%SZ")}
    models = {unit.find("prop[@type='x-model']").text for unit in units}
    assert len(models) == 1 and Path(models.pop().split("@")[0]).name == "tiny-ar-en"
    assert root.find("header").get("segtype") == "sentence"


def _structure_problems(path: Path) -> list[str]:
    """What makes a TMX file break the 1.4b DTD's rules this exporter could break."""
    root = ET.parse(path).getroot()
    problems = [] if root.tag == "tmx" and root.get("version") == "1.4" else ["root"]
    header, body = list(root)
    problems += [f"header lacks {name}" for name in TMX_HEADER_REQUIRED if not header.get(name)]
    problems += [] if body.tag == "body" else ["body"]
    for unit in body:
        children = [child.tag for child in unit]
        variants = [child for child in unit if child.tag == "tuv"]
        if unit.tag != "tu" or len(variants) < 1 or children[-len(variants):] != ["tuv"] * len(variants):
            problems.append(f"unit {unit.get('tuid')}")
        for variant in variants:
            if not variant.get(XML_LANG) or [child.tag for child in variant] != ["seg"]:
                problems.append(f"variant of {unit.get('tuid')}")
        problems += [f"prop without type in {unit.get('tuid')}" for prop in unit.findall("prop")
                     if not prop.get("type")]
    return problems


def _xmllint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["xmllint", "--noout", "--dtdvalid", str(path.parent / "tmx14.dtd"), str(path)],
                          capture_output=True, text=True, timeout=60, check=False)


def test_tmx_is_valid_against_the_dtd(pipeline_output: Path, tmp_path: Path) -> None:
    export_pairs(pipeline_output, tmp_path, "tmx")

    assert (tmp_path / "tmx14.dtd").read_text(encoding="utf-8") == dtd_text()
    assert _structure_problems(tmp_path / "ar-en.tmx") == []
    if shutil.which("xmllint") is None:
        pytest.skip("xmllint not installed (Debian: libxml2-utils); the structural check above passed")
    validated = _xmllint(tmp_path / "ar-en.tmx")
    assert validated.returncode == 0, validated.stderr


def test_the_hf_directory_loads_with_datasets_and_its_card_describes_the_run(
        pipeline_output: Path, tmp_path: Path) -> None:
    datasets = pytest.importorskip("datasets")
    expected = _translated(pipeline_output)

    export_pairs(pipeline_output, tmp_path, "hf", filters=ExportFilters(require={"urls_match"}))

    loaded = datasets.load_dataset("parquet", data_dir=str(tmp_path / "ar-en"), cache_dir=str(tmp_path / "c"))
    rows = loaded["train"]
    expected = expected[expected["urls_match"].fillna(False).astype(bool)]
    assert len(rows) == len(expected) > 0
    assert Counter(("ar", row["translation"]["ar"], row["translation"]["en"]) for row in rows) == \
        _expected(expected)
    assert {"doc_id", "para_id", "sent_id", "model", "run_id"} <= set(rows.column_names)
    by_config = datasets.load_dataset(str(tmp_path), "ar-en", cache_dir=str(tmp_path / "c"))
    assert len(by_config["train"]) == len(rows)
    card = (tmp_path / "README.md").read_text(encoding="utf-8")
    header = card.split("---\n")[1]
    for line in ("license: other", "- translation", "- config_name: ar-en", "path: ar-en/*.parquet",
                 '- "ar"', '- "en"'):
        assert line in header
    assert "export-test" in card and "tiny-ar-en" in card and "urls_match is true" in card


# Filters --------------------------------------------------------------------------------------------

def _row(doc: str, lang: str, src: str, en: str | None, *, sent: int = 0, status: str = "translated",
         ratio: float | None = 1.0, numbers: bool | None = True, urls: bool | None = True,
         flags: list[str] | None = None, region: str = "main") -> dict:
    return {"doc_id": doc, "para_id": 0, "sent_id": sent, "char_start": 0, "char_end": len(src),
            "src_text": src, "en_text": en, "status": status, "status_detail": None,
            "model": "opus-mt@abc" if status == "translated" else None, "region": region, "len_ratio": ratio,
            "numbers_match": numbers, "urls_match": urls,
            "quality_flags": [] if flags is None else flags, "run_id": "r1", "src_lang": lang}


def _write_sentences(output: Path, rows: list[dict], raw_src: dict[int, bytes] | None = None,
                     without: tuple[str, ...] = ()) -> Path:
    """A sentences dataset written with the project's schema, one partition per language; `raw_src`
    puts bytes that are not UTF-8 into src_text of the given rows, as a foreign writer could; the
    columns `without` are left out, as in an output of an older version."""
    schema = SCHEMAS["sentences"]
    for name in without:
        schema = schema.remove(schema.get_field_index(name))
    stored = file_schema("sentences")
    for name in without:
        stored = stored.remove(stored.get_field_index(name))
    for lang in sorted({row["src_lang"] for row in rows}):
        part = [row for row in rows if row["src_lang"] == lang]
        table = pa.Table.from_pylist(part, schema=schema).drop_columns(["src_lang"])
        if raw_src:
            table = _with_raw_src(table, [raw_src.get(rows.index(row)) for row in part])
        directory = output / "sentences" / f"src_lang={lang}"
        directory.mkdir(parents=True, exist_ok=True)
        pq.write_table(table.cast(stored), directory / "part-0.parquet")
    (output / "runs").mkdir(exist_ok=True)
    (output / "runs" / "r1.json").write_text(json.dumps(
        {"run_id": "r1", "started_at": "2026-03-01T10:00:00+00:00",
         "finished_at": "2026-03-01T10:05:00+00:00"}))
    return output


def _with_raw_src(table: pa.Table, raw: list[bytes | None]) -> pa.Table:
    values = [raw_value if raw_value is not None else text.encode()
              for raw_value, text in zip(raw, table.column("src_text").to_pylist())]
    offsets, data = [0], b""
    for value in values:
        data += value
        offsets.append(len(data))
    offsets_buffer = pa.array(offsets, pa.int32()).buffers()[1]
    # from_buffers does not validate UTF-8, as pa.array would.
    column = pa.Array.from_buffers(pa.string(), len(values), [None, offsets_buffer, pa.py_buffer(data)])
    return table.set_column(table.schema.get_field_index("src_text"), "src_text", column)


FILTER_ROWS = [
    _row("d1", "de", "Guten Tag.", "Good day."),
    _row("d1", "de", "Guten Tag.", "Good day.", sent=1),                        # exact duplicate pair
    _row("d1", "de", "Guten Tag.", "Hello.", sent=2),                           # source seen before
    _row("d2", "de", "Sehr kurz.", "A far too long translation.", ratio=2.5, flags=["length_ratio_high"]),
    _row("d2", "de", "Es kostet 5 Euro.", "It costs 6 euros.", sent=1, numbers=False,
         flags=["numbers_mismatch"]),
    _row("d2", "de", "Siehe a.de", "See b.de", sent=2, urls=False, flags=["urls_mismatch"]),
    _row("d2", "de", "Hallo hallo.", "Hello hello hello hello.", sent=3, flags=["repeated_words"]),
    _row("d3", "fr", "Bonjour.", "Hello.", numbers=None),
    _row("d3", "en", "Hello.", "Hello.", sent=1, status="source_is_english", ratio=None, numbers=None,
         urls=None),
    _row("d3", "es", "Hola.", None, sent=2, status="untranslated", ratio=None, numbers=None, urls=None),
]


def test_every_filter_counts_the_rows_it_removes(tmp_path: Path) -> None:
    output = _write_sentences(tmp_path / "out", FILTER_ROWS)
    filters = ExportFilters(min_len_ratio=0.5, max_len_ratio=2.0, require={"numbers_match", "urls_match"},
                            no_flags=True, dedup=True, langs={"de", "fr", "es"})

    report = export_pairs(output, tmp_path / "jsonl", "jsonl", filters=filters)

    assert dict(+report.removed) == {"lang": 1, "status": 1, "len_ratio": 1, "numbers_match": 2,
                                     "urls_match": 1, "flags": 1, "duplicate_pair": 1, "duplicate_source": 1}
    assert _read_jsonl(tmp_path / "jsonl") == [("de", "Guten Tag.", "Good day.")]
    assert report.rows_read == len(FILTER_ROWS) == report.pairs_written + sum(report.removed.values())


def test_status_selects_english_sources_with_their_own_file_names(tmp_path: Path) -> None:
    output = _write_sentences(tmp_path / "out", FILTER_ROWS)

    report = export_pairs(output, tmp_path / "moses", "moses",
                          filters=ExportFilters(statuses={"source_is_english", "untranslated"}))

    assert dict(report.written) == {"en": 1}
    assert report.removed["status"] == 8 and report.removed["missing_text"] == 1   # untranslated: no English
    assert (tmp_path / "moses" / "en-en.src").read_text() == "Hello.\n"
    assert (tmp_path / "moses" / "en-en.en").read_text() == "Hello.\n"


def test_region_of_an_output_written_before_the_column_matches_nothing(tmp_path: Path, capsys) -> None:
    # The declared schema reads the missing column as null: no row is of region main, and the report
    # says that filter took them all.
    output = _write_sentences(tmp_path / "out", FILTER_ROWS, without=("region",))

    status = cli.main(["export", "--output", str(output), "--format", "jsonl", "--to", str(tmp_path / "j"),
                       "--region", "main"])

    printed = capsys.readouterr().out
    assert status == 0 and "removed by region: 8" in printed, printed
    assert _read_jsonl(tmp_path / "j") == []


def test_region_filters_when_the_dataset_has_the_column(tmp_path: Path, monkeypatch) -> None:
    import pipeline.store.reader

    rows = [{**row, "region": region} for row, region in zip(FILTER_ROWS[:3], ["main", "footer", None])]
    table = pa.Table.from_pylist(rows, schema=SCHEMAS["sentences"].remove(
        SCHEMAS["sentences"].get_field_index("region")).append(pa.field("region", pa.string())))
    monkeypatch.setattr(pipeline.store.reader, "open_dataset", lambda directory, level: ds.dataset(table))

    report = export_pairs(tmp_path, tmp_path / "jsonl", "jsonl", filters=ExportFilters(region="main"))

    assert report.removed["region"] == 2
    assert _read_jsonl(tmp_path / "jsonl") == [("de", "Guten Tag.", "Good day.")]


def test_region_main_leaves_readers_comments_out(tmp_path: Path, capsys) -> None:
    rows = [_row("d1", "de", "Guten Tag.", "Good day."),
            _row("d1", "de", "Toller Artikel!", "Great article!", sent=1, region="comments"),
            _row("d2", "fr", "Merci.", "Thank you.", region="comments")]
    output = _write_sentences(tmp_path / "out", rows)

    status = cli.main(["export", "--output", str(output), "--format", "jsonl", "--to", str(tmp_path / "j"),
                       "--region", "main"])

    assert status == 0 and "removed by region: 2" in capsys.readouterr().out
    assert _read_jsonl(tmp_path / "j") == [("de", "Guten Tag.", "Good day.")]


def test_the_command_line_prints_what_each_filter_removed(tmp_path: Path, capsys) -> None:
    output = _write_sentences(tmp_path / "out", FILTER_ROWS)

    status = cli.main(["export", "--output", str(output), "--format", "moses", "--to", str(tmp_path / "m"),
                       "--require", "numbers_match", "--no-flags", "--dedup", "--lang", "de"])

    lines = capsys.readouterr().out.splitlines()
    assert status == 0
    for line in ("read 10 sentences rows", "removed by lang: 3", "removed by status: 0",
                 "removed by numbers_match: 1", "removed by flags: 3", "removed by duplicate_pair: 1",
                 "removed by duplicate_source: 1"):
        assert line in lines
    assert lines[-1] == f"wrote 1 sentence pairs (de 1) as moses to {tmp_path / 'm'}: 3 files"


def test_bad_settings_are_refused_before_reading(tmp_path: Path) -> None:
    with pytest.raises(ExportError, match="cannot require numbers"):
        ExportFilters(require={"numbers"})
    with pytest.raises(ExportError, match="format must be one of"):
        export_pairs(tmp_path, tmp_path / "x", "csv")
    with pytest.raises(ExportError, match="above max_len_ratio"):
        ExportFilters(min_len_ratio=2, max_len_ratio=1)


def test_pairs_are_written_batch_by_batch(tmp_path: Path, monkeypatch) -> None:
    import pipeline.export.pairs

    rows = [_row("d", "de", f"Satz {index}.", f"Sentence {index}.", sent=index) for index in range(10)]
    output = _write_sentences(tmp_path / "out", rows)
    monkeypatch.setattr(pipeline.export.pairs, "BATCH_ROWS", 3)

    report = export_pairs(output, tmp_path / "hf", "hf")

    parquet = pq.ParquetFile(tmp_path / "hf" / "de-en" / "train-00000-of-00001.parquet")
    assert report.pairs_written == parquet.metadata.num_rows == 10
    assert parquet.metadata.num_row_groups == 4   # one row group per scanned batch of 3 rows


# Hostile text ---------------------------------------------------------------------------------------

HOSTILE_ROWS = [
    _row("h", "ar", "<b>&amp; ]]> \"quoted\" 'x'", "<b>&amp; ]]> \"quoted\" 'x'"),
    _row("h", "ar", "bell\x07 and\x00 nul\x1b", "escape\x0b here\ufffe", sent=1),
    _row("h", "ar", "\u202bمرحبا\u202c \u2067world\u2069", "\u202ehello\u202c", sent=2),
    _row("h", "ar", "line one\nline two\ttab\r\nCRLF\u2028sep", "one\ntwo\u2029three\x85", sent=3),
    _row("h", "ar", "SURROGATE", "lone surrogate in the source", sent=4),
    _row("h", "ar", "\x01\x02", "only control characters in the source", sent=5),
    _row("h", "ar", "cafe\u0301", "e\u0301", sent=6),
]
RAW_SOURCES = {4: b"before \xed\xa0\x80 after"}   # a lone surrogate (U+D800) encoded as if it were UTF-8
CLEAN = [
    ("ar", "<b>&amp; ]]> \"quoted\" 'x'", "<b>&amp; ]]> \"quoted\" 'x'"),
    ("ar", "bell and nul", "escape here"),
    ("ar", "\u202bمرحبا\u202c \u2067world\u2069", "\u202ehello\u202c"),
    ("ar", "line one\nline two\ttab\r\nCRLF\u2028sep", "one\ntwo\u2029three\x85"),
    ("ar", "before \ufffd after", "lone surrogate in the source"),
    ("ar", "caf\u00e9", "\u00e9"),
]


@pytest.fixture
def hostile_output(tmp_path: Path) -> Path:
    return _write_sentences(tmp_path / "out", HOSTILE_ROWS, raw_src=RAW_SOURCES)


@pytest.mark.parametrize("fmt", ["tmx", "jsonl", "hf"])
def test_hostile_text_survives_or_is_counted(hostile_output: Path, tmp_path: Path, fmt: str) -> None:
    report = export_pairs(hostile_output, tmp_path / fmt, fmt)

    assert READERS[fmt](tmp_path / fmt) == CLEAN
    assert report.removed["empty_after_cleaning"] == 1
    assert report.text_changes["control_characters_removed"] == 7   # 5 in the second row, 2 in the sixth
    assert report.text_changes["invalid_utf8_replaced"] == 1


def test_hostile_tmx_stays_valid_xml_against_the_dtd(hostile_output: Path, tmp_path: Path) -> None:
    export_pairs(hostile_output, tmp_path, "tmx")

    text = (tmp_path / "ar-en.tmx").read_text(encoding="utf-8")
    assert "]]>" not in text and "&#13;" in text
    assert _structure_problems(tmp_path / "ar-en.tmx") == []
    if shutil.which("xmllint") is None:
        pytest.skip("xmllint not installed (Debian: libxml2-utils); the structural check above passed")
    validated = _xmllint(tmp_path / "ar-en.tmx")
    assert validated.returncode == 0, validated.stderr


def test_moses_lines_hold_one_pair_each_in_nfc(hostile_output: Path, tmp_path: Path) -> None:
    report = export_pairs(hostile_output, tmp_path, "moses")

    source = (tmp_path / "ar-en.ar").read_text(encoding="utf-8")
    english = (tmp_path / "ar-en.en").read_text(encoding="utf-8")
    assert len(source.splitlines()) == len(english.splitlines()) == len(CLEAN)
    assert "\t" not in source + english
    assert _read_moses(tmp_path)[3] == ("ar", "line one line two tab CRLF sep", "one two three ")
    assert _read_moses(tmp_path)[5] == ("ar", "caf\u00e9", "\u00e9")
    assert report.text_changes["line_breaks_replaced"] == 2


def test_jsonl_lines_split_only_at_their_ends(hostile_output: Path, tmp_path: Path) -> None:
    export_pairs(hostile_output, tmp_path, "jsonl")

    text = (tmp_path / "ar-en.jsonl").read_text(encoding="utf-8")
    assert len(text.splitlines()) == len(CLEAN)


# Airflow --------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def export_dag():
    from airflow.dag_processing.dagbag import DagBag

    bag = DagBag(dag_folder=str(REPO_ROOT / "dags" / "export_bitext.py"))
    assert bag.import_errors == {}
    return bag.dags["export_bitext"]


def test_the_export_dag_is_scheduled_on_the_sentences_alias(export_dag) -> None:
    from airflow.sdk import AssetAlias

    assert [task.task_id for task in export_dag.tasks] == ["export"]
    alias = AssetAlias("multilingual_pipeline.sentences")
    assert list(export_dag.timetable.asset_condition.objects) == [alias]
    assert export_dag.doc_md and "mlp_export" in export_dag.doc_md


def test_parsing_the_export_dag_imports_no_heavy_module() -> None:
    code = (f"import runpy, sys; runpy.run_path({str(REPO_ROOT / 'dags' / 'export_bitext.py')!r}); "
            "print(sorted(m for m in ('pyarrow', 'pandas', 'pipeline.export.api') if m in sys.modules))")
    completed = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                               check=False, cwd=REPO_ROOT)
    assert completed.returncode == 0, completed.stderr[-2000:]
    assert completed.stdout.strip().splitlines()[-1] == "[]"


@pytest.fixture(scope="module")
def airflow_database() -> None:
    migrated = subprocess.run([str(Path(sys.executable).parent / "airflow"), "db", "migrate"],
                              capture_output=True, text=True, timeout=300, check=False)
    assert migrated.returncode == 0, migrated.stderr[-2000:]


@pytest.mark.airflow
def test_the_export_dag_writes_files_when_the_variable_asks(
        airflow_database: None, export_dag, pipeline_output: Path, tmp_path: Path, monkeypatch) -> None:
    target = tmp_path / "bitext"
    monkeypatch.setenv("AIRFLOW_VAR_MLP_EXPORT", json.dumps(
        {"format": "moses", "to": str(target), "output": str(pipeline_output), "dedup": True}))

    run = export_dag.test()

    assert run.state == "success"
    expected = _translated(pipeline_output).drop_duplicates(["src_lang", "src_text"])
    assert len(_read_moses(target)) == len(expected) > 0


@pytest.mark.airflow
def test_the_export_dag_skips_without_the_variable(airflow_database: None, export_dag, monkeypatch,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.delenv("AIRFLOW_VAR_MLP_EXPORT", raising=False)

    run = export_dag.test()

    assert [str(ti.state) for ti in run.get_task_instances()] == ["skipped"]
    assert any("the Variable mlp_export is not set" in record.getMessage() for record in caplog.records)
