"""An export described as a mapping (the JSON of the Airflow Variable `mlp_export`), and running it.

```json
{"format": "tmx", "to": "/data/bitext", "unit": "sentence", "require": ["numbers_match"], "dedup": true}
```
Keys: `format` and `to` (required); `unit`; `output` (default: the output whose sentences triggered the
run); the filters `min_len_ratio`, `max_len_ratio`, `require`, `no_flags`, `status`, `region`, `dedup`,
`lang` (a list, or a comma-separated string, where several values make sense).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from pipeline.export import FORMATS, UNITS
from pipeline.export.filters import ExportError, ExportFilters, parse_require

_FILTER_KEYS = ("min_len_ratio", "max_len_ratio", "require", "no_flags", "status", "region", "dedup", "lang")
_KEYS = ("format", "to", "unit", "output", *_FILTER_KEYS)


def _names(value: Any) -> frozenset[str]:
    values = [value] if isinstance(value, str) else list(value or ())
    return parse_require(str(item) for item in values)


@dataclass(frozen=True)
class ExportJob:
    fmt: str
    to: Path
    unit: str
    output: Path | None
    filters: ExportFilters

    @classmethod
    def from_mapping(cls, settings: Mapping[str, Any]) -> ExportJob:
        if not isinstance(settings, Mapping):
            raise ExportError(f"export settings must be a JSON object, got {type(settings).__name__}")
        unknown = sorted(set(settings) - set(_KEYS))
        if unknown:
            raise ExportError(f"unknown export setting(s): {', '.join(unknown)}; expected some of: "
                              f"{', '.join(_KEYS)}")
        missing = [key for key in ("format", "to") if not settings.get(key)]
        if missing:
            raise ExportError(f"export settings need {' and '.join(missing)}")
        if settings["format"] not in FORMATS or settings.get("unit", "sentence") not in UNITS:
            raise ExportError(f"format must be one of {', '.join(FORMATS)} and unit one of "
                              f"{', '.join(UNITS)}, got {settings['format']!r} and {settings.get('unit')!r}")
        filters = ExportFilters(
            min_len_ratio=settings.get("min_len_ratio"),
            max_len_ratio=settings.get("max_len_ratio"),
            require=_names(settings.get("require")),
            no_flags=bool(settings.get("no_flags", False)),
            statuses=_names(settings.get("status")) or frozenset({"translated"}),
            region=settings.get("region"),
            dedup=bool(settings.get("dedup", False)),
            langs=_names(settings.get("lang")),
        )
        output = settings.get("output")
        return cls(fmt=settings["format"], to=Path(settings["to"]), unit=settings.get("unit", "sentence"),
                   output=Path(output) if output else None, filters=filters)

    def targets(self, triggered_outputs: list[Path]) -> dict[Path, Path]:
        """Output directory -> directory its export goes to: `to` itself for one output, `to/<name>` for
        each of several (runs of different outputs that one scheduling round gathered)."""
        outputs = [self.output] if self.output is not None else sorted(set(triggered_outputs))
        if len(outputs) == 1:
            return {outputs[0]: self.to}
        return {output: self.to / output.name for output in outputs}
