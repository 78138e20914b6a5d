"""Benchmark of the text stages: language detection and sentence segmentation, with their targets.

    python benchmarks/bench_text_stages.py [--shared ../shared] [--limit N] [--scaling-mb 1,2,4,...]

Prints the exact-match rate of `split_sentences` per language on the Universal Dependencies dev cases
(independent of both libraries' authors) beside the pySBD and sentencex golden cases, the first
errors per language, segmentation throughput and its scaling on one long single-line paragraph;
then accuracy of `detect_language` per language on the UD dev sentences and the Lingua test files
(sentences, word pairs, single words), its single-call throughput on one core and the detectors'
memory. Figures only: nothing here is asserted.
"""
from __future__ import annotations

import argparse
import json
import resource
import regex
import sys
import time
from collections import defaultdict
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT))

from pipeline.stages.detect import detect_language  # noqa: E402
from pipeline.stages.detectors import load_detectors  # noqa: E402
from pipeline.stages.segment import sentence_spans, split_paragraphs, split_sentences  # noqa: E402

LANGID_KINDS = ("sentences", "word-pairs", "single-words")
LANGID_TARGETS = {"sentences": 98.5, "word-pairs": 90.0, "single-words": 75.0}
SENTENCES_PER_SECOND_TARGET = 3000
SEGMENT_TARGETS = {"ud_dev.json": 92.0, "pysbd_golden.json": 96.0, "sentencex_tests.json": 98.0}
UD_LANGUAGE_FLOOR = 85.0
UD_LANGID_TARGET = 98.0
UD_LANGID_TEXTS_PER_SECOND_TARGET = 5000
SEGMENT_MB_PER_SECOND_TARGET = 5.0
SCALING_RATIO_TARGET = 1.5
SCALING_REPEATS = 2
ERRORS_SHOWN = 5


def verdict(value: float, target: float) -> str:
    return "PASS" if value >= target else "MISS"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def read_lines(path: Path, limit: int | None) -> list[str]:
    lines = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return lines[:limit] if limit else lines


def bench_langid(shared: Path, limit: int | None) -> None:
    root = shared / "benchmarks" / "langid" / "lingua"
    languages = sorted(path.name for path in root.iterdir() if path.is_dir())
    rss_before = peak_rss_mb()
    start = time.perf_counter()
    load_detectors()
    print(f"\ndetectors loaded in {time.perf_counter() - start:.1f} s")
    bench_langid_ud(shared, limit)

    accuracy: dict[str, dict[str, float]] = defaultdict(dict)
    # CPU time of this single-threaded process: on a shared machine wall time also counts other loads.
    sentence_count, sentence_seconds, sentence_wall = 0, 0.0, 0.0
    for lang in languages:
        for kind in LANGID_KINDS:
            texts = read_lines(root / lang / f"{kind}.txt", limit)
            start, start_wall = time.process_time(), time.perf_counter()
            correct = sum(detect_language(text)[0] == lang for text in texts)
            elapsed, elapsed_wall = time.process_time() - start, time.perf_counter() - start_wall
            accuracy[kind][lang] = 100 * correct / len(texts)
            if kind == "sentences":
                sentence_count += len(texts)
                sentence_seconds += elapsed
                sentence_wall += elapsed_wall
    rss_after = peak_rss_mb()

    print("\n## Language detection, Lingua test files: accuracy (%) per language")
    print("| lang | " + " | ".join(LANGID_KINDS) + " |")
    print("|---|" + "---|" * len(LANGID_KINDS))
    for lang in languages:
        print(f"| {lang} | " + " | ".join(f"{accuracy[kind][lang]:.1f}" for kind in LANGID_KINDS) + " |")
    print("\n## Language detection, Lingua test files: targets")
    print("| figure | value | target | |")
    print("|---|---|---|---|")
    for kind in LANGID_KINDS:
        mean = sum(accuracy[kind].values()) / len(accuracy[kind])
        target = LANGID_TARGETS[kind]
        print(f"| mean accuracy, {kind} | {mean:.2f}% | >= {target}% | {verdict(mean, target)} |")
    rate = sentence_count / sentence_seconds
    print(f"| throughput, sentences, one thread (CPU time; wall: {sentence_count / sentence_wall:,.0f}/s) "
          f"| {rate:,.0f} texts/s | >= {SENTENCES_PER_SECOND_TARGET:,} "
          f"| {verdict(rate, SENTENCES_PER_SECOND_TARGET)} |")
    print(f"| peak RSS: before detectors / after | {rss_before:.0f} MB / {rss_after:.0f} MB "
          f"(detectors about {rss_after - rss_before:.0f} MB) | whole pipeline < 1500 MB | "
          f"{verdict(1500 - rss_after, 0)} |")


