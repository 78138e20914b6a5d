"""Model registry, resolution (store, Hugging Face cache, directories), errors, and `models` commands."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from project_paths import REPO_ROOT

from pipeline.models.registry import (DEFAULT_MODELS, FALLBACK_MODEL, ModelNotFound, ModelUnavailableError,
                                      Registry, fetch, locate, store_name)


@pytest.fixture(autouse=True)
def empty_hf_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Every test sees an empty Hugging Face cache and no hub, whatever this machine has."""
    import huggingface_hub.constants

    cache = tmp_path / "hf-cache"
    cache.mkdir()
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return cache


def test_defaults_and_fallback(tmp_path: Path) -> None:
    registry = Registry(tmp_path)
    arabic = registry.choice("ar")
    assert (arabic.spec, arabic.origin, arabic.explicit) == ("Helsinki-NLP/opus-mt-ar-en", "default", False)
    assert registry.choice("ZH").spec == "Helsinki-NLP/opus-mt-zh-en"
    assert registry.choice("pt").spec == "Helsinki-NLP/opus-mt-ROMANCE-en"
    persian = registry.choice("fa")
    assert (persian.spec, persian.origin) == (FALLBACK_MODEL, "fallback")
    assert {
        "ar",
        "zh",
        "fr",
        "es",
        "de",
        "ru",
        "ja",
        "ko",
        "it",
        "nl",
        "pl",
        "tr",
        "uk",
        "hi",
        "id",
        "vi",
        "ur",
    } <= set(DEFAULT_MODELS)


def test_registry_file_entries_are_explicit_and_can_disable_the_fallback(tmp_path: Path) -> None:
    (tmp_path / "registry.toml").write_text(
        '[models]\nar = "someone/better-ar-en"\nsw = "my-sw-en"\n\n[fallback]\nenabled = false\n',
        encoding="utf-8",
    )
    registry = Registry(tmp_path)
    assert (registry.choice("ar").spec, registry.choice("ar").origin) == ("someone/better-ar-en", "registry")
    assert registry.choice("ar").explicit
    assert registry.choice("sw").spec == "my-sw-en"
    assert registry.choice("fr").origin == "default"
    assert registry.choice("fa") is None


def test_shipped_registry_file_is_valid() -> None:
    registry = Registry(REPO_ROOT / "models")
    assert registry.fallback == FALLBACK_MODEL
    assert registry.choice("ar").spec == DEFAULT_MODELS["ar"]


def test_per_run_override_with_a_directory_wins(tmp_path: Path, tiny_model_dir: Path) -> None:
    (tmp_path / "registry.toml").write_text('[models]\nar = "someone/better-ar-en"\n', encoding="utf-8")
    registry = Registry(tmp_path, {"AR": str(tiny_model_dir)})
    choice = registry.choice("ar")
    assert (choice.spec, choice.origin, choice.hub_id) == (str(tiny_model_dir), "override", None)
    location = locate(choice.spec, tmp_path)
    assert location.where == "directory" and location.path == tiny_model_dir.resolve()
    assert len(location.revision) == 12 and location.revision == locate(choice.spec, tmp_path).revision
    assert location.identity == f"{tiny_model_dir}@{location.revision}"


def test_local_store_comes_before_the_cache(tmp_path: Path, tiny_model_dir: Path) -> None:
    stored = tmp_path / store_name("Helsinki-NLP/opus-mt-ar-en")
    shutil.copytree(tiny_model_dir, stored)
    location = locate("Helsinki-NLP/opus-mt-ar-en", tmp_path)
    assert (location.where, location.path, location.name) == (
        "store",
        stored.resolve(),
        "Helsinki-NLP/opus-mt-ar-en",
    )


def test_hugging_face_cache_snapshot_and_its_commit(
    tmp_path: Path, tiny_model_dir: Path, empty_hf_cache: Path
) -> None:
    commit = "0123456789abcdef0123456789abcdef01234567"
    repo = empty_hf_cache / "models--Helsinki-NLP--opus-mt-ar-en"
    shutil.copytree(tiny_model_dir, repo / "snapshots" / commit)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text(commit)
    location = locate("Helsinki-NLP/opus-mt-ar-en", tmp_path / "store")
    assert (location.where, location.revision) == ("hf-cache", commit)
    assert location.identity == f"Helsinki-NLP/opus-mt-ar-en@{commit}"


def test_missing_models_are_reported_not_downloaded_offline(tmp_path: Path) -> None:
    with pytest.raises(ModelNotFound, match="HF_HUB_OFFLINE"):
        locate("Helsinki-NLP/opus-mt-ar-en", tmp_path)
    with pytest.raises(ModelNotFound, match="not found"):
        locate(str(tmp_path / "no-such-dir"), tmp_path)


