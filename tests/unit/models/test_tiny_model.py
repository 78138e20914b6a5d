"""The tiny random-weight Marian model: offline, deterministic, loadable by the real loading code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.models.tiny import build_test_model, corpus_lines


def test_model_loads_with_the_real_classes(tiny_model_dir: Path) -> None:
    from transformers import AutoTokenizer, MarianMTModel, MarianTokenizer

    tokenizer = AutoTokenizer.from_pretrained(tiny_model_dir)
    model = MarianMTModel.from_pretrained(tiny_model_dir, use_safetensors=True)
    assert isinstance(tokenizer, MarianTokenizer)
    assert model.config.max_position_embeddings == 32
    ids = tokenizer(["عقدت اللجنة اجتماعها"], return_tensors="pt").input_ids
    assert ids[0, -1].item() == tokenizer.eos_token_id == 0
    assert tokenizer.unk_token_id not in ids[0].tolist()  # the vocabulary was trained on Arabic text
    assert not list(tiny_model_dir.glob("*.bin"))  # safetensors only


def test_vocabulary_has_the_opus_mt_layout(tiny_model_dir: Path) -> None:
    vocab = json.loads((tiny_model_dir / "vocab.json").read_text(encoding="utf-8"))
    config = json.loads((tiny_model_dir / "config.json").read_text(encoding="utf-8"))
    assert vocab["</s>"] == 0 and vocab["<unk>"] == 1
    assert vocab["<pad>"] == len(vocab) - 1 == config["pad_token_id"] == config["decoder_start_token_id"]
    assert sorted(vocab.values()) == list(range(len(vocab)))


def test_build_is_deterministic(tmp_path: Path) -> None:
    first = build_test_model(tmp_path / "a", max_positions=16, langs=["ar", "en"])
    second = build_test_model(tmp_path / "b", max_positions=16, langs=["ar", "en"])
    for name in ("model.safetensors", "source.spm", "vocab.json", "config.json"):
        assert (first / name).read_bytes() == (second / name).read_bytes(), name


def test_language_selection_of_the_sample_text() -> None:
    arabic = corpus_lines(["ar"])
    assert arabic and all(any("\u0600" <= ch <= "\u06ff" for ch in line) for line in arabic)
    assert len(corpus_lines()) > len(arabic)
    with pytest.raises(ValueError, match="no sample text"):
        corpus_lines(["xx"])
