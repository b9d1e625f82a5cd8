"""The SQL box: one read-only SELECT over the session's own tables, in a sandbox, with a time limit.

Why the sandbox holds (the statement check below is only a courtesy that gives a plainer message):
- Each query gets a DuckDB database of its own, in memory, opened here and closed after: it
  holds this session's tables and nothing else, so no other browser session's data is there to
  be named, and whatever a statement could change is thrown away with it.
- `enable_external_access = false` is set when the database opens: DuckDB then refuses every
  file and network access (read_csv, read_text, glob, COPY … TO, EXPORT DATABASE, ATTACH of a
  file such as the snapshot store, INSTALL, LOAD of an extension from disk).
- `python_enable_replacements = false`: a table name that is not in the database is not looked
  up among the Python variables of the app (DuckDB's replacement scans would do so otherwise).
- Extensions are neither installed nor loaded by themselves (autoinstall / autoload off).
- `lock_configuration = true` once the tables are in: no SET, RESET or PRAGMA can change any of
  the above (or anything else) afterwards.
What DuckDB still allows there (CREATE TABLE, ATTACH ':memory:') stays inside that throwaway
database; the statement check refuses it anyway, with a plainer message.
"""

from __future__ import annotations

import threading

import duckdb
import pyarrow as pa

from lib.session import Session

ROWS_SHOWN = 10_000


class QueryRefused(ValueError):
    """The SQL box does not run this statement; the message says why in plain words."""


class QueryTimedOut(QueryRefused):
    """The query ran past the time limit and was cancelled."""


def check_statement(sql: str) -> None:
    """Refuses anything but one SELECT, read by DuckDB's own parser (not by a pattern)."""
    try:
        statements = duckdb.extract_statements(sql)
    except duckdb.Error as error:
        raise QueryRefused(f"The query could not be read: {_first_line(error)}") from error
    if not statements:
        raise QueryRefused("There is no query to run: write one SELECT statement.")
    if len(statements) > 1:
        raise QueryRefused(
            f"The box runs one statement at a time; this holds {len(statements)}. "
            "Remove all but one SELECT."
        )
    kind = statements[0].type
    if kind != duckdb.StatementType.SELECT:
        raise QueryRefused(
            f"Only SELECT queries run here (this is {kind.name.replace('_', ' ')}): the box "
            "reads the loaded data and never changes it, files or settings."
        )


def run_query(sql: str, session: Session, timeout_seconds: float) -> pa.Table:
    """The whole result of one SELECT; QueryRefused (or QueryTimedOut) with a plain message."""
    check_statement(sql)
    con = session.sandbox()
    timer = threading.Timer(timeout_seconds, con.interrupt)
    timer.start()
    try:
        return con.sql(sql).to_arrow_table()
    except duckdb.InterruptException as error:
        raise QueryTimedOut(
            f"The query ran past the time limit of {timeout_seconds:g} s and was cancelled. "
            "Narrow it (a WHERE, a LIMIT, fewer joins) and run it again."
        ) from error
    except duckdb.PermissionException as error:
        raise QueryRefused(
            "The SQL box reads only the loaded tables: files, other databases, extensions and "
            f"settings are out of its reach ({_first_line(error)})."
        ) from error
    except duckdb.Error as error:
        raise QueryRefused(f"The query failed: {_first_line(error)}") from error
    finally:
        timer.cancel()
        con.close()


def table_columns(session: Session) -> dict[str, list[tuple[str, str]]]:
    """Each table a query may read -> its (column, type) pairs, for the panel beside the box."""
    con = session.sandbox()
    try:
        return {
            table: [(row[0], row[1]) for row in con.execute(f"DESCRIBE {table}").fetchall()]
            for table in session.table_names
        }
    finally:
        con.close()


def _first_line(error: Exception) -> str:
    return str(error).splitlines()[0]
