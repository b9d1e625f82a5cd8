"""Snapshots: dated copies of the canonical deals, kept in an embedded DuckDB file.

The store is one DuckDB file, `closeboard.duckdb` in the data folder (`CLOSEBOARD_DATA_DIR`,
default `data/` in the project folder) unless the `CLOSEBOARD_DB` environment variable names
another; signed-in users each have their own (lib.workspaces). It holds, per snapshot, the
canonical deal columns (nothing else of the export: no unmapped columns) and the export's stage
order, which stage regressions are judged by.

Safety:
- Every operation opens its own connection and closes it after, so no connection is shared
  between threads and the file is locked only while an operation runs.
- A save or a delete is one transaction: a process killed halfway leaves the file as it was.
- DuckDB lets one process write a file at a time. Another process finding the file locked
  retries for a few seconds, then gives up with a message; it never writes around the lock.
- A file that is not a Closeboard store (junk bytes, another program's database, a newer
  Closeboard's layout) is reported by path and left untouched; it is never replaced.

The store records its schema version in `store_info`: this code reads and writes version 1 and
refuses a file with another version, so that a later layout can be migrated deliberately rather
than misread.
"""

from __future__ import annotations

import contextlib
import os
import re
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.errors import PlainError
from lib.load.opportunities import LoadedExport

DB_VARIABLE = "CLOSEBOARD_DB"
DATA_DIR_VARIABLE = "CLOSEBOARD_DATA_DIR"
DEFAULT_DATA_DIR = Path(__file__).resolve().parent.parent / "data"
STORE_FILE = "closeboard.duckdb"
SCHEMA_VERSION = 1
# How long to wait for another process's save to finish before saying the store is busy.
LOCK_WAIT_SECONDS = 10.0
LOCK_RETRY_SECONDS = 0.1
# The history push counts need: who the deal is, whether it was open and when it was to close.
HISTORY_COLUMNS = ("as_of", "opportunity_id", "name", "account", "owner", "status", "close_date")

SCHEMA_SQL = """
    CREATE TABLE store_info (key VARCHAR PRIMARY KEY, value VARCHAR NOT NULL);
    CREATE TABLE snapshots (
        as_of DATE PRIMARY KEY,
        deals INTEGER NOT NULL,
        saved_at TIMESTAMP NOT NULL
    );
    CREATE TABLE snapshot_deals (
        as_of DATE NOT NULL,
        opportunity_id VARCHAR,
        name VARCHAR,
        account VARCHAR,
        owner VARCHAR,
        stage VARCHAR,
        status VARCHAR,
        amount DECIMAL(18, 2),
        currency VARCHAR,
        close_date DATE,
        created_date DATE,
        probability DOUBLE,
        forecast_category VARCHAR,
        lead_source VARCHAR,
        type VARCHAR,
        last_activity_date DATE,
        next_step VARCHAR,
        team VARCHAR,
        manager VARCHAR,
        late_stage BOOLEAN
    );
    CREATE TABLE snapshot_stages (
        as_of DATE NOT NULL,
        position INTEGER NOT NULL,
        stage VARCHAR NOT NULL
    );
"""

INSERT_DEALS_SQL = """
    INSERT INTO snapshot_deals
    SELECT $as_of, opportunity_id, name, account, owner, stage, status, amount, currency,
        close_date, created_date, probability, forecast_category, lead_source, type,
        last_activity_date, next_step, team, manager, late_stage
    FROM incoming
"""

DELETE_SNAPSHOT_SQL = (
    "DELETE FROM snapshot_deals WHERE as_of = $as_of",
    "DELETE FROM snapshot_stages WHERE as_of = $as_of",
    "DELETE FROM snapshots WHERE as_of = $as_of",
)

READ_DEALS_SQL = """
    SELECT * EXCLUDE (as_of) FROM snapshot_deals WHERE as_of = $as_of ORDER BY opportunity_id
"""

HISTORY_SQL = """
    SELECT as_of, opportunity_id, name, account, owner, status, close_date
    FROM snapshot_deals
    WHERE as_of <= $through
"""


# Each deal's stage in the latest snapshot, on or before a date, that shows it open: for a deal
# lost since, the stage it was lost at.
LAST_OPEN_STAGES_SQL = """
    SELECT opportunity_id, arg_max(stage, as_of)
    FROM snapshot_deals
    WHERE status = 'open' AND as_of <= $through
    GROUP BY opportunity_id
"""


class StoreError(PlainError):
    """The snapshot store cannot be used or refused an operation; the message says why.

    `path` is the store file the message names, if it names one; `cli_advice` is what to do
    from the command line (another file, by CLOSEBOARD_DB), said after the message there. A
    page says `message` alone, the file by its name (ui/messages.py): a sales leader cannot set
    a server's variables.
    """

    def __init__(self, message: str, path: Path | None = None, cli_advice: str = "") -> None:
        super().__init__(f"{message} {cli_advice}" if cli_advice else message)
        self.message = message
        self.path = path


class StoreDamagedError(StoreError):
    """The store file's bytes are damaged: DuckDB's checksums do not match what it reads."""


class SnapshotExistsError(StoreError):
    """A snapshot of that date exists already and replacing it was not asked for."""


@dataclass(frozen=True)
class Snapshot:
    """Deals as of one date: the canonical columns, and the stage order they were read with."""

    as_of: date
    deals: pa.Table
    stage_order: tuple[str, ...]
    label: str


def data_dir() -> Path:
    """The data folder: `CLOSEBOARD_DATA_DIR` when set, else `data/` in the project folder."""
    return Path(os.environ.get(DATA_DIR_VARIABLE) or DEFAULT_DATA_DIR)


def store_path(folder: Path | None = None) -> Path:
    """`CLOSEBOARD_DB` when set, else `closeboard.duckdb` in the data folder."""
    return Path(os.environ.get(DB_VARIABLE) or (folder or data_dir()) / STORE_FILE)


def snapshot_of_export(export: LoadedExport, as_of: date) -> Snapshot:
    """The loaded export as a snapshot dated `as_of` (saved or not)."""
    return Snapshot(
        as_of=as_of,
        deals=export.deals,
        stage_order=tuple(rule.stage for rule in export.report.stage_rules),
        label=export.report.file_name,
    )


def _is_lock_conflict(error: duckdb.Error) -> bool:
    """True when the file is busy for a moment: another process holds its lock, or another
    session of this server is opening or closing its own connection to it (DuckDB then reports
    a "file handle conflict"). The word, not the letters: a damaged "block" is no lock."""
    message = str(error).lower()
    return re.search(r"\block\b", message) is not None or "file handle conflict" in message


def _is_damage(error: duckdb.Error) -> bool:
    """True when DuckDB found the file's blocks damaged (a quoted file name aside)."""
    message = re.sub(r'"[^"]*"', "", str(error)).lower()
    return "corrupt database file" in message or "checksum" in message


def _damaged(path: Path, error: duckdb.Error) -> StoreDamagedError:
    return StoreDamagedError(
        f"The file {path} is damaged: {_first_line(error)} Closeboard leaves it as it is. Set "
        "it aside (rename or move it) to start afresh; what it held cannot be read.",
        path,
    )


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0]


@contextmanager
def _connection(path: Path) -> Iterator[duckdb.DuckDBPyConnection]:
    """A fresh connection to the store, its layout checked, closed on the way out.

    Waits up to LOCK_WAIT_SECONDS while another process (or session) holds the file. Whatever
    DuckDB raises while it is open becomes a StoreError (StoreDamagedError for damaged bytes):
    a caller handles one kind of error. A new file and its folder are the user's alone.
    """
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            con = duckdb.connect(str(path))
            break
        except duckdb.Error as error:
            if _is_damage(error):
                raise _damaged(path, error) from error
            if _is_lock_conflict(error) and time.monotonic() < deadline:
                time.sleep(LOCK_RETRY_SECONDS)
                continue
            if _is_lock_conflict(error):
                raise StoreError(
                    f"The snapshot store {path} is busy: another Closeboard is saving to it. "
                    "Nothing was changed; try again in a moment.",
                    path,
                ) from error
            raise StoreError(
                f"The snapshot store {path} cannot be opened: {_first_line(error)} "
                "Closeboard leaves the file as it is; move it away to start a new store.",
                path,
                cli_advice="Or set CLOSEBOARD_DB (or --db) to another file.",
            ) from error
    try:
        _keep_private(path)  # before anything is written to a new file
        _check_layout(con, path)
        yield con
    except duckdb.Error as error:
        if _is_damage(error):
            raise _damaged(path, error) from error
        raise StoreError(f"The snapshot store {path} failed: {_first_line(error)}", path) from error
    finally:
        con.close()
        _keep_private(path)


def _keep_private(path: Path) -> None:
    """The store and its write-ahead log readable by this user alone (0600): they hold deals."""
    for file in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)


