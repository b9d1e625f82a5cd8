"""Quotas and budgets in the long or wide form -> one row per owner (or team) per period."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa

from lib.fiscal import Period, fiscal_month, fiscal_quarter, month_from_label, quarter_from_label
from lib.load.errors import LoadError
from lib.load.files import columns_found, read_table
from lib.load.layouts import fold
from lib.load.values import DATE_FORMATS, parse_amounts, parse_dates
from lib.settings import Settings

OWNER_SPELLINGS = ("owner", "quotaownerid", "quotaowner", "rep", "salesagent", "salesrep",
                   "name", "team", "user", "ownername")  # fmt: skip
PERIOD_SPELLINGS = ("period", "quarter", "month", "startdate", "fiscalperiod", "date", "start")
AMOUNT_SPELLINGS = ("amount", "quota", "quotaamount", "target", "budget", "value")
# Rows that hold the budget of the whole team rather than of one rep.
TEAM_OWNER_NAMES = {"", "team", "total", "company", "all", "teamtotal", "grandtotal"}


@dataclass(frozen=True)
class TargetsReport:
    file_name: str
    form: str
    rows_read: int
    targets_loaded: int
    rejected: dict[str, int]
    rejected_examples: tuple[str, ...]


@dataclass(frozen=True)
class LoadedTargets:
    """Targets: owner (NULL for the whole team), period_start, period_end, period_kind, amount."""

    targets: pa.Table
    report: TargetsReport


@dataclass(frozen=True)
class _Target:
    owner: str | None
    period: Period
    amount: float


def load_targets(data: bytes, filename: str, settings: Settings) -> LoadedTargets:
    """Reads a quota/budget file in the long form (owner, period, amount) or the wide form
    (owner, Q1, Q2… or one column per month); LoadError when neither fits."""
    raw = read_table(data, filename)
    rows = [[row.get(f"c{i}") for i in range(len(raw.headers))] for row in raw.table.to_pylist()]
    folded = [fold(header) for header in raw.headers]
    owner_at = _find(folded, OWNER_SPELLINGS)
    wide_periods = {
        i: period
        for i, header in enumerate(raw.headers)
        if i != owner_at and (period := _period_of_header(header, settings))
    }
    if wide_periods:
        targets, rejected = _wide(rows, owner_at, wide_periods)
        form = "wide"
    else:
        period_at, amount_at = _find(folded, PERIOD_SPELLINGS), _find(folded, AMOUNT_SPELLINGS)
        if period_at is None or amount_at is None:
            raise LoadError(
                f"{filename} is not a quota or budget file: expected columns owner, period and "
                "amount (long form) or owner with one column per quarter or month (wide form). "
                f"Columns found: {columns_found(raw.headers)}."
            )
        targets, rejected = _long(rows, owner_at, period_at, amount_at, settings)
        form = "long"
    for malformed in raw.malformed:
        rejected.append(f"line {malformed.line}: {malformed.reason}")
    for reason, count in raw.more_malformed:
        rejected.append(f"{count:,} more lines: {reason}")
    return _loaded(targets, rejected, filename, form, raw.rows_read)


def load_quota_rows(
    rows: Sequence[Sequence[str | None]], filename: str, settings: Settings
) -> LoadedTargets:
    """Quotas already in (owner, period, amount) rows, as a Salesforce Data Export's
    ForecastingQuota gives them once its owner IDs are names."""
    targets, rejected = _long(rows, 0, 1, 2, settings)
    return _loaded(targets, rejected, filename, "long", len(rows))


def _loaded(
    targets: list[_Target], rejected: list[str], filename: str, form: str, rows_read: int
) -> LoadedTargets:
    return LoadedTargets(
        targets=_to_table(targets),
        report=TargetsReport(
            file_name=filename,
            form=form,
            rows_read=rows_read,
            targets_loaded=len({(t.owner, t.period.start) for t in targets}),
            rejected=_count_reasons(rejected),
            rejected_examples=tuple(rejected[:20]),
        ),
    )


def _find(folded: list[str], spellings: tuple[str, ...]) -> int | None:
    return next((folded.index(s) for s in spellings if s in folded), None)


def _owner(cell: str | None) -> str | None:
    text = (cell or "").strip()
    return None if fold(text) in TEAM_OWNER_NAMES else text


def _period_of_header(header: str, settings: Settings) -> Period | None:
    """A wide-form column header as a period: "Q1 2026", "2026-10", or a bare "Q1" / "Jan",
    which mean that quarter or month of the as-of date's fiscal year."""
    period = quarter_from_label(header, settings) or month_from_label(header)
    if period:
        return period
    text = header.strip()
    if fold(text) in {"q1", "q2", "q3", "q4"}:
        year_label = fiscal_quarter(settings.as_of, settings).label.split()[-1]
        return quarter_from_label(f"{text} {year_label}", settings)
    this_year = month_from_label(f"{text} {settings.as_of.year}")
    return this_year


