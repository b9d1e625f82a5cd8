"""Are we on pace? Bookings to date against budget and last year, for the team and each rep."""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from datetime import date, timedelta

import duckdb

from lib.fiscal import (
    Period,
    business_days,
    elapsed_business_share,
    elapsed_calendar_share,
    months_between,
    quarters_between,
    same_period_last_year,
    week_of_period,
    weeks_in_period,
)
from lib.format import money, percent
from lib.settings import Settings
from lib.sql import sql_file

# A rep's team, over rows of (owner, team, first_row): the team of their first deal that names
# one (in the file's order), else the reps file's, whose rows have no first_row. A deal's team
# is the reps file's already where the file names the owner.
TEAM_OF_OWNER_SQL = "coalesce(arg_min(team, first_row) FILTER (team IS NOT NULL), min(team))"

# Everyone who sells or carries a budget, with their team.
PEOPLE_SQL = f"""
    SELECT owner, {TEAM_OF_OWNER_SQL} AS team
    FROM (
        SELECT owner, team, first_row FROM owner_teams
        UNION ALL
        SELECT t.owner, r.team, NULL FROM targets AS t LEFT JOIN reps AS r USING (owner)
        WHERE t.owner IS NOT NULL
    )
    GROUP BY owner
"""  # noqa: S608 - our own SQL

TEAMS_SQL = """
    SELECT DISTINCT team FROM (
        SELECT team FROM owner_teams UNION ALL SELECT team FROM reps
    )
    WHERE team IS NOT NULL
    ORDER BY team
"""

DAILY_BOOKINGS_SQL = """
    -- A day whose won deals all lack an amount (a currency without a rate) booked nothing.
    SELECT close_date, coalesce(sum(amount), 0) AS booked
    FROM opportunities
    WHERE status = 'won' AND close_date BETWEEN $start AND $end
        AND ($team IS NULL OR team = $team)
    GROUP BY close_date
    ORDER BY close_date
"""


@dataclass(frozen=True)
class Pacing:
    """One rep's (or the team's) pacing figures; None where a figure cannot be computed."""

    budget: float | None
    closed_to_date: float
    expected_to_date: float | None
    pacing_index: float | None
    # None when the export does not reach back to last year's period (PacingReport says why).
    last_year_to_date: float | None
    yoy: float | None
    projection_run_rate: float | None
    projection_weighted: float
    projection_commit: float
    projection_best_case: float
    gap: float | None
    required_per_business_day: float | None
    achieved_per_business_day: float | None

    @property
    def ahead_by(self) -> float | None:
        """Closed minus expected: positive ahead of pace, negative behind."""
        if self.expected_to_date is None:
            return None
        return self.closed_to_date - self.expected_to_date

    @property
    def attainment(self) -> float | None:
        return _ratio(self.closed_to_date, self.budget)


@dataclass(frozen=True)
class RepPacing:
    owner: str
    team: str | None
    pacing: Pacing


@dataclass(frozen=True)
class PacingReport:
    """Pacing for one period: the team (or one team of the reps file) and each rep."""

    period: Period
    last_year: Period
    to_date: date
    elapsed_share: float
    pace_method: str
    pace_note: str | None
    week: int
    weeks: int
    scope: str | None
    team: Pacing
    reps: tuple[RepPacing, ...]
    # Why last year's figures are unknown ("the export starts on 1 Mar 2017"); None when known.
    last_year_note: str | None = None


@dataclass(frozen=True)
class _Window:
    """The days a period's figures are counted over, this year and last."""

    period: Period
    to_date: date
    last_year: Period
    last_year_to_date: date


def _window(period: Period, as_of: date, settings: Settings) -> _Window:
    to_date = min(as_of, period.end)
    last_year = same_period_last_year(period, settings)
    # The same day of the period a year earlier, clamped for a 29 February or a shorter month.
    ly_to_date = min(last_year.start + (to_date - period.start), last_year.end)
    if to_date < period.start:
        ly_to_date = last_year.start - timedelta(days=1)
    return _Window(period, to_date, last_year, ly_to_date)


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return numerator / denominator


