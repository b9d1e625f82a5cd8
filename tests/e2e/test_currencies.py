"""An export in three currencies in a real browser: what the pacing headline counts before and
after a rates file, and no table on any page showing the word None."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_upload import (
    IDLE,
    RERUN_TIMEOUT_MS,
    metric,
    open_app,
    switch_to_uploads,
    upload_export,
    write,
)
from tests.test_currencies import EXPORT

pytestmark = pytest.mark.timeout(240)
PAGES = ("Are we on pace?", "What can we close today?", "Who is about to drive off the cliff?",
         "How do we coach each rep?", "What story do we tell at the QBR?",
         "What changed since last week?", "Explore the data", "What did we load?")  # fmt: skip


def go_to(page: Page, title: str) -> None:
    page.get_by_test_id("stSidebarNav").get_by_text(title, exact=True).click()
    expect(page.get_by_role("heading", name=title).first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)


def table_cells(page: Page) -> list[str]:
    """The text of every cell the page's visible tables draw (the grid's accessible cells,
    drawn once a table is scrolled into view)."""
    texts: list[str] = []
    tables = page.get_by_test_id("stDataFrame")
    for n in range(tables.count()):
        table = tables.nth(n)
        if not table.is_visible():
            continue  # in a tab not open
        table.scroll_into_view_if_needed()
        cells = table.locator('[role="gridcell"]')
        cells.first.wait_for(state="attached", timeout=RERUN_TIMEOUT_MS)
        texts += cells.all_inner_texts()
    return texts


def test_pacing_says_what_it_leaves_out_until_rates_are_given_and_no_table_shows_none(
    page: Page, server_url: str, tmp_path
):
    open_app(page, server_url)
    switch_to_uploads(page)
    upload_export(page, write(tmp_path, "three-currencies.csv", EXPORT))
    expect(metric(page, "Deals loaded")).to_have_text("14", timeout=RERUN_TIMEOUT_MS)

    go_to(page, "Are we on pace?")
    # $1,000 on 5 October and $300 on 2 November; the euro and pound deals have no rate.
    expect(metric(page, "Booked to date")).to_have_text("$1.3K")
    expect(page.get_by_text("8 deals in EUR, GBP have no rate into USD")).to_be_visible()

    go_to(page, "What did we load?")
    page.get_by_role("tab", name="Currencies").click()
    rates = write(tmp_path, "rates.csv", "currency,rate\nUSD,1\nEUR,0.5\nGBP,0.8")
    uploader = page.get_by_test_id("stFileUploader").filter(has_text="Or a rates file")
    uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(rates)
    expect(page.get_by_text("Amounts in USD, at these rates: 1 EUR = 2 USD, 1 GBP = 1.25 USD."))\
        .to_be_visible(timeout=RERUN_TIMEOUT_MS)  # fmt: skip

    go_to(page, "Are we on pace?")
    # $1,000 + €500 × 2 + £700 × 1.25 + $300
    expect(metric(page, "Booked to date")).to_have_text("$3.2K")
    expect(page.get_by_text("have no rate into USD")).to_have_count(0)
    cells_seen = 0
    for title in PAGES:
        go_to(page, title)
        cells = table_cells(page)
        assert "None" not in cells, title
        cells_seen += len(cells)
    assert cells_seen > 20  # the check read the tables' cells, not an empty page
