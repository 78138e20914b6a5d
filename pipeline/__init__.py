"""multilingual-pipeline: raw documents in any language -> aligned bilingual Parquet.

The notebook API (`clean`, `split_paragraphs`, `split_sentences`, `detect_language`, `read_output`) is
loaded on first use (PEP 562): importing the package, as the Airflow DAG file does each time it is
parsed, loads none of the stages, their libraries or their compiled patterns.
"""
from __future__ import annotations

import importlib
import sys
from types import ModuleType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pipeline.clean import clean
    from pipeline.detect import detect_language
    from pipeline.reader import read_output
    from pipeline.segment import split_paragraphs, split_sentences

__version__ = "0.1.0"
# Each function of the notebook API, and the module that defines it.
_LAZY = {
    "clean": "pipeline.clean",
    "detect_language": "pipeline.detect",
    "read_output": "pipeline.reader",
    "split_paragraphs": "pipeline.segment",
    "split_sentences": "pipeline.segment",
}
__all__ = ["clean", "detect_language", "read_output", "split_paragraphs", "split_sentences"]


def __getattr__(name: str) -> Any:
    if name not in _LAZY:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    function = getattr(importlib.import_module(_LAZY[name]), name)
    globals()[name] = function  # found directly from now on
    return function


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY})


class _Package(ModuleType):
    """The package's module type: `pipeline.clean` stays the function of that name.

    Python binds a submodule to its package's attribute of the same name when the submodule is first
    imported, so `import pipeline.clean` anywhere (the runner does) would make `pipeline.clean` the
    module. The submodule stays reachable as it always is: `import pipeline.clean`, `from pipeline.clean
    import ...`, `sys.modules["pipeline.clean"]`.
    """

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _LAZY and isinstance(value, ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package
