"""The forecast: each projection method for the quarter, and how each would have done on the
team's past quarters with only what was known then (PRODUCT.md "Forecast")."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import date, timedelta

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.db import open_database
from lib.fiscal import Period, fiscal_quarter, previous_quarter
from lib.format import money, percent
from lib.pacing import pacing
from lib.session import Session
from lib.settings import Settings
from lib.sql import sql_file
from lib.store import Snapshot

DEFAULT_QUARTERS = 6
# A saved snapshot stands for a past date when it was saved on that date or up to a week
# before it: the weekly export a leader saves. Deals won in between are missed, not guessed.
SNAPSHOT_TOLERANCE_DAYS = 7
# The size bands of the history method are cut on the deals closed in this many quarters
# before the projected one (PRODUCT.md "History": the trailing four quarters).
SIZE_BAND_QUARTERS = 4

# The stage history's contract (lib/stage_history.py): one row per time a deal entered a stage.
NO_STAGE_ENTRIES = pa.table(
    {
        "opportunity_id": pa.array([], pa.string()),
        "stage": pa.array([], pa.string()),
        "entered_on": pa.array([], pa.date32()),
    }
)

FIRST_DAY_SQL = """
    -- The first day the export says anything of: its first created date, else its first close.
    SELECT coalesce(
        min(created_date),
        min(close_date) FILTER (status IN ('won', 'lost'))
    )
    FROM opportunities
"""

WON_IN_SQL = """
    SELECT coalesce(sum(amount), 0)
    FROM opportunities
    WHERE status = 'won' AND close_date BETWEEN $start AND $end
"""

WON_DEALS_SQL = """
    SELECT opportunity_id, name, owner, close_date, amount
    FROM opportunities
    WHERE status = 'won' AND close_date BETWEEN $start AND $day
    ORDER BY amount DESC NULLS LAST, opportunity_id
"""

PIPELINE_DEALS_SQL = """
    -- The in-period open deals a pipeline projection adds to what is won ($categories NULL:
    -- every one, weighted by its probability).
    SELECT opportunity_id, name, owner, stage, close_date, amount, probability,
        forecast_category, amount * probability AS weighted
    FROM opportunities
    WHERE status = 'open' AND close_date BETWEEN $start AND $end
        AND ($categories IS NULL OR list_contains($categories, forecast_category))
    ORDER BY amount DESC NULLS LAST, opportunity_id
"""

NO_CREATED_DATE_SQL = """
    SELECT count(*)
    FROM opportunities
    WHERE created_date IS NULL AND NOT (status IN ('won', 'lost') AND close_date <= $day)
"""


@dataclass(frozen=True)
class Moment:
    """A day a projection is made on: today, or the same day of a past quarter."""

    quarter: Period
    day: date
    today: bool
    # The quarters before this one that the export reaches back to: the history method's
    # teachers, oldest first.
    earlier: tuple[Period, ...]


@dataclass(frozen=True)
class Known:
    """What the projections read: the session's connection (one for the whole forecast: opening
    one costs a tenth of a second), saved snapshots and stage history."""

    con: duckdb.DuckDBPyConnection
    snapshots: tuple[Snapshot, ...] = ()
    stage_entries: pa.Table | None = None


@dataclass(frozen=True)
class Input:
    """One figure a projection is made of, as "See the math" shows it."""

    label: str
    value: float | int | str
    kind: str = "money"  # money, share, count or text

    def text(self, currency: str | None) -> str:
        if self.kind == "money":
            return money(float(self.value), currency)
        if self.kind == "share":
            return percent(float(self.value))
        if self.kind == "count":
            return f"{self.value:,}"
        return str(self.value)


@dataclass(frozen=True)
class Projection:
    """One method's projection on one day, with what it was made of; `value` is None when it
    cannot be computed, and `reason` says why (or, beside a value, what it leaves out)."""

    value: float | None
    reason: str | None = None
    inputs: tuple[Input, ...] = ()
    deals: pa.Table | None = None
    sql: str = ""
    source: str | None = None


@dataclass(frozen=True)
class Method:
    """One projection method: a row of METHODS."""

    key: str
    label: str
    formula: str
    needs: str
    project: Callable[[Session, Known, Moment], Projection]


@dataclass(frozen=True)
class BacktestRow:
    period: Period
    as_of: date
    projected: Projection
    actual: float

    @property
    def error(self) -> float | None:
        """(projected − actual) ÷ actual; None without a projection or a booking to divide by."""
        if self.projected.value is None or not self.actual:
            return None
        return (self.projected.value - self.actual) / self.actual


@dataclass(frozen=True)
class MethodResult:
    method: Method
    projection: Projection
    backtest: tuple[BacktestRow, ...]

    @property
    def errors(self) -> list[float]:
        return [row.error for row in self.backtest if row.error is not None]

    @property
    def mean_abs_error(self) -> float | None:
        errors = self.errors
        return sum(abs(error) for error in errors) / len(errors) if errors else None

    @property
    def bias(self) -> float | None:
        errors = self.errors
        return sum(errors) / len(errors) if errors else None


@dataclass(frozen=True)
class Forecast:
    as_of: date
    period: Period
    day_of_quarter: int
    methods: tuple[MethodResult, ...]
    # Why fewer quarters than asked were backtested; None when all were.
    backtest_note: str | None

    @property
    def most_accurate(self) -> MethodResult | None:
        """The method with the smallest mean absolute error (the first in METHODS on a tie)."""
        scored = [result for result in self.methods if result.mean_abs_error is not None]
        return min(scored, key=lambda result: result.mean_abs_error) if scored else None


def _day_in(quarter: Period, offset: int) -> date:
    """The day `offset` days into the quarter, or its last day for a shorter quarter."""
    return min(quarter.start + timedelta(days=offset), quarter.end)


def _table(con: duckdb.DuckDBPyConnection, sql: str, params: dict) -> pa.Table:
    """A query's rows as a table, read to the end: a relation (con.sql) is refused while a
    figure's fetchone() has left a result unfinished on the connection."""
    con.complete()
    return con.sql(sql, params=params).to_arrow_table()


