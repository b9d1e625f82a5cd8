"""The Settings dataclass: every user choice a figure depends on, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

PACE_METHODS = ("business", "calendar", "last_year")


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

    def __post_init__(self) -> None:
        if self.pace_method not in PACE_METHODS:
            raise ValueError(f"The pace method must be one of {', '.join(PACE_METHODS)}.")
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError(
                f"The fiscal year start month must be 1 to 12, not {self.fiscal_year_start_month}."
            )
