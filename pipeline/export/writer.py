"""What every export format shares: one set of files per source language, opened on its first pair."""
from __future__ import annotations

from pathlib import Path
from typing import IO, Any

from pipeline.export.pairs import ExportReport, Pair, TARGET_LANG, source_side


class PairWriter:
    """Writes pairs as they come; `close` finishes every file and returns the paths written."""

    def __init__(self, to: Path, unit: str) -> None:
        self.to = to
        self.unit = unit
        self._handles: dict[str, Any] = {}
        self.files: list[Path] = []

    def write(self, pairs: list[Pair], report: ExportReport) -> None:
        for pair in pairs:
            handle = self._handles.get(pair.lang)
            if handle is None:
                handle = self._handles[pair.lang] = self.open(pair.lang)
            self.write_pair(handle, pair, report)

    def open(self, lang: str) -> Any:
        raise NotImplementedError

    def write_pair(self, handle: Any, pair: Pair, report: ExportReport) -> None:
        raise NotImplementedError

    def finish(self, lang: str, handle: Any, report: ExportReport) -> None:
        for stream in handle if isinstance(handle, tuple) else (handle,):
            stream.close()

    def close(self, report: ExportReport) -> list[Path]:
        for lang, handle in sorted(self._handles.items()):
            self.finish(lang, handle, report)
        self._handles.clear()
        return self.files

    def text_file(self, name: str) -> IO[str]:
        """A UTF-8 file of the export with "\\n" line ends whatever the platform."""
        path = self.to / name
        self.files.append(path)
        return path.open("w", encoding="utf-8", newline="\n")

    @staticmethod
    def stem(lang: str) -> str:
        return f"{lang}-{TARGET_LANG}"

    @staticmethod
    def sides(lang: str) -> tuple[str, str]:
        return source_side(lang), TARGET_LANG
