"""What story do we tell at the QBR? One quarter in a few screens, for a room and for the mail."""

from dataclasses import replace

import pandas as pd
import streamlit as st

from lib import store
from lib.charts import IMAGE_EXPORT_CONFIG, presented
from lib.coaching import REFERRAL_TARGET
from lib.format import as_percentages, markdown_text, money
from lib.pacing import periods_to_choose
from lib.pipeline_warnings import shown_warning
from lib.qbr import headline_cards, qbr, story
from lib.qbr_files import (
    MONEY,
    MULTIPLES,
    SECTION_TITLES,
    SHARES,
    SIGNED_SHARES,
    csv_zip,
    figures,
    file_stem,
    qbr_html,
    screen_height,
    tables,
)
from ui.session import as_of_caption, loaded_or_stop
from ui.sidebar import typed_team_budget
from ui.tables import long_table, money_column, percent_column

# Presentation mode: the sidebar, Streamlit's chrome and the page's controls hidden; black on
# white, large type, and each section at least a screen high. Our own constant CSS: no data.
PRESENTATION_CSS = """
<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"],
.st-key-qbr_controls { display: none !important; }
.stApp, [data-testid="stAppViewContainer"], [data-testid="stMain"] {
  background: #ffffff !important; color: #000000 !important; }
[data-testid="stMainBlockContainer"] { max-width: 100% !important; padding: 2rem 4rem !important; }
[class*="st-key-qbr_section"] { min-height: 100vh; }
.stApp h1 { font-size: 56px !important; color: #000000 !important; }
.stApp h2 { font-size: 44px !important; color: #000000 !important; }
.stApp p, .stApp li { font-size: 28px !important; color: #000000 !important; }
.stApp [data-testid="stMetricLabel"] p { font-size: 30px !important; }
.stApp [data-testid="stMetricValue"], .stApp [data-testid="stMetricValue"] p {
  font-size: clamp(48px, 4.5vw, 88px) !important; font-weight: 700 !important;
  color: #000000 !important; line-height: 1.15 !important; }
.stApp [data-testid="stMetricDelta"] { background: none !important; padding: 0 !important; }
.stApp [data-testid="stMetricDelta"] p { font-size: 24px !important; color: #333333 !important; }
</style>
"""

# The headline, presented or not: Streamlit cuts a metric off with "…" when its column is
# narrow ("62 d…"). Here a figure is never cut or wrapped (lib.qbr.unbroken keeps its unit on
# its line): a column is at least as wide as its figure, and one that does not fit moves to the
# next row whole. The note under a figure wraps instead of being cut off.
HEADLINE_CSS = """
<style>
.st-key-qbr_section_headline [data-testid="stColumn"] { min-width: min-content !important; }
.st-key-qbr_section_headline [data-testid="stMetricValue"] [data-testid="stMarkdownContainer"] {
  overflow: visible !important; text-overflow: clip !important; white-space: nowrap !important; }
.st-key-qbr_section_headline div:has(> [data-testid="stMetricDelta"]),
.st-key-qbr_section_headline [data-testid="stMetricDelta"] * {
  overflow: visible !important; white-space: normal !important; }
</style>
"""


def follow_toggle() -> None:
    """The URL says whether the page is presented, so that `?present=1` can be bookmarked."""
    if st.session_state.qbr_present:
        st.query_params["present"] = "1"
    else:
        st.query_params.pop("present", None)


def leave_presentation() -> None:
    st.session_state.qbr_present = False
    follow_toggle()


def show_table(frame: pd.DataFrame, currency: str | None, what: str = "rows") -> None:
    """A QBR table with money as money and shares as percentages; a long one shows its first
    rows (the CSV files hold them all)."""
    shown = as_percentages(frame, (*SHARES, *SIGNED_SHARES))
    config: dict[str, object] = {}
    for column in shown.columns:
        if column in MONEY:
            config[column] = money_column(column, currency)
        elif column in (*SHARES, *SIGNED_SHARES):
            config[column] = percent_column(column, signed=column in SIGNED_SHARES)
        elif column in MULTIPLES:
            config[column] = st.column_config.NumberColumn(column, format="%.2f×")
    long_table(
        shown,
        what,
        "the CSV files hold every one",
        hide_index=True,
        column_config=config,
    )


if st.query_params.get("present") == "1":
    st.session_state.qbr_present = True
present = st.session_state.get("qbr_present", False)
st.html(HEADLINE_CSS)
if present:
    st.html(PRESENTATION_CSS)

controls = st.container(key="qbr_controls")
controls.title("What story do we tell at the QBR?")
data = loaded_or_stop()
con = data.connection()
currency = data.currency
quarters = periods_to_choose(con, data.settings, "quarter")
asked = st.query_params.get("quarter")
chosen = st.session_state.get("qbr_quarter")
if chosen is None and asked in [q.label for q in quarters]:
    st.session_state.qbr_quarter = next(q for q in quarters if q.label == asked)
elif chosen is not None and chosen not in quarters:
    # Another fiscal year start or as-of date: the quarter picked before may not be one now.
    del st.session_state.qbr_quarter

with controls:
    st.caption(as_of_caption(data))
    quarter_column, budget_column, present_column = st.columns(
        [1.4, 2, 1.4], vertical_alignment="bottom"
    )
    quarter = quarter_column.selectbox(
        "Quarter", quarters, format_func=lambda q: q.label, key="qbr_quarter"
    )
    st.query_params["quarter"] = quarter.label
    settings = data.settings
    if data.targets is None:
        typed = typed_team_budget(quarter.label, currency, budget_column, key="qbr_budget")
        settings = replace(settings, team_budget=typed)
    present_column.toggle(
        "Presentation mode",
        key="qbr_present",
        on_change=follow_toggle,
        help="Full screen for a room: no sidebar or controls, large type. The address with "
        "?present=1 opens the page this way.",
    )

