"""The Monday report as JSON: every figure the pages show, for `python -m lib.cli report`."""

from __future__ import annotations

from dataclasses import asdict
from datetime import date
from decimal import Decimal

import duckdb

from lib import coaching
from lib.close_today import close_today, for_report, stale
from lib.fiscal import fiscal_quarter
from lib.follow_through import TrackRecord, accuracy_json, follow_through_json
from lib.pacing import PacingReport, pacing
from lib.pipeline_warnings import pipeline_figures, pipeline_warnings
from lib.qbr import Qbr
from lib.settings import Settings


def report(
    con: duckdb.DuckDBPyConnection,
    settings: Settings,
    currency: str | None,
    record: TrackRecord | None = None,
) -> dict:
    """As-of date, the period that contains it, the currency, then each page's figures; each
    rep's follow-through and forecast accuracy from the `record` of saved snapshots (null
    without one)."""
    period = fiscal_quarter(settings.as_of, settings)
    this_quarter = pacing(con, settings, period)
    figures = pipeline_figures(con, settings, with_deal_ids=True, this_quarter=this_quarter)
    found = pipeline_warnings(con, settings, currency, figures, with_deal_ids=True)
    return {
        "as_of": settings.as_of,
        "currency": currency,
        "period": {"label": period.label, "start": period.start, "end": period.end},
        "pacing": pacing_section(this_quarter),
        "close_today": for_report(close_today(con, settings), stale(con, settings)),
        "warnings": [warning.as_json() for warning in found.warnings],
        "warnings_skipped": [
            {"kind": kind, "reason": reason} for kind, reason in found.skipped.items()
        ],
        "coaching": coaching_section(coaching.coaching(con, settings), record),
        "track_record_skipped": track_record_skipped(record),
    }


def coaching_section(result: coaching.CoachingReport, record: TrackRecord | None) -> list[dict]:
    """Each rep's coaching figures, then their follow-through and forecast accuracy."""
    return [
        {
            **entry,
            "follow_through": follow_through_json(record, entry["owner"]) if record else None,
            "forecast_accuracy": accuracy_json(record, entry["owner"]) if record else None,
        }
        for entry in coaching.for_report(result)
    ]


def track_record_skipped(record: TrackRecord | None) -> list[dict]:
    """[{"kind", "reason"}] for each part of the track record that has nothing to show."""
    if record is None:
        return [
            {"kind": kind, "reason": "no snapshot store was read"}
            for kind in ("follow_through", "forecast_accuracy")
        ]
    notes = {"follow_through": record.follow_through_note,
             "forecast_accuracy": record.accuracy_note}  # fmt: skip
    return [{"kind": kind, "reason": reason} for kind, reason in notes.items() if reason]


def pacing_section(result: PacingReport) -> dict:
    """{"team": figures, "owners": [figures with "owner" and "team"]}, reps by attainment."""
    return {
        "team": asdict(result.team),
        "owners": [
            {"owner": rep.owner, "team": rep.team, **asdict(rep.pacing)} for rep in result.reps
        ],
    }


def qbr_section(result: Qbr, currency: str | None) -> dict:
    """A quarter's QBR as JSON: `python -m lib.cli qbr --json`."""
    coverage = result.coverage
    losses = result.losses
    return {
        "quarter": {
            "label": result.quarter.label,
            "start": result.quarter.start,
            "end": result.quarter.end,
        },
        "through": result.through,
        "complete": result.complete,
        "currency": currency,
        "headline": asdict(result.headline),
        "pacing": pacing_section(result.pacing),
        "top_wins": [asdict(win) for win in result.top_wins],
        "losses": {
            "count": losses.count,
            "amount": losses.amount,
            "deals": losses.deals.to_pylist(),
            "by_stage": [asdict(group) for group in losses.by_stage],
            "by_reason": [asdict(group) for group in losses.by_reason],
            "stage_note": losses.stage_note,
        },
        "next_quarter_coverage": None
        if coverage is None
        else {
            "quarter": coverage.quarter.label,
            "as_of": coverage.as_of,
            "target": coverage.target,
            "pipeline": coverage.pipeline,
            "to_close": coverage.to_close,
            "ratio": coverage.ratio,
            "owners": [
                {
                    "owner": row.owner,
                    "pipeline": row.pipeline,
                    "to_close": row.remaining,
                    "ratio": row.ratio,
                }
                for row in coverage.reps
            ],  # fmt: skip
        },
        "coverage_note": result.coverage_note,
        "concentration": [warning.as_json() for warning in result.concentration],
        "referrals": {
            "won_deals": result.referrals.won_deals,
            "referral_deals_created": result.referrals.referral_deals_created,
            "referral_ratio": result.referrals.referral_ratio,
            "owners": [asdict(rep) for rep in result.rep_referrals],
        },
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
