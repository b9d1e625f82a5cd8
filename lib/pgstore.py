"""Workspaces in PostgreSQL: the shared store of several app processes (docs/deployment.md).

`CLOSEBOARD_DATABASE_URL=postgresql://…` (or the CLI's `--db postgresql://…`) selects it; the
embedded DuckDB files (lib.store, lib.workspaces) stay the default. It keeps what a workspace
file keeps: snapshots, the last files loaded, saved choices and the audit list.

- Every table but `workspaces` has a `workspace` column, and every statement here is filtered
  by the key of the one workspace a `PostgresStore` was made for, passed as a parameter: no
  name a user or a team file gives can reach another workspace's rows or the SQL itself.
- A save is one transaction. Its snapshot row is inserted first, so a second save of the same
  workspace and date waits on the first one's key and, once the first commits, is refused
  (SnapshotExistsError: the app's "replace?" question). Until a save commits, no reader sees any
  of it; a process killed midway leaves its transaction to be rolled back by the server.
- Deals move by COPY in CSV, written from Arrow batches and read back into Arrow (DuckDB's
  postgres extension cannot be installed offline).
- The layout is versioned in `schema_version`: created or migrated once per process and URL,
  under an advisory lock so that processes starting together do it once; a database laid out
  by a newer Closeboard is refused, never changed.
"""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv
from psycopg import sql
from psycopg.conninfo import conninfo_to_dict

from lib.sql import sql_file
from lib.store import (
    HISTORY_COLUMNS,
    Snapshot,
    SnapshotExistsError,
    StoreError,
    empty_history,
    with_unsaved,
)
from lib.workspaces import StoredFile, Workspace, WorkspaceError

SCHEMA_VERSION = 1
# MIGRATIONS[n] takes the layout from version n to n + 1 (0: an empty database).
MIGRATIONS = ("pg_schema_1",)
# Any constant: the advisory lock that lets one process at a time create or migrate the layout.
MIGRATION_LOCK = 7_243_119_028
CONNECT_TIMEOUT_SECONDS = 10
# Rows a COPY sends at a time: a CSV chunk of a few megabytes.
COPY_BATCH_ROWS = 20_000

DEAL_TYPES = {
    "opportunity_id": pa.string(),
    "name": pa.string(),
    "account": pa.string(),
    "owner": pa.string(),
    "stage": pa.string(),
    "status": pa.string(),
    "amount": pa.decimal128(18, 2),
    "currency": pa.string(),
    "close_date": pa.date32(),
    "created_date": pa.date32(),
    "probability": pa.float64(),
    "forecast_category": pa.string(),
    "lead_source": pa.string(),
    "type": pa.string(),
    "last_activity_date": pa.date32(),
    "next_step": pa.string(),
    "team": pa.string(),
    "manager": pa.string(),
    "late_stage": pa.bool_(),
}
DEAL_COLUMNS = tuple(DEAL_TYPES)
HISTORY_TYPES = {name: empty_history().schema.field(name).type for name in HISTORY_COLUMNS}


