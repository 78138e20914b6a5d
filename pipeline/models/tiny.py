"""A MarianMT model with random weights, built offline, for tests, benchmarks and deployment checks.

It has the files and layout of an OPUS-MT model (``source.spm``, ``target.spm``, ``vocab.json``,
``tokenizer_config.json``, ``config.json``, ``model.safetensors``, ``generation_config.json``), so the
real loading code reads it exactly as it reads a downloaded model. Its output is meaningless text; it is
never a default model. The SentencePiece vocabulary is trained on ``tiny_model_corpus.txt``, shipped in
the package, so building needs no network.

It ships in the package, not beside the tests, because the installed package needs it: the documented
``python -m pipeline models build-test-model`` builds it where the pipeline is deployed, so a machine
without network or models can prove that its workers load a model and translate with it
(``scripts/check_distributed.py`` does so on a Celery deployment), and the benchmarks build the
OPUS-MT-size variant from it. Importing it costs nothing: torch and transformers load only when a model
is built.
"""

from __future__ import annotations

import io
import json
from importlib import resources
from pathlib import Path
from typing import Sequence

SEED = 1234
CORPUS_RESOURCE = "data/tiny_model_corpus.txt"

# d_model, encoder/decoder layers, heads, ffn, activation, scale_embedding, vocabulary size
_SIZES = {
    "tiny": dict(
        d_model=64,
        encoder_layers=2,
        decoder_layers=2,
        encoder_attention_heads=4,
        decoder_attention_heads=4,
        encoder_ffn_dim=128,
        decoder_ffn_dim=128,
        activation_function="swish",
        scale_embedding=True,
        # Wider than the usual 0.02 so that the output depends on the input.
        init_std=0.3,
    ),
    # The size of a real OPUS-MT model: for speed measurements, where the work per token must be real.
    "opus-mt-base": dict(
        d_model=512,
        encoder_layers=6,
        decoder_layers=6,
        encoder_attention_heads=8,
        decoder_attention_heads=8,
        encoder_ffn_dim=2048,
        decoder_ffn_dim=2048,
        activation_function="swish",
        scale_embedding=True,
    ),
}
_OPUS_MT_VOCAB_SIZE = 58_101


def corpus_lines(langs: Sequence[str] | None = None) -> list[str]:
    """Sentences of the shipped sample text, for the given languages (all when None)."""
    text = resources.files("pipeline").joinpath(CORPUS_RESOURCE).read_text(encoding="utf-8")
    wanted = {lang.lower() for lang in langs} if langs else None
    lines = []
    for line in text.splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        lang, _, sentence = line.partition("\t")
        if wanted is None or lang in wanted:
            lines.append(sentence)
    if not lines:
        raise ValueError(
            f"no sample text for languages {sorted(wanted or [])}; "
            f"available: {sorted({ln.split(chr(9))[0] for ln in text.splitlines() if chr(9) in ln})}"
        )
    return lines


def _train_sentencepiece(lines: list[str]) -> bytes:
    import sentencepiece as spm

    model = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(lines),
        model_writer=model,
        model_type="unigram",
        vocab_size=1000,
        hard_vocab_limit=False,
        character_coverage=1.0,
        num_threads=1,
        seed_sentencepiece_size=100_000,
        unk_id=0,
        bos_id=-1,
        eos_id=1,
        pad_id=-1,
        minloglevel=2,
    )
    return model.getvalue()


def _marian_vocab(spm_bytes: bytes, size: int | None) -> dict[str, int]:
    """OPUS-MT's layout: ``</s>`` 0, ``<unk>`` 1, the pieces, then ``<pad>`` last."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_proto=spm_bytes)
    pieces = [processor.id_to_piece(i) for i in range(processor.get_piece_size())]
    vocab = {"</s>": 0, "<unk>": 1}
    for piece in pieces:
        vocab.setdefault(piece, len(vocab))
    if size is not None:
        # Unused entries only widen the embedding and output layers to a real model's width.
        filler = 0
        while len(vocab) < size - 1:
            vocab.setdefault(f"▁unused{filler}", len(vocab))
            filler += 1
    vocab["<pad>"] = len(vocab)
    return vocab


def build_test_model(
    directory: Path, *, max_positions: int = 64, langs: Sequence[str] | None = None, size: str = "tiny"
) -> Path:
    """Build a deterministic random-weight MarianMT model (and tokenizer) into ``directory``.

    ``max_positions`` is the model's position table: an input or output longer than that fails, which
    makes a small value a strict test that callers split long inputs. ``langs`` picks the sample text
    the vocabulary is trained on. ``size="opus-mt-base"`` gives the architecture and vocabulary width of
    a real OPUS-MT model (about 75M parameters) for benchmarks.
    """
    if size not in _SIZES:
        raise ValueError(f"unknown size {size!r}; expected one of {sorted(_SIZES)}")
    if max_positions < 8:
        raise ValueError(f"max_positions must be at least 8, got {max_positions}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    spm_bytes = _train_sentencepiece(corpus_lines(langs))
    vocab = _marian_vocab(spm_bytes, _OPUS_MT_VOCAB_SIZE if size == "opus-mt-base" else None)
    _write_tokenizer(directory, spm_bytes, vocab, max_positions)
    _write_model(directory, len(vocab), vocab["<pad>"], max_positions, size)
    return directory


def _write_tokenizer(directory: Path, spm_bytes: bytes, vocab: dict[str, int], max_positions: int) -> None:
    """The files MarianTokenizer (and AutoTokenizer) load: one SentencePiece model for both sides."""
    for name in ("source.spm", "target.spm"):
        (directory / name).write_bytes(spm_bytes)
    (directory / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False, indent=1), encoding="utf-8")
    (directory / "tokenizer_config.json").write_text(
        json.dumps(
            {
                "tokenizer_class": "MarianTokenizer",
                "source_lang": "mul",
                "target_lang": "en",
                "model_max_length": max_positions,
                "separate_vocabs": False,
            },
            indent=1,
        ),
        encoding="utf-8",
    )


def _write_model(directory: Path, vocab_size: int, pad_id: int, max_positions: int, size: str) -> None:
    """Seeded random weights in OPUS-MT's layout (pad starts decoding, </s> is 0) and their decoding."""
    import torch
    from transformers import GenerationConfig, MarianConfig, MarianMTModel

    config = MarianConfig(
        vocab_size=vocab_size,
        decoder_vocab_size=vocab_size,
        max_position_embeddings=max_positions,
        pad_token_id=pad_id,
        decoder_start_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        share_encoder_decoder_embeddings=True,
        tie_word_embeddings=True,
        dropout=0.0,
        **_SIZES[size],
    )
    torch.manual_seed(SEED)
    MarianMTModel(config).eval().save_pretrained(directory, safe_serialization=True)
    GenerationConfig(
        decoder_start_token_id=pad_id,
        eos_token_id=0,
        forced_eos_token_id=0,
        pad_token_id=pad_id,
        bad_words_ids=[[pad_id]],
        max_length=max_positions,
        num_beams=1,
    ).save_pretrained(directory)
