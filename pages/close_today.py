"""What can we close today? Each rep's late-stage deals due now; a rep's own list for the 1:1;
apart, the stale deals overdue too long to count, to close or move in the CRM."""

from collections.abc import Callable, Iterable
from dataclasses import replace
from itertools import islice

import streamlit as st

from lib.charts import BEHIND, close_today_chart
from lib.close_today import (
    OVERDUE,
    DealToClose,
    close_today,
    deals_table,
    due_by,
    earliest_close_date,
    every_deal,
    headline,
    late_stage_rule,
    nearest,
    reps_table,
    stale,
    window_in_words,
)
from lib.downloads import csv_file_name, safe_csv
from lib.format import markdown_text, money, percent
from lib.overview import owners
from ui.session import as_of_caption, current
from ui.tables import money_columns, table

WHOLE_TEAM = "Whole team"
# What the window choices mean in days; the last asks for the number.
WINDOWS = {"Due today or overdue": 0, "Within 7 days": 7, "Within N days": None}
FORECAST_CATEGORIES = ("Commit", "Best Case", "Pipeline")
CARDS_PER_ROW = 4
# A large sales floor has hundreds of reps and tens of thousands of deals due: the chart, the
# cards and the table show the first of them and say so; the rep picker has every rep and each
# CSV every deal.
CHART_REPS = 25
CARD_REPS = 12
SHOWN_DEALS = 1_000
# On screen, what to act on comes first, within the width of the page; the CSV has every
# column, the opportunity ID too, to find the deal in the CRM.
SCREEN_COLUMNS = ("Rep", "Deal", "Amount", "Close date", "Days overdue", "Next step", "Flags",
                  "Days since activity", "Stage", "Days in stage", "Probability", "Weighted",
                  "Forecast category", "Account")  # fmt: skip
PUSHES_NOTE = (
    "Close-date pushes (“pushed ≥ 2 times”) are flagged once close-date history exists: save "
    "each week's export as a snapshot on “What changed since last week?”."
)

heading = st.container()
data = current()
if data is None:
    heading.title("What can we close today?")
    st.info("Load an opportunities export in the sidebar, or switch to the sample data.")
    st.stop()

con = data.connection()
report = data.export.report
currency = data.currency
reps = [WHOLE_TEAM, *owners(con)["owner"]]
if st.session_state.get("close_rep") not in reps:
    st.session_state.close_rep = WHOLE_TEAM


def pick(rep: str) -> None:
    st.session_state.close_rep = rep


rep_column, window_column, days_column = st.columns([2, 3, 1], vertical_alignment="bottom")
rep = rep_column.selectbox("Rep", reps, key="close_rep")
window = window_column.radio("Close dates", list(WINDOWS), horizontal=True, key="close_window")
window_days = WINDOWS[window]
if window_days is None:
    window_days = days_column.number_input(
        "Days ahead", min_value=1, max_value=365, value=14, key="close_days"
    )
late_stages = [rule.stage for rule in report.stage_rules if rule.late and rule.status == "open"]
with st.expander("What counts as late stage"):
    threshold, categories = st.columns(2)
    min_probability = threshold.slider(
        "Probability at least", 0, 100, round(data.settings.late_min_probability * 100), step=5,
        format="%d %%", key="close_min_probability",
    )  # fmt: skip
    chosen_categories = categories.multiselect(
        "Forecast categories", FORECAST_CATEGORIES,
        default=list(data.settings.late_forecast_categories), key="close_categories",
    )  # fmt: skip
    st.caption(
        "Stages marked late on the Data page (What did we load? › Stages) count too"
        + (f": {markdown_text(', '.join(late_stages))}." if late_stages else "; none is marked.")
    )
settings = replace(
    data.settings,
    close_window_days=int(window_days),
    late_min_probability=min_probability / 100,
    late_forecast_categories=tuple(chosen_categories),
)
when = window_in_words(settings.close_window_days)
lists = close_today(con, settings)
stale_lists = stale(con, settings, None if rep == WHOLE_TEAM else rep)
rule = markdown_text(late_stage_rule(settings, late_stages))
who = "we" if rep == WHOLE_TEAM else markdown_text(rep)
heading.title(f"What can {who} close {when}?")
heading.caption(f"{as_of_caption(data)} · late stage: {rule}")


