"""The floor benchmark: what it times, and what it concludes from the times."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from project_paths import REPO_ROOT

# The benchmark scripts import each other by file name: a `benchmarks` package from pysbd shadows the folder.
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))

from bench_ab import compare_outputs, outputs_match  # noqa: E402
from bench_floor import LibraryClock, floor  # noqa: E402


def test_a_library_call_is_timed_once_however_deep_and_answers_as_before() -> None:
    clock = LibraryClock()
    inner = clock.wrap(lambda text: text.upper(), "inner")
    outer = clock.wrap(lambda text: inner(text) + "!", "outer")

    def failing() -> None:
        raise ValueError("no model")

    broken = clock.wrap(failing, "outer")
    assert outer("hello") == "HELLO!"
    assert inner("hi") == "HI"
    with pytest.raises(ValueError, match="no model"):
        broken()
    # The call inside `outer` counts in `outer` alone; the failed call counts, and the clock goes on.
    assert outer("again") == "AGAIN!"
    assert clock.tally["inner"][0] == 1
    assert clock.tally["outer"][0] == 3
    assert all(seconds >= 0 for _, seconds in clock.tally.values())


def test_the_floor_says_how_much_the_own_python_may_take_for_a_target() -> None:
    # 25 s in all, 5 of them in the libraries; the target allows 11 s: the rest may take 6 s of its 20.
    assert floor(25.0, 5.0, 11.0) == {"own_python_cpu_s": 20.0, "own_python_allowed_cpu_s": 6.0,
                                      "own_python_must_shrink": pytest.approx(20.0 / 6.0)}
    # The libraries alone take more than the target allows: no shrinking of the rest can meet it.
    assert floor(20.0, 12.0, 11.0)["own_python_must_shrink"] is None


def run_arguments(inputs: list[Path], output: Path, models: Path) -> list[str]:
    return ["run", "--input", *map(str, inputs), "--output", str(output), "--run-id", output.name,
            "--models-dir", str(models), "--include-lang", "en", "--workers", "1"]


def test_a_timed_run_writes_what_a_plain_run_writes_and_times_each_library(tmp_path: Path) -> None:
    inputs = tmp_path / "inputs"
    shutil.copytree(REPO_ROOT / "samples", inputs)
    # Too short for fastText to answer alone: lingua is asked.
    (inputs / "short_fr.txt").write_text("Il a dit que oui.\n", encoding="utf-8")
    models = tmp_path / "models"
    models.mkdir()
    environment = {**os.environ, "PYTHONPATH": str(REPO_ROOT)}
    plain, timed, tally = tmp_path / "plain", tmp_path / "timed", tmp_path / "tally.json"
    subprocess.run([sys.executable, "-m", "pipeline", *run_arguments([inputs], plain, models)],
                   cwd=REPO_ROOT, env=environment, check=True, capture_output=True)
    bench_floor = REPO_ROOT / "benchmarks" / "bench_floor.py"
    subprocess.run([sys.executable, str(bench_floor), "--timed-run", str(tally), "--",
                    *run_arguments([inputs], timed, models)],
                   cwd=REPO_ROOT, env=environment, check=True, capture_output=True)

    assert outputs_match(compare_outputs(plain, timed))
    libraries = json.loads(tally.read_text(encoding="utf-8"))
    for library in ("fastText", "lingua", "sentencex", "Parquet"):
        assert libraries[library]["calls"] > 0, library
        assert libraries[library]["cpu_s"] > 0, library
