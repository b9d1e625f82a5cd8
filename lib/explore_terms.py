"""What Explore offers, as plain data: the sets of deals, the measures, and the tables of its
SQL box. Kept apart from lib/explore.py so that the command line can name them in its options
without loading DuckDB."""

from __future__ import annotations

from dataclasses import dataclass

# The tables a query of the SQL box may read; `history` (a Data Export's OpportunityHistory, one
# row per change) only when one is loaded.
TABLES = ("opportunities", "targets", "reps", "push_counts")
HISTORY = "history"
# A team of twenty reps shows every rep: "All others" of a handful of reps would be the longest
# bar and tell nothing.
DEFAULT_TOP = 20


@dataclass(frozen=True)
class DealSet:
    """Which deals a view counts: SQL over the opportunities view, with $as_of and $period_start."""

    label: str
    noun: str  # how a title names them: "Number of won deals"
    amount_title: str  # the amount measure's title: "Won amount"
    sql: str


DEAL_SETS = {
    # PRODUCT.md: open pipeline is open deals whose close date is on or after the start of the
    # as-of date's quarter, or missing; slipped deals are warned about, not counted.
    "open": DealSet("Open pipeline", "open pipeline", "Open pipeline",
                    "status = 'open' AND (close_date >= $period_start OR close_date IS NULL)"),
    "won": DealSet("Bookings (won)", "won deals", "Won amount",
                   "status = 'won' AND close_date <= $as_of"),
    "lost": DealSet("Losses", "lost deals", "Lost amount",
                    "status = 'lost' AND close_date <= $as_of"),
    # Pipeline created counts a deal by its created date, whatever became of it.
    "created": DealSet("Pipeline created", "deals created", "Pipeline created",
                       "created_date <= $as_of"),
    "all": DealSet("All deals", "all deals", "Amount of all deals", "TRUE"),
}  # fmt: skip


@dataclass(frozen=True)
class Measure:
    """One figure per group of deals: an aggregate over the chosen deals."""

    label: str
    title: str  # "{deals}" stands for the deal set's noun
    sql: str
    kind: str  # "money", "count", "share" or "days"
    # Amounts and counts add up, so the largest groups by the measure are the top N; a rate or a
    # median of a handful of deals would crowd out the groups that matter, so those rank by count.
    additive: bool


MEASURES = {
    "amount": Measure("Amount", "", "coalesce(sum(amount), 0)::DOUBLE", "money", True),
    "weighted": Measure(
        "Weighted amount", "Weighted amount of {deals}",
        "coalesce(sum(amount * coalesce(probability, 0)), 0)::DOUBLE", "money", True,
    ),
    "count": Measure("Number of deals", "Number of {deals}", "count(*)::DOUBLE", "count", True),
    "avg_amount": Measure(
        "Average deal size", "Average size of {deals}", "avg(amount)::DOUBLE", "money", False
    ),
    # PRODUCT.md: win rate = won / (won + lost); by value, the same with amounts.
    "win_rate": Measure(
        "Win rate (by count)", "Win rate (count) of {deals}",
        "count(*) FILTER (WHERE status = 'won') "
        "/ nullif(count(*) FILTER (WHERE status IN ('won', 'lost')), 0)",
        "share", False,
    ),
    "win_rate_value": Measure(
        "Win rate (by value)", "Win rate (value) of {deals}",
        "(sum(amount) FILTER (WHERE status = 'won') "
        "/ nullif(sum(amount) FILTER (WHERE status IN ('won', 'lost')), 0))::DOUBLE",
        "share", False,
    ),
    # Median calendar days from created to close of the won deals (an even count takes the
    # mean of the middle two, as DuckDB's median does).
    "cycle_days": Measure(
        "Median sales cycle (days)", "Median sales cycle of {deals}",
        "(median(close_date - created_date) FILTER (WHERE status = 'won'))::DOUBLE", "days",
        False,
    ),
}  # fmt: skip
