"""Fixtures every test shares."""

from collections.abc import Iterator
from pathlib import Path

import pytest

from lib import workspaces


@pytest.fixture(autouse=True)
def snapshot_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps its snapshots in its own store file, never in the project's data/."""
    path = tmp_path / "closeboard.duckdb"
    monkeypatch.setenv("CLOSEBOARD_DB", str(path))
    return path


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test's app owns a data folder of its own, let go of after the test."""
    folder = tmp_path / "data"
    monkeypatch.setenv("CLOSEBOARD_DATA_DIR", str(folder))
    yield folder
    workspaces.release_folder(folder)
