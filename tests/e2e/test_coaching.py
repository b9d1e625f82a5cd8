"""The coaching page in a real browser: a rep's 1:1 sheet on screen, on paper, and as a file
that opens with the network cut off."""

from __future__ import annotations

import re
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from lib.format import money
from tests.e2e.conftest import offline_file
from tests.test_coaching_page import SAMPLE_DATE, expected_figures, of

pytestmark = pytest.mark.timeout(120)
RERUN_TIMEOUT_MS = 30_000
REP = "Grace Liu"


def open_sheet(page: Page, server_url: str, rep: str = REP) -> None:
    # Through the sidebar rather than by URL: a fresh server does not know a page's URL until
    # the app has run once.
    page.goto(server_url)
    page.get_by_test_id("stSidebarNav").get_by_text("How do we coach each rep?").click()
    picker = page.get_by_test_id("stSelectbox").filter(has_text="Rep")
    expect(picker).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    picker.click()
    page.get_by_role("option", name=rep).click()
    expect(page.get_by_role("heading", name=f"1:1 with {rep}")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )


def booked_this_quarter(rep: str) -> float:
    return float(
        sum(d.amount for d in of(rep) if d.stage == "Closed Won"
            and date(2026, 10, 1) <= d.close <= SAMPLE_DATE)
    )  # fmt: skip


def test_the_downloaded_1_1_sheet_opens_offline_with_the_reps_figures(
    page: Page, server_url: str, browser: Browser, tmp_path
):
    open_sheet(page, server_url)
    booked = money(booked_this_quarter(REP))
    booked_metric = page.get_by_test_id("stMetric").filter(has_text="Booked to date")
    expect(booked_metric.get_by_test_id("stMetricValue")).to_have_text(booked)
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the 1:1 sheet (HTML)").click()
    assert download.value.suggested_filename == "1-1-grace-liu-2026-11-20.html"
    sheet = tmp_path / download.value.suggested_filename
    download.value.save_as(sheet)

    with offline_file(browser, sheet) as (reader, asked_for):
        figures = expected_figures(of(REP))
        expect(reader.get_by_role("heading", name=f"1:1 with {REP}")).to_be_visible()
        expect(reader.locator(".figures")).to_contain_text(booked)
        four_quarters = reader.locator("table.compact")
        expect(four_quarters).to_contain_text(f"{figures['ratio']:.2f} per win")
        expect(four_quarters).to_contain_text(money(figures["pipeline_created"]))
        expect(reader.locator("ol li")).not_to_have_count(0)
        expect(reader.locator("svg rect").first).to_be_visible()
        assert asked_for == []


def test_the_sheet_prints_on_two_pages_at_most_without_the_sidebar_or_controls(
    page: Page, server_url: str, tmp_path
):
    open_sheet(page, server_url)
    page.emulate_media(media="print")
    expect(page.get_by_test_id("stSidebar")).to_be_hidden()
    expect(page.get_by_test_id("stSelectbox").filter(has_text="Rep")).to_be_hidden()
    expect(page.get_by_role("tab", name="Scorecard")).to_be_hidden()
    expect(page.get_by_role("heading", name=f"1:1 with {REP}")).to_be_visible()
    pdf = page.pdf(format="A4")
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2
    expect(page.get_by_test_id("stException")).to_have_count(0)
