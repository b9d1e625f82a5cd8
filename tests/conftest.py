"""Fixtures every test shares."""

from pathlib import Path

import pytest


@pytest.fixture(autouse=True)
def snapshot_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps its snapshots in its own store file, never in the project's data/."""
    path = tmp_path / "closeboard.duckdb"
    monkeypatch.setenv("CLOSEBOARD_DB", str(path))
    return path
