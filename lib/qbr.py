"""QBR mode: the story of one fiscal quarter, told with the figures the other pages compute.

A past quarter is shown as of its last day, the current one as of the as-of date. What looks
ahead (next quarter's coverage, concentration in the open pipeline) can only be seen as of the
export's own date: an export says what is open now, not what was open on a past quarter's last
day.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.coaching import Coaching, figures_over
from lib.fiscal import Period, fiscal_quarter, next_quarter
from lib.format import money, percent
from lib.load.stages import status_from_stage_name
from lib.pacing import CumulativeSeries, PacingReport, cumulative_series, pacing
from lib.pipeline_warnings import (
    RULES_BY_KIND,
    PipelineBlock,
    PipelineWarning,
    RepCoverage,
    RepPipeline,
    pipeline_blocks,
    pipeline_figures,
    pipeline_warnings,
)
from lib.settings import Settings

TOP_WINS = 10
NO_STAGE = "Not in the export"
NO_REASON = "No reason given"
# The space between a number and its unit ("84 %", "62 days"): a line never breaks there.
UNIT_SPACE = re.compile(r"(?<=\d) (?=%|days\b)")

TOP_WINS_SQL = """
    SELECT opportunity_id, coalesce(name, opportunity_id) AS name, account, owner,
        coalesce(amount, 0)::DOUBLE AS amount, close_date, created_date, lead_source, type
    FROM opportunities
    WHERE status = 'won' AND close_date BETWEEN $start AND $to_date
    ORDER BY amount DESC, close_date, opportunity_id
    LIMIT $limit
"""

LOSSES_SQL = """
    SELECT opportunity_id, coalesce(name, opportunity_id) AS name, account, owner,
        coalesce(amount, 0)::DOUBLE AS amount, close_date, stage, loss_reason
    FROM opportunities
    WHERE status = 'lost' AND close_date BETWEEN $start AND $to_date
    ORDER BY amount DESC, close_date, opportunity_id
"""

LOSS_REASON_FILLED_SQL = "SELECT count(loss_reason) > 0 FROM opportunities"


@dataclass(frozen=True)
class Headline:
    """The quarter in five figures: bookings against budget and last year, win rate, average
    deal size and sales cycle (None where a figure cannot be computed)."""

    booked: float
    budget: float | None
    attainment: float | None
    last_year: float | None
    yoy: float | None
    won_deals: int
    lost_deals: int
    win_rate: float | None
    avg_deal_size: float | None
    sales_cycle_days: float | None


@dataclass(frozen=True)
class ClosedDeal:
    """A deal won or lost in the quarter (a missing amount counts as 0)."""

    opportunity_id: str
    name: str
    account: str | None
    owner: str
    amount: float
    close_date: date


@dataclass(frozen=True)
class Win(ClosedDeal):
    created_date: date | None
    lead_source: str | None
    type: str | None


@dataclass(frozen=True)
class LossGroup:
    label: str
    deals: int
    amount: float


# The columns of Losses.deals.
LOSS_COLUMNS = ("opportunity_id", "name", "account", "owner", "amount", "close_date",
                "stage_lost_at", "loss_reason")  # fmt: skip


@dataclass(frozen=True)
class Losses:
    """The quarter's lost deals, largest first, and grouped by stage lost at and by reason.

    The deals are a table (LOSS_COLUMNS), not one object each: a quarter may have lost tens of
    thousands. A missing amount counts as 0; stage_lost_at is missing when neither the export
    nor a saved snapshot shows the stage a deal was in before it was lost.
    """

    deals: pa.Table
    by_stage: tuple[LossGroup, ...]
    by_reason: tuple[LossGroup, ...]
    reason_exported: bool
    stage_note: str | None

    @property
    def count(self) -> int:
        return self.deals.num_rows

    @property
    def amount(self) -> float:
        return pc.sum(self.deals["amount"]).as_py() or 0.0

    def largest(self, count: int) -> tuple[ClosedDeal, ...]:
        """The count largest lost deals, largest first."""
        names = [field.name for field in fields(ClosedDeal)]
        rows = self.deals.select(names).slice(0, count).to_pylist()
        return tuple(ClosedDeal(**row) for row in rows)

    @property
    def stage_known(self) -> bool:
        """Whether any deal's stage lost at is known."""
        return self.deals["stage_lost_at"].null_count < self.count


