"""The Data page's questions about stages whose signals disagree, answered as stage edits, and
the line every other page shows while one waits."""

from __future__ import annotations

import duckdb
import streamlit as st
from streamlit.navigation.page import StreamlitPage

from lib.format import markdown_text, money
from lib.load.opportunities import LoadReport
from lib.load.stage_questions import StageQuestion
from lib.load.stages import with_edit
from lib.overview import stage_amounts
from ui.choices import headers_key, remembered
from ui.session import current

DATA_PAGE = "what-did-we-load"


def ask(report: LoadReport, con: duckdb.DuckDBPyConnection, currency: str | None) -> None:
    """Each question with its two answers as buttons. An answer is a stage edit: remembered
    for exports with the same headers, kept by the workspace, downloaded with the mapping."""
    if not report.questions:
        return
    amounts = stage_amounts(con, [question.stage for question in report.questions])
    for question in report.questions:
        amount = money(amounts.get(question.stage, 0.0), currency)
        with st.container(border=True):
            st.markdown(f":material/help: {markdown_text(_asked(question, amount))}")
            count, keep = st.columns(2)
            for column, label, status in (
                (count, f"Count them as {question.proposed}", question.proposed),
                (keep, f"Keep them {question.counted}", question.counted),
            ):
                column.button(
                    label,
                    key=f"answer_{question.stage}_{status}",
                    on_click=_answer,
                    args=(report, question.stage, status),
                    width="stretch",
                )


def _asked(question: StageQuestion, amount: str) -> str:
    deals = f"{question.deals:,} deal" + ("" if question.deals == 1 else "s")
    return (
        f"'{question.stage}': {deals}, {amount}, {question.disagreement}: count them as "
        f"{question.proposed}, or keep them {question.counted}?"
    )


def _answer(report: LoadReport, stage: str, status: str) -> None:
    rule = next(rule for rule in report.stage_rules if rule.stage == stage)
    stage_edits = remembered("stage_edits")
    key = headers_key(report.headers)
    stage_edits[key] = with_edit(stage_edits.get(key, {}), rule, {"status": status})


def waiting_notice(page: StreamlitPage) -> None:
    """Above any page but the Data page: a line saying questions wait there."""
    data = current()
    if data is None or page.url_path == DATA_PAGE or not data.export.report.questions:
        return
    count = len(data.export.report.questions)
    waiting = "A question about a stage waits" if count == 1 else f"{count} questions wait"
    st.info(f"{waiting} on the Data page (What did we load?).", icon=":material/help:")
