"""What was loaded, in figures: deal counts and sums by status, date range, owners, gaps."""

from __future__ import annotations

from datetime import date

import duckdb
import pyarrow as pa

from lib.pacing import TEAM_OF_OWNER_SQL
from lib.sql import sql_file

# The export's own date: the latest day anything happened in it, never after today.
EXPORT_DATE_SQL = """
    SELECT max(day) FROM (
        SELECT created_date AS day FROM opportunities
        UNION ALL SELECT last_activity_date FROM opportunities
        UNION ALL SELECT close_date FROM opportunities WHERE status = 'won'
    )
    WHERE day <= $today
"""


def export_summary(con: duckdb.DuckDBPyConnection) -> dict[str, object]:
    """Counts and sums by status (amounts to 2 decimals), close-date range, owners, gaps."""
    cursor = con.execute(sql_file("export_summary"))
    names = [column[0] for column in cursor.description]
    summary = dict(zip(names, cursor.fetchone(), strict=True))
    for key in ("amount_won", "amount_lost", "amount_open"):
        summary[key] = round(float(summary[key]), 2)
    return summary


def stage_amounts(con: duckdb.DuckDBPyConnection, stages: list[str]) -> dict[str, float]:
    """The amount of each of these stages' deals (to 2 decimals), as the figures count it."""
    return dict(
        con.execute(
            "SELECT stage, round(coalesce(sum(amount), 0), 2)::DOUBLE FROM opportunities "
            "WHERE list_contains($stages, stage) GROUP BY stage",
            {"stages": stages},
        ).fetchall()
    )


def export_date(con: duckdb.DuckDBPyConnection, today: date) -> date:
    """The default as-of date: the export's own date, or today for an export with no dates."""
    (day,) = con.execute(EXPORT_DATE_SQL, {"today": today}).fetchone()
    return day or today


def default_as_of(deals: pa.Table, today: date | None = None) -> date:
    """The export's own date for a freshly loaded deals table (see export_date)."""
    con = duckdb.connect()
    try:
        con.register("opportunities", deals)
        return export_date(con, today or date.today())
    finally:
        con.close()


def owners(con: duckdb.DuckDBPyConnection):
    """One row per rep with team, manager, deal counts and amounts, as a pandas frame."""
    return con.execute(sql_file("owners")).df()


QUOTAS_SQL = """
    SELECT coalesce(owner, 'Whole team') AS owner, period_label, period_start, amount
    FROM targets
    ORDER BY owner IS NOT NULL, owner, period_start
"""


def quota_grid(con: duckdb.DuckDBPyConnection):
    """Targets as a grid: a row per rep (the whole team first), a column per period in order."""
    frame = con.execute(QUOTAS_SQL).df()
    if frame.empty:
        return frame
    periods = frame.drop_duplicates("period_label").sort_values("period_start")["period_label"]
    grid = frame.pivot_table(index="owner", columns="period_label", values="amount", aggfunc="sum")
    order = ["Whole team", *sorted(o for o in grid.index if o != "Whole team")]
    grid = grid.reindex(index=[o for o in order if o in grid.index], columns=list(periods))
    grid.index.name, grid.columns.name = "Owner", None
    return grid


TEAM_OF_SQL = f"""
    SELECT owner, {TEAM_OF_OWNER_SQL}
    FROM (
        SELECT owner, team, first_row FROM owner_teams
        UNION ALL
        SELECT owner, team, NULL FROM reps
    )
    GROUP BY owner
"""  # noqa: S608 - our own SQL


def team_of_each_rep(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """Each rep's team, from the reps file or the export (None when neither says)."""
    return dict(con.execute(TEAM_OF_SQL).fetchall())


def deals_named_by_user_id(con: duckdb.DuckDBPyConnection) -> int:
    """How many deals, owned by a CRM user ID in the export, take their owner's name from the
    reps file's Id column."""
    return con.execute(
        "SELECT count(*) FROM loaded_deals AS d "
        "WHERE d.owner IN (SELECT user_id FROM reps WHERE user_id IS NOT NULL)"
    ).fetchone()[0]


# A Salesforce user ID (a record ID whose key prefix 005 marks a User), in its 15- or
# 18-character form: an owner shown like this is a person the export did not name.
USER_ID_PATTERN = "^005[A-Za-z0-9]{12}([A-Za-z0-9]{3})?$"


def owners_shown_as_user_ids(con: duckdb.DuckDBPyConnection) -> int:
    """How many of the figures' owners are CRM user IDs that nothing loaded gives a name to."""
    return con.execute(
        "SELECT count(DISTINCT owner) FROM opportunities WHERE regexp_matches(owner, $pattern)",
        {"pattern": USER_ID_PATTERN},
    ).fetchone()[0]
