"""Two runs writing to one output directory at the same time lose nothing and duplicate nothing."""
from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from project_paths import HELPERS_DIR, REPO_ROOT

from pipeline.store.output import COMMIT_MARKER, STAGING_DIR, OutputStore
from pipeline.store.reader import read_output

PAUSING_RUN = HELPERS_DIR / "pausing_run.py"
DOCUMENTS_PER_RUN = 12


def _write_documents(directory: Path, prefix: str) -> None:
    directory.mkdir()
    for number in range(DOCUMENTS_PER_RUN):
        (directory / f"{prefix}_{number:02d}.txt").write_text(
            f"The {prefix} committee met for the {number + 1}th time on Monday. It approved a new plan.\n\n"
            f"Members of the {prefix} committee said that the plan would take {number + 3} months.",
            encoding="utf-8")


def _shard_in_flight(store: OutputStore) -> bool:
    """Sentences staged for a shard whose commit marker is not there yet."""
    staging = store.root / STAGING_DIR
    try:   # a shard directory may vanish while it is looked at
        return staging.is_dir() and any(
            not (shard / COMMIT_MARKER).exists() and any(shard.glob("sentences~*.parquet"))
            for shard in staging.iterdir())
    except FileNotFoundError:
        return False


@pytest.mark.slow
def test_parallel_runs_on_one_output(tmp_path: Path):
    output = tmp_path / "out"
    commands = []
    for prefix in ("harbour", "library"):
        inputs = tmp_path / prefix
        _write_documents(inputs, prefix)
        # A pause inside each commit keeps the first run's shard half written while the second one
        # starts, which is when a run clears what it takes for a crashed run's leftovers.
        commands.append([sys.executable, str(PAUSING_RUN), "1", "run", "--input", str(inputs), "--output",
                         str(output), "--run-id", prefix, "--shard-size", "3",
                         "--models-dir", str(tmp_path / "models")])
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    first = subprocess.Popen(commands[0], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
    store = OutputStore(output)
    deadline = time.monotonic() + 300
    while not _shard_in_flight(store):
        assert first.poll() is None and time.monotonic() < deadline, "the first run never wrote a shard"
        time.sleep(0.05)
    second = subprocess.Popen(commands[1], cwd=REPO_ROOT, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True)
    for run in (first, second):
        log, _ = run.communicate(timeout=600)
        assert run.returncode == 0, log

    documents = read_output(output, "documents")
    paragraphs = read_output(output, "paragraphs")
    assert len(documents) == 2 * DOCUMENTS_PER_RUN
    assert documents["doc_id"].is_unique
    assert set(documents["run_id"]) == {"harbour", "library"}
    assert not paragraphs.duplicated(["doc_id", "para_id"]).any()
    per_document = paragraphs.groupby("doc_id").size()
    assert per_document.reindex(documents["doc_id"]).tolist() == documents["n_paragraphs"].tolist()
