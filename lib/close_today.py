"""What can we close today: each rep's open late-stage deals due now, and the nearest after.

A deal is on the list when it is open, late stage (a forecast category counted as late, a
probability at or above the threshold, or a stage marked late) and its close date is on or
before the as-of date plus the window (0 days: due today or overdue), but not more than
`stale_after_days` before the as-of date. A deal overdue by longer is stale: a CRM clean-up,
listed apart and never counted in what can close. A deal is flagged for close-date pushes from
the connection's `push_counts` (counted over saved snapshots by lib/changes.py), which is empty
until there is history.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from functools import cached_property
from itertools import chain

import duckdb
import pandas as pd
import pyarrow as pa

from lib.format import money, percent
from lib.settings import Settings
from lib.sql import sql_file

OVERDUE = "close date passed: close it or move it"
NO_NEXT_STEP = "no next step"
# How many of the nearest later deals to show when there is nothing to close now.
NEAREST_COUNT = 5
DEAL_REPORT_FIELDS = ("opportunity_id", "name", "account", "stage", "amount", "probability",
                      "close_date", "days_overdue", "days_since_activity", "next_step",
                      "flags")  # fmt: skip


@dataclass(frozen=True)
class DealToClose:
    """A deal on a close-today list, with what the rep needs to act on it."""

    opportunity_id: str
    owner: str
    name: str | None
    account: str | None
    stage: str
    forecast_category: str
    amount: Decimal | None
    probability: float | None
    weighted: Decimal | None
    close_date: date
    days_overdue: int
    days_since_activity: int | None
    next_step: str | None
    flags: tuple[str, ...]
    # Days in the current stage where stage history dates its entry (lib/stage_history.py).
    days_in_stage: int | None = None


@dataclass(frozen=True)
class RepCloseList:
    """One rep's deals that can close now, in the order to work them, with their count and
    totals. The deals are built from their rows the first time they are read: a large sales
    floor has tens of thousands due, and a page shows a few hundred of them."""

    owner: str
    count: int
    total: Decimal  # of the deals that have an amount
    weighted: Decimal
    without_amount: int  # deals whose amount the export does not give
    rows: pa.Table = field(repr=False, compare=False)
    settings: Settings = field(repr=False, compare=False)

    @property
    def priced(self) -> bool:
        """Whether any of the deals has an amount: else the totals are unknown, not $0."""
        return self.without_amount < self.count

    @property
    def known_total(self) -> Decimal | None:
        return self.total if self.priced else None

    @property
    def known_weighted(self) -> Decimal | None:
        return self.weighted if self.priced else None

    @cached_property
    def deals(self) -> tuple[DealToClose, ...]:
        columns = (column.to_pylist() for column in self.rows.columns)
        return tuple(deals_from(zip(*columns, strict=True), self.settings))


def due_by(settings: Settings) -> date:
    """The last close date on the list: the as-of date plus the window."""
    return settings.as_of + timedelta(days=settings.close_window_days)


def earliest_close_date(settings: Settings) -> date:
    """The earliest close date of a deal that can close: `stale_after_days` before the as-of
    date. A deal due before it is stale."""
    return settings.as_of - timedelta(days=settings.stale_after_days)


def close_today(
    con: duckdb.DuckDBPyConnection, settings: Settings, owner: str | None = None
) -> list[RepCloseList]:
    """Each rep with a deal that can close now (due within the window, and not stale), the
    largest total first (ties by name); only `owner`'s list when given (none when they have no
    such deal)."""
    return _rep_lists(con, settings, _latest_stale_close_date(settings), due_by(settings), owner)


def stale(
    con: duckdb.DuckDBPyConnection, settings: Settings, owner: str | None = None
) -> list[RepCloseList]:
    """Each rep's stale deals: late-stage deals overdue by more than `stale_after_days`, to
    close or move in the CRM. In the same order and shape as `close_today`."""
    return _rep_lists(con, settings, None, _latest_stale_close_date(settings), owner)


def _latest_stale_close_date(settings: Settings) -> date:
    return earliest_close_date(settings) - timedelta(days=1)


def _rep_lists(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    after: date | None,
    through: date,
    owner: str | None,
) -> list[RepCloseList]:
    """Each rep's late-stage deals with a close date after `after` (when given) and on or before
    `through`, with their count and totals, the largest total first."""
    parameters = _parameters(settings, after, through, owner)
    due = sql_file("close_today")
    reps = con.execute(
        f"""
        SELECT owner, count(*), coalesce(sum(amount), 0), coalesce(sum(weighted), 0),
            count(*) FILTER (WHERE amount IS NULL)
        FROM ({due}) GROUP BY owner ORDER BY 3 DESC, owner
        """,  # noqa: S608 - our own SQL
        parameters,
    ).fetchall()
    # The same deals, each rep's together in the reps' order, each in work order.
    rows = con.sql(
        f"""
        SELECT * EXCLUDE (work_order) FROM ({due})
        ORDER BY coalesce(sum(amount) OVER (PARTITION BY owner), 0) DESC, owner, work_order
        """,  # noqa: S608 - our own SQL
        params=parameters,
    ).to_arrow_table()
    lists, start = [], 0
    for owner, count, total, weighted, without_amount in reps:
        deals = rows.slice(start, count)
        lists.append(RepCloseList(owner, count, total, weighted, without_amount, deals, settings))
        start += count
    return lists


def every_deal(lists: Iterable[RepCloseList]) -> Iterator[DealToClose]:
    """Every rep's deals one rep after the other, built only as far as they are read."""
    return chain.from_iterable(rep_list.deals for rep_list in lists)


