"""Who is about to drive off the cliff? A grid of reps by kinds of warning, then each rep's."""

import streamlit as st

from lib.charts import (
    coverage_chart,
    created_heatmap,
    grid_owner,
    pipeline_by_deal_chart,
    warning_grid_chart,
)
from lib.format import markdown_text
from lib.overview import team_of_each_rep
from lib.pipeline_warnings import (
    RULES,
    RULES_BY_KIND,
    UP_AHEAD,
    by_rep,
    coverage_by_rep,
    created_by_week,
    largest_pipelines,
    look_at,
    next_quarter_budgeted,
    next_quarter_is_early,
    pipeline_blocks,
    pipeline_figures,
    pipeline_warnings,
    rep_name,
    shown_warning,
    thin_next_quarter,
    warning_grid,
)
from ui.session import as_of_caption, loaded_or_stop

# On a floor of hundreds of reps the grid, the list and the charts show the first 30 of them
# (most severe, most money, thinnest coverage) and say how many more there are; the filters
# narrow them down.
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
# The rep picked here or by clicking the grid (pick_from_grid); a rep another team's filter
# hides is no longer picked.
if st.session_state.get("warnings_rep") not in reps_shown:
    st.session_state.pop("warnings_rep", None)
rep = rep_column.selectbox(
    "Rep", [None, *reps_shown], format_func=lambda r: "Every rep" if r is None else r,
    key="warnings_rep",
)  # fmt: skip
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


def more_reps_note(shown: int, of: int, which: str) -> None:
    if of > shown:
        st.caption(f"The {shown} reps {which}, of {of:,}: pick a team or a rep above for others.")


def in_team(owner: str | None) -> bool:
    return owner is None or team is None or team_of.get(owner) == team


of_kind = [w for w in found.warnings if not kinds or w.kind in kinds]
shown = [w for w in of_kind if in_view(w.owner)]
early = next_quarter_is_early(settings)
# Early in the quarter next quarter's thin pipeline is one line for the team, not a sentence
# per rep above the grid; each rep's stays in their group of the list below.
up_ahead = [w for w in shown if early and w.kind == UP_AHEAD]
pressing = [w for w in shown if w not in up_ahead]
critical = sum(1 for warning in pressing if warning.severity == "critical")
watch = len(pressing) - critical
if shown:
    st.subheader(
        f"{critical} critical warning{'' if critical == 1 else 's'}, {watch} to watch"
        if critical
        else f"No critical warning, {watch} to watch"
    )
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
if up_ahead and rep is None:
    budgeted = next_quarter_budgeted(con, settings, [o for o in figures.owners if in_view(o)])
    st.markdown(
        f"**Up ahead:** {thin_next_quarter(up_ahead, len(budgeted), settings)}, as usual before "
        "the quarter's last month; each rep's line is in their group below."
    )

# The grid keeps every rep of the team and kinds chosen, so that another rep can be clicked.
in_grid = [w for w in of_kind if in_team(w.owner) and not (early and w.kind == UP_AHEAD)]
grid = warning_grid(in_grid, CHART_REPS)


def pick_from_grid() -> None:
    """A click on a cell picks its rep in the Rep filter (the whole team's row: every rep)."""
    points = st.session_state.warnings_grid.selection.points
    if points:
        owner = grid_owner(grid, points[0]["point_index"])
        if owner in reps_shown:
            st.session_state.warnings_rep = owner
        else:
            st.session_state.pop("warnings_rep", None)


if grid.empty:
    st.info(
        "Nothing to draw: no rep here has a warning"
        + (" but next quarter's thin pipeline." if up_ahead else ".")
    )
else:
    st.plotly_chart(
        warning_grid_chart(grid, currency),
        width="stretch", theme=None, key="warnings_grid", on_select=pick_from_grid,
        selection_mode="points",
    )  # fmt: skip
    more_reps_note(grid["rep"].nunique(), len(by_rep(in_grid)), "with the most pressing warnings")
    st.caption(
        "Each cell is a warning, labelled with the money at stake; point at it for its "
        "sentence, click it to see only that rep's warnings."
    )

most_pressing = look_at(pressing)
if most_pressing:
    st.markdown(
        "**This week, look at:**\n"
        + "\n".join(f"1. {markdown_text(warning.message)}" for warning in most_pressing)
    )

st.subheader("Every warning, rep by rep")
groups = by_rep(shown)
for owner, group in list(groups.items())[:CHART_REPS]:
    severe = sum(1 for warning in group if warning.severity == "critical")
    summary = " · ".join(
        [*([f":red[{severe} critical]"] if severe else []), f"{len(group) - severe} to watch"]
    )
    with st.expander(
        f"**{markdown_text(rep_name(owner))}** · {summary}",
        expanded=rep is not None,
        icon=":material/report:" if severe else ":material/warning:",
    ):
        for warning in map(shown_warning, group):
            (st.error if warning.critical else st.warning)(warning.markdown, icon=warning.icon)
if len(groups) > CHART_REPS:
    st.caption(
        f"The first {CHART_REPS} of {len(groups):,} reps, the most severe and the most money at "
        "stake first: pick a team, a rep or a kind above to see the others."
    )
for kind, reason in found.skipped.items():
    st.caption(f"{RULES_BY_KIND[kind].label}: not checked, {reason}.")

st.subheader("The pictures")
pipeline, coverage, created = st.tabs(["Pipeline by deal", "Coverage", "Pipeline created per week"])
blocks = [block for block in pipeline_blocks(con, settings) if in_view(block.owner)]


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
        weeks, made = created_by_week(con, settings, figures.owners)
        made = {owner: amounts for owner, amounts in made.items() if in_view(owner)}
        first = dict(list(made.items())[:CHART_REPS])
        st.plotly_chart(created_heatmap(weeks, first, currency), width="stretch", theme=None)
        more_reps_note(len(first), len(made), "first in the pacing table")
