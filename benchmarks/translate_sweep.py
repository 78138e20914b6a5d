"""Translation engines over real sentences: batch sizes and length sorting swept (bench_translate.py --sweep).

On CUDA: transformers fp16 against CTranslate2 float16 and int8_float16; on CPU: transformers fp32 against
CTranslate2 float32 and int8. The model is the random-weight OPUS-MT-size one of bench_translate.py.
Random weights never emit an end-of-sentence token, so each batch's outputs are held to 1.2 times its
longest source (in tokens), as a real model's batch runs until its longest output ends: sorting by
length then saves what it saves with a real model. Sources are UD dev sentences of every language of the
shared set, shuffled with a fixed seed. Figures per case: sentences/s, target tokens/s (tokens written,
padding steps excluded), and on CUDA the peak GPU memory in use above the level before the engine loaded
(sampled every 5 ms, so the CUDA caching allocators' reserve counts too).
"""

from __future__ import annotations

import math
import random
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

UD_SENTENCES = Path(__file__).resolve().parent.parent.parent / "shared" / "benchmarks" / "langid" / "ud_dev"
OUTPUT_RATIO = 1.2
MAX_SOURCE_TOKENS = 200
SEED = 20261205


@dataclass
class Batch:
    ids: list[list[int]]
    tokens: list[list[str]]
    target_tokens: int


