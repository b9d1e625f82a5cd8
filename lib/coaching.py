"""Coaching: each rep's last four quarters, the team's scorecard, and questions for a 1:1.

Definitions (PRODUCT.md "Coaching and two more sales"): over the four fiscal quarters ending
with the as-of date's quarter, counted through the as-of date, won and lost deals count by close
date and deals created by created date, whatever their status. Every sale should lead to two
more: the referral ratio is referral-sourced deals created per deal won, against a target of 2.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from lib.fiscal import Period, fiscal_quarter, previous_quarter
from lib.format import money, percent
from lib.pacing import PacingReport, pacing
from lib.pipeline_warnings import PipelineWarning
from lib.settings import Settings
from lib.sql import sql_file

REFERRAL_TARGET = 2.0
# Tukey's rule: a value further than this many interquartile ranges outside the team's middle
# half is an outlier; it needs at least this many reps with a value to mean anything.
OUTLIER_IQRS = 1.5
OUTLIER_MIN_REPS = 4
# Questions for a 1:1: how many deals each kind names, and how many questions in all, so that
# the sheet prints on one or two pages.
DEALS_PER_QUESTION_KIND = 2
MAX_QUESTIONS = 8
LARGEST_DEALS = 3
LAST_WON_ACCOUNTS = 3

COLUMNS_FILLED_SQL = """
    SELECT count(created_date) > 0, count(lead_source) > 0, count(account) > 0
    FROM opportunities
"""

# Every open deal of one rep, largest first: the 1:1 sheet's questions and pipeline picture.
OPEN_DEALS_SQL = """
    SELECT opportunity_id, coalesce(name, opportunity_id) AS name, account, stage,
           coalesce(amount, 0) AS amount, probability, close_date, created_date,
           last_activity_date, next_step
    FROM open_opportunities
    WHERE owner = $owner
    ORDER BY amount DESC, opportunity_id
"""

# The accounts of a rep's latest wins, newest first: who to ask for an introduction.
LAST_WON_ACCOUNTS_SQL = """
    SELECT account
    FROM opportunities
    WHERE status = 'won' AND owner = $owner AND account IS NOT NULL AND close_date <= $as_of
    GROUP BY account
    ORDER BY max(close_date) DESC, account
    LIMIT $limit
"""


@dataclass(frozen=True)
class Coaching:
    """One rep's (or the team's) figures over the trailing four quarters; None where the
    export lacks the column a figure needs."""

    won_deals: int
    lost_deals: int
    referral_deals_created: int | None
    repeat_business_deals: int | None
    avg_deal_size: float | None
    sales_cycle_days: float | None
    pipeline_created: float | None

    @property
    def referral_ratio(self) -> float | None:
        """Referral-sourced deals created per deal won; None for a rep with no wins."""
        if self.referral_deals_created is None or not self.won_deals:
            return None
        return self.referral_deals_created / self.won_deals

    @property
    def win_rate(self) -> float | None:
        """Won / (won + lost), by count; None when nothing closed."""
        closed = self.won_deals + self.lost_deals
        return self.won_deals / closed if closed else None


@dataclass(frozen=True)
class RepCoaching:
    owner: str
    team: str | None
    figures: Coaching
    # Booked / budget for the as-of date's quarter, from lib.pacing; None without a budget.
    attainment: float | None


@dataclass(frozen=True)
class CoachingReport:
    """The window, each rep (by name), the team's totals, the as-of quarter's pacing, and the
    figures the export cannot give."""

    window: Period
    reps: tuple[RepCoaching, ...]
    team: Coaching
    quarter: PacingReport
    keywords: tuple[str, ...]
    skipped: dict[str, str]


def trailing_four_quarters(settings: Settings) -> Period:
    """The four fiscal quarters ending with the as-of date's, counted through the as-of date:
    nothing after it has happened yet from where the reader stands."""
    last = fiscal_quarter(settings.as_of, settings)
    first = last
    for _ in range(3):
        first = previous_quarter(first, settings)
    return Period(
        start=first.start,
        end=min(settings.as_of, last.end),
        label=f"{first.label} – {last.label}",
        kind="quarters",
    )


def coaching(con: duckdb.DuckDBPyConnection, settings: Settings) -> CoachingReport:
    """Every rep with a deal closed or created in the four quarters, an open deal, or a budget
    this quarter; and the team's totals over every deal."""
    window = trailing_four_quarters(settings)
    skipped = skipped_figures(con)
    rows = _window_rows(con, settings, window)
    quarter = pacing(con, settings, fiscal_quarter(settings.as_of, settings))
    rep_pacing = {rep.owner: rep for rep in quarter.reps}

    team_row = next(row for row in rows if row["is_team"])
    active = {
        row["owner"]: row
        for row in rows
        if not row["is_team"]
        and (row["won_deals"] or row["lost_deals"] or row["deals_created"] or row["open_deals"])
    }
    budgeted = {rep.owner for rep in quarter.reps if rep.pacing.budget}
    reps = []
    for owner in sorted(set(active) | budgeted):
        row = active.get(owner) or _nothing(owner)
        rep = rep_pacing.get(owner)
        reps.append(
            RepCoaching(
                owner=owner,
                team=rep.team if rep else None,
                figures=_figures(row, skipped),
                attainment=rep.pacing.attainment if rep else None,
            )
        )
    return CoachingReport(
        window=window,
        reps=tuple(reps),
        team=_figures(team_row, skipped),
        quarter=quarter,
        keywords=settings.referral_keywords,
        skipped=skipped,
    )


