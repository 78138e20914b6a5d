"""The before-and-after benchmark: it runs the version it names, and says where two outputs differ."""

from __future__ import annotations

import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from project_paths import REPO_ROOT

# The benchmark scripts import each other by file name: a `benchmarks` package from pysbd shadows the folder.
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from bench_ab import check_out, compare_outputs, outputs_match, version_environment  # noqa: E402


def write_dataset(output: Path, dataset: str, rows: list[dict], partition: str = "src_lang=en") -> None:
    folder = output / dataset / partition
    folder.mkdir(parents=True)
    pq.write_table(pa.Table.from_pylist(rows), folder / "part-1.parquet")


def test_outputs_are_told_equal_only_where_their_rows_are(tmp_path: Path) -> None:
    earlier, this = tmp_path / "earlier", tmp_path / "this"
    for output, run_id in ((earlier, "a"), (this, "b")):
        # run ids and times differ from run to run and are left out of the comparison
        write_dataset(output, "documents", [{"doc_id": doc_id, "run_id": run_id} for doc_id in ("d1", "d2")])
    write_dataset(earlier, "paragraphs", [{"doc_id": "d1", "src_text": "Hello."}])
    write_dataset(this, "paragraphs", [{"doc_id": "d1", "src_text": "Hello!"}])
    write_dataset(earlier, "sentences", [{"doc_id": "d1", "sent_id": 0}])
    write_dataset(this, "sentences", [{"doc_id": "d1", "sent_id": 0}, {"doc_id": "d1", "sent_id": 1}])
    write_dataset(earlier, "rejects", [{"source_path": "x.bin", "reason": "binary"}], partition="")

    verdicts = compare_outputs(earlier, this)
    assert verdicts == {
        "documents": "equal", "paragraphs": "1 rows each, different content", "sentences": "1 rows -> 2",
        "rejects": "written by the earlier version only", "removed": "absent from both"}
    assert not outputs_match(verdicts)
    assert outputs_match({"documents": "equal", "rejects": "absent from both"})


def test_a_run_from_a_folder_without_the_pipeline_is_refused(tmp_path: Path) -> None:
    assert version_environment(REPO_ROOT)["PYTHONPATH"] == str(REPO_ROOT)
    # From a folder that holds no `pipeline`, the run would import another copy: both versions the same.
    with pytest.raises(SystemExit, match="imports pipeline from|cannot import pipeline"):
        version_environment(tmp_path)


def test_a_revision_that_names_no_commit_is_refused() -> None:
    with pytest.raises(SystemExit, match="names no commit"):
        check_out("no-such-revision-here")
