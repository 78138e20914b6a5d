"""The codes the output stores and the settings accept: their values are a contract with readers of the
Parquet datasets, the manifest and the trigger form, so each is spelled out here."""
from __future__ import annotations

import json

import pytest

from pipeline.models.registry import ModelOrigin, Registry
from pipeline.records import LanguageMethod, UntranslatedReason
from pipeline.settings import Device, RunSettings, SettingsError, TranslatorKind


def test_stored_codes_keep_their_values() -> None:
    assert {member.name: member.value for member in UntranslatedReason} == {
        "LANGUAGE_SKIPPED": "language_skipped",
        "LANGUAGE_NOT_INCLUDED": "language_not_included",
        "LANGUAGE_UNDETERMINED": "language_undetermined",
        "NO_MODEL_FOR_LANGUAGE": "no_model_for_language",
        "MODEL_NOT_AVAILABLE": "model_not_available",
        "NO_USABLE_MODEL": "no_usable_model",
        "EMPTY_SOURCE": "empty_source",
        "EMPTY_OUTPUT": "empty_output",
        "PARTIAL_TRANSLATION": "partial_translation",
    }
    assert [member.value for member in LanguageMethod] == ["detected", "inherited", "undetermined"]
    assert [member.value for member in ModelOrigin] == ["override", "registry", "default", "fallback"]


def test_setting_choices_keep_their_values() -> None:
    assert [member.value for member in TranslatorKind] == ["marian", "ctranslate2"]
    assert [member.value for member in Device] == ["auto", "cpu", "cuda"]


def test_settings_take_plain_strings_and_give_plain_strings_back(tmp_path) -> None:
    settings = RunSettings(output=tmp_path, run_id="r", translator="ctranslate2", device="cpu")
    assert settings.translator is TranslatorKind.CTRANSLATE2 and settings.device is Device.CPU
    data = settings.to_dict()
    # XCom and the manifest hold plain JSON: not an enum, which a serializer might write as an object.
    assert type(data["translator"]) is str and type(data["device"]) is str
    assert (data["translator"], data["device"]) == ("ctranslate2", "cpu")
    assert RunSettings.from_dict(json.loads(json.dumps(data))) == settings


@pytest.mark.parametrize("name, value", [("translator", "google"), ("device", "tpu"), ("device", None)])
def test_an_unknown_choice_is_refused_with_the_known_ones(tmp_path, name: str, value: object) -> None:
    with pytest.raises(SettingsError, match=f"{name} must be one of .*, got {value!r}"):
        RunSettings(output=tmp_path, run_id="r", **{name: value})


def test_untranslated_reasons_of_the_settings(tmp_path) -> None:
    skipping = RunSettings(output=tmp_path, run_id="r", skip_langs=frozenset({"fr"}))
    including = RunSettings(output=tmp_path, run_id="r", include_langs=frozenset({"de"}))
    assert skipping.untranslated_reason("fr") is UntranslatedReason.LANGUAGE_SKIPPED
    assert skipping.untranslated_reason("de") is None
    assert including.untranslated_reason("fr") is UntranslatedReason.LANGUAGE_NOT_INCLUDED


def test_model_origin_decides_what_is_explicit(tmp_path) -> None:
    registry = Registry(tmp_path, {"ar": "someone/ar-en"})
    override, default = registry.choice("ar"), registry.choice("fr")
    assert override is not None and default is not None
    assert (override.origin, override.explicit) == (ModelOrigin.OVERRIDE, True)
    assert (default.origin, default.explicit) == (ModelOrigin.DEFAULT, False)


def test_the_dataset_names_are_defined_once() -> None:
    from pipeline import records
    from pipeline.airflow import config as airflow_config
    from pipeline.store import schemas

    assert schemas.DATASETS is records.DATASETS and airflow_config.DATASETS is records.DATASETS
    assert tuple(schemas.SCHEMAS) == records.DATASETS == tuple(schemas.PARTITION_COLUMNS)
