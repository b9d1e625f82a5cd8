"""What changed between two exports: the pipeline waterfall, per-deal changes, pushes, regressions.

The waterfall follows one period's open pipeline (by default the fiscal quarter of the newer
export's as-of date). A deal is *in the pipeline* at a date when it is open and its close date
lies in the period, overdue days included; its value is its amount (none counts as 0).

    start = the pipeline's value at the older date; end = the same at the newer date.

Every deal in the pipeline at either date makes exactly one movement, decided by where it was
at the two dates, never by what happened in between:

- in the pipeline at both dates:
  - increased: the amount rose, by the rise;
  - decreased: the amount fell, by the fall (an unchanged amount is no movement);
- in the pipeline at the older date only, with its older amount (an amount change on the way
  out is not counted on its own; the table of deals shows it):
  - removed: the deal is gone from the newer export;
  - won: the deal is won;
  - lost: the deal is lost;
  - pushed out: the deal is still open, its close date now outside the period (later,
    earlier, or cleared);
- in the pipeline at the newer date only, with its newer amount:
  - new: the deal is not in the older export;
  - pulled in: the deal was in the older export, open with a close date outside the period
    (or none), or closed and now reopened.

So start + new + pulled_in + increased - decreased - pushed_out - won - lost - removed = end,
to the cent (amounts are Decimals). A deal in the pipeline at neither date (a deal from next
quarter won this week, say) makes no movement, and is still listed among the changed deals.

Deals are matched by opportunity ID. When an export has deals without one (the loader numbers
them "row-N"), deals are matched by name, account and owner instead, with a warning: a deal
renamed or handed to another rep then shows as removed and new.

A close-date *push* is an open deal's close date moved to a later day between two consecutive
snapshots in which the deal is open. Pushes are counted over every snapshot, in date order, and
never netted against pull-ins: 1 Dec → 15 Dec → 1 Dec → 20 Dec is two pushes.

A *stage regression* is a deal open at both dates whose stage moved earlier in the newer export's
stage order (the order of lib/load/stages); when either stage is not in that order, a move to a
stage with a lower probability.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import date
from decimal import Decimal

import duckdb
import pandas as pd
import pyarrow as pa

from lib.fiscal import Period, fiscal_quarter
from lib.format import money
from lib.settings import Settings
from lib.sql import sql_file
from lib.store import Snapshot

MOVEMENTS = ("new", "pulled_in", "increased", "decreased", "pushed_out", "won", "lost", "removed")
# Movements that take value out of the pipeline: subtracted on the way from start to end.
OUTFLOWS = frozenset({"decreased", "pushed_out", "won", "lost", "removed"})
MOVEMENT_LABELS = {
    "new": "New",
    "pulled_in": "Pulled in",
    "increased": "Increased",
    "decreased": "Decreased",
    "pushed_out": "Pushed out",
    "won": "Won",
    "lost": "Lost",
    "removed": "Removed",
}
BY_ID = "opportunity ID"
BY_NAME = "name, account and owner"
# The loader's ID for a row that had none: "row-" and the row's number in the file.
GENERATED_ID = r"row-[0-9]+"
# How a deal is recognised from one export to the next. By name, deals sharing a name, account
# and owner are told apart by their order in the file (the loader's row number, when it made
# the ID). `within` partitions by snapshot when several are in one table.
ID_KEY = "opportunity_id"
NAME_KEY = """concat_ws(chr(31), coalesce(name, ''), coalesce(account, ''), coalesce(owner, ''),
    row_number() OVER (
        PARTITION BY {within} name, account, owner
        ORDER BY try_cast(regexp_extract(opportunity_id, '^row-([0-9]+)$', 1) AS BIGINT),
            opportunity_id
    )::VARCHAR)"""

PIPELINE_VALUE_SQL = """
    SELECT
        (SELECT coalesce(sum(coalesce(amount, 0)), 0) FROM older
         WHERE status = 'open' AND close_date BETWEEN $period_start AND $period_end),
        (SELECT coalesce(sum(coalesce(amount, 0)), 0) FROM newer
         WHERE status = 'open' AND close_date BETWEEN $period_start AND $period_end)
