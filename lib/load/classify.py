"""Each row of an export read and classified in SQL: its status, stage, and why it is rejected."""

from __future__ import annotations

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.load.mapping import AMOUNT_FIELDS, DATE_FIELDS
from lib.load.parsed_fields import PARSED_FIELDS, parameter_name, parsed_column, parsing_macro
from lib.load.stages import StageRule
from lib.sql import sql_file

TEXT_FIELDS = ("opportunity_id", "name", "account", "owner", "stage", "lead_source", "type",
               "next_step", "team", "manager", "status", "loss_reason")  # fmt: skip
# Text fields the deals hold as their cells are, once cleaned: a column clean_text would not
# change is copied from the raw table in Arrow rather than written out again by the query.
AS_READ_FIELDS = ("name", "account", "owner", "lead_source", "type", "next_step", "team", "manager")
BOOL_FIELDS = ("is_won", "is_closed", "is_deleted")
DUPLICATE_REASON = "duplicate opportunity ID (the first row with it is kept)"


def cells_sql(columns: dict[str, str], parsed: frozenset[str]) -> str:
    """A SELECT of every field parsed from its raw column, and the text of each parsed field's
    cell that could not be read (NULL where it was read, or blank)."""
    keys = [*TEXT_FIELDS, *BOOL_FIELDS, *PARSED_FIELDS, "currency", "forecast_category"]
    cells = ",\n".join(f"{_cell(key, columns, parsed)} AS {key}" for key in keys)
    # DuckDB parses each cell once for both columns (it finds the common expression); the text
    # is kept only where the parse failed, to count and show those cells.
    unread = ",\n".join(
        f'CASE WHEN {_cell(key, columns, parsed)} IS NULL THEN clean_text("{columns[key]}") END '
        f"AS unread_{key}"
        for key in PARSED_FIELDS
        if key in columns
    )
    # Only our own column names (c0, c1…) and field keys go into this SQL, never file text.
    return f"""
        SELECT
            source_row,
            {cells}{"," if unread else ""}
            {unread}
        FROM raw
    """  # noqa: S608


def _cell(key: str, columns: dict[str, str], parsed: frozenset[str]) -> str:
    """The SQL that reads one canonical field from its raw column, a typed NULL when unmapped
    (so that a date the export lacks still compares with dates), or its column of values
    parsed once per distinct cell when it is in `parsed`."""
    if key not in columns:
        return f"NULL::{_sql_type(key)}"
    if key in parsed:
        return f'"{parsed_column(key)}"'
    column = f'"{columns[key]}"'
    if key in PARSED_FIELDS:
        return f"{parsing_macro(key)}({column}, ${parameter_name(key)})"
    if key in BOOL_FIELDS:
        return f"parse_bool({column})"
    if key == "currency":
        return f"upper(clean_text({column}))"
    if key == "forecast_category":
        return f"parse_forecast_category({column})"
    return f"clean_text({column})"


def _sql_type(key: str) -> str:
    if key in AMOUNT_FIELDS:
        return "DECIMAL(18, 2)"
    if key in DATE_FIELDS:
        return "DATE"
    if key == "probability":
        return "DOUBLE"
    if key in BOOL_FIELDS:
        return "BOOLEAN"
    return "VARCHAR"


def _reading_stated(cells: str, query: str) -> str:
    """`query` over `stated`: the rows of `cells` with the status the export states. `cells` is
    named inside `stated`, so that where DuckDB keeps a table of `stated` to read twice (the
    stages' mode), it keeps only the columns the query reads of it."""
    return f"WITH stated AS (WITH cells AS ({cells}) {sql_file('stated_status')}) {query}"


def stages_in_order(
    con: duckdb.DuckDBPyConnection, cells: str, parameters: dict[str, object]
) -> list[tuple[str, int, str | None]]:
    """Each stage, its count of deals and the status the export states for it, in the order
    of the sales process (stages_in_order.sql)."""
    return con.execute(_reading_stated(cells, sql_file("stages_in_order")), parameters).fetchall()


def stage_signals(
    con: duckdb.DuckDBPyConnection, cells: str, parameters: dict[str, object]
) -> list[tuple[str, str, str, int]]:
    """What each column that speaks to a deal's status says of each stage's deals:
    (stage, signal, verdict, deals) (stage_signals.sql)."""
    return con.execute(_reading_stated(cells, sql_file("stage_signals")), parameters).fetchall()


def classified_rows(
    con: duckdb.DuckDBPyConnection,
    cells: str,
    parameters: dict[str, object],
    rules: list[StageRule],
    as_read: tuple[str, ...],
) -> pa.Table:
    """Every row classified (classified_deals.sql), with why it is rejected (NULL when it is
    kept) and, for each parsed field, the text of a cell that could not be read. The text fields
    in `as_read` are left out: the caller takes them from the raw table."""
    left_out = f" EXCLUDE ({', '.join(as_read)})" if as_read else ""
    query = f"SELECT *{left_out} FROM ({sql_file('classified_deals')})"  # noqa: S608 - our names
    return con.sql(
        _reading_stated(cells, query), params={**parameters, **_rule_parameters(rules)}
    ).to_arrow_table()


def _rule_parameters(rules: list[StageRule]) -> dict[str, list]:
    """The stage rules as lists side by side, looked up by a stage's position in the first: a
    join to a table of rules would give the deals back out of the file's order."""
    return {
        "rule_stages": [r.stage for r in rules],
        "rule_statuses": [r.status for r in rules],
        "rule_probabilities": [r.probability for r in rules],
        "rule_late": [r.late for r in rules],
        "rule_edited": [r.edited for r in rules],
    }


def with_duplicates_rejected(con: duckdb.DuckDBPyConnection, checked: pa.Table) -> pa.Table:
    """The checked rows (registered here as `checked`) with each later usable row of a repeated
    ID rejected: the first is kept. The rows are marked in Arrow, so they stay in the file's
    order."""
    con.register("checked", checked)
    repeated = con.sql(sql_file("repeated_id_rows")).to_arrow_table()["source_row"]
    if not len(repeated):
        return checked
    reasons = pc.if_else(
        pc.is_in(checked["source_row"], value_set=repeated.combine_chunks()),
        DUPLICATE_REASON,
        checked["reject_reason"],
    )
    return checked.set_column(
        checked.schema.get_field_index("reject_reason"), "reject_reason", reasons
    )
