"""TMX 1.4b: `<lang>-en.tmx`, one `<tu>` a pair, valid against the DTD shipped beside this module
(`tmx14.dtd`, copied next to the files so that `xmllint --dtdvalid` and TMX tools find it)."""
from __future__ import annotations

import shutil
from datetime import datetime, timezone
from pathlib import Path
from importlib import resources
from typing import IO

from pipeline.export.pairs import ExportReport, Pair
from pipeline.export.writer import PairWriter

DTD_NAME = "tmx14.dtd"
CREATION_TOOL = "multilingual-pipeline"
# Text escapes "\r" too: a parser turns a raw carriage return into a line feed, so it would not round-trip.
_TEXT = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\r": "&#13;",
                            "\n": "&#10;", "\t": "&#9;"})


def dtd_text() -> str:
    return resources.files("pipeline.export").joinpath(DTD_NAME).read_text(encoding="utf-8")


def tmx_date(moment: datetime) -> str:
    """TMX's date form, YYYYMMDDThhmmssZ, in UTC."""
    return moment.astimezone(timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def _text(value: str) -> str:
    return value.translate(_TEXT)


def _attribute(value: str) -> str:
    return value.translate(_ATTRIBUTE)


class TmxWriter(PairWriter):
    def __init__(self, *args: object, filters: list[str] | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)
        self._filters = filters or []
        self._version = _package_version()

    def open(self, lang: str) -> IO[str]:
        source, _ = self.sides(lang)
        handle = self.text_file(f"{self.stem(lang)}.tmx")
        handle.write('<?xml version="1.0" encoding="UTF-8"?>\n'
                     f'<!DOCTYPE tmx SYSTEM "{DTD_NAME}">\n<tmx version="1.4">\n'
                     f'<header creationtool="{CREATION_TOOL}" creationtoolversion="{self._version}" '
                     f'segtype="{self.unit}" o-tmf="parquet" adminlang="en" srclang="{_attribute(lang)}" '
                     f'datatype="plaintext" creationdate="{tmx_date(datetime.now(timezone.utc))}">\n')
        for description in self._filters:
            handle.write(f'<prop type="x-filter">{_text(description)}</prop>\n')
        handle.write("</header>\n<body>\n")
        return handle

    def write_pair(self, handle: IO[str], pair: Pair, report: ExportReport) -> None:
        tuid = f"{pair.doc_id}/{pair.para_id}" + ("" if pair.sent_id is None else f"/{pair.sent_id}")
        created = "" if pair.created is None else f' creationdate="{tmx_date(pair.created)}"'
        model = "" if pair.model is None else f'<prop type="x-model">{_text(pair.model)}</prop>'
        handle.write(
            f'<tu tuid="{_attribute(tuid)}" creationid="{_attribute(pair.run_id)}"{created}>{model}'
            f'<tuv xml:lang="{_attribute(pair.lang)}"><seg>{_text(pair.source)}</seg></tuv>'
            f'<tuv xml:lang="en"><seg>{_text(pair.english)}</seg></tuv></tu>\n')
        report.written[pair.lang] += 1

    def finish(self, lang: str, handle: IO[str], report: ExportReport) -> None:
        handle.write("</body>\n</tmx>\n")
        handle.close()

    def close(self, report: ExportReport) -> list[Path]:
        files = super().close(report)
        if files:
            shutil.copyfile(str(resources.files("pipeline.export").joinpath(DTD_NAME)), self.to / DTD_NAME)
            files.append(self.to / DTD_NAME)
        return files


def _package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("multilingual-pipeline")
    except PackageNotFoundError:
        return "0"
