"""The SQL box: one SELECT over the session's own tables; every way out of the sandbox refused.

Each refused case is checked twice where it can be: through run_query (the plain message) and
straight against the sandbox connection, so that DuckDB's own settings are shown to hold even
without the statement check in front of them.
"""

from dataclasses import replace
from datetime import date
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from lib import store
from lib.load.opportunities import load_opportunities
from lib.query import QueryRefused, QueryTimedOut, run_query, sandbox, table_columns
from lib.session import Session, assemble
from lib.settings import Settings

EXPORT = Path(__file__).parent / "data" / "explore_deals.csv"
STORE_ATTACKS = ("SELECT * FROM read_blob('{path}')", "SELECT * FROM '{path}'.snapshot_deals")


@pytest.fixture(scope="module")
def tables() -> Session:
    export = load_opportunities(EXPORT.read_bytes(), EXPORT.name)
    return assemble(export, Settings(as_of=date(2026, 5, 15)))


def refused(sql: str, tables: Session) -> str:
    with pytest.raises(QueryRefused) as raised:
        run_query(sql, tables, 10)
    return str(raised.value)


def test_a_select_reads_the_deals_with_the_exports_other_columns(tables):
    result = run_query(
        'SELECT "Product", sum(amount)::DOUBLE AS won FROM opportunities '
        "WHERE status = 'won' GROUP BY ALL ORDER BY won DESC",
        tables,
        10,
    )
    # Widget 100 + 400 + 999, Gadget 300, Gizmo 50.
    assert result.to_pylist() == [
        {"Product": "Widget", "won": 1499.0},
        {"Product": "Gadget", "won": 300.0},
        {"Product": "Gizmo", "won": 50.0},
    ]


def test_the_panel_lists_each_table_and_its_columns(tables):
    columns = table_columns(tables)
    assert list(columns) == ["opportunities", "targets", "reps", "push_counts"]
    assert ("Product", "VARCHAR") in columns["opportunities"]
    assert [name for name, _ in columns["reps"]] == ["owner", "team", "manager", "user_id"]


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM glob('/etc/*')",
    ],
)
def test_reading_files_is_refused(sql, tables):
    assert "out of its reach" in refused(sql, tables)


def test_a_file_name_in_place_of_a_table_is_no_table(tables):
    # DuckDB reads FROM 'file.csv' as a file only through a replacement scan, which is off.
    assert refused("SELECT * FROM '/etc/passwd'", tables) == (
        "The query failed: Catalog Error: Table with name /etc/passwd does not exist!"
    )


@pytest.mark.parametrize(
    ("sql", "kind"),
    [
        ("COPY opportunities TO '{path}'", "COPY"),
        ("EXPORT DATABASE '{path}'", "EXPORT"),
        ("ATTACH '{path}' AS other", "ATTACH"),
        ("INSTALL httpfs", "LOAD"),
        ("LOAD httpfs", "LOAD"),
        ("SET enable_external_access = true", "SET"),
        ("RESET enable_external_access", "SET"),
        ("PRAGMA enable_external_access", "PRAGMA"),
        ("PRAGMA threads = 1", "SET"),
        ("CREATE TABLE copy AS SELECT * FROM opportunities", "CREATE"),
        ("INSERT INTO reps VALUES ('Ana', 'East', 'Mo')", "INSERT"),
        ("UPDATE reps SET team = 'East'", "UPDATE"),
        ("DELETE FROM reps", "DELETE"),
        ("DROP VIEW opportunities", "DROP"),
        ("ALTER VIEW opportunities RENAME TO deals", "ALTER"),
    ],
)
def test_statements_other_than_select_are_refused(sql, kind, tables, tmp_path):
    message = refused(sql.format(path=tmp_path / "out"), tables)
    assert message.startswith(f"Only SELECT queries run here (this is {kind}")
    assert not (tmp_path / "out").exists()


def test_a_pivot_whose_columns_come_from_the_data_runs(tables):
    # DuckDB runs it in two steps (a MULTI statement): the statuses first, then the pivot.
    # Won: Ana 100 + 300 + 999, Ben 400, Cy 50; lost: Ana 200, Ben 100; open: Ben 1,000,
    # Cy 500 + 700.
    result = run_query(
        "PIVOT opportunities ON status USING sum(amount)::DOUBLE GROUP BY owner ORDER BY owner;",
        tables,
        10,
    )
    assert result.to_pylist() == [
        {"owner": "Ana", "lost": 200.0, "open": None, "won": 1399.0},
        {"owner": "Ben", "lost": 100.0, "open": 1000.0, "won": 400.0},
        {"owner": "Cy", "lost": None, "open": 1200.0, "won": 50.0},
    ]
    inside = run_query(
        "SELECT owner, won FROM (PIVOT opportunities ON status IN ('won') USING count(*) "
        "GROUP BY owner) "
        "ORDER BY owner",
        tables,
        10,
    )
    assert inside.to_pylist() == [
        {"owner": "Ana", "won": 3}, {"owner": "Ben", "won": 1}, {"owner": "Cy", "won": 1}
    ]  # fmt: skip


