"""Allowed roots: a run reads, writes and loads models only inside the directories its settings allow."""
from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

import pytest
from project_paths import REPO_ROOT

from pipeline.airflow import config as airflow_config
from pipeline.cli import build_parser, settings_from_args
from pipeline.errors import ConfigurationError
from pipeline.phases.plan import plan_shards
from pipeline.roots import INPUT_SETTING, MODEL_SETTING, OUTPUT_SETTING, PathNotAllowedError
from pipeline.settings import RunSettings


@pytest.fixture()
def tree(tmp_path: Path) -> dict[str, Path]:
    """An allowed input, output and model directory, and a directory outside all of them."""
    paths = {name: tmp_path / name for name in ("inputs", "out", "models", "elsewhere")}
    for path in paths.values():
        path.mkdir()
    (paths["inputs"] / "a.txt").write_text("An allowed document about the harbour.", encoding="utf-8")
    (paths["elsewhere"] / "secret.txt").write_text("A private file.", encoding="utf-8")
    return paths


def restricted(tree: dict[str, Path], **changes) -> RunSettings:
    values = {"output": tree["out"] / "run", "run_id": "roots", "models_dir": tree["models"],
              "allowed_input_roots": [str(tree["inputs"])], "allowed_output_roots": [str(tree["out"])],
              "allowed_model_roots": [str(tree["models"])], **changes}
    return RunSettings(**values)


def test_paths_inside_the_roots_are_planned(tree: dict[str, Path]):
    shards = plan_shards([str(tree["inputs"])], restricted(tree))
    assert [Path(path).name for shard in shards for path in shard.inputs] == ["a.txt"]


@pytest.mark.parametrize("make_input", [
    lambda tree: tree["elsewhere"] / "secret.txt",                                    # outside
    lambda tree: tree["inputs"] / ".." / "elsewhere" / "secret.txt",                  # escapes with ..
    lambda tree: tree["elsewhere"] / "*.txt",                                         # glob outside
    lambda tree: tree["inputs"] / ".." / "nothing-*.txt",                             # matches nothing
], ids=["outside", "dot-dot", "glob", "pattern-matching-nothing"])
def test_an_input_outside_fails_the_run_at_once_naming_the_setting(tree: dict[str, Path], make_input):
    settings = restricted(tree)
    with pytest.raises(PathNotAllowedError, match=INPUT_SETTING):
        plan_shards([str(make_input(tree))], settings)
    assert not settings.output.exists()   # failed before anything was written


@pytest.mark.parametrize("how", ["named", "globbed"])
def test_a_link_that_resolves_outside_fails_the_run(tree: dict[str, Path], how: str):
    (tree["inputs"] / "passwd.txt").symlink_to(tree["elsewhere"] / "secret.txt")
    given = tree["inputs"] / ("passwd.txt" if how == "named" else "*.txt")
    with pytest.raises(PathNotAllowedError, match=rf"{INPUT_SETTING}.*") as raised:
        plan_shards([str(given)], restricted(tree))
    assert "secret.txt" in str(raised.value)


def test_a_link_out_of_a_walked_directory_is_a_reject_even_when_unrestricted(tree: dict[str, Path]):
    (tree["inputs"] / "passwd.txt").symlink_to(tree["elsewhere"] / "secret.txt")
    shards = plan_shards([str(tree["inputs"])], RunSettings(output=tree["out"] / "run", run_id="free"))
    assert [Path(path).name for shard in shards for path in shard.inputs] == ["a.txt"]
    assert [(Path(path).name, reason) for shard in shards for path, reason, _ in shard.rejects] == [
        ("passwd.txt", "outside_input")]


def test_output_and_models_outside_fail_naming_their_settings(tree: dict[str, Path]):
    with pytest.raises(PathNotAllowedError, match=OUTPUT_SETTING):
        plan_shards([str(tree["inputs"])], restricted(tree, output=tree["elsewhere"] / "run"))
    with pytest.raises(PathNotAllowedError, match=MODEL_SETTING):
        plan_shards([str(tree["inputs"])], restricted(tree, models_dir=tree["elsewhere"]))
    with pytest.raises(PathNotAllowedError, match=MODEL_SETTING):
        plan_shards([str(tree["inputs"])], restricted(tree, model_overrides={"ar": str(tree["elsewhere"])}))
    # A hub id is not a path: it is not checked against the roots.
    plan_shards([str(tree["inputs"])], restricted(tree, model_overrides={"ar": "Helsinki-NLP/opus-mt-ar-en"}))
    assert issubclass(PathNotAllowedError, ConfigurationError)   # the DAG's tasks fail without retry