def nearest(
    con: duckdb.DuckDBPyConnection, settings: Settings, owner: str | None = None
) -> list[DealToClose]:
    """The late-stage deals due soonest after the window, for one rep or (no owner) the team:
    what to work on when nothing can close now."""
    later = late_stage_deals(con, settings, after=due_by(settings), through=None, owner=owner)
    # A stable sort: deals due the same day stay in work order.
    return sorted(later, key=lambda deal: deal.close_date)[:NEAREST_COUNT]


def late_stage_deals(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    after: date | None,
    through: date | None,
    owner: str | None = None,
) -> list[DealToClose]:
    """Open late-stage deals (`owner`'s alone when given) with a close date after `after` and on
    or before `through`, in the order to work them (lib/sql/close_today.sql)."""
    rows = con.execute(
        f"SELECT * EXCLUDE (work_order) FROM ({sql_file('close_today')}) ORDER BY work_order",  # noqa: S608
        _parameters(settings, after, through, owner),
    ).fetchall()
    return list(deals_from(rows, settings))


def _parameters(
    settings: Settings, after: date | None, through: date | None, owner: str | None = None
) -> dict:
    return {
        "as_of": settings.as_of,
        "owner": owner,
        "after": after,
        "through": through,
        "late_forecast_categories": list(settings.late_forecast_categories),
        "late_min_probability": settings.late_min_probability,
    }


def deals_from(rows: Iterable[tuple], settings: Settings) -> Iterator[DealToClose]:
    """Deals from rows of close_today.sql: DealToClose's fields in their order, then the pushes,
    days in stage and the stage's median days behind the flags. Built by position, tens of
    thousands of deals cost no dict each."""
    for *fields, days_overdue, days_since_activity, next_step, pushes, in_stage, usual in rows:
        flags = deal_flags(days_overdue, days_since_activity, next_step, settings, pushes)
        stalled = stalled_flag(fields[4], in_stage, usual, settings)
        yield DealToClose(
            *fields, days_overdue, days_since_activity, next_step,
            flags + ((stalled,) if stalled else ()), in_stage,
        )  # fmt: skip


def deal_flags(
    days_overdue: int,
    days_since_activity: int | None,
    next_step: str | None,
    settings: Settings,
    pushes: int = 0,
) -> tuple[str, ...]:
    """What needs the rep's attention, most urgent first. A deal whose last activity is not
    known is not flagged for it: the export may simply not carry activity dates."""
    flags = []
    if days_overdue > 0:
        flags.append(OVERDUE)
    if pushes >= settings.pushes_to_flag:
        flags.append(pushed_flag(pushes))
    if days_since_activity is not None and days_since_activity >= settings.no_activity_days:
        flags.append(f"no activity ≥ {settings.no_activity_days} days")
    if not (next_step or "").strip():
        flags.append(NO_NEXT_STEP)
    return tuple(flags)


def stalled_flag(
    stage: str, days_in_stage: int | None, median_days: float | None, settings: Settings
) -> str | None:
    """ "stalled: 48 days in Negotiation, 2.3× the usual 21" when the deal has been in its stage
    `stalled_ratio` times its stage's median days or longer; None when it has not, or when
    either is unknown (no stage history, or no deal left the stage lately)."""
    if days_in_stage is None or median_days is None or median_days < 1:
        return None
    ratio = days_in_stage / median_days
    if ratio < settings.stalled_ratio:
        return None
    return f"stalled: {days_in_stage} days in {stage}, {ratio:.1f}× the usual {median_days:g}"


def pushed_flag(pushes: int) -> str:
    return "close date pushed once" if pushes == 1 else f"close date pushed {pushes} times"


