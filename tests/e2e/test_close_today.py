"""The "What can we close today?" page in a real browser: pick a rep, read and download the list."""

from __future__ import annotations

import csv
import io

import pytest
from playwright.sync_api import Page, expect

from lib.format import money
from tests.test_close_today_page import by_owner, can_close, in_work_order, stale_deals

pytestmark = pytest.mark.timeout(120)
RERUN_TIMEOUT_MS = 30_000


def open_close_today(page: Page, server_url: str) -> None:
    # Through the sidebar rather than by URL: a fresh server does not know a page's URL until
    # the app has run once.
    page.goto(server_url)
    page.get_by_test_id("stSidebarNav").get_by_text("What can we close today?").click()
    expect(page.get_by_role("heading", name="What can we close today?")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )


def metric_value(page: Page, label: str):
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return card.get_by_test_id("stMetricValue")


def test_picking_a_rep_shows_their_deals_in_work_order_and_downloads_them(
    page: Page, server_url: str
):
    grace = by_owner(can_close())["Grace Liu"]
    grace_stale = by_owner(stale_deals())["Grace Liu"]
    open_close_today(page, server_url)

    page.get_by_test_id("stSelectbox").filter(has_text="Rep").click()
    page.get_by_role("option", name="Grace Liu").click()

    main = page.get_by_test_id("stMain")
    expect(main.get_by_role("heading", name="What can Grace Liu close today?")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    expect(metric_value(page, "Deals")).to_have_text(str(len(grace)))
    expect(metric_value(page, "Amount")).to_have_text(money(sum(d["amount"] for d in grace)))
    # Her deals, then apart her stale ones: overdue by more than 30 days.
    expect(main.get_by_role("heading", level=3)).to_have_text(
        [*in_work_order(grace), "Stale: close it or move it"]
    )
    expect(main.get_by_text("close date passed: close it or move it").first).to_be_visible()

    downloads = main.get_by_role("button", name="Download this list (CSV)")
    with page.expect_download() as download:
        downloads.first.click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    assert download.value.suggested_filename == "close-grace-liu-2026-11-20.csv"
    assert [row["Deal"] for row in rows] == in_work_order(grace)
    with page.expect_download() as download:
        downloads.last.click()
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    assert download.value.suggested_filename == "stale-grace-liu-2026-11-20.csv"
    assert [row["Deal"] for row in rows] == in_work_order(grace_stale)
    expect(page.get_by_test_id("stException")).to_have_count(0)
