"""The Monday report as JSON: every figure the pages show, for `python -m lib.cli report`."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import duckdb

from lib.fiscal import fiscal_quarter
from lib.settings import Settings


def report(con: duckdb.DuckDBPyConnection, settings: Settings, currency: str | None) -> dict:
    """The report's common head: as-of date, the period that contains it, the currency."""
    period = fiscal_quarter(settings.as_of, settings)
    return {
        "as_of": settings.as_of,
        "currency": currency,
        "period": {"label": period.label, "start": period.start, "end": period.end},
    }


def json_ready(value: object) -> object:
    """Dates as ISO strings, decimals as floats rounded to the cent, through lists and dicts."""
    if isinstance(value, dict):
        return {key: json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_ready(item) for item in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return round(float(value), 2)
    return value
