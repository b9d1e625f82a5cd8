"""Are we on pace? Bookings to date against budget and last year, for the team and each rep."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from lib.charts import attainment_chart, pacing_chart
from lib.fiscal import fiscal_quarter
from lib.format import as_percentages, markdown_text, money, percent
from lib.pacing import (
    cumulative_series,
    linearity,
    pacing,
    periods_to_choose,
    rep_rows,
    teams,
    verdict,
)
from ui.forecast import forecast_section
from ui.session import as_of_caption, loaded_or_stop
from ui.sidebar import typed_team_budget
from ui.tables import money_column, percent_column, table

PACE_METHODS = {
    "business": "Business days",
    "calendar": "Calendar days",
    "last_year": "Last year's shape",
}
# A floor of hundreds of reps: the chart shows the best and the furthest behind, the table all.
CHART_REPS = 30

st.title("Are we on pace?")
data = loaded_or_stop()
con = data.connection()
currency = data.currency
st.caption(as_of_caption(data))

kind_column, period_column, team_column, method_column = st.columns([1, 1.3, 1.3, 1.6])
kind = kind_column.radio("View", ["quarter", "month"], format_func=str.title, horizontal=True)
periods = periods_to_choose(con, data.settings, kind)
period = period_column.selectbox("Period", periods, format_func=lambda p: p.label)
team_names = teams(con)
team = team_column.selectbox(
    "Team", [None, *team_names], format_func=lambda t: "Whole team" if t is None else t
)
method = method_column.radio(
    "Pace on", list(PACE_METHODS), format_func=PACE_METHODS.get, horizontal=True
)
settings = replace(data.settings, pace_method=method)

if data.targets is None and team is None:
    settings = replace(settings, team_budget=typed_team_budget(period.label, currency))

report = pacing(con, settings, period, team)
team_figures = report.team
if report.pace_note:
    st.info(report.pace_note, icon=":material/info:")

booked, pace, last_year, needed = st.columns(4)
if team_figures.budget is None:
    booked.metric("Booked to date", money(team_figures.closed_to_date, currency))
    pace.metric("Pacing index", "–", help="Needs a budget")
    st.warning(
        "No budget for this period: load a quota file (owner, period, amount) or type the team's "
        "budget above to see pace, gap and the run-rate needed.",
        icon=":material/target:",
    )
else:
    booked.metric(
        "Booked to date",
        money(team_figures.closed_to_date, currency),
        f"{percent(team_figures.attainment)} of {money(team_figures.budget, currency)} budget",
        delta_color="gray",
        delta_arrow="off",
    )
    ahead = team_figures.ahead_by or 0
    pace.metric(
        "Pacing index",
        percent(team_figures.pacing_index),
        f"{'ahead' if ahead >= 0 else 'behind'} by {money(abs(ahead), currency)}",
        delta_color="green" if ahead >= 0 else "red",
        delta_arrow="up" if ahead >= 0 else "down",
    )
    needed.metric(
        "Needed per business day",
        money(team_figures.required_per_business_day, currency),
        f"achieved {money(team_figures.achieved_per_business_day, currency)} so far",
        delta_color="gray",
        delta_arrow="off",
    )
last_year.metric(
    "vs last year, same day",
    percent(team_figures.yoy, signed=True),
    "not in the export"
    if report.last_year_note
    else f"{money(team_figures.last_year_to_date, currency)} last year",
    delta_color="gray",
    delta_arrow="off",
    help=report.last_year_note,
)

projections = st.columns(4)
for column, (label, value) in zip(
    projections,
    (
        ("Run-rate projection", team_figures.projection_run_rate),
        ("Weighted pipeline projection", team_figures.projection_weighted),
        ("Commit projection", team_figures.projection_commit),
        ("Best-case projection", team_figures.projection_best_case),
    ),
    strict=True,
):
    against = (
        f"{percent(value / team_figures.budget)} of budget"
        if team_figures.budget and value is not None
        else None
    )
    column.metric(label, money(value, currency), against, delta_color="gray", delta_arrow="off")

series = cumulative_series(con, settings, report)
title = f"{verdict(report, currency)} · week {report.week} of {report.weeks}"
st.plotly_chart(pacing_chart(series, report, currency, title), width="stretch", theme=None)

shares = linearity(con, settings, report.period, team)
if shares:
    hockey = " — a hockey stick" if shares[2] >= 0.6 else ""
    st.caption(
        "Linearity: "
        + " · ".join(f"month {n} {share:.0%}" for n, share in enumerate(shares, start=1))
        + f" of the quarter's bookings so far{hockey}."
    )

# The forecast is of the as-of date's quarter, for the whole team: its backtest is the team's.
if team is None and period == fiscal_quarter(data.settings.as_of, data.settings):
    forecast_section(replace(data, settings=settings))
else:
    this_quarter = fiscal_quarter(data.settings.as_of, data.settings).label
    st.caption(
        f"The forecast and its backtest are of {this_quarter} for the whole team: choose them "
        "above to see each method's projection and how it has done before."
    )

st.subheader("By rep")
with_budget = sum(1 for rep in report.reps if rep.pacing.attainment is not None)
if with_budget:
    st.plotly_chart(attainment_chart(report, currency, CHART_REPS), width="stretch", theme=None)
if with_budget > CHART_REPS:
    st.caption(
        f"The {CHART_REPS // 2} reps with the highest attainment and the {CHART_REPS // 2} with "
        f"the lowest, of {with_budget:,}: the table below has every rep."
    )
# Shares show as whole percentages: 84 %, not 0.8437.
rows = as_percentages(pd.DataFrame(rep_rows(report)), ("attainment", "pacing_index", "yoy"))
if rows.empty:
    st.info(f"No rep has deals or a budget in {markdown_text(period.label)}.")
else:
    money_columns = {
        key: money_column(label, currency)
        for key, label in (
            ("budget", "Budget"),
            ("closed_to_date", "Booked"),
            ("expected_to_date", "Expected by now"),
            ("last_year_to_date", "Last year, same day"),
            ("projection_run_rate", "Run-rate projection"),
            ("projection_weighted", "Weighted projection"),
            ("projection_commit", "Commit projection"),
            ("projection_best_case", "Best-case projection"),
            ("gap", "Gap to budget"),
            ("required_per_business_day", "Needed per business day"),
            ("achieved_per_business_day", "Achieved per business day"),
        )
    }
    table(
        rows,
        hide_index=True,
        column_order=[
            "owner",
            "team",
            "attainment",
            "pacing_index",
            "ahead_by",
            *money_columns,
            "yoy",
        ],
        column_config={
            "owner": "Rep",
            "team": "Team",
            "attainment": st.column_config.ProgressColumn(
                "Attainment", format="%.0f %%", min_value=0, max_value=100
            ),
            "pacing_index": percent_column("Pacing index"),
            "ahead_by": st.column_config.NumberColumn("Ahead (+) / behind (−)", format="%+,.0f"),
            "yoy": percent_column("vs last year", signed=True),
            **money_columns,
        },
    )
