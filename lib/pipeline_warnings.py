"""Who is about to drive off the cliff? Pipeline concentration and health warnings, per rep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

import duckdb

from lib.fiscal import fiscal_quarter, next_quarter, previous_quarter
from lib.format import money, percent
from lib.pacing import PacingReport, budgets, pacing
from lib.settings import Settings

KINDS = (
    "concentration",
    "coverage",
    "next_period_coverage",
    "prospecting_stall",
    "gone_dark",
    "chase_mode",
    "slipping",
    "team_top_deals",
    "team_rep_share",
)
KIND_LABELS = {
    "concentration": "One big deal",
    "coverage": "Thin coverage",
    "next_period_coverage": "Thin pipeline next quarter",
    "prospecting_stall": "Stopped prospecting",
    "gone_dark": "Gone dark",
    "chase_mode": "Late-stage deals gone quiet",
    "slipping": "Slipping",
    "team_top_deals": "Team hangs on three deals",
    "team_rep_share": "Team hangs on one rep",
}
# How many deals a message names before it says "and N more".
NAMED_DEALS = 3


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
    """Every warning, most severe and most money at stake first, and the checks not run."""

    warnings: tuple[PipelineWarning, ...]
    skipped: dict[str, str]


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


@dataclass(frozen=True)
class Slipped:
    """A rep's slipping open deals: those whose close date has passed, or (a separate count)
    those whose close date was pushed again and again. `ids` is empty unless asked for."""

    count: int
    amount: float
    largest: tuple[NamedDeal, ...]
    ids: tuple[str, ...] = ()


SQL_DIR = Path(__file__).resolve().parent / "sql"

# The deals a message names are the first few by min_by(…, n), which keeps only those as it
# reads; a sorted list of every deal, then cut, took twice as long at a million deals.
SLIPPED_SQL = """
    SELECT owner, count(*), sum(coalesce(amount, 0))::DOUBLE,
        min_by({'opportunity_id': opportunity_id, 'name': coalesce(name, opportunity_id),
                'account': account, 'amount': coalesce(amount, 0)::DOUBLE},
               (-coalesce(amount, 0), opportunity_id), $named),
        list(opportunity_id ORDER BY coalesce(amount, 0) DESC, opportunity_id)
            FILTER ($with_ids)
    FROM open_opportunities
    WHERE close_date < $as_of
    GROUP BY owner
"""

# Open deals whose close date was pushed at least $min_pushes times (push_counts, counted over
# saved snapshots), the most pushed first. p.pushes is qualified: an export may have a column of
# its own called Pushes.
PUSHED_SQL = """
    SELECT owner, count(*), sum(coalesce(amount, 0))::DOUBLE,
        min_by({'opportunity_id': opportunity_id, 'name': coalesce(name, opportunity_id),
                'account': account, 'amount': coalesce(amount, 0)::DOUBLE},
               (-p.pushes, -coalesce(amount, 0), opportunity_id), $named),
        list(opportunity_id ORDER BY p.pushes DESC, coalesce(amount, 0) DESC, opportunity_id)
            FILTER ($with_ids)
    FROM open_opportunities
    JOIN (SELECT opportunity_id, pushes FROM push_counts) AS p USING (opportunity_id)
    WHERE p.pushes >= $min_pushes
    GROUP BY owner
"""

# The quarter's in-period open deals by weighted amount: the largest three and the total. The
# three come from ORDER BY … LIMIT, which keeps only the best three as it reads, where a sorted
# list of every deal sorted them all.
TOP_WEIGHTED_SQL = """
    WITH in_period AS (
        SELECT opportunity_id, name, account, amount,
            coalesce(amount, 0)::DOUBLE * coalesce(probability, 0) AS weighted
        FROM open_opportunities
        WHERE close_date BETWEEN $start AND $end
    ),
    top AS (
        SELECT * FROM in_period ORDER BY weighted DESC, opportunity_id LIMIT 3
    )
    SELECT
        (SELECT list({'opportunity_id': opportunity_id, 'name': coalesce(name, opportunity_id),
                      'account': account, 'amount': coalesce(amount, 0)::DOUBLE}
                     ORDER BY weighted DESC, opportunity_id) FROM top),
        (SELECT list(weighted ORDER BY weighted DESC, opportunity_id) FROM top),
        (SELECT sum(weighted) FROM in_period)
