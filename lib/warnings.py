"""Who is about to drive off the cliff? Pipeline concentration and health warnings, per rep."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb

from lib.fiscal import Period, fiscal_quarter, next_quarter, previous_quarter
from lib.format import money, percent
from lib.pacing import pacing
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
class Warning:
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
class Warnings:
    """Every warning, most severe and most money at stake first, and the checks not run."""

    warnings: tuple[Warning, ...]
    skipped: dict[str, str]


@dataclass(frozen=True)
class OpenDeal:
    """An open deal as the warnings see it (a missing amount or probability counts as 0)."""

    opportunity_id: str
    name: str
    account: str | None
    owner: str
    amount: float
    probability: float
    close_date: date | None
    created_date: date | None
    last_activity_date: date | None

    def described(self, currency: str | None) -> str:
        where = f", {self.account}" if self.account else ""
        return f"{self.name} ({money(self.amount, currency)}{where})"


# Open pipeline as PRODUCT.md defines it: open deals closing in or after the period, or with no
# close date; deals whose close date fell before the period are slipped, not pipeline.
OPEN_PIPELINE_SQL = """
    SELECT opportunity_id, coalesce(name, opportunity_id) AS name, account, owner,
           coalesce(amount, 0) AS amount, coalesce(probability, 0) AS probability,
           close_date, created_date, last_activity_date
    FROM opportunities
    WHERE status = 'open' AND (close_date IS NULL OR close_date >= $period_start)
    ORDER BY owner, amount DESC, opportunity_id
"""

SLIPPED_SQL = """
    SELECT opportunity_id, coalesce(name, opportunity_id) AS name, account, owner,
           coalesce(amount, 0) AS amount, coalesce(probability, 0) AS probability,
           close_date, created_date, last_activity_date
    FROM opportunities
    WHERE status = 'open' AND close_date < $as_of
    ORDER BY owner, amount DESC, opportunity_id
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

COLUMN_FILLED_SQL = """
    SELECT count(created_date) > 0, count(last_activity_date) > 0 FROM opportunities
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


def _deals(con: duckdb.DuckDBPyConnection, sql: str, parameters: dict) -> list[OpenDeal]:
    rows = con.execute(sql, parameters).fetchall()
    return [OpenDeal(*row[:4], float(row[4]), float(row[5]), *row[6:]) for row in rows]


def _by_owner(deals: list[OpenDeal]) -> dict[str, list[OpenDeal]]:
    grouped: dict[str, list[OpenDeal]] = {}
    for deal in deals:
        grouped.setdefault(deal.owner, []).append(deal)
    return grouped


def deal_count(count: int) -> str:
    return f"{count} deal{'' if count == 1 else 's'}"


def _named(deals: list[OpenDeal], currency: str | None) -> str:
    shown = ", ".join(deal.described(currency) for deal in deals[:NAMED_DEALS])
    more = len(deals) - NAMED_DEALS
    return shown + (f" and {more} more" if more > 0 else "")


def _ids(deals: list[OpenDeal]) -> tuple[str, ...]:
    return tuple(deal.opportunity_id for deal in deals)


def _days_quiet(deal: OpenDeal, as_of: date) -> int | None:
    """Days since the deal's last activity, or since it was created when none is recorded."""
    last = deal.last_activity_date or deal.created_date
    return None if last is None else (as_of - last).days


def herfindahl(amounts: list[float]) -> float:
    """HHI = Σ share² of the amounts: 1 for a single deal, 1/n for n equal deals."""
    values = [amount for amount in amounts if amount > 0]
    total = sum(values)
    return sum((value / total) ** 2 for value in values) if total else 0.0


def effective_number_of_deals(amounts: list[float]) -> float | None:
    """1 / HHI: how many equal deals the pipeline is worth."""
    hhi = herfindahl(amounts)
    return 1 / hhi if hhi else None


def _warning(owner, kind, severity, value, message, deals, at_stake) -> Warning:
    scope = "team" if kind.startswith("team_") else "rep"
    return Warning(scope, owner, kind, severity, value, message, _ids(deals), at_stake)