def test_an_unpivot_turns_columns_into_rows(tables):
    result = run_query(
        "UNPIVOT (SELECT owner, sum(amount)::DOUBLE AS amount, count(*)::DOUBLE AS deals "
        "FROM opportunities GROUP BY owner) ON amount, deals INTO NAME measure VALUE value "
        "ORDER BY owner, measure",
        tables,
        10,
    )
    # Ana 100 + 300 + 200 + 999 over 4 deals; Ben 400 + 100 + 1,000 over 3; Cy 50 + 500 + 700.
    assert [tuple(row.values()) for row in result.to_pylist()] == [
        ("Ana", "amount", 1599.0), ("Ana", "deals", 4.0),
        ("Ben", "amount", 1500.0), ("Ben", "deals", 3.0),
        ("Cy", "amount", 1250.0), ("Cy", "deals", 3.0),
    ]  # fmt: skip


@pytest.mark.parametrize(
    "sql",
    [
        "CREATE TABLE copy AS PIVOT opportunities ON status USING sum(amount)",
        "INSERT INTO reps PIVOT reps ON team USING count(*)",
        "COPY (PIVOT opportunities ON status USING sum(amount)) TO '{path}'",
        "WITH p AS (PIVOT opportunities ON status USING sum(amount)) "
        "INSERT INTO reps SELECT * FROM p",
        "EXPLAIN PIVOT opportunities ON status USING sum(amount)",
    ],
)
def test_a_pivot_that_writes_is_refused(sql, tables, tmp_path):
    message = refused(sql.format(path=tmp_path / "out"), tables)
    assert message.startswith("Only SELECT queries run here (this is not a query)")
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "PIVOT opportunities ON status USING sum(amount); DROP VIEW opportunities",
        "UNPIVOT reps ON team, manager INTO NAME k VALUE v; DELETE FROM reps",
    ],
)
def test_a_pivot_with_a_second_statement_is_refused(sql, tables):
    assert refused(sql, tables) == (
        "The box runs one statement at a time; this holds 2. Remove all but one SELECT."
    )
    # Nothing ran: every deal is still there.
    assert run_query("SELECT count(*) AS deals FROM opportunities", tables, 10).to_pylist() == [
        {"deals": 10}
    ]


def test_several_statements_in_one_are_refused(tables):
    message = refused("SELECT 1; SELECT * FROM read_csv('/etc/passwd')", tables)
    assert (
        message == "The box runs one statement at a time; this holds 2. Remove all but one SELECT."
    )


def test_a_select_that_reads_the_snapshot_store_is_refused(tables, snapshot_store):
    export = load_opportunities(EXPORT.read_bytes(), EXPORT.name)
    store.save_snapshot(store.snapshot_of_export(export, date(2026, 5, 15)), snapshot_store)
    assert snapshot_store.exists()
    for attack in STORE_ATTACKS:
        assert refused(attack.format(path=snapshot_store), tables)


@pytest.mark.parametrize(
    "sql",
    [
        "COPY opportunities TO '{path}'",
        "EXPORT DATABASE '{path}'",
        "ATTACH '{path}' AS other",
        "INSTALL httpfs",
        "LOAD httpfs",
    ],
)
def test_without_the_statement_check_duckdb_refuses_files_and_extensions(sql, tables, tmp_path):
    con = sandbox(tables)
    with pytest.raises(duckdb.PermissionException):
        con.execute(sql.format(path=tmp_path / "out"))
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SET enable_external_access = true",
        "RESET enable_external_access",
        "SET python_enable_replacements = true",
        "SET lock_configuration = false",
        "PRAGMA disable_optimizer",
    ],
)
def test_without_the_statement_check_the_configuration_stays_locked(sql, tables):
    con = sandbox(tables)
    with pytest.raises(duckdb.InvalidInputException, match="configuration has been locked"):
        con.execute(sql)
    assert con.execute("SELECT current_setting('enable_external_access')").fetchone() == (False,)


def test_python_variables_are_not_tables(tables):
    other_sessions_deals = pa.table({"owner": ["Someone else"]})  # noqa: F841 - must stay unseen
    assert "other_sessions_deals does not exist" in refused(
        "SELECT * FROM other_sessions_deals", tables
    )


