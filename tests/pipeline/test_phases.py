"""The stage contract, and the three phases run as the DAG runs them against the one-process run."""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path

import pandas
import pytest
from project_paths import REPO_ROOT

from pipeline.errors import ConfigurationError
from pipeline.phases.assemble import assemble_shard
from pipeline.phases.finalize import finalize_run
from pipeline.phases.plan import check_models, open_output, plan_shards
from pipeline.phases.prepare import prepare_shard
from pipeline.phases.results import PreparedShard
from pipeline.phases.runner import run
from pipeline.phases.translate import plan_translation, translate_chunk
from pipeline.records import RawDocument, Reject, RejectReason
from pipeline.settings import RunSettings
from pipeline.stages.base import Sink, Source, Stage

SAMPLES = REPO_ROOT / "samples"
SAMPLE_LANGUAGES = ("ar", "de", "es", "fr", "ru", "zh")
RUN_TIMES = {"documents": ["processed_at"], "rejects": ["rejected_at"]}
KEYS = {"documents": ["doc_id"], "paragraphs": ["doc_id", "para_id"],
        "sentences": ["doc_id", "para_id", "sent_id"], "rejects": ["source_path", "source_record", "reason"]}


# -- the stage contract -----------------------------------------------------------------------------

def _raw(text: str) -> RawDocument:
    return RawDocument(doc_id=text, source_path=f"/in/{text}.txt", source_format="txt", text=text,
                       encoding="utf-8", n_bytes=len(text))


class Upper(Stage[RawDocument, str]):
    """Upper-cases texts; breaks on a batch holding "bad", leaves "skip" out, rejects "empty"."""

    name = "upper"

    def __init__(self) -> None:
        super().__init__()
        self.setups = 0
        self.batches: list[list[str]] = []

    def setup(self) -> None:
        self.setups += 1

    def process(self, batch: Sequence[RawDocument]) -> list[str | Reject | None]:
        self.batches.append([raw.text for raw in batch])
        if any(raw.text == "bad" for raw in batch):
            raise ValueError("cannot\nupper-case 'bad'")
        return [None if raw.text == "skip" else
                Reject(raw.source_path, RejectReason.NO_TEXT, "empty") if raw.text == "empty" else
                raw.text.upper() for raw in batch]


def test_a_failed_batch_is_retried_record_by_record_and_only_the_bad_one_is_rejected() -> None:
    stage = Upper()
    rejects: list[Reject] = []
    out = stage([_raw(text) for text in ("a", "bad", "skip", "empty", "b")], rejects)
    assert out == ["A", "B"]
    assert [(reject.source_path, reject.reason, reject.detail) for reject in rejects] == [
        ("/in/bad.txt", RejectReason.PROCESSING_ERROR, "upper: ValueError: cannot upper-case 'bad'"),
        ("/in/empty.txt", RejectReason.NO_TEXT, "empty")]
    assert stage.batches == [["a", "bad", "skip", "empty", "b"], ["a"], ["bad"], ["skip"], ["empty"], ["b"]]
    stats = stage.stats
    assert (stats.items_in, stats.items_out, stats.rejected, stats.left_out, stats.calls) == (5, 2, 2, 1, 1)
    assert stats.seconds >= 0
    assert stage([_raw("c")], rejects) == ["C"]
    assert stage.setups == 1 and stage.stats.calls == 2   # set up once, lazily, before the first batch


def test_a_configuration_error_is_never_isolated() -> None:
    class Misconfigured(Upper):
        def process(self, batch):
            raise ConfigurationError("model 'x' cannot be loaded")

    stage = Misconfigured()
    with pytest.raises(ConfigurationError, match="cannot be loaded"):
        stage([_raw("a"), _raw("b")], [])
    assert stage.batches == []


def test_a_stage_that_loses_records_is_caught() -> None:
    class Lossy(Upper):
        def process(self, batch):
            return [raw.text for raw in batch][:1]

    rejects: list[Reject] = []
    assert Lossy()([_raw("a"), _raw("b")], rejects) == ["a", "b"]   # record by record: each gives its result
    assert rejects == []


