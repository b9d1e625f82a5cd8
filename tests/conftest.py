"""Fixtures every test shares."""

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest

from lib import workspaces
from lib.pgstore import PostgresBackend
from lib.stores import DuckDBBackend
from tests.pg import drop_database, new_database, postgres_server


@pytest.fixture(autouse=True)
def snapshot_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test keeps its snapshots in its own store file, never in the project's data/, nor in
    a PostgreSQL store the machine's environment may name."""
    path = tmp_path / "closeboard.duckdb"
    monkeypatch.setenv("CLOSEBOARD_DB", str(path))
    monkeypatch.delenv("CLOSEBOARD_DATABASE_URL", raising=False)
    return path


@pytest.fixture(autouse=True)
def data_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Each test's app owns a data folder of its own, let go of after the test."""
    folder = tmp_path / "data"
    monkeypatch.setenv("CLOSEBOARD_DATA_DIR", str(folder))
    yield folder
    workspaces.release_folder(folder)


@pytest.fixture(scope="session")
def postgres_server_url() -> Iterator[str]:
    """One real PostgreSQL 15 server for the whole run (tests/pg.py); fails, never skips, when
    the server is not installed."""
    with postgres_server() as url:
        yield url


_databases = itertools.count()


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty database of that server for one test; its URL."""
    name = f"test_{next(_databases)}"
    yield new_database(postgres_server_url, name)
    drop_database(postgres_server_url, name)


@pytest.fixture(params=["duckdb", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path):
    """Every workspace of one deployment: the embedded files of a data folder, or a real
    PostgreSQL database. The store tests take this (or `kept`) to run against both."""
    if request.param == "duckdb":
        return DuckDBBackend(tmp_path / "backend")
    return PostgresBackend(request.getfixturevalue("postgres_url"))


@pytest.fixture
def kept(backend):
    """The local workspace's store (the CLI's) in either backend."""
    return backend.workspace(workspaces.LOCAL)
