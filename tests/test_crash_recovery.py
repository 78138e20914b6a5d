"""A run killed in the middle of writing a shard is completed by the next run, without duplicates."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.reader import read_output
from pipeline.runner import plural
from pipeline.schemas import DATASETS
from pipeline.write import PAUSE_BEFORE_COMMIT_ENV, OutputStore, key_of

REPO_ROOT = Path(__file__).resolve().parent.parent
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


def _command(inputs: Path, output: Path, run_id: str) -> list[str]:
    return [sys.executable, "-m", "pipeline", "run", "--input", str(inputs), "--output", str(output),
            "--run-id", run_id, "--shard-size", str(SHARD_SIZE),
            "--models-dir", str(output.parent / "models")]


def _half_written(store: OutputStore) -> bool:
    """At least one shard committed, and another one with sentences but no documents part yet."""
    committed = {key_of(path) for path in store.part_files("documents")}
    written = {key_of(path) for path in store.part_files("sentences")}
    return bool(committed) and bool(written - committed)


@pytest.mark.slow
def test_killed_run_is_completed_by_the_next_one(tmp_path: Path):
    inputs, output = tmp_path / "in", tmp_path / "out"
    _write_documents(inputs)
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    store = OutputStore(output)

    crashing = subprocess.Popen(_command(inputs, output, "crashed"), cwd=REPO_ROOT,
                                env={**env, PAUSE_BEFORE_COMMIT_ENV: "2"},
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 300
        while not _half_written(store):
            assert crashing.poll() is None, "the run ended before it could be interrupted"
            assert time.monotonic() < deadline, "no shard was ever half written"
            time.sleep(0.05)
        crashing.send_signal(signal.SIGKILL)
    finally:
        crashing.kill()
        crashing.wait()
    committed_before = len(read_output(output, "documents"))
    assert 0 < committed_before < N_DOCUMENTS
    assert _half_written(store)  # the interrupted shard's rows are on disk, uncommitted

    completed = subprocess.run(_command(inputs, output, "resumed"), cwd=REPO_ROOT, env=env,
                               capture_output=True, text=True, timeout=600)
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
    assert read_output(output, "rejects").empty