def real_sentences(count: int) -> list[str]:
    """`count` UD dev sentences of all languages, shuffled with a fixed seed."""
    sentences = [line.strip() for path in sorted(UD_SENTENCES.glob("*.txt"))
                 for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    if not sentences:
        raise SystemExit(f"no sentences under {UD_SENTENCES}")
    random.Random(SEED).shuffle(sentences)
    return (sentences * math.ceil(count / len(sentences)))[:count]


def make_batches(tokenizer, sentences: list[str], batch_size: int, sort_by_length: bool) -> list[Batch]:
    """Token ids and pieces per batch, each batch's output length held to 1.2x its longest source."""
    encoded = [ids[:MAX_SOURCE_TOKENS] for ids in tokenizer(sentences).input_ids]
    order = range(len(encoded))
    if sort_by_length:
        order = sorted(order, key=lambda i: len(encoded[i]))
    ordered = [encoded[i] for i in order]
    batches = []
    for start in range(0, len(ordered), batch_size):
        ids = ordered[start:start + batch_size]
        batches.append(Batch(ids=ids, tokens=[tokenizer.convert_ids_to_tokens(row) for row in ids],
                             target_tokens=math.ceil(OUTPUT_RATIO * max(map(len, ids)))))
    return batches


class GpuMemorySampler:
    """Peak device memory in use while running, above `baseline` (torch's view of the whole device)."""

    def __init__(self, device: str):
        self.enabled = device == "cuda"
        self.peak = self.baseline = 0

    def used(self) -> int:
        import torch

        free, total = torch.cuda.mem_get_info()
        return total - free

    def __enter__(self):
        self.peak, self.running = 0, self.enabled
        self.thread = threading.Thread(target=self._sample, daemon=True)
        self.thread.start()
        return self

    def _sample(self):
        while self.running:
            self.peak = max(self.peak, self.used())
            time.sleep(0.005)

    def __exit__(self, *exc):
        self.running = False
        self.thread.join()


def transformers_engine(model_dir: Path, device: str, threads: int):
    import torch
    from transformers import MarianMTModel

    torch.set_num_threads(threads)
    model = MarianMTModel.from_pretrained(model_dir, use_safetensors=True).eval()
    if device == "cuda":
        model = model.half()
    model = model.to(device)
    pad = model.config.pad_token_id

    def translate(batch: Batch) -> int:
        width = max(map(len, batch.ids))
        input_ids = torch.tensor([row + [pad] * (width - len(row)) for row in batch.ids], device=device)
        mask = torch.tensor([[1] * len(row) + [0] * (width - len(row)) for row in batch.ids], device=device)
        with torch.inference_mode():
            model.generate(input_ids=input_ids, attention_mask=mask, num_beams=1, max_length=None,
                           max_new_tokens=batch.target_tokens, min_new_tokens=batch.target_tokens,
                           forced_eos_token_id=None)
        return batch.target_tokens * len(batch.ids)

    return translate, lambda: None


def ctranslate2_engine(model_dir: Path, device: str, threads: int, compute_type: str):
    import ctranslate2

    translator = ctranslate2.Translator(str(model_dir / "ctranslate2-float32"), device=device,
                                        compute_type=compute_type, inter_threads=1, intra_threads=threads)

    def translate(batch: Batch) -> int:
        translator.translate_batch(batch.tokens, beam_size=1, max_decoding_length=batch.target_tokens,
                                   min_decoding_length=batch.target_tokens, max_input_length=0)
        return batch.target_tokens * len(batch.ids)

    return translate, translator.unload_model


def engines_for(device: str) -> dict:
    if device == "cuda":
        return {"transformers fp16": ("transformers", None),
                "ctranslate2 float16": ("ctranslate2", "float16"),
                "ctranslate2 int8_float16": ("ctranslate2", "int8_float16")}
    return {"transformers fp32": ("transformers", None), "ctranslate2 float32": ("ctranslate2", "float32"),
            "ctranslate2 int8": ("ctranslate2", "int8")}


def time_case(translate, batches: list[Batch], repeats: int, sampler: GpuMemorySampler) -> float:
    """Median seconds over `repeats` passes through all batches, after a warm-up pass over the first."""
    import torch

    translate(batches[0])
    seconds = []
    with sampler:
        for _ in range(repeats):
            started = time.perf_counter()
            for batch in batches:
                translate(batch)
            if sampler.enabled:
                torch.cuda.synchronize()
            seconds.append(time.perf_counter() - started)
    return statistics.median(seconds)


def sweep(model_dir: Path, device: str, threads: int, sentences: int, batch_sizes: list[int],
          repeats: int) -> list[dict]:
    """Each engine loaded in turn, every batch size with and without length sorting; one row per case."""
    import gc

    import torch
    from transformers import MarianTokenizer

    tokenizer = MarianTokenizer.from_pretrained(model_dir)
    texts = real_sentences(sentences)
    rows = []
    for name, (kind, compute_type) in engines_for(device).items():
        sampler = GpuMemorySampler(device)
        sampler.baseline = sampler.used() if sampler.enabled else 0
        if kind == "transformers":
            translate, unload = transformers_engine(model_dir, device, threads)
        else:
            translate, unload = ctranslate2_engine(model_dir, device, threads, compute_type)
        for batch_size in batch_sizes:
            for sort_by_length in (False, True):
                batches = make_batches(tokenizer, texts, batch_size, sort_by_length)
                written = sum(b.target_tokens * len(b.ids) for b in batches)
                real = sum(math.ceil(OUTPUT_RATIO * len(row)) for b in batches for row in b.ids)
                seconds = time_case(translate, batches, repeats, sampler)
                rows.append({"engine": name, "batch": batch_size, "sorted": sort_by_length,
                             "seconds": seconds,
                             "sentences_per_s": len(texts) / seconds, "tokens_per_s": real / seconds,
                             "padding_share": 1 - real / written,
                             "gpu_mb": ((sampler.peak - sampler.baseline) / 2**20
                                        if sampler.enabled else None)})
                print_row(rows[-1], flush=True)
        unload()
        del translate
        gc.collect()
        if device == "cuda":
            torch.cuda.empty_cache()
    return rows


def print_row(row: dict, flush: bool = False) -> None:
    memory = f"{row['gpu_mb']:7.0f} MB GPU" if row["gpu_mb"] is not None else ""
    print(f"{row['engine']:<26} batch {row['batch']:4d} {'sorted' if row['sorted'] else 'as read':<8}"
          f"{row['sentences_per_s']:9.1f} sentences/s {row['tokens_per_s']:10.0f} target tokens/s "
          f"(padding steps {row['padding_share']:4.0%}) {memory}", flush=flush)
