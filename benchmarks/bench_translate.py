"""Translation speed: transformers vs CTranslate2, and the pipeline's Translator vs the raw engine call.

Uses a random-weight model with the real OPUS-MT architecture (d_model 512, 6+6 layers, 8 heads, ffn
2048, vocabulary 58k), built once into benchmarks/.work/, and a fixed output length (no early stop),
so every engine does the same work: a batch of 32 sources of 40 tokens, 64 target tokens each.
Each figure is the median of --repeats runs; on a shared machine compare figures of one run only.

    python benchmarks/bench_translate.py [--repeats 3] [--threads 2] [--beam]
    python benchmarks/bench_translate.py --device cuda     # on a GPU: the sweep of translate_sweep.py
    python benchmarks/bench_translate.py --device cpu --sweep --repeats 1   # its check on CPU (minutes)

`--device cuda` (or `--sweep`) runs translate_sweep.py instead: transformers fp16 against CTranslate2
float16 and int8_float16 (fp32, float32 and int8 on CPU) over real sentences, batch sizes and length
sorting swept, outputs held to 1.2x the source tokens; sentences/s, target tokens/s, GPU memory.
"""

from __future__ import annotations

import argparse
import datetime
import os
import statistics
import sys
import time
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))
WORK = REPO_ROOT / "benchmarks" / ".work"
MODEL_DIR = WORK / "opus-mt-base-random"
SEED_TEXT = REPO_ROOT.parent / "shared" / "corpus" / "seeds" / "000_03845748b57dba8f.txt"
BATCH, SOURCE_TOKENS, TARGET_TOKENS = 32, 40, 64
CT2_TARGET, OVERHEAD_TARGET = 1.8, 1.15


def build_model() -> Path:
    from pipeline.models.registry import convert_to_ctranslate2
    from pipeline.models.tiny import build_test_model

    if not (MODEL_DIR / "model.safetensors").is_file():
        print(f"building {MODEL_DIR} ...", flush=True)
        build_test_model(MODEL_DIR, max_positions=512, size="opus-mt-base")
    for quantization in ("float32", "int8"):
        if not (MODEL_DIR / f"ctranslate2-{quantization}" / "model.bin").is_file():
            convert_to_ctranslate2(MODEL_DIR, quantization)
    return MODEL_DIR


def source_sentences() -> list[str]:
    """32 texts of exactly 40 source tokens, cut from a real Arabic document."""
    import sentencepiece as spm

    processor = spm.SentencePieceProcessor(model_file=str(MODEL_DIR / "source.spm"))
    text = " ".join(SEED_TEXT.read_text(encoding="utf-8").split()) if SEED_TEXT.is_file() else ""
    pieces = processor.encode(text * 4, out_type=str)
    windows = [pieces[i:i + SOURCE_TOKENS] for i in range(0, len(pieces) - SOURCE_TOKENS, SOURCE_TOKENS)]
    if len(windows) < BATCH:
        raise SystemExit(f"seed text {SEED_TEXT} is missing or too short")
    return [processor.decode_pieces(window) for window in windows[:BATCH]]


def median_seconds(cases: dict, repeats: int) -> dict[str, float]:
    """Median time of each case; the cases take turns, so a load change on the machine hits all alike."""
    for run in cases.values():
        run()  # warm-up: first-call allocations and lazy initialisation are not what is measured
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeats):
        for name, run in cases.items():
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
    return {name: statistics.median(values) for name, values in times.items()}


def run_sweep(args) -> int:
    import ctranslate2
    import torch

    from translate_sweep import sweep

    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    build_model()
    cuda = args.device == "cuda"
    sentences = args.sentences or (4096 if cuda else 16)
    batch_sizes = args.batch_sizes or ([16, 32, 64, 128, 256] if cuda else [8])
    device_name = torch.cuda.get_device_name() if cuda else f"{os.cpu_count()} CPUs, {args.threads} threads"
    print(f"# {datetime.datetime.now().isoformat(timespec='minutes')}  {device_name}; {sentences} UD dev "
          f"sentences, outputs 1.2x the longest source of each batch, median of {args.repeats}; "
          f"torch {torch.__version__}, ctranslate2 {ctranslate2.__version__}", flush=True)
    sweep(MODEL_DIR, args.device, args.threads, sentences, batch_sizes, args.repeats)
    return 0


def main() -> int:
    args = parse_args()
    if args.sweep or args.device == "cuda":
        return run_sweep(args)
    return run_fixed_batch(args)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--beam", action="store_true", help="also time beam search (4 beams)")
    parser.add_argument("--device", choices=("cpu", "cuda"), default="cpu",
                        help="cuda runs the sweep (the fixed-batch comparison is CPU only)")
    parser.add_argument("--sweep", action="store_true", help="the sweep of translate_sweep.py on --device")
    parser.add_argument("--sentences", type=int, default=None, help="sweep: sentences (cuda 4096, cpu 16)")
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=None,
                        help="sweep: batch sizes (cuda 16 32 64 128 256, cpu 8)")
    return parser.parse_args()


