"""End-to-end runs: datasets, statuses, manifest, reruns, --force, changed models, errors."""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fresh_interpreter import printed_by_a_fresh_interpreter
from project_paths import DATA_DIR, REPO_ROOT
from shard_runs import process_shard

from pipeline.cli import build_parser, main
from pipeline.phases.finalize import RunSummary
from pipeline.phases.plan import Shard, plan_shards
from pipeline.phases.results import STAGES, ShardResult
from pipeline.phases.runner import run
from pipeline.settings import RunSettings, SettingsError, new_run_id, sanitize_run_id
from pipeline.store.output import OutputStore
from pipeline.store.reader import read_output


def make_settings(root: Path, run_id: str, **changes) -> RunSettings:
    return RunSettings(output=root / "out", run_id=run_id, models_dir=root / "models", **changes)


def counts(output: Path) -> dict[str, int]:
    return OutputStore(output).row_counts()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory, seeds_dir: Path) -> list[str]:
    extra = tmp_path_factory.mktemp("extra-inputs")
    (extra / "empty.txt").write_bytes(b"")
    (extra / "binary.txt").write_bytes(b"\x7fELF\x02\x01\x01\x00" + bytes(range(256)) * 8)
    return [str(seeds_dir), str(extra / "empty.txt"), str(extra / "binary.txt")]


@pytest.fixture(scope="module")
def first_run(tmp_path_factory: pytest.TempPathFactory, inputs: list[str], tiny_model_dir: Path) -> Path:
    """The seeds, an empty and a binary file, through the command line, with the tiny model for Arabic."""
    root = tmp_path_factory.mktemp("first-run")
    command = [sys.executable, "-m", "pipeline", "run", "--input", *inputs, "--output", str(root / "out"),
               "--run-id", "first", "--models-dir", str(root / "models"), "--model", f"ar={tiny_model_dir}"]
    completed = subprocess.run(command, cwd=REPO_ROOT, capture_output=True, text=True, timeout=600,
                               env={**os.environ, "PYTHONPATH": str(REPO_ROOT)})
    assert completed.returncode == 0, completed.stderr
    assert "run first: 5 documents" in completed.stdout
    return root / "out"


@pytest.fixture()
def output_copy(first_run: Path, tmp_path: Path) -> Path:
    shutil.copytree(first_run, tmp_path / "out")
    return tmp_path / "out"


def test_first_run_writes_documents_and_rejects(first_run: Path):
    documents = read_output(first_run, "documents")
    assert len(documents) == 5
    assert sorted(documents["src_lang"]) == ["ar", "en", "en", "en", "en"]
    assert documents["doc_id"].is_unique
    assert (documents["run_id"] == "first").all()
    rejects = read_output(first_run, "rejects")
    assert sorted(rejects["reason"]) == ["binary", "empty"]
    assert rejects["detail"].str.len().gt(0).all()


def test_arabic_is_translated_and_english_is_kept(first_run: Path):
    sentences = read_output(first_run)
    arabic = sentences[sentences["src_lang"] == "ar"]
    assert len(arabic) > 5
    assert (arabic["status"] == "translated").all()
    assert arabic["en_text"].str.strip().str.len().gt(0).all()
    assert arabic["model"].str.startswith(str(next(iter(arabic["model"])).split("@")[0])).all()
    assert arabic["len_ratio"].notna().all() and arabic["numbers_match"].notna().all()
    english = sentences[sentences["src_lang"] == "en"]
    assert len(english) > 20
    assert (english["status"] == "source_is_english").all()
    assert (english["en_text"] == english["src_text"]).all()
    assert english["model"].isna().all() and english["len_ratio"].isna().all()


def test_paragraphs_and_sentences_rebuild_each_other(first_run: Path):
    paragraphs = read_output(first_run, "paragraphs").set_index(["doc_id", "para_id"])
    sentences = read_output(first_run).sort_values(["doc_id", "para_id", "sent_id"])
    assert not sentences.duplicated(["doc_id", "para_id", "sent_id"]).any()
    for (doc_id, para_id), group in sentences.groupby(["doc_id", "para_id"]):
        paragraph = paragraphs.loc[(doc_id, para_id)]
        assert group["sent_id"].tolist() == list(range(len(group)))
        assert paragraph["n_sentences"] == len(group)
        for start, end, text in zip(group["char_start"], group["char_end"], group["src_text"]):
            assert paragraph["src_text"][start:end] == text
        if paragraph["status"] == "translated":
            assert paragraph["en_text"] == " ".join(group["en_text"])
    documents = read_output(first_run, "documents").set_index("doc_id")
    per_document = sentences.groupby("doc_id").size()
    assert (documents.loc[per_document.index, "n_sentences"] == per_document).all()