def show_table(
    deals: Callable[[], Iterable[DealToClose]], count: int, with_owner: bool, download_as: str
) -> None:
    """The deals (`deals()` gives them in order, `count` says how many) as a table, overdue close
    dates in red, with its CSV download. Only the rows shown are built on each run; the CSV of
    every deal is written when its button is clicked."""
    shown = deals_table(islice(deals(), SHOWN_DEALS), with_owner)
    if data.stage_entries is None:
        # Nothing dates a stage: an empty column would read as unknown for every deal.
        shown = shown.drop(columns="Days in stage")
    overdue = shown["Days overdue"] > 0
    red = f"color: {BEHIND}; font-weight: 600"
    styled = shown.style.apply(
        lambda column: [red if late else "" for late in overdue],
        subset=["Close date", "Days overdue"],
    )
    table(
        styled,
        hide_index=True,
        column_order=[column for column in SCREEN_COLUMNS if column in shown.columns],
        column_config={
            **money_columns(["Amount", "Weighted"], currency),
            "Probability": st.column_config.NumberColumn(format="percent"),
            "Close date": st.column_config.DateColumn(format="D MMM YYYY"),
            "Days overdue": st.column_config.NumberColumn(format="%d"),
            "Days since activity": st.column_config.NumberColumn(format="%d"),
            "Days in stage": st.column_config.NumberColumn(
                format="%d", help="Since the deal entered its current stage (stage history)"
            ),
            "Flags": st.column_config.TextColumn(width="large"),
        },
    )
    if count > len(shown):
        st.caption(
            f"The first {len(shown):,} of {count:,} deals, in the order above; the CSV holds "
            "every one."
        )
    st.download_button(
        "Download this list (CSV)",
        lambda: safe_csv(deals_table(deals(), with_owner)),
        file_name=csv_file_name(download_as, settings.as_of.isoformat()),
        mime="text/csv",
        icon=":material/download:",
        on_click="ignore",
        key=f"download_{download_as}",
    )


def show_nearest(deals: list[DealToClose], with_owner: bool, download_as: str) -> None:
    if not deals:
        st.write("No open late-stage deal is due later either.")
        return
    st.subheader("The nearest late-stage deals", anchor=False)
    show_table(lambda: deals, len(deals), with_owner, download_as)


def show_stale() -> None:
    """The rep's (or every rep's) stale deals, apart from what can close, rep by rep."""
    if not stale_lists:
        return
    st.subheader("Stale: close it or move it", anchor=False)
    count = sum(rep_list.count for rep_list in stale_lists)
    deals = "1 deal" if count == 1 else f"{count:,} deals"
    st.caption(
        f"{deals} whose close date passed more than {settings.stale_after_days} days ago "
        f"(before {earliest_close_date(settings):%-d %b %Y}): a CRM "
        "clean-up, not a close, so not in the figures above. Mark each won or lost, or give it "
        "a new close date. The days are set in the sidebar's Settings."
    )
    with_owner = rep == WHOLE_TEAM
    show_table(
        lambda: every_deal(stale_lists), count, with_owner,
        "stale-team" if with_owner else f"stale-{rep}",
    )  # fmt: skip


def close_date_line(deal: DealToClose) -> str:
    """ "Due today", "Due Mon 23 Nov", or in red how long ago the close date passed."""
    if deal.days_overdue:
        days = "1 day" if deal.days_overdue == 1 else f"{deal.days_overdue} days"
        return f":red[**Overdue {days}** (close date {deal.close_date:%-d %b %Y}): {OVERDUE}]"
    if deal.close_date == settings.as_of:
        return "**Due today**"
    return f"Due {deal.close_date:%a %-d %b}"


def activity_line(deal: DealToClose) -> str:
    step = (
        f"Next step: **{markdown_text(deal.next_step)}**"
        if (deal.next_step or "").strip()
        else ":orange[**No next step**]"
    )
    if deal.days_since_activity is None:
        return step
    days = deal.days_since_activity
    activity = "today" if days == 0 else f"{days} day{'' if days == 1 else 's'} ago"
    stale = days >= settings.no_activity_days
    return f"{step} · " + (
        f":orange[**Last activity {activity}**]" if stale else f"Last activity {activity}"
    )


