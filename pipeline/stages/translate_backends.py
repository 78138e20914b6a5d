"""The two translation engines behind pipeline.stages.translate: transformers (MarianMT) and CTranslate2.

Both take texts already split under the model's length limit and return one English string each, in
order. Each engine is loaded once per process and shared (see :func:`load_engine`).
"""

from __future__ import annotations

import gc
import logging
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol, Sequence

from pipeline.settings import OPTION, Device, TranslatorKind

log = logging.getLogger(__name__)

CT2_PREFERENCE = {
    Device.CPU: ("int8", "int8_float32", "float32", "int8_float16", "float16"),
    Device.CUDA: ("float16", "int8_float16", "int8", "float32", "int8_float32"),
}
CT2_CONVERT_DEFAULT = {Device.CPU: "int8", Device.CUDA: "float16"}
_SPECIAL_TOKENS = frozenset({"</s>", "<unk>", "<pad>"})


@dataclass(frozen=True)
class Decoding:
    """How output is generated: beams, and (benchmarks only) an exact output length."""

    num_beams: int = OPTION["num_beams"].default
    fixed_output_tokens: int | None = None


class Engine(Protocol):
    max_source_tokens: int  # source pieces, not counting the end-of-sentence token
    max_target_tokens: int  # generated tokens, counting the end-of-sentence token
    decoding_key: str  # what besides the model changes the output (for the cache)

    def count_tokens(self, texts: Sequence[str]) -> list[int]: ...

    def translate_batch(
        self, texts: Sequence[str], max_new_tokens: Sequence[int], decoding: Decoding
    ) -> list[str]:
        """English for each text; ``max_new_tokens`` bounds each output (end-of-sentence included)."""


def resolve_device(device: str) -> Device:
    """`device` with AUTO resolved: CUDA when torch sees a GPU, else CPU."""
    if device not in tuple(Device):
        raise ValueError(f"device must be auto, cpu or cuda, got {device!r}")
    if device != Device.AUTO:
        return Device(device)
    import torch

    return Device.CUDA if torch.cuda.is_available() else Device.CPU


def _source_spm(model_dir: Path):
    import sentencepiece as spm

    return spm.SentencePieceProcessor(model_file=str(model_dir / "source.spm"))


def _max_positions(model_dir: Path) -> int:
    import json

    config = json.loads((model_dir / "config.json").read_text(encoding="utf-8"))
    return int(config["max_position_embeddings"])


class MarianEngine:
    """transformers' MarianMTModel.generate, fp16 on CUDA, under inference_mode."""

    def __init__(self, model_dir: Path, device: str, threads: int = 0):
        import torch
        from transformers import MarianMTModel, MarianTokenizer

        if threads:
            torch.set_num_threads(threads)
        self.device = device
        self.tokenizer = MarianTokenizer.from_pretrained(model_dir)
        model = MarianMTModel.from_pretrained(model_dir, use_safetensors=True)
        if device == Device.CUDA:
            model = model.half()
        self.model = model.to(device).eval()
        self._spm = _source_spm(model_dir)
        positions = _max_positions(model_dir)
        self.max_source_tokens = positions - 1
        self.max_target_tokens = positions
        self.decoding_key = f"{TranslatorKind.MARIAN}:{'fp16' if device == Device.CUDA else 'fp32'}"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self._spm.encode(list(texts))]

    def translate_batch(
        self, texts: Sequence[str], max_new_tokens: Sequence[int], decoding: Decoding
    ) -> list[str]:
        import torch

        encoded = self.tokenizer(list(texts), return_tensors="pt", padding=True)
        if encoded["input_ids"].shape[1] > self.max_source_tokens + 1:
            raise ValueError(
                f"input of {encoded['input_ids'].shape[1]} tokens exceeds the model's "
                f"{self.max_source_tokens + 1} positions"
            )
        longest = max(max_new_tokens)
        options: dict = {"num_beams": decoding.num_beams, "max_new_tokens": longest, "max_length": None}
        if decoding.fixed_output_tokens:
            options.update(min_new_tokens=longest, forced_eos_token_id=None)
        with torch.inference_mode():
            output = self.model.generate(**encoded.to(self.device), **options)
        eos = self.model.generation_config.eos_token_id
        rows = []
        for ids, limit in zip(output[:, 1:].tolist(), max_new_tokens):
            ids = ids[: ids.index(eos)] if eos in ids else ids
            rows.append(ids[: _content_tokens(limit, decoding)])
        return self.tokenizer.batch_decode(rows, skip_special_tokens=True)


def _content_tokens(max_new_tokens: int, decoding: Decoding) -> int:
    """Tokens of text within a budget: the last one is the forced end-of-sentence, unless fixed."""
    return max_new_tokens if decoding.fixed_output_tokens else max_new_tokens - 1


