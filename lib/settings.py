"""The Settings dataclass: every user choice a figure depends on, passed explicitly."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date


@dataclass(frozen=True)
class Settings:
    """What the sidebar sets; lib functions take it as an argument, never from a global."""

    as_of: date
    fiscal_year_start_month: int = 1
    # "FY2027" names the fiscal year by the calendar year in which it ends (the default), or,
    # when False, by the year in which it begins.
    fiscal_year_named_by_end: bool = True
    holidays: tuple[date, ...] = field(default_factory=tuple)

    def __post_init__(self) -> None:
        if not 1 <= self.fiscal_year_start_month <= 12:
            raise ValueError(
                f"The fiscal year start month must be 1 to 12, not {self.fiscal_year_start_month}."
            )
