"""The hub path end to end, over the hub-protocol server of tests/helpers/hub_server.py: fetching, pinned
revisions, OPUS-MT weight layouts (safetensors, a conversion pull request, pickled weights only),
interrupted and hanging downloads, missing repositories, offline mode, and the main job's prefetch."""
from __future__ import annotations

import hashlib
import io
import json
import pickle
import threading
from pathlib import Path

import pytest

from pipeline import cli
from pipeline.models.hub import CONVERSION_BOT, SOURCE_FILE, hub_status, read_source
from pipeline.models.registry import ModelUnavailableError, fetch
from pipeline.phases.runner import run
from pipeline.settings import RunSettings

REPO = "Helsinki-NLP/opus-mt-ar-en"
ARABIC = ("أعلن المجلس البلدي اليوم عن خطة جديدة لتطوير الحدائق العامة في المدينة. "
          "وقال رئيس المجلس إن المشروع سيبدأ في الربيع المقبل.\n")


@pytest.fixture(scope="module")
def tiny_files(tiny_model_dir: Path) -> dict[str, bytes]:
    return {path.name: path.read_bytes() for path in tiny_model_dir.iterdir() if path.is_file()}


@pytest.fixture(scope="module")
def pickled_weights(tiny_model_dir: Path) -> bytes:
    """The tiny model's state dict as `torch.save` writes it (tied embeddings share one storage)."""
    import torch
    from transformers import MarianMTModel

    buffer = io.BytesIO()
    torch.save(MarianMTModel.from_pretrained(tiny_model_dir).state_dict(), buffer)
    return buffer.getvalue()


def _without_weights(files: dict[str, bytes]) -> dict[str, bytes]:
    return {name: data for name, data in files.items() if not name.endswith(".safetensors")}


def _arabic_input(tmp_path: Path) -> Path:
    inputs = tmp_path / "inputs"
    inputs.mkdir(exist_ok=True)
    (inputs / "news.txt").write_text(ARABIC, encoding="utf-8")
    return inputs


def _downloads(hub) -> list[str]:
    return [path for method, path, _ in hub.requests if method == "GET"]


def test_the_fixture_is_what_huggingface_hub_accepts(hub, tiny_files, tmp_path: Path) -> None:
    from huggingface_hub import hf_hub_download, snapshot_download

    main = hub.commit(REPO, tiny_files)
    tagged = hub.commit(REPO, {**tiny_files, "README.md": b"v1"}, ref="v1.0")
    pull = hub.pull_request(REPO, {**tiny_files, "extra.txt": b"pr"}, CONVERSION_BOT, "Adding safetensors")
    folder = Path(snapshot_download(REPO, cache_dir=tmp_path / "cache", endpoint=hub.url))
    assert folder.name == main
    assert {path.name: path.read_bytes() for path in folder.iterdir()} == tiny_files
    cache = tmp_path / "cache"
    readme = hf_hub_download(REPO, "README.md", revision="v1.0", cache_dir=cache, endpoint=hub.url)
    assert Path(readme).read_bytes() == b"v1" and tagged in readme
    by_commit = hf_hub_download(REPO, "README.md", revision=tagged, cache_dir=cache / "2", endpoint=hub.url)
    assert Path(by_commit).read_bytes() == b"v1"
    extra = hf_hub_download(REPO, "extra.txt", revision=f"refs/pr/{pull}", cache_dir=tmp_path / "cache",
                            endpoint=hub.url)
    assert Path(extra).read_bytes() == b"pr"
    # Weights went through the redirect to the other host, as large files do on the real hub.
    assert any(path.startswith("/cdn/") for path in _downloads(hub))


