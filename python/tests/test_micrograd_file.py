"""micrograd's own test file (../shared/micrograd/test_engine.py, unchanged, MIT) passes with
only its import line changed. It compares with PyTorch, so it runs only where torch is
installed; the repo's own tests (test_value.py) cover the same ground without it."""

import importlib.util
import os
import subprocess
import sys

import pytest

from conftest import SHARED

SOURCE = os.path.join(SHARED, "micrograd", "test_engine.py")
OLD = "from micrograd.engine import Value"
NEW = "from scalargrad.engine import Value"


def test_micrograds_test_file_with_only_the_import_changed(tmp_path):
    if not os.path.exists(SOURCE):
        pytest.skip(f"{SOURCE} is absent (it is in ../shared beside the repository in CI)")
    if importlib.util.find_spec("torch") is None:
        pytest.skip("micrograd's test file compares with PyTorch, and torch is not installed "
                    "(pip install torch to run it)")
    with open(SOURCE) as f:
        text = f.read()
    assert text.count(OLD) == 1, "the import line to change is not in the file"
    changed = tmp_path / "test_engine.py"
    changed.write_text(text.replace(OLD, NEW))
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(changed)],
        cwd=tmp_path, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout
