"""The SQL box: one read-only SELECT over the session's own tables, in a sandbox, with limits.

Why the sandbox holds (the statement check below is only a courtesy that gives a plainer message):
- Each query gets a DuckDB database of its own, in memory, opened here and closed after: it
  holds this session's tables and nothing else, so no other browser session's data is there to
  be named, and whatever a statement could change is thrown away with it.
- `enable_external_access = false` once the tables are in: DuckDB then refuses every file and
  network access (read_csv, read_text, glob, COPY … TO, EXPORT DATABASE, ATTACH of a file such
  as the snapshot store, INSTALL, LOAD of an extension from disk). The folders DuckDB would name
  (allowed paths, secrets, extensions, home) are emptied first, so that neither
  duckdb_settings() nor an error message shows a path or a user of the server.
- `python_enable_replacements = false`: a table name that is not in the database is not looked
  up among the Python variables of the app (DuckDB's replacement scans would do so otherwise).
- Extensions are neither installed nor loaded by themselves (autoinstall / autoload off).
- Bounded: one thread and MEMORY_LIMIT of DuckDB's memory per query (a query past it fails
  with DuckDB's out-of-memory error), a time limit of at most MAX_QUERY_SECONDS, and a result
  kept for the page of at most MAX_RESULT_ROWS rows and MAX_RESULT_BYTES, read in batches so
  that a larger one is refused before it is held.
- `lock_configuration = true` last: no SET, RESET or PRAGMA can change any of the above (or
  anything else) afterwards.
What DuckDB still allows there (CREATE TABLE, ATTACH ':memory:') stays inside that throwaway
database; the statement check refuses it anyway, with a plainer message.
"""

from __future__ import annotations

import re
import threading

import duckdb
import pyarrow as pa

from lib.session import Session
from lib.settings import MAX_QUERY_SECONDS

ROWS_SHOWN = 10_000
MEMORY_LIMIT = "1GB"
MAX_RESULT_ROWS = 200_000
MAX_RESULT_BYTES = 64 * 2**20
BATCH_ROWS = 2_048
SANDBOX_CONFIG = {
    "python_enable_replacements": False,
    "autoinstall_known_extensions": False,
    "autoload_known_extensions": False,
    "allow_community_extensions": False,
    "memory_limit": MEMORY_LIMIT,
    "threads": 1,
}
# Run in this order once the tables are in: the paths can be emptied only while external
# access is on, and nothing can be set once the configuration is locked.
LOCK_DOWN = (
    "SET allowed_directories = []",
    "SET allowed_paths = []",
    "SET secret_directory = '.'",
    "SET extension_directory = '.'",
    "SET home_directory = '.'",
    "SET temp_directory = ''",
    "SET enable_external_access = false",
    "SET lock_configuration = true",
)
# An absolute path in an error message: shown only when the query itself named it.
PATH = re.compile(r"(?<![\w.])/[^\s\"',;)]+")


class QueryRefused(ValueError):
    """The SQL box does not run this statement; the message says why in plain words."""


class QueryTimedOut(QueryRefused):
    """The query ran past the time limit and was cancelled."""


def check_statement(sql: str) -> None:
    """Refuses anything but one SELECT, read by DuckDB's own parser (not by a pattern)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(f"The query could not be read: {_first_line(error, sql)}") from error
    if not statements:
        raise QueryRefused("There is no query to run: write one SELECT statement.")
    if len(statements) > 1:
        raise QueryRefused(
            f"The box runs one statement at a time; this holds {len(statements)}. "
            "Remove all but one SELECT."
        )
    kind = statements[0].type
    if kind == duckdb.StatementType.MULTI and _reads_as_a_subquery(statements[0].query):
        return
    if kind != duckdb.StatementType.SELECT:
        what = "not a query" if kind == duckdb.StatementType.MULTI else kind.name
        raise QueryRefused(
            f"Only SELECT queries run here (this is {what.replace('_', ' ')}): the box "
            "reads the loaded data and never changes it, files or settings."
        )


def _reads_as_a_subquery(statement: str) -> bool:
    """Whether a statement DuckDB runs in several steps is a query. A PIVOT whose columns come
    from the data (no IN list) runs so: DuckDB first reads the values into a type of the
    throwaway database, then selects. But so do CREATE TABLE … AS PIVOT and COPY (PIVOT …) TO,
    which write: only a query parses inside FROM ( … ). (The sandbox would refuse or throw away
    what they write anyway; this gives the plainer message.)"""
    # Parsed, never run.
    wrapped = f"SELECT * FROM (\n{statement.strip().removesuffix(';')}\n)"  # noqa: S608
    try:
        return len(duckdb.extract_statements(wrapped)) == 1
    except duckdb.Error:
        return False


def sandbox(session: Session) -> duckdb.DuckDBPyConnection:
    """A new in-memory database holding only the session's tables, locked as the module says."""
    con = session.connection(SANDBOX_CONFIG)
    for statement in LOCK_DOWN:
        con.execute(statement)
    return con


def run_query(sql: str, session: Session, timeout_seconds: float) -> pa.Table:
    """The whole result of one SELECT; QueryRefused (or QueryTimedOut) with a plain message."""
    check_statement(sql)
    timeout_seconds = min(timeout_seconds, MAX_QUERY_SECONDS)
    con = sandbox(session)
    timer = threading.Timer(timeout_seconds, con.interrupt)
    timer.start()
    try:
        return _bounded_result(con.sql(sql).to_arrow_reader(BATCH_ROWS))
    except duckdb.InterruptException as error:
        raise QueryTimedOut(
            f"The query ran past the time limit of {timeout_seconds:g} s and was cancelled. "
            "Narrow it (a WHERE, a LIMIT, fewer joins) and run it again."
        ) from error
    except duckdb.PermissionException as error:
        raise QueryRefused(
            "The SQL box reads only the loaded tables: files, other databases, extensions and "
            f"settings are out of its reach ({_first_line(error, sql)})."
        ) from error
    except duckdb.OutOfMemoryException as error:
        raise QueryRefused(
            f"The query needed more than the {MEMORY_LIMIT} of memory one query may use, and "
            "was stopped. Aggregate sooner (GROUP BY), or narrow it with a WHERE."
        ) from error
    except duckdb.Error as error:
        raise QueryRefused(f"The query failed: {_first_line(error, sql)}") from error
    finally:
        timer.cancel()
        con.close()


def _bounded_result(reader: pa.RecordBatchReader) -> pa.Table:
    """The batches of a result, refused as soon as they pass MAX_RESULT_ROWS or
    MAX_RESULT_BYTES: the page keeps a result to show and to download."""
    batches, rows, size = [], 0, 0
    for batch in reader:
        rows, size = rows + batch.num_rows, size + batch.nbytes
        if rows > MAX_RESULT_ROWS or size > MAX_RESULT_BYTES:
            raise QueryRefused(
                f"The result is larger than the SQL box keeps: more than {MAX_RESULT_ROWS:,} "
                f"rows or {MAX_RESULT_BYTES // 2**20} MB. Add a LIMIT or a WHERE, or aggregate "
                "with GROUP BY; the loaded export itself holds every deal."
            )
        batches.append(batch)
    return pa.Table.from_batches(batches, reader.schema)


def table_columns(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Each table a query may read -> its (column, type) pairs, for the panel beside the box."""
    con = sandbox(session)
    try:
        return {
            table: [(row[0], row[1]) for row in con.execute(f"DESCRIBE {table}").fetchall()]
            for table in session.table_names
        }
    finally:
        con.close()


def _first_line(error: Exception, sql: str = "") -> str:
    """The first line of DuckDB's message, with any path left out that the query did not name
    itself: the server's folders and user are nobody's business."""
    line = str(error).splitlines()[0]
    return PATH.sub(lambda path: path[0] if path[0] in sql else "…", line)
