"""Fiscal periods (quarters and months), their labels, and business-day arithmetic."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

from lib.settings import Settings

# Spelled out rather than taken from `calendar`, whose names follow the machine's locale.
_MONTH_NAMES = (
    "january",
    "february",
    "march",
    "april",
    "may",
    "june",
    "july",
    "august",
    "september",
    "october",
    "november",
    "december",
)

_QUARTER = r"q(?P<quarter>[1-4])"
# A bare year must have four digits; two digits are only read as a year after "FY" ("FY26"),
# so that "26 Q3" is not mistaken for a quarter.
_YEAR = r"(?:fy\s*(?P<fy_year>\d{4}|\d{2})|(?P<year>\d{4}))"
_SEP = r"[\s\-_/]*"
_QUARTER_LABELS = (
    re.compile(rf"^{_YEAR}{_SEP}{_QUARTER}$"),
    re.compile(rf"^{_QUARTER}{_SEP}{_YEAR}$"),
)
_NUMERIC_MONTH_LABELS = (
    re.compile(r"^(?P<year>\d{4})\s*[-/]\s*(?P<month>\d{1,2})$"),
    re.compile(r"^(?P<month>\d{1,2})\s*[-/]\s*(?P<year>\d{4})$"),
)
_NAMED_MONTH_LABEL = re.compile(r"^(?P<name>[a-z]{3,})\.?[\s\-]*(?P<year>\d{4})$")


@dataclass(frozen=True)
class Period:
    """A fiscal quarter or a calendar month, both ends inclusive."""

    start: date
    end: date
    label: str
    kind: str


def _length_in_days(period: Period) -> int:
    return (period.end - period.start).days + 1


def _first_of_month(year: int, month: int, months_later: int = 0) -> date:
    months = year * 12 + (month - 1) + months_later
    return date(months // 12, months % 12 + 1, 1)


def _fiscal_year_start(day: date, settings: Settings) -> date:
    start_month = settings.fiscal_year_start_month
    start_year = day.year if day.month >= start_month else day.year - 1
    return date(start_year, start_month, 1)


def _name_offset(settings: Settings) -> int:
    """How far a fiscal year's name is ahead of the calendar year in which it starts: 0 or 1."""
    # A year starting in January ends in the same calendar year, so both namings agree there.
    ends_next_year = settings.fiscal_year_start_month > 1
    return 1 if settings.fiscal_year_named_by_end and ends_next_year else 0


def _quarter(fiscal_year_start: date, number: int, settings: Settings) -> Period:
    start = _first_of_month(fiscal_year_start.year, fiscal_year_start.month, 3 * (number - 1))
    end = _first_of_month(start.year, start.month, 3) - timedelta(days=1)
    name = fiscal_year_start.year + _name_offset(settings)
    return Period(start=start, end=end, label=f"Q{number} FY{name}", kind="quarter")


def fiscal_year(day: date, settings: Settings) -> int:
    """The name of the fiscal year containing day: 2027 for "FY2027"."""
    return _fiscal_year_start(day, settings).year + _name_offset(settings)


def quarter_number(day: date, settings: Settings) -> int:
    """1 to 4: which quarter of its fiscal year day falls in."""
    months_into_year = (day.month - settings.fiscal_year_start_month) % 12
    return months_into_year // 3 + 1


def fiscal_quarter(day: date, settings: Settings) -> Period:
    """The fiscal quarter containing day."""
    return _quarter(_fiscal_year_start(day, settings), quarter_number(day, settings), settings)


def fiscal_month(day: date) -> Period:
    """The calendar month containing day, labelled like "Nov 2026"."""
    start = day.replace(day=1)
    end = _first_of_month(day.year, day.month, 1) - timedelta(days=1)
    label = f"{_MONTH_NAMES[day.month - 1][:3].title()} {day.year}"
    return Period(start=start, end=end, label=label, kind="month")


def previous_quarter(period: Period, settings: Settings) -> Period:
    """The fiscal quarter before the one containing period.start."""
    return fiscal_quarter(
        fiscal_quarter(period.start, settings).start - timedelta(days=1), settings
    )


def next_quarter(period: Period, settings: Settings) -> Period:
    """The fiscal quarter after the one containing period.start."""
    return fiscal_quarter(fiscal_quarter(period.start, settings).end + timedelta(days=1), settings)


def same_quarter_last_year(period: Period, settings: Settings) -> Period:
    """The same fiscal quarter one fiscal year earlier (for year-over-year comparisons)."""
    quarter_start = fiscal_quarter(period.start, settings).start
    # A quarter starts on the 1st, so moving back a year never lands on a missing 29 February.
    return fiscal_quarter(quarter_start.replace(year=quarter_start.year - 1), settings)