class Listed(Source[RawDocument]):
    """Reads texts as documents; "?" stands for an input that cannot be read."""

    name = "listed"

    def __init__(self, texts: Sequence[str]) -> None:
        super().__init__()
        self.texts = texts
        self.setups = 0

    def setup(self) -> None:
        self.setups += 1

    def read(self):
        for text in self.texts:
            yield Reject(f"/in/{text}", RejectReason.UNREADABLE, "no") if text == "?" else _raw(text)


def _texts(batches) -> list[tuple[list[str], list[str]]]:
    return [([raw.text for raw in raws], [reject.source_path for reject in rejects])
            for raws, rejects in batches]


def test_a_source_gives_batches_of_records_with_the_rejects_among_them_and_counts_them() -> None:
    source = Listed(["a", "?", "b", "c", "?"])
    # Rejects take no room: which records share a batch does not depend on them.
    assert _texts(source.batches(2)) == [(["a", "b"], ["/in/?"]), (["c"], ["/in/?"])]
    stats = source.stats
    assert (stats.calls, stats.items_out, stats.rejected, source.setups) == (2, 3, 2, 1)
    assert stats.seconds >= 0


def test_rejects_alone_fill_a_batch_at_their_bound_and_no_batch_spans_two_sections(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.stages import base

    monkeypatch.setattr(base, "REJECTS_PER_RECORD", 2)
    batches = _texts(Listed(["?"] * 5 + ["a"]).batches(1))
    assert batches == [([], ["/in/?"] * 2), ([], ["/in/?"] * 2), (["a"], ["/in/?"])]

    class InSections(Listed):
        def sections(self):
            return (iter([_raw("a"), _raw("b"), _raw("c")]), iter([_raw("d")]))

    assert _texts(InSections([]).batches(2)) == [(["a", "b"], []), (["c"], []), (["d"], [])]


class Collecting(Sink[str]):
    name = "collecting"

    def __init__(self) -> None:
        super().__init__()
        self.opened = 0
        self.written: list[str] = []

    def setup(self) -> None:
        self.opened += 1

    def write(self, batch: Sequence[str], rejects: list[Reject]) -> None:
        self.written.extend(batch)
        rejects.append(Reject("/in/dup", RejectReason.DUPLICATE, "seen"))


def test_a_sink_opens_once_writes_every_batch_and_may_add_rejects() -> None:
    sink = Collecting()
    rejects: list[Reject] = []
    sink(["A", "B"], rejects)
    sink(["C"], rejects)
    assert sink.written == ["A", "B", "C"] and sink.opened == 1
    assert [reject.reason for reject in rejects] == [RejectReason.DUPLICATE] * 2
    assert (sink.stats.calls, sink.stats.items_in) == (2, 3)


def test_each_phase_is_placed_by_what_its_stages_declare() -> None:
    from pipeline.phases.results import PHASE_STAGES, STAGES, phase_resource
    from pipeline.stages.base import RESOURCES, Resource, Step
    from pipeline.stages.translate import TranslateStage

    phase_stages = [name for names in PHASE_STAGES.values() for name in names]
    assert sorted(RESOURCES) == sorted(STAGES) == sorted(phase_stages)
    assert TranslateStage.resource is Resource.ACCELERATOR
    assert {phase: phase_resource(phase) for phase in PHASE_STAGES} == {
        "prepare": Resource.CPU, "translate": Resource.ACCELERATOR, "assemble": Resource.CPU}
    with pytest.raises(TypeError, match="'translate' needs cpu, but RESOURCES says accelerator"):
        class CpuTranslate(Step):   # noqa: F841 (refused when it is defined)
            name = "translate"


# -- the phases as the DAG runs them, against the one-process run -----------------------------------

def _settings(output: Path, models: Path, tiny_model_dir: Path, **changes) -> RunSettings:
    return RunSettings(output=output, run_id="same", models_dir=models, device="cpu", shard_size=3,
                       model_overrides={lang: str(tiny_model_dir) for lang in SAMPLE_LANGUAGES}, **changes)


def _through_xcom(item):
    return type(item).from_dict(json.loads(json.dumps(item.to_dict())))


def _run_as_dag_tasks(inputs: list[str], settings: RunSettings) -> list:
    """plan -> prepare (a task per shard) -> plan_translation -> translate (a task per chunk, each in a
    worker with nothing loaded) -> assemble (a task per shard, in any order) -> finalize."""
    from pipeline.stages.translate_backends import release_engines

    started_at = datetime.now(timezone.utc)
    shards = [_through_xcom(shard) for shard in plan_shards(inputs, settings)]
    open_output(settings)
    check_models(settings, load=False)
    prepared = [_through_xcom(prepare_shard(shard, settings)) for shard in shards]
    chunks = [_through_xcom(chunk) for chunk in plan_translation(settings, prepared)]
    translated = []
    for chunk in chunks:
        release_engines()
        translated.append(_through_xcom(translate_chunk(chunk, settings)))
    results = [_through_xcom(assemble_shard(shard, settings)) for shard in reversed(prepared)]
    finalize_run(settings, results, inputs, started_at, translated)
    return translated


def _dataset(output: Path, name: str) -> pandas.DataFrame:
    frame = pandas.read_parquet(output / name).drop(columns=RUN_TIMES.get(name, []), errors="ignore")
    for column in frame.columns:   # partition columns read as categories of the directories found
        if isinstance(frame[column].dtype, pandas.CategoricalDtype):
            frame[column] = frame[column].astype(str)
    if frame.empty:
        return frame
    return frame.sort_values(KEYS[name]).reset_index(drop=True)[sorted(frame.columns)]


def assert_same_output(first: Path, second: Path) -> None:
    for name in KEYS:
        pandas.testing.assert_frame_equal(_dataset(first, name), _dataset(second, name), obj=name)


@pytest.mark.parametrize("corpus", ["samples", "seeds"])
def test_three_phases_as_tasks_write_what_the_one_process_run_writes(
        tmp_path: Path, tiny_model_dir: Path, seeds_dir: Path, corpus: str) -> None:
    inputs = [str(SAMPLES if corpus == "samples" else seeds_dir)]
    one_process = _settings(tmp_path / "one-process", tmp_path / "models", tiny_model_dir)
    as_tasks = _settings(tmp_path / "tasks", tmp_path / "models", tiny_model_dir, translation_chunk_size=8)

    summary = run(inputs, one_process)
    translated = _run_as_dag_tasks(inputs, as_tasks)

    assert summary.translated > 0
    assert_same_output(one_process.output, as_tasks.output)
    # One model per translation task (none for a language without a model), never one per shard and
    # language; several tasks per language.
    assert [chunk.model_loads for chunk in translated] == [int(chunk.model is not None)
                                                           for chunk in translated]
    languages = {chunk.lang for chunk in translated}
    assert len(translated) > len(languages) >= (6 if corpus == "samples" else 1)
    manifest = json.loads((as_tasks.output / "runs" / "same.json").read_text())
    assert manifest["translation_tasks"] == len(translated)
    assert manifest["translation"]["model_loads"] == sum(chunk.model_loads for chunk in translated) > 0
    assert not (as_tasks.output / ".work").exists() and not (one_process.output / ".work").exists()


def test_a_run_that_holds_part_of_its_batches_writes_what_one_that_holds_all_writes(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pipeline.phases import handoff
    from pipeline.store.work_area import RunWorkArea

    held_all = _settings(tmp_path / "held", tmp_path / "models", tiny_model_dir)
    run([str(SAMPLES)], held_all)
    staged: list[tuple[int, int]] = []
    write_batch = RunWorkArea.write_batch

    def staging(self, index, batch, documents, rejects):
        staged.append((index, batch))
        write_batch(self, index, batch, documents, rejects)

    monkeypatch.setattr(RunWorkArea, "write_batch", staging)
    monkeypatch.setattr(handoff, "MAX_HELD_BYTES", 6_000)
    held_part = _settings(tmp_path / "part", tmp_path / "models", tiny_model_dir)
    summary = run([str(SAMPLES)], held_part)

    assert staged and staged[0] != (0, 1), "the first batches held, the later ones staged"
    assert summary.translated > 0
    assert_same_output(held_all.output, held_part.output)
    assert not (held_part.output / ".work").exists()


def test_shards_are_prepared_and_assembled_with_fewer_cycle_collections_and_the_caller_keeps_its_own(
        tmp_path: Path, tiny_model_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import gc

    from pipeline.phases import assemble, prepare
    from pipeline.phases.memory import CYCLE_COLLECTION_ALLOCATIONS

    thresholds: dict[str, set[int]] = {"prepare": set(), "assemble": set()}
    for phase, module in (("prepare", prepare), ("assemble", assemble)):
        def watched(*args, _phase=phase, _run_stages=module.run_stages, **kwargs):
            thresholds[_phase].add(gc.get_threshold()[0])
            return _run_stages(*args, **kwargs)
        monkeypatch.setattr(module, "run_stages", watched)
    before = gc.get_threshold()

    summary = run([str(SAMPLES)], _settings(tmp_path / "out", tmp_path / "models", tiny_model_dir))

    assert summary.documents > 0
    assert thresholds == {phase: {CYCLE_COLLECTION_ALLOCATIONS} for phase in ("prepare", "assemble")}
    assert gc.get_threshold() == before


def test_a_rerun_of_the_translation_tasks_reads_the_store_and_assembles_the_same(
        tmp_path: Path, tiny_model_dir: Path, arabic_seed: Path) -> None:
    settings = _settings(tmp_path / "out", tmp_path / "models", tiny_model_dir, translation_chunk_size=5)
    shards = plan_shards([str(arabic_seed)], settings)
    open_output(settings)
    prepared = [prepare_shard(shard, settings) for shard in shards]
    chunks = plan_translation(settings, prepared)
    first = [translate_chunk(chunk, settings) for chunk in chunks]
    # A retried task (its worker lost after writing) translates nothing again.
    again = [translate_chunk(chunk, settings) for chunk in chunks]
    assert sum(result.translation["cache_hits"] for result in first) == 0
    assert [result.translation["cache_hits"] for result in again] == [chunk.sentences for chunk in chunks]
    assert [result.translation["model_calls"] for result in again] == [0] * len(chunks)
    result = assemble_shard(prepared[0], settings)
    assert set(result.sentences["ar"]) == {"translated"}


def test_assembling_a_shard_that_was_never_prepared_fails_naming_it(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    settings = _settings(tmp_path / "out", tmp_path / "models", tiny_model_dir)
    with pytest.raises(RuntimeError, match="shard 4 of run same was not prepared"):
        assemble_shard(PreparedShard(4, "same"), settings)


def test_the_work_area_of_a_run_that_never_finished_goes_once_stale(
        tmp_path: Path, tiny_model_dir: Path, arabic_seed: Path) -> None:
    import os

    from pipeline.store.work_area import STALE_AFTER_DAYS, WORK_DIR

    crashed = _settings(tmp_path / "out", tmp_path / "models", tiny_model_dir)
    prepare_shard(plan_shards([str(arabic_seed)], crashed)[0], crashed)   # then the run died
    area = tmp_path / "out" / WORK_DIR / "same"
    later = RunSettings(output=tmp_path / "out", run_id="later", models_dir=tmp_path / "models")
    open_output(later)
    assert area.is_dir()   # recent: it may be a run still going on beside this one
    old = os.stat(area).st_mtime - (STALE_AFTER_DAYS + 1) * 86400
    for path in [area, *area.rglob("*")]:
        os.utime(path, (old, old))
    open_output(later)
    assert not area.exists()


def test_temporary_files_of_killed_writers_go_once_stale(tmp_path: Path) -> None:
    import os

    from pipeline.store.translations import STORE_DIR
    from pipeline.store.work_area import STALE_TEMPORARY_HOURS, WORK_DIR

    output = tmp_path / "out"
    live_area = output / WORK_DIR / "live" / "shards" / "0"
    live_area.mkdir(parents=True)
    (live_area / "batch-1.parquet").write_bytes(b"a run still going on beside this one")
    store_part = output / STORE_DIR / "0123456789abcdef01234567"
    store_part.mkdir(parents=True)
    killed = [store_part / ".part-a.parquet.1a2b3c4d.tmp", live_area / ".batch-2.parquet.5e6f7a8b.tmp"]
    writing = [store_part / ".part-b.parquet.9c0d1e2f.tmp", live_area / ".batch-3.parquet.3a4b5c6d.tmp"]
    old = os.stat(store_part).st_mtime - (STALE_TEMPORARY_HOURS + 1) * 3600
    for path in killed + writing:
        path.write_bytes(b"half a part")
    for path in killed:
        os.utime(path, (old, old))

    open_output(RunSettings(output=output, run_id="later", models_dir=tmp_path / "models"))

    assert [path.exists() for path in killed + writing] == [False, False, True, True]
    assert (live_area / "batch-1.parquet").exists()