def bench_langid_ud(shared: Path, limit: int | None) -> None:
    """Accuracy and single-call throughput of detect_language on the UD dev sentences."""
    root = shared / "benchmarks" / "langid" / "ud_dev"
    texts_by_language = {path.stem: read_lines(path, limit) for path in sorted(root.glob("*.txt"))}
    accuracy, seconds, count = {}, [], sum(len(texts) for texts in texts_by_language.values())
    for lang, texts in texts_by_language.items():
        accuracy[lang] = 100 * sum(detect_language(text)[0] == lang for text in texts) / len(texts)
    # Throughput: every text once per repeat, each a separate call; the best of three repeats.
    for _ in range(3):
        start = time.process_time()
        for texts in texts_by_language.values():
            for text in texts:
                detect_language(text)
        seconds.append(time.process_time() - start)
    print("\n## Language detection, UD dev sentences: accuracy (%) per language")
    print("| " + " | ".join(accuracy) + " |")
    print("|" + "---|" * len(accuracy))
    print("| " + " | ".join(f"{value:.1f}" for value in accuracy.values()) + " |")
    mean = sum(accuracy.values()) / len(accuracy)
    rate = count / min(seconds)
    print("\n| figure | value | target | |")
    print("|---|---|---|---|")
    print(f"| mean accuracy, UD dev ({count} texts) | {mean:.2f}% | >= {UD_LANGID_TARGET}% "
          f"| {verdict(mean, UD_LANGID_TARGET)} |")
    print(f"| detect_language, one call per text, one core (CPU {min(seconds):.2f} s, best of 3) "
          f"| {rate:,.0f} texts/s | >= {UD_LANGID_TEXTS_PER_SECOND_TARGET:,} "
          f"| {verdict(rate, UD_LANGID_TEXTS_PER_SECOND_TARGET)} |")


def normalised(sentences: list[str]) -> list[str]:
    return [regex.sub(r"\s+", " ", sentence).strip() for sentence in sentences if sentence.strip()]


def segmentation_scores(cases: list[dict]) -> tuple[dict[str, list[int]], dict[str, list[tuple]]]:
    """Per language: [matches, cases] of split_sentences against the gold, and the mismatches."""
    per_language: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    errors: dict[str, list[tuple]] = defaultdict(list)
    for case in cases:
        got = normalised(split_sentences(case["text"], case["lang"]))
        expected = normalised(case["sentences"])
        per_language[case["lang"]][0] += got == expected
        per_language[case["lang"]][1] += 1
        if got != expected:
            errors[case["lang"]].append((expected, got))
    return per_language, errors


def scored_cases(root: Path, name: str) -> list[dict]:
    """The cases each file is scored on: UD's whose sentences all end in terminal punctuation,
    the golden files' that expect the text as given."""
    cases = json.loads((root / name).read_text(encoding="utf-8"))
    if name == "ud_dev.json":
        return [case for case in cases if case.get("punct_terminated")]
    return [case for case in cases if case.get("variant", "default") == "default"]


def rate(hits_and_total: list[int]) -> float:
    return 100 * hits_and_total[0] / hits_and_total[1]