"""

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
        EXISTS (SELECT 1 FROM opportunities WHERE last_activity_date IS NOT NULL)
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


def rep_pipelines(
    con: duckdb.DuckDBPyConnection, settings: Settings, with_deal_ids: bool = False
) -> list[RepPipeline]:
    """Every rep with open pipeline, in figures, for the as-of date's quarter; with the IDs of
    the deals behind each figure when asked."""
    period = fiscal_quarter(settings.as_of, settings)
    upcoming = next_quarter(period, settings)
    rows = con.execute(
        (SQL_DIR / "rep_pipeline.sql").read_text(encoding="utf-8"),
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
    ).fetchall()
    return [
        RepPipeline(
            owner=owner,
            total=total,
            sum_of_squares=squares,
            largest=_named_deal(largest),
            dark_amount=dark,
            dark_deals=tuple(map(_named_deal, dark_deals or ())),
            dark_count=dark_count,
            chased_deals=tuple(map(_named_deal, chased or ())),
            chased_count=chased_count,
            chased_amount=chased_amount,
            closing_amount=closing,
            closing_count=closing_count,
            next_amount=upcoming_amount,
            next_count=next_count,
            dark_ids=tuple(dark_ids or ()),
            chased_ids=tuple(chased_ids or ()),
            closing_ids=tuple(closing_ids or ()),
            next_ids=tuple(next_ids or ()),
        )  # fmt: skip
        for (
            owner,
            total,
            squares,
            largest,
            dark,
            dark_deals,
            dark_count,
            dark_ids,
            chased,
            chased_count,
            chased_ids,
            chased_amount,
            closing,
            closing_count,
            closing_ids,
            upcoming_amount,
            next_count,
            next_ids,
        ) in rows  # fmt: skip
    ]


def slipped_by_rep(
    con: duckdb.DuckDBPyConnection, settings: Settings, with_deal_ids: bool = False
) -> dict[str, Slipped]:
    rows = con.execute(
        SLIPPED_SQL, {"as_of": settings.as_of, "named": NAMED_DEALS, "with_ids": with_deal_ids}
    ).fetchall()
    return {
        owner: Slipped(count, amount, tuple(map(_named_deal, largest)), tuple(ids or ()))
        for owner, count, amount, largest, ids in rows
    }


def pushed_by_rep(
    con: duckdb.DuckDBPyConnection, settings: Settings, with_deal_ids: bool = False
) -> dict[str, Slipped]:
    rows = con.execute(
        PUSHED_SQL,
        {"min_pushes": settings.pushes_to_flag, "named": NAMED_DEALS, "with_ids": with_deal_ids},
    ).fetchall()
    return {
        owner: Slipped(count, amount, tuple(map(_named_deal, largest)), tuple(ids or ()))
        for owner, count, amount, largest, ids in rows
    }


def deal_count(count: int) -> str:
    return f"{count} deal{'' if count == 1 else 's'}"


def _named(deals: tuple[NamedDeal, ...], count: int, currency: str | None) -> str:
    shown = ", ".join(deal.described(currency) for deal in deals[:NAMED_DEALS])
    more = count - min(len(deals), NAMED_DEALS)
    return shown + (f" and {more} more" if more > 0 else "")


def _warning(owner, kind, severity, value, message, ids, at_stake) -> PipelineWarning:
    scope = "team" if kind.startswith("team_") else "rep"
    return PipelineWarning(scope, owner, kind, severity, value, message, tuple(ids), at_stake)


def concentration(
    rep: RepPipeline, settings: Settings, currency: str | None
) -> PipelineWarning | None:
    """The largest deal is most of the rep's open pipeline."""
    if rep.total <= 0 or rep.largest is None:
        return None
    share = rep.largest.amount / rep.total
    if share < settings.concentration_warn:
        return None
    severity = "critical" if share >= settings.concentration_critical else "warn"
    message = (
        f"{rep.owner}: {percent(share)} of the open pipeline is one deal, "
        f"{rep.largest.described(currency)}. Effective number of deals: "
        f"{rep.effective_number_of_deals:.1f}."
    )
    return _warning(rep.owner, "concentration", severity, share, message,
                    [rep.largest.opportunity_id], rep.largest.amount)  # fmt: skip