@dataclass(frozen=True)
class Coverage:
    """The open pipeline closing in a quarter against its budget still to close, as of the
    export's date, for the team and each rep with budget left (thinnest first)."""

    quarter: Period
    as_of: date
    target: float
    critical: float
    pipeline: float
    to_close: float | None
    reps: tuple[RepCoverage, ...]

    @property
    def ratio(self) -> float | None:
        return self.pipeline / self.to_close if self.to_close else None


@dataclass(frozen=True)
class RepReferrals:
    owner: str
    won_deals: int
    referral_deals_created: int | None
    referral_ratio: float | None


@dataclass(frozen=True)
class Qbr:
    """Everything a QBR shows for one quarter."""

    quarter: Period
    # The day the quarter's figures run through: its last day, or the as-of date.
    through: date
    export_as_of: date
    pacing: PacingReport
    series: CumulativeSeries
    headline: Headline
    top_wins: tuple[Win, ...]
    losses: Losses
    coverage: Coverage | None
    coverage_note: str | None
    concentration: tuple[PipelineWarning, ...]
    # Why the concentration checks could not run ("no open deal has an amount"), None when they did.
    concentration_not_checked: str | None
    # Each rep's open pipeline deal by deal, and the share of it one deal may take.
    pipeline: tuple[PipelineBlock, ...]
    concentration_warn: float
    referrals: Coaching
    rep_referrals: tuple[RepReferrals, ...]

    @property
    def complete(self) -> bool:
        return self.through >= self.quarter.end


def quarter_settings(settings: Settings, quarter: Period) -> Settings:
    """The settings as of the quarter's last day when it is over, else as they are."""
    return replace(settings, as_of=min(settings.as_of, quarter.end))


def qbr(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    quarter: Period,
    currency: str | None,
    last_open_stages: dict[str, str] | None = None,
) -> Qbr:
    """The QBR of `quarter` (not after the as-of date's). `last_open_stages` (opportunity ID ->
    the last stage a saved snapshot showed the deal open in) fills in where lost deals were
    lost when the export only says "Closed Lost"."""
    counted = quarter_settings(settings, quarter)
    through = counted.as_of
    # The as-of quarter's pacing and every rep's open pipeline, read once for the warnings, the
    # coverage and (when it is the QBR's quarter, counted alike) the pacing.
    figures = pipeline_figures(con, settings)
    current = counted == settings and quarter == fiscal_quarter(settings.as_of, settings)
    report = figures.this_quarter if current else pacing(con, counted, quarter)
    window = replace(quarter, end=through)
    team, reps = figures_over(con, counted, window)
    coverage, coverage_note = next_quarter_coverage(con, settings, quarter, figures.pipelines)
    found = pipeline_warnings(con, settings, currency, figures)
    not_checked = [
        reason for kind, reason in found.skipped.items() if RULES_BY_KIND[kind].concentration_risk
    ]
    return Qbr(
        quarter=quarter,
        through=through,
        export_as_of=settings.as_of,
        pacing=report,
        series=cumulative_series(con, counted, report),
        headline=headline(report, team),
        top_wins=top_wins(con, quarter, through),
        losses=losses(con, quarter, through, last_open_stages or {}),
        coverage=coverage,
        coverage_note=coverage_note,
        concentration=tuple(w for w in found.warnings if w.rule.concentration_risk),
        concentration_not_checked=not_checked[0] if not_checked else None,
        pipeline=tuple(b for b in pipeline_blocks(con, settings) if b.amount),
        concentration_warn=settings.concentration_warn,
        referrals=team,
        rep_referrals=tuple(
            RepReferrals(owner, f.won_deals, f.referral_deals_created, f.referral_ratio)
            for owner, f in sorted(reps.items())
            if f.won_deals or f.referral_deals_created
        ),
    )