def test_manifest_records_counts_timings_versions_and_models(first_run: Path, tiny_model_dir: Path):
    manifest = json.loads((first_run / "runs" / "first.json").read_text())
    assert manifest["run_id"] == "first"
    assert manifest["counts"]["documents"] == {"ar": 1, "en": 4}
    assert manifest["counts"]["rejects"] == {"binary": 1, "empty": 1}
    assert manifest["output_rows"] == counts(first_run)
    assert sum(manifest["counts"]["sentences_by_status"].values()) == manifest["output_rows"]["sentences"]
    assert set(manifest["stage_seconds"]) == set(STAGES)
    assert manifest["stage_seconds"]["translate"] > 0
    assert manifest["translation"]["model_calls"] >= 1
    assert {"python", "pipeline", "pyarrow", "transformers", "torch"} <= set(manifest["versions"])
    assert [model.split("@")[0] for model in manifest["models"]["ar"]] == [str(tiny_model_dir)]
    assert manifest["settings"]["model_overrides"] == {"ar": str(tiny_model_dir)}
    assert list((first_run / ".translations").glob("*/*.parquet"))
    assert not (first_run / ".work").exists()   # the run's work area goes with the manifest's writing


def test_rerun_adds_nothing_and_force_replaces(output_copy: Path, inputs: list[str], tiny_model_dir: Path):
    root = output_copy.parent
    before = counts(output_copy)
    again = run(inputs, make_settings(root, "again", model_overrides={"ar": str(tiny_model_dir)}))
    assert counts(output_copy) == before
    assert (again.documents, again.skipped) == (0, 5)
    assert set(read_output(output_copy, "documents")["run_id"]) == {"first"}
    assert set(read_output(output_copy, "rejects")["run_id"]) == {"again"}

    forced = run(inputs, make_settings(root, "forced", force=True,
                                       model_overrides={"ar": str(tiny_model_dir)}))
    assert counts(output_copy) == before
    assert (forced.documents, forced.replaced) == (5, 5)
    for level in ("documents", "paragraphs", "sentences", "rejects"):
        assert set(read_output(output_copy, level)["run_id"]) == {"forced"}, level
    sentences = read_output(output_copy)
    assert not sentences.duplicated(["doc_id", "para_id", "sent_id"]).any()


def test_changed_models_reprocess_only_the_documents_they_touch(
        tmp_path: Path, seeds_dir: Path, arabic_seed: Path, tiny_model_dir: Path):
    english_seed = str(seeds_dir / "001_ceece1dd1d5bb97f.txt")
    inputs = [str(arabic_seed), english_seed]
    skipped = run(inputs, make_settings(tmp_path, "skip-ar", skip_langs=frozenset({"ar"})))
    assert skipped.documents == 2
    arabic = read_output(tmp_path / "out", src_lang="ar")
    assert set(arabic["status"]) == {"untranslated"} and set(arabic["status_detail"]) == {"language_skipped"}
    assert arabic["en_text"].isna().all()
    paragraphs = read_output(tmp_path / "out", "paragraphs", src_lang="ar")
    assert set(paragraphs["status_detail"]) == {"language_skipped"} and paragraphs["en_text"].isna().all()
    before = counts(tmp_path / "out")

    overrides = {"ar": str(tiny_model_dir)}
    with_model = run(inputs, make_settings(tmp_path, "with-model", model_overrides=overrides))
    assert (with_model.documents, with_model.replaced, with_model.skipped) == (1, 1, 1)
    assert counts(tmp_path / "out") == before
    documents = read_output(tmp_path / "out", "documents").set_index("src_lang")
    assert documents.loc["ar", "run_id"] == "with-model" and documents.loc["en", "run_id"] == "skip-ar"
    assert set(read_output(tmp_path / "out", src_lang="ar")["status"]) == {"translated"}

    only_chinese = make_settings(tmp_path, "only-zh", include_langs=frozenset({"zh"}))
    not_included = run([str(arabic_seed)], only_chinese)
    assert not_included.replaced == 1
    assert set(read_output(tmp_path / "out", src_lang="ar")["status_detail"]) == {"language_not_included"}


def test_a_failing_document_becomes_a_processing_error(tmp_path: Path, seeds_dir: Path, monkeypatch):
    import pipeline.stages.segment

    original = pipeline.stages.segment.sentence_spans

    def failing_on_one_document(text: str, lang: str):
        if "Cai Qi" in text:
            raise RuntimeError("segmenter broke\non two lines")
        return original(text, lang)

    monkeypatch.setattr(pipeline.stages.segment, "sentence_spans", failing_on_one_document)
    summary = run([str(seeds_dir)], make_settings(tmp_path, "r", skip_langs=frozenset({"ar"})))
    assert summary.documents == 4
    rejects = read_output(tmp_path / "out", "rejects")
    assert rejects["reason"].tolist() == ["processing_error"]
    assert rejects["detail"].tolist() == ["segment: RuntimeError: segmenter broke on two lines"]
    assert rejects["source_path"].tolist() == [str(seeds_dir / "001_ceece1dd1d5bb97f.txt")]


