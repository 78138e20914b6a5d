"""Moses / OPUS plain text: `<lang>-en.<lang>` and `<lang>-en.en`, the pair's two sides on the same line
number, with `<lang>-en.ids` naming the row each line came from."""
from __future__ import annotations

from typing import IO

from pipeline.export.pairs import ExportReport, Pair
from pipeline.export.text import one_line
from pipeline.export.writer import PairWriter


class MosesWriter(PairWriter):
    def open(self, lang: str) -> tuple[IO[str], IO[str], IO[str]]:
        source, target = self.sides(lang)
        stem = self.stem(lang)
        return (self.text_file(f"{stem}.{source}"), self.text_file(f"{stem}.{target}"),
                self.text_file(f"{stem}.ids"))

    def write_pair(self, handle: tuple[IO[str], IO[str], IO[str]], pair: Pair, report: ExportReport) -> None:
        source_file, target_file, ids_file = handle
        source_file.write(one_line(pair.source, report.text_changes) + "\n")
        target_file.write(one_line(pair.english, report.text_changes) + "\n")
        sent = "" if pair.sent_id is None else pair.sent_id
        ids_file.write(f"{pair.doc_id}\t{pair.para_id}\t{sent}\n")
        report.written[pair.lang] += 1
