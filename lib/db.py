"""One in-memory DuckDB database per browser session (or CLI run) over the loaded tables."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from lib.load.opportunities import encode_picklists
from lib.load.targets import empty_targets
from lib.stage_history import no_stage_days

EMPTY_REPS = pa.table(
    {"owner": pa.array([], pa.string()), "team": pa.array([], pa.string()),
     "manager": pa.array([], pa.string()), "user_id": pa.array([], pa.string())}
)  # fmt: skip
# Close-date pushes per deal (lib/changes.push_counts); none without snapshots to count them in.
NO_PUSHES = pa.table(
    {"opportunity_id": pa.array([], pa.string()), "pushes": pa.array([], pa.int32())}
)


# What the figures read of the deals again and again, by the name they read it under, and the
# SQL that gives it. The app sets these apart once per loaded export (set_apart); elsewhere they
# are views over the deals.
SET_APART_SQL = {
    # Queries of the pipeline alone read the open deals: 170,000 rows at a million deals.
    "open_opportunities": "SELECT * FROM opportunities WHERE status = 'open'",
    # Who sells, in which teams, and the first deal of each (by its row in the file): the people
    # of every pacing, a few hundred rows, not a million.
    "owner_teams": """
        SELECT owner, team, min(source_row) AS first_row
        FROM opportunities
        GROUP BY owner, team
    """,
    # Each account's first win (names compared without case or outer spaces), which makes a
    # later win repeat business: 94,000 accounts at a million deals.
    "first_wins": """
        SELECT lower(trim(account)) AS account_key, min(close_date) AS first_won
        FROM opportunities
        WHERE status = 'won' AND account IS NOT NULL
        GROUP BY 1
    """,
}


def _with_user_ids(reps: pa.Table) -> pa.Table:
    if "user_id" in reps.column_names:
        return reps
    return reps.append_column("user_id", pa.nulls(reps.num_rows, pa.string()))


def open_database(
    deals: pa.Table,
    targets: pa.Table | None = None,
    reps: pa.Table | None = None,
    rates: dict[str, float] | None = None,
    push_counts: pa.Table | None = None,
    config: dict[str, object] | None = None,
    opportunities: pa.Table | None = None,
    set_apart_tables: dict[str, pa.Table] | None = None,
    converted_amounts: bool = False,
    stage_days: pa.Table | None = None,
) -> duckdb.DuckDBPyConnection:
    """A private connection whose `opportunities` holds every figure's deals, and whose other
    tables hold what the figures read of them again and again (SET_APART_SQL): the open deals
    alone, each owner's teams, each account's first win.

    `opportunities` is a view over the tables, unless the deals were resolved already with the
    same reps and rates (resolve_deals) and are given here: a connection opened for every run of
    a page then reads them as they are, instead of joining them again in every query. Likewise
    `set_apart_tables` (set_apart of those deals): the pipeline's queries read a sixth of the
    deals, every pacing a few hundred owners.

    The Arrow tables are shared read-only (registering copies nothing); the reps file's team and
    manager win over the export's own, and its names replace the user IDs deals are owned by;
    with rates, amounts are converted into the display currency and a deal in a currency without
    a rate has no amount rather than a wrong one. With `converted_amounts`, each deal's amount
    is the one the export converted into the company's currency (its converted_amount column)
    and no rate applies. Either way the deal's own amount stays, as amount_in_deal_currency,
    with its currency. `push_counts` (opportunity_id, pushes) flags
    deals whose close date keeps moving; a session may register a newer one under the same name.
    `stage_days` (lib/stage_history.stage_days) gives open deals' days in stage, empty without
    stage history. `config` holds DuckDB settings to open the database with (the SQL box's sandbox).
    """
    con = duckdb.connect(config=config or {})
    con.register("loaded_deals", deals)
    con.register("targets", targets if targets is not None else empty_targets())
    con.register("reps", _with_user_ids(reps) if reps is not None else EMPTY_REPS)
    con.register("push_counts", push_counts if push_counts is not None else NO_PUSHES)
    con.register("stage_days", stage_days if stage_days is not None else no_stage_days())
    con.register(
        "rates",
        pa.table(
            {
                "currency": pa.array(list((rates or {}).keys()), pa.string()),
                "rate": pa.array(list((rates or {}).values()), pa.float64()),
            }
        ),
    )
    if converted_amounts:
        converted = "d.converted_amount"
    elif rates:
        converted = (
            "CASE WHEN d.currency IS NULL THEN d.amount "
            "ELSE CAST(d.amount * x.rate AS DECIMAL(18, 2)) END"
        )
    else:
        converted = "d.amount"
    con.execute(
        f"""
        CREATE VIEW resolved_deals AS
        SELECT
            d.* REPLACE (
                coalesce(named.owner, d.owner) AS owner,
                coalesce(r.team, d.team) AS team,
                coalesce(r.manager, d.manager) AS manager,
                {converted} AS amount
            ),
            d.amount AS amount_in_deal_currency
        FROM loaded_deals AS d
        -- A deal owned by a CRM user ID (a Data Export without User.csv) takes the name the
        -- reps file gives that ID; one name per ID, so that no deal is counted twice.
        LEFT JOIN (
            SELECT user_id, min(owner) AS owner FROM reps WHERE user_id IS NOT NULL GROUP BY 1
        ) AS named ON named.user_id = d.owner
        LEFT JOIN reps AS r ON r.owner = coalesce(named.owner, d.owner)
        LEFT JOIN rates AS x ON x.currency = d.currency
        """  # noqa: S608 - no user text in this SQL
    )
    if opportunities is None:
        con.execute("CREATE VIEW opportunities AS SELECT * FROM resolved_deals")
    else:
        con.register("opportunities", opportunities)
    if set_apart_tables is None:
        create_set_apart_views(con)
    else:
        for name, table in set_apart_tables.items():
            con.register(name, table)
    return con


def create_set_apart_views(con: duckdb.DuckDBPyConnection) -> None:
    """The set-apart tables as views over the connection's `opportunities`."""
    for name, sql in SET_APART_SQL.items():
        con.execute(f"CREATE VIEW {name} AS {sql}")  # noqa: S608 - our own names and SQL


def set_apart(deals: pa.Table) -> dict[str, pa.Table]:
    """What open_database sets apart, worked out once from resolved deals (resolve_deals); the
    open deals keep their order."""
    con = duckdb.connect()
    try:
        con.register("opportunities", deals)
        # The open deals come back from DuckDB with their picklists as plain text: encoding them
        # again made no page measurably faster at a million deals.
        return {name: con.sql(sql).to_arrow_table() for name, sql in SET_APART_SQL.items()}
    finally:
        con.close()


def resolve_deals(
    deals: pa.Table,
    reps: pa.Table | None = None,
    rates: dict[str, float] | None = None,
    converted_amounts: bool = False,
) -> pa.Table:
    """The deals as every figure reads them (see open_database), worked out once: at a million
    deals, joining the reps and rates again in every query cost a page about a fifth of its time.

    Only the owner, team, manager and amount change: those are taken from the view, in the
    deals' own order (by source_row), and set on the deals table, whose other columns are shared
    rather than copied. Deals in another order are taken from the view whole.
    """
    con = open_database(deals, reps=reps, rates=rates, converted_amounts=converted_amounts)
    try:
        changed = con.sql(
            "SELECT source_row, owner, team, manager, amount FROM resolved_deals "
            "ORDER BY source_row"
        ).to_arrow_table()
        if not changed["source_row"].equals(deals["source_row"]):
            return encode_picklists(con.sql("SELECT * FROM resolved_deals").to_arrow_table())
    finally:
        con.close()
    resolved = deals
    for name in RESOLVED_COLUMNS:
        resolved = resolved.set_column(resolved.schema.get_field_index(name), name, changed[name])
    resolved = encode_picklists(resolved)  # the owner, team and manager the reps file gave
    return resolved.append_column("amount_in_deal_currency", deals["amount"])


# The columns of the deals that the reps file and the rates change.
RESOLVED_COLUMNS = ("owner", "team", "manager", "amount")