def concentration(owner: str, deals: list[OpenDeal], settings: Settings,
                  currency: str | None) -> Warning | None:  # fmt: skip
    """The largest deal is most of the rep's open pipeline."""
    amounts = [deal.amount for deal in deals]
    if sum(amounts) <= 0:
        return None
    top = max(deals, key=lambda deal: deal.amount)
    share = top.amount / sum(amounts)
    if share < settings.concentration_warn:
        return None
    severity = "critical" if share >= settings.concentration_critical else "warn"
    message = (
        f"{owner}: {percent(share)} of the open pipeline is one deal, "
        f"{top.described(currency)}. Effective number of deals: "
        f"{effective_number_of_deals(amounts):.1f}."
    )
    return _warning(owner, "concentration", severity, share, message, [top], top.amount)


def coverage(owner: str, in_period: list[OpenDeal], remaining: float, target: float,
             settings: Settings, currency: str | None) -> Warning | None:  # fmt: skip
    """The pipeline closing this period is too thin for the budget still to close."""
    pipeline = sum(deal.amount for deal in in_period)
    ratio = pipeline / remaining
    if ratio >= target:
        return None
    critical = target * settings.coverage_critical / settings.coverage_warn
    message = (
        f"{owner}: the pipeline closing this quarter covers {ratio:.1f}× the "
        f"{money(remaining, currency)} still to close (target {target:.1f}×): "
        f"{money(pipeline, currency)} in {deal_count(len(in_period))}."
    )
    severity = "critical" if ratio < critical else "warn"
    return _warning(owner, "coverage", severity, ratio, message, in_period, remaining - pipeline)


def next_period_coverage(owner: str, next_deals: list[OpenDeal], budget: float, label: str,
                         settings: Settings, currency: str | None) -> Warning | None:  # fmt: skip
    """Next quarter's pipeline is too thin for its budget: what is up ahead."""
    pipeline = sum(deal.amount for deal in next_deals)
    ratio = pipeline / budget
    if ratio >= settings.next_period_coverage_warn:
        return None
    message = (
        f"{owner}: {label} pipeline is {ratio:.1f}× its {money(budget, currency)} budget "
        f"(target {settings.next_period_coverage_warn:.1f}×): {money(pipeline, currency)} "
        f"in {deal_count(len(next_deals))}."
    )
    return _warning(owner, "next_period_coverage", "warn", ratio, message, next_deals,
                    budget - pipeline)  # fmt: skip


def prospecting_stall(owner: str, created_recently: float, created_before: float,
                      last_created: date | None, settings: Settings,
                      currency: str | None) -> Warning | None:  # fmt: skip
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


def gone_dark(owner: str, deals: list[OpenDeal], settings: Settings,
              currency: str | None) -> Warning | None:  # fmt: skip
    """Much of the open pipeline has had no activity for two weeks."""
    total = sum(deal.amount for deal in deals)
    dark = [d for d in deals if (_days_quiet(d, settings.as_of) or 0) >= settings.gone_dark_days]
    dark_amount = sum(deal.amount for deal in dark)
    if total <= 0 or dark_amount / total < settings.gone_dark_share:
        return None
    share = dark_amount / total
    message = (
        f"{owner}: {percent(share)} of the open pipeline ({money(dark_amount, currency)}) has had "
        f"no activity for {settings.gone_dark_days} days or more: {_named(dark, currency)}."
    )
    return _warning(owner, "gone_dark", "warn", share, message, dark, dark_amount)


def chase_mode(owner: str, deals: list[OpenDeal], settings: Settings,
               currency: str | None) -> Warning | None:  # fmt: skip
    """Late-stage deals nobody has touched for three weeks."""
    quiet = [
        deal
        for deal in deals
        if deal.probability >= settings.chase_probability
        and (_days_quiet(deal, settings.as_of) or 0) >= settings.chase_days
    ]
    if not quiet:
        return None
    message = (
        f"{owner}: {deal_count(len(quiet))} at "
        f"{percent(settings.chase_probability)} or more with no activity for "
        f"{settings.chase_days} days or more: {_named(quiet, currency)}."
    )
    return _warning(owner, "chase_mode", "warn", float(len(quiet)), message, quiet,
                    sum(deal.amount for deal in quiet))  # fmt: skip


