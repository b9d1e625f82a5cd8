"""The Settings dataclass: every user choice a figure depends on, passed explicitly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

PACE_METHODS = ("business", "calendar", "last_year")
# Coaching: a deal is referral-sourced when its lead source contains one of these words,
# ignoring case ("Customer Referral" contains "referral").
REFERRAL_KEYWORDS = ("referral", "referred", "word of mouth", "customer introduction")
# The SQL box's longest time limit: a query may not hold a core of a shared server for longer.
MAX_QUERY_SECONDS = 60


@dataclass(frozen=True)
class Settings:
    """What the sidebar sets; lib functions take it as an argument, never from a global."""

    as_of: date
    fiscal_year_start_month: int = 1
    # "FY2027" names the fiscal year by the calendar year in which it ends (the default), or,
    # when False, by the year in which it begins.
    fiscal_year_named_by_end: bool = True
    holidays: tuple[date, ...] = field(default_factory=tuple)
    # Pacing: how much of the budget is expected by the as-of date ("business", "calendar" or
    # "last_year": the shape of the same quarter a year earlier), and a team budget typed in
    # when no quota file gives one.
    pace_method: str = "business"
    team_budget: float | None = None
    # Close today: how far past the as-of date a close date may lie, and what counts as late
    # stage besides the stages marked late on the Data page.
    close_window_days: int = 0
    late_min_probability: float = 0.6
    late_forecast_categories: tuple[str, ...] = ("Commit", "Best Case")
    no_activity_days: int = 14
    # A candidate overdue by more than this many days is stale: a CRM clean-up listed apart,
    # never counted in what can close.
    stale_after_days: int = 30
    # Close today's flag and the pushed warning: a deal whose close date was pushed this many
    # times or more, counted over saved snapshots.
    pushes_to_flag: int = 2
    # Coaching's follow-through: how many weeks of saved snapshots' close-today lists to follow.
    follow_through_weeks: int = 6
    # Pipeline warnings (PRODUCT.md "Pipeline warnings"): shares are fractions, coverage ratios
    # are multiples of the budget still to close.
    concentration_warn: float = 0.5
    concentration_critical: float = 0.7
    coverage_warn: float = 3.0
    coverage_critical: float = 1.5
    # Coverage target 1 ÷ the rep's trailing-four-quarter win rate by value instead of 3×.
    coverage_from_win_rate: bool = False
    next_period_coverage_warn: float = 2.0
    stall_share: float = 0.5
    stall_days: int = 21
    gone_dark_share: float = 0.3
    gone_dark_days: int = 14
    chase_probability: float = 0.6
    chase_days: int = 21
    team_top_deals_share: float = 0.4
    team_rep_share: float = 0.4
    # Stalled: an open deal in its stage for this many times the median days that deals which
    # left the stage over the trailing four quarters spent in it (PRODUCT.md "History").
    stalled_ratio: float = 2.0
    referral_keywords: tuple[str, ...] = REFERRAL_KEYWORDS
    # Explore's SQL box: a query running longer than this is cancelled.
    query_timeout_seconds: float = 10.0

    def __post_init__(self) -> None:
        if self.pace_method not in PACE_METHODS:
            raise ValueError(f"The pace method must be one of {', '.join(PACE_METHODS)}.")
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError(
                f"The fiscal year start month must be 1 to 12, not {self.fiscal_year_start_month}."
            )
        if self.close_window_days < 0:
            raise ValueError(
                f"The close-today window is a number of days ahead, 0 or more, not "
                f"{self.close_window_days}."
            )
        if self.stale_after_days < 0:
            raise ValueError(
                f"A deal is stale after a number of days overdue, 0 or more, not "
                f"{self.stale_after_days}."
            )
        if self.follow_through_weeks < 1:
            raise ValueError(
                f"Follow-through looks back a number of weeks, 1 or more, not "
                f"{self.follow_through_weeks}."
            )
        if not 0 < self.query_timeout_seconds <= MAX_QUERY_SECONDS:
            raise ValueError(
                f"The SQL time limit is a number of seconds above 0 and at most "
                f"{MAX_QUERY_SECONDS}, not {self.query_timeout_seconds}."
            )
        if not 0 <= self.late_min_probability <= 1:
            raise ValueError(
                f"The late-stage probability is a fraction from 0 to 1 (0.6 for 60 %), not "
                f"{self.late_min_probability}."
            )


def parse_keywords(text: str) -> tuple[str, ...]:
    """Keywords typed one a line or separated by commas, trimmed, empty ones dropped."""
    return tuple(word.strip() for word in re.split(r"[,\n]", text) if word.strip())
