"""Where workspaces keep what they keep: one interface, two implementations.

A `WorkspaceStore` is one workspace's snapshots, last loaded files, saved choices and audit list;
a `Backend` makes one per workspace, lists and deletes them. Every store access of the app, the
CLI and the session goes through these two (docs/architecture.md):

- `DuckDBBackend` (the default): one embedded DuckDB file per workspace in the data folder,
  owned by one app process (lib.store, lib.workspaces: their layout and files unchanged).
- `PostgresBackend` (`CLOSEBOARD_DATABASE_URL=postgresql://…`): every workspace in one
  PostgreSQL database that several app processes share (lib.pgstore, docs/deployment.md).
"""

from __future__ import annotations

import os
from collections.abc import Hashable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Protocol

import pyarrow as pa

from lib import store, workspaces
from lib.store import Snapshot
from lib.workspaces import LOCAL, StoredFile, Workspace

DATABASE_URL_VARIABLE = "CLOSEBOARD_DATABASE_URL"


class WorkspaceStore(Protocol):
    """One workspace's store. Each call opens its own connection and closes it after, so a
    store may be shared by threads; what cannot be done raises lib.store.StoreError."""

    @property
    def name(self) -> str:
        """How a message names the store: a file's path, or a database and workspace."""
        ...

    def save_snapshot(self, snapshot: Snapshot, replace: bool = False) -> dict[str, object]: ...
    def list_snapshots(self) -> list[dict[str, object]]: ...
    def read_snapshot(self, as_of: date) -> Snapshot: ...
    def delete_snapshot(self, as_of: date) -> None: ...
    def close_date_history(self, through: date, unsaved: Sequence[Snapshot] = ()) -> pa.Table: ...
    def last_open_stages(self, through: date) -> dict[str, str]: ...

    def revision(self) -> Hashable:
        """A value that changes whenever a snapshot is saved or deleted (by any process)."""
        ...

    def set_aside(self) -> str:
        """Moves a damaged store out of the way (a file only); where it went."""
        ...

    def keep_file(self, stored: StoredFile, who: str) -> None: ...
    def last_data(self) -> dict[str, StoredFile]: ...
    def forget_data(self, who: str) -> None: ...
    def saved_choices(self) -> dict[str, object]: ...
    def save_choices(self, choices: Mapping[str, object]) -> None: ...
    def record(self, who: str, action: str, what: str) -> None: ...
    def audit_list(self, limit: int = 200) -> list[dict[str, object]]: ...


class Backend(Protocol):
    """Every workspace of one deployment."""

    @property
    def where(self) -> str: ...

    def claim(self) -> None:
        """Readies the backend for this process: owns the data folder (DuckDB), or checks and
        migrates the database's layout (PostgreSQL); WorkspaceError or StoreError when it
        cannot be used."""
        ...

    def release(self) -> None: ...
    def workspace(self, workspace: Workspace) -> WorkspaceStore: ...
    def list_workspaces(self) -> list[dict[str, object]]: ...
    def delete_workspace(self, name: str) -> str: ...


@dataclass(frozen=True)
class DuckDBStore:
    """A workspace's embedded DuckDB file (lib.store and lib.workspaces do the work)."""

    path: Path
    workspace: Workspace = LOCAL

    @property
    def name(self) -> str:
        return str(self.path)

    def save_snapshot(self, snapshot: Snapshot, replace: bool = False) -> dict[str, object]:
        return store.save_snapshot(snapshot, self.path, replace=replace)

    def list_snapshots(self) -> list[dict[str, object]]:
        return store.list_snapshots(self.path)

    def read_snapshot(self, as_of: date) -> Snapshot:
        return store.read_snapshot(as_of, self.path)

    def delete_snapshot(self, as_of: date) -> None:
        store.delete_snapshot(as_of, self.path)

    def close_date_history(self, through: date, unsaved: Sequence[Snapshot] = ()) -> pa.Table:
        return store.close_date_history(through, self.path, unsaved)

    def last_open_stages(self, through: date) -> dict[str, str]:
        return store.last_open_stages(through, self.path)

    def revision(self) -> Hashable:
        """When the file (and its write-ahead log) last changed."""
        return tuple(
            (file.stat().st_mtime_ns, file.stat().st_size) if file.exists() else None
            for file in (self.path, self.path.with_name(self.path.name + ".wal"))
        )

    def set_aside(self) -> str:
        return str(store.set_aside(self.path))

    def keep_file(self, stored: StoredFile, who: str) -> None:
        workspaces.keep_file(self.path, self.workspace, stored, who)

    def last_data(self) -> dict[str, StoredFile]:
        return workspaces.last_data(self.path)

    def forget_data(self, who: str) -> None:
        workspaces.forget_data(self.path, who)

    def saved_choices(self) -> dict[str, object]:
        return workspaces.saved_choices(self.path)

    def save_choices(self, choices: Mapping[str, object]) -> None:
        workspaces.save_choices(self.path, self.workspace, choices)

    def record(self, who: str, action: str, what: str) -> None:
        workspaces.record(self.path, self.workspace, who, action, what)

    def audit_list(self, limit: int = 200) -> list[dict[str, object]]:
        return workspaces.audit_list(self.path, limit)


@dataclass(frozen=True)
class DuckDBBackend:
    """A data folder of workspace files, owned by one process at a time."""

    folder: Path

    @property
    def where(self) -> str:
        return str(self.folder)

    def claim(self) -> None:
        workspaces.claim_folder(self.folder)

    def release(self) -> None:
        workspaces.release_folder(self.folder)

    def workspace(self, workspace: Workspace) -> DuckDBStore:
        return DuckDBStore(workspaces.workspace_path(workspace, self.folder), workspace)

    def list_workspaces(self) -> list[dict[str, object]]:
        return workspaces.list_workspaces(self.folder)

    def delete_workspace(self, name: str) -> str:
        return workspaces.delete_workspace(self.folder, name).name


def is_database_url(text: object) -> bool:
    return isinstance(text, str) and text.startswith(("postgresql://", "postgres://"))


def backend(database_url: str | None = None, folder: Path | None = None) -> Backend:
    """PostgreSQL when a URL is given or `CLOSEBOARD_DATABASE_URL` is set, else the data
    folder's files (`folder`, else `CLOSEBOARD_DATA_DIR`, else data/)."""
    url = database_url or os.environ.get(DATABASE_URL_VARIABLE)
    if url:
        from lib.pgstore import PostgresBackend  # psycopg only when a database is named

        return PostgresBackend(url)
    return DuckDBBackend(folder or store.data_dir())


def cli_store(db: str | None) -> WorkspaceStore:
    """The store the CLI's `--db` names: a PostgreSQL URL (the local workspace in it) or a
    DuckDB file; without it `CLOSEBOARD_DATABASE_URL`, else `CLOSEBOARD_DB`, else the data
    folder's closeboard.duckdb."""
    if db and not is_database_url(db):
        return DuckDBStore(Path(db))
    if db or os.environ.get(DATABASE_URL_VARIABLE):
        return backend(db).workspace(LOCAL)
    return DuckDBStore(store.store_path())
