"""Where the tests find the project, its shared data and their own files, whatever folder they are in."""
from __future__ import annotations

import os
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parent.parent
REPO_ROOT = TESTS_DIR.parent
HELPERS_DIR = TESTS_DIR / "helpers"
DATA_DIR = TESTS_DIR / "data"
SHARED_DIR = Path(os.environ.get("MLP_SHARED_DIR", REPO_ROOT.parent / "shared"))
