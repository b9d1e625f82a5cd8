"""The Explore page in a real browser: a view built on an upload, its link opened in a fresh
page with the same export, and the deals behind a selected bar."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e.test_changes import IDLE
from tests.e2e.test_upload import RERUN_TIMEOUT_MS, switch_to_uploads, upload_export

EXPORT = Path(__file__).resolve().parents[1] / "data" / "explore_deals.csv"
# The export's as-of date is its latest date, Wed 20 May 2026: deal 10 (Ana's Widget, 999) is
# won by then. Won Widgets: 100 + 400 + 999; Gadget 300; Gizmo 50.
TITLE = "Won amount by product"

pytestmark = pytest.mark.timeout(180)


def idle(page: Page) -> None:
    expect(page.locator(IDLE)).to_be_visible(timeout=RERUN_TIMEOUT_MS)


def open_explore(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.get_by_role("heading", name="Explore the data")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    idle(page)


def load_the_export(page: Page) -> None:
    switch_to_uploads(page)
    upload_export(page, EXPORT)
    expect(page.get_by_text(f"As of Wed 20 May 2026 · {EXPORT.name}")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    idle(page)


def choose(page: Page, label: str, option: str) -> None:
    page.get_by_test_id("stSelectbox").filter(has_text=label).first.click()
    page.get_by_role("option", name=option, exact=True).click()
    idle(page)


def test_a_views_link_shows_the_same_view_and_a_bar_shows_its_deals(
    browser: Browser, server_url: str
):
    builder = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    # A fresh server answers the first request for any page but the front one with a "Page not
    # found" dialog (Streamlit does not know the pages before the first run): open that first.
    builder.goto(server_url)
    idle(builder)
    open_explore(builder, f"{server_url}/explore-the-data")
    load_the_export(builder)
    choose(builder, "By", "Product")
    choose(builder, "Deals", "Bookings (won)")
    expect(builder.get_by_text(TITLE, exact=True)).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    link = builder.url
    assert "by=Product" in link and "deals=won" in link
    builder.context.close()

    reader = browser.new_context(viewport={"width": 1440, "height": 1000}).new_page()
    open_explore(reader, link)
    # The sample data is loaded first: it has no Product column, and the page says so.
    expect(reader.get_by_text('There is no dimension "Product"', exact=False)).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    assert "by=Product" in reader.url
    load_the_export(reader)
    expect(reader.get_by_text(TITLE, exact=True)).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    expect(reader.get_by_role("combobox", name="By", exact=True)).to_have_value("Product")
    expect(reader.get_by_role("combobox", name="Deals", exact=True)).to_have_value("Bookings (won)")
    assert "by=Product" in reader.url

    # The largest bar, Widget, is drawn first: select it and read the deals behind it.
    # Plotly's drag layer lies over the bars and takes the click, as it does a user's.
    bar = reader.locator(".js-plotly-plot .bars .point path").first.bounding_box()
    reader.mouse.click(bar["x"] + bar["width"] / 2, bar["y"] + bar["height"] / 2)
    idle(reader)
    expect(reader.get_by_text("The deals behind Widget (3)")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    deals = reader.get_by_test_id("stDataFrame").nth(1)
    for deal in ("10", "4", "1"):
        expect(deals).to_contain_text(deal)
    expect(reader.get_by_test_id("stException")).to_have_count(0)
    reader.context.close()