def quarter_from_label(text: str, settings: Settings) -> Period | None:
    """Read "2026-Q3", "Q3 FY2026", "FY26 Q3"… as a fiscal quarter; None when text is not one.

    The year is the fiscal year's name under settings, so "Q1 FY2027" with a February start
    named by its end is February to April 2026.
    """
    cleaned = text.strip().lower()
    match = next((m for pattern in _QUARTER_LABELS if (m := pattern.match(cleaned))), None)
    if match is None:
        return None
    if match["fy_year"] is not None:
        year_text = match["fy_year"]
        # "FY26" is how finance writes FY2026; sales data from the 1900s is not a concern here.
        name = int(year_text) + (2000 if len(year_text) == 2 else 0)
    else:
        name = int(match["year"])
    start_year = name - _name_offset(settings)
    try:
        return _quarter(
            date(start_year, settings.fiscal_year_start_month, 1), int(match["quarter"]), settings
        )
    except ValueError:
        # Year 0 or a quarter running past year 9999: not a date Python (or a CRM) can hold.
        return None


def month_from_label(text: str) -> Period | None:
    """Read "2026-10", "10/2026", "Oct 2026", "October 2026"… as a month; None otherwise."""
    cleaned = text.strip().lower()
    numeric = next((m for pattern in _NUMERIC_MONTH_LABELS if (m := pattern.match(cleaned))), None)
    named = _NAMED_MONTH_LABEL.match(cleaned)
    if numeric is not None:
        year, month = int(numeric["year"]), int(numeric["month"])
    elif named is not None:
        # Any abbreviation of three letters or more names the month: "Oct", "Sept", "October".
        months = [i for i, name in enumerate(_MONTH_NAMES, 1) if name.startswith(named["name"])]
        if not months:
            return None
        year, month = int(named["year"]), months[0]
    else:
        return None
    if not 1 <= month <= 12 or year < 1:
        return None
    return fiscal_month(date(year, month, 1))


def quarters_between(first: date, last: date, settings: Settings) -> list[Period]:
    """Every fiscal quarter that shares at least one day with [first, last], in order."""
    quarters: list[Period] = []
    quarter = fiscal_quarter(first, settings)
    while quarter.start <= last:
        quarters.append(quarter)
        quarter = next_quarter(quarter, settings)
    return quarters


def _weekdays_through(ordinal: int) -> int:
    # Day ordinal 1 (1 January of year 1) is a Monday, so every run of seven ordinals from 1
    # holds exactly five weekdays, and a partial run of r days holds min(r, 5).
    full_weeks, extra_days = divmod(ordinal, 7)
    return full_weeks * 5 + min(extra_days, 5)


def business_days(start: date, end: date, holidays: tuple[date, ...] = ()) -> int:
    """Weekdays in [start, end], both inclusive, less holidays on weekdays; 0 if end < start."""
    if end < start:
        return 0
    weekdays = _weekdays_through(end.toordinal()) - _weekdays_through(start.toordinal() - 1)
    weekday_holidays = {day for day in holidays if start <= day <= end and day.weekday() < 5}
    return weekdays - len(weekday_holidays)


def elapsed_calendar_share(period: Period, as_of: date) -> float:
    """Share of the period's calendar days from its start through as_of: 0 before, 1 after."""
    if as_of < period.start:
        return 0.0
    if as_of >= period.end:
        return 1.0
    return ((as_of - period.start).days + 1) / _length_in_days(period)


def elapsed_business_share(period: Period, as_of: date, holidays: tuple[date, ...] = ()) -> float:
    """Share of the period's business days from its start through as_of: 0 before, 1 after."""
    if as_of < period.start:
        return 0.0
    if as_of >= period.end:
        return 1.0
    total = business_days(period.start, period.end, holidays)
    if total == 0:
        # Only possible when holidays cover every weekday; time still passes, so fall back on it.
        return elapsed_calendar_share(period, as_of)
    return business_days(period.start, as_of, holidays) / total


def weeks_in_period(period: Period) -> int:
    """The period's length in weeks, to the nearest week and at least 1: every quarter has 13."""
    # Rounding to the nearest week keeps every quarter (90 to 92 days) at "week N of 13", as the
    # pacing chart says: week 13 simply runs from six days (90-day quarter) to nine (92-day).
    return max(1, (_length_in_days(period) + 3) // 7)


def week_of_period(day: date, period: Period) -> int:
    """1-based week of day within the period (days 1-7 are week 1), clamped to the period."""
    week = (day - period.start).days // 7 + 1
    return min(max(week, 1), weeks_in_period(period))


def same_period_last_year(period: Period, settings: Settings) -> Period:
    """The same fiscal quarter, or the same calendar month, one year earlier."""
    if period.kind == "quarter":
        return same_quarter_last_year(period, settings)
    return fiscal_month(period.start.replace(year=period.start.year - 1))


def months_between(first: date, last: date) -> list[Period]:
    """Every calendar month touching [first, last], in order."""
    months: list[Period] = []
    day = first.replace(day=1)
    while day <= last:
        months.append(fiscal_month(day))
        day = months[-1].end + timedelta(days=1)
    return months


def parse_holidays(text: str) -> tuple[tuple[date, ...], tuple[str, ...]]:
    """Holidays typed one per line (or comma-separated) as YYYY-MM-DD: the dates, and the
    entries that are not dates, so the sidebar can say which it ignored."""
    days: set[date] = set()
    unreadable: list[str] = []
    for entry in re.split(r"[\n,;]+", text):
        entry = entry.strip()
        if not entry:
            continue
        try:
            days.add(date.fromisoformat(entry))
        except ValueError:
            unreadable.append(entry)
    return tuple(sorted(days)), tuple(unreadable)