def describe(url: str) -> str:
    """The store as messages name it: database, host and port, never the password."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "the PostgreSQL store (its URL cannot be read)"
    host = info.get("host") or "localhost"
    return f"the PostgreSQL store {info.get('dbname', '')} on {host}:{info.get('port', 5432)}"


# URLs whose layout this process has checked (and created or migrated): once per process.
_ready: set[str] = set()
_readying = threading.Lock()


def _connect(url: str) -> psycopg.Connection:
    try:
        return psycopg.connect(
            url, connect_timeout=CONNECT_TIMEOUT_SECONDS, application_name="closeboard"
        )
    except psycopg.Error as error:
        raise StoreError(
            f"{_capital(describe(url))} cannot be reached: "
            f"{_first_line(error)} Nothing was read or changed.",
            cli_advice="Check CLOSEBOARD_DATABASE_URL (or --db).",
        ) from error


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]


def _first_line(error: Exception) -> str:
    line = (str(error).strip().splitlines() or [type(error).__name__])[0].strip()
    return line if line.endswith(".") else f"{line}."


def ensure_schema(url: str) -> None:
    """Creates or migrates the layout to SCHEMA_VERSION; StoreError for a newer one."""
    with _readying:
        if url in _ready:
            return
        with _connect(url) as con:
            try:
                _migrate(con, url)
            except psycopg.Error as error:
                raise StoreError(
                    f"The layout of {describe(url)} cannot be created: {_first_line(error)}"
                ) from error
        _ready.add(url)


def _migrate(con: psycopg.Connection, url: str) -> None:
    with con.transaction():
        con.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
        exists = con.execute("SELECT to_regclass('schema_version') IS NOT NULL").fetchone()[0]
        if not exists:
            con.execute("CREATE TABLE schema_version (version INTEGER NOT NULL)")
            con.execute("INSERT INTO schema_version VALUES (0)")
        version = con.execute("SELECT max(version) FROM schema_version").fetchone()[0] or 0
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{_capital(describe(url))} has layout version {version}; "
                f"this Closeboard reads version {SCHEMA_VERSION}. It is left as it is: run the "
                "newer Closeboard, or point this one at another database."
            )
        for step in range(version, SCHEMA_VERSION):
            con.execute(sql_file(MIGRATIONS[step]))
        if version < SCHEMA_VERSION:
            con.execute("UPDATE schema_version SET version = %s", (SCHEMA_VERSION,))


@contextmanager
def _database(url: str) -> Iterator[psycopg.Connection]:
    """A connection with the layout checked; whatever psycopg raises becomes a StoreError."""
    ensure_schema(url)
    try:
        with _connect(url) as con:  # its commit on the way out is inside the try too
            yield con
    except psycopg.Error as error:
        raise StoreError(f"{_capital(describe(url))} failed: {_first_line(error)}") from error


def _csv_chunks(deals: pa.Table | pa.RecordBatchReader, key: str, as_of: date) -> Iterator[bytes]:
    """The deals' columns as CSV, a batch at a time, each row led by its workspace and date.

    A reader is consumed as it comes: a million-deal save never holds two copies in memory.
    Strings are written quoted and nulls unquoted, so COPY keeps "" and NULL apart.
    """
    batches = deals.to_batches(COPY_BATCH_ROWS) if isinstance(deals, pa.Table) else deals
    options = pacsv.WriteOptions(include_header=False)
    for batch in batches:
        rows = pa.Table.from_batches([batch]).select(list(DEAL_COLUMNS))
        rows = rows.add_column(0, "as_of", pa.array([as_of] * rows.num_rows, pa.date32()))
        rows = rows.add_column(0, "workspace", pa.array([key] * rows.num_rows, pa.string()))
        out = io.BytesIO()
        pacsv.write_csv(rows, out, options)
        yield out.getvalue()


def _read_csv(data: bytes, types: Mapping[str, pa.DataType]) -> pa.Table:
    """COPY … TO STDOUT (FORMAT CSV) back into Arrow: an unquoted empty field is NULL, a quoted
    one an empty string, as COPY writes them."""
    if not data:
        return pa.table({name: pa.array([], kind) for name, kind in types.items()})
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(types)),
        convert_options=pacsv.ConvertOptions(
            column_types=dict(types),
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
            true_values=["t"],
            false_values=["f"],
        ),
    )


def _copy_out(con: psycopg.Connection, query: sql.Composable, params: Mapping) -> bytes:
    """The rows of a SELECT as CSV bytes (COPY binds the parameters as quoted literals)."""
    out = bytearray()
    with con.cursor() as cursor:
        statement = sql.SQL("COPY ({}) TO STDOUT (FORMAT CSV)").format(query)
        with cursor.copy(statement, params) as copy:
            for chunk in copy:
                out += chunk
    return bytes(out)


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


@dataclass(frozen=True)
class PostgresStore:
    """One workspace's rows in a PostgreSQL store (lib.stores.WorkspaceStore)."""

    url: str
    workspace: Workspace

    @property
    def name(self) -> str:
        return f"{describe(self.url)} (workspace {self.workspace.label})"

    @property
    def key(self) -> str:
        return self.workspace.key

    def _params(self, **values: object) -> dict[str, object]:
        return {"workspace": self.workspace.key, **values}

    def _ensure_workspace(self, con: psycopg.Connection) -> None:
        con.execute(
            "INSERT INTO workspaces (key, label) VALUES (%(workspace)s, %(label)s) "
            "ON CONFLICT (key) DO NOTHING",
            self._params(label=self.workspace.label),
        )

    # --- Snapshots ------------------------------------------------------------------------

    def save_snapshot(self, snapshot: Snapshot, replace: bool = False) -> dict[str, object]:
        params = self._params(as_of=snapshot.as_of, saved_at=_now())
        with _database(self.url) as con, con.transaction():
            self._ensure_workspace(con)
            if replace:
                con.execute(
                    "DELETE FROM snapshots WHERE workspace = %(workspace)s AND as_of = %(as_of)s",
                    params,
                )
            self._claim_date(con, snapshot.as_of, params)
            columns = sql.SQL(", ").join(map(sql.Identifier, ("workspace", "as_of", *DEAL_COLUMNS)))
            statement = sql.SQL("COPY snapshot_deals ({}) FROM STDIN (FORMAT CSV)").format(columns)
            with con.cursor() as cursor, cursor.copy(statement) as copy:
                for chunk in _csv_chunks(snapshot.deals, self.workspace.key, snapshot.as_of):
                    copy.write(chunk)
            with con.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO snapshot_stages VALUES (%s, %s, %s, %s)",
                    [
                        (self.workspace.key, snapshot.as_of, position, stage)
                        for position, stage in enumerate(snapshot.stage_order)
                    ],
                )
            con.execute(
                "UPDATE snapshots SET deals = (SELECT count(*) FROM snapshot_deals "
                "WHERE workspace = %(workspace)s AND as_of = %(as_of)s) "
                "WHERE workspace = %(workspace)s AND as_of = %(as_of)s",
                params,
            )
            self._bump(con)
            return self._entry(con, snapshot.as_of)

    def _claim_date(self, con: psycopg.Connection, as_of: date, params: dict) -> None:
        """Inserts the snapshot's row, or SnapshotExistsError when the date has one: committed
        already, or committed by another save while this one waited on its key."""
        try:
            with con.transaction():  # a savepoint: the refusal leaves the transaction usable
                con.execute(
                    "INSERT INTO snapshots VALUES (%(workspace)s, %(as_of)s, 0, %(saved_at)s)",
                    params,
                )
        except psycopg.errors.UniqueViolation as error:
            existing = con.execute(
                "SELECT deals, saved_at FROM snapshots "
                "WHERE workspace = %(workspace)s AND as_of = %(as_of)s",
                params,
            ).fetchone()
            if existing is None:  # replaced and deleted again meanwhile
                raise SnapshotExistsError(
                    f"A snapshot of {as_of:%a %d %b %Y} was saved by someone else just now. "
                    "Reload the list, then replace it if you mean to."
                ) from error
            raise SnapshotExistsError(
                f"There is already a snapshot of {as_of:%a %d %b %Y} "
                f"({existing[0]:,} deals, saved {existing[1]:%d %b %Y %H:%M}). "
                "Replace it (--replace on the command line) or pick another date."
            ) from error

    def _bump(self, con: psycopg.Connection) -> None:
        con.execute(
            "UPDATE workspaces SET revision = revision + 1 WHERE key = %(workspace)s",
            self._params(),
        )

    def _entry(self, con: psycopg.Connection, as_of: date) -> dict[str, object]:
        deals, saved_at = con.execute(
            "SELECT deals, saved_at FROM snapshots "
            "WHERE workspace = %(workspace)s AND as_of = %(as_of)s",
            self._params(as_of=as_of),
        ).fetchone()
        return {"as_of": as_of, "deals": deals, "saved_at": saved_at}

    def list_snapshots(self) -> list[dict[str, object]]:
        with _database(self.url) as con:
            rows = con.execute(
                "SELECT as_of, deals, saved_at FROM snapshots WHERE workspace = %(workspace)s "
                "ORDER BY as_of",
                self._params(),
            ).fetchall()
        return [{"as_of": as_of, "deals": deals, "saved_at": saved} for as_of, deals, saved in rows]

    def _check_saved(self, con: psycopg.Connection, as_of: date) -> None:
        found = con.execute(
            "SELECT 1 FROM snapshots WHERE workspace = %(workspace)s AND as_of = %(as_of)s",
            self._params(as_of=as_of),
        ).fetchone()
        if found is None:
            raise StoreError(f"There is no snapshot of {as_of:%a %d %b %Y} in {self.name}.")

    def delete_snapshot(self, as_of: date) -> None:
        with _database(self.url) as con, con.transaction():
            self._check_saved(con, as_of)
            # The deals and stages go with it (ON DELETE CASCADE).
            con.execute(
                "DELETE FROM snapshots WHERE workspace = %(workspace)s AND as_of = %(as_of)s",
                self._params(as_of=as_of),
            )
            self._bump(con)

    def read_snapshot(self, as_of: date) -> Snapshot:
        with _database(self.url) as con:
            # One view of the data for the three reads: a replace committed meanwhile is either
            # wholly seen or not at all.
            con.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            with con.transaction():
                self._check_saved(con, as_of)
                columns = sql.SQL(", ").join(map(sql.Identifier, DEAL_COLUMNS))
                query = sql.SQL(
                    "SELECT {} FROM snapshot_deals WHERE workspace = %(workspace)s "
                    'AND as_of = %(as_of)s ORDER BY opportunity_id COLLATE "C"'
                ).format(columns)
                deals = _read_csv(_copy_out(con, query, self._params(as_of=as_of)), DEAL_TYPES)
                stages = con.execute(
                    "SELECT stage FROM snapshot_stages WHERE workspace = %(workspace)s "
                    "AND as_of = %(as_of)s ORDER BY position",
                    self._params(as_of=as_of),
                ).fetchall()
        return Snapshot(as_of, deals, tuple(row[0] for row in stages), f"snapshot of {as_of}")

    def close_date_history(self, through: date, unsaved: Sequence[Snapshot] = ()) -> pa.Table:
        query = sql.SQL(
            "SELECT as_of, opportunity_id, name, account, owner, status, close_date "
            "FROM snapshot_deals WHERE workspace = %(workspace)s AND as_of <= %(through)s"
        )
        with _database(self.url) as con:
            saved = _read_csv(_copy_out(con, query, self._params(through=through)), HISTORY_TYPES)
        return with_unsaved(saved, unsaved)

    def last_open_stages(self, through: date) -> dict[str, str]:
        with _database(self.url) as con:
            rows = con.execute(
                "SELECT DISTINCT ON (opportunity_id) opportunity_id, stage FROM snapshot_deals "
                "WHERE workspace = %(workspace)s AND status = 'open' AND as_of <= %(through)s "
                "ORDER BY opportunity_id, as_of DESC",
                self._params(through=through),
            ).fetchall()
        return dict(rows)

    def revision(self) -> object:
        with _database(self.url) as con:
            row = con.execute(
                "SELECT revision FROM workspaces WHERE key = %(workspace)s", self._params()
            ).fetchone()
        return row[0] if row else None

    def set_aside(self) -> str:
        raise StoreError(
            f"{self.name} is a database server: nothing of it can be set aside from here."
        )

    # --- The workspace's files, choices and audit list -------------------------------------

    def keep_file(self, stored: StoredFile, who: str) -> None:
        with _database(self.url) as con, con.transaction():
            self._ensure_workspace(con)
            con.execute(
                "INSERT INTO last_data VALUES (%(workspace)s, %(kind)s, %(name)s, %(digest)s, "
                "%(data)s, %(at)s) ON CONFLICT (workspace, kind) DO UPDATE SET "
                "file_name = excluded.file_name, digest = excluded.digest, data = excluded.data, "
                "loaded_at = excluded.loaded_at",
                self._params(
                    kind=stored.kind,
                    name=stored.file_name,
                    digest=stored.digest,
                    data=stored.data,
                    at=stored.loaded_at,
                ),
            )
            self._record(con, who, "loaded", stored.file_name, stored.loaded_at)

    def last_data(self) -> dict[str, StoredFile]:
        with _database(self.url) as con:
            rows = con.execute(
                "SELECT kind, file_name, digest, data, loaded_at FROM last_data "
                "WHERE workspace = %(workspace)s",
                self._params(),
            ).fetchall()
        return {row[0]: StoredFile(*row[:3], bytes(row[3]), row[4]) for row in rows}

    def forget_data(self, who: str) -> None:
        with _database(self.url) as con, con.transaction():
            names = con.execute(
                "DELETE FROM last_data WHERE workspace = %(workspace)s RETURNING file_name",
                self._params(),
            ).fetchall()
            if names:
                self._record(con, who, "forgot", ", ".join(sorted(n[0] for n in names)), _now())

    def saved_choices(self) -> dict[str, object]:
        with _database(self.url) as con:
            rows = con.execute(
                "SELECT key, value FROM saved_choices WHERE workspace = %(workspace)s",
                self._params(),
            ).fetchall()
        return {key: json.loads(value) for key, value in rows}

    def save_choices(self, choices: Mapping[str, object]) -> None:
        with _database(self.url) as con, con.transaction():
            self._ensure_workspace(con)
            with con.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO saved_choices VALUES (%s, %s, %s) ON CONFLICT (workspace, key) "
                    "DO UPDATE SET value = excluded.value",
                    [
                        (self.workspace.key, key, json.dumps(value, sort_keys=True))
                        for key, value in choices.items()
                    ],
                )

    def record(self, who: str, action: str, what: str) -> None:
        with _database(self.url) as con, con.transaction():
            self._ensure_workspace(con)
            self._record(con, who, action, what, _now())

    def _record(self, con: psycopg.Connection, who: str, action: str, what: str, at) -> None:
        con.execute(
            "INSERT INTO audit (workspace, done_at, who, action, what) "
            "VALUES (%(workspace)s, %(at)s, %(who)s, %(action)s, %(what)s)",
            self._params(at=at, who=who, action=action, what=what),
        )

    def audit_list(self, limit: int = 200) -> list[dict[str, object]]:
        with _database(self.url) as con:
            rows = con.execute(
                "SELECT done_at, who, action, what FROM audit WHERE workspace = %(workspace)s "
                "ORDER BY done_at DESC, id DESC LIMIT %(limit)s",
                self._params(limit=limit),
            ).fetchall()
        return [
            {"at": at, "who": who, "action": action, "what": what} for at, who, action, what in rows
        ]