def first_day(con: duckdb.DuckDBPyConnection) -> date | None:
    """The first day the export says anything of; None for an export without dates."""
    return con.execute(FIRST_DAY_SQL).fetchall()[0][0]


def _reached(quarter: Period, first: date | None) -> bool:
    """A quarter is in the export when the export's first day is not after its start."""
    return first is not None and first <= quarter.start


def _earlier(quarter: Period, first: date | None, settings: Settings) -> tuple[Period, ...]:
    quarters = []
    earlier = previous_quarter(quarter, settings)
    while _reached(earlier, first):
        quarters.append(earlier)
        earlier = previous_quarter(earlier, settings)
    return tuple(reversed(quarters))


def moments(
    con: duckdb.DuckDBPyConnection, settings: Settings, quarters: int = DEFAULT_QUARTERS
) -> tuple[Moment, tuple[Moment, ...], str | None]:
    """Today's moment, the backtest's (the same day of each of the previous `quarters` the
    export reaches back to, newest first), and why there are fewer than asked, if there are."""
    period = fiscal_quarter(settings.as_of, settings)
    offset = (settings.as_of - period.start).days
    first = first_day(con)
    today = Moment(period, settings.as_of, True, _earlier(period, first, settings))
    past = []
    quarter = period
    for _ in range(quarters):
        quarter = previous_quarter(quarter, settings)
        if not _reached(quarter, first):
            break
        past.append(
            Moment(quarter, _day_in(quarter, offset), False, _earlier(quarter, first, settings))
        )
    note = None
    if len(past) < quarters:
        reach = f"starts on {first:%-d %b %Y}" if first else "holds no dates"
        note = (
            f"{len(past)} of the {quarters} quarters asked for are backtested: the export "
            f"{reach}, and a quarter is backtested only when the export holds it from its "
            "first day."
        )
    return today, tuple(past), note


def snapshot_dates(saved: Sequence[date], wanted: Sequence[date]) -> list[date]:
    """The saved snapshot dates a backtest reads: for each wanted day, the latest saved on it
    or up to SNAPSHOT_TOLERANCE_DAYS before it."""
    chosen = []
    for day in wanted:
        near = [
            as_of for as_of in saved if day - timedelta(SNAPSHOT_TOLERANCE_DAYS) <= as_of <= day
        ]
        if near and max(near) not in chosen:
            chosen.append(max(near))
    return sorted(chosen)


def _snapshot_on(snapshots: Sequence[Snapshot], day: date) -> Snapshot | None:
    near = [s for s in snapshots if day - timedelta(SNAPSHOT_TOLERANCE_DAYS) <= s.as_of <= day]
    return max(near, key=lambda snapshot: snapshot.as_of) if near else None


def _with_rows(deals: pa.Table) -> pa.Table:
    """A snapshot's deals numbered as an export's rows are, which a pacing's owners read."""
    if "source_row" in deals.column_names:
        return deals
    return deals.append_column("source_row", pa.array(range(deals.num_rows), pa.int64()))