def coverage(rep: RepPipeline, remaining: float, target: float, settings: Settings,
             currency: str | None) -> PipelineWarning | None:  # fmt: skip
    """The pipeline closing this period is too thin for the budget still to close."""
    ratio = rep.closing_amount / remaining
    if ratio >= target:
        return None
    critical = target * settings.coverage_critical / settings.coverage_warn
    message = (
        f"{rep.owner}: the pipeline closing this quarter covers {ratio:.1f}× the "
        f"{money(remaining, currency)} still to close (target {target:.1f}×): "
        f"{money(rep.closing_amount, currency)} in {deal_count(rep.closing_count)}."
    )
    severity = "critical" if ratio < critical else "warn"
    return _warning(rep.owner, "coverage", severity, ratio, message, rep.closing_ids,
                    remaining - rep.closing_amount)  # fmt: skip


def next_period_coverage(rep: RepPipeline, budget: float, label: str, settings: Settings,
                         currency: str | None) -> PipelineWarning | None:  # fmt: skip
    """Next quarter's pipeline is too thin for its budget: what is up ahead."""
    ratio = rep.next_amount / budget
    if ratio >= settings.next_period_coverage_warn:
        return None
    message = (
        f"{rep.owner}: {label} pipeline is {ratio:.1f}× its {money(budget, currency)} budget "
        f"(target {settings.next_period_coverage_warn:.1f}×): {money(rep.next_amount, currency)} "
        f"in {deal_count(rep.next_count)}."
    )
    return _warning(rep.owner, "next_period_coverage", "warn", ratio, message, rep.next_ids,
                    budget - rep.next_amount)  # fmt: skip


def prospecting_stall(owner: str, created_recently: float, created_before: float,
                      last_created: date | None, settings: Settings,
                      currency: str | None) -> PipelineWarning | None:  # fmt: skip
    """No new pipeline lately: less than half the rep's usual creation, or none in 21 days."""
    usual = created_before / 3
    quiet_days = None if last_created is None else (settings.as_of - last_created).days
    if quiet_days is not None and quiet_days >= settings.stall_days:
        message = f"{owner}: no deal created in {quiet_days} days (since {last_created:%b %-d})."
        return _warning(owner, "prospecting_stall", "warn", float(quiet_days), message, [],
                        usual)  # fmt: skip
    if usual > 0 and created_recently < settings.stall_share * usual:
        ratio = created_recently / usual
        message = (
            f"{owner}: {money(created_recently, currency)} of pipeline created in the last "
            f"30 days, {percent(ratio)} of the usual {money(usual, currency)} a month."
        )
        return _warning(owner, "prospecting_stall", "warn", ratio, message, [],
                        usual - created_recently)  # fmt: skip
    return None


def gone_dark(rep: RepPipeline, settings: Settings, currency: str | None) -> PipelineWarning | None:
    """Much of the open pipeline has had no activity for two weeks."""
    if rep.total <= 0 or rep.dark_amount / rep.total < settings.gone_dark_share:
        return None
    share = rep.dark_amount / rep.total
    message = (
        f"{rep.owner}: {percent(share)} of the open pipeline ({money(rep.dark_amount, currency)}) "
        f"has had no activity for {settings.gone_dark_days} days or more: "
        f"{_named(rep.dark_deals, rep.dark_count, currency)}."
    )
    return _warning(rep.owner, "gone_dark", "warn", share, message, rep.dark_ids, rep.dark_amount)


def chase_mode(
    rep: RepPipeline, settings: Settings, currency: str | None
) -> PipelineWarning | None:
    """Late-stage deals nobody has touched for three weeks."""
    if not rep.chased_count:
        return None
    message = (
        f"{rep.owner}: {deal_count(rep.chased_count)} at "
        f"{percent(settings.chase_probability)} or more with no activity for "
        f"{settings.chase_days} days or more: "
        f"{_named(rep.chased_deals, rep.chased_count, currency)}."
    )
    return _warning(rep.owner, "chase_mode", "warn", float(rep.chased_count), message,
                    rep.chased_ids, rep.chased_amount)  # fmt: skip