def headline(report: PacingReport, team: Coaching) -> Headline:
    figures = report.team
    return Headline(
        booked=figures.closed_to_date,
        budget=figures.budget,
        attainment=figures.attainment,
        last_year=figures.last_year_to_date,
        yoy=figures.yoy,
        won_deals=team.won_deals,
        lost_deals=team.lost_deals,
        win_rate=team.win_rate,
        avg_deal_size=team.avg_deal_size,
        sales_cycle_days=team.sales_cycle_days,
    )


def top_wins(
    con: duckdb.DuckDBPyConnection, quarter: Period, through: date, limit: int = TOP_WINS
) -> tuple[Win, ...]:
    """The quarter's largest won deals, largest first."""
    rows = con.execute(
        TOP_WINS_SQL, {"start": quarter.start, "to_date": through, "limit": limit}
    ).fetchall()
    return tuple(Win(*row) for row in rows)


def losses(
    con: duckdb.DuckDBPyConnection,
    quarter: Period,
    through: date,
    last_open_stages: dict[str, str],
) -> Losses:
    """The quarter's lost deals with the stage each was lost at (from the export, else from
    the last saved snapshot that showed it open) and its reason where the export gives one."""
    # DuckDB refuses a query as a relation while a result of execute() is unfinished on the
    # connection, as a fetchone() leaves it: that result is run to its end first.
    con.complete()
    found = con.sql(LOSSES_SQL, params={"start": quarter.start, "to_date": through})
    found = found.to_arrow_table()
    # Read once per stage name, not once per deal: a quarter may have lost tens of thousands.
    stages = pc.unique(found["stage"]).drop_null().to_pylist()
    lost_at = _looked_up(found["stage"], {stage: stage_lost_at(stage) for stage in stages})
    if last_open_stages:
        lost_at = pc.coalesce(lost_at, _looked_up(found["opportunity_id"], last_open_stages))
    deals = found.drop_columns(["stage"]).add_column(
        LOSS_COLUMNS.index("stage_lost_at"), "stage_lost_at", lost_at
    )
    (reason_exported,) = con.execute(LOSS_REASON_FILLED_SQL).fetchone()
    unknown = lost_at.null_count
    note = None
    if unknown:
        note = (
            f"{unknown} of {deals.num_rows} lost deals show only a closing stage (such as "
            '"Closed Lost"): the export does not say which stage they were lost at. Saved '
            "weekly snapshots fill it in for deals they saw open."
        )
    return Losses(
        deals=deals,
        by_stage=_grouped(pc.fill_null(lost_at, NO_STAGE), deals["amount"]),
        by_reason=_grouped(pc.fill_null(deals["loss_reason"], NO_REASON), deals["amount"])
        if reason_exported
        else (),
        reason_exported=bool(reason_exported),
        stage_note=note,
    )


def _looked_up(keys: pa.ChunkedArray, values: dict[str, str | None]) -> pa.ChunkedArray:
    """Each key's value (missing where the key has none)."""
    known = pa.array(list(values), pa.string())
    return pc.take(pa.array(list(values.values()), pa.string()), pc.index_in(keys, known))


def stage_lost_at(stage: str) -> str | None:
    """A lost deal's stage when it names a pipeline stage (Pipedrive and Dynamics keep a lost
    deal in the stage it reached); None for a closing stage such as "Closed Lost", which says
    nothing of where the deal stopped."""
    return stage if status_from_stage_name(stage) == "open" else None


def _grouped(labels: pa.ChunkedArray, amounts: pa.ChunkedArray) -> tuple[LossGroup, ...]:
    """Deal count and amount per label (each deal's), the most money first."""
    grouped = pa.table({"label": labels, "amount": amounts}).group_by("label")
    rows = grouped.aggregate([("amount", "sum"), ([], "count_all")]).to_pylist()
    found = [LossGroup(row["label"], row["count_all"], row["amount_sum"]) for row in rows]
    return tuple(sorted(found, key=lambda group: (-group.amount, -group.deals, group.label)))