def _figures(
    closed: float,
    last_year: float | None,
    open_weighted: float,
    open_commit: float,
    open_best_case: float,
    budget: float | None,
    share: float | None,
    days_elapsed: int,
    days_left: int,
) -> Pacing:
    expected = budget * share if budget is not None and share is not None else None
    gap = budget - closed if budget is not None else None
    required = None
    if gap is not None and days_left:
        required = max(gap, 0.0) / days_left
    ly = _ratio(closed, last_year)
    return Pacing(
        budget=budget,
        closed_to_date=closed,
        expected_to_date=expected,
        pacing_index=_ratio(closed, expected),
        last_year_to_date=last_year,
        yoy=None if ly is None else ly - 1,
        projection_run_rate=_ratio(closed, share),
        projection_weighted=closed + open_weighted,
        projection_commit=closed + open_commit,
        projection_best_case=closed + open_commit + open_best_case,
        gap=gap,
        required_per_business_day=required,
        achieved_per_business_day=_ratio(closed, days_elapsed),
    )


# The first close date of a deal won or lost: before it, the export says nothing of bookings.
FIRST_CLOSED_SQL = "SELECT min(close_date) FROM opportunities WHERE status IN ('won', 'lost')"


def last_year_unknown(con: duckdb.DuckDBPyConnection, last_year: Period) -> str | None:
    """Why last year's bookings are unknown, or None: an export whose first closed deal is not
    before last year's period began holds nothing of it, and $0 would read as a real result."""
    (first_closed,) = con.execute(FIRST_CLOSED_SQL).fetchone()
    if first_closed is not None and first_closed < last_year.start:
        return None
    if first_closed is None:
        return f"Last year ({last_year.label}) is not in the export: it holds no closed deal."
    return (
        f"Last year ({last_year.label}) is not in the export: its first closed deal is of "
        f"{first_closed:%-d %b %Y}."
    )


def daily_bookings(
    con: duckdb.DuckDBPyConnection, start: date, end: date, team: str | None = None
) -> dict[date, float]:
    """Won amount by close date in [start, end], for the team or one team of the reps file."""
    rows = con.execute(DAILY_BOOKINGS_SQL, {"start": start, "end": end, "team": team}).fetchall()
    return {day: float(booked) for day, booked in rows}


@dataclass(frozen=True)
class PaceShape:
    """How much of a period's budget is expected by each day, by the method actually used."""

    method: str
    note: str | None
    period: Period
    holidays: tuple[date, ...]
    last_year: Period | None = None
    # Last year's bookings by day of period (0 = its first day), for the "last_year" method.
    last_year_by_offset: tuple[float, ...] = ()

    def share_on(self, day: date) -> float:
        if self.method == "calendar":
            return elapsed_calendar_share(self.period, day)
        if self.method == "last_year":
            if day < self.period.start:
                return 0.0
            offset = min((day - self.period.start).days, len(self.last_year_by_offset) - 1)
            return sum(self.last_year_by_offset[: offset + 1]) / sum(self.last_year_by_offset)
        return elapsed_business_share(self.period, day, self.holidays)


def pace_shape(
    con: duckdb.DuckDBPyConnection, settings: Settings, period: Period, team: str | None
) -> PaceShape:
    """The pace method the settings ask for; business days when last year has no bookings."""
    if settings.pace_method != "last_year":
        return PaceShape(settings.pace_method, None, period, settings.holidays)
    last_year = same_period_last_year(period, settings)
    booked = daily_bookings(con, last_year.start, last_year.end, team)
    if not sum(booked.values()):
        note = (
            f"No bookings in {last_year.label} to take a shape from: paced on business days "
            "instead."
        )
        return PaceShape("business", note, period, settings.holidays)
    by_offset = tuple(
        booked.get(last_year.start + timedelta(days=n), 0.0)
        for n in range((last_year.end - last_year.start).days + 1)
    )
    return PaceShape("last_year", None, period, settings.holidays, last_year, by_offset)