def run_fixed_batch(args: argparse.Namespace) -> int:
    """The fixed batch on CPU: engines, then the pipeline's Translator against the raw engine call."""
    import ctranslate2
    import torch
    from transformers import MarianMTModel, MarianTokenizer

    from pipeline.stages.translate import TranslationSettings, Translator

    torch.set_num_threads(args.threads)
    build_model()
    sentences = source_sentences()
    target_tokens = BATCH * TARGET_TOKENS
    print(
        f"# {datetime.datetime.now().isoformat(timespec='minutes')}  {os.cpu_count()} CPUs, "
        f"{args.threads} threads, batch {BATCH} x {SOURCE_TOKENS} source -> {TARGET_TOKENS} target tokens, "
        f"median of {args.repeats}; torch {torch.__version__}, ctranslate2 {ctranslate2.__version__}"
    )

    tokenizer = MarianTokenizer.from_pretrained(MODEL_DIR)
    model = MarianMTModel.from_pretrained(MODEL_DIR, use_safetensors=True).eval()
    encoded = tokenizer(sentences, return_tensors="pt", padding=True)

    def transformers_run(beams: int):
        def run():
            with torch.inference_mode():
                model.generate(
                    **encoded,
                    num_beams=beams,
                    max_new_tokens=TARGET_TOKENS,
                    min_new_tokens=TARGET_TOKENS,
                    forced_eos_token_id=None,
                    max_length=None,
                )

        return run

    source_tokens = [tokenizer.convert_ids_to_tokens(ids) for ids in tokenizer(sentences).input_ids]
    ct2 = {
        q: ctranslate2.Translator(
            str(MODEL_DIR / f"ctranslate2-{q}"), device="cpu", inter_threads=1, intra_threads=args.threads
        )
        for q in ("float32", "int8")
    }

    def ct2_run(quantization: str, beams: int):
        def run():
            ct2[quantization].translate_batch(
                source_tokens,
                beam_size=beams,
                max_decoding_length=TARGET_TOKENS,
                min_decoding_length=TARGET_TOKENS,
                max_input_length=0,
            )

        return run

    cases = {
        "transformers fp32 greedy": transformers_run(1),
        "ctranslate2 float32 greedy": ct2_run("float32", 1),
        "ctranslate2 int8 greedy": ct2_run("int8", 1),
    }
    if args.beam:
        cases |= {
            "transformers fp32 beam 4": transformers_run(4),
            "ctranslate2 int8 beam 4": ct2_run("int8", 4),
        }
    # The pipeline's Translator on the same sentences, same output length, no cache.
    translators = {}
    for backend in ("marian", "ctranslate2"):
        settings = TranslationSettings(
            models_dir=WORK,
            model_overrides={"xx": str(MODEL_DIR)},
            translator=backend,
            device="cpu",
            threads=args.threads,
            fixed_output_tokens=TARGET_TOKENS,
        )
        translators[backend] = Translator(settings)
        cases[f"Translator {backend}"] = (lambda t: lambda: t.translate("xx", sentences))(
            translators[backend]
        )

    figures = median_seconds(cases, args.repeats)
    for name in cases:
        if not name.startswith("Translator"):
            print(f"{name:<34} {target_tokens / figures[name]:8.1f} target tokens/s")
    best_ct2 = min(figures["ctranslate2 float32 greedy"], figures["ctranslate2 int8 greedy"])
    ratio = figures["transformers fp32 greedy"] / best_ct2
    print(
        f"{'ctranslate2 / transformers (greedy)':<34} {ratio:8.2f}x   target >= {CT2_TARGET}x  "
        f"{'PASS' if ratio >= CT2_TARGET else 'MISS'}"
    )
    for backend, raw_name in (
        ("marian", "transformers fp32 greedy"),
        ("ctranslate2", "ctranslate2 int8 greedy"),
    ):
        assert translators[backend].stats.model_calls == args.repeats + 1, "one engine call per translate()"
        seconds = figures[f"Translator {backend}"]
        overhead = seconds / figures[raw_name]
        print(
            f"{'Translator ' + backend:<34} {target_tokens / seconds:8.1f} target tokens/s   "
            f"{overhead:5.2f}x the raw call (target <= {OVERHEAD_TARGET})  "
            f"{'PASS' if overhead <= OVERHEAD_TARGET else 'MISS'}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