def slipping(owner: str, slipped: Slipped | None, currency: str | None) -> PipelineWarning | None:
    """Open deals whose close date has passed: close them or move them."""
    if slipped is None or not slipped.count:
        return None
    count = f"{slipped.count} open deal{'' if slipped.count == 1 else 's'}"
    message = (
        f"{owner}: {count} with a close date in the past ({money(slipped.amount, currency)}): "
        f"{_named(slipped.largest, slipped.count, currency)}. Close them or move them."
    )
    return _warning(owner, "slipping", "warn", float(slipped.count), message, slipped.ids,
                    slipped.amount)  # fmt: skip


def pushed_repeatedly(owner: str, pushed: Slipped | None, settings: Settings,
                      currency: str | None) -> PipelineWarning | None:  # fmt: skip
    """Open deals whose close date keeps moving out (with snapshots to count the pushes)."""
    if pushed is None or not pushed.count:
        return None
    count = f"{pushed.count} open deal{'' if pushed.count == 1 else 's'}"
    message = (
        f"{owner}: {count} with a close date pushed {settings.pushes_to_flag} times or more "
        f"({money(pushed.amount, currency)}): {_named(pushed.largest, pushed.count, currency)}. "
        "Ask what is really in the way."
    )
    return _warning(owner, "slipping", "warn", float(pushed.count), message, pushed.ids,
                    pushed.amount)  # fmt: skip


def team_top_deals(con: duckdb.DuckDBPyConnection, settings: Settings,
                   currency: str | None) -> PipelineWarning | None:  # fmt: skip
    """Three deals carry much of the quarter's weighted pipeline."""
    period = fiscal_quarter(settings.as_of, settings)
    top, weighted, total = con.execute(
        TOP_WEIGHTED_SQL, {"start": period.start, "end": period.end}
    ).fetchone()
    if not total:
        return None
    share = sum(weighted) / total
    if share < settings.team_top_deals_share:
        return None
    deals = tuple(map(_named_deal, top))
    message = (
        f"The {len(deals)} largest deals closing this quarter carry {percent(share)} of the "
        f"weighted pipeline: {_named(deals, len(deals), currency)}."
    )
    ids = [deal.opportunity_id for deal in deals]
    return _warning(None, "team_top_deals", "warn", share, message, ids,
                    sum(deal.amount for deal in deals))  # fmt: skip


def team_rep_share(reps: list[RepPipeline], settings: Settings,
                   currency: str | None) -> PipelineWarning | None:  # fmt: skip
    """One rep holds much of the team's open pipeline."""
    team_total = sum(rep.total for rep in reps)
    if team_total <= 0:
        return None
    biggest = max(reps, key=lambda rep: (rep.total, rep.owner))
    share = biggest.total / team_total
    if share < settings.team_rep_share:
        return None
    message = (
        f"{biggest.owner} holds {percent(share)} of the team's open pipeline "
        f"({money(biggest.total, currency)} of {money(team_total, currency)})."
    )
    ids = [biggest.largest.opportunity_id] if biggest.largest else []
    return _warning(None, "team_rep_share", "warn", share, message, ids, biggest.total)


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


