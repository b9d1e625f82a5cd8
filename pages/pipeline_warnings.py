"""Who is about to drive off the cliff? Every pipeline warning, the worst and the biggest first."""

import streamlit as st

from lib.charts import coverage_chart, created_heatmap, pipeline_by_deal_chart
from lib.overview import team_of_each_rep
from lib.pipeline_warnings import (
    RULES,
    RULES_BY_KIND,
    coverage_by_rep,
    created_by_week,
    largest_pipelines,
    pipeline_blocks,
    pipeline_figures,
    pipeline_warnings,
    shown_warning,
)
from ui.session import as_of_caption, loaded_or_stop

# On a floor of hundreds of reps the list and the charts show the first of them (most severe,
# most money, thinnest coverage) and say how many more there are; the filters narrow them down.
SHOWN_WARNINGS = 40
CHART_REPS = 30

st.title("Who is about to drive off the cliff?")
data = loaded_or_stop()
con = data.connection()
settings = data.settings
currency = data.currency
st.caption(as_of_caption(data))

figures = pipeline_figures(con, settings)
found = pipeline_warnings(con, settings, currency, figures)
team_of = team_of_each_rep(con)

team_column, rep_column, kind_column = st.columns(3)
team = team_column.selectbox(
    "Team", [None, *sorted(set(team_of.values()) - {None})],
    format_func=lambda t: "Whole team" if t is None else t,
)  # fmt: skip
reps_shown = sorted({w.owner for w in found.warnings if w.owner} - {None})
if team:
    reps_shown = [rep for rep in reps_shown if team_of.get(rep) == team]
rep = rep_column.selectbox(
    "Rep", [None, *reps_shown], format_func=lambda r: "Every rep" if r is None else r
)
kinds = kind_column.multiselect(
    "Kind",
    [rule.kind for rule in RULES],
    format_func=lambda kind: RULES_BY_KIND[kind].label,
    placeholder="Every kind",
)


def in_view(owner: str | None) -> bool:
    """Whether the team and rep filters keep this rep (team-level warnings have no rep)."""
    if owner is None:
        return rep is None
    return (team is None or team_of.get(owner) == team) and (rep is None or owner == rep)


shown = [w for w in found.warnings if (not kinds or w.kind in kinds) and in_view(w.owner)]
critical = sum(1 for warning in shown if warning.severity == "critical")
if shown:
    st.subheader(f"{len(shown)} warning{'' if len(shown) == 1 else 's'}, {critical} critical")
elif found.skipped:
    # Silence from checks that could not run is no all-clear: that is the headline.
    st.subheader(f"{len(found.skipped)} of {len(RULES)} checks could not run")
    st.warning(
        "No warning from the checks that ran; the others need what this data lacks: "
        + "; ".join(found.lacking.values())
        + ".",
        icon=":material/help:",
    )
else:
    st.subheader("No warnings: every rep's pipeline passes every check")
for warning in map(shown_warning, shown[:SHOWN_WARNINGS]):
    (st.error if warning.critical else st.warning)(warning.markdown, icon=warning.icon)
if len(shown) > SHOWN_WARNINGS:
    st.caption(
        f"The first {SHOWN_WARNINGS} of {len(shown):,} warnings, the most severe and the most "
        "money at stake first: pick a team, a rep or a kind above to see the others."
    )
for kind, reason in found.skipped.items():
    st.caption(f"{RULES_BY_KIND[kind].label}: not checked, {reason}.")

st.subheader("The pictures")
pipeline, coverage, created = st.tabs(["Pipeline by deal", "Coverage", "Pipeline created per week"])
blocks = [block for block in pipeline_blocks(con, settings) if in_view(block.owner)]


def more_reps_note(shown: int, of: int, which: str) -> None:
    if of > shown:
        st.caption(f"The {shown} reps {which}, of {of:,}: pick a team or a rep above for others.")


with pipeline:
    largest = largest_pipelines(blocks, CHART_REPS)
    if not any(block.amount for block in largest):
        st.info("Not drawn: no open deal here has an amount to draw it by.", icon=":material/help:")
    else:
        st.plotly_chart(
            pipeline_by_deal_chart(largest, settings.concentration_warn, currency),
            width="stretch",
            theme=None,
        )
        more_reps_note(
            len({b.owner for b in largest}),
            len({b.owner for b in blocks}),
            "with the most open pipeline",
        )
with coverage:
    rows = [row for row in coverage_by_rep(figures) if in_view(row.owner)]
    if rows:
        st.plotly_chart(
            coverage_chart(rows[:CHART_REPS], settings.coverage_warn, settings.coverage_critical),
            width="stretch",
            theme=None,
        )
        more_reps_note(min(len(rows), CHART_REPS), len(rows), "with the thinnest coverage")
    else:
        st.info("No rep has budget still to close this quarter (or no quota file is loaded).")
with created:
    if "prospecting_stall" in found.skipped:
        st.info(f"Not drawn: {found.skipped['prospecting_stall']}.")
    else:
        weeks, by_rep = created_by_week(con, settings, figures.owners)
        by_rep = {owner: amounts for owner, amounts in by_rep.items() if in_view(owner)}
        first = dict(list(by_rep.items())[:CHART_REPS])
        st.plotly_chart(created_heatmap(weeks, first, currency), width="stretch", theme=None)
        more_reps_note(len(first), len(by_rep), "first in the pacing table")