def _history_on(session: Session, day: date) -> pa.Table:
    con = duckdb.connect()
    try:
        con.register("deals", session.export.deals)
        con.register("history", session.history)
        return _table(con, sql_file("deals_on_date"), {"day": day})
    finally:
        con.close()


def _pipeline_on(
    session: Session, known: Known, moment: Moment, column: str
) -> tuple[duckdb.DuckDBPyConnection | None, str]:
    """A connection over the deals as they stood on the moment's day, with the `column`
    (probability or forecast_category) of that day, and where they come from; else None and
    why they are unknown. Today's are the export's own."""
    if moment.today:
        return known.con, "the export"
    if session.converted_amounts:
        return None, (
            "The export's amounts are the CRM's converted ones: a snapshot or OpportunityHistory "
            "keeps each deal's own amount, not that day's converted one."
        )
    reps = session.reps.reps if session.reps else None
    snapshot = _snapshot_on(known.snapshots, moment.day)
    if snapshot is not None:
        con = open_database(_with_rows(snapshot.deals), reps=reps, rates=session.rates)
        return con, f"the snapshot of {snapshot.as_of:%-d %b %Y}"
    what = {"probability": "Probability", "forecast_category": "ForecastCategory"}[column]
    history = session.history
    if history is None or not pc.any(pc.is_valid(history[column])).as_py():
        reason = (
            f"No snapshot saved between {moment.day - timedelta(SNAPSHOT_TOLERANCE_DAYS):%-d %b} "
            f"and {moment.day:%-d %b %Y}, and no OpportunityHistory with its {what}: the CRM's "
            "figures of that day are unknown."
        )
        return None, reason
    deals = _history_on(session, moment.day)
    unknown = deals.num_rows - (pc.sum(deals["in_history"]).as_py() or 0)
    if unknown:
        return None, (
            f"{unknown:,} deals open on {moment.day:%-d %b %Y} have no OpportunityHistory row "
            "by then: their figures of that day are unknown."
        )
    con = open_database(deals.drop_columns(["in_history"]), reps=reps, rates=session.rates)
    return con, "OpportunityHistory"


def _won_deals(con: duckdb.DuckDBPyConnection, moment: Moment) -> pa.Table:
    return _table(con, WON_DEALS_SQL, {"start": moment.quarter.start, "day": moment.day})


def _pacing_method(field: str, column: str | None, categories: list[str] | None):
    """A projection of lib/pacing.py on the moment's day: `column` is what it needs of that day
    (None: only what was won by then, which the export knows)."""

    def project(session: Session, known: Known, moment: Moment) -> Projection:
        if column is None:
            con, source = known.con, "the export"
        else:
            con, source = _pipeline_on(session, known, moment, column)
            if con is None:
                return Projection(None, source)
        settings = replace(session.settings, as_of=moment.day)
        report = pacing(con, settings, moment.quarter)
        team = report.team
        value = getattr(team, field)
        inputs = [Input("Won to date", team.closed_to_date)]
        if column is None:
            inputs.append(Input("Share of the quarter elapsed", report.elapsed_share, "share"))
            deals = _won_deals(con, moment)
            reason = None if value is not None else "Nothing of the quarter has elapsed yet."
        else:
            inputs.append(Input("Added from the open pipeline", value - team.closed_to_date))
            quarter = moment.quarter
            deals = _table(
                con,
                PIPELINE_DEALS_SQL,
                {"start": quarter.start, "end": quarter.end, "categories": categories},
            )
            reason = None
        sql = (
            sql_file("pacing_by_owner")
            + "\n\n-- The deals behind it\n"
            + (WON_DEALS_SQL if column is None else PIPELINE_DEALS_SQL)
        )
        return Projection(value, reason, tuple(inputs), deals, sql, source)

    return project


def _earlier_quarters(moment: Moment) -> pa.Table:
    offset = (moment.day - moment.quarter.start).days
    return pa.table(
        {
            "quarter_start": pa.array([q.start for q in moment.earlier], pa.date32()),
            "quarter_end": pa.array([q.end for q in moment.earlier], pa.date32()),
            "day": pa.array([_day_in(q, offset) for q in moment.earlier], pa.date32()),
        }
    )