class CTranslate2Engine:
    """ctranslate2.Translator on a converted model directory (``<model>/ctranslate2-<type>/``)."""

    def __init__(self, ct2_dir: Path, device: str, threads: int = 0):
        import ctranslate2
        import sentencepiece as spm

        self.translator = ctranslate2.Translator(
            str(ct2_dir), device=device, compute_type="default", inter_threads=1, intra_threads=threads
        )
        self._source = _source_spm(ct2_dir)
        self._target = spm.SentencePieceProcessor(model_file=str(ct2_dir / "target.spm"))
        positions = _max_positions_ct2(ct2_dir)
        self.max_source_tokens = positions - 1
        self.max_target_tokens = positions
        self.decoding_key = f"{TranslatorKind.CTRANSLATE2}:{ct2_dir.name.removeprefix('ctranslate2-')}"

    def count_tokens(self, texts: Sequence[str]) -> list[int]:
        return [len(ids) for ids in self._source.encode(list(texts))]

    def translate_batch(
        self, texts: Sequence[str], max_new_tokens: Sequence[int], decoding: Decoding
    ) -> list[str]:
        tokens = [pieces + ["</s>"] for pieces in self._source.encode(list(texts), out_type=str)]
        # Each output is cut to its own budget, so a text's output does not depend on its batch.
        length = _content_tokens(max(max_new_tokens), decoding)
        results = self.translator.translate_batch(
            tokens,
            beam_size=decoding.num_beams,
            max_decoding_length=length,
            min_decoding_length=length if decoding.fixed_output_tokens else 1,
            max_input_length=0,
            max_batch_size=0,
        )
        # transformers' decode(skip_special_tokens=True) leaves these out; so must this, to agree with it.
        return [
            self._target.decode_pieces(
                [
                    token
                    for token in result.hypotheses[0][: _content_tokens(limit, decoding)]
                    if token not in _SPECIAL_TOKENS
                ]
            )
            for result, limit in zip(results, max_new_tokens)
        ]


def _max_positions_ct2(ct2_dir: Path) -> int:
    """The position table of the Marian model the conversion came from (its parent directory)."""
    for candidate in (ct2_dir.parent, ct2_dir):
        if (candidate / "config.json").is_file():
            try:
                return _max_positions(candidate)
            except KeyError:
                continue
    raise ValueError(f"cannot find max_position_embeddings for {ct2_dir}")


def find_ct2_directory(model_dir: Path, device: str) -> Path | None:
    from pipeline.models.registry import ct2_directory

    for quantization in CT2_PREFERENCE[device]:
        candidate = ct2_directory(model_dir, quantization)
        if (candidate / "model.bin").is_file():
            return candidate
    return None


# Engines loaded in this process, least recently used first (see load_engine).
_ENGINES: OrderedDict[tuple, Engine] = OrderedDict()
_LOCK = threading.Lock()


def _engine_key(translator: str, model_dir: Path, device: str, threads: int) -> tuple:
    return (translator, str(model_dir), device, threads)


def is_engine_loaded(translator: str, model_dir: Path, device: str, threads: int = 0) -> bool:
    return _engine_key(translator, model_dir, device, threads) in _ENGINES


def load_engine(translator: str, model_dir: Path, device: str, threads: int = 0,
                max_loaded: int | None = None) -> Engine:
    """The engine for a model directory (for CTranslate2, the converted directory), loaded once.

    With `max_loaded`, the least recently used engines are released first so that at most that many
    stay loaded in this process (an OPUS-MT model takes 0.3-0.5 GB on CPU).
    """
    key = _engine_key(translator, model_dir, device, threads)
    with _LOCK:
        if key in _ENGINES:
            _ENGINES.move_to_end(key)
            return _ENGINES[key]
        if max_loaded is not None and len(_ENGINES) >= max_loaded:
            while len(_ENGINES) >= max(1, max_loaded):
                released, _ = _ENGINES.popitem(last=False)
                log.info("released %s model %s to stay within %d loaded models", released[0], released[1],
                         max_loaded)
            gc.collect()
        if translator == TranslatorKind.MARIAN:
            engine: Engine = MarianEngine(model_dir, device, threads)
        elif translator == TranslatorKind.CTRANSLATE2:
            engine = CTranslate2Engine(model_dir, device, threads)
        else:
            raise ValueError(f"translator must be marian or ctranslate2, got {translator!r}")
        _ENGINES[key] = engine
        log.info("loaded %s model from %s on %s", translator, model_dir, device)
        return engine


def release_engines() -> None:
    """Release every loaded engine (tests and benchmarks start from nothing loaded)."""
    with _LOCK:
        _ENGINES.clear()
    gc.collect()