def next_quarter_coverage(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    quarter: Period,
    pipelines: dict[str, RepPipeline],
) -> tuple[Coverage | None, str | None]:
    """The quarter after `quarter`: its open pipeline (each rep's, from `pipelines`) against its
    budget still to close, as of the export's date, with the warnings' targets (3× for the
    quarter under way, 2× for the one after). None, with the reason, when that quarter is
    already over or has no budget."""
    current = fiscal_quarter(settings.as_of, settings)
    upcoming = next_quarter(quarter, settings)
    if upcoming.start == current.start:
        amount_of, target = "closing_amount", settings.coverage_warn
    elif upcoming.start == next_quarter(current, settings).start:
        amount_of, target = "next_amount", settings.next_period_coverage_warn
    else:
        return None, (
            f"{upcoming.label} is over: its coverage is a question for its own QBR, not this one."
        )
    amounts = {owner: getattr(rep, amount_of) for owner, rep in pipelines.items()}
    # A budget typed in on the page is the chosen quarter's, not the next one's.
    plan = pacing(con, replace(settings, team_budget=None), upcoming)
    if plan.team.budget is None:
        return None, f"No budget for {upcoming.label}: load a quota file that gives one."
    rows = [
        RepCoverage(rep.owner, amounts.get(rep.owner, 0.0),
                    rep.pacing.budget - rep.pacing.closed_to_date)
        for rep in plan.reps
        if rep.pacing.budget and rep.pacing.closed_to_date < rep.pacing.budget
    ]  # fmt: skip
    coverage = Coverage(
        quarter=upcoming,
        as_of=settings.as_of,
        target=target,
        critical=target * settings.coverage_critical / settings.coverage_warn,
        pipeline=sum(amounts.values()),
        to_close=max(plan.team.budget - plan.team.closed_to_date, 0.0),
        reps=tuple(sorted(rows, key=lambda row: (row.ratio, row.owner))),
    )
    return coverage, None


def headline_cards(result: Qbr, currency: str | None) -> list[tuple[str, str, str]]:
    """(label, figure, what it is against) for the headline, as the page and the file show it."""
    head = result.headline
    budget = (
        f"{percent(head.attainment)} of {money(head.budget, currency)} budget"
        if head.budget is not None
        else "no budget loaded"
    )
    last_year = f"{money(head.last_year, currency)} in {result.pacing.last_year.label}"
    if result.pacing.last_year_note:
        last_year = f"{result.pacing.last_year.label} is not in the export"
    elif not result.complete:
        last_year += " by the same day"
    closed = head.won_deals + head.lost_deals
    cycle = "–" if head.sales_cycle_days is None else f"{head.sales_cycle_days:.0f} days"
    cards = [
        ("Bookings", money(head.booked, currency), budget),
        ("vs last year", percent(head.yoy, signed=True), last_year),
        ("Win rate", percent(head.win_rate), f"{head.won_deals} won of {closed} closed"),
        ("Average deal", money(head.avg_deal_size, currency), "won deals"),
        ("Sales cycle", cycle, "median, created to won"),
    ]
    return [(label, unbroken(value), unbroken(note)) for label, value, note in cards]


def story(result: Qbr, currency: str | None) -> str:
    """The quarter in one sentence, for the page's and the file's heading."""
    head = result.headline
    when = "" if result.complete else f" so far (through {result.through:%-d %b})"
    booked = f"{result.quarter.label}{when}: {money(head.booked, currency)} booked"
    if head.attainment is not None:
        booked += f", {percent(head.attainment)} of budget"
    if head.yoy is not None:
        booked += f", {percent(head.yoy, signed=True)} on last year"
    return unbroken(booked + ".")


def unbroken(text: str) -> str:
    """The text with a non-breaking space between each number and its unit, so that a figure
    read from across a room never wraps inside itself ("+14" on one line, "%" on the next)."""
    return UNIT_SPACE.sub("\u00a0", text)