def skipped_figures(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    """The figures the export cannot give, each with the reason."""
    has_created, has_lead_source, has_account = con.execute(COLUMNS_FILLED_SQL).fetchone()
    skipped = {}
    if not has_created:
        reason = "the export has no created date"
        skipped.update(referral_deals_created=reason, pipeline_created=reason)
        skipped["sales_cycle_days"] = reason
    elif not has_lead_source:
        skipped["referral_deals_created"] = "the export has no lead source"
    if not has_account:
        skipped["repeat_business_deals"] = "the export has no account"
    return skipped


def _window_rows(con: duckdb.DuckDBPyConnection, settings: Settings, window: Period) -> list[dict]:
    cursor = con.execute(
        sql_file("coaching"),
        {"start": window.start, "end": window.end, "keywords": list(settings.referral_keywords)},
    )
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def figures_over(
    con: duckdb.DuckDBPyConnection, settings: Settings, window: Period
) -> tuple[Coaching, dict[str, Coaching]]:
    """The team's figures and each rep's over any window (a QBR's quarter): the same
    definitions as the trailing four quarters. A rep with no open deal and none closed or
    created in the window has no figures."""
    skipped = skipped_figures(con)
    rows = _window_rows(con, settings, window)
    team = next(row for row in rows if row["is_team"])
    reps = {row["owner"]: _figures(row, skipped) for row in rows if not row["is_team"]}
    return _figures(team, skipped), reps


def _figures(row: dict, skipped: dict[str, str]) -> Coaching:
    """A row of coaching.sql as figures, None for those the export cannot give."""

    def unless_skipped(key: str):
        return None if key in skipped else row[key]

    return Coaching(
        won_deals=row["won_deals"],
        lost_deals=row["lost_deals"],
        referral_deals_created=unless_skipped("referral_deals_created"),
        repeat_business_deals=unless_skipped("repeat_business_deals"),
        avg_deal_size=_float(row["avg_deal_size"]),
        sales_cycle_days=_float(unless_skipped("sales_cycle_days")),
        pipeline_created=_float(unless_skipped("pipeline_created")),
    )


def _float(value) -> float | None:
    return None if value is None else float(value)


def _nothing(owner: str) -> dict:
    """The row of a rep who carries a budget but has no deal in the window."""
    return {"owner": owner, "won_deals": 0, "lost_deals": 0, "deals_created": 0,
            "referral_deals_created": 0, "repeat_business_deals": 0, "avg_deal_size": None,
            "sales_cycle_days": None, "pipeline_created": 0}  # fmt: skip


def for_report(report: CoachingReport) -> list[dict]:
    """The "coaching" section of the JSON report: one entry per rep, by name."""
    return [
        {
            "owner": rep.owner,
            "won_deals": rep.figures.won_deals,
            "referral_deals_created": rep.figures.referral_deals_created,
            "referral_ratio": rep.figures.referral_ratio,
            "repeat_business_deals": rep.figures.repeat_business_deals,
            "win_rate": rep.figures.win_rate,
            "avg_deal_size": _cents(rep.figures.avg_deal_size),
            "sales_cycle_days": rep.figures.sales_cycle_days,
            "pipeline_created": _cents(rep.figures.pipeline_created),
        }
        for rep in report.reps
    ]


def _cents(amount: float | None) -> float | None:
    return None if amount is None else round(amount, 2)


# --- The scorecard -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Measure:
    key: str
    label: str
    higher_is_better: bool


SCORECARD = (
    Measure("attainment", "Attainment", True),
    Measure("win_rate", "Win rate", True),
    Measure("avg_deal_size", "Average deal size", True),
    Measure("sales_cycle_days", "Sales cycle", False),
    Measure("pipeline_created", "Pipeline created", True),
    Measure("referral_ratio", "Referral ratio", True),
)
SCORECARD_KEYS = tuple(measure.key for measure in SCORECARD)


def scorecard_row(rep: RepCoaching) -> dict[str, object]:
    """The rep's scorecard measures by key (None where a measure cannot be computed)."""
    return {
        "owner": rep.owner,
        "team": rep.team,
        "attainment": rep.attainment,
        "win_rate": rep.figures.win_rate,
        "avg_deal_size": rep.figures.avg_deal_size,
        "sales_cycle_days": rep.figures.sales_cycle_days,
        "pipeline_created": rep.figures.pipeline_created,
        "referral_ratio": rep.figures.referral_ratio,
    }


def scorecard_rows(report: CoachingReport) -> list[dict[str, object]]:
    return [scorecard_row(rep) for rep in report.reps]


def team_medians(rows: list[dict[str, object]]) -> dict[str, float | None]:
    """The median rep on each measure, over the reps who have a value."""
    medians = {}
    for measure in SCORECARD:
        values = [row[measure.key] for row in rows if row[measure.key] is not None]
        medians[measure.key] = statistics.median(values) if values else None
    return medians


def tukey_fences(values: list[float]) -> tuple[float, float] | None:
    """(low, high): 1.5 interquartile ranges below the first quartile and above the third,
    quartiles interpolated as a spreadsheet's QUARTILE does; None for fewer than four values."""
    if len(values) < OUTLIER_MIN_REPS:
        return None
    first, _, third = statistics.quantiles(values, n=4, method="inclusive")
    spread = OUTLIER_IQRS * (third - first)
    return first - spread, third + spread


@dataclass(frozen=True)
class Outlier:
    """A rep far from the team on one measure, and whether that is good news or a concern."""

    owner: str
    measure: Measure
    value: float
    median: float

    @property
    def high(self) -> bool:
        return self.value > self.median

    @property
    def good(self) -> bool:
        return self.high == self.measure.higher_is_better

    def sentence(self, currency: str | None) -> str:
        """ "Sales cycle: Ann 142 days, far above the team's median of 61 days (a concern)."."""
        value, median = (
            figure_text(self.measure.key, figure, currency) for figure in (self.value, self.median)
        )
        side = "above" if self.high else "below"
        verdict = "a strength" if self.good else "a concern"
        return (
            f"{self.measure.label}: {self.owner} {value}, far {side} the team's median of "
            f"{median} ({verdict})."
        )


def outliers(rows: list[dict[str, object]]) -> list[Outlier]:
    """Every rep outside Tukey's fences on a measure, concerns first, in scorecard order."""
    medians = team_medians(rows)
    found = []
    for measure in SCORECARD:
        values = [row[measure.key] for row in rows if row[measure.key] is not None]
        fences = tukey_fences(values)
        if fences is None:
            continue
        low, high = fences
        found += [
            Outlier(row["owner"], measure, row[measure.key], medians[measure.key])
            for row in rows
            if row[measure.key] is not None and not low <= row[measure.key] <= high
        ]
    return sorted(found, key=lambda outlier: outlier.good)


TEAM_MEDIAN = "Team median"
STRENGTH, CONCERN = "strength", "concern"


def scorecard_table(report: CoachingReport) -> pd.DataFrame:
    """The scorecard as a table: the team's median first, then a row per rep, with the owner,
    the team and each SCORECARD measure (None where it cannot be computed)."""
    rows = scorecard_rows(report)
    median_row = {"owner": TEAM_MEDIAN, "team": "", **team_medians(rows)}
    return pd.DataFrame([median_row, *rows], columns=["owner", "team", *SCORECARD_KEYS])


def scorecard_marks(table: pd.DataFrame, found: list[Outlier]) -> pd.DataFrame:
    """Beside each cell of scorecard_table: STRENGTH or CONCERN where that rep is an outlier on
    that measure (outliers), else ""."""
    marks = pd.DataFrame("", index=table.index, columns=table.columns)
    flagged = {(outlier.owner, outlier.measure.key): outlier.good for outlier in found}
    for index, owner in table["owner"].items():
        for key in SCORECARD_KEYS:
            if (owner, key) in flagged:
                marks.loc[index, key] = STRENGTH if flagged[(owner, key)] else CONCERN
    return marks


def referral_table(report: CoachingReport) -> pd.DataFrame:
    """Each rep's wins, referral deals and repeat business, the best referral ratio first and
    the reps without one last."""
    return pd.DataFrame(
        [
            {
                "Rep": rep.owner,
                "Team": rep.team,
                "Won (W)": rep.figures.won_deals,
                "Referral deals (R)": rep.figures.referral_deals_created,
                "R / W": rep.figures.referral_ratio,
                "Repeat business": rep.figures.repeat_business_deals,
            }
            for rep in report.reps
        ],
        columns=["Rep", "Team", "Won (W)", "Referral deals (R)", "R / W", "Repeat business"],
    ).sort_values("R / W", ascending=False, na_position="last")


def figure_text(key: str, value: float | None, currency: str | None) -> str:
    """A scorecard figure in the reader's words: 84 %, $42K, 61 days, 1.40 per win."""
    if value is None:
        return "–"
    if key in ("attainment", "win_rate"):
        return percent(value)
    if key in ("avg_deal_size", "pipeline_created"):
        return money(value, currency)
    if key == "sales_cycle_days":
        return f"{value:.0f} days"
    return f"{value:.2f} per win"


# --- Questions for a 1:1 -------------------------------------------------------------------------


@dataclass(frozen=True)
class RepDeal:
    """An open deal as the 1:1 sheet sees it (a missing amount counts as 0)."""

    opportunity_id: str
    name: str
    account: str | None
    stage: str
    amount: float
    probability: float | None
    close_date: date | None
    created_date: date | None
    last_activity_date: date | None
    next_step: str | None

    def described(self, currency: str | None) -> str:
        """ "Acme renewal (Acme, $120K)"; the account is left out when the name starts with it."""
        named_after_account = self.account and self.name.startswith(self.account)
        where = f"{self.account}, " if self.account and not named_after_account else ""
        return f"{self.name} ({where}{money(self.amount, currency)})"


def open_deals(con: duckdb.DuckDBPyConnection, owner: str) -> list[RepDeal]:
    """Every open deal of the rep, largest first."""
    rows = con.execute(OPEN_DEALS_SQL, {"owner": owner}).fetchall()
    return [RepDeal(*row[:4], float(row[4]), *row[5:]) for row in rows]


def last_won_accounts(con: duckdb.DuckDBPyConnection, settings: Settings, owner: str) -> list[str]:
    """The accounts of the rep's latest wins up to the as-of date, newest first."""
    parameters = {"owner": owner, "as_of": settings.as_of, "limit": LAST_WON_ACCOUNTS}
    return [row[0] for row in con.execute(LAST_WON_ACCOUNTS_SQL, parameters).fetchall()]


def questions(
    owner: str,
    deals: list[RepDeal],
    warnings: list[PipelineWarning],
    figures: Coaching,
    won_accounts: list[str],
    settings: Settings,
    currency: str | None,
) -> list[str]:
    """Questions to ask in the rep's 1:1, most urgent first, each with its figures: overdue
    deals, deals gone quiet, large deals without a next step, the rep's warnings, then wins and
    referrals. A deal is asked about once."""
    as_of = settings.as_of
    asked: set[str] = set()
    found: list[str] = []

    def pick(candidates: list[RepDeal]) -> list[RepDeal]:
        chosen = [deal for deal in candidates if deal.opportunity_id not in asked]
        chosen = chosen[:DEALS_PER_QUESTION_KIND]
        asked.update(deal.opportunity_id for deal in chosen)
        return chosen

    overdue = [deal for deal in deals if deal.close_date and deal.close_date < as_of]
    for deal in pick(overdue):
        days = (as_of - deal.close_date).days
        found.append(
            f"{deal.described(currency)} was due to close on {deal.close_date:%-d %b %Y}, "
            f"{_days(days)} ago: is it still alive, and what date will the customer commit to?"
        )
    quiet = [
        deal
        for deal in deals
        if deal.last_activity_date
        and (as_of - deal.last_activity_date).days >= settings.no_activity_days
    ]
    for deal in pick(quiet):
        days = (as_of - deal.last_activity_date).days
        found.append(
            f"{deal.described(currency)} has had no activity in {_days(days)}: who there can "
            "you reach this week?"
        )
    # A deal without an amount (or of $0) is nobody's largest: the export does not say its size.
    largest = [deal for deal in deals if deal.amount][:LARGEST_DEALS]
    for deal in pick([deal for deal in largest if not (deal.next_step or "").strip()]):
        rank = "your largest open deal" if deal is largest[0] else "one of your largest open deals"
        found.append(
            f"{deal.described(currency)}, {rank}, has no next step: what is the next meeting, "
            "and who is in it?"
        )
    # What to ask about a warning is its rule's question; the warning's own sentence carries the
    # figures. Rules without one (gone dark, chase mode, slipping) are asked about deal by deal.
    for warning in warnings:
        if warning.owner == owner and warning.rule.question:
            found.append(f"{_about_you(warning.message, owner)} {warning.rule.question}")
    # Every sale should lead to two more: that question is never the one cut for space.
    closing = _wins_and_referrals(figures, won_accounts)
    return found[: MAX_QUESTIONS - len(closing)] + closing


def _wins_and_referrals(figures: Coaching, won_accounts: list[str]) -> list[str]:
    if not figures.won_deals:
        if not figures.lost_deals:
            return []
        return [
            f"No deal won in the last four quarters and {figures.lost_deals} lost: where do "
            "your deals stall, and what would you do differently in the next one?"
        ]
    ratio = figures.referral_ratio
    if ratio is None or ratio >= REFERRAL_TARGET:
        return []
    who = _and_list(won_accounts) if won_accounts else "your latest customers"
    won = f"{figures.won_deals} deal{'' if figures.won_deals == 1 else 's'}"
    referrals = figures.referral_deals_created
    return [
        f"You won {won} in the last four quarters and {referrals} referral "
        f"deal{'' if referrals == 1 else 's'} {'was' if referrals == 1 else 'were'} created "
        f"({ratio:.2f} per win; the target is {REFERRAL_TARGET:g}): who could {who} "
        "introduce you to?"
    ]


def _days(days: int) -> str:
    return f"{days} day{'' if days == 1 else 's'}"


def _and_list(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _about_you(message: str, owner: str) -> str:
    """A warning's sentence without the rep's name in front, as said to the rep."""
    sentence = message.removeprefix(f"{owner}: ")
    return sentence[:1].upper() + sentence[1:]


# --- Open pipeline by stage and age --------------------------------------------------------------

# Age is days since the deal was created; older pipeline is less likely to close.
AGE_BANDS = (
    (0, 29, "under 30 days"),
    (30, 89, "30–89 days"),
    (90, 179, "90–179 days"),
    (180, None, "180 days or more"),
)
AGE_UNKNOWN = "age unknown"
AGE_LABELS = (*(label for _, _, label in AGE_BANDS), AGE_UNKNOWN)


@dataclass(frozen=True)
class StageAge:
    """One stage of a rep's open pipeline: amount and deal count in each of AGE_LABELS."""

    stage: str
    amounts: tuple[float, ...]
    counts: tuple[int, ...]

    @property
    def total(self) -> float:
        return sum(self.amounts)

    @property
    def deals(self) -> int:
        return sum(self.counts)


def age_band(deal: RepDeal, as_of: date) -> str:
    if deal.created_date is None:
        return AGE_UNKNOWN
    # A deal created after the as-of date (a date picked in the past) is as new as can be.
    age = max((as_of - deal.created_date).days, 0)
    return next(
        label for low, high, label in AGE_BANDS if age >= low and (high is None or age <= high)
    )


def pipeline_by_stage_and_age(deals: list[RepDeal], period: Period, as_of: date) -> list[StageAge]:
    """The rep's open pipeline (open deals closing in or after the period, or with no close
    date: slipped ones are asked about instead) by stage, earliest stage (lowest probability)
    first, in age bands."""
    by_stage: dict[str, list[RepDeal]] = {}
    for deal in deals:
        if deal.close_date is None or deal.close_date >= period.start:
            by_stage.setdefault(deal.stage, []).append(deal)

    def stage_order(stage: str) -> tuple:
        probabilities = [d.probability for d in by_stage[stage] if d.probability is not None]
        return (statistics.median(probabilities) if probabilities else 0.0, stage)

    rows = []
    for stage in sorted(by_stage, key=stage_order):
        bands = [age_band(deal, as_of) for deal in by_stage[stage]]
        rows.append(
            StageAge(
                stage=stage,
                amounts=tuple(
                    sum(d.amount for d, b in zip(by_stage[stage], bands, strict=True) if b == label)
                    for label in AGE_LABELS
                ),
                counts=tuple(bands.count(label) for label in AGE_LABELS),
            )
        )
    return rows