def test_each_query_sees_only_its_own_sessions_tables(tables):
    other = assemble(replace(tables.export, deals=tables.export.deals.slice(0, 1)), tables.settings)
    assert run_query("SELECT count(*) AS n FROM opportunities", other, 10).to_pylist() == [{"n": 1}]
    assert run_query("SELECT count(*) AS n FROM opportunities", tables, 10).to_pylist() == [
        {"n": 10}
    ]
    # Nothing a query leaves behind reaches the next: a database of its own each time.
    assert run_query("SELECT count(*) AS n FROM duckdb_databases() WHERE NOT internal",
                     tables, 10).to_pylist() == [{"n": 1}]  # fmt: skip


def test_a_query_past_the_time_limit_is_cancelled_and_the_next_one_runs(tables):
    with pytest.raises(QueryTimedOut, match="ran past the time limit of 0.5 s and was cancelled"):
        run_query(
            "SELECT sum(a.range * b.range) FROM range(1000000) AS a, range(1000000) AS b",
            tables,
            0.5,
        )
    assert run_query("SELECT 1 AS one", tables, 0.5).to_pylist() == [{"one": 1}]


def test_an_empty_box_asks_for_a_query(tables):
    assert refused("  ", tables) == "There is no query to run: write one SELECT statement."


def test_a_query_duckdb_cannot_read_says_where(tables):
    assert refused("SELEC 1", tables).startswith("The query could not be read: Parser Error")


def test_the_time_limit_is_a_positive_number_of_seconds():
    from lib.settings import Settings

    assert Settings(as_of=date(2026, 5, 15)).query_timeout_seconds == 10.0
    with pytest.raises(ValueError, match="The SQL time limit is a number of seconds above 0"):
        Settings(as_of=date(2026, 5, 15), query_timeout_seconds=0)


def test_the_history_table_is_there_only_when_a_data_export_brings_one(tables):
    assert "history" not in table_columns(tables)
    assert refused("SELECT * FROM history", tables).startswith("The query failed: Catalog Error")
    changes = pa.table({"opportunity_id": ["a", "a", "b"], "pushed": [True, False, True]})
    with_history = replace(tables, history=changes)
    assert table_columns(with_history)["history"] == [
        ("opportunity_id", "VARCHAR"),
        ("pushed", "BOOLEAN"),
    ]
    pushes = run_query("SELECT count(*) FILTER (pushed) AS pushes FROM history", with_history, 10)
    assert pushes.to_pylist() == [{"pushes": 2}]


# --- Bounded: memory, threads, result size, time, and nothing of the server shown --------------


def test_a_query_past_its_memory_is_stopped_with_a_plain_message(tables):
    assert refused("SELECT len(list(range)) FROM range(300000000)", tables) == (
        "The query needed more than the 1GB of memory one query may use, and was stopped. "
        "Aggregate sooner (GROUP BY), or narrow it with a WHERE."
    )


def test_a_result_too_large_to_keep_is_refused_before_it_is_held(tables):
    # 20,000 rows of 100,000 characters: 2 GB if it were kept.
    assert refused("SELECT repeat('x', 100000) AS x FROM range(20000)", tables).startswith(
        "The result is larger than the SQL box keeps: more than 200,000 rows or 64 MB."
    )
    assert refused("SELECT range FROM range(200001)", tables).startswith("The result is larger")
    assert run_query("SELECT range FROM range(200000)", tables, 10).num_rows == 200_000


def test_the_sandbox_runs_on_one_thread_with_its_memory_limit(tables):
    con = sandbox(tables)
    try:
        settings = dict(
            con.execute(
                "SELECT name, value FROM duckdb_settings() WHERE name IN ('threads', 'memory_limit')"
            ).fetchall()
        )
        assert settings == {"threads": "1", "memory_limit": "953.6 MiB"}
    finally:
        con.close()


def test_no_setting_or_message_shows_a_path_or_user_of_the_server(tables):
    server = (str(Path.home()), str(Path.cwd()), str(Path(__file__).resolve().parent.parent))
    values = run_query("SELECT name, value FROM duckdb_settings()", tables, 10).to_pylist()
    shown = [row for row in values if row["value"] and any(p in row["value"] for p in server)]
    assert shown == []
    message = refused("SELECT * FROM duckdb_extensions()", tables)
    assert not any(path in message for path in server)


def test_the_time_limit_is_at_most_a_minute():
    with pytest.raises(ValueError, match="at most 60, not 600"):
        Settings(as_of=date(2026, 5, 15), query_timeout_seconds=600)
