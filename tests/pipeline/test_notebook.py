"""The example notebook runs top to bottom against a real output and shows what it promises."""
from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient
from project_paths import REPO_ROOT

from pipeline import read_output
from pipeline.phases.runner import run
from pipeline.settings import RunSettings

NOTEBOOK = REPO_ROOT / "examples" / "explore.ipynb"


def _text(cell) -> str:
    parts = []
    for output in cell.outputs:
        if output.output_type == "stream":
            parts.append(output.text)
        elif "data" in output and "text/plain" in output.data:
            parts.append(output.data["text/plain"])
    return "\n".join(parts)


@pytest.mark.slow
@pytest.mark.parametrize("found_by", ["environment", "project directory"])
def test_notebook_explores_an_output(tmp_path: Path, seeds_dir: Path, arabic_seed: Path, tiny_model_dir: Path,
                                     monkeypatch: pytest.MonkeyPatch, found_by: str):
    # "project directory": as `jupyter execute examples/explore.ipynb` runs it from a project's root, the
    # kernel in examples/ and no PIPELINE_OUTPUT.
    project = tmp_path / "project"
    (project / "examples").mkdir(parents=True)
    (project / "pyproject.toml").write_text("[project]\n")
    output = project / "output" if found_by == "project directory" else tmp_path / "out"
    empty = tmp_path / "empty.txt"
    empty.write_bytes(b"")
    settings = RunSettings(output=output, run_id="nb", models_dir=tmp_path / "models",
                           model_overrides={"ar": str(tiny_model_dir)})
    summary = run([str(arabic_seed), str(seeds_dir / "002_a4cd0184137e6532.txt"), str(empty)], settings)
    assert summary.documents == 2 and summary.translated > 0

    notebook = nbformat.read(NOTEBOOK, as_version=4)
    parameters = [cell for cell in notebook.cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(parameters) == 1 and "PIPELINE_OUTPUT" in parameters[0].source
    if found_by == "environment":
        monkeypatch.setenv("PIPELINE_OUTPUT", str(output))
    else:
        monkeypatch.delenv("PIPELINE_OUTPUT", raising=False)
    python_path = [str(REPO_ROOT), os.environ.get("PYTHONPATH", "")]
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, python_path)))
    client = NotebookClient(notebook, kernel_name="python3", timeout=300,
                            resources={"metadata": {"path": str(project / "examples")}})
    client.execute()

    code = [cell for cell in notebook.cells if cell.cell_type == "code"]
    outputs = "\n".join(_text(cell) for cell in code)
    assert f"2 documents, {summary.sentences} sentences in {output}" in outputs
    images = [output for cell in code for output in cell.outputs if "image/png" in output.get("data", {})]
    assert len(images) == 2   # sentences per language, lines by body score
    removed = read_output(output, "removed")
    assert f"{len(removed)} lines removed, " in outputs and "body_threshold 0.1: " in outputs
    assert f"of {summary.translated} translated sentences pass every quality check" in outputs
    assert "empty" in _text(code[-1]) and "translated" in _text(code[2])
    assert f"report of run nb: {output / 'runs' / 'nb.html'}" in outputs
