"""The Monday report as JSON: every figure the pages show, for `python -m lib.cli report`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

import duckdb

from lib import coaching
from lib.close_today import close_today, for_report
from lib.fiscal import fiscal_quarter
from lib.pacing import PacingReport, pacing
from lib.settings import Settings
from lib.warnings import pipeline_warnings


def report(con: duckdb.DuckDBPyConnection, settings: Settings, currency: str | None) -> dict:
    """As-of date, the period that contains it, the currency, then each page's figures."""
    period = fiscal_quarter(settings.as_of, settings)
    return {
        "as_of": settings.as_of,
        "currency": currency,
        "period": {"label": period.label, "start": period.start, "end": period.end},
        "pacing": pacing_section(pacing(con, settings, period)),
        "close_today": for_report(close_today(con, settings)),
        "warnings": [
            warning.as_json() for warning in pipeline_warnings(con, settings, currency).warnings
        ],
        "coaching": coaching.for_report(coaching.coaching(con, settings)),
    }


def pacing_section(result: PacingReport) -> dict:
    """{"team": figures, "owners": [figures with "owner" and "team"]}, reps by attainment."""
    return {
        "team": asdict(result.team),
        "owners": [
            {"owner": rep.owner, "team": rep.team, **asdict(rep.pacing)} for rep in result.reps
        ],
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