def _period_of_cell(text: str, day: date | None, settings: Settings, quarter_starts: bool):
    period = quarter_from_label(text, settings) or month_from_label(text)
    if period or day is None:
        return period
    return fiscal_quarter(day, settings) if quarter_starts else fiscal_month(day)


def _parse_days(texts: list[str]) -> list[date | None]:
    """The cells read as dates in the one format that reads most of them (as deals are read)."""
    best: list[date | None] = [None] * len(texts)
    for fmt, _ in DATE_FORMATS:
        days = parse_dates(texts, fmt)
        if sum(d is not None for d in days) > sum(d is not None for d in best):
            best = days
    return best


def _starts_are_quarters(days: list[date | None], settings: Settings) -> bool:
    """Start dates a quarter apart are quarter targets (Salesforce ForecastingQuota may be either);
    a single date is a quarter when it is a quarter's first day."""
    starts = sorted({d for d in days if d})
    if not starts:
        return False
    if len(starts) == 1:
        return fiscal_quarter(starts[0], settings).start == starts[0]
    pairs = zip(starts, starts[1:], strict=False)
    gaps = {(b.year - a.year) * 12 + b.month - a.month for a, b in pairs}
    return min(gaps) >= 3


def _long(rows, owner_at, period_at, amount_at, settings):
    amounts = parse_amounts([row[amount_at] for row in rows])
    period_texts = [(row[period_at] or "").strip() for row in rows]
    days = _parse_days(period_texts)
    quarter_starts = _starts_are_quarters(days, settings)
    targets, rejected = [], []
    for number, (row, text, day, amount) in enumerate(
        zip(rows, period_texts, days, amounts, strict=True), start=1
    ):
        period = _period_of_cell(text, day, settings, quarter_starts) if text else None
        if period is None:
            rejected.append(f"row {number}: period not understood ('{text}')")
        elif amount is None:
            rejected.append(f"row {number}: amount not a number ('{row[amount_at] or ''}')")
        else:
            owner = _owner(row[owner_at]) if owner_at is not None else None
            targets.append(_Target(owner, period, float(amount)))
    return targets, rejected


def _wide(rows, owner_at, periods):
    targets, rejected = [], []
    for number, row in enumerate(rows, start=1):
        owner = _owner(row[owner_at]) if owner_at is not None else None
        cells = {i: row[i] for i in periods if (row[i] or "").strip()}
        for (i, text), amount in zip(
            cells.items(), parse_amounts(list(cells.values())), strict=True
        ):
            if amount is None:
                rejected.append(f"row {number}: amount not a number ('{text}')")
            else:
                targets.append(_Target(owner, periods[i], float(amount)))
    return targets, rejected


def _count_reasons(rejected: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for text in rejected:
        reason = text.split(": ", 1)[-1].split(" (")[0]
        counts[reason] = counts.get(reason, 0) + 1
    return counts


def _to_table(targets: list[_Target]) -> pa.Table:
    # The same owner and period twice (a quota split over two rows) adds up.
    totals: dict[tuple[str | None, Period], float] = {}
    for target in targets:
        key = (target.owner, target.period)
        totals[key] = totals.get(key, 0.0) + target.amount
    return pa.table(
        {
            "owner": pa.array([owner for owner, _ in totals], type=pa.string()),
            "period_start": pa.array([p.start for _, p in totals], type=pa.date32()),
            "period_end": pa.array([p.end for _, p in totals], type=pa.date32()),
            "period_kind": pa.array([p.kind for _, p in totals], type=pa.string()),
            "period_label": pa.array([p.label for _, p in totals], type=pa.string()),
            "amount": pa.array(list(totals.values()), type=pa.float64()),
        }
    )


def empty_targets() -> pa.Table:
    return _to_table([])