"""


@dataclass(frozen=True)
class Waterfall:
    """The period's open pipeline at the older date, each movement (all ≥ 0), and at the newer."""

    start: Decimal
    new: Decimal
    pulled_in: Decimal
    increased: Decimal
    decreased: Decimal
    pushed_out: Decimal
    won: Decimal
    lost: Decimal
    removed: Decimal
    end: Decimal

    @property
    def net(self) -> Decimal:
        return self.end - self.start

    @property
    def reconciles(self) -> bool:
        """start plus the inflows minus the outflows is end, to the cent."""
        moved = sum(
            (-getattr(self, m) if m in OUTFLOWS else getattr(self, m) for m in MOVEMENTS),
            Decimal(0),
        )
        return self.start + moved == self.end


@dataclass(frozen=True)
class DealChange:
    """One deal that changed between the two exports, and its movement in the waterfall."""

    opportunity_id: str
    name: str | None
    account: str | None
    owner: str | None
    movement: str | None
    movement_amount: Decimal
    in_older: bool
    in_newer: bool
    in_pipeline_before: bool
    in_pipeline_after: bool
    status_before: str | None
    status_after: str | None
    stage_before: str | None
    stage_after: str | None
    amount_before: Decimal | None
    amount_after: Decimal | None
    close_date_before: date | None
    close_date_after: date | None
    regressed: bool


@dataclass(frozen=True)
class Changes:
    """Everything the changes page and `cli changes` show for two exports."""

    older: Snapshot
    newer: Snapshot
    period: Period
    waterfall: Waterfall
    deals: tuple[DealChange, ...]
    matched_by: str
    warnings: tuple[str, ...]
    currency: str | None

    @property
    def regressions(self) -> tuple[DealChange, ...]:
        return tuple(deal for deal in self.deals if deal.regressed)