def test_models_fetch_then_the_run_translates_offline(hub, tiny_files, tmp_path: Path, capfd,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    commit = hub.commit(REPO, tiny_files)
    models = tmp_path / "models"
    assert cli.main(["models", "--models-dir", str(models), "fetch", "ar"]) == 0
    output = capfd.readouterr()
    assert output.out.strip().endswith("opus-mt-ar-en")
    assert "download: 100%" in output.err and "B/" in output.err and "<00:00" in output.err
    stored = models / "opus-mt-ar-en"
    assert (stored / "model.safetensors").read_bytes() == tiny_files["model.safetensors"]
    assert read_source(stored).commit == commit and not list(models.glob(".incoming-*"))

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    settings = RunSettings(output=tmp_path / "out", run_id="fetched", models_dir=models)
    summary = run([str(_arabic_input(tmp_path))], settings)
    manifest = json.loads(Path(summary.manifest_path).read_text())
    assert summary.translated > 0 and summary.untranslated == 0
    assert manifest["models"]["ar"] == [f"{REPO}@{commit}"]
    assert manifest["hub"].startswith("offline")


def test_pinned_revision_is_downloaded_on_first_use_and_recorded(hub, tiny_files, tmp_path: Path) -> None:
    pinned = hub.commit(REPO, tiny_files, ref="v1.0")
    hub.commit(REPO, {**tiny_files, "README.md": b"newer"})
    settings = RunSettings(output=tmp_path / "out", run_id="pinned", models_dir=tmp_path / "models",
                           model_overrides={"ar": f"{REPO}@v1.0"})
    summary = run([str(_arabic_input(tmp_path))], settings)
    manifest = json.loads(Path(summary.manifest_path).read_text())
    assert manifest["models"]["ar"] == [f"{REPO}@{pinned}"]
    assert manifest["hub"] == f"reachable ({hub.url})"
    assert read_source(tmp_path / "models" / "opus-mt-ar-en").requested == "v1.0"


def test_bin_on_main_takes_safetensors_from_the_conversion_pull_request(
        hub, tiny_files, pickled_weights, tmp_path: Path) -> None:
    main = hub.commit(REPO, {**_without_weights(tiny_files), "pytorch_model.bin": pickled_weights})
    stranger = hub.pull_request(REPO, {**tiny_files, "model.safetensors": b"not from the bot"},
                                "someone", "Adding safetensors")
    pull = hub.pull_request(REPO, {**_without_weights(tiny_files), "pytorch_model.bin": pickled_weights,
                                   "model.safetensors": tiny_files["model.safetensors"]},
                            CONVERSION_BOT, "Adding `safetensors` variant of this model")
    assert stranger != pull
    target = fetch("ar", tmp_path / "models")
    source = read_source(target)
    assert (source.commit, source.weights) == (main, "conversion-pr")
    assert source.weights_commit == hub.repos[REPO].refs[f"refs/pr/{pull}"]
    assert (target / "model.safetensors").read_bytes() == tiny_files["model.safetensors"]
    assert not (target / "pytorch_model.bin").exists()
    assert not any("pytorch_model.bin" in path for path in _downloads(hub))


def test_bin_only_is_converted_once_without_unpickling_objects(
        hub, tiny_files, pickled_weights, tiny_model_dir: Path, tmp_path: Path) -> None:
    import torch
    from transformers import MarianMTModel

    commit = hub.commit(REPO, {**_without_weights(tiny_files), "pytorch_model.bin": pickled_weights})
    target = fetch("ar", tmp_path / "models")
    source = read_source(target)
    assert (source.weights, source.commit) == ("converted-from-bin", commit)
    assert source.weights_sha256 == hashlib.sha256(pickled_weights).hexdigest()
    assert source.revision == f"{commit}+bin-{source.weights_sha256[:12]}"
    assert not (target / "pytorch_model.bin").exists()
    converted = MarianMTModel.from_pretrained(target, use_safetensors=True).state_dict()
    original = MarianMTModel.from_pretrained(tiny_model_dir).state_dict()
    assert converted.keys() == original.keys()
    assert all(torch.equal(converted[name], original[name]) for name in original)


class _Planted:
    """Unpickling this would create a file: the proof that arbitrary objects were not loaded."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (Path.touch, (self.marker,))


def test_a_pickle_that_holds_code_is_refused(hub, tiny_files, tmp_path: Path) -> None:
    import torch

    marker = tmp_path / "code-ran"
    planted = io.BytesIO()
    torch.save({"model.shared.weight": torch.zeros(2), "extra": _Planted(marker)}, planted)
    with pytest.raises(FileNotFoundError):
        pickle.loads(pickle.dumps(_Planted(tmp_path / "no-such-dir" / "x")))  # what unpickling would do
    hub.commit(REPO, {**_without_weights(tiny_files), "pytorch_model.bin": planted.getvalue()})
    with pytest.raises(ModelUnavailableError, match="refusing to load it"):
        fetch("ar", tmp_path / "models")
    assert not marker.exists()
    assert not (tmp_path / "models" / "opus-mt-ar-en").exists()


def test_a_repository_without_safetensors_or_bin_anywhere(hub, tiny_files, tmp_path: Path) -> None:
    hub.commit(REPO, _without_weights(tiny_files))
    hub.pull_request(REPO, _without_weights(tiny_files), CONVERSION_BOT, "an unrelated change")
    with pytest.raises(ModelUnavailableError, match="has neither model.safetensors"):
        fetch("ar", tmp_path / "models")
    assert not (tmp_path / "models" / "opus-mt-ar-en").exists()


def test_a_download_cut_mid_file_leaves_no_half_model_and_a_rerun_completes(
        hub, tiny_files, tmp_path: Path) -> None:
    hub.commit(REPO, tiny_files)
    hub.cut["model.safetensors"] = 1000     # every attempt of the first fetch breaks half-way
    models = tmp_path / "models"
    with pytest.raises(ModelUnavailableError, match="run the same command again"):
        fetch("ar", models)
    assert sum(1 for method, path, _ in hub.requests if path.startswith("/cdn/")) >= 1
    assert not (models / "opus-mt-ar-en").exists()
    hub.cut.clear()
    target = fetch("ar", models)
    assert (target / "model.safetensors").read_bytes() == tiny_files["model.safetensors"]
    assert sorted(path.name for path in models.iterdir()) == ["opus-mt-ar-en"]


def test_a_server_that_never_answers_fails_in_bounded_time(hub, tmp_path: Path,
                                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from hub_server import blackhole

    silent = blackhole()
    monkeypatch.setenv("HF_ENDPOINT", f"http://127.0.0.1:{silent.getsockname()[1]}")
    outcome: list[BaseException] = []

    def attempt() -> None:
        try:
            fetch("ar", tmp_path / "models")
        except BaseException as error:  # collected for the assertions below
            outcome.append(error)

    worker = threading.Thread(target=attempt, daemon=True)
    worker.start()
    worker.join(timeout=120)   # a guard against hanging, far above the 3 s reachability timeout
    silent.close()
    assert not worker.is_alive(), "the fetch hung on a server that never answers"
    assert isinstance(outcome[0], ModelUnavailableError)
    assert "unreachable" in str(outcome[0]) and "timed out" in str(outcome[0])


def test_a_missing_repository(hub, tiny_files, tmp_path: Path) -> None:
    hub.commit("Helsinki-NLP/opus-mt-fr-en", tiny_files)
    with pytest.raises(ModelUnavailableError, match=f"{REPO} does not exist"):
        fetch("ar", tmp_path / "models")
    # In a run, a default model that does not exist leaves its sentences untranslated, with a hint.
    settings = RunSettings(output=tmp_path / "out", run_id="missing", models_dir=tmp_path / "models")
    summary = run([str(_arabic_input(tmp_path))], settings)
    assert summary.translated == 0 and summary.untranslated > 0
    assert "models fetch ar" in summary.missing_models["ar"]


def test_offline_mode_never_contacts_the_hub(hub, tiny_files, tmp_path: Path,
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    hub.commit(REPO, tiny_files)
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelUnavailableError, match="offline"):
        fetch("ar", tmp_path / "models")
    assert hub_status().state == "offline"
    assert hub.requests == []


def test_reachability_is_decided_once_and_stated_in_the_manifest(
        hub, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub_server import refused_url

    import pipeline.models.hub

    probes: list[str] = []
    real_probe = pipeline.models.hub._probe
    monkeypatch.setattr(pipeline.models.hub, "_probe", lambda url: probes.append(url) or real_probe(url))
    monkeypatch.setenv("HF_ENDPOINT", refused_url())
    inputs = _arabic_input(tmp_path)
    french = "Le conseil municipal a voté le budget de la ville pour l'année prochaine.\n"
    (inputs / "fr.txt").write_text(french, encoding="utf-8")
    settings = RunSettings(output=tmp_path / "out", run_id="unreachable", models_dir=tmp_path / "models",
                           shard_size=1)
    summary = run([str(inputs)], settings)
    manifest = json.loads(Path(summary.manifest_path).read_text())
    assert len(probes) == 1      # two languages, two shards, one check
    assert manifest["hub"].startswith("unreachable") and "Hugging Face hub: unreachable" in summary.format()
    assert set(summary.missing_models) == {"ar", "fr"}


def test_prefetch_fetches_what_the_inputs_need_when_the_hub_is_reachable(
        hub, tiny_files, tmp_path: Path, capfd) -> None:
    commit = hub.commit(REPO, tiny_files)
    models = tmp_path / "models"
    inputs = _arabic_input(tmp_path)
    assert cli.main(["models", "--models-dir", str(models), "prefetch", "--input", str(inputs)]) == 0
    output = capfd.readouterr()
    assert "fetching 1 model(s)" in output.out and f"{REPO} (for ar)" in output.out
    assert "download: 100%" in output.err
    assert read_source(models / "opus-mt-ar-en").commit == commit
    assert cli.main(["models", "--models-dir", str(models), "prefetch", "--input", str(inputs)]) == 0
    assert "already available" in capfd.readouterr().out


def test_prefetch_runs_offline_when_the_hub_refuses_connections(
        hub, tiny_files, tmp_path: Path, capfd, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub_server import refused_url

    hub.commit(REPO, tiny_files)
    monkeypatch.setenv("HF_ENDPOINT", refused_url())
    models = tmp_path / "models"
    assert cli.main(["models", "--models-dir", str(models), "prefetch", "--input",
                     str(_arabic_input(tmp_path))]) == 0
    output = capfd.readouterr().out
    assert "is unreachable" in output and "running offline" in output
    assert "ar: Helsinki-NLP/opus-mt-ar-en: run `python -m pipeline models fetch ar`" in output
    assert not models.exists() or not any(models.iterdir())
    assert hub.requests == []


def test_source_file_records_the_commit(hub, tiny_files, tmp_path: Path) -> None:
    commit = hub.commit(REPO, tiny_files)
    target = fetch("ar", tmp_path / "models")
    recorded = json.loads((target / SOURCE_FILE).read_text())
    assert recorded == {"repo": REPO, "requested": "main", "commit": commit, "weights": "safetensors",
                        "weights_commit": commit, "weights_sha256": ""}
    hub.requests.clear()
    assert fetch("ar", tmp_path / "models") == target          # already there: nothing downloaded again
    assert [path for _, path, _ in hub.requests] == [f"/api/models/{REPO}/revision/main"]