def history_projection(session: Session, known: Known, moment: Moment) -> Projection:
    """Won to date + Σ amount × p over deals open on the day + the mean of what earlier
    quarters created after their same day and won by their end."""
    if not moment.earlier:
        return Projection(None, "No earlier quarter in the export to learn from.")
    con = known.con
    con.register("earlier_quarters", _earlier_quarters(moment))
    stages = known.stage_entries if known.stage_entries is not None else NO_STAGE_ENTRIES
    con.register("stage_entries", stages)
    bands_from = moment.quarter
    for _ in range(SIZE_BAND_QUARTERS):
        bands_from = previous_quarter(bands_from, session.settings)
    params = {
        "day": moment.day,
        "period_start": moment.quarter.start,
        "period_end": moment.quarter.end,
        "bands_from": bands_from.start,
    }
    deals = _table(con, sql_file("forecast_history"), params)
    created = _table(con, sql_file("forecast_creation"), {})
    won = float(
        con.execute(WON_IN_SQL, {"start": moment.quarter.start, "end": moment.day}).fetchall()[0][0]
    )
    if deals.num_rows and pc.all(pc.is_null(deals["p"])).as_py():
        return Projection(
            None,
            f"No deal was open at day {_day_number(moment)} of an earlier quarter to learn from.",
        )
    expected = pc.sum(deals["expected"]).as_py() or 0.0
    creation_by_quarter = [float(value) for value in created["created_and_won"].to_pylist()]
    creation = sum(creation_by_quarter) / len(creation_by_quarter)
    left_out = []
    no_amount = pc.sum(pc.is_null(deals["amount"])).as_py() or 0
    if no_amount:
        left_out.append(f"{no_amount:,} open deals without an amount in the display currency")
    if moment.today:
        (undated,) = con.execute(NO_CREATED_DATE_SQL, {"day": moment.day}).fetchall()[0]
        if undated:
            left_out.append(f"{undated:,} open deals without a created date")
    from_all = pc.sum(deals["from_all_deals"]).as_py() or 0
    notes = []
    if left_out:
        notes.append("Left out: " + "; ".join(left_out) + ".")
    if from_all:
        notes.append(
            f"{from_all:,} deals had no deal like them in earlier quarters: they take the rate "
            "of every deal open at that day."
        )
    alike_by = "stage history" if known.stage_entries is not None else "no stage history"
    inputs = (
        Input("Won to date", won),
        Input("Earlier quarters learnt from", len(moment.earlier), "count"),
        Input("Expected from open deals (Σ amount × p)", expected),
        Input("Expected creation (mean created and won after that day)", creation),
        Input("Deals alike by", f"stage ({alike_by}), else age since created", "text"),
    )
    sql = sql_file("forecast_history") + "\n\n" + sql_file("forecast_creation")
    return Projection(
        won + expected + creation, " ".join(notes) or None, inputs, deals, sql, "the export"
    )


def _day_number(moment: Moment) -> int:
    return (moment.day - moment.quarter.start).days + 1


METHODS: tuple[Method, ...] = (
    Method(
        "run_rate",
        "Run-rate",
        "won to date ÷ share of the quarter elapsed",
        "won deals with their close dates",
        _pacing_method("projection_run_rate", None, None),
    ),
    Method(
        "weighted",
        "CRM-weighted",
        "won to date + Σ amount × probability of open deals closing in the quarter",
        "the CRM's probabilities of that day (today's export; a snapshot or OpportunityHistory "
        "for a past day)",
        _pacing_method("projection_weighted", "probability", None),
    ),
    Method(
        "commit",
        "Commit",
        "won to date + open Commit deals closing in the quarter",
        "the forecast categories of that day",
        _pacing_method("projection_commit", "forecast_category", ["Commit"]),
    ),
    Method(
        "best_case",
        "Best case",
        "won to date + open Commit and Best Case deals closing in the quarter",
        "the forecast categories of that day",
        _pacing_method("projection_best_case", "forecast_category", ["Commit", "Best Case"]),
    ),
    Method(
        "history",
        "History",
        "won to date + Σ over deals open now of amount × p + expected creation; p = the share "
        "of deals alike (same stage, else same age band since created; same size band) open at "
        "the same day of earlier quarters that were won by their quarter's end; expected "
        "creation = the mean of what earlier quarters created after that day and won by their end",
        "created and close dates of earlier quarters' deals; stage history where there is one "
        "(amounts are today's: a plain export keeps no past amount)",
        history_projection,
    ),
)