def test_a_document_that_breaks_batch_detection_is_the_only_one_rejected(
        tmp_path: Path, seeds_dir: Path, monkeypatch):
    import pipeline.stages.detect

    original = pipeline.stages.detect.detect_documents

    def failing_with_one_document(documents, *args, **kwargs):
        documents = [tuple(paragraphs) for paragraphs in documents]
        if any("Cai Qi" in paragraph for paragraphs in documents for paragraph in paragraphs):
            raise RuntimeError("detector broke")
        return original(documents, *args, **kwargs)

    # The batch call fails; each document is then detected alone, through the same function.
    monkeypatch.setattr(pipeline.stages.detect, "detect_documents", failing_with_one_document)
    summary = run([str(seeds_dir)], make_settings(tmp_path, "r", skip_langs=frozenset({"ar"})))
    assert summary.documents == 4
    rejects = read_output(tmp_path / "out", "rejects")
    assert rejects["detail"].tolist() == ["detect: RuntimeError: detector broke"]
    assert rejects["source_path"].tolist() == [str(seeds_dir / "001_ceece1dd1d5bb97f.txt")]


def test_duplicates_are_rejected_once_and_batches_stream(tmp_path: Path, seeds_dir: Path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    english = sorted(seeds_dir.glob("*.txt"))[1:]
    for path in english:
        shutil.copy(path, inputs / path.name)
    shutil.copy(english[0], inputs / "zz_copy.txt")
    settings = make_settings(tmp_path, "r1", shard_size=2)
    summary = run([str(inputs)], settings)
    assert (summary.documents, summary.rejects) == (4, {"duplicate": 1})
    rejects = read_output(tmp_path / "out", "rejects")
    assert rejects["source_path"].tolist() == [str(inputs / "zz_copy.txt")]
    assert str(inputs / english[0].name) in rejects["detail"][0]
    # At most shard_size documents are held and written together: 4 documents, 2 parts.
    assert len({path.name for path in OutputStore(tmp_path / "out").part_files("documents")}) == 2
    before = counts(tmp_path / "out")
    run([str(inputs)], make_settings(tmp_path, "r2", shard_size=2))
    assert counts(tmp_path / "out") == before


def test_model_that_cannot_load_stops_the_run_with_one_line(tmp_path: Path, arabic_seed: Path, capsys):
    status = main(["run", "--input", str(arabic_seed), "--output", str(tmp_path / "out"),
                   "--models-dir", str(tmp_path / "models"), "--model", f"ar={tmp_path / 'no-such-model'}"])
    assert status != 0
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error: ")
    assert "no-such-model" in err and "Traceback" not in err


def test_unwritable_output_stops_the_run_with_one_line(tmp_path: Path, arabic_seed: Path, capsys):
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    status = main(["run", "--input", str(arabic_seed), "--output", str(blocker / "out")])
    assert status == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: cannot write to output directory") and len(err.splitlines()) == 1


def test_inputs_matching_no_file_stop_the_run_naming_them(tmp_path: Path, capsys):
    pattern = str(tmp_path / "nothing-*.txt")
    status = main(["run", "--input", pattern, "--output", str(tmp_path / "out"), "--run-id", "r"])
    assert status == 1
    assert capsys.readouterr().err.strip() == f"error: input: no file or directory matches {pattern}"
    assert not (tmp_path / "out").exists()


def test_a_missing_input_beside_real_files_is_a_reject_and_a_warning(
        tmp_path: Path, arabic_seed: Path, capsys, caplog):
    missing = str(tmp_path / "missing.txt")
    status = main(["run", "--input", str(arabic_seed), missing, "--output", str(tmp_path / "out"),
                   "--run-id", "r"])
    assert status == 0
    out = capsys.readouterr().out
    assert "1 document," in out and "rejects: 1 (not_found 1)" in out
    assert f"1 input matched no file: {missing}" in out
    assert any(record.levelname == "WARNING" and missing in record.getMessage() for record in caplog.records)
    assert read_output(tmp_path / "out", "rejects")["reason"].tolist() == ["not_found"]


def test_plan_is_deterministic_and_keeps_unmatched_patterns(tmp_path: Path, seeds_dir: Path):
    settings = make_settings(tmp_path, "r", shard_size=1)   # slices of one file
    inputs = [str(seeds_dir / "*.txt"), str(tmp_path / "missing.txt")]
    assert [len(shard.inputs) for shard in plan_shards(inputs, settings)] == [1, 1, 1, 1, 1]
    shards = plan_shards(inputs, settings, files_per_shard=2)
    assert shards == plan_shards(inputs, settings, files_per_shard=2)
    assert [len(shard.inputs) for shard in shards] == [2, 2, 1]
    assert shards[0].slices == (1, 1)
    # The pattern is expanded once, here: its shard carries it as a reject, not as a file to read again.
    assert shards[-1].rejects == ((str(tmp_path / "missing.txt"), "not_found", shards[-1].rejects[0][2]),)
    assert [shard.index for shard in shards] == [0, 1, 2]
    assert Shard.from_dict(json.loads(json.dumps(shards[0].to_dict()))) == shards[0]


def test_shard_result_travels_as_json(tmp_path: Path, seeds_dir: Path):
    settings = make_settings(tmp_path, "r")
    shard = plan_shards([str(seeds_dir / "002_*.txt")], settings)[0]
    result = process_shard(shard, settings)
    assert result.documents == {"en": 1}
    assert result.files and all(not Path(name).is_absolute() for name in result.files)
    assert ShardResult.from_dict(json.loads(json.dumps(result.to_dict()))) == result


def test_a_retried_shard_adds_no_rows(tmp_path: Path, seeds_dir: Path):
    settings = make_settings(tmp_path, "airflow-run")
    (tmp_path / "empty.txt").write_bytes(b"")
    shard = plan_shards([str(seeds_dir / "00[23]_*.txt"), str(tmp_path / "empty.txt")], settings)[0]
    first = process_shard(shard, settings)
    before = counts(tmp_path / "out")
    retry = process_shard(shard, settings)
    assert (first.documents, first.rejects) == ({"en": 2}, {"empty": 1})
    assert (retry.documents, retry.skipped, retry.rejects) == ({}, 2, {"empty": 1})
    assert counts(tmp_path / "out") == before == {"documents": 2, "paragraphs": before["paragraphs"],
                                                  "sentences": before["sentences"], "rejects": 1,
                                                  "removed": before["removed"]}


def test_settings_round_trip_and_validation(tmp_path: Path):
    settings = RunSettings(output=tmp_path, run_id="a b/../c", include_langs=frozenset({"ar", "zh"}),
                           model_overrides={"AR": "Helsinki-NLP/opus-mt-ar-en"})
    assert settings.run_id == "a-b-..-c" and "/" not in settings.run_id
    assert settings.model_overrides == {"ar": "Helsinki-NLP/opus-mt-ar-en"}
    assert RunSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    assert settings.translation_settings().store_path == tmp_path / ".translations"
    assert settings.untranslated_reason("fr") == "language_not_included"
    with pytest.raises(SettingsError, match="translator must be one of"):
        RunSettings(output=tmp_path, run_id="r", translator="google")
    with pytest.raises(SettingsError, match="shard_size must be a positive integer"):
        RunSettings.from_dict({"output": str(tmp_path), "run_id": "r", "shard_size": 0})
    with pytest.raises(SettingsError, match="unknown setting"):
        RunSettings.from_dict({"output": str(tmp_path), "run_id": "r", "colour": "blue"})
    with pytest.raises(SettingsError, match="not a language code"):
        RunSettings(output=tmp_path, run_id="r", skip_langs=frozenset({"Arabic!"}))
    with pytest.raises(SettingsError, match="no usable character"):
        sanitize_run_id("///")
    run_id = new_run_id()
    assert sanitize_run_id(run_id) == run_id and re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{4}", run_id)


def test_cleaning_settings_round_trip_and_default_to_none(tmp_path: Path):
    settings = RunSettings(output=tmp_path, run_id="r", body_threshold=0, site_repeats=2)
    assert (settings.body_threshold, settings.site_repeats) == (0.0, 2)
    assert isinstance(settings.body_threshold, float)
    assert RunSettings.from_dict(json.loads(json.dumps(settings.to_dict()))) == settings
    default = RunSettings(output=tmp_path, run_id="r")
    assert (default.body_threshold, default.site_repeats) == (None, None)
    assert RunSettings.from_dict(json.loads(json.dumps(default.to_dict()))) == default
    strictest = RunSettings.from_dict({"output": str(tmp_path), "run_id": "r", "body_threshold": 1})
    assert strictest.body_threshold == 1.0


@pytest.mark.parametrize("name, value, message", [
    ("body_threshold", 1.5, "body_threshold must be a number from 0 to 1, got 1.5"),
    ("body_threshold", -0.1, "body_threshold must be a number from 0 to 1, got -0.1"),
    ("body_threshold", float("nan"), "body_threshold must be a number from 0 to 1, got nan"),
    ("body_threshold", float("inf"), "body_threshold must be a number from 0 to 1, got inf"),
    ("body_threshold", True, "body_threshold must be a number from 0 to 1, got True"),
    ("body_threshold", "0.4", "body_threshold must be a number from 0 to 1, got '0.4'"),
    ("site_repeats", 1, "site_repeats must be an integer of 2 or more, got 1"),
    ("site_repeats", 0, "site_repeats must be an integer of 2 or more, got 0"),
    ("site_repeats", 2.0, "site_repeats must be an integer of 2 or more, got 2.0"),
    ("site_repeats", True, "site_repeats must be an integer of 2 or more, got True"),
    ("site_repeats", "3", "site_repeats must be an integer of 2 or more, got '3'"),
])
def test_cleaning_settings_refuse_bad_values_naming_the_setting(tmp_path: Path, name, value, message):
    with pytest.raises(SettingsError, match=re.escape(message)):
        RunSettings.from_dict({"output": str(tmp_path), "run_id": "r", name: value})


def test_a_changed_body_threshold_cleans_documents_already_written_only_when_forced(tmp_path: Path):
    page = tmp_path / "in" / "ru_news.txt"
    page.parent.mkdir()
    shutil.copy(DATA_DIR / "boilerplate" / "ru_news.txt", page)
    shard = plan_shards([str(page)], make_settings(tmp_path, "first"))[0]

    def paragraphs() -> int:
        return counts(tmp_path / "out")["paragraphs"]

    process_shard(shard, make_settings(tmp_path, "first"))
    default = paragraphs()
    # Cleaning settings are no part of what decides a rerun (the documents' models_fingerprint)...
    rerun = process_shard(shard, make_settings(tmp_path, "lenient", body_threshold=0.0))
    assert (rerun.documents, rerun.skipped, paragraphs()) == ({}, 1, default)
    # ...so a document already written is cleaned again with them only when forced.
    forced = process_shard(shard, make_settings(tmp_path, "forced", body_threshold=0.0, force=True))
    assert (forced.replaced, forced.replaced_because) == (1, {"force": 1})
    assert paragraphs() > default
    assert counts(tmp_path / "out")["documents"] == 1


def test_summary_formats_counts_and_missing_models():
    summary = RunSummary(run_id="r", manifest_path="out/runs/r.json", documents=3, paragraphs=9, sentences=20,
                         translated=10, source_is_english=8, untranslated=2, rejects={"empty": 1}, skipped=0,
                         replaced=0, missing_models={"zh": "Helsinki-NLP/opus-mt-zh-en: run models fetch zh"},
                         seconds=1.5)
    text = summary.format()
    assert "3 documents" in text and "10 translated" in text and "rejects: 1 (empty 1)" in text
    assert "missing model for zh: Helsinki-NLP/opus-mt-zh-en" in text and "out/runs/r.json" in text


def test_summary_names_languages_parquet_files_and_models_of_languages_inside_other_documents():
    from pipeline.models.registry import fetch_hint

    hints = {lang: fetch_hint(lang, Path("models"), f"Helsinki-NLP/opus-mt-{lang}-en")
             for lang in ("ar", "hi")}
    summary = RunSummary(run_id="r", manifest_path="out/runs/r.json", documents=3, paragraphs=9, sentences=20,
                         translated=10, source_is_english=8, untranslated=2, rejects={}, skipped=0,
                         replaced=0, missing_models=hints, seconds=1.5,
                         documents_by_language={"ar": 1, "en": 2}, output="out")
    lines = summary.format().splitlines()
    assert "documents per language: ar 1, en 2" in lines
    assert "Parquet datasets: out/{documents,paragraphs,sentences,rejects,removed}/" in lines
    assert [line for line in lines if line.startswith("missing model for ")] == [
        "missing model for ar: run `python -m pipeline models fetch ar` on a connected machine (it downloads "
        "into models/opus-mt-ar-en/)",
        "missing model for hi: run `python -m pipeline models fetch hi` on a connected machine (it downloads "
        "into models/opus-mt-hi-en/)"]
    assert "  no document is in hi: it occurs in paragraphs of documents in other languages" in lines
    assert not [line for line in lines if "no document is in ar" in line]
    assert "  or put a save_pretrained copy in models/opus-mt-hi-en/ or pass --model hi=DIR" in lines
    assert max(map(len, lines)) <= 160


def test_cli_parses_into_settings(tmp_path: Path):
    from pipeline.cli import settings_from_args

    args = build_parser().parse_args(["run", "--input", "x", "--output", str(tmp_path), "--skip-lang", "fr",
                                      "--model", "ar=dir", "--max-input-mb", "1", "--shard-size", "8"])
    settings = settings_from_args(args)
    assert settings.skip_langs == frozenset({"fr"}) and settings.model_overrides == {"ar": "dir"}
    assert (settings.max_input_bytes, settings.shard_size) == (2**20, 8)
    assert re.fullmatch(r"\d{8}T\d{6}Z-[0-9a-f]{4}", settings.run_id)


def test_a_store_shared_by_shards_sees_what_another_run_replaced(tmp_path: Path, seeds_dir: Path):
    first, second, third = (str(path) for path in sorted(seeds_dir.glob("00[234]_*.txt")))
    store = OutputStore(tmp_path / "out")
    process_shard(Shard(0, (first, second)), make_settings(tmp_path, "r1"), output=store)
    # Another run reprocesses the first file with a third: its document moves to another part.
    process_shard(Shard(0, (first, third)), make_settings(tmp_path, "r2", force=True))
    again = process_shard(Shard(0, (first, second)), make_settings(tmp_path, "r3", force=True), output=store)
    assert again.replaced == 2
    documents = read_output(tmp_path / "out", "documents")
    assert len(documents) == documents["doc_id"].nunique() == 3
    assert sorted(documents["run_id"]) == ["r2", "r3", "r3"]
    skipped = process_shard(Shard(0, (first, second, third)), make_settings(tmp_path, "r4"), output=store)
    assert (skipped.skipped, skipped.documents) == (3, {})


def test_plan_refuses_inputs_without_a_single_file(tmp_path: Path):
    empty = tmp_path / "empty-folder"
    empty.mkdir()
    settings = make_settings(tmp_path, "r")
    with pytest.raises(SettingsError, match=rf"no file to process in {empty}, .*nothing matches .*gone\.txt"):
        plan_shards([str(empty), str(tmp_path / "gone.txt")], settings)
    assert not settings.output.exists()


def test_a_run_in_one_process_resolves_models_with_one_translator(
        tmp_path: Path, inputs: list[str], monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.phases.translate import open_translator
    from pipeline.stages import translate

    settings = make_settings(tmp_path, "one-translator")
    given = open_translator(settings)
    built: list[object] = []
    real_init = translate.Translator.__init__

    def counting_init(self, *args, **kwargs):
        built.append(self)
        real_init(self, *args, **kwargs)

    monkeypatch.setattr(translate.Translator, "__init__", counting_init)
    summary = run(inputs, settings, translator=given)
    assert summary.documents > 0
    assert built == []   # prepare and assemble plan with the run's translator instead of their own


def _rows_without_run_columns(output: Path) -> dict[str, list[str]]:
    varying = {"run_id", "processed_at", "rejected_at"}
    tables = {}
    for level in ("documents", "paragraphs", "sentences", "rejects"):
        rows = read_output(output, level).to_dict("records")
        tables[level] = sorted(json.dumps({key: value for key, value in row.items() if key not in varying},
                                          sort_keys=True, default=str) for row in rows)
    return tables


@pytest.fixture
def fourteen_files(tmp_path: Path, seeds_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The seeds and the samples in one folder, planned in shards of 20 kB of input or more."""
    from pipeline.phases import plan

    inputs = tmp_path / "in"
    shutil.copytree(seeds_dir, inputs)
    shutil.copytree(REPO_ROOT / "samples", inputs / "samples")
    monkeypatch.setattr(plan, "SLICE_BYTES", 20_000)   # the planning is this process's
    return inputs


def test_workers_prepare_shards_in_processes_and_write_what_one_worker_writes(
        tmp_path: Path, fourteen_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.phases.handoff import PreparedBatches

    one = run([str(fourteen_files)], make_settings(tmp_path / "one", "one"), workers=1)
    prepared_here: list[int] = []
    write_batch = PreparedBatches.write_batch

    def noting(self, index, batch, documents, rejects):
        prepared_here.append(index)
        write_batch(self, index, batch, documents, rejects)

    monkeypatch.setattr(PreparedBatches, "write_batch", noting)
    two = run([str(fourteen_files)], make_settings(tmp_path / "two", "two"), workers=2)
    manifests = [json.loads(Path(summary.manifest_path).read_text()) for summary in (one, two)]
    # The same shards for any number of workers.
    assert manifests[0]["shards"] == manifests[1]["shards"] > 2
    # This process prepared the first shard, the other process the next one at least.
    assert 0 in prepared_here and 1 not in prepared_here
    assert (one.documents, one.sentences) == (two.documents, two.sentences) and one.documents > 10
    assert _rows_without_run_columns(tmp_path / "one" / "out") == _rows_without_run_columns(
        tmp_path / "two" / "out")


def test_a_shard_that_fails_in_this_process_fails_the_run_and_nothing_is_written(
        tmp_path: Path, fourteen_files: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import time

    from pipeline.phases.handoff import PreparedBatches
    from pipeline.store.work_area import RunWorkArea

    def failing(self, index, batch, documents, rejects):
        time.sleep(2.0)   # the pool has prepared the next shard by then
        raise OSError(f"shard {index}: disk gone")

    monkeypatch.setattr(PreparedBatches, "write_batch", failing)   # this process's shards only
    settings = make_settings(tmp_path, "failing")
    with pytest.raises(OSError, match="shard 0: disk gone"):
        run([str(fourteen_files)], settings, workers=2)
    # The pool's shards were prepared meanwhile, but none is written before the first shard is.
    work = RunWorkArea(settings.output, "failing")
    assert not work.is_prepared(0) and work.is_prepared(1)
    assert not OutputStore(settings.output).part_files("documents")


def _phase_events(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, int]]:
    """("prepared", shard) and ("assembling", shard) as this process's runs reach them."""
    from pipeline.phases import runner

    events: list[tuple[str, int]] = []
    prepare, assemble = runner.prepare_shard, runner.assemble_shard

    def preparing(shard, settings, **options):
        result = prepare(shard, settings, **options)
        events.append(("prepared", shard.index))
        return result

    def assembling(shard, settings, **options):
        events.append(("assembling", shard.index))
        return assemble(shard, settings, **options)

    monkeypatch.setattr(runner, "prepare_shard", preparing)
    monkeypatch.setattr(runner, "assemble_shard", assembling)
    return events


def test_a_shard_with_nothing_to_translate_is_written_before_the_next_is_prepared(
        tmp_path: Path, fourteen_files: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    events = _phase_events(monkeypatch)
    english_only = make_settings(tmp_path / "en", "en", include_langs=frozenset({"en"}), shard_size=3)
    run([str(fourteen_files)], english_only)
    shards = range(5)
    assert events == [(event, index) for index in shards for event in ("prepared", "assembling")]

    # The first shard holds the Arabic seed, which has a model: every shard waits for translation.
    events.clear()
    translated = make_settings(tmp_path / "ar", "ar", shard_size=3,
                               model_overrides={"ar": str(tiny_model_dir)})
    summary = run([str(fourteen_files)], translated)
    assert summary.translated > 0
    assert events == [("prepared", index) for index in shards] + [("assembling", index) for index in shards]
    assert counts(english_only.output)["documents"] == counts(translated.output)["documents"]


def test_workers_must_be_a_positive_number(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--input", "x", "--output", "o", "--workers", "0"])
    assert "--workers: expected a positive integer, got '0'" in capsys.readouterr().err


def test_the_default_workers_are_the_cores_the_available_memory_holds(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    import types

    import psutil

    from pipeline import cli
    from pipeline.errors import ConfigurationError
    from pipeline.phases import runner

    gigabytes = 2**30
    assert cli.default_workers(cores=8, available_memory=64 * gigabytes) == 8
    assert cli.default_workers(cores=8, available_memory=2 * gigabytes) == (
        2 * gigabytes // cli.WORKER_MEMORY_BYTES)
    assert cli.default_workers(cores=8, available_memory=100 * 2**20) == 1

    workers_asked: list[int] = []

    def recording_run(inputs, settings, *, workers):
        workers_asked.append(workers)
        raise ConfigurationError("stopped before the run")

    monkeypatch.setattr(runner, "run", recording_run)
    monkeypatch.setattr(os, "cpu_count", lambda: 4)
    monkeypatch.setattr(psutil, "virtual_memory", lambda: types.SimpleNamespace(available=gigabytes))
    arguments = ["run", "--input", str(tmp_path), "--output", str(tmp_path / "out")]
    with caplog.at_level("INFO"):
        main(arguments)
        main(arguments + ["--workers", "3"])
    assert workers_asked == [1, 3]   # what the memory holds without --workers; what --workers says with it
    assert sum("1 worker for 4 cores: the available memory holds no more" in message
               for message in caplog.messages) == 1


def test_shards_before_the_first_to_translate_are_written_early_and_the_rest_after_translation(
        tmp_path: Path, seeds_dir: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    inputs = tmp_path / "in"
    inputs.mkdir()
    seeds = sorted(seeds_dir.glob("*.txt"))
    for number, path in enumerate(seeds[1:] + seeds[:1]):   # the Arabic seed, which has a model, last
        shutil.copy(path, inputs / f"{number:02d}_{path.name}")
    from pipeline.phases import runner

    events = _phase_events(monkeypatch)
    translate = runner.translate_chunk

    def translating(chunk, settings, **options):
        events.append(("translating", chunk.index))
        return translate(chunk, settings, **options)

    monkeypatch.setattr(runner, "translate_chunk", translating)
    settings = make_settings(tmp_path, "mixed", shard_size=2, model_overrides={"ar": str(tiny_model_dir)})
    summary = run([str(inputs)], settings)
    assert events == [("prepared", 0), ("assembling", 0), ("prepared", 1), ("assembling", 1),
                      ("prepared", 2), ("translating", 0), ("assembling", 2)]
    assert summary.translated > 0
    assert set(read_output(settings.output, "sentences")["src_lang"]) >= {"ar", "en"}


def test_small_batches_of_a_shard_are_written_as_one_part_with_the_rows_of_one_part_each(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.phases import assemble

    records = tmp_path / "in" / "records.jsonl"
    records.parent.mkdir()
    sentences = ["The council approved the new budget for the coming year on Tuesday evening.",
                 "Residents asked for more buses on the line that serves the hospital and the school.",
                 "The library will open on Sundays from next month, the mayor announced."]
    lines = [json.dumps({"id": f"r{number}", "text": f"{sentences[number % 3]} Item {number}."})
             for number in range(10)]
    records.write_text("\n".join(lines) + "\n", encoding="utf-8")

    def documents_parts(root: Path, run_id: str) -> list[str]:
        summary = run([str(records)], make_settings(root, run_id, shard_size=3))
        assert summary.documents == 10
        return [path.name for path in OutputStore(root / "out").part_files("documents")]

    assert len(documents_parts(tmp_path / "together", "together")) == 1   # four batches, one commit
    monkeypatch.setattr(assemble, "PART_MIN_INPUT_BYTES", 1)
    assert len(documents_parts(tmp_path / "apart", "apart")) == 4
    assert _rows_without_run_columns(tmp_path / "together" / "out") == _rows_without_run_columns(
        tmp_path / "apart" / "out")


def test_workers_share_a_large_jsonl_file_cut_into_pieces_and_write_what_one_worker_writes(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.phases import plan

    dump = tmp_path / "in" / "dump.jsonl"
    dump.parent.mkdir()
    texts = ["The council approved the new budget for the coming year.", "Le conseil a voté le budget.",
             "Der Rat hat den Haushalt beschlossen.", "El consejo aprobó el presupuesto."]
    lines = [json.dumps({"id": number, "text": f"{texts[number % 4]} ({number})"}) for number in range(40)]
    lines[3] = lines[0]   # a copy: the first in input order is kept, the copy rejected
    dump.write_text("\n".join(lines) + "\n", encoding="utf-8")
    monkeypatch.setattr(plan, "SLICE_BYTES", 400)
    shards = plan.plan_shards([str(dump)], make_settings(tmp_path / "plan", "plan"))
    assert len(shards) > 2 and all(not shard.inputs and len(shard.pieces) == 1 for shard in shards)
    assert [plan.Shard.from_dict(json.loads(json.dumps(shard.to_dict()))) for shard in shards] == shards
    one = run([str(dump)], make_settings(tmp_path / "one", "one"), workers=1)
    two = run([str(dump)], make_settings(tmp_path / "two", "two"), workers=2)
    assert (one.documents, one.rejects) == (two.documents, two.rejects) == (39, {"duplicate": 1})
    assert _rows_without_run_columns(tmp_path / "one" / "out") == _rows_without_run_columns(
        tmp_path / "two" / "out")


def test_every_plan_batches_a_sites_pages_alike_so_lines_it_repeats_are_judged_alike(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Lines a site repeats are counted within a batch: one worker, two, and the DAG's packed shards
    put the same pages in the same batches, so they remove the same lines."""
    from pipeline.phases import plan
    from pipeline.stages.ingest import IngestSource

    dump = tmp_path / "in" / "site.jsonl"
    dump.parent.mkdir()
    bodies = ["The harbour authority approved a new ferry timetable after a long public hearing.",
              "Residents asked for later evening crossings during the summer festival weeks.",
              "Officials said the changes would take effect at the start of next month."]
    records = [{"id": number, "url": f"https://news.example.org/story/{number}",
                "text": f"Read next: ferry story {number // 3} of the week\n\n"
                        f"Report {number}. {bodies[number % 3]} {bodies[(number + 1) % 3]}"}
               for number in range(60)]
    dump.write_text("".join(json.dumps(record) + "\n" for record in records), encoding="utf-8")
    monkeypatch.setattr(plan, "SLICE_BYTES", 2_000)
    settings = make_settings(tmp_path / "plan", "plan", shard_size=7)

    def batches(shards: list[Shard]) -> list[list[str]]:
        return [[raw.record_id for raw in raws] for shard in shards for raws, _ in IngestSource(
            shard.inputs, pieces=shard.pieces, slices=shard.slices).batches(settings.shard_size)]

    own, packed = plan_shards([str(dump)], settings), plan_shards([str(dump)], settings, files_per_shard=9)
    assert len(packed) < len(own) and batches(packed) == batches(own)
    one = run([str(dump)], make_settings(tmp_path / "one", "one", shard_size=7), workers=1)
    run([str(dump)], make_settings(tmp_path / "two", "two", shard_size=7), workers=2)
    assert one.removed.get("repeated_in_site", 0) > 0
    assert _rows_without_run_columns(tmp_path / "one" / "out") == _rows_without_run_columns(
        tmp_path / "two" / "out")


def test_a_run_converts_its_rows_without_importing_pandas_and_pandas_still_reads_them(
        tmp_path: Path, seeds_dir: Path):
    output = tmp_path / "out"
    code = (f"import sys; from pipeline.cli import main; "
            f"main(['run', '--input', {str(seeds_dir)!r}, '--output', {str(output)!r}, '--workers', '1', "
            f"'--models-dir', {str(tmp_path / 'models')!r}, '--include-lang', 'en']); "
            "print('pandas' in sys.modules); from pipeline.store.reader import read_output; "
            f"print(type(read_output({str(output)!r}, 'documents')).__name__)")
    assert printed_by_a_fresh_interpreter(code)[-2:] == ["False", "DataFrame"]
    assert counts(output)["documents"] == 5


def test_a_pool_worker_converts_rows_without_importing_pandas():
    code = ("import logging, sys; import pyarrow; from pipeline.phases.runner import _start_worker; "
            "_start_worker(logging.INFO); pyarrow.array(['a row']); print('pandas' in sys.modules)")
    assert printed_by_a_fresh_interpreter(code, timeout=120) == ["False"]


def test_a_run_called_as_a_library_leaves_pyarrows_reading_of_pandas_objects_as_it_was(
        tmp_path: Path, seeds_dir: Path):
    # pandas is imported after the run, as a notebook would: a pandas object's NaN is then read as null.
    settings = (f"RunSettings(output=Path({str(tmp_path / 'out')!r}), run_id='library', "
                f"models_dir=Path({str(tmp_path / 'models')!r}), include_langs=frozenset({{'en'}}))")
    code = ("from pathlib import Path; from pipeline.phases.runner import run; "
            f"from pipeline.settings import RunSettings; run([{str(seeds_dir)!r}], {settings}); "
            "import numpy, pandas, pyarrow; print(pyarrow.array(pandas.Series([1.0, numpy.nan])).null_count)")
    assert printed_by_a_fresh_interpreter(code)[-1] == "1"
    assert counts(tmp_path / "out")["documents"] == 5


def test_the_detectors_are_released_once_every_shard_is_prepared(
        tmp_path: Path, seeds_dir: Path, monkeypatch):
    from pipeline.phases import runner
    from pipeline.stages import detectors

    loaded_when_released: list[int] = []

    def release() -> None:
        loaded_when_released.append(detectors.fasttext_model.cache_info().currsize
                                    + detectors.lingua_languages.cache_info().currsize)
        detectors.unload_detectors()

    monkeypatch.setattr(runner, "unload_detectors", release)
    summary = run([str(seeds_dir)], make_settings(tmp_path, "released", include_langs=frozenset({"en"})))
    assert summary.documents == 5
    assert loaded_when_released[0] > 0
    assert detectors.fasttext_model.cache_info().currsize == 0
    assert detectors.lingua_detector.cache_info().currsize == 0