def slipping(owner: str, slipped: list[OpenDeal], currency: str | None) -> Warning | None:
    """Open deals whose close date has passed: close them or move them."""
    if not slipped:
        return None
    amount = sum(deal.amount for deal in slipped)
    count = f"{len(slipped)} open deal{'' if len(slipped) == 1 else 's'}"
    message = (
        f"{owner}: {count} with a close date in the past ({money(amount, currency)}): "
        f"{_named(slipped, currency)}. Close them or move them."
    )
    return _warning(owner, "slipping", "warn", float(len(slipped)), message, slipped, amount)


def team_top_deals(in_period: list[OpenDeal], settings: Settings,
                   currency: str | None) -> Warning | None:  # fmt: skip
    """Three deals carry much of the quarter's weighted pipeline."""
    weighted = sorted(in_period, key=lambda deal: deal.amount * deal.probability, reverse=True)
    total = sum(deal.amount * deal.probability for deal in weighted)
    top = weighted[:3]
    share = sum(deal.amount * deal.probability for deal in top) / total if total else 0.0
    if share < settings.team_top_deals_share:
        return None
    message = (
        f"The {len(top)} largest deals closing this quarter carry {percent(share)} of the "
        f"weighted pipeline: {_named(top, currency)}."
    )
    return _warning(None, "team_top_deals", "warn", share, message, top,
                    sum(deal.amount for deal in top))  # fmt: skip


def team_rep_share(by_owner: dict[str, list[OpenDeal]], settings: Settings,
                   currency: str | None) -> Warning | None:  # fmt: skip
    """One rep holds much of the team's open pipeline."""
    totals = {owner: sum(deal.amount for deal in deals) for owner, deals in by_owner.items()}
    team_total = sum(totals.values())
    if team_total <= 0:
        return None
    owner = max(totals, key=lambda name: (totals[name], name))
    share = totals[owner] / team_total
    if share < settings.team_rep_share:
        return None
    message = (
        f"{owner} holds {percent(share)} of the team's open pipeline "
        f"({money(totals[owner], currency)} of {money(team_total, currency)})."
    )
    return _warning(None, "team_rep_share", "warn", share, message, by_owner[owner],
                    totals[owner])  # fmt: skip


def _severity_then_money(warning: Warning) -> tuple:
    return (warning.severity != "critical", -warning.at_stake, warning.owner or "", warning.kind)


def trailing_win_rates(con: duckdb.DuckDBPyConnection, settings: Settings) -> dict[str, float]:
    """Each rep's win rate by value over the four fiscal quarters ending with the as-of's."""
    last = fiscal_quarter(settings.as_of, settings)
    first = last
    for _ in range(3):
        first = previous_quarter(first, settings)
    rows = con.execute(WIN_RATE_BY_VALUE_SQL, {"start": first.start, "end": last.end}).fetchall()
    return {owner: float(rate) for owner, rate in rows if rate}


