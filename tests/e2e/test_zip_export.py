"""A Salesforce Data Export ZIP uploaded in a real browser: the Data page says what it took."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests import salesforce_export as sf
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


def test_the_uploaded_zip_shows_its_files_names_and_converted_totals(
    page: Page, server_url: str, tmp_path: Path
) -> None:
    export = write(tmp_path, "WE_00D5g000000_1.ZIP", sf.full_export())
    open_app(page, server_url)
    switch_to_uploads(page)

    upload_export(page, export)

    expect_counts(page, read=6, loaded=5, not_loaded=1)
    # 12,500 + 4,000 + 6,250 USD open, 3,000 GBP = 6,000 USD won: in the corporate currency.
    expect(metric(page, "Open")).to_have_text("3 · $22.8K")
    expect(metric(page, "Won")).to_have_text("1 · $6K")
    files = page.get_by_test_id("stTable")
    expect(files).to_contain_text("6 opportunities (1 deleted: left out)")
    expect(files).to_contain_text("names of 3 users, and their managers")
    expect(files).to_contain_text("3 conversion rates into USD")
    expect(files).to_contain_text(sf.HISTORY_SUMMARY)
    expect(page.get_by_text("Not used: 1 other file (not CSV), not opened")).to_be_visible()
    sidebar = page.get_by_test_id("stSidebar")
    expect(sidebar.get_by_test_id("stSelectbox").filter(has_text="Fiscal year")).to_contain_text(
        "February"
    )
    page.get_by_role("tab", name="History").click()
    expect(page.get_by_text("Every change OpportunityHistory.csv records")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    expect_no_traceback(page)
    page.screenshot(path=tmp_path / "zip-export.png", full_page=True)