def pipeline_warnings(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    currency: str | None,
    figures: PipelineFigures | None = None,
    with_deal_ids: bool = False,
) -> WarningsFound:
    """Every warning of PRODUCT.md's "Pipeline warnings" for the as-of date's quarter; `figures`
    when the caller has read them already (pipeline_figures, with the same `with_deal_ids`), so
    they are not read twice. Each warning lists the IDs of the deals behind it only when
    `with_deal_ids` asks: the pages name the largest deals and count the rest."""
    figures = figures or pipeline_figures(con, settings, with_deal_ids)
    period = fiscal_quarter(settings.as_of, settings)
    upcoming = next_quarter(period, settings)
    has_created, has_activity = con.execute(COLUMN_FILLED_SQL).fetchone()
    skipped = {}
    if not has_activity:
        reason = "the export has no last-activity date"
        skipped.update(gone_dark=reason, chase_mode=reason)
    if not has_created:
        skipped["prospecting_stall"] = "the export has no created date"

    pipelines, this_quarter = figures.pipelines, figures.this_quarter
    slipped = slipped_by_rep(con, settings, with_deal_ids)
    pushed = pushed_by_rep(con, settings, with_deal_ids)
    # Next quarter's budgets alone: its whole pacing would read every deal twice more.
    next_budgets = budgets(con, upcoming)
    if not any(rep.pacing.budget for rep in this_quarter.reps):
        skipped["coverage"] = "no quota file gives the reps a budget"
        skipped["next_period_coverage"] = "no quota file gives the reps a budget"
    win_rates = trailing_win_rates(con, settings) if settings.coverage_from_win_rate else {}
    created = {
        row[0]: row[1:]
        for row in con.execute(
            CREATED_SQL,
            {
                "as_of": settings.as_of,
                "recent_start": settings.as_of - timedelta(days=29),
                "before_start": settings.as_of - timedelta(days=119),
                "before_end": settings.as_of - timedelta(days=30),
            },
        ).fetchall()
    }

    found: list[PipelineWarning | None] = []
    for rep in this_quarter.reps:
        owner = rep.owner
        pipeline = pipelines.get(owner) or _empty_pipeline(owner)
        found.append(concentration(pipeline, settings, currency))
        budget, closed = rep.pacing.budget, rep.pacing.closed_to_date
        if budget and closed < budget:
            target = (1 / win_rates[owner]) if owner in win_rates else settings.coverage_warn
            found.append(coverage(pipeline, budget - closed, target, settings, currency))
        if next_budgets.get(owner):
            found.append(next_period_coverage(pipeline, next_budgets[owner], upcoming.label,
                                              settings, currency))  # fmt: skip
        if has_created and (pipeline.total or budget):
            recent, before, last_created = created.get(owner, (0, 0, None))
            found.append(prospecting_stall(owner, float(recent), float(before), last_created,
                                           settings, currency))  # fmt: skip
        if has_activity:
            found.append(gone_dark(pipeline, settings, currency))
            found.append(chase_mode(pipeline, settings, currency))
        found.append(slipping(owner, slipped.get(owner), currency))
        found.append(pushed_repeatedly(owner, pushed.get(owner), settings, currency))
    found.append(team_top_deals(con, settings, currency))
    found.append(team_rep_share(list(pipelines.values()), settings, currency))
    warnings = sorted((w for w in found if w is not None), key=_severity_then_money)
    return WarningsFound(tuple(warnings), skipped)


def _empty_pipeline(owner: str) -> RepPipeline:
    return RepPipeline(owner, 0.0, 0.0, None, 0.0, (), 0, (), 0, 0.0, 0.0, 0, 0.0, 0)


# --- What the warnings page draws ----------------------------------------------------------------

# Each rep's open pipeline as blocks: the largest deals one by one, the rest as one block, so
# that the chart stays readable (and small) however many deals a rep has.
PIPELINE_BLOCKS_SQL = """
    SELECT owner, name, account, amount, deals
    FROM (
        SELECT owner,
            CASE WHEN rank <= $largest THEN name END AS name,
            CASE WHEN rank <= $largest THEN account END AS account,
            sum(value) AS amount,
            count(*) AS deals,
            min(rank) AS first_rank
        FROM (
            SELECT owner, coalesce(name, opportunity_id) AS name, account,
                coalesce(amount, 0)::DOUBLE AS value,
                row_number() OVER (
                    PARTITION BY owner ORDER BY coalesce(amount, 0) DESC, opportunity_id
                ) AS rank
            FROM open_opportunities
            WHERE close_date IS NULL OR close_date >= $period_start
        )
        GROUP BY owner, CASE WHEN rank <= $largest THEN rank END,
            CASE WHEN rank <= $largest THEN name END, CASE WHEN rank <= $largest THEN account END
    )
    ORDER BY owner, first_rank
"""


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
        PIPELINE_BLOCKS_SQL, {"period_start": period.start, "largest": largest}
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