def for_report(lists: Iterable[RepCloseList], stale_lists: Iterable[RepCloseList]) -> list[dict]:
    """The "close_today" section of the JSON report: each owner's count and totals of the deals
    that can close, and in "deals" those deals, then the owner's stale ones ("stale": true).
    Owners with stale deals alone come last, with a count of 0."""
    stale_deals = {rep.owner: rep.deals for rep in stale_lists}
    section = [
        {
            "owner": rep.owner,
            "count": rep.count,
            "total": rep.known_total,
            "weighted": rep.known_weighted,
            "without_amount": rep.without_amount,
            "deals": _deals_json(rep.deals, stale_deals.pop(rep.owner, ())),
        }
        for rep in lists
    ]
    return section + [
        {"owner": owner, "count": 0, "total": Decimal(0), "weighted": Decimal(0),
         "without_amount": 0, "deals": _deals_json((), deals)}
        for owner, deals in stale_deals.items()
    ]  # fmt: skip


def _deals_json(can_close: Iterable[DealToClose], stale_deals: Iterable[DealToClose]) -> list:
    return [
        {**{field: getattr(deal, field) for field in DEAL_REPORT_FIELDS}, "stale": is_stale}
        for deals, is_stale in ((can_close, False), (stale_deals, True))
        for deal in deals
    ]


def window_in_words(days: int) -> str:
    """ "today" (due today or overdue), "by tomorrow", "within 7 days"."""
    if days == 0:
        return "today"
    if days == 1:
        return "by tomorrow"
    return f"within {days} days"


def headline(
    lists: list[RepCloseList],
    window_days: int,
    currency: str | None,
    stale_lists: list[RepCloseList] | None = None,
) -> str:
    """ "14 deals worth $1.2M can close today", and how many of them have no amount; beside it,
    when there are any, the stale deals: "· 22 stale deals worth $800K to clean up"."""
    deals, worth = _deals_worth(lists, "deal", currency)
    when = window_in_words(window_days)
    line = (
        f"{deals} can close {when}; the export gives none of them an amount"
        if worth is None
        else f"{deals} {worth} can close {when}"
    )
    if not stale_lists:
        return line
    stale_deals, stale_worth = _deals_worth(stale_lists, "stale deal", currency)
    if stale_worth is None:
        return f"{line} · {stale_deals} to clean up, none with an amount"
    return f"{line} · {stale_deals} {stale_worth} to clean up"


def _deals_worth(
    lists: list[RepCloseList], noun: str, currency: str | None
) -> tuple[str, str | None]:
    """("14 deals", "worth $1.2M (2 without an amount, not in it)"); None for the worth when
    none of the deals has an amount."""
    count = sum(rep.count for rep in lists)
    total = sum((rep.total for rep in lists), Decimal(0))
    without_amount = sum(rep.without_amount for rep in lists)
    deals = f"1 {noun}" if count == 1 else f"{count} {noun}s"
    if count and without_amount == count:
        return deals, None
    unpriced = f" ({without_amount} without an amount, not in it)" if without_amount else ""
    return deals, f"worth {money(total, currency)}{unpriced}"


def late_stage_rule(settings: Settings, late_stages: Iterable[str]) -> str:
    """The rule in words: "Commit or Best Case, or probability ≥ 60 %, or stage Negotiation"."""
    stages = ", ".join(late_stages)
    parts = [
        " or ".join(settings.late_forecast_categories),
        f"probability ≥ {percent(settings.late_min_probability)}",
        f"stage {stages}" if stages else "",
    ]
    return ", or ".join(part for part in parts if part)


def reps_table(lists: Iterable[RepCloseList]) -> pd.DataFrame:
    """One row per rep (owner, count, total, weighted) in list order, for the chart."""
    return pd.DataFrame(
        [(rep.owner, rep.count, float(rep.total), float(rep.weighted)) for rep in lists],
        columns=["owner", "count", "total", "weighted"],
    )


def deals_table(deals: Iterable[DealToClose], with_owner: bool = True) -> pd.DataFrame:
    """The deals as the page's tables and CSV downloads show them, in the user's words."""
    deals = list(deals)
    table = pd.DataFrame(
        {
            "Rep": [deal.owner for deal in deals],
            "Deal": [deal.name for deal in deals],
            "Account": [deal.account for deal in deals],
            "Stage": [deal.stage for deal in deals],
            "Forecast category": [deal.forecast_category for deal in deals],
            "Amount": pd.array([deal.amount for deal in deals], dtype="Float64"),
            "Probability": pd.array([deal.probability for deal in deals], dtype="Float64"),
            "Weighted": pd.array([deal.weighted for deal in deals], dtype="Float64"),
            "Close date": [deal.close_date for deal in deals],
            "Days overdue": pd.array([deal.days_overdue for deal in deals], dtype="Int64"),
            "Days since activity": pd.array(
                [deal.days_since_activity for deal in deals], dtype="Int64"
            ),
            "Days in stage": pd.array([deal.days_in_stage for deal in deals], dtype="Int64"),
            "Next step": [deal.next_step for deal in deals],
            "Flags": ["; ".join(deal.flags) for deal in deals],
            "Opportunity ID": [deal.opportunity_id for deal in deals],
        }
    )
    return table if with_owner else table.drop(columns="Rep")
