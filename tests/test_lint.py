"""The code passes the project's ruff configuration (ruff.toml)."""

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import ROOT


def test_ruff_is_clean():
    ruff = shutil.which("ruff") or str(Path(sys.executable).parent / "ruff")
    result = subprocess.run([ruff, "check", "model", "training", "service", "batch", "labeling", "tests",
                             "benchmarks", "scripts", "gunicorn.conf.py"],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
