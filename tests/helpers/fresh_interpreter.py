"""Code run by a new Python process: what must hold from a clean start, with nothing imported before."""
from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping

from project_paths import REPO_ROOT


def printed_by_a_fresh_interpreter(code: str, timeout: float = 300,
                                   environment: Mapping[str, str] | None = None) -> list[str]:
    """The lines `code` prints when a new Python process runs it from the repository root, with
    `environment` (by default this process's); the test fails with the process's error output when it
    does not exit cleanly."""
    completed = subprocess.run([sys.executable, "-c", code], cwd=REPO_ROOT, capture_output=True, text=True,
                               timeout=timeout,
                               env={**(os.environ if environment is None else environment),
                                    "PYTHONPATH": str(REPO_ROOT)})
    assert completed.returncode == 0, completed.stderr[-3000:]
    return completed.stdout.strip().splitlines()
