"""JSON Lines: `<lang>-en.jsonl`, one object a pair, named like the Parquet columns."""
from __future__ import annotations

import json
from typing import IO

from pipeline.export.pairs import ExportReport, Pair
from pipeline.export.writer import PairWriter

# JSON leaves these raw inside strings, but str.splitlines() and some JSONL readers break lines on them.
_LINE_SEPARATORS = str.maketrans({"\x85": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"})


class JsonlWriter(PairWriter):
    def open(self, lang: str) -> IO[str]:
        return self.text_file(f"{self.stem(lang)}.jsonl")

    def write_pair(self, handle: IO[str], pair: Pair, report: ExportReport) -> None:
        record = {"doc_id": pair.doc_id, "para_id": pair.para_id}
        if pair.sent_id is not None:
            record["sent_id"] = pair.sent_id
        record.update(src_lang=pair.lang, src_text=pair.source, en_text=pair.english, model=pair.model,
                      run_id=pair.run_id)
        handle.write(json.dumps(record, ensure_ascii=False).translate(_LINE_SEPARATORS) + "\n")
        report.written[pair.lang] += 1