try:
    last_open_stages = data.store.last_open_stages(data.settings.as_of) if data.store else {}
except store.StoreError:
    # The changes page says what is wrong with the store; the QBR goes without it.
    last_open_stages = {}
result = qbr(con, settings, quarter, currency, last_open_stages)
charts = figures(result, currency)
found = tables(result)


def chart(key: str) -> None:
    figure = charts[key]
    if present:
        figure = presented(figure, screen_height(figure))
    st.plotly_chart(figure, width="stretch", theme=None, config=IMAGE_EXPORT_CONFIG)


def section(key: str):
    """A section of the story: a screen of its own when presented."""
    container = st.container(key=f"qbr_section_{key}")
    container.header(SECTION_TITLES[key], anchor=key)
    return container


with st.container(key="qbr_section_headline"):
    st.header(markdown_text(story(result, currency)), anchor="headline")
    if present:
        st.caption(as_of_caption(data))
    for column, (label, value, note) in zip(
        st.columns(5), headline_cards(result, currency), strict=True
    ):
        column.metric(label, value, note, delta_color="gray", delta_arrow="off")
    if result.headline.budget is None:
        st.warning(
            f"No budget for {quarter.label}: load a quota file (owner, period, amount) or type "
            "the team's budget above.",
            icon=":material/target:",
        )

with section("pacing"):
    chart("pacing")

with section("attainment"):
    if "attainment" in charts:
        chart("attainment")
    else:
        st.info(f"No rep has a budget for {quarter.label}.")
    if not present:
        show_table(found["attainment-by-rep"], currency)

with section("top_wins"):
    if "top_wins" in charts:
        chart("top_wins")
        if not present:
            show_table(found["top-wins"], currency)
    else:
        st.info(f"No deal won in {quarter.label}.")

with section("losses"):
    losses = result.losses
    if losses.count:
        st.markdown(
            f"**{losses.count} deal{'' if losses.count == 1 else 's'} lost, "
            f"{markdown_text(money(losses.amount, currency))}.**"
        )
        chart("largest_losses")
        if "losses_by_stage" in charts:
            chart("losses_by_stage")
        # What the export lacks is for whoever prepares the QBR, not for the room.
        if losses.stage_note and not present:
            st.caption(markdown_text(losses.stage_note))
        if "losses_by_reason" in charts:
            chart("losses_by_reason")
        elif not losses.reason_exported and not present:
            st.caption(
                "The export has no loss reason column (Salesforce Loss Reason, HubSpot Closed "
                "lost reason, Pipedrive Lost reason): add it to see why deals were lost."
            )
        if not present:
            show_table(found["losses"], currency, "lost deals, the largest first")
    else:
        st.info(f"No deal lost in {quarter.label}.")

with section("coverage"):
    coverage = result.coverage
    if coverage is None:
        st.info(markdown_text(result.coverage_note or ""))
    else:
        ratio = "–" if coverage.ratio is None else f"{coverage.ratio:.1f}×"
        st.markdown(
            f"**{markdown_text(coverage.quarter.label)}: {markdown_text(ratio)}** — "
            f"{markdown_text(money(coverage.pipeline, currency))} of open pipeline for "
            f"{markdown_text(money(coverage.to_close, currency))} of budget still to close "
            f"(target {coverage.target:.1f}×), as of {coverage.as_of:%-d %b %Y}."
        )
        if "coverage" in charts:
            chart("coverage")

with section("concentration"):
    st.caption(f"The open pipeline as of {result.export_as_of:%-d %b %Y}.")
    if result.concentration_not_checked:
        st.info(f"Not checked: {result.concentration_not_checked}.", icon=":material/help:")
    elif not result.concentration:
        st.success("No deal or rep carries too much of the open pipeline.")
    for warning in map(shown_warning, result.concentration):
        (st.error if warning.critical else st.warning)(warning.markdown, icon=warning.icon)
    if "concentration" in charts:
        chart("concentration")

with section("referrals"):
    team = result.referrals
    if team.referral_deals_created is None:
        st.info("The export has no lead source or created date to count referrals by.")
    else:
        ratio = "–" if team.referral_ratio is None else f"{team.referral_ratio:.2f}"
        st.markdown(
            f"**{team.referral_deals_created} referral deals created for {team.won_deals} deals "
            f"won: {markdown_text(ratio)} per win** (target {REFERRAL_TARGET:g})."
        )
        if not present:
            show_table(found["referrals-by-rep"], currency)

if present:
    st.button("Leave presentation mode", on_click=leave_presentation, type="tertiary")
else:
    html_column, zip_column = st.columns(2)
    html_column.download_button(
        "Download the QBR (HTML)",
        data=lambda: qbr_html(result, currency, data.source),
        file_name=f"{file_stem(result)}.html",
        mime="text/html",
        on_click="ignore",
        icon=":material/slideshow:",
        help="One file that opens offline, charts and all: send it after the meeting.",
    )
    zip_column.download_button(
        "Download every table (ZIP of CSVs)",
        data=lambda: csv_zip(result),
        file_name=f"{file_stem(result)}.zip",
        mime="application/zip",
        on_click="ignore",
        icon=":material/folder_zip:",
    )
