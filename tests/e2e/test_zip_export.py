"""A Salesforce Data Export ZIP uploaded in a real browser: the Data page says what it took."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import salesforce_export as sf

# A fresh server answers its first link to a page with a dialog: open the front page first.
from tests.e2e.test_upload import (
    RERUN_TIMEOUT_MS,
    expect_counts,
    expect_no_traceback,
    metric,
    open_app,
    switch_to_uploads,
    upload_export,
    write,
)

pytestmark = pytest.mark.timeout(120)
# Where the grid draws its first row's tick box: past the 35 px header, half a 35 px row down.
GRID_MARKER_X, GRID_FIRST_ROW_Y = 18, 52


def test_the_uploaded_zip_shows_its_files_names_and_converted_totals(
    page: Page, server_url: str, tmp_path: Path
) -> None:
    export = write(tmp_path, "WE_00D5g000000_1.ZIP", sf.full_export())
    open_app(page, server_url)
    switch_to_uploads(page)

    upload_export(page, export)

    expect_counts(page, read=6, loaded=5, not_loaded=1)
    # 12,500 + 4,000 + 6,250 USD open, 3,000 GBP = 6,000 USD won: in the corporate currency.
    expect(metric(page, "Open")).to_have_text("$22.8K")
    expect(metric(page, "Open", "stMetricDelta")).to_have_text("3 deals")
    expect(metric(page, "Won")).to_have_text("$6K")
    expect(metric(page, "Won", "stMetricDelta")).to_have_text("1 deal")
    files = page.get_by_test_id("stTable")
    expect(files).to_contain_text("6 opportunities (1 deleted: left out)")
    expect(files).to_contain_text("names of 3 users, and their managers")
    expect(files).to_contain_text("3 conversion rates into USD")
    expect(files).to_contain_text(sf.HISTORY_SUMMARY)
    # The files not used are counted; their names are folded away until asked for.
    expect(page.get_by_text("1 file not used")).to_be_visible()
    expect(page.get_by_text("1 other file (not CSV), not opened")).not_to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_role("combobox", name="Fiscal year starts in")).to_have_value("February")
    page.get_by_role("tab", name="History").click()
    expect(page.get_by_text("The deals OpportunityHistory.csv records changes of")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    # Tick the first deal (the most pushed) in the grid's row-marker column: its changes show.
    deals = page.get_by_test_id("stDataFrame").filter(visible=True).last
    deals.scroll_into_view_if_needed()
    box = deals.bounding_box()
    page.mouse.click(box["x"] + GRID_MARKER_X, box["y"] + GRID_FIRST_ROW_Y)
    expect(page.get_by_text("Acme ampliación · Ana García")).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    expect_no_traceback(page)
    page.screenshot(path=tmp_path / "zip-export.png", full_page=True)
