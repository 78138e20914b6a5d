"""The manual DAG's trigger form, generated from the run settings' one definition (pipeline.settings).

Optional fields say "null" in their type: the trigger form marks every field whose type lacks it as
required, and a field typed into and cleared again becomes null, which `manual_settings` reads as the
default.
"""
from __future__ import annotations

from typing import Any

from airflow.sdk import Param

from pipeline.airflow import config
from pipeline.models.registry import DEFAULT_MODELS
from pipeline.roots import INPUT_SETTING, OUTPUT_SETTING
from pipeline.settings import ENGLISH, LANGUAGE_CODE_PATTERN, OPTIONS, Option

_JSON_TYPES = {bool: "boolean", int: "integer", float: "number", str: "string"}
_BUILT_IN_LANGUAGES = ", ".join(sorted({*DEFAULT_MODELS, ENGLISH}))


def _bounds(option: Option) -> dict[str, Any]:
    if option.minimum is None and option.maximum is None:
        return {}
    # In an allOf, where the form's number field does not look for them: it would clamp 99 to 8 (or 1.5
    # to 1) without a word, whereas this way the value is refused when the run is triggered, with a
    # message that states the real bound ("99 is greater than the maximum of 8"), which exclusive bounds
    # would not ("the maximum of 9").
    kind = int if option.kind is int else float
    inner = {name: kind(value) for name, value in (("minimum", option.minimum), ("maximum", option.maximum))
             if value is not None}
    return {"allOf": [inner]}


def _allowed_roots(setting: str) -> str:
    """The directories a path field may name, as its description ends. Read when the DAG file is parsed,
    from the environment only (a Variable set later shows when the run is checked)."""
    roots = config.allowed_roots(variables=False)[setting]
    return f" Allowed under: {', '.join(roots)} (Variable {setting})."


def option_param(option: Option) -> Param:
    """The form field of one run setting."""
    description = f"{option.help} {option.empty_means}".strip()
    if option.kind is list:
        if option.name == "include_langs":
            description += (f" Known: {_BUILT_IN_LANGUAGES}, and the languages of models/registry.toml.")
        return Param(None, type=["null", "array"], items={"type": "string", "pattern": LANGUAGE_CODE_PATTERN},
                     uniqueItems=True, title=option.title, description=description)
    if option.choices:
        return Param(option.default, enum=list(option.choices), title=option.title, description=description)
    default = option.default if option.kind is bool else None
    if option.kind is int and option.default is not None:
        default = option.default
    return Param(default, type=["null", _JSON_TYPES[option.kind]], **_bounds(option), title=option.title,
                 description=description)


def manual_params() -> dict[str, Param]:
    """Every field of the trigger form, in the order the form shows them."""
    params = {
        "input": Param(
            [str(config.default_inbox_dir())],
            type="array",
            items={"type": "string", "minLength": 1},
            minItems=1,
            title="Input",
            description="Files, directories or glob patterns (.txt .md .html .jsonl), one per line. "
            "Relative paths are taken from the project directory. The default, the inbox, may be empty: "
            "the run then ends successfully with nothing to do." + _allowed_roots(INPUT_SETTING),
        ),
        "output": Param(
            str(config.default_output_dir()),
            type="string",
            minLength=1,
            title="Output directory",
            description="Where the Parquet datasets and the run manifest are written."
            + _allowed_roots(OUTPUT_SETTING),
        ),
        "models": Param(
            None,
            type=["null", "object"],
            propertyNames={"pattern": LANGUAGE_CODE_PATTERN},
            additionalProperties={"type": "string", "minLength": 1},
            title="Models",
            description="Model per source language, overriding the registry: "
            '{"ar": "Helsinki-NLP/opus-mt-ar-en"} or a local directory. Empty: the registry\'s models.',
        ),
    }
    params.update((option.name, option_param(option)) for option in OPTIONS)
    params["run_id"] = Param(
        None,
        type=["null", "string"],
        pattern=config.RUN_ID_PATTERN,
        title="Run id",
        description="Name of this run's manifest (letters, digits, . _ -). "
        "Empty: derived from the Airflow run id.",
    )
    return params
