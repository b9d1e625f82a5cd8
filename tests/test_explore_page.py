"""The Explore page on the sample data: the default view, a link's view, and the SQL box."""

import hashlib
import json
import re
from datetime import date

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.test_pacing_page import APP, sample_won

# Every deal of the sample won by its as-of date, Fri 20 Nov 2026.
WON_TO_DATE = sample_won(date(2000, 1, 1), date(2026, 11, 20))


def explore_page(**query) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for name, value in query.items():
        at.query_params[name] = value
    at.switch_page("pages/explore.py").run()
    assert not at.exception, at.exception
    return at


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def test_the_page_opens_on_won_amount_by_owner_with_its_total():
    at = explore_page()
    assert at.title[0].value == "Explore the data"
    table = at.dataframe[0].value
    assert list(table.columns) == ["Owner", "Amount", "Deals"]
    assert table.iloc[-1]["Owner"] == "Total"
    assert round(table.iloc[-1]["Amount"], 2) == round(WON_TO_DATE, 2)
    # The sample's 20 reps all by name (the top 20 is the default): no "All others".
    assert len(table) == 20 + 1 and "All others" not in set(table["Owner"])
    assert dict(at.query_params) == {"deals": "won", "measure": "amount", "by": "owner"}


def test_a_links_view_is_shown_and_an_extra_column_is_a_dimension():
    at = explore_page(deals="all", measure="count", by="Fiscal Period", split="type")
    assert at.selectbox(key="explore_by").value == "Fiscal Period"
    assert at.selectbox(key="explore_split").value == "type"
    assert explore_page().selectbox(key="explore_split").value == ""
    table = at.dataframe[0].value
    assert list(table.columns)[0] == "Fiscal Period"
    assert list(table.columns)[-1] == "Total"
    with open("sample_data/opportunities.csv", encoding="utf-8") as sample:
        deals = sum(1 for line in sample.read().split("\n\n")[0].splitlines()[1:])
    assert table.iloc[-1]["Total"] == deals


def test_a_column_the_last_export_had_goes_back_to_the_default():
    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["explore_by"] = "Product"
    at.session_state["explore_split"] = "Region"
    at.session_state["explore_filtered"] = ["Product", "owner"]
    at.run()
    at.switch_page("pages/explore.py").run()
    assert not at.exception, at.exception
    assert at.selectbox(key="explore_by").value == "owner"
    assert at.selectbox(key="explore_split").value == ""
    assert at.multiselect(key="explore_filtered").value == ["owner"]


def test_changing_the_view_rewrites_the_url():
    at = explore_page()
    at.selectbox(key="explore_measure").set_value("win_rate").run()
    at.selectbox(key="explore_deals").set_value("all").run()
    assert at.query_params["measure"] == "win_rate"
    assert at.query_params["deals"] == "all"


def test_a_link_to_a_column_the_sample_lacks_waits_for_its_export():
    at = explore_page(by="Product")
    assert 'no dimension "Product"' in unescaped(at.info[0].value)
    # The link stays in the URL, for when its export is loaded.
    assert at.query_params["by"] == "Product"


STATUS_COUNTS = "SELECT status, count(*) AS deals FROM opportunities GROUP BY ALL ORDER BY status"


def run_sql(at: AppTest, sql: str) -> AppTest:
    at.text_area(key="explore_sql").input(sql)
    return at.button[0].click().run()


def test_the_sql_box_shows_a_result_and_refuses_a_write():
    at = run_sql(explore_page(), STATUS_COUNTS)
    result = at.dataframe[-1].value
    assert list(result["status"]) == ["lost", "open", "won"]
    assert "3 rows" in [caption.value for caption in at.main.caption]
    run_sql(at, "DELETE FROM opportunities")
    assert unescaped(at.error[0].value).startswith("Only SELECT queries run here (this is DELETE)")


def test_a_selected_cell_lists_the_deals_behind_it():
    query = {"deals": "won", "measure": "amount", "by": "owner", "split": "close_quarter"}
    at = explore_page(**query)
    top_rep = at.dataframe[0].value.iloc[0]["Owner"]
    table_key = (
        "explore_table_"
        + hashlib.sha256(json.dumps(query, sort_keys=True).encode()).hexdigest()[:12]
    )
    at.session_state[table_key] = {"selection": {"rows": [], "columns": [],
                                                 "cells": [(0, "Q3 FY2026")]}}  # fmt: skip
    at.run()
    assert not at.exception, at.exception
    heading = unescaped(at.subheader[-1].value)
    assert heading.startswith(f"The deals behind {top_rep} · Q3 FY2026 (")
    behind = at.dataframe[1].value
    assert len(behind) > 0
    assert heading == f"The deals behind {top_rep} · Q3 FY2026 ({len(behind)})"
    assert set(behind["owner"]) == {top_rep} and set(behind["status"]) == {"won"}
    closed = pd.to_datetime(behind["close_date"])
    assert closed.min() >= pd.Timestamp(2026, 7, 1) and closed.max() <= pd.Timestamp(2026, 9, 30)


def test_the_sql_box_runs_a_pivot_and_refuses_one_followed_by_a_drop():
    counts = run_sql(explore_page(), STATUS_COUNTS).dataframe[-1].value
    by_status = dict(zip(counts["status"], counts["deals"], strict=True))
    # Its columns come from the data: DuckDB runs it in two steps, and the box takes it.
    at = run_sql(
        explore_page(), "PIVOT (SELECT status FROM opportunities) ON status USING count(*)"
    )
    assert not at.error
    assert at.dataframe[-1].value.iloc[0].to_dict() == by_status
    run_sql(at, "PIVOT opportunities ON status USING count(*); DROP VIEW opportunities")
    assert unescaped(at.error[0].value).startswith("The box runs one statement at a time")