def test_fetch_offline_fails_with_one_clear_line(tmp_path: Path) -> None:
    with pytest.raises(ModelUnavailableError) as error:
        fetch("ar", tmp_path)
    message = str(error.value)
    assert "Helsinki-NLP/opus-mt-ar-en" in message and "connected machine" in message and "\n" not in message


def _cli(*args: str, env_extra: dict[str, str]) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), **env_extra}
    return subprocess.run(
        [sys.executable, "-m", "pipeline", "models", *args],
        cwd=REPO_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_cli_list_fetch_build_and_convert(tmp_path: Path, tiny_model_dir: Path, empty_hf_cache: Path) -> None:
    env = {"HF_HUB_OFFLINE": "1", "HF_HUB_CACHE": str(empty_hf_cache)}
    store = tmp_path / "store"
    shutil.copytree(tiny_model_dir, store / "opus-mt-fr-en")

    listed = _cli("--models-dir", str(store), "list", env_extra=env)
    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "store:" in lines["fr"] and str(store / "opus-mt-fr-en") in lines["fr"]
    assert "NOT AVAILABLE" in lines["ar"] and "models fetch ar" in lines["ar"]
    assert "first use" not in listed.stdout
    assert FALLBACK_MODEL in lines["*"]

    fetched = _cli("--models-dir", str(store), "fetch", "ar", env_extra=env)
    assert fetched.returncode == 1
    assert "Helsinki-NLP/opus-mt-ar-en" in fetched.stderr and len(fetched.stderr.strip().splitlines()) == 1

    built = _cli(
        "build-test-model",
        str(tmp_path / "built"),
        "--max-positions",
        "16",
        "--langs",
        "ar",
        "en",
        env_extra=env,
    )
    assert built.returncode == 0, built.stderr
    from transformers import MarianMTModel, MarianTokenizer

    model = MarianMTModel.from_pretrained(tmp_path / "built", use_safetensors=True)
    assert model.config.max_position_embeddings == 16
    assert MarianTokenizer.from_pretrained(tmp_path / "built")("مرحبا").input_ids[-1] == 0

    converted = _cli("convert", str(tmp_path / "built"), "--quantization", "int8", env_extra=env)
    assert converted.returncode == 0, converted.stderr
    ct2 = tmp_path / "built" / "ctranslate2-int8"
    assert {"model.bin", "source.spm", "target.spm"} <= {path.name for path in ct2.iterdir()}


def test_detection_candidates_follow_the_registry(tmp_path: Path) -> None:
    from pipeline.stages.detect import DEFAULT_LANGUAGES

    assert Registry(tmp_path).detection_languages() == DEFAULT_LANGUAGES   # the defaults, nothing else
    (tmp_path / "registry.toml").write_text('[models]\nsw = "my-sw-en"\n', encoding="utf-8")
    registry = Registry(tmp_path, {"sv": "some/sv-en"})
    assert registry.detection_languages() == DEFAULT_LANGUAGES | {"sv", "sw"}


def test_a_directory_with_a_stray_safetensors_file_is_not_a_model(
        tmp_path: Path, tiny_model_dir: Path) -> None:
    stray = tmp_path / "stray"
    shutil.copytree(tiny_model_dir, stray)
    (stray / "model.safetensors").rename(stray / "adapter.safetensors")
    with pytest.raises(ModelNotFound, match="no config.json with model.safetensors"):
        locate(str(stray), tmp_path)


@pytest.mark.parametrize("hub_env", [{"HF_HUB_OFFLINE": "1"},
                                     {"HF_HUB_OFFLINE": "0", "TRANSFORMERS_OFFLINE": "0",
                                      "HF_ENDPOINT": "http://127.0.0.1:9"}], ids=["offline", "unreachable"])
def test_cli_list_says_a_missing_model_is_not_available_offline_and_how_to_get_it(
        tmp_path: Path, empty_hf_cache: Path, hub_env: dict[str, str]) -> None:
    env = {"HF_HUB_CACHE": str(empty_hf_cache), **hub_env}
    listed = _cli("--models-dir", str(tmp_path), "list", env_extra=env)

    assert listed.returncode == 0, listed.stderr
    lines = {line.split()[0]: line for line in listed.stdout.splitlines()[1:]}
    assert "first use" not in listed.stdout
    state = "offline" if hub_env["HF_HUB_OFFLINE"] == "1" else "unreachable"
    assert lines["ar"].endswith(
        f"NOT AVAILABLE offline (not in the local store or the Hugging Face cache; the hub is {state}): get "
        f"it on a connected machine with `python -m pipeline models fetch ar`, then copy "
        f"{tmp_path}/opus-mt-ar-en/ here")