def bench_sentences(shared: Path, scaling_mb: list[float]) -> None:
    root = shared / "benchmarks" / "sentences"
    names = ("ud_dev.json", "pysbd_golden.json", "sentencex_tests.json")
    scores, errors = {}, {}
    for name in names:
        scores[name], errors[name] = segmentation_scores(scored_cases(root, name))
    languages = sorted({lang for name in names for lang in scores[name]})
    print("## Sentence segmentation: exact match (%) of the whole sentence list per language "
          "(whitespace collapsed; cases in brackets)")
    print("| lang | UD dev (punct_terminated) | pySBD golden (default) | sentencex golden |")
    print("|---|---|---|---|")
    for lang in languages:
        cells = [f"{rate(scores[name][lang]):.1f} ({scores[name][lang][1]})" if lang in scores[name] else ""
                 for name in names]
        print(f"| {lang} | " + " | ".join(cells) + " |")

    print("\n## Sentence segmentation: targets")
    print("| file | figure | value | target | |")
    print("|---|---|---|---|---|")
    for name in names:
        target = SEGMENT_TARGETS[name]
        if name == "ud_dev.json":
            rates = {lang: rate(counts) for lang, counts in scores[name].items()}
            value = sum(rates.values()) / len(rates)
            figure = "mean of per-language rates"
            lowest = min(rates, key=rates.get)
            print(f"| {name} | lowest language ({lowest}) | {rates[lowest]:.1f}% | >= {UD_LANGUAGE_FLOOR}% "
                  f"| {verdict(rates[lowest], UD_LANGUAGE_FLOOR)} |")
        else:
            hits = sum(counts[0] for counts in scores[name].values())
            total = sum(counts[1] for counts in scores[name].values())
            value, figure = 100 * hits / total, f"all cases ({hits}/{total})"
        print(f"| {name} | {figure} | {value:.2f}% | >= {target}% | {verdict(value, target)} |")

    print(f"\n## Sentence segmentation: UD dev, first {ERRORS_SHOWN} errors per language")
    for lang in sorted(errors["ud_dev.json"]):
        print(f"\n### {lang}")
        for expected, got in errors["ud_dev.json"][lang][:ERRORS_SHOWN]:
            print(f"- expected: {expected}\n  got:      {got}")

    seeds = sorted((shared / "corpus" / "seeds").glob("*.txt"))
    text = "\n\n".join(path.read_text(encoding="utf-8") for path in seeds) * 10
    paragraphs = split_paragraphs(text)
    languages_of = ["ar" if regex.search(r"\p{Arabic}", paragraph) else "en" for paragraph in paragraphs]
    seconds = []
    for _ in range(3):
        start = time.process_time()
        for paragraph, lang in zip(paragraphs, languages_of):
            split_sentences(paragraph, lang)
        seconds.append(time.process_time() - start)
    mb_per_second = len(text.encode("utf-8")) / min(seconds) / 1e6
    print("\n## Sentence segmentation: speed (CPU time, one core, best of 3)")
    print("| figure | value | target | |")
    print("|---|---|---|---|")
    target = SEGMENT_MB_PER_SECOND_TARGET
    print(f"| seeds x10, per paragraph ({len(paragraphs)} paragraphs) | {mb_per_second:.1f} MB/s "
          f"| >= {target} MB/s | {verdict(mb_per_second, target)} |")
    bench_scaling(" ".join(text.split()), scaling_mb)


def bench_scaling(prose: str, sizes_mb: list[float]) -> None:
    """Seconds per MB of sentence_spans on one single-line paragraph of each size (seed prose repeated;
    CPU time, the better of two runs)."""
    if not sizes_mb:
        return
    print("\n## Sentence segmentation: one single-line paragraph, growing (CPU time, best of 2)")
    print("| size | seconds | seconds per MB | sentences |")
    print("|---|---|---|---|")
    per_mb = []
    unit = prose.encode("utf-8")
    sentence_spans(prose, "en")  # warm-up: caches and lazily compiled patterns
    for size in sizes_mb:
        paragraph = (unit * (int(size * 1e6) // len(unit) + 1))[:int(size * 1e6)].decode("utf-8", "ignore")
        timings = []
        for _ in range(SCALING_REPEATS):
            start = time.process_time()
            spans = sentence_spans(paragraph, "en")
            timings.append(time.process_time() - start)
        elapsed = min(timings)
        per_mb.append(elapsed / size)
        print(f"| {size:g} MB | {elapsed:.2f} | {elapsed / size:.3f} | {len(spans):,} |")
        del paragraph, spans
    ratio = max(per_mb) / min(per_mb)
    print(f"\nlargest / smallest seconds per MB: {ratio:.2f} (target <= {SCALING_RATIO_TARGET}: "
          f"{verdict(SCALING_RATIO_TARGET - ratio, 0)})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO_ROOT.parent / "shared",
                        help="the shared folder holding benchmarks/ and corpus/ (default: ../shared)")
    parser.add_argument("--limit", type=int, default=None,
                        help="texts per language and file for detection (default: all, up to 1000)")
    parser.add_argument("--scaling-mb", default="1,2,4,8,16,32,48",
                        help="sizes (MB) of the single-line paragraph for the scaling figure; '' to skip")
    args = parser.parse_args()
    # Detection first: its memory figure is the peak before and after loading the detectors, which the
    # long paragraphs of the scaling figure would otherwise set.
    bench_langid(args.shared, args.limit)
    bench_sentences(args.shared, [float(size) for size in args.scaling_mb.split(",") if size])


if __name__ == "__main__":
    main()