def set_aside(path: Path, now: datetime | None = None) -> Path:
    """Renames a damaged store (and its write-ahead log) out of the way, kept for whoever may
    recover it; the next use starts a new, empty store. The new name of the file."""
    stamp = (now or datetime.now()).strftime("%Y%m%d-%H%M%S")
    kept = path.with_name(f"{path.stem}.damaged-{stamp}{path.suffix}")
    wal = path.with_name(path.name + ".wal")
    if wal.exists():
        wal.rename(kept.with_name(kept.name + ".wal"))
    path.rename(kept)
    return kept


def open_store(path: Path):
    """A checked connection to the store, for modules that keep more in the same file
    (lib.workspaces); closed on leaving the `with` block."""
    return _connection(path)


def _check_layout(con: duckdb.DuckDBPyConnection, path: Path) -> None:
    """Creates the tables in an empty file; refuses a file laid out by anything else."""
    tables = {
        row[0]
        for row in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE database_name = current_database()"
        ).fetchall()
    }
    if not tables:
        with _transaction(con):
            con.execute(SCHEMA_SQL)
            con.execute(
                "INSERT INTO store_info VALUES ('schema_version', $version)",
                {"version": str(SCHEMA_VERSION)},
            )
        return
    if "store_info" not in tables:
        raise StoreError(
            f"{path} is a DuckDB database but not a Closeboard snapshot store "
            f"(it holds {', '.join(sorted(tables))}). Closeboard leaves it as it is.",
            path,
            cli_advice="Set CLOSEBOARD_DB (or --db) to another file.",
        )
    row = _one_row(con, "SELECT value FROM store_info WHERE key = 'schema_version'")
    if row is None or row[0] != str(SCHEMA_VERSION):
        found = row[0] if row else "none"
        raise StoreError(
            f"The snapshot store {path} has layout version {found}; this Closeboard reads "
            f"version {SCHEMA_VERSION}. Closeboard leaves the file as it is.",
            path,
        )


@contextmanager
def _transaction(con: duckdb.DuckDBPyConnection) -> Iterator[None]:
    con.execute("BEGIN TRANSACTION")
    try:
        yield
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


def save_snapshot(snapshot: Snapshot, path: Path, replace: bool = False) -> dict[str, object]:
    """Saves the snapshot's deals under its date in one transaction.

    Refuses (SnapshotExistsError) when that date has a snapshot, unless `replace`.
    Returns the saved entry as `list_snapshots` shows it.
    """
    saved_at = datetime.now().replace(microsecond=0)
    with _connection(path) as con:
        try:
            with _transaction(con):
                existing = _one_row(
                    con,
                    "SELECT deals, saved_at FROM snapshots WHERE as_of = $as_of",
                    {"as_of": snapshot.as_of},
                )
                if existing and not replace:
                    raise SnapshotExistsError(
                        f"There is already a snapshot of {snapshot.as_of:%a %d %b %Y} "
                        f"({existing[0]:,} deals, saved {existing[1]:%d %b %Y %H:%M}). "
                        "Replace it (--replace on the command line) or pick another date."
                    )
                _delete(con, snapshot.as_of)
                con.register("incoming", snapshot.deals)
                con.execute(INSERT_DEALS_SQL, {"as_of": snapshot.as_of})
                con.unregister("incoming")
                if snapshot.stage_order:
                    con.executemany(
                        "INSERT INTO snapshot_stages VALUES (?, ?, ?)",
                        [
                            (snapshot.as_of, position, stage)
                            for position, stage in enumerate(snapshot.stage_order)
                        ],
                    )
                con.execute(
                    "INSERT INTO snapshots SELECT $as_of, count(*), $saved_at "
                    "FROM snapshot_deals WHERE as_of = $as_of",
                    {"as_of": snapshot.as_of, "saved_at": saved_at},
                )
        except duckdb.ConstraintException as error:
            # Another session of this app saved the same date between our check and our insert.
            raise SnapshotExistsError(
                f"A snapshot of {snapshot.as_of:%a %d %b %Y} was saved by someone else just now. "
                "Reload the list, then replace it if you mean to."
            ) from error
        except duckdb.TransactionException as error:
            raise StoreError(
                f"Another save of {snapshot.as_of:%a %d %b %Y} ran at the same moment; nothing "
                "was changed. Try again."
            ) from error
        return _entry(con, snapshot.as_of)


def _delete(con: duckdb.DuckDBPyConnection, as_of: date) -> None:
    for statement in DELETE_SNAPSHOT_SQL:
        con.execute(statement, {"as_of": as_of})


def _one_row(con: duckdb.DuckDBPyConnection, sql: str, parameters: dict | None = None):
    """The query's only row (or None), its result read to the end so the connection is free."""
    rows = con.execute(sql, parameters or {}).fetchall()
    return rows[0] if rows else None


