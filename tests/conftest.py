"""Shared fixtures. Airflow reads its configuration at import, so its environment is set here first."""
from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

# The tests' own modules (a hub server, a run that pauses, shard runs, where things are), importable from
# every folder of tests.
sys.path.insert(0, str(Path(__file__).resolve().parent / "helpers"))

from project_paths import REPO_ROOT, SHARED_DIR  # noqa: E402

_AIRFLOW_HOME = Path(tempfile.mkdtemp(prefix="mlp-airflow-home-"))
os.environ.setdefault("AIRFLOW_HOME", str(_AIRFLOW_HOME))
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__DAGS_FOLDER", str(REPO_ROOT / "dags"))
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "False")
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
# The DAGs only read inputs under allowed roots; the tests read the shared seeds besides temporary files.
os.environ.setdefault("MLP_ALLOWED_INPUT_ROOTS", os.pathsep.join(
    [str(SHARED_DIR), str(REPO_ROOT / "samples"), tempfile.gettempdir()]))


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """The user's own sample documents (real scraped pages, Arabic and English)."""
    path = SHARED_DIR / "corpus" / "seeds"
    if not path.is_dir():
        pytest.fail(f"seed documents not found at {path}; set MLP_SHARED_DIR to the shared folder")
    return path


@pytest.fixture(scope="session")
def arabic_seed(seeds_dir: Path) -> Path:
    return seeds_dir / "000_03845748b57dba8f.txt"


@pytest.fixture(scope="session")
def benchmarks_dir() -> Path:
    return SHARED_DIR / "benchmarks"


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A MarianMT model with random weights and 32 positions, built once for the whole session.

    Its few positions make any unsplit long input fail loudly, so tests that translate through it also
    prove that inputs are chunked under the model's limit.
    """
    from pipeline.models.tiny import build_test_model

    target = tmp_path_factory.mktemp("tiny-marian") / "tiny-ar-en"
    build_test_model(target, max_positions=32)
    return target


@pytest.fixture
def hub(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A hub-protocol server on 127.0.0.1 (tests/helpers/hub_server.py), with the client pointed at it and
    online.

    The Hugging Face cache is an empty folder of the test, and the reachability answer of earlier tests
    is forgotten.
    """
    import huggingface_hub.constants
    from hub_server import HubServer

    from pipeline.models.hub import forget_hub_status

    server = HubServer().start()
    cache = tmp_path / "hf-cache"
    cache.mkdir(exist_ok=True)
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_CACHE", str(cache))
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("HF_HUB_CACHE", str(cache))
    monkeypatch.setenv("HF_ENDPOINT", server.url)
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    monkeypatch.setenv("TRANSFORMERS_OFFLINE", "0")
    monkeypatch.setenv("HF_HUB_DISABLE_XET", "1")
    forget_hub_status()
    yield server
    forget_hub_status()
    server.stop()
