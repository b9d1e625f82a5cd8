"""The warnings page in a real browser: the grid drawn and clicked, the giant deal first, the
pictures drawn, filters work."""

from __future__ import annotations

import pytest
from playwright.sync_api import Page, expect

from sample_data.generate import GIANT_DEAL_REP, STALLED_REP, WHALE_ACCOUNT

pytestmark = pytest.mark.timeout(120)
RERUN_TIMEOUT_MS = 30_000


def open_warnings(page: Page, server_url: str) -> None:
    page.goto(f"{server_url}/who-is-about-to-drive-off-the-cliff")
    expect(page.get_by_role("heading", name="Who is about to drive off the cliff?")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )


def test_the_giant_deal_is_the_first_warning_and_its_block_is_drawn(page: Page, server_url: str):
    open_warnings(page, server_url)
    first = page.get_by_test_id("stAlert").first
    expect(first).to_contain_text("One big deal", timeout=RERUN_TIMEOUT_MS)
    expect(first).to_contain_text(GIANT_DEAL_REP)
    expect(first).to_contain_text(f"$1.8M, {WHALE_ACCOUNT}")
    expect(page.get_by_text("with one deal making up most of the pipeline")).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_picking_a_rep_shows_only_their_warnings(page: Page, server_url: str):
    open_warnings(page, server_url)
    rep = page.get_by_test_id("stSelectbox").filter(has_text="Rep")
    expect(rep).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    rep.click()
    page.get_by_role("option", name=STALLED_REP).click()
    alerts = page.get_by_test_id("stAlert")
    expect(alerts.filter(has_not_text=STALLED_REP)).to_have_count(0, timeout=RERUN_TIMEOUT_MS)
    expect(alerts.filter(has_text="Stopped prospecting")).to_have_count(1)
    page.get_by_role("tab", name="Pipeline created per week").click()
    expect(page.get_by_text("blank rows have stopped prospecting")).to_be_visible()


def test_the_grid_is_drawn_at_1440_by_900_and_clicking_a_rep_shows_their_warnings(
    page: Page, server_url: str
):
    page.set_viewport_size({"width": 1440, "height": 900})
    open_warnings(page, server_url)
    grid = page.get_by_test_id("stPlotlyChart").first
    expect(grid.get_by_text("10 reps have a critical warning")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    # Any cell of a rep's row picks the rep: the first column, on the rep's row.
    row = grid.locator(".ytick text", has_text=STALLED_REP)
    row.scroll_into_view_if_needed()
    name, column = row.bounding_box(), grid.locator(".xtick text").first.bounding_box()
    x, y = column["x"] + column["width"] / 2, name["y"] + name["height"] / 2
    page.mouse.move(x, y)
    expect(grid.locator(".hoverlayer")).to_contain_text(STALLED_REP)
    page.mouse.click(x, y)
    expect(page.get_by_role("combobox", name="Rep")).to_have_value(
        STALLED_REP, timeout=RERUN_TIMEOUT_MS
    )
    groups = page.get_by_test_id("stMain").get_by_test_id("stExpander")
    expect(groups).to_have_count(1, timeout=RERUN_TIMEOUT_MS)
    expect(groups).to_contain_text(STALLED_REP)
    expect(page.get_by_test_id("stAlert").filter(has_not_text=STALLED_REP)).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
