from __future__ import annotations

from pathlib import Path

import pytest

from ops_warehouse.home import DataHome

FIXTURES = Path(__file__).parent / "fixtures"
SAMPLES = FIXTURES / "samples"


@pytest.fixture
def home(tmp_path: Path) -> DataHome:
    """A fresh data home in a temporary folder."""
    return DataHome.resolve(tmp_path / "home").ensure()


@pytest.fixture
def samples() -> Path:
    """The real export samples (see fixtures/samples/SOURCES.md)."""
    return SAMPLES
