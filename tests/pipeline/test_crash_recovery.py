"""A run killed in the middle of writing a shard is completed by the next run, without duplicates; until
then no reader sees a row of the shard it was writing, the processes it started end with it, and a
killed --force run loses no document. A killed pool process or Ctrl-C ends a run with one line.
Readers of the snapshot see only complete states while a run rewrites the output in other shards."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import duckdb
import pandas as pd
import polars as pl
import psutil
import pyarrow.dataset as ds
import pytest
from project_paths import HELPERS_DIR, REPO_ROOT

from pipeline.cli import INTERRUPTED_STATUS
from pipeline.phases.plan import plural
from pipeline.store.output import COMMIT_MARKER, STAGING_DIR, OutputStore
from pipeline.store.reader import read_output
from pipeline.store.schemas import DATASETS
from pipeline.store.snapshots import current_snapshot
from pipeline.store.work_area import RunWorkArea

PAUSING_RUN = HELPERS_DIR / "pausing_run.py"
SLOW_POOL_RUN = HELPERS_DIR / "slow_pool_run.py"
N_DOCUMENTS = 240
SHARD_SIZE = 20

TOPICS = ["the harbour", "the new library", "a mountain railway", "the river festival", "the city budget",
          "a small bakery", "the football club", "an old lighthouse"]


def _write_documents(directory: Path) -> None:
    directory.mkdir()
    for number in range(N_DOCUMENTS):
        topic = TOPICS[number % len(TOPICS)]
        text = (
            f"Report number {number} is about {topic}. The council met on Tuesday to discuss its future.\n\n"
            f"Residents said that {topic} had changed a great deal over the last {number % 40 + 2} years. "
            "Many of them asked for more information before the next meeting.\n\n"
            f"A decision about {topic} is expected before the end of the month, officials said."
        )
        (directory / f"doc_{number:04d}.txt").write_text(text, encoding="utf-8")


def _command(inputs: Path, output: Path, run_id: str, pause_before_commit: float | None = None) -> list[str]:
    """The run's command line; with `pause_before_commit`, every shard pauses that many seconds between
    its staged parts and its commit marker."""
    start = [sys.executable, "-m", "pipeline"] if pause_before_commit is None else [
        sys.executable, str(PAUSING_RUN), str(pause_before_commit)]
    return [*start, *_run_arguments(inputs, output, run_id)]


def _run_arguments(inputs: Path, output: Path, run_id: str) -> list[str]:
    return ["run", "--input", str(inputs), "--output", str(output), "--run-id", run_id,
            "--shard-size", str(SHARD_SIZE), "--models-dir", str(output.parent / "models")]


def _half_written(store: OutputStore) -> bool:
    """At least one shard committed, and another one with its sentences staged but no commit marker."""
    staging = store.root / STAGING_DIR
    try:   # a shard directory may vanish while it is looked at
        uncommitted = staging.is_dir() and any(
            not (shard / COMMIT_MARKER).exists() and any(shard.glob("sentences~*.parquet"))
            for shard in staging.iterdir())
    except FileNotFoundError:
        uncommitted = False
    return bool(store.part_files("documents")) and uncommitted


def _doc_ids_seen_by_every_reader(output: Path, dataset: str) -> dict[str, set[str]]:
    directory = output / dataset
    glob = f"{directory}/**/*.parquet"
    return {
        "pyarrow": set(ds.dataset(directory, partitioning="hive").to_table(columns=["doc_id"])
                       .column("doc_id").to_pylist()),
        "pandas": set(pd.read_parquet(directory, columns=["doc_id"])["doc_id"]),
        "duckdb": {row[0] for row in duckdb.sql(
            f"select distinct doc_id from read_parquet('{glob}', hive_partitioning=true)").fetchall()},
        "polars": set(pl.scan_parquet(glob, hive_partitioning=True).select("doc_id").collect()["doc_id"]),
    }


def _assert_no_reader_sees_uncommitted_rows(output: Path) -> None:
    committed = set(read_output(output, "documents")["doc_id"])
    for dataset in ("paragraphs", "sentences"):
        for reader, doc_ids in _doc_ids_seen_by_every_reader(output, dataset).items():
            assert doc_ids <= committed, (dataset, reader, len(doc_ids - committed))
    documents = read_output(output, "documents")
    assert len(read_output(output, "sentences")) == documents["n_sentences"].sum()
    assert len(read_output(output, "paragraphs")) == documents["n_paragraphs"].sum()


def _environment() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(REPO_ROOT)}


@pytest.fixture()
def corpus(tmp_path: Path) -> tuple[Path, Path]:
    """A folder of N_DOCUMENTS inputs, and the output directory the runs write them to."""
    inputs, output = tmp_path / "in", tmp_path / "out"
    _write_documents(inputs)
    return inputs, output


def _wait_until_half_written(running: subprocess.Popen, store: OutputStore) -> list[psutil.Process]:
    """Wait until the run `running` has a shard half written; the processes it has started by then."""
    deadline = time.monotonic() + 300
    while not _half_written(store):
        assert running.poll() is None, "the run ended before it could be interrupted"
        assert time.monotonic() < deadline, "no shard was ever half written"
        time.sleep(0.05)
    return psutil.Process(running.pid).children(recursive=True)


def _kill_when_half_written(command: list[str], store: OutputStore) -> list[psutil.Process]:
    """Run `command` and kill it outright once a shard is half written; the processes it had started."""
    crashing = subprocess.Popen(command, cwd=REPO_ROOT, env=_environment(), stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
    try:
        started = _wait_until_half_written(crashing, store)
        crashing.send_signal(signal.SIGKILL)
    finally:
        crashing.kill()
        crashing.wait()
    return started


def _run_to_end(command: list[str]) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=REPO_ROOT, env=_environment(), capture_output=True, text=True,
                          timeout=600)


def _assert_the_next_run_completes_the_output(inputs: Path, output: Path) -> None:
    completed = _run_to_end(_command(inputs, output, "completed"))
    assert completed.returncode == 0, completed.stderr
    documents = read_output(output, "documents")
    assert len(documents) == N_DOCUMENTS and documents["doc_id"].is_unique
    _assert_no_reader_sees_uncommitted_rows(output)


def _assert_every_process_ended(started: list[psutil.Process]) -> None:
    _, left_running = psutil.wait_procs(started, timeout=60)
    assert left_running == []


def _assert_interrupted_in_one_line(running: subprocess.Popen, errors: str) -> None:
    """The run ended by Ctrl-C with its status and one line, without a traceback."""
    assert running.returncode == INTERRUPTED_STATUS
    assert "Traceback" not in errors
    assert errors.strip().splitlines()[-1].startswith("interrupted: the shards committed so far stay")


@pytest.mark.slow
def test_killed_run_is_completed_by_the_next_one(corpus: tuple[Path, Path]):
    inputs, output = corpus
    store = OutputStore(output)

    # Two workers: the pool's process must end with the run that started it.
    started = _kill_when_half_written(
        _command(inputs, output, "crashed", pause_before_commit=2) + ["--workers", "2"], store)
    assert started, "the run had started no pool process"
    _assert_every_process_ended(started)
    committed_before = len(read_output(output, "documents"))
    assert 0 < committed_before < N_DOCUMENTS
    assert _half_written(store)  # the interrupted shard's rows are on disk, uncommitted ...
    _assert_no_reader_sees_uncommitted_rows(output)   # ... and no reader sees them

    completed = _run_to_end(_command(inputs, output, "resumed"))
    assert completed.returncode == 0, completed.stderr
    assert f"already in the output: {plural(committed_before, 'document')} skipped" in completed.stdout

    documents = read_output(output, "documents")
    assert len(documents) == N_DOCUMENTS and documents["doc_id"].is_unique
    assert set(documents["source_path"]) == {str(path) for path in inputs.iterdir()}
    sentences = read_output(output, "sentences")
    paragraphs = read_output(output, "paragraphs")
    assert not sentences.duplicated(["doc_id", "para_id", "sent_id"]).any()
    assert not paragraphs.duplicated(["doc_id", "para_id"]).any()
    assert set(sentences["doc_id"]) == set(paragraphs["doc_id"]) == set(documents["doc_id"])
    per_document = sentences.groupby("doc_id").size()
    assert (documents.set_index("doc_id").loc[per_document.index, "n_sentences"] == per_document).all()
    assert set(documents["run_id"]) == {"crashed", "resumed"}
    assert not _half_written(store)
    leftovers = [path for dataset in DATASETS for path in (output / dataset).rglob("*")
                 if path.is_file() and not path.name.startswith("part-")]
    assert leftovers == []
    assert not any((output / STAGING_DIR).iterdir())
    assert read_output(output, "rejects").empty
    _assert_no_reader_sees_uncommitted_rows(output)


@pytest.mark.slow
def test_a_killed_pool_worker_ends_the_run_with_one_error_line_and_the_next_run_completes_it(
        corpus: tuple[Path, Path]):
    inputs, output = corpus
    running = subprocess.Popen(_command(inputs, output, "lost") + ["--workers", "2"], cwd=REPO_ROOT,
                               env=_environment(), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (workers := [child for child in psutil.Process(running.pid).children()
                               if "spawn_main" in " ".join(child.cmdline())]):
            assert running.poll() is None, "the run ended before its pool started"
            assert time.monotonic() < deadline, "no pool process started"
            time.sleep(0.02)
        workers[0].kill()   # as the out-of-memory killer would, while its first shard is pending
        _, errors = running.communicate(timeout=300)
    finally:
        running.kill()
        running.wait()
    assert running.returncode == 1
    assert "Traceback" not in errors
    last_line = errors.strip().splitlines()[-1]
    assert last_line.startswith("error: the process preparing shard ") and "ended abruptly" in last_line
    _assert_the_next_run_completes_the_output(inputs, output)


@pytest.mark.slow
def test_a_run_stopped_by_ctrl_c_says_so_in_one_line_and_the_next_run_completes_it(
        corpus: tuple[Path, Path]):
    inputs, output = corpus
    store = OutputStore(output)
    # Its own process group, which the terminal's Ctrl-C reaches as a whole: the pool's process too.
    command = _command(inputs, output, "stopped", pause_before_commit=2) + ["--workers", "2"]
    running = subprocess.Popen(command, cwd=REPO_ROOT, env=_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        started = _wait_until_half_written(running, store)
        os.killpg(running.pid, signal.SIGINT)
        _, errors = running.communicate(timeout=300)
    finally:
        running.kill()
        running.wait()
    _assert_interrupted_in_one_line(running, errors)
    _assert_every_process_ended(started)
    _assert_no_reader_sees_uncommitted_rows(output)
    _assert_the_next_run_completes_the_output(inputs, output)


@pytest.mark.slow
def test_ctrl_c_sent_to_the_command_alone_stops_the_pool_without_waiting_for_its_shard(
        corpus: tuple[Path, Path]):
    inputs, output = corpus
    pool_delay = 120   # each batch the pool cleans waits this long: no run ends before it unless stopped
    command = [sys.executable, str(SLOW_POOL_RUN), str(pool_delay),
               *_run_arguments(inputs, output, "stopped"), "--workers", "2"]
    running = subprocess.Popen(command, cwd=REPO_ROOT, env=_environment(), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    try:
        assert running.stderr is not None
        pool_starts = (line for line in running.stderr if "SpawnProcess" in line and ", ingest:" in line)
        pool_shard = int(re.search(r"shard (\d+)", next(pool_starts))[1])
        started = psutil.Process(running.pid).children(recursive=True)
        running.send_signal(signal.SIGINT)   # to the command's process alone, as `kill -INT` sends it
        _, errors = running.communicate(timeout=pool_delay / 2)
    finally:
        running.kill()
        running.wait()
    _assert_interrupted_in_one_line(running, errors)
    assert not RunWorkArea(output, "stopped").is_prepared(pool_shard)
    _assert_every_process_ended(started)
    _assert_the_next_run_completes_the_output(inputs, output)


@pytest.mark.slow
def test_killed_force_run_never_leaves_a_document_absent(corpus: tuple[Path, Path]):
    inputs, output = corpus
    store = OutputStore(output)
    first = _run_to_end(_command(inputs, output, "first"))
    assert first.returncode == 0, first.stderr

    _kill_when_half_written(_command(inputs, output, "forced", pause_before_commit=2) + ["--force"], store)
    documents = read_output(output, "documents")
    assert len(documents) == N_DOCUMENTS and documents["doc_id"].is_unique
    assert {"first", "forced"} >= set(documents["run_id"]) >= {"first"}
    _assert_no_reader_sees_uncommitted_rows(output)

    resumed = _run_to_end(_command(inputs, output, "resumed") + ["--force"])
    assert resumed.returncode == 0, resumed.stderr
    documents = read_output(output, "documents")
    assert len(documents) == N_DOCUMENTS and set(documents["run_id"]) == {"resumed"}
    _assert_no_reader_sees_uncommitted_rows(output)


def _snapshot_state(output: Path) -> dict[str, tuple]:
    """One snapshot read by pyarrow (pandas), DuckDB and Polars, checked complete: each reader's documents,
    and for each document as many sentences as it says, all from the document's own run."""
    snapshot = current_snapshot(output)
    documents = read_output(output, "documents", ["doc_id", "run_id", "n_sentences"], snapshot=snapshot)
    assert documents["doc_id"].is_unique and len(documents) == N_DOCUMENTS
    expected = Counter({(row.doc_id, row.run_id): row.n_sentences for row in documents.itertuples()})
    sentences = read_output(output, "sentences", ["doc_id", "run_id"], snapshot=snapshot)
    duck = duckdb.read_parquet(snapshot.files("sentences"), hive_partitioning=True).select("doc_id, run_id")
    polars = pl.scan_parquet(snapshot.files("sentences"), hive_partitioning=True).select("doc_id", "run_id")
    seen = {"pyarrow": Counter(zip(sentences["doc_id"], sentences["run_id"])),
            "duckdb": Counter(duck.fetchall()), "polars": Counter(polars.collect().iter_rows())}
    for reader, rows in seen.items():
        assert rows == expected, reader
    return tuple(sorted(set(documents["run_id"])))


@pytest.mark.slow
def test_readers_of_the_snapshot_see_only_complete_states_during_a_resharded_force_run(
        corpus: tuple[Path, Path]):
    inputs, output = corpus
    first = _run_to_end(_command(inputs, output, "first"))
    assert first.returncode == 0, first.stderr

    # The same documents again in shards of another size: each new shard replaces rows of several old parts.
    rewrite = subprocess.Popen(_command(inputs, output, "forced", pause_before_commit=0.3)
                               + ["--force", "--shard-size", "7"], cwd=REPO_ROOT, env=_environment(),
                               stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    states = Counter()
    try:
        while rewrite.poll() is None:
            states[_snapshot_state(output)] += 1
    finally:
        rewrite.kill()
        _, errors = rewrite.communicate()
    assert rewrite.returncode == 0, errors
    assert states[("first", "forced")] >= 3   # the readers polled while the rewrite was half done
    assert _snapshot_state(output) == ("forced",)