def test_the_command_line_is_unrestricted_unless_the_environment_sets_roots(
        tree: dict[str, Path], monkeypatch: pytest.MonkeyPatch):
    arguments = ["run", "--input", str(tree["inputs"]), "--output", str(tree["out"])]
    for setting in (INPUT_SETTING, OUTPUT_SETTING, MODEL_SETTING):
        monkeypatch.delenv(setting.upper(), raising=False)
    free = settings_from_args(build_parser().parse_args(arguments))
    assert (free.allowed_input_roots, free.allowed_output_roots, free.allowed_model_roots) == (None,) * 3
    monkeypatch.setenv("MLP_ALLOWED_INPUT_ROOTS", f"{tree['inputs']}{os.pathsep}{tree['models']}")
    limited = settings_from_args(build_parser().parse_args(arguments))
    assert limited.allowed_input_roots == (str(tree["inputs"].resolve()), str(tree["models"].resolve()))


def test_the_command_line_exits_1_with_one_error_line(tree: dict[str, Path]):
    command = [sys.executable, "-m", "pipeline", "run", "--input", str(tree["elsewhere"]),
               "--output", str(tree["out"] / "run")]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MLP_ALLOWED_INPUT_ROOTS": str(tree["inputs"])}
    completed = subprocess.run(command, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert completed.returncode == 1
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and INPUT_SETTING in errors[0] and str(tree["elsewhere"]) in errors[0]
    assert not (tree["out"] / "run").exists()


@pytest.fixture()
def no_variables(monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    """Airflow Variables as a plain dict (no metadata database), and no roots in the environment."""
    from airflow.sdk import Variable

    variables: dict[str, str] = {}
    monkeypatch.setattr(Variable, "get", staticmethod(lambda key, default=None: variables.get(key, default)))
    for name in ("MLP_ALLOWED_INPUT_ROOTS", "MLP_ALLOWED_OUTPUT_ROOTS", "MLP_ALLOWED_MODEL_ROOTS",
                 "MLP_INBOX", "MLP_OUTPUT", "MLP_MODELS_DIR"):
        monkeypatch.delenv(name, raising=False)
    return variables


def test_the_dags_default_to_the_project_directories_and_the_temporary_directory(no_variables):
    roots = airflow_config.allowed_roots()
    temporary = tempfile.gettempdir()
    # The configured inbox, output and store are the project's own here: each root is listed once.
    assert roots[INPUT_SETTING] == [str(REPO_ROOT / "samples"), str(REPO_ROOT / "inbox"), temporary]
    assert roots[OUTPUT_SETTING] == [str(REPO_ROOT / "output"), temporary]
    assert roots[MODEL_SETTING] == [str(REPO_ROOT / "models"), temporary]
    params = {"input": ["samples"], "output": "/etc/cron.d", "translator": "marian", "device": "cpu",
              "num_beams": 1, "force": False}
    settings = airflow_config.manual_settings(params, "manual__1")
    with pytest.raises(PathNotAllowedError, match=OUTPUT_SETTING):
        plan_shards([str(REPO_ROOT / "samples")], settings)
    with pytest.raises(PathNotAllowedError, match=INPUT_SETTING):
        plan_shards(["/etc/passwd"], airflow_config.manual_settings({**params, "output": "output"}, "m2"))


def test_a_variable_sets_the_roots_of_the_dags(no_variables, tmp_path: Path):
    no_variables["mlp_allowed_input_roots"] = f"{tmp_path / 'a'},{tmp_path / 'b'}"
    assert airflow_config.allowed_roots()[INPUT_SETTING] == [str(tmp_path / "a"), str(tmp_path / "b")]
    settings = airflow_config.inbox_settings("scheduled__1")
    assert settings.allowed_input_roots == (str((tmp_path / "a").resolve()), str((tmp_path / "b").resolve()))


def test_a_root_named_twice_is_listed_once(tree: dict[str, Path]):
    twice = os.pathsep.join([str(tree["out"]), str(tree["out"]), str(tree["inputs"])])
    settings = restricted(tree, allowed_output_roots=twice)
    assert settings.allowed_output_roots == (str(tree["out"].resolve()), str(tree["inputs"].resolve()))
    with pytest.raises(PathNotAllowedError) as raised:
        plan_shards([str(tree["inputs"])],
                    restricted(tree, output=tree["elsewhere"], allowed_output_roots=twice))
    assert str(raised.value).count(str(tree["out"].resolve())) == 1


def test_an_input_outside_that_does_not_exist_is_said_to_be_both(tree: dict[str, Path]):
    absent = tree["elsewhere"] / "no-such-file.txt"
    with pytest.raises(PathNotAllowedError, match=f"input {absent} does not exist and is outside the "
                                                  f"allowed roots of {INPUT_SETTING}"):
        plan_shards([str(absent)], restricted(tree))
    with pytest.raises(PathNotAllowedError) as present:
        plan_shards([str(tree["elsewhere"] / "secret.txt")], restricted(tree))
    assert "does not exist" not in str(present.value)


def escaping_spec(models: Path, target: Path) -> str:
    """A relative model spec that starts inside the store and climbs out of it to `target`."""
    (models / "opus-mt-ar-en").mkdir(exist_ok=True)
    return os.path.join("opus-mt-ar-en", os.path.relpath(target, models / "opus-mt-ar-en"))


def test_a_relative_model_spec_climbing_out_of_the_store_fails_the_command_line(
        tree: dict[str, Path], tiny_model_dir: Path):
    spec = escaping_spec(tree["models"], tiny_model_dir)
    command = [sys.executable, "-m", "pipeline", "run", "--input", str(tree["inputs"]),
               "--output", str(tree["out"] / "run"), "--models-dir", str(tree["models"]),
               "--model", f"ar={spec}"]
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "MLP_ALLOWED_MODEL_ROOTS": str(tree["models"])}
    completed = subprocess.run(command, cwd=tree["out"], env=env, capture_output=True, text=True, timeout=300)
    assert completed.returncode == 1, completed.stderr[-2000:]
    errors = [line for line in completed.stderr.splitlines() if line.startswith("error:")]
    assert len(errors) == 1 and MODEL_SETTING in errors[0] and str(tree["models"]) in errors[0]
    assert not (tree["out"] / "run").exists()


def test_the_dags_model_check_refuses_a_relative_spec_climbing_out_of_the_store(
        tree: dict[str, Path], tiny_model_dir: Path):
    from pipeline.phases.plan import check_models

    settings = restricted(tree, model_overrides={"ar": escaping_spec(tree["models"], tiny_model_dir)})
    with pytest.raises(PathNotAllowedError, match=MODEL_SETTING):
        plan_shards([str(tree["inputs"])], settings)
    with pytest.raises(PathNotAllowedError, match=MODEL_SETTING):
        check_models(settings, load=False)


@pytest.mark.parametrize("spec", ["opus-mt-ar-en", "Helsinki-NLP/opus-mt-ar-en"], ids=["name", "hub-id"])
def test_a_link_inside_the_store_pointing_outside_is_refused(tree: dict[str, Path], tiny_model_dir: Path,
                                                             spec: str):
    from pipeline.phases.plan import check_models

    (tree["models"] / "opus-mt-ar-en").symlink_to(tiny_model_dir)
    with pytest.raises(PathNotAllowedError, match=MODEL_SETTING):
        check_models(restricted(tree, model_overrides={"ar": spec}), load=False)


def test_hub_ids_are_told_from_paths_by_their_form(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    from pipeline.models.registry import is_hub_id

    monkeypatch.chdir(tmp_path)
    (tmp_path / "Helsinki-NLP" / "opus-mt-ar-en").mkdir(parents=True)   # a directory of the same name
    assert is_hub_id("Helsinki-NLP/opus-mt-ar-en") and is_hub_id("Helsinki-NLP/opus-mt-ar-en@v1.0")
    for path in ["opus-mt-ar-en/../../../var/tmp/elsewhere", "owner/../name", "/models/ar", "./owner/name",
                 ".owner/name", "owner/name/more", "opus-mt-ar-en", "~/models/ar"]:
        assert not is_hub_id(path), path


@pytest.fixture()
def inbox_with_links(tree: dict[str, Path]) -> Path:
    """An inbox holding a good file, a link to a file outside it and a link to /etc/shadow."""
    inbox = tree["inputs"] / "inbox"
    inbox.mkdir()
    (inbox / "good.txt").write_text("A document that arrived in the inbox.", encoding="utf-8")
    (inbox / "elsewhere.txt").symlink_to(tree["elsewhere"] / "secret.txt")
    (inbox / "shadow.txt").symlink_to("/etc/shadow")
    return inbox


def test_new_arrivals_lists_links_without_following_them(inbox_with_links: Path):
    arrivals = airflow_config.new_arrivals(inbox_with_links, None)
    assert arrivals == [str(inbox_with_links.resolve() / name)
                        for name in ("elsewhere.txt", "good.txt", "shadow.txt")]


def test_an_inbox_run_rejects_links_out_of_the_inbox_and_goes_on(tree: dict[str, Path],
                                                                 inbox_with_links: Path):
    from pipeline.phases.runner import run
    from pipeline.store.reader import read_output

    settings = restricted(tree, allowed_input_roots=[str(tree["inputs"])])
    summary = run(airflow_config.new_arrivals(inbox_with_links, None), settings,
                  listed_from=str(inbox_with_links))
    assert summary.documents == 1
    rejects = read_output(settings.output, "rejects")
    assert sorted(zip(rejects["source_path"].map(lambda path: Path(path).name), rejects["reason"])) == [
        ("elsewhere.txt", "outside_input"), ("shadow.txt", "outside_input")]
    assert "A private file" not in read_output(settings.output, "paragraphs")["src_text"].str.cat()