def generated_ids(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """How many deals of a table (our own name) carry an ID the loader made up."""
    sql = f"SELECT count(*) FROM {table} WHERE regexp_full_match(opportunity_id, $pattern)"  # noqa: S608
    return con.execute(sql, {"pattern": GENERATED_ID}).fetchall()[0][0]


def _create_keyed_view(con: duckdb.DuckDBPyConnection, view: str, table: str, key: str) -> None:
    """Creates `view`: the deals of `table`, each with the key it is matched by (deal_key, the
    SQL of ID_KEY or NAME_KEY). The names are our own."""
    con.execute(f"CREATE VIEW {view} AS SELECT *, {key} AS deal_key FROM {table}")  # noqa: S608


def compare(
    older: Snapshot, newer: Snapshot, settings: Settings, period: Period | None = None
) -> Changes:
    """The waterfall, the changed deals and the warnings from `older` to `newer`."""
    period = period or fiscal_quarter(newer.as_of, settings)
    con = duckdb.connect()
    try:
        con.register("older_deals", older.deals)
        con.register("newer_deals", newer.deals)
        without_ids = {
            snapshot.label: generated_ids(con, table)
            for snapshot, table in ((older, "older_deals"), (newer, "newer_deals"))
        }
        by_name = any(without_ids.values())
        key = NAME_KEY.format(within="") if by_name else ID_KEY
        for view, table in (("older", "older_deals"), ("newer", "newer_deals")):
            _create_keyed_view(con, view, table, key)
        con.register(
            "stage_order",
            pa.table(
                {
                    "stage": pa.array(newer.stage_order, pa.string()),
                    "position": pa.array(range(len(newer.stage_order)), pa.int32()),
                }
            ),
        )
        window = {"period_start": period.start, "period_end": period.end}
        start, end = con.execute(PIPELINE_VALUE_SQL, window).fetchall()[0]
        cursor = con.execute(sql_file("changes"), window)
        names = [column[0] for column in cursor.description]
        deals = [DealChange(**dict(zip(names, row, strict=True))) for row in cursor.fetchall()]
        warnings = matching_warnings(con, without_ids, by_name) + currency_warnings(con)
        currency = _most_common_currency(con)
    finally:
        con.close()
    totals = {movement: Decimal(0) for movement in MOVEMENTS}
    for deal in deals:
        if deal.movement:
            totals[deal.movement] += deal.movement_amount
    return Changes(
        older=older,
        newer=newer,
        period=period,
        waterfall=Waterfall(start=Decimal(start), end=Decimal(end), **totals),
        deals=tuple(sorted(deals, key=_table_order)),
        matched_by=BY_NAME if by_name else BY_ID,
        warnings=tuple(warnings),
        currency=currency,
    )


def _table_order(deal: DealChange) -> tuple:
    """The waterfall's order, the largest movement first; deals without a movement last."""
    rank = MOVEMENTS.index(deal.movement) if deal.movement else len(MOVEMENTS)
    return (rank, -deal.movement_amount, deal.owner or "", deal.name or "", deal.opportunity_id)


def matching_warnings(
    con: duckdb.DuckDBPyConnection, without_ids: dict[str, int], by_name: bool
) -> list[str]:
    """Why deals were matched by name, and how many could only be told apart by file order."""
    if not by_name:
        return []
    lacking = "; ".join(
        f"{label}: {count:,} deal{'' if count == 1 else 's'} without an opportunity ID"
        for label, count in without_ids.items()
        if count
    )
    warnings = [
        f"Deals are matched by name, account and owner, not by opportunity ID ({lacking}). "
        "A deal renamed, moved to another account or handed to another rep shows as removed "
        "and new."
    ]
    (twins,) = con.execute(
        """
        SELECT count(*) FROM (
            SELECT name, account, owner FROM older_deals GROUP BY ALL HAVING count(*) > 1
            UNION ALL
            SELECT name, account, owner FROM newer_deals GROUP BY ALL HAVING count(*) > 1
        )
        """
    ).fetchall()[0]
    if twins:
        warnings.append(
            f"{twins:,} name, account and owner combination{'' if twins == 1 else 's'} "
            "belong to more than one deal in the same export; such deals are matched in the "
            "order of the file."
        )
    return warnings


def currency_warnings(con: duckdb.DuckDBPyConnection) -> list[str]:
    currencies = [
        row[0]
        for row in con.execute(
            "SELECT DISTINCT currency FROM (SELECT currency FROM older_deals "
            "UNION ALL SELECT currency FROM newer_deals) WHERE currency IS NOT NULL ORDER BY 1"
        ).fetchall()
    ]
    if len(currencies) < 2:
        return []
    return [
        f"These exports hold amounts in {', '.join(currencies)}: the figures add them as "
        "exported, without converting them."
    ]


def _most_common_currency(con: duckdb.DuckDBPyConnection) -> str | None:
    rows = con.execute(
        "SELECT currency FROM newer_deals WHERE currency IS NOT NULL "
        "GROUP BY currency ORDER BY count(*) DESC, currency LIMIT 1"
    ).fetchall()
    return rows[0][0] if rows else None


def push_counts(history: pa.Table) -> pa.Table:
    """Close-date pushes per deal over the snapshots in `history` (as_of, opportunity_id, name,
    account, owner, status, close_date), for the deals of its latest snapshot pushed at least
    once: opportunity_id, name, account, owner, status, pushes, first_close_date, close_date."""
    con = duckdb.connect()
    try:
        con.register("history", history)
        by_name = generated_ids(con, "history") > 0
        key = NAME_KEY.format(within="as_of,") if by_name else ID_KEY
        _create_keyed_view(con, "keyed_history", "history", key)
        return con.sql(sql_file("snapshot_pushes")).to_arrow_table()
    finally:
        con.close()


def headline(changes: Changes) -> str:
    """ "Q4 FY2026 pipeline, 13 Nov → 20 Nov: +$120K ($2.1M → $2.2M)"."""
    waterfall, currency = changes.waterfall, changes.currency
    net = waterfall.net
    moved = "no change" if net == 0 else ("+" if net > 0 else "") + money(net, currency)
    return (
        f"{changes.period.label} pipeline, {changes.older.as_of:%-d %b} → "
        f"{changes.newer.as_of:%-d %b}: {moved} ({money(waterfall.start, currency)} → "
        f"{money(waterfall.end, currency)})"
    )


def what_changed(deal: DealChange, currency: str | None) -> str:
    """The deal's changes in words: "close date pushed 15 Dec 2026 → 20 Jan 2027; amount …"."""
    if not deal.in_older:
        return "new in the export"
    if not deal.in_newer:
        return "gone from the export"
    parts = []
    if deal.status_before != deal.status_after:
        parts.append("reopened" if deal.status_after == "open" else deal.status_after or "")
    both_open = deal.status_before == deal.status_after == "open"
    if both_open and deal.close_date_before != deal.close_date_after:
        parts.append(_close_date_change(deal.close_date_before, deal.close_date_after))
    if deal.amount_before != deal.amount_after:
        parts.append(
            f"amount {money(deal.amount_before, currency)} → {money(deal.amount_after, currency)}"
        )
    if deal.stage_before != deal.stage_after:
        back = " (back)" if deal.regressed else ""
        parts.append(f"stage {deal.stage_before} → {deal.stage_after}{back}")
    return "; ".join(part for part in parts if part)


def _close_date_change(before: date | None, after: date | None) -> str:
    if before is None:
        return f"close date set to {after:%-d %b %Y}"
    if after is None:
        return f"close date cleared (was {before:%-d %b %Y})"
    direction = "pushed" if after > before else "pulled in"
    return f"close date {direction} {before:%-d %b %Y} → {after:%-d %b %Y}"


def deal_json(deal: DealChange, currency: str | None) -> dict[str, object]:
    """One deal of the `deals` list of `cli changes`."""
    return {
        **{field.name: getattr(deal, field.name) for field in fields(deal)},
        "what_changed": what_changed(deal, currency),
    }


def for_json(changes: Changes, pushes: pa.Table) -> dict[str, object]:
    """What `cli changes --json` prints (amounts as Decimals: json_ready makes them numbers)."""
    waterfall = changes.waterfall
    return {
        "period": {
            "label": changes.period.label,
            "start": changes.period.start,
            "end": changes.period.end,
        },
        "older": {"as_of": changes.older.as_of, "source": changes.older.label},
        "newer": {"as_of": changes.newer.as_of, "source": changes.newer.label},
        "currency": changes.currency,
        "matched_by": changes.matched_by,
        "warnings": list(changes.warnings),
        **{field.name: getattr(waterfall, field.name) for field in fields(waterfall)},
        "deals": [deal_json(deal, changes.currency) for deal in changes.deals],
        "stage_regressions": [deal.opportunity_id for deal in changes.regressions],
        "pushes": pushes.to_pylist(),
    }


def deals_table(deals: tuple[DealChange, ...], currency: str | None) -> pd.DataFrame:
    """The changed deals as the page's table and CSV show them, in the user's words."""
    return pd.DataFrame(
        {
            "Rep": [deal.owner for deal in deals],
            "Deal": [deal.name for deal in deals],
            "Movement": [MOVEMENT_LABELS.get(deal.movement, "") for deal in deals],
            "Moved": pd.array(
                [deal.movement_amount if deal.movement else None for deal in deals],
                dtype="Float64",
            ),
            "What changed": [what_changed(deal, currency) for deal in deals],
            "Amount before": pd.array([deal.amount_before for deal in deals], dtype="Float64"),
            "Amount now": pd.array([deal.amount_after for deal in deals], dtype="Float64"),
            "Close date before": [deal.close_date_before for deal in deals],
            "Close date now": [deal.close_date_after for deal in deals],
            "Stage before": [deal.stage_before for deal in deals],
            "Stage now": [deal.stage_after for deal in deals],
            "Account": [deal.account for deal in deals],
            "Opportunity ID": [deal.opportunity_id for deal in deals],
        }
    )


def pushes_table(pushes: pa.Table) -> pd.DataFrame:
    """Push counts as the page's table and CSV show them."""
    rows = pushes.to_pylist()
    return pd.DataFrame(
        {
            "Rep": [row["owner"] for row in rows],
            "Deal": [row["name"] for row in rows],
            "Account": [row["account"] for row in rows],
            "Pushes": pd.array([row["pushes"] for row in rows], dtype="Int64"),
            "First close date": [row["first_close_date"] for row in rows],
            "Close date now": [row["close_date"] for row in rows],
            "Status": [row["status"] for row in rows],
            "Opportunity ID": [row["opportunity_id"] for row in rows],
        }
    )