def deal_card(deal: DealToClose) -> None:
    """A deal in type large enough to read on a shared screen."""
    with st.container(border=True):
        st.subheader(markdown_text(deal.name or deal.opportunity_id), anchor=False)
        # CRMs often name a deal after its account: say the account only when the name does not.
        named_after_account = deal.account and (deal.name or "").startswith(deal.account)
        account = (
            f"{markdown_text(deal.account)} · " if deal.account and not named_after_account else ""
        )
        st.markdown(
            f"##### {markdown_text(money(deal.amount, currency))} · {account}"
            f"{markdown_text(deal.stage)} · {percent(deal.probability)} · "
            f"{deal.forecast_category}",
            anchors=False,
        )
        st.markdown(f"##### {close_date_line(deal)}", anchors=False)
        st.markdown(f"##### {activity_line(deal)}", anchors=False)


if rep == WHOLE_TEAM:
    if not lists:
        st.info(
            f"Nothing to close {when}: no open late-stage deal has a close date from "
            f"{earliest_close_date(settings):%a %d %b %Y} to "
            f"{due_by(settings):%a %d %b %Y}.",
            icon=":material/event_available:",
        )
        show_nearest(nearest(con, settings), True, "closing-next-team")
    else:
        st.plotly_chart(
            close_today_chart(
                reps_table(lists[:CHART_REPS]),
                currency,
                headline(lists, settings.close_window_days, currency, stale_lists),
            ),
            width="stretch",
            theme=None,
            config={"displayModeBar": False},
        )
        if len(lists) > CHART_REPS:
            st.caption(f"The {CHART_REPS} reps with the most to close, of {len(lists):,}.")
        cards = lists[:CARD_REPS]
        for start in range(0, len(cards), CARDS_PER_ROW):
            for column, rep_list in zip(
                st.columns(CARDS_PER_ROW), cards[start : start + CARDS_PER_ROW], strict=False
            ):
                overdue = sum(1 for deal in rep_list.deals if deal.days_overdue)
                with column.container(border=True):
                    st.markdown(f"#### {markdown_text(rep_list.owner)}", anchors=False)
                    st.metric("Can close", money(rep_list.known_total, currency))
                    unpriced = (
                        f" · {rep_list.without_amount} without an amount"
                        if rep_list.without_amount
                        else ""
                    )
                    st.caption(
                        f"{rep_list.count} deal{'' if rep_list.count == 1 else 's'}{unpriced} · "
                        f"weighted {markdown_text(money(rep_list.known_weighted, currency))}  \n"
                        + (f":red[**{overdue} overdue**]" if overdue else "none overdue")
                    )
                    st.button(
                        "Open list", key=f"open_{rep_list.owner}", on_click=pick,
                        args=(rep_list.owner,), icon=":material/arrow_forward:",
                    )  # fmt: skip
        if len(lists) > len(cards):
            st.caption(
                f"{len(lists) - len(cards):,} more reps have deals to close: pick one under Rep."
            )
        st.subheader("Every deal", anchor=False)
        show_table(
            lambda: every_deal(lists), sum(rep_list.count for rep_list in lists), True, "close-team"
        )
else:
    mine = next((rep_list for rep_list in lists if rep_list.owner == rep), None)
    if mine is None:
        st.info(f"{markdown_text(rep)} has nothing to close {when}.", icon=":material/event:")
        show_nearest(nearest(con, settings, rep), False, f"closing-next-{rep}")
    else:
        count, total, weighted, overdue = st.columns(4)
        count.metric("Deals", mine.count)
        total.metric(
            "Amount",
            money(mine.known_total, currency),
            f"{mine.without_amount} without an amount" if mine.without_amount else None,
            delta_color="gray",
            delta_arrow="off",
        )
        weighted.metric("Weighted", money(mine.known_weighted, currency))
        overdue.metric("Overdue", sum(1 for deal in mine.deals if deal.days_overdue))
        for deal in mine.deals:
            deal_card(deal)
        show_table(lambda: mine.deals, mine.count, False, f"close-{rep}")
show_stale()

files = data.export.export_files
st.caption(
    "Close-date pushes are counted from OpportunityHistory.csv; pick a deal on the Data page's "
    "History tab to see its history."
    if files is not None and files.history_file is not None
    else PUSHES_NOTE
)
