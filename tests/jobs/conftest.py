from __future__ import annotations

from pathlib import Path

import pytest

from tests.labs import write_test_lab


@pytest.fixture
def lab_dir(tmp_path: Path) -> Path:
    return write_test_lab(tmp_path / "lab")