def budgets(con: duckdb.DuckDBPyConnection, period: Period) -> dict[str | None, float]:
    """Each quota-file owner's budget for the period (a rep, a team, or None for the whole team)."""
    rows = con.execute(
        sql_file("budget_by_owner"), {"start": period.start, "end": period.end}
    ).fetchall()
    return {owner: float(budget) for owner, budget in rows}


def teams(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The teams of the reps file (or of the export's own team column), by name."""
    return [row[0] for row in con.execute(TEAMS_SQL).fetchall()]


def pacing(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    period: Period,
    team: str | None = None,
) -> PacingReport:
    """Pacing for the period: the whole team (team=None) or one team, and each of its reps.

    The team's budget is a budget typed in, else the quota file's row for the team (a blank
    owner for the whole team, the team's name for one team), else the sum of its reps' budgets.
    """
    window = _window(period, settings.as_of, settings)
    shape = pace_shape(con, settings, period, team)
    share = shape.share_on(window.to_date)
    days_elapsed = business_days(period.start, window.to_date, settings.holidays)
    days_left = business_days(window.to_date + timedelta(days=1), period.end, settings.holidays)
    owner_budgets = budgets(con, period)
    team_names = set(teams(con))
    figures = {
        row[0]: [float(value) for value in row[1:]]
        for row in con.execute(
            sql_file("pacing_by_owner"),
            {
                "start": period.start,
                "end": period.end,
                "to_date": window.to_date,
                "ly_start": window.last_year.start,
                "ly_to_date": window.last_year_to_date,
            },
        ).fetchall()
    }
    people = [
        (owner, owner_team)
        for owner, owner_team in con.execute(PEOPLE_SQL).fetchall()
        if owner not in team_names and (team is None or owner_team == team)
    ]

    def rep_pacing(owner: str) -> Pacing:
        closed, last_year, weighted, commit, best_case = figures.get(owner, [0.0] * 5)
        return _figures(closed, last_year, weighted, commit, best_case, owner_budgets.get(owner),
                        share, days_elapsed, days_left)  # fmt: skip

    reps = tuple(RepPacing(owner, owner_team, rep_pacing(owner)) for owner, owner_team in people)
    team_budget = _team_budget(settings, owner_budgets, team, reps)
    totals: list[float | None] = [
        sum(figures.get(rep.owner, [0.0] * 5)[i] for rep in reps) for i in range(5)
    ]
    last_year_note = last_year_unknown(con, window.last_year)
    if last_year_note:
        totals[1] = None
        reps = tuple(
            replace(rep, pacing=replace(rep.pacing, last_year_to_date=None, yoy=None))
            for rep in reps
        )
    return PacingReport(
        period=period,
        last_year=window.last_year,
        to_date=window.to_date,
        elapsed_share=share,
        pace_method=shape.method,
        pace_note=shape.note,
        week=week_of_period(window.to_date, period),
        weeks=weeks_in_period(period),
        scope=team,
        team=_figures(*totals, team_budget, share, days_elapsed, days_left),
        reps=tuple(sorted(reps, key=_rank)),
        last_year_note=last_year_note,
    )


def _team_budget(
    settings: Settings,
    budgets: dict[str | None, float],
    team: str | None,
    reps: tuple[RepPacing, ...],
) -> float | None:
    if team is None and settings.team_budget is not None:
        return settings.team_budget
    if team in budgets:
        return budgets[team]
    rep_budgets = [rep.pacing.budget for rep in reps if rep.pacing.budget is not None]
    return sum(rep_budgets) if rep_budgets else None


def _rank(rep: RepPacing) -> tuple:
    """Best attainment first; reps without a budget last, by bookings."""
    attainment = rep.pacing.attainment
    return (attainment is None, -(attainment or 0.0), -rep.pacing.closed_to_date, rep.owner)


@dataclass(frozen=True)
class CumulativeSeries:
    """Day-by-day cumulative lines for the pacing chart, all on this period's days."""

    days: tuple[date, ...]
    actual: tuple[float, ...]
    budget_pace: tuple[float, ...] | None
    last_year: tuple[float, ...] | None  # None when the export does not hold last year


def cumulative_series(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    report: PacingReport,
) -> CumulativeSeries:
    """Actual bookings through the to-date, the budget pace line and last year's bookings
    (aligned on day of period) across the whole period."""
    period, team = report.period, report.scope
    window = _window(period, settings.as_of, settings)
    days = tuple(
        period.start + timedelta(days=n) for n in range((period.end - period.start).days + 1)
    )
    booked = daily_bookings(con, period.start, window.to_date, team)
    last_year = daily_bookings(con, window.last_year.start, window.last_year.end, team)
    offset = period.start - window.last_year.start
    actual, running = [], 0.0
    for day in days:
        if day > window.to_date:
            break
        running += booked.get(day, 0.0)
        actual.append(running)
    ly_running, ly_line = 0.0, []
    for day in days:
        ly_running += last_year.get(day - offset, 0.0)
        ly_line.append(ly_running)
    pace = None
    if report.team.budget is not None:
        shape = pace_shape(con, settings, period, team)
        pace = tuple(report.team.budget * shape.share_on(day) for day in days)
    known = report.last_year_note is None
    return CumulativeSeries(days, tuple(actual), pace, tuple(ly_line) if known else None)


def linearity(con: duckdb.DuckDBPyConnection, settings: Settings, period: Period,
              team: str | None = None) -> list[float] | None:  # fmt: skip
    """Share of the quarter's bookings (so far) closed in each of its three months."""
    window = _window(period, settings.as_of, settings)
    booked = daily_bookings(con, period.start, window.to_date, team)
    total = sum(booked.values())
    if period.kind != "quarter" or not total:
        return None
    month_of = {day: (day.year - period.start.year) * 12 + day.month - period.start.month
                for day in booked}  # fmt: skip
    return [sum(v for day, v in booked.items() if month_of[day] == m) / total for m in range(3)]


def verdict(report: PacingReport, currency: str | None) -> str:
    """The answer in one line, for the chart's title: "Q4 FY2026: 84 % of pace, $310K behind"."""
    team = report.team
    label = report.period.label
    if team.pacing_index is None:
        return f"{label}: {money(team.closed_to_date, currency)} booked; no budget to pace against"
    behind_or_ahead = "ahead" if (team.ahead_by or 0) >= 0 else "behind"
    return (
        f"{label}: {percent(team.pacing_index)} of pace, "
        f"{money(abs(team.ahead_by or 0), currency)} {behind_or_ahead}"
    )


BOOKING_RANGE_SQL = """
    SELECT min(close_date) FROM opportunities WHERE status = 'won'
"""


def periods_to_choose(
    con: duckdb.DuckDBPyConnection, settings: Settings, kind: str
) -> list[Period]:
    """Every quarter (or month) from the first booking to the as-of date's, newest first."""
    (first,) = con.execute(BOOKING_RANGE_SQL).fetchone()
    first = min(first or settings.as_of, settings.as_of)
    if kind == "month":
        periods = months_between(first, settings.as_of)
    else:
        periods = quarters_between(first, settings.as_of, settings)
    return periods[::-1]


def rep_rows(report: PacingReport) -> list[dict[str, object]]:
    """Every figure per rep, in the report's order, for the table under the charts."""
    return [
        {
            "owner": rep.owner,
            "team": rep.team,
            "attainment": rep.pacing.attainment,
            "ahead_by": rep.pacing.ahead_by,
            **asdict(rep.pacing),
        }
        for rep in report.reps
    ]