def forecast(
    session: Session,
    snapshots: Sequence[Snapshot] = (),
    stage_entries: pa.Table | None = None,
    quarters: int = DEFAULT_QUARTERS,
) -> Forecast:
    """Every method's projection for the as-of date's quarter and its backtest."""
    con = session.connection()
    today, past, note = moments(con, session.settings, quarters)
    known = Known(con, tuple(snapshots), stage_entries)
    actuals = {
        moment.quarter: float(
            con.execute(
                WON_IN_SQL, {"start": moment.quarter.start, "end": moment.quarter.end}
            ).fetchall()[0][0]
        )
        for moment in past
    }
    results = tuple(
        MethodResult(
            method,
            method.project(session, known, today),
            tuple(
                BacktestRow(m.quarter, m.day, method.project(session, known, m), actuals[m.quarter])
                for m in past
            ),
        )
        for method in METHODS
    )
    return Forecast(session.settings.as_of, today.quarter, _day_number(today), results, note)


def saved_snapshots(session: Session, quarters: int = DEFAULT_QUARTERS) -> list[Snapshot]:
    """The saved snapshots the backtest reads, from the session's store: the latest within
    SNAPSHOT_TOLERANCE_DAYS before each of its days. The one place the forecast reads the
    store (StoreError when it cannot be read)."""
    if session.store is None:
        return []
    saved = [entry["as_of"] for entry in session.store.list_snapshots()]
    _, past, _ = moments(session.connection(), session.settings, quarters)
    wanted = [moment.day for moment in past]
    return [session.store.read_snapshot(as_of) for as_of in snapshot_dates(saved, wanted)]


def backtest_rows(result: Forecast) -> list[dict[str, object]]:
    """One row per backtested quarter: what it booked, and each method's projection ("key")
    and error ("key_error"), None where it cannot be computed."""
    quarters = max((r.backtest for r in result.methods), key=len, default=())
    rows = []
    for index, first in enumerate(quarters):
        row: dict[str, object] = {
            "period": first.period.label,
            "as_of": first.as_of,
            "actual": first.actual,
        }
        for method in result.methods:
            projected = method.backtest[index]
            row[method.method.key] = projected.projected.value
            row[f"{method.method.key}_error"] = projected.error
        rows.append(row)
    return rows


def sources_sentence(result: Forecast) -> str | None:
    """Where the CRM's figures of each past day were read from ("the snapshot of 5 Feb 2026 for
    Q1 FY2026"); None when no past day's were known."""
    sources = {
        row.period.label: row.projected.source
        for method in result.methods
        for row in method.backtest
        if row.projected.value is not None and row.projected.source != "the export"
    }
    if not sources:
        return None
    return (
        "The CRM's probabilities and forecast categories of past days are read from "
        + "; ".join(f"{source} for {label}" for label, source in sources.items())
        + f" (a snapshot stands for a day when it was saved on it or up to "
        f"{SNAPSHOT_TOLERANCE_DAYS} days before)."
    )


def accuracy_sentence(result: Forecast) -> str:
    """ "Over the last 6 quarters at day 52, the History method was within 6 % on average;
    CRM-weighted overshot by 31 %." """
    best = result.most_accurate
    quarters = max((len(r.backtest) for r in result.methods), default=0)
    if best is None:
        return f"No method could be backtested at day {result.day_of_quarter}: " + (
            result.backtest_note or "no past quarter had both a projection and bookings."
        )
    said = [
        f"Over the last {quarters} quarters at day {result.day_of_quarter}, the "
        f"{in_sentence(best.method.label)} method was within {percent(best.mean_abs_error)} on "
        "average"
    ]
    for other in result.methods:
        if other is best or other.bias is None:
            continue
        verb = "overshot" if other.bias > 0 else "undershot"
        said.append(f"{in_sentence(other.method.label)} {verb} by {percent(abs(other.bias))}")
    return "; ".join(said) + "."


def in_sentence(label: str) -> str:
    """A method's label inside a sentence: "history", "run-rate", but "CRM-weighted"."""
    return label if label[:2].isupper() else label[:1].lower() + label[1:]


def for_json(result: Forecast, currency: str | None) -> dict:
    """{"as_of", "period", "currency", "methods": [...], "most_accurate", "backtest_note"}."""
    best = result.most_accurate
    return {
        "as_of": result.as_of,
        "period": {
            "label": result.period.label,
            "start": result.period.start,
            "end": result.period.end,
        },
        "currency": currency,
        "methods": [
            {
                "method": r.method.key,
                "projection": r.projection.value,
                "backtest": [
                    {
                        "period": row.period.label,
                        "as_of": row.as_of,
                        "projected": row.projected.value,
                        "actual": row.actual,
                    }
                    for row in r.backtest
                ],
                "mean_abs_error": r.mean_abs_error,
                "bias": r.bias,
            }
            for r in result.methods
        ],
        "most_accurate": best.method.key if best else None,
        "backtest_note": result.backtest_note,
    }
