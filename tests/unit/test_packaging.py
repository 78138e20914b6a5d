"""The package as pip builds it: the wheel holds every data file the code reads (the body model, the
abbreviation lists, the tiny model's corpus, the TMX DTD), as setup.cfg's package_data lists them."""
from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

from project_paths import REPO_ROOT

# What a build reads; copied, so that the build's own folders (build/, *.egg-info) stay out of the checkout.
BUILD_INPUTS = ("pyproject.toml", "setup.cfg", "README.md", "pipeline")


def test_the_wheel_holds_every_data_file_of_the_package(tmp_path: Path) -> None:
    source = tmp_path / "source"
    source.mkdir()
    for name in BUILD_INPUTS:
        copy = shutil.copytree if (REPO_ROOT / name).is_dir() else shutil.copyfile
        copy(REPO_ROOT / name, source / name)
    # With the environment's own setuptools: the build needs no package index.
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--quiet", "--wheel-dir",
         str(tmp_path / "wheel"), str(source)], capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-3000:]
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    in_wheel = set(zipfile.ZipFile(wheel).namelist())
    data_files = {path.relative_to(source).as_posix() for path in (source / "pipeline").rglob("*")
                  if path.is_file() and path.suffix not in (".py", ".pyc")
                  and "__pycache__" not in path.parts}
    assert {"pipeline/data/boilerplate_model.txt", "pipeline/export/tmx14.dtd"} <= data_files
    assert sorted(data_files - in_wheel) == []
