"""Runs and their models: an override that cannot load stops the run before any document; detection
follows the run's registry; model loads are in the manifest."""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas
import pytest

from pipeline import cli
from pipeline.phases.runner import run
from pipeline.settings import RunSettings

SWEDISH = ["Kommunen bygger en ny simhall.", "Vi ses i morgon, hej då!",
           "Tåget till Göteborg är försenat."]


@pytest.fixture(autouse=True)
def offline(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hf-cache"))


def test_an_override_that_cannot_load_stops_the_run_before_any_document(
        tmp_path: Path, tiny_model_dir: Path, arabic_seed: Path, capsys) -> None:
    stray = tmp_path / "stray"
    shutil.copytree(tiny_model_dir, stray)
    (stray / "model.safetensors").rename(stray / "adapter.safetensors")
    output = tmp_path / "out"
    status = cli.main(["run", "--input", str(arabic_seed), "--output", str(output),
                       "--models-dir", str(tmp_path / "models"), "--model", f"ar={stray}"])
    error = capsys.readouterr().err.strip().splitlines()
    assert status == 1
    assert len(error) == 1 and error[0].startswith("error: ") and str(stray) in error[0]
    assert not list(output.glob("documents/**/*.parquet")) and not list(output.glob("rejects/*.parquet"))


def test_detection_follows_the_registry_of_the_run(tmp_path: Path, tiny_model_dir: Path) -> None:
    from pipeline.stages.translate_backends import release_engines

    release_engines()   # so that this run loads its model and counts the load
    inputs = tmp_path / "inputs"
    inputs.mkdir()
    (inputs / "sv.txt").write_text("\n\n".join(SWEDISH) + "\n", encoding="utf-8")
    settings = RunSettings(output=tmp_path / "out", run_id="sv", models_dir=tmp_path / "models",
                           model_overrides={"sv": str(tiny_model_dir)})
    summary = run([str(inputs)], settings)
    paragraphs = pandas.read_parquet(tmp_path / "out" / "paragraphs")
    assert list(paragraphs["src_lang"].astype(str)) == ["sv"] * len(SWEDISH)
    sentences = pandas.read_parquet(tmp_path / "out" / "sentences")
    assert set(sentences["status"]) == {"translated"}
    assert all(model.startswith(f"{tiny_model_dir}@") for model in sentences["model"])
    manifest = json.loads(Path(summary.manifest_path).read_text())
    assert manifest["translation"]["model_loads"] >= 1 and manifest["translation"]["model_load_seconds"] > 0
    assert manifest["hub"].startswith("offline")