@dataclass(frozen=True)
class PostgresBackend:
    """Every workspace in one PostgreSQL database (lib.stores.Backend). Several app processes
    share it: there is no folder to own."""

    url: str

    @property
    def where(self) -> str:
        return describe(self.url)

    def claim(self) -> None:
        ensure_schema(self.url)

    def release(self) -> None:
        return None

    def workspace(self, workspace: Workspace) -> PostgresStore:
        return PostgresStore(self.url, workspace)

    def list_workspaces(self) -> list[dict[str, object]]:
        """Each workspace's name, key, snapshots and last data loaded; there is no file, so
        "file" and "bytes" are None."""
        with _database(self.url) as con:
            rows = con.execute(
                "SELECT w.key, w.label, "
                "(SELECT count(*) FROM snapshots s WHERE s.workspace = w.key), "
                "(SELECT max(loaded_at) FROM last_data d WHERE d.workspace = w.key) "
                "FROM workspaces w ORDER BY w.key"
            ).fetchall()
        return [
            {"name": label, "key": key, "file": None, "snapshots": snapshots,
             "last_loaded": loaded, "bytes": None}
            for key, label, snapshots, loaded in rows
        ]  # fmt: skip

    def delete_workspace(self, name: str) -> str:
        """Deletes the workspace of that name or key with all its rows; what was deleted."""
        with _database(self.url) as con, con.transaction():
            keys = con.execute(
                "DELETE FROM workspaces WHERE key = %(name)s OR "
                "(label = %(name)s AND NOT EXISTS (SELECT 1 FROM workspaces WHERE key = %(name)s)) "
                "RETURNING key",
                {"name": name},
            ).fetchall()
            if len(keys) > 1:
                raise WorkspaceError(
                    f"{len(keys)} workspaces are named {name}: delete one by its key "
                    "(`workspaces list --json` shows them). Nothing was deleted."
                )
        if not keys:
            raise WorkspaceError(
                f"There is no workspace named {name} in {self.where}. `workspaces list` shows "
                "their names."
            )
        return f"{keys[0][0]} in {self.where}"
