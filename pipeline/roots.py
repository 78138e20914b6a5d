"""Allowed roots: the directories a run may read inputs from, write output to and load models from.

Where several people trigger runs (the Airflow form accepts any path), a run must not read `/etc`,
write into `/root` or load a model from anywhere. Each kind of path has its own setting, a list of
directories; a path is allowed when it resolves (symbolic links followed) inside one of them. A path
outside fails the whole run at once with a message naming the setting: it is a configuration error,
which no retry heals. No setting (None) means unrestricted, the command line's default.

Directory walks never follow a link out of the input directory whatever these settings say (see
`pipeline.stages.ingest`): such a file is a reject, not a document.
"""
from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pipeline.errors import ConfigurationError

if TYPE_CHECKING:
    from pipeline.settings import RunSettings

INPUT_SETTING = "mlp_allowed_input_roots"
OUTPUT_SETTING = "mlp_allowed_output_roots"
MODEL_SETTING = "mlp_allowed_model_roots"
SETTINGS = (INPUT_SETTING, OUTPUT_SETTING, MODEL_SETTING)
_GLOB_CHARS = "*?["


class PathNotAllowedError(ConfigurationError):
    """A path of the run lies outside the allowed roots of its kind; the message names the setting."""


def env_name(setting: str) -> str:
    """The environment variable of a setting: `mlp_allowed_input_roots` -> `MLP_ALLOWED_INPUT_ROOTS`."""
    return setting.upper()


def parse_roots(value: str | Iterable[str] | None) -> tuple[str, ...] | None:
    """Roots from a setting's value: a list, or one string separated by `os.pathsep` or commas."""
    if value is None:
        return None
    if isinstance(value, str):
        value = [part for chunk in value.split(os.pathsep) for part in chunk.split(",")]
    # dict.fromkeys: a root named twice (the inbox Variable naming the default inbox) is shown once.
    roots = tuple(dict.fromkeys(os.path.realpath(os.path.expanduser(str(part).strip()))
                                for part in value if str(part).strip()))
    return roots or None


def roots_from_env(setting: str) -> tuple[str, ...] | None:
    """The roots of `setting` from its environment variable; None (unrestricted) when it is unset."""
    return parse_roots(os.environ.get(env_name(setting)) or None)


def _inside(path: str, roots: Sequence[str]) -> bool:
    return any(path == root or path.startswith(root.rstrip(os.sep) + os.sep) for root in roots)


def check_path(path: str | Path, roots: Sequence[str] | None, setting: str, what: str) -> None:
    """Raise PathNotAllowedError unless `path`, links resolved, lies inside one of `roots`."""
    if roots is None:
        return
    resolved = os.path.realpath(os.path.expanduser(os.fspath(path)))
    if not _inside(resolved, roots):
        shown = os.fspath(path) if resolved == os.path.abspath(os.fspath(path)) else f"{path} (-> {resolved})"
        # Allowing a missing input or model would only lead to a second error: say both at once. An output
        # directory is made by the run, so its absence is no news.
        absent = "" if setting == OUTPUT_SETTING or os.path.lexists(resolved) else " does not exist and"
        raise PathNotAllowedError(
            f"{what} {shown}{absent} is outside the allowed roots of {setting} ({os.pathsep.join(roots)}); "
            f"set the Airflow Variable {setting} or the environment variable {env_name(setting)} to allow it")


def static_prefix(pattern: str) -> str:
    """The directory part of a glob pattern before its first wildcard (the pattern itself if none)."""
    cut = min((pattern.find(char) for char in _GLOB_CHARS if char in pattern), default=-1)
    return pattern if cut < 0 else os.path.dirname(pattern[:cut]) or "."


def check_run(inputs: Iterable[str | Path], settings: RunSettings) -> None:
    """Check the output, the model store, the models given as directories and the input patterns."""
    check_path(settings.output, settings.allowed_output_roots, OUTPUT_SETTING, "output directory")
    check_path(settings.models_dir, settings.allowed_model_roots, MODEL_SETTING, "model store")
    from pipeline.models.registry import is_hub_id, spec_directory

    for lang, model in settings.model_overrides.items():
        if not is_hub_id(model):
            check_path(spec_directory(model, settings.models_dir), settings.allowed_model_roots,
                       MODEL_SETTING, f"model for {lang}")
    for pattern in inputs:
        check_path(static_prefix(os.path.expanduser(str(pattern))), settings.allowed_input_roots,
                   INPUT_SETTING, "input")
