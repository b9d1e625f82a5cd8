"""The coaching page's Funnel tab: the funnel, win rate by deal size and sales velocity of the
team or one rep, over the trailing four quarters (lib/funnel.py)."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from lib.charts import funnel_chart
from lib.format import markdown_text, money, percent
from lib.funnel import Funnel, FunnelReport, SizeBands, Velocity, funnel_report
from lib.session import Session
from lib.settings import Settings
from ui.tables import money_column, percent_column, table

WHOLE_TEAM = "Whole team"


def show_funnel(data: Session, settings: Settings, rep: str) -> None:
    """The tab's body, for the team or `rep` (the rep picked on the page)."""
    whose = st.radio("Whose funnel", [WHOLE_TEAM, rep], horizontal=True, key="funnel_whose")
    owner = None if whose == WHOLE_TEAM else whose
    report: FunnelReport = funnel_report(
        data.resolved.deals, data.stage_entries, data.export.report.stage_rules, settings, owner
    )
    name = "the team" if owner is None else markdown_text(owner)
    _show_stages(report.funnel, name)
    _show_size_bands(report.size_bands, data.currency)
    _show_velocity(report.velocity, data.currency)


def _show_stages(found: Funnel, name: str) -> None:
    st.subheader(f"Funnel of {name}, {found.window.label}", anchor=False)
    st.caption(_cohort_caption(found))
    if not found.stages or not found.stages[0].reached:
        st.info(
            f"No deal created from {found.window.start:%d %b %Y} to {found.window.end:%d %b %Y} "
            "has a stage to count: there is no funnel to draw."
        )
        return
    st.plotly_chart(
        funnel_chart(found, f"Deals created in {found.window.label} by the stage they reached"),
        width="stretch",
        theme=None,
    )
    frame = pd.DataFrame(
        {
            "Stage": [s.stage for s in found.stages],
            "Reached": [s.reached for s in found.stages],
            "To the next stage": [_percentage(s.to_next) for s in found.stages],
            "Won": [_percentage(s.won) for s in found.stages],
            "Median days in stage": pd.array([s.median_days for s in found.stages], "Float64"),
        }
    )
    table(
        frame,
        hide_index=True,
        column_config={
            "To the next stage": percent_column("To the next stage"),
            "Won": percent_column("Won"),
            "Median days in stage": st.column_config.NumberColumn(format="%.1f"),
        },
    )
    share_reasons = {s.share_reason for s in found.stages if s.share_reason}
    if share_reasons:
        st.caption("Shares “–”: " + "; ".join(sorted(share_reasons)) + ".")
    reasons = {s.median_reason for s in found.stages if s.median_reason}
    if reasons:
        st.caption(
            "Median days in stage “–”: "
            + "; ".join(sorted(reasons))
            + ". Days come from saved snapshots, a Data Export's OpportunityHistory or an "
            "export's stage-date columns."
        )


def _cohort_caption(found: Funnel) -> str:
    """What each deal's furthest stage was read from, and what was left out."""
    parts = [
        "Deals created in the window. A deal reached a stage when it entered it or a later one; "
        "a won deal reached every stage."
    ]
    if found.from_history:
        parts.append(f"{found.from_history:,} deals read from stage history.")
    if found.from_current_stage:
        parts.append(
            f"{found.from_current_stage:,} deals from their current stage alone: an export "
            "without history proves only that a deal reached the stage it is in now, so a deal "
            "that moved back counts at its current stage."
        )
    if found.lost_stage_unknown:
        parts.append(
            f"{found.lost_stage_unknown:,} lost deals whose stage at the loss the export does "
            "not keep count at the first stage alone: the counts after it are floors and their "
            "shares “–”. Save a snapshot each week, or load a Data Export with its "
            "OpportunityHistory, to see how far lost deals got."
        )
    if found.without_created_date:
        parts.append(f"Left out: {found.without_created_date:,} deals without a created date.")
    return " ".join(parts)


def _percentage(share: float | None) -> float | None:
    return None if share is None else share * 100


def _show_size_bands(bands: SizeBands, currency: str | None) -> None:
    st.subheader("Win rate by deal size", anchor=False)
    if not bands.bands:
        st.info(f"No size bands: {bands.reason} closed in the trailing four quarters.")
        return
    frame = pd.DataFrame(
        {
            "From": [b.low for b in bands.bands],
            "To": [b.high for b in bands.bands],
            "Won": [b.won for b in bands.bands],
            "Lost": [b.lost for b in bands.bands],
            "Win rate": [_percentage(b.win_rate) for b in bands.bands],
        }
    )
    table(
        frame,
        hide_index=True,
        column_config={
            "From": money_column("From", currency),
            "To": money_column("To", currency),
            "Win rate": percent_column("Win rate"),
        },
    )
    edges = [bands.bands[0].low, *(b.high for b in bands.bands)]
    left_out = (
        f" {bands.without_amount:,} closed deals without an amount (or at 0) are left out."
        if bands.without_amount
        else ""
    )
    st.caption(
        "Won and lost deals closed in the trailing four quarters, cut at the quartiles of their "
        f"amounts: {', '.join(money(edge, currency) for edge in edges)}.{left_out}"
    )


def _show_velocity(speed: Velocity, currency: str | None) -> None:
    st.subheader("Sales velocity", anchor=False)
    per_day = speed.per_day
    columns = st.columns(5)
    columns[0].metric(
        "Per day",
        f"{money(per_day, currency)}" if per_day is not None else "–",
        help="Open deals × win rate × average won amount ÷ median sales cycle (days)",
    )
    columns[1].metric("Open deals", f"{speed.open_deals:,}")
    columns[2].metric("Win rate", percent(speed.win_rate))
    columns[3].metric("Average won", money(speed.average_won, currency))
    columns[4].metric(
        "Median sales cycle",
        f"{speed.median_cycle_days:g} days" if speed.median_cycle_days is not None else "–",
    )
    if per_day is None:
        st.caption(f"Per day “–”: {speed.unknown_because}.")
    else:
        st.caption(
            f"{speed.open_deals:,} open deals × {percent(speed.win_rate)} × "
            f"{money(speed.average_won, currency)} ÷ {speed.median_cycle_days:g} days. Open "
            "deals: the open pipeline (close date this quarter or later, or none); the rest "
            "from deals closed in the trailing four quarters."
        )
