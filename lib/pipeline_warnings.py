"""Who is about to drive off the cliff? Pipeline concentration and health warnings, per rep.

Each kind of warning is one WarningRule in RULES: its label, its thresholds (Settings fields),
its 1:1 question, whether the QBR counts it as a concentration risk, and the function that
checks it. docs/adding-a-warning.md says how to add one.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from html import escape
from typing import Literal, NamedTuple

import duckdb
import pandas as pd

from lib.fiscal import fiscal_month, fiscal_quarter, next_quarter, previous_quarter
from lib.format import markdown_text, money, percent
from lib.pacing import PacingReport, budgets, pacing
from lib.settings import Settings
from lib.sql import sql_file

# How many deals a message names before it says "and N more".
NAMED_DEALS = 3


def _rows(cursor: duckdb.DuckDBPyConnection) -> list[dict]:
    """A query's rows as dicts keyed by column name, so that they are read by name, not place."""
    names = [column[0] for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


@dataclass(frozen=True)
class PipelineWarning:
    """One warning: what rule fired, for whom, the figure it tested and the deals behind it."""

    scope: str
    owner: str | None
    kind: str
    severity: str
    value: float
    message: str
    opportunity_ids: tuple[str, ...]
    at_stake: float

    @property
    def rule(self) -> WarningRule:
        return RULES_BY_KIND[self.kind]

    def as_json(self) -> dict[str, object]:
        return {
            "scope": self.scope,
            "owner": self.owner,
            "kind": self.kind,
            "severity": self.severity,
            "value": self.value,
            "message": self.message,
            "opportunity_ids": list(self.opportunity_ids),
        }


@dataclass(frozen=True)
class WarningsFound:
    """Every warning, most severe and most money at stake first, the checks not run (kind ->
    why), and what the session lacks that they need (MISSING's keys and reasons)."""

    warnings: tuple[PipelineWarning, ...]
    skipped: dict[str, str]
    lacking: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class NamedDeal:
    """A deal a message names: its ID, name, account and amount (0 when the export has none)."""

    opportunity_id: str
    name: str
    account: str | None
    amount: float

    def described(self, currency: str | None) -> str:
        where = f", {self.account}" if self.account else ""
        return f"{self.name} ({money(self.amount, currency)}{where})"


def _named_deal(fields: dict | None) -> NamedDeal | None:
    return NamedDeal(**fields) if fields else None


def _named_deals(rows: list[dict] | None) -> tuple[NamedDeal, ...]:
    return tuple(map(_named_deal, rows or ()))


@dataclass(frozen=True)
class RepPipeline:
    """One rep's open pipeline in figures (lib/sql/rep_pipeline.sql), the largest deals named."""

    owner: str
    total: float
    sum_of_squares: float
    largest: NamedDeal | None
    dark_amount: float
    dark_deals: tuple[NamedDeal, ...]
    dark_count: int
    chased_deals: tuple[NamedDeal, ...]
    chased_count: int
    chased_amount: float
    closing_amount: float
    closing_count: int
    next_amount: float
    next_count: int
    # The IDs of the deals behind each figure, largest first; empty unless asked for.
    dark_ids: tuple[str, ...] = ()
    chased_ids: tuple[str, ...] = ()
    closing_ids: tuple[str, ...] = ()
    next_ids: tuple[str, ...] = ()

    @property
    def herfindahl(self) -> float:
        """HHI = Σ share² of the deal amounts: 1 for a single deal, 1/n for n equal deals."""
        return self.sum_of_squares / self.total**2 if self.total > 0 else 0.0

    @property
    def effective_number_of_deals(self) -> float | None:
        """1 / HHI: how many equal deals the pipeline is worth."""
        return 1 / self.herfindahl if self.herfindahl else None


def _rep_pipeline(row: dict) -> RepPipeline:
    """A row of lib/sql/rep_pipeline.sql, whose columns are named as RepPipeline's fields."""
    return RepPipeline(
        **row
        | {name: _named_deals(row[name]) for name in ("dark_deals", "chased_deals")}
        | {name: tuple(ids or ()) for name, ids in row.items() if name.endswith("_ids")}
        | {"largest": _named_deal(row["largest"])}
    )


def empty_pipeline(owner: str) -> RepPipeline:
    """The figures of a rep with no open pipeline."""
    return RepPipeline(
        owner=owner, total=0.0, sum_of_squares=0.0, largest=None, dark_amount=0.0,
        dark_deals=(), dark_count=0, chased_deals=(), chased_count=0, chased_amount=0.0,
        closing_amount=0.0, closing_count=0, next_amount=0.0, next_count=0,
    )  # fmt: skip


@dataclass(frozen=True)
class FlaggedDeals:
    """A rep's open deals a rule flags (slipped, or pushed again and again): how many, how much,
    the largest few named. `ids` is empty unless asked for."""

    count: int
    amount: float
    largest: tuple[NamedDeal, ...]
    ids: tuple[str, ...] = ()


def rep_pipelines(
    con: duckdb.DuckDBPyConnection, settings: Settings, with_deal_ids: bool = False
) -> list[RepPipeline]:
    """Every rep with open pipeline, in figures, for the as-of date's quarter; with the IDs of
    the deals behind each figure when asked."""
    period = fiscal_quarter(settings.as_of, settings)
    upcoming = next_quarter(period, settings)
    rows = _rows(
        con.execute(
            sql_file("rep_pipeline"),
            {
                "as_of": settings.as_of,
                "period_start": period.start,
                "period_end": period.end,
                "next_start": upcoming.start,
                "next_end": upcoming.end,
                "gone_dark_days": settings.gone_dark_days,
                "chase_probability": settings.chase_probability,
                "chase_days": settings.chase_days,
                "named": NAMED_DEALS,
                "with_ids": with_deal_ids,
            },
        )
    )
    return [_rep_pipeline(row) for row in rows]


def _flagged_by_rep(cursor: duckdb.DuckDBPyConnection) -> dict[str, FlaggedDeals]:
    return {
        row["owner"]: FlaggedDeals(
            row["count"], row["amount"], _named_deals(row["largest"]), tuple(row["ids"] or ())
        )
        for row in _rows(cursor)
    }


def slipped_by_rep(
    con: duckdb.DuckDBPyConnection, settings: Settings, with_deal_ids: bool = False
) -> dict[str, FlaggedDeals]:
    """Each rep's open deals whose close date has passed (lib/sql/slipped_deals.sql)."""
    parameters = {"as_of": settings.as_of, "named": NAMED_DEALS, "with_ids": with_deal_ids}
    return _flagged_by_rep(con.execute(sql_file("slipped_deals"), parameters))


def stalled_by_rep(
    con: duckdb.DuckDBPyConnection, with_deal_ids: bool = False
) -> dict[str, FlaggedDeals]:
    """Each rep's open deals stalled in their stage (lib/sql/stalled_deals.sql)."""
    parameters = {"named": NAMED_DEALS, "with_ids": with_deal_ids}
    return _flagged_by_rep(con.execute(sql_file("stalled_deals"), parameters))


def pushed_by_rep(
    con: duckdb.DuckDBPyConnection, settings: Settings, with_deal_ids: bool = False
) -> dict[str, FlaggedDeals]:
    """Each rep's open deals whose close date was pushed `pushes_to_flag` times or more
    (lib/sql/pushed_deals.sql)."""
    parameters = {
        "min_pushes": settings.pushes_to_flag, "named": NAMED_DEALS, "with_ids": with_deal_ids
    }  # fmt: skip
    return _flagged_by_rep(con.execute(sql_file("pushed_deals"), parameters))


@dataclass(frozen=True)
class TopDeals:
    """The as-of quarter's three largest in-period open deals by weighted amount, their weighted
    amounts, and the weighted amount of every in-period open deal."""

    deals: tuple[NamedDeal, ...] = ()
    weighted: tuple[float, ...] = ()
    total: float = 0.0


def top_weighted_deals(con: duckdb.DuckDBPyConnection, settings: Settings) -> TopDeals:
    period = fiscal_quarter(settings.as_of, settings)
    (row,) = _rows(
        con.execute(sql_file("top_weighted_deals"), {"start": period.start, "end": period.end})
    )
    return TopDeals(_named_deals(row["deals"]), tuple(row["weighted"] or ()), row["total"] or 0.0)


CREATED_SQL = """
    SELECT owner,
        coalesce(sum(amount) FILTER (created_date BETWEEN $recent_start AND $as_of), 0)
            AS created_recently,
        coalesce(sum(amount) FILTER (created_date BETWEEN $before_start AND $before_end), 0)
            AS created_before,
        max(created_date) FILTER (created_date <= $as_of) AS last_created
    FROM opportunities
    GROUP BY owner
"""

# Whether the export has created and last-activity dates: EXISTS stops at the first one found.
COLUMN_FILLED_SQL = """
    SELECT
        EXISTS (SELECT 1 FROM opportunities WHERE created_date IS NOT NULL),
        EXISTS (SELECT 1 FROM opportunities WHERE last_activity_date IS NOT NULL),
        -- Without any open deal every check can run (and finds nothing to warn about).
        NOT EXISTS (SELECT 1 FROM open_opportunities)
            OR EXISTS (SELECT 1 FROM open_opportunities WHERE amount IS NOT NULL),
        NOT EXISTS (SELECT 1 FROM open_opportunities)
            OR EXISTS (SELECT 1 FROM open_opportunities WHERE close_date IS NOT NULL)
"""

# Win rate by value over the four fiscal quarters ending with the as-of date's, by close date.
WIN_RATE_BY_VALUE_SQL = """
    SELECT owner,
        sum(amount) FILTER (status = 'won')
            / nullif(sum(amount) FILTER (status IN ('won', 'lost')), 0) AS win_rate
    FROM opportunities
    WHERE close_date BETWEEN $start AND $end
    GROUP BY owner
"""


# --- What the checks read ----------------------------------------------------------------------


@dataclass(frozen=True)
class RepFacts:
    """What a rep's checks read: their open pipeline, this quarter's budget and bookings, next
    quarter's budget, their win rate (when the coverage target comes from it), the pipeline
    they created lately, and their slipped and pushed deals."""

    pipeline: RepPipeline
    budget: float | None = None
    closed_to_date: float = 0.0
    next_budget: float | None = None
    next_quarter_label: str = ""
    win_rate: float | None = None
    # Created in the last 30 days (as_of − 29 … as_of), in the 90 days before, and the last date.
    created_recently: float = 0.0
    created_before: float = 0.0
    last_created: date | None = None
    slipped: FlaggedDeals | None = None
    pushed: FlaggedDeals | None = None
    stalled: FlaggedDeals | None = None

    @property
    def owner(self) -> str:
        return self.pipeline.owner


@dataclass(frozen=True)
class TeamFacts:
    """What the team's checks read: every rep's open pipeline and the quarter's top deals."""

    pipelines: tuple[RepPipeline, ...]
    top: TopDeals = TopDeals()


# --- The checks: one per kind, each given a rep's facts (or the team's) -------------------------


def deal_count(count: int) -> str:
    return f"{count} deal{'' if count == 1 else 's'}"


def _named(deals: tuple[NamedDeal, ...], count: int, currency: str | None) -> str:
    shown = ", ".join(deal.described(currency) for deal in deals[:NAMED_DEALS])
    more = count - min(len(deals), NAMED_DEALS)
    return shown + (f" and {more} more" if more > 0 else "")


def _warning(owner, kind, severity, value, message, ids, at_stake) -> PipelineWarning:
    scope = RULES_BY_KIND[kind].scope
    return PipelineWarning(scope, owner, kind, severity, value, message, tuple(ids), at_stake)


def concentration(
    rep: RepFacts, settings: Settings, currency: str | None
) -> PipelineWarning | None:
    """The largest deal is most of the rep's open pipeline."""
    pipeline = rep.pipeline
    if pipeline.total <= 0 or pipeline.largest is None:
        return None
    share = pipeline.largest.amount / pipeline.total
    if share < settings.concentration_warn:
        return None
    severity = "critical" if share >= settings.concentration_critical else "warn"
    message = (
        f"{rep.owner}: {percent(share)} of the open pipeline is one deal, "
        f"{pipeline.largest.described(currency)}. Effective number of deals: "
        f"{pipeline.effective_number_of_deals:.1f}."
    )
    return _warning(rep.owner, "concentration", severity, share, message,
                    [pipeline.largest.opportunity_id], pipeline.largest.amount)  # fmt: skip


def _short_of(target: float, budget: float, pipeline: float) -> float:
    """The money at stake of a coverage warning: the pipeline missing to reach the target. The
    budget less the pipeline would be negative for a rep covered 1.1× against a 3× target."""
    return target * budget - pipeline


def coverage(rep: RepFacts, settings: Settings, currency: str | None) -> PipelineWarning | None:
    """The pipeline closing this period is too thin for the budget still to close (none when
    the budget is met or there is none); the target is 1 ÷ the win rate when it is given."""
    if not rep.budget or rep.closed_to_date >= rep.budget:
        return None
    remaining = rep.budget - rep.closed_to_date
    target = (1 / rep.win_rate) if rep.win_rate else settings.coverage_warn
    closing = rep.pipeline.closing_amount
    ratio = closing / remaining
    if ratio >= target:
        return None
    critical = target * settings.coverage_critical / settings.coverage_warn
    message = (
        f"{rep.owner}: the pipeline closing this quarter covers {ratio:.1f}× the "
        f"{money(remaining, currency)} still to close (target {target:.1f}×): "
        f"{money(closing, currency)} in {deal_count(rep.pipeline.closing_count)}."
    )
    severity = "critical" if ratio < critical else "warn"
    return _warning(rep.owner, "coverage", severity, ratio, message, rep.pipeline.closing_ids,
                    _short_of(target, remaining, closing))  # fmt: skip


def next_period_coverage(
    rep: RepFacts, settings: Settings, currency: str | None
) -> PipelineWarning | None:
    """Next quarter's pipeline is too thin for its budget: what is up ahead."""
    if not rep.next_budget:
        return None
    upcoming = rep.pipeline.next_amount
    ratio = upcoming / rep.next_budget
    if ratio >= settings.next_period_coverage_warn:
        return None
    message = (
        f"{rep.owner}: {rep.next_quarter_label} pipeline is {ratio:.1f}× its "
        f"{money(rep.next_budget, currency)} budget (target "
        f"{settings.next_period_coverage_warn:.1f}×): {money(upcoming, currency)} in "
        f"{deal_count(rep.pipeline.next_count)}."
    )
    return _warning(rep.owner, "next_period_coverage", "warn", ratio, message,
                    rep.pipeline.next_ids,
                    _short_of(settings.next_period_coverage_warn, rep.next_budget,
                              upcoming))  # fmt: skip


def prospecting_stall(
    rep: RepFacts, settings: Settings, currency: str | None
) -> PipelineWarning | None:
    """No new pipeline lately: less than half the rep's usual creation, or none in 21 days (for
    a rep with open pipeline or a budget)."""
    if not (rep.pipeline.total or rep.budget):
        return None
    owner, last_created = rep.owner, rep.last_created
    usual = rep.created_before / 3
    quiet_days = None if last_created is None else (settings.as_of - last_created).days
    if quiet_days is not None and quiet_days >= settings.stall_days:
        message = f"{owner}: no deal created in {quiet_days} days (since {last_created:%b %-d})."
        return _warning(owner, "prospecting_stall", "warn", float(quiet_days), message, [],
                        usual)  # fmt: skip
    if usual > 0 and rep.created_recently < settings.stall_share * usual:
        ratio = rep.created_recently / usual
        message = (
            f"{owner}: {money(rep.created_recently, currency)} of pipeline created in the last "
            f"30 days, {percent(ratio)} of the usual {money(usual, currency)} a month."
        )
        return _warning(owner, "prospecting_stall", "warn", ratio, message, [],
                        usual - rep.created_recently)  # fmt: skip
    return None


def gone_dark(rep: RepFacts, settings: Settings, currency: str | None) -> PipelineWarning | None:
    """Much of the open pipeline has had no activity for two weeks."""
    pipeline = rep.pipeline
    if pipeline.total <= 0 or pipeline.dark_amount / pipeline.total < settings.gone_dark_share:
        return None
    share = pipeline.dark_amount / pipeline.total
    message = (
        f"{rep.owner}: {percent(share)} of the open pipeline "
        f"({money(pipeline.dark_amount, currency)}) has had no activity for "
        f"{settings.gone_dark_days} days or more: "
        f"{_named(pipeline.dark_deals, pipeline.dark_count, currency)}."
    )
    return _warning(rep.owner, "gone_dark", "warn", share, message, pipeline.dark_ids,
                    pipeline.dark_amount)  # fmt: skip


def chase_mode(rep: RepFacts, settings: Settings, currency: str | None) -> PipelineWarning | None:
    """Late-stage deals nobody has touched for three weeks."""
    pipeline = rep.pipeline
    if not pipeline.chased_count:
        return None
    message = (
        f"{rep.owner}: {deal_count(pipeline.chased_count)} at "
        f"{percent(settings.chase_probability)} or more with no activity for "
        f"{settings.chase_days} days or more: "
        f"{_named(pipeline.chased_deals, pipeline.chased_count, currency)}."
    )
    return _warning(rep.owner, "chase_mode", "warn", float(pipeline.chased_count), message,
                    pipeline.chased_ids, pipeline.chased_amount)  # fmt: skip


def _open_deals(count: int) -> str:
    return f"{count} open deal{'' if count == 1 else 's'}"


def slipping(rep: RepFacts, settings: Settings, currency: str | None) -> PipelineWarning | None:
    """Open deals whose close date has passed: close them or move them."""
    slipped = rep.slipped
    if slipped is None or not slipped.count:
        return None
    message = (
        f"{rep.owner}: {_open_deals(slipped.count)} with a close date in the past "
        f"({money(slipped.amount, currency)}): {_named(slipped.largest, slipped.count, currency)}."
        " Close them or move them."
    )
    return _warning(rep.owner, "slipping", "warn", float(slipped.count), message, slipped.ids,
                    slipped.amount)  # fmt: skip


def pushed_repeatedly(
    rep: RepFacts, settings: Settings, currency: str | None
) -> PipelineWarning | None:
    """Open deals whose close date keeps moving out (with snapshots or history to count the
    pushes)."""
    pushed = rep.pushed
    if pushed is None or not pushed.count:
        return None
    message = (
        f"{rep.owner}: {_open_deals(pushed.count)} with a close date pushed "
        f"{settings.pushes_to_flag} times or more ({money(pushed.amount, currency)}): "
        f"{_named(pushed.largest, pushed.count, currency)}. Ask what is really in the way."
    )
    return _warning(rep.owner, "pushed", "warn", float(pushed.count), message, pushed.ids,
                    pushed.amount)  # fmt: skip


def stalled(rep: RepFacts, settings: Settings, currency: str | None) -> PipelineWarning | None:
    """Open deals in their stage for twice (`stalled_ratio`) the usual time or longer: the
    median days that deals which left the stage over the trailing four quarters spent in it."""
    found = rep.stalled
    if found is None or not found.count:
        return None
    message = (
        f"{rep.owner}: {_open_deals(found.count)} stalled, in "
        f"{'its' if found.count == 1 else 'their'} stage "
        f"{settings.stalled_ratio:g}× the usual time or longer ({money(found.amount, currency)}): "
        f"{_named(found.largest, found.count, currency)}."
    )
    return _warning(rep.owner, "stalled", "warn", float(found.count), message, found.ids,
                    found.amount)  # fmt: skip


def team_top_deals(
    team: TeamFacts, settings: Settings, currency: str | None
) -> PipelineWarning | None:
    """Three deals carry much of the quarter's weighted pipeline."""
    top = team.top
    if not top.total:
        return None
    share = sum(top.weighted) / top.total
    if share < settings.team_top_deals_share:
        return None
    message = (
        f"The {len(top.deals)} largest deals closing this quarter carry {percent(share)} of the "
        f"weighted pipeline: {_named(top.deals, len(top.deals), currency)}."
    )
    ids = [deal.opportunity_id for deal in top.deals]
    return _warning(None, "team_top_deals", "warn", share, message, ids,
                    sum(deal.amount for deal in top.deals))  # fmt: skip


def team_rep_share(
    team: TeamFacts, settings: Settings, currency: str | None
) -> PipelineWarning | None:
    """One rep holds much of the team's open pipeline."""
    team_total = sum(rep.total for rep in team.pipelines)
    if team_total <= 0:
        return None
    biggest = max(team.pipelines, key=lambda rep: (rep.total, rep.owner))
    share = biggest.total / team_total
    if share < settings.team_rep_share:
        return None
    message = (
        f"{biggest.owner} holds {percent(share)} of the team's open pipeline "
        f"({money(biggest.total, currency)} of {money(team_total, currency)})."
    )
    ids = [biggest.largest.opportunity_id] if biggest.largest else []
    return _warning(None, "team_rep_share", "warn", share, message, ids, biggest.total)


# --- The rules: one entry per kind ---------------------------------------------------------------


class Threshold(NamedTuple):
    """A Settings field a rule reads, the sidebar's label for it, and what it measures: a share
    (a fraction, typed as %), a ratio (×), days or a count."""

    field: str
    label: str
    unit: Literal["share", "ratio", "days", "count"]


# What a check needs that an export or a session may lack, and the page's reason when it does.
MISSING = {
    "amounts": "no open deal has an amount",
    "close_dates": "no open deal has a close date",
    "activity": "the export has no last-activity date",
    "created": "the export has no created date",
    "budget": "no quota file gives the reps a budget",
    "stage_history": (
        "nothing dates when the open deals entered their stages: save each week's export as a "
        "snapshot, or load a Data Export with OpportunityHistory or an export with stage-change "
        "dates"
    ),
}


@dataclass(frozen=True)
class WarningRule:
    """One kind of warning. `check` is given each rep's facts ("rep" scope) or the team's
    ("team") and returns a warning or None; `question` is what the rep's 1:1 asks about it
    (None: asked about deal by deal instead); `concentration_risk` puts it in the QBR's
    concentration risks; `needs` (keys of MISSING) skips the check when one is missing."""

    kind: str
    label: str
    scope: Literal["rep", "team"]
    check: Callable[..., PipelineWarning | None]
    thresholds: tuple[Threshold, ...] = ()
    question: str | None = None
    concentration_risk: bool = False
    needs: tuple[str, ...] = ()


RULES = (
    WarningRule(
        "concentration", "One big deal", "rep", concentration,
        thresholds=(
            Threshold("concentration_warn", "One deal is this share of a rep's pipeline (warn)",
                      "share"),
            Threshold("concentration_critical", "… (critical)", "share"),
        ),
        question="What happens to your quarter if it slips, and what can you build beside it?",
        concentration_risk=True,
        needs=("amounts",),
    ),
    WarningRule(
        "coverage", "Thin coverage", "rep", coverage,
        thresholds=(
            Threshold("coverage_warn", "Coverage of the budget still to close below (warn)",
                      "ratio"),
            Threshold("coverage_critical", "… (critical)", "ratio"),
        ),
        question="Which deals can you add, or bring into this quarter?",
        needs=("budget", "amounts", "close_dates"),
    ),
    WarningRule(
        "next_period_coverage", "Thin pipeline next quarter", "rep", next_period_coverage,
        thresholds=(
            Threshold("next_period_coverage_warn", "Next quarter's coverage below", "ratio"),
        ),
        question="Which accounts will you open this month to fill it?",
        needs=("budget", "amounts", "close_dates"),
    ),
    WarningRule(
        "prospecting_stall", "Stopped prospecting", "rep", prospecting_stall,
        thresholds=(
            Threshold("stall_share", "Pipeline created in 30 days below this share of usual",
                      "share"),
            Threshold("stall_days", "No deal created for (days)", "days"),
        ),
        question="Where will next quarter's pipeline come from?",
        needs=("created",),
    ),
    WarningRule(
        "gone_dark", "Gone dark", "rep", gone_dark,
        thresholds=(
            Threshold("gone_dark_share", "Share of pipeline gone dark", "share"),
            Threshold("gone_dark_days", "Gone dark after (days without activity)", "days"),
        ),
        needs=("activity", "amounts"),
    ),
    WarningRule(
        "chase_mode", "Late-stage deals gone quiet", "rep", chase_mode,
        thresholds=(
            Threshold("chase_probability", "Chase mode from probability", "share"),
            Threshold("chase_days", "Chase mode after (days without activity)", "days"),
        ),
        needs=("activity",),
    ),
    WarningRule("slipping", "Slipping", "rep", slipping, needs=("close_dates",)),
    WarningRule(
        "pushed", "Close date keeps moving", "rep", pushed_repeatedly,
        thresholds=(
            Threshold("pushes_to_flag", "Close date pushed at least (times, with snapshots)",
                      "count"),
        ),
        needs=("close_dates",),
    ),
    WarningRule(
        "stalled", "Stalled in a stage", "rep", stalled,
        thresholds=(
            Threshold("stalled_ratio", "Stalled at this multiple of a stage's usual days",
                      "ratio"),
        ),
        question="What has to happen for each of them to reach the next stage, and by when?",
        needs=("stage_history",),
    ),
    WarningRule(
        "team_top_deals", "Team hangs on three deals", "team", team_top_deals,
        thresholds=(
            Threshold("team_top_deals_share", "Team's 3 largest deals carry this share", "share"),
        ),
        concentration_risk=True,
        needs=("amounts",),
    ),
    WarningRule(
        "team_rep_share", "Team hangs on one rep", "team", team_rep_share,
        thresholds=(
            Threshold("team_rep_share", "One rep holds this share of the team's pipeline",
                      "share"),
        ),
        concentration_risk=True,
        needs=("amounts",),
    ),
)  # fmt: skip
RULES_BY_KIND = {rule.kind: rule for rule in RULES}
# Every threshold the sidebar's Settings offer, rule by rule; a workspace remembers them by field.
WARNING_THRESHOLDS = tuple(threshold for rule in RULES for threshold in rule.thresholds)


# --- Every warning, for a session ---------------------------------------------------------------


def _severity_then_money(warning: PipelineWarning) -> tuple:
    return (warning.severity != "critical", -warning.at_stake, warning.owner or "", warning.kind)


def trailing_win_rates(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, float]:
    """Each rep's win rate by value over the four fiscal quarters ending with the as-of's."""
    last = fiscal_quarter(settings.as_of, settings)
    first = last
    for _ in range(3):
        first = previous_quarter(first, settings)
    rows = con.execute(WIN_RATE_BY_VALUE_SQL, {"start": first.start, "end": last.end}).fetchall()
    return {owner: float(rate) for owner, rate in rows if rate}


@dataclass(frozen=True)
class PipelineFigures:
    """What the warnings and the warnings page's charts are drawn from, read once per page: the
    quarter's pacing (its reps, budgets and bookings) and each rep's open pipeline."""

    this_quarter: PacingReport
    pipelines: dict[str, RepPipeline]

    @property
    def owners(self) -> list[str]:
        return [rep.owner for rep in self.this_quarter.reps]


def pipeline_figures(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    with_deal_ids: bool = False,
    this_quarter: PacingReport | None = None,
) -> PipelineFigures:
    """`this_quarter`: the as-of quarter's pacing, when the caller has read it already."""
    period = fiscal_quarter(settings.as_of, settings)
    return PipelineFigures(
        this_quarter=this_quarter or pacing(con, settings, period),
        pipelines={rep.owner: rep for rep in rep_pipelines(con, settings, with_deal_ids)},
    )


def _missing_data(con: duckdb.DuckDBPyConnection, figures: PipelineFigures) -> dict[str, str]:
    """What of MISSING this session lacks, with the reason."""
    has_created, has_activity, has_amounts, has_close_dates = con.execute(
        COLUMN_FILLED_SQL
    ).fetchone()
    present = {
        "amounts": has_amounts,
        "close_dates": has_close_dates,
        "activity": has_activity,
        "created": has_created,
        "budget": any(rep.pacing.budget for rep in figures.this_quarter.reps),
        "stage_history": con.execute("SELECT EXISTS (SELECT 1 FROM stage_days)").fetchone()[0],
    }
    return {need: reason for need, reason in MISSING.items() if not present[need]}


def rep_facts(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    figures: PipelineFigures,
    with_deal_ids: bool = False,
) -> list[RepFacts]:
    """The facts of every rep of this quarter's pacing, each query run once for them all."""
    upcoming = next_quarter(fiscal_quarter(settings.as_of, settings), settings)
    slipped = slipped_by_rep(con, settings, with_deal_ids)
    pushed = pushed_by_rep(con, settings, with_deal_ids)
    stalled_deals = stalled_by_rep(con, with_deal_ids)
    # Next quarter's budgets alone: its whole pacing would read every deal twice more.
    next_budgets = budgets(con, upcoming)
    win_rates = trailing_win_rates(con, settings) if settings.coverage_from_win_rate else {}
    created = {
        row["owner"]: row
        for row in _rows(
            con.execute(
                CREATED_SQL,
                {
                    "as_of": settings.as_of,
                    "recent_start": settings.as_of - timedelta(days=29),
                    "before_start": settings.as_of - timedelta(days=119),
                    "before_end": settings.as_of - timedelta(days=30),
                },
            )
        )
    }
    facts = []
    for rep in figures.this_quarter.reps:
        owner = rep.owner
        made = created.get(owner, {})
        facts.append(
            RepFacts(
                pipeline=figures.pipelines.get(owner) or empty_pipeline(owner),
                budget=rep.pacing.budget,
                closed_to_date=rep.pacing.closed_to_date,
                next_budget=next_budgets.get(owner),
                next_quarter_label=upcoming.label,
                win_rate=win_rates.get(owner),
                created_recently=float(made.get("created_recently", 0)),
                created_before=float(made.get("created_before", 0)),
                last_created=made.get("last_created"),
                slipped=slipped.get(owner),
                pushed=pushed.get(owner),
                stalled=stalled_deals.get(owner),
            )
        )
    return facts


def pipeline_warnings(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    currency: str | None,
    figures: PipelineFigures | None = None,
    with_deal_ids: bool = False,
) -> WarningsFound:
    """Every warning of PRODUCT.md's "Pipeline warnings" for the as-of date's quarter: each rule
    of RULES checked for each rep (or once for the team). `figures` when the caller has read
    them already (pipeline_figures, with the same `with_deal_ids`), so they are not read twice.
    Each warning lists the IDs of the deals behind it only when `with_deal_ids` asks: the pages
    name the largest deals and count the rest."""
    figures = figures or pipeline_figures(con, settings, with_deal_ids)
    lacking = _missing_data(con, figures)
    skipped = {
        rule.kind: " and ".join(reason for need, reason in lacking.items() if need in rule.needs)
        for rule in RULES
        if any(need in lacking for need in rule.needs)
    }
    reps = rep_facts(con, settings, figures, with_deal_ids)
    team = TeamFacts(tuple(figures.pipelines.values()), top_weighted_deals(con, settings))
    found = [
        rule.check(facts, settings, currency)
        for rule in RULES
        if rule.kind not in skipped
        for facts in (reps if rule.scope == "rep" else [team])
    ]
    warnings = sorted((w for w in found if w is not None), key=_severity_then_money)
    return WarningsFound(tuple(warnings), skipped, lacking)


# --- How a warning is shown ----------------------------------------------------------------------


@dataclass(frozen=True)
class ShownWarning:
    """A warning as every page shows it: critical or not (an error box or a warning box), the
    icon for that, and its label in bold then its sentence as Markdown that shows the
    sentence's names as typed."""

    critical: bool
    icon: str
    markdown: str


def shown_warning(warning: PipelineWarning) -> ShownWarning:
    critical = warning.severity == "critical"
    return ShownWarning(
        critical=critical,
        icon=":material/report:" if critical else ":material/warning:",
        markdown=f"**{warning.rule.label}** · {markdown_text(warning.message)}",
    )


def warning_html(warning: PipelineWarning, css_class: str) -> str:
    """A warning as the printed sheets and exports show it: a paragraph of `css_class` (and
    "critical"), its label (and "(critical)", which prints without colour) in bold, then its
    sentence, escaped."""
    critical = warning.severity == "critical"
    return (
        f'<p class="{css_class}{" critical" if critical else ""}"><b>{escape(warning.rule.label)}'
        f"{' (critical)' if critical else ''}:</b> {escape(warning.message)}</p>"
    )


# --- The warnings page's grid and what it says above it ---------------------------------------

# The grid's row, and the list's group, of the warnings about the team as a whole (owner None).
WHOLE_TEAM = "Whole team"
# How many critical warnings "This week, look at" names.
LOOK_AT = 5
# The kind said once for the team early in a quarter (next_quarter_is_early).
UP_AHEAD = "next_period_coverage"
GRID_COLUMNS = ["owner", "rep", "kind", "label", "severity", "at_stake", "message"]


def rep_name(owner: str | None) -> str:
    return WHOLE_TEAM if owner is None else owner


def by_rep(warnings: Iterable[PipelineWarning]) -> dict[str | None, list[PipelineWarning]]:
    """The warnings grouped by rep (None: the team's), each group most severe and most money
    first; the groups in the order of their most pressing warning, so that the reps with a
    critical warning come first."""
    groups: dict[str | None, list[PipelineWarning]] = {}
    for warning in sorted(warnings, key=_severity_then_money):
        groups.setdefault(warning.owner, []).append(warning)
    return groups


def warning_grid(warnings: Iterable[PipelineWarning], reps: int | None = None) -> pd.DataFrame:
    """The warnings as the grid draws them, one row each (GRID_COLUMNS; `rep` is WHOLE_TEAM for
    the team's), of the first `reps` reps (all when None). `rep` and `kind` are ordered
    categoricals holding only what is there: the reps in by_rep's order, the kinds in RULES'
    order; the rows are sorted by them."""
    groups = dict(list(by_rep(warnings).items())[:reps])
    frame = pd.DataFrame(
        [
            (w.owner, rep_name(w.owner), w.kind, w.rule.label, w.severity, w.at_stake, w.message)
            for group in groups.values()
            for w in group
        ],
        columns=GRID_COLUMNS,
        # Objects, so that the team's owner stays None rather than becoming NaN.
        dtype=object,
    ).astype({"at_stake": float})
    present = set(frame["kind"])
    frame["rep"] = pd.Categorical(frame["rep"], [rep_name(owner) for owner in groups], ordered=True)
    frame["kind"] = pd.Categorical(
        frame["kind"], [rule.kind for rule in RULES if rule.kind in present], ordered=True
    )
    return frame.sort_values(["rep", "kind"], ignore_index=True)


def look_at(warnings: Iterable[PipelineWarning], most: int = LOOK_AT) -> list[PipelineWarning]:
    """The critical warnings with the most money at stake, at most `most` of them."""
    critical = [warning for warning in warnings if warning.severity == "critical"]
    return sorted(critical, key=_severity_then_money)[:most]


def next_quarter_is_early(settings: Settings) -> bool:
    """Whether the as-of date falls before its quarter's last month. Next quarter's pipeline is
    built in this quarter's last month: before it (weeks 1 to 8 or 9 of 13) most reps short of
    their next-quarter target is the normal state of things, said once for the team; from the
    last month on, each rep's thin next quarter is news about that rep."""
    last_month = fiscal_month(fiscal_quarter(settings.as_of, settings).end)
    return settings.as_of < last_month.start


def next_quarter_budgeted(
    con: duckdb.DuckDBPyConnection, settings: Settings, owners: Iterable[str]
) -> set[str]:
    """The owners with a budget next quarter: the reps the next-quarter check can warn about."""
    upcoming = budgets(con, next_quarter(fiscal_quarter(settings.as_of, settings), settings))
    return {owner for owner in owners if upcoming.get(owner)}


def thin_next_quarter(
    warnings: Iterable[PipelineWarning], budgeted_reps: int, settings: Settings
) -> str | None:
    """One line for the team instead of a sentence per rep: "14 of 20 reps have under 2× their
    Q1 FY2027 budget in pipeline" (`budgeted_reps`: how many have a budget next quarter); None
    when no rep's next quarter is thin."""
    thin = {warning.owner for warning in warnings if warning.kind == UP_AHEAD}
    if not thin:
        return None
    upcoming = next_quarter(fiscal_quarter(settings.as_of, settings), settings)
    return (
        f"{len(thin)} of {budgeted_reps} rep{'' if budgeted_reps == 1 else 's'} "
        f"{'has' if len(thin) == 1 else 'have'} under {settings.next_period_coverage_warn:g}× "
        f"their {upcoming.label} budget in pipeline"
    )


# --- What the warnings page draws ----------------------------------------------------------------


@dataclass(frozen=True)
class PipelineBlock:
    """One block of a rep's stacked pipeline: a deal (named) or the rest of them (name None)."""

    owner: str
    name: str | None
    account: str | None
    amount: float
    deals: int


def pipeline_blocks(con: duckdb.DuckDBPyConnection, settings: Settings,
                    largest: int = 12) -> list[PipelineBlock]:  # fmt: skip
    """Each rep's largest open deals one by one, then the rest of the pipeline as one block."""
    period = fiscal_quarter(settings.as_of, settings)
    rows = con.execute(
        sql_file("pipeline_blocks"), {"period_start": period.start, "largest": largest}
    ).fetchall()
    return [PipelineBlock(*row) for row in rows]


def largest_pipelines(blocks: list[PipelineBlock], reps: int) -> list[PipelineBlock]:
    """The blocks of the `reps` reps with the most open pipeline (ties by name), so that a chart
    of hundreds of reps shows the ones that matter most."""
    totals: dict[str, float] = {}
    for block in blocks:
        totals[block.owner] = totals.get(block.owner, 0.0) + block.amount
    kept = set(sorted(totals, key=lambda owner: (-totals[owner], owner))[:reps])
    return [block for block in blocks if block.owner in kept]


@dataclass(frozen=True)
class RepCoverage:
    owner: str
    pipeline: float
    remaining: float

    @property
    def ratio(self) -> float:
        return self.pipeline / self.remaining


def coverage_by_rep(figures: PipelineFigures) -> list[RepCoverage]:
    """Each rep with budget still to close: this quarter's pipeline against it, thinnest first."""
    closing = {owner: rep.closing_amount for owner, rep in figures.pipelines.items()}
    rows = [
        RepCoverage(
            rep.owner, closing.get(rep.owner, 0.0), rep.pacing.budget - rep.pacing.closed_to_date
        )  # fmt: skip
        for rep in figures.this_quarter.reps
        if rep.pacing.budget and rep.pacing.closed_to_date < rep.pacing.budget
    ]
    return sorted(rows, key=lambda row: (row.ratio, row.owner))


CREATED_BY_WEEK_SQL = """
    SELECT owner, date_trunc('week', created_date)::DATE AS week, sum(coalesce(amount, 0))
    FROM opportunities
    WHERE created_date BETWEEN $first AND $as_of
    GROUP BY ALL
"""


def created_by_week(con: duckdb.DuckDBPyConnection, settings: Settings, owners: list[str],
                    weeks: int = 13) -> tuple[list[date], dict[str, list[float]]]:  # fmt: skip
    """Pipeline created per rep per week (weeks start on Monday) over the last `weeks` weeks;
    every one of `owners` (the pacing table's reps) is included, so that a rep who created
    nothing shows a blank row."""
    this_week = settings.as_of - timedelta(days=settings.as_of.weekday())
    starts = [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    rows = con.execute(
        CREATED_BY_WEEK_SQL, {"first": starts[0], "as_of": settings.as_of}
    ).fetchall()
    amounts = {(owner, week): float(total) for owner, week, total in rows}
    owners = [*owners, *sorted({owner for owner, _ in amounts} - set(owners))]
    return starts, {owner: [amounts.get((owner, week), 0.0) for week in starts] for owner in owners}