def pipeline_warnings(con: duckdb.DuckDBPyConnection, settings: Settings,
                      currency: str | None) -> Warnings:  # fmt: skip
    """Every warning of PRODUCT.md's "Pipeline warnings" for the as-of date's quarter."""
    period = fiscal_quarter(settings.as_of, settings)
    upcoming = next_quarter(period, settings)
    has_created, has_activity = con.execute(COLUMN_FILLED_SQL).fetchone()
    skipped = {}
    if not has_activity:
        reason = "the export has no last-activity date"
        skipped.update(gone_dark=reason, chase_mode=reason)
    if not has_created:
        skipped["prospecting_stall"] = "the export has no created date"

    pipeline = _by_owner(_deals(con, OPEN_PIPELINE_SQL, {"period_start": period.start}))
    slipped = _by_owner(_deals(con, SLIPPED_SQL, {"as_of": settings.as_of}))
    this_quarter = pacing(con, settings, period)
    next_budgets = {rep.owner: rep.pacing.budget for rep in pacing(con, settings, upcoming).reps}
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

    def in_window(deals: list[OpenDeal], window: Period) -> list[OpenDeal]:
        return [d for d in deals if d.close_date and window.start <= d.close_date <= window.end]

    found: list[Warning | None] = []
    for rep in this_quarter.reps:
        owner, deals = rep.owner, pipeline.get(rep.owner, [])
        found.append(concentration(owner, deals, settings, currency))
        budget, closed = rep.pacing.budget, rep.pacing.closed_to_date
        if budget and closed < budget:
            target = (1 / win_rates[owner]) if owner in win_rates else settings.coverage_warn
            found.append(coverage(owner, in_window(deals, period), budget - closed, target,
                                  settings, currency))  # fmt: skip
        if next_budgets.get(owner):
            found.append(next_period_coverage(owner, in_window(deals, upcoming),
                                              next_budgets[owner], upcoming.label, settings,
                                              currency))  # fmt: skip
        if has_created and (deals or budget):
            recent, before, last_created = created.get(owner, (0, 0, None))
            found.append(prospecting_stall(owner, float(recent), float(before), last_created,
                                           settings, currency))  # fmt: skip
        if has_activity:
            found.append(gone_dark(owner, deals, settings, currency))
            found.append(chase_mode(owner, deals, settings, currency))
        found.append(slipping(owner, slipped.get(owner, []), currency))
    everyone_in_period = [d for deals in pipeline.values() for d in in_window(deals, period)]
    found.append(team_top_deals(everyone_in_period, settings, currency))
    found.append(team_rep_share(pipeline, settings, currency))
    warnings = sorted((w for w in found if w is not None), key=_severity_then_money)
    return Warnings(tuple(warnings), skipped)


# --- What the warnings page draws ----------------------------------------------------------------


def open_pipeline(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[OpenDeal]:
    """Every deal of the open pipeline, by rep and largest first."""
    period = fiscal_quarter(settings.as_of, settings)
    return _deals(con, OPEN_PIPELINE_SQL, {"period_start": period.start})


@dataclass(frozen=True)
class RepCoverage:
    owner: str
    pipeline: float
    remaining: float

    @property
    def ratio(self) -> float:
        return self.pipeline / self.remaining


def coverage_by_rep(con: duckdb.DuckDBPyConnection, settings: Settings) -> list[RepCoverage]:
    """Each rep with budget still to close: this quarter's pipeline against it, thinnest first."""
    period = fiscal_quarter(settings.as_of, settings)
    closing = {}
    for deal in open_pipeline(con, settings):
        if deal.close_date and period.start <= deal.close_date <= period.end:
            closing[deal.owner] = closing.get(deal.owner, 0.0) + deal.amount
    rows = [
        RepCoverage(
            rep.owner, closing.get(rep.owner, 0.0), rep.pacing.budget - rep.pacing.closed_to_date
        )
        for rep in pacing(con, settings, period).reps
        if rep.pacing.budget and rep.pacing.closed_to_date < rep.pacing.budget
    ]
    return sorted(rows, key=lambda row: (row.ratio, row.owner))


CREATED_BY_WEEK_SQL = """
    SELECT owner, date_trunc('week', created_date)::DATE AS week, sum(coalesce(amount, 0))
    FROM opportunities
    WHERE created_date BETWEEN $first AND $as_of
    GROUP BY ALL
"""


def created_by_week(con: duckdb.DuckDBPyConnection, settings: Settings,
                    weeks: int = 13) -> tuple[list[date], dict[str, list[float]]]:  # fmt: skip
    """Pipeline created per rep per week (weeks start on Monday) over the last `weeks` weeks,
    every rep of the pacing table included so that a rep who created nothing shows a blank row."""
    this_week = settings.as_of - timedelta(days=settings.as_of.weekday())
    starts = [this_week - timedelta(weeks=n) for n in range(weeks - 1, -1, -1)]
    rows = con.execute(
        CREATED_BY_WEEK_SQL, {"first": starts[0], "as_of": settings.as_of}
    ).fetchall()
    amounts = {(owner, week): float(total) for owner, week, total in rows}
    owners = [
        rep.owner for rep in pacing(con, settings, fiscal_quarter(settings.as_of, settings)).reps
    ]
    owners += sorted({owner for owner, _ in amounts} - set(owners))
    return starts, {owner: [amounts.get((owner, week), 0.0) for week in starts] for owner in owners}
