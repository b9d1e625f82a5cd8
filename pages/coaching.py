"""How do we coach each rep? The 1:1 sheet, every sale leading to two more, the scorecard."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from lib.charts import AHEAD, BEHIND, referrals_chart, stage_age_chart
from lib.coaching import (
    AGE_LABELS,
    CONCERN,
    OUTLIER_IQRS,
    REFERRAL_TARGET,
    SCORECARD,
    STRENGTH,
    coaching,
    outliers,
    referral_table,
    scorecard_marks,
    scorecard_rows,
    scorecard_table,
)
from lib.downloads import csv_file_name, safe_csv
from lib.follow_through import ACCURACY_COLUMNS, FOLLOW_THROUGH_COLUMNS
from lib.format import as_percentages, markdown_text, money, percent
from lib.one_on_one import (
    DEAL_COLUMNS,
    FOLLOW_THROUGH_TITLE,
    accuracy_table,
    accuracy_text,
    accuracy_title,
    deal_rows,
    follow_through_table,
    follow_through_text,
    four_quarters_rows,
    one_on_one_sheet,
    pacing_cards,
    pipeline_title,
    sheet_file_name,
    sheet_html,
)
from lib.pipeline_warnings import pipeline_figures, pipeline_warnings, shown_warning
from lib.settings import parse_keywords
from ui.funnel_tab import show_funnel
from ui.session import as_of_caption, loaded_or_stop
from ui.tables import money_column, percent_column, table
from ui.track_record import track_record_once

# How a scorecard cell that stands out looks: green where it is a strength, orange a concern.
MARK_STYLES = {
    STRENGTH: f"background-color: #e3f1ea; color: {AHEAD}; font-weight: 600",
    CONCERN: f"background-color: #fbe4d8; color: {BEHIND}; font-weight: 600",
}
# Printing from the browser gives the open tab alone, without the sidebar, the controls or
# Streamlit's own chrome, on as few pages as will hold it. Our own constant CSS: no data in it.
PRINT_CSS = """
<style>
@media print {
  @page { margin: 10mm; }
  html { font-size: 13px !important; }
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"],
  [data-testid="stSidebarCollapsedControl"], [data-testid="stDecoration"],
  [data-testid="stStatusWidget"], [data-testid="stElementToolbar"],
  [data-testid="stTabs"] [role="tablist"], .st-key-coaching_controls,
  [class*="st-key-screen_only"] { display: none !important; }
  .stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {
    position: static !important; overflow: visible !important; height: auto !important; }
  [data-testid="stMain"] { margin-left: 0 !important; }
  [data-testid="stMainBlockContainer"] { padding: 0 !important; max-width: 100% !important; }
  [data-testid="stVerticalBlock"] { gap: 0.4rem !important; }
  [data-testid="stAlertContainer"] { padding: 0.3rem 0.75rem !important; }
  h1, h2, h3 {
    break-after: avoid; padding-top: 0.4rem !important; padding-bottom: 0.2rem !important; }
  [data-testid="stTable"] tr, [data-testid="stAlert"], [data-testid="stPlotlyChart"],
  [data-testid="stMetric"] { break-inside: avoid; }
  body { print-color-adjust: exact; -webkit-print-color-adjust: exact; }
}
</style>
"""

# Narrow enough for the printed page (A4 or Letter), which a chart does not shrink to fit.
PRINTABLE_WIDTH = 700
# A table row's height in pixels: tables show a team of up to 30 reps without scrolling.
ROW_HEIGHT = 35
ROWS_SHOWN = 30
# A 1:1 is about the deals to work first; a rep with a hundred due gets the first of them.
SHEET_DEALS = 25


def text_table(markdown: str, rows: list[tuple[str, ...]], columns: tuple[str, ...]) -> None:
    """A line of Markdown, then the rows as a plain table when there are any."""
    st.markdown(markdown)
    if rows:
        frame = pd.DataFrame([[markdown_text(cell) for cell in row] for row in rows],
                             columns=[markdown_text(column) for column in columns])  # fmt: skip
        st.table(frame, hide_index=True, border="horizontal", width="content")


st.html(PRINT_CSS)
with st.container(key="screen_only_title"):
    st.title("How do we coach each rep?")
data = loaded_or_stop()
con = data.connection()
currency = data.currency

with st.container(key="coaching_controls"):
    st.caption(as_of_caption(data))
    rep_column, keywords_column, download_column = st.columns(
        [2, 3, 2], vertical_alignment="bottom"
    )
    with keywords_column.popover("What counts as a referral", icon=":material/tune:"):
        typed = st.text_area(
            "Lead sources containing any of these words, ignoring case",
            value="\n".join(data.settings.referral_keywords),
            key="referral_keywords",
            help="One a line, or separated by commas.",
        )
settings = replace(data.settings, referral_keywords=parse_keywords(typed))
report = coaching(con, settings)
if not report.reps:
    st.info("No rep has a deal or a budget to coach on yet.")
    st.stop()
# The coaching report has read this quarter's pacing already: the warnings reuse it.
figures = pipeline_figures(con, settings, this_quarter=report.quarter)
found = pipeline_warnings(con, settings, currency, figures)
owners = [coached.owner for coached in report.reps]
# Another export may not have the rep picked before: start again from the first.
if st.session_state.get("coach_rep") not in owners:
    st.session_state.coach_rep = owners[0]
rep = rep_column.selectbox("Rep", owners, key="coach_rep")
record = track_record_once(data, settings)
sheet = one_on_one_sheet(con, settings, rep, report, found, currency, data.source, record)
download_column.download_button(
    "Download the 1:1 sheet (HTML)",
    sheet_html(sheet),
    file_name=sheet_file_name(rep, settings.as_of),
    mime="text/html",
    icon=":material/download:",
    on_click="ignore",
)

one_on_one, two_more, scorecard, funnel_tab = st.tabs(
    ["1:1 sheet", "Every sale leads to two more", "Scorecard", "Funnel"]
)

with one_on_one:
    quarter = sheet.quarter
    team = f"{markdown_text(sheet.rep.team)} · " if sheet.rep.team else ""
    st.header(f"1:1 with {markdown_text(rep)}", anchor=False)
    st.caption(
        f"{team}{quarter.period.label}, week {quarter.week} of {quarter.weeks} · "
        f"{as_of_caption(data)}"
    )
    for column, (label, value, note) in zip(st.columns(5), pacing_cards(sheet), strict=True):
        column.metric(label, value, note, delta_color="gray", delta_arrow="off")

    # Beside the projections above, not a section of its own: how far to trust them.
    text_table(
        f"**{markdown_text(accuracy_title(sheet))}:** {markdown_text(accuracy_text(sheet))}",
        accuracy_table(sheet),
        ACCURACY_COLUMNS,
    )

    st.subheader("Questions to ask", anchor=False)
    if sheet.questions:
        st.markdown("\n".join(f"{n}. {markdown_text(q)}" for n, q in enumerate(sheet.questions, 1)))
    else:
        st.write("Nothing in the data calls for one.")

    deals = sheet.close_now or sheet.closing_next
    if sheet.close_now:
        total = money(sum(float(deal.amount or 0) for deal in deals), currency)
        st.subheader(
            f"What {markdown_text(rep)} can close today: {len(deals)} "
            f"deal{'' if len(deals) == 1 else 's'}, {markdown_text(total)}",
            anchor=False,
        )
    else:
        st.subheader(f"What {markdown_text(rep)} can close today: nothing due", anchor=False)
        if deals:
            st.caption("The nearest late-stage deals:")
    if deals:
        listed = deals[:SHEET_DEALS]
        rows = [[markdown_text(text) for text in row] for row in deal_rows(listed, currency)]
        for row, deal in zip(rows, listed, strict=True):
            if deal.days_overdue:
                row[4] = f":red[**{row[4]}**]"
        st.table(pd.DataFrame(rows, columns=DEAL_COLUMNS), hide_index=True, border="horizontal")
        if len(deals) > len(listed):
            st.caption(
                f"The first {len(listed)} of {len(deals):,}, in the order to work them: “What can "
                "we close today?” lists them all."
            )

    st.subheader(FOLLOW_THROUGH_TITLE, anchor=False)
    text_table(
        markdown_text(follow_through_text(sheet)),
        follow_through_table(sheet),
        FOLLOW_THROUGH_COLUMNS,
    )

    st.subheader("Warnings", anchor=False)
    if not sheet.warnings:
        st.write("None: the pipeline passes every check.")
    for warning in map(shown_warning, sheet.warnings):
        (st.error if warning.critical else st.warning)(warning.markdown, icon=warning.icon)

    st.subheader("Open pipeline by stage and age", anchor=False)
    if not sheet.pipeline:
        st.write("No open pipeline.")
    elif not any(row.total for row in sheet.pipeline):
        deals = sum(row.deals for row in sheet.pipeline)
        st.write(f"{deals} open deal{'' if deals == 1 else 's'}, none with an amount: not drawn.")
    else:
        st.plotly_chart(
            stage_age_chart(sheet.pipeline, AGE_LABELS, currency, pipeline_title(sheet)),
            width=PRINTABLE_WIDTH,
            theme=None,
            config={"displayModeBar": False},
        )

    st.subheader(f"The last four quarters ({report.window.label}) against the team", anchor=False)
    four_quarters = pd.DataFrame(
        [[markdown_text(text) for text in row] for row in four_quarters_rows(sheet)],
        columns=["", markdown_text(rep), "Team median"],
    )
    st.table(four_quarters, hide_index=True, border="horizontal", width="content")
    with st.container(key="screen_only_tip"):
        st.caption(
            "To print: your browser's Print (Ctrl+P or ⌘P) gives this sheet without the sidebar "
            "and the controls."
        )

with two_more:
    figures = report.team
    st.subheader("Every sale should lead to two more", anchor=False)
    words = ", ".join(f"“{markdown_text(word)}”" for word in report.keywords) or "none"
    st.caption(
        f"{report.window.label}, through {settings.as_of:%-d %b %Y}. Deals won by close date; "
        f"referral deals are those created in the period whose lead source contains {words}."
    )
    won, referrals, ratio, repeat = st.columns(4)
    won.metric("Deals won (W)", f"{figures.won_deals:,}")
    referrals.metric(
        "Referral deals created (R)",
        "–" if figures.referral_deals_created is None else f"{figures.referral_deals_created:,}",
    )
    ratio.metric(
        "Referral deals per deal won (R / W)",
        "–" if figures.referral_ratio is None else f"{figures.referral_ratio:.2f}",
        f"target {REFERRAL_TARGET:.1f}",
        delta_color="gray",
        delta_arrow="off",
    )
    repeat.metric(
        "Repeat business",
        "–" if figures.repeat_business_deals is None else f"{figures.repeat_business_deals:,}",
        f"{percent(figures.repeat_business_deals / figures.won_deals)} of deals won"
        if figures.repeat_business_deals is not None and figures.won_deals
        else None,
        delta_color="gray",
        delta_arrow="off",
        help="Won deals from accounts that had already bought: an earlier won deal, by any rep.",
    )
    for key, reason in report.skipped.items():
        st.caption(f"{key.replace('_', ' ').capitalize()}: not counted, {reason}.")
    if figures.referral_deals_created is not None:
        st.plotly_chart(
            referrals_chart(report.reps, REFERRAL_TARGET, rep), width="stretch", theme=None
        )
    referrals = referral_table(report)
    table(
        referrals,
        hide_index=True,
        height=ROW_HEIGHT * (min(len(referrals), ROWS_SHOWN) + 1) + 3,
        column_config={
            "R / W": st.column_config.ProgressColumn(
                "R / W (target 2)", format="%.2f", min_value=0, max_value=REFERRAL_TARGET
            )
        },
    )

with scorecard:
    scores = scorecard_table(report)
    found_outliers = outliers(scorecard_rows(report))
    st.subheader("Scorecard", anchor=False)
    st.caption(
        f"Attainment for {report.quarter.period.label} (booked ÷ budget); the rest over "
        f"{report.window.label}. Sort by clicking a column. Highlighted: a rep more than "
        f"{OUTLIER_IQRS:g} × the interquartile range outside the team's middle half (Tukey's "
        "rule) — orange where it is a concern, green where it is a strength."
    )
    marks = scorecard_marks(scores, found_outliers)

    def highlight(frame: pd.DataFrame) -> pd.DataFrame:
        styles = marks.replace(MARK_STYLES)
        styles.loc[0, :] = "font-weight: 600"  # the team's median
        return styles

    table(
        as_percentages(scores, ("attainment", "win_rate")).style.apply(highlight, axis=None),
        hide_index=True,
        column_config={
            "owner": "Rep",
            "team": "Team",
            "attainment": percent_column("Attainment"),
            "win_rate": percent_column("Win rate"),
            "avg_deal_size": money_column("Average deal size", currency),
            "sales_cycle_days": st.column_config.NumberColumn("Sales cycle (days)", format="%.1f"),
            "pipeline_created": money_column("Pipeline created", currency),
            "referral_ratio": st.column_config.NumberColumn(
                "Referral ratio (R / W)", format="%.2f"
            ),
        },
        height=ROW_HEIGHT * (min(len(scores), ROWS_SHOWN) + 1) + 3,
    )
    if found_outliers:
        st.markdown("\n".join(f"- {markdown_text(o.sentence(currency))}" for o in found_outliers))
    else:
        st.write("No rep stands out from the team on any measure.")
    labels = {"owner": "Rep", "team": "Team"} | {m.key: m.label for m in SCORECARD}
    st.download_button(
        "Download the scorecard (CSV)",
        safe_csv(scores.rename(columns=labels)),
        file_name=csv_file_name("scorecard", settings.as_of.isoformat()),
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
    )

with funnel_tab:
    show_funnel(data, settings, rep)
