"""The funnel over the trailing four quarters, win rate by deal size band, and sales velocity.

PRODUCT.md "History": per stage, the deals that reached it, the share that reached the next
stage, the share won and the median days spent in it; size bands from the quartiles of the
amounts of won and lost deals; velocity = open deals × win rate × average won ÷ median cycle.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from lib.coaching import trailing_four_quarters
from lib.fiscal import Period, fiscal_quarter
from lib.load.layouts import HUBSPOT_STAGES, SALESFORCE_STAGES, ZOHO_STAGES, fold
from lib.load.stages import StageRule
from lib.settings import Settings
from lib.stage_history import median, median_days_by_stage

# Where each CRM's default stage comes in its sales process, by folded name (a name two CRMs
# share takes Salesforce's place: the last one written wins).
DEFAULT_ORDER = {
    stage: position
    for stages in (ZOHO_STAGES, HUBSPOT_STAGES, SALESFORCE_STAGES)
    for position, stage in enumerate(stages)
}
NO_HISTORY = "no stage history dates when deals entered their stages"
NO_STAY = "no deal left this stage in the trailing four quarters"


@dataclass(frozen=True)
class FunnelStage:
    """One open stage: the cohort's deals that reached it (or a later stage), the share of them
    that reached the next (the last stage's next is won), the share won, and the median days
    that deals which left it spent in it (None: `median_reason`)."""

    stage: str
    reached: int
    to_next: float | None
    won: float | None
    median_days: float | None
    median_reason: str | None = None
    # Why to_next or won is None where the stage has deals.
    share_reason: str | None = None


@dataclass(frozen=True)
class Funnel:
    """The funnel of the deals created in `window`; how many deals were read from stage history
    and how many from their current stage alone, and those left out with why."""

    window: Period
    stages: tuple[FunnelStage, ...]
    won_deals: int
    from_history: int
    from_current_stage: int
    lost_stage_unknown: int
    without_created_date: int


@dataclass(frozen=True)
class SizeBand:
    """Won and lost deals whose amount lies in (low, high] (the first band takes low too)."""

    low: float
    high: float
    won: int
    lost: int

    @property
    def win_rate(self) -> float | None:
        return self.won / (self.won + self.lost) if self.won + self.lost else None


@dataclass(frozen=True)
class SizeBands:
    """Four bands at the quartiles, or none with the reason; deals left out for no amount."""

    bands: tuple[SizeBand, ...]
    without_amount: int
    reason: str | None = None


@dataclass(frozen=True)
class Velocity:
    """Sales velocity and its inputs; per_day is None when an input is unknown."""

    open_deals: int
    win_rate: float | None
    average_won: float | None
    median_cycle_days: float | None

    @property
    def per_day(self) -> float | None:
        if self.unknown_because is not None:
            return None
        return self.open_deals * self.win_rate * self.average_won / self.median_cycle_days

    @property
    def unknown_because(self) -> str | None:
        """Why per_day cannot be worked out; None when it can."""
        if self.win_rate is None:
            return "no deal was won or lost in the trailing four quarters"
        if self.average_won is None:
            return "no deal won in the trailing four quarters has an amount"
        if self.median_cycle_days is None:
            return "no deal won in the trailing four quarters has a created date"
        if not self.median_cycle_days:
            return "the median sales cycle is 0 days"
        return None


@dataclass(frozen=True)
class FunnelReport:
    funnel: Funnel
    size_bands: SizeBands
    velocity: Velocity


def _rows(deals: pa.Table, owner: str | None) -> list[dict]:
    columns = ["opportunity_id", "owner", "stage", "status", "amount", "close_date",
               "created_date"]  # fmt: skip
    table = deals.select(columns)
    if owner is not None:
        table = table.filter(pc.equal(pc.cast(table["owner"], pa.string()), owner))
    return table.to_pylist()


def _entries_by_deal(entries: pa.Table | None, as_of: date) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    if entries is None:
        return found
    for deal, stage, entered in zip(
        *(entries[c].to_pylist() for c in ("opportunity_id", "stage", "entered_on")), strict=True
    ):
        if entered <= as_of:
            found.setdefault(deal, []).append(stage)
    return found


def sales_order(rules: Sequence[StageRule]) -> list[str]:
    """The open stages in the order of the sales process: by each stage's probability (as the
    Data page sets it); ties (Salesforce's Prospecting and Qualification are both 10 %) in a
    CRM's default order, else in the export's. The export's own order alone may follow the age
    of the deals, which puts a stage deals pass quickly before an earlier, slower one."""
    open_rules = [rule for rule in rules if rule.status == "open"]
    unknown = len(DEFAULT_ORDER)
    return [
        rule.stage
        for rule in sorted(
            open_rules, key=lambda r: (r.probability, DEFAULT_ORDER.get(fold(r.stage), unknown))
        )
    ]


def funnel(
    deals: pa.Table,
    entries: pa.Table | None,
    rules: Sequence[StageRule],
    settings: Settings,
    owner: str | None = None,
) -> Funnel:
    """The funnel of the deals created in the trailing four quarters (`owner`'s alone when
    given), in the order of the sales process (sales_order). A deal reached a stage when it
    entered it or a later one (skipping a stage passes it); a won deal reached every stage.
    With stage history a deal's furthest stage is the furthest it entered by the as-of date;
    without, what the export proves: its current stage (an open deal), every stage (a deal won
    by then), the stage it was lost in where the export keeps it (Pipedrive), else it is left
    out."""
    window = trailing_four_quarters(settings)
    open_stages = sales_order(rules)
    position = {stage: at for at, stage in enumerate(open_stages)}
    won_at = len(open_stages)
    won_stages = {rule.stage for rule in rules if rule.status == "won"}
    entered = _entries_by_deal(entries, settings.as_of)
    furthest: list[int] = []
    from_history = from_current = unknown = without_created = 0
    rows = _rows(deals, owner)
    for deal in rows:
        created = deal["created_date"]
        if created is None:
            without_created += 1
            continue
        if not window.start <= created <= window.end:
            continue
        won = deal["status"] == "won" and deal["close_date"] and deal["close_date"] <= window.end
        stages = entered.get(deal["opportunity_id"])
        if stages:
            positions = [won_at if s in won_stages else position.get(s) for s in stages]
            known = [at for at in positions if at is not None] + ([won_at] if won else [])
            from_history += 1
        else:
            known = [won_at] if won else []
            if deal["status"] in ("open", "lost") and deal["stage"] in position:
                known.append(position[deal["stage"]])
            from_current += 1 if known else 0
        if not known:
            # Lost at a stage the export does not keep: it entered the process, no more is
            # proved.
            unknown += 1
            known = [0]
        furthest.append(max(known))
    reached = [sum(1 for at in furthest if at >= stage) for stage in range(won_at + 1)]
    medians = _medians(deals, entries, rules, window.start, settings.as_of, rows)
    # Deals lost at an unknown stage may have got past the first: every count after it is a
    # floor, so no share from one is shown as if it were whole.
    unknown_reason = (
        f"{unknown:,} lost deals' last stage is not in the export, so how far they got is unknown"
        if unknown
        else None
    )
    stages = tuple(
        FunnelStage(
            stage=stage,
            reached=reached[at],
            to_next=reached[at + 1] / reached[at] if reached[at] and not unknown else None,
            won=reached[won_at] / reached[at] if reached[at] and not (unknown and at) else None,
            median_days=medians.get(stage),
            median_reason=None
            if stage in medians
            else (NO_HISTORY if entries is None else NO_STAY),
            share_reason=unknown_reason if reached[at] else None,
        )
        for at, stage in enumerate(open_stages)
    )
    return Funnel(
        window, stages, reached[won_at], from_history, from_current, unknown, without_created
    )


def _medians(
    deals: pa.Table,
    entries: pa.Table | None,
    rules: Sequence[StageRule],
    start: date,
    as_of: date,
    rows: list[dict],
) -> dict[str, float]:
    """Each stage's median days (of the chosen deals), from stage history alone."""
    if entries is None:
        return {}
    chosen = pa.array([deal["opportunity_id"] for deal in rows], pa.string())
    mine = entries.filter(pc.is_in(entries["opportunity_id"], value_set=chosen))
    return median_days_by_stage(mine, deals, rules, start, as_of)


def _closed_in(rows: list[dict], window: Period) -> list[dict]:
    return [
        deal
        for deal in rows
        if deal["status"] in ("won", "lost")
        and deal["close_date"] is not None
        and window.start <= deal["close_date"] <= window.end
    ]


def size_bands(deals: pa.Table, settings: Settings, owner: str | None = None) -> SizeBands:
    """Win rate by deal size: the won and lost deals closed in the trailing four quarters with
    an amount above 0 (a lost deal is often written 0), in four bands cut at the quartiles of
    their amounts (inclusive method: the median of each half). Fewer than four deals make no
    quartiles."""
    closed = _closed_in(_rows(deals, owner), trailing_four_quarters(settings))
    priced = [deal for deal in closed if deal["amount"] is not None and deal["amount"] > 0]
    without_amount = len(closed) - len(priced)
    if len(priced) < 4:
        return SizeBands((), without_amount, "fewer than 4 won or lost deals with an amount")
    amounts = sorted(float(deal["amount"]) for deal in priced)
    edges = [amounts[0], *statistics.quantiles(amounts, n=4, method="inclusive"), amounts[-1]]
    bands = []
    for at in range(4):
        low, high = edges[at], edges[at + 1]
        inside = [
            deal
            for deal in priced
            if (low < float(deal["amount"]) or (at == 0 and low == float(deal["amount"])))
            and float(deal["amount"]) <= high
        ]
        won = sum(1 for deal in inside if deal["status"] == "won")
        bands.append(SizeBand(low, high, won, len(inside) - won))
    return SizeBands(tuple(bands), without_amount)


def velocity(deals: pa.Table, settings: Settings, owner: str | None = None) -> Velocity:
    """Open deals in the pipeline (open, close date in or after this quarter, or none) × the
    win rate by count × the average won amount ÷ the median sales cycle of the deals won in
    the trailing four quarters: money per day the pipeline turns into."""
    rows = _rows(deals, owner)
    quarter_start = fiscal_quarter(settings.as_of, settings).start
    open_deals = sum(
        1
        for deal in rows
        if deal["status"] == "open"
        and (deal["close_date"] is None or deal["close_date"] >= quarter_start)
    )
    closed = _closed_in(rows, trailing_four_quarters(settings))
    won = [deal for deal in closed if deal["status"] == "won"]
    amounts = [float(deal["amount"]) for deal in won if deal["amount"] is not None]
    cycles = [
        (deal["close_date"] - deal["created_date"]).days
        for deal in won
        if deal["created_date"] is not None
    ]
    return Velocity(
        open_deals=open_deals,
        win_rate=len(won) / len(closed) if closed else None,
        average_won=sum(amounts) / len(amounts) if amounts else None,
        median_cycle_days=median(cycles),
    )


def funnel_report(
    deals: pa.Table,
    entries: pa.Table | None,
    rules: Sequence[StageRule],
    settings: Settings,
    owner: str | None = None,
) -> FunnelReport:
    """The funnel, size bands and velocity of the team, or of `owner`."""
    return FunnelReport(
        funnel(deals, entries, rules, settings, owner),
        size_bands(deals, settings, owner),
        velocity(deals, settings, owner),
    )


def funnel_json(report: FunnelReport) -> dict[str, object]:
    """The "funnel" key of the forecast command's JSON: fractions, null where unknown."""
    found, bands, speed = report.funnel, report.size_bands, report.velocity
    return {
        "stages": [
            {
                "stage": s.stage,
                "reached": s.reached,
                "to_next": s.to_next,
                "won": s.won,
                "median_days": s.median_days,
            }
            for s in found.stages
        ],  # fmt: skip
        "size_bands": [
            {"from": b.low, "to": b.high, "won": b.won, "lost": b.lost, "win_rate": b.win_rate}
            for b in bands.bands
        ],
        "velocity": {
            "open_deals": speed.open_deals,
            "win_rate": speed.win_rate,
            "average_won": speed.average_won,
            "median_cycle_days": speed.median_cycle_days,
            "per_day": speed.per_day,
        },
    }


def stalled_json(stage_days: pa.Table, deals: pa.Table) -> list[dict[str, object]]:
    """The "stalled" key of the forecast command's JSON: each stalled open deal (stage_days of
    lib/stage_history.py), the largest amount first; amounts as the deals hold them."""
    stalled = {row["opportunity_id"]: row for row in stage_days.to_pylist() if row["stalled"]}
    found = [
        {
            "opportunity_id": deal["opportunity_id"],
            "name": deal["name"],
            "owner": deal["owner"],
            "stage": stalled[deal["opportunity_id"]]["stage"],
            "days_in_stage": stalled[deal["opportunity_id"]]["days_in_stage"],
            "median_days": stalled[deal["opportunity_id"]]["median_days"],
            "amount": float(deal["amount"]) if deal["amount"] is not None else None,
        }
        for deal in deals.select(["opportunity_id", "name", "owner", "amount"]).to_pylist()
        if deal["opportunity_id"] in stalled
    ]
    return sorted(found, key=lambda deal: (-(deal["amount"] or 0), deal["opportunity_id"]))