def _check_saved(con: duckdb.DuckDBPyConnection, as_of: date, path: Path) -> None:
    if _one_row(con, "SELECT 1 FROM snapshots WHERE as_of = $as_of", {"as_of": as_of}) is None:
        raise StoreError(f"There is no snapshot of {as_of:%a %d %b %Y} in {path}.", path)


def _entry(con: duckdb.DuckDBPyConnection, as_of: date) -> dict[str, object]:
    deals, saved_at = _one_row(
        con, "SELECT deals, saved_at FROM snapshots WHERE as_of = $as_of", {"as_of": as_of}
    )
    return {"as_of": as_of, "deals": deals, "saved_at": saved_at}


def list_snapshots(path: Path) -> list[dict[str, object]]:
    """[{"as_of", "deals", "saved_at"}] oldest first; empty when there is no store yet."""
    if not path.exists():
        return []
    with _connection(path) as con:
        rows = con.execute("SELECT as_of, deals, saved_at FROM snapshots ORDER BY as_of").fetchall()
    return [{"as_of": as_of, "deals": deals, "saved_at": saved} for as_of, deals, saved in rows]


def delete_snapshot(as_of: date, path: Path) -> None:
    """Deletes the snapshot of that date, in one transaction; StoreError when there is none."""
    if not path.exists():
        raise StoreError(f"There is no snapshot store at {path} yet.", path)
    with _connection(path) as con, _transaction(con):
        _check_saved(con, as_of, path)
        _delete(con, as_of)


def read_snapshot(as_of: date, path: Path) -> Snapshot:
    """The saved snapshot of that date; StoreError when there is none."""
    if not path.exists():
        raise StoreError(f"There is no snapshot store at {path} yet.", path)
    with _connection(path) as con:
        _check_saved(con, as_of, path)
        deals = con.sql(READ_DEALS_SQL, params={"as_of": as_of}).to_arrow_table()
        stages = con.execute(
            "SELECT stage FROM snapshot_stages WHERE as_of = $as_of ORDER BY position",
            {"as_of": as_of},
        ).fetchall()
    return Snapshot(as_of, deals, tuple(row[0] for row in stages), f"snapshot of {as_of}")


def close_date_history(through: date, path: Path, unsaved: Sequence[Snapshot] = ()) -> pa.Table:
    """What close-date push counts are made of (HISTORY_COLUMNS): every saved snapshot dated on
    or before `through`, and the `unsaved` ones (this upload) in place of any saved on their
    dates. Only the unsaved ones when there is no store yet."""
    saved = empty_history()
    if path.exists():
        with _connection(path) as con:
            saved = con.sql(HISTORY_SQL, params={"through": through}).to_arrow_table()
    return with_unsaved(saved, unsaved)


def with_unsaved(saved: pa.Table, unsaved: Sequence[Snapshot]) -> pa.Table:
    """The saved history (HISTORY_COLUMNS) with the `unsaved` snapshots in place of any saved
    on their dates: what close_date_history answers, whichever store the saved part came from."""
    replaced = pa.array([snapshot.as_of for snapshot in unsaved], pa.date32())
    kept = saved.filter(pc.invert(pc.is_in(saved["as_of"], value_set=replaced)))
    return pa.concat_tables([kept, history_of(unsaved)], promote_options="permissive")


def empty_history() -> pa.Table:
    return pa.table(
        {
            "as_of": pa.array([], pa.date32()),
            **{name: pa.array([], pa.string()) for name in HISTORY_COLUMNS[1:-1]},
            "close_date": pa.array([], pa.date32()),
        }
    )


def history_of(snapshots: Sequence[Snapshot]) -> pa.Table:
    """The HISTORY_COLUMNS of snapshots, saved or not."""
    con = duckdb.connect()
    try:
        parts = []
        for snapshot in snapshots:
            con.register("deals", snapshot.deals)
            parts.append(
                con.sql(
                    "SELECT $as_of::DATE AS as_of, opportunity_id, name, account, owner, status, "
                    "close_date FROM deals",
                    params={"as_of": snapshot.as_of},
                ).to_arrow_table()
            )
            con.unregister("deals")
    finally:
        con.close()
    return pa.concat_tables([empty_history(), *parts], promote_options="permissive")


def last_open_stages(through: date, path: Path) -> dict[str, str]:
    """Each deal's stage in the latest snapshot dated on or before `through` in which it was
    open; empty when there is no store yet."""
    if not path.exists():
        return {}
    with _connection(path) as con:
        return dict(con.execute(LAST_OPEN_STAGES_SQL, {"through": through}).fetchall())
