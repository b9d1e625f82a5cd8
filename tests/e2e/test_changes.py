"""The weekly routine in a real browser: save last week's upload, then this week's, compare."""

from __future__ import annotations

import csv
import io
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from lib.changes import compare
from lib.format import money
from lib.load.opportunities import load_opportunities
from lib.settings import Settings
from lib.store import snapshot_of_export
from tests.test_changes_page import LAST_WEEK, SAMPLE, SAMPLE_DATE, earlier_export

pytestmark = pytest.mark.timeout(180)
RERUN_TIMEOUT_MS = 30_000
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def open_changes(page: Page, server_url: str) -> None:
    # Through the sidebar rather than by URL: a fresh server does not know a page's URL until
    # the app has run once.
    page.goto(server_url)
    page.get_by_test_id("stSidebarNav").get_by_text("What changed since last week?").click()
    expect(page.get_by_role("heading", name="What changed since last week?")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )


def save_as(page: Page, day: date) -> None:
    # A date typed while the page is still being drawn can be drawn over with the old one.
    page.wait_for_selector(IDLE, timeout=RERUN_TIMEOUT_MS)
    field = page.get_by_test_id("stDateInput").filter(has_text="Save this export as the snapshot")
    field.locator("input").fill(day.isoformat())
    field.locator("input").press("Enter")
    # The new date reaches the app in a rerun; a click before it ends would save the old date.
    page.wait_for_timeout(300)
    page.wait_for_selector(IDLE, timeout=RERUN_TIMEOUT_MS)
    page.get_by_role("button", name="Save as snapshot").click()


def success(page: Page):
    return page.get_by_test_id("stAlertContentSuccess")


def metric_value(page: Page, label: str):
    """The value of the metric with this label; the last one, because while the page reruns
    after a save, the comparison it replaces (this upload against itself: two metrics with the
    same date) can still be on screen."""
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return card.get_by_test_id("stMetricValue").last


def test_last_weeks_upload_and_this_weeks_are_saved_and_compared(
    page: Page, server_url: str, tmp_path: Path
):
    last_week_file = tmp_path / "opportunities-2026-11-13.csv"
    last_week_file.write_text(earlier_export(1), encoding="utf-8")
    expected = compare(
        snapshot_of_export(load_opportunities(last_week_file.read_bytes(), "l.csv"), LAST_WEEK),
        snapshot_of_export(load_opportunities(SAMPLE.read_bytes(), "s.csv"), SAMPLE_DATE),
        Settings(as_of=SAMPLE_DATE),
    )

    open_changes(page, server_url)
    sidebar = page.get_by_test_id("stSidebar")
    sidebar.get_by_text("My uploads", exact=True).click()
    sidebar.get_by_test_id("stFileUploader").filter(has_text="Opportunities export").get_by_test_id(
        "stFileUploaderDropzoneInput"
    ).set_input_files(last_week_file)
    expect(page.get_by_text("No snapshot yet")).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    # Last week's file says 20 Nov (its latest activity): the snapshot is dated by hand.
    save_as(page, LAST_WEEK)
    expect(success(page)).to_contain_text(
        "Saved 4,416 deals as the snapshot of Fri 13 Nov 2026.", timeout=RERUN_TIMEOUT_MS
    )

    sidebar.get_by_text("Sample data", exact=True).click()
    expect(page.get_by_text("As of Fri 20 Nov 2026 · sample data")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    save_as(page, SAMPLE_DATE)
    expect(success(page)).to_contain_text(
        "Saved 4,459 deals as the snapshot of Fri 20 Nov 2026.", timeout=RERUN_TIMEOUT_MS
    )

    w = expected.waterfall
    expect(metric_value(page, "Pipeline on 13 Nov")).to_have_text(money(w.start))
    expect(metric_value(page, "Change")).to_have_text(money(w.net))
    expect(metric_value(page, "Pipeline on 20 Nov")).to_have_text(money(w.end))
    title = f"Q4 FY2026 pipeline, 13 Nov → 20 Nov: {money(w.net)}"
    expect(page.locator(".gtitle")).to_contain_text(title)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download (CSV)").first.click()
    assert download.value.suggested_filename == "changed-deals-2026-11-13-2026-11-20.csv"
    rows = list(csv.DictReader(io.StringIO(download.value.path().read_text("utf-8-sig"))))
    assert len(rows) == len(expected.deals)
    assert {row["Opportunity ID"] for row in rows} >= {"006DELETED1", "006DELETED2"}

    # Saving the same date again asks first.
    page.get_by_role("button", name="Save as snapshot").click()
    expect(page.get_by_text("There is already a snapshot of Fri 20 Nov 2026")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    page.get_by_role("button", name="Replace it").click()
    expect(success(page)).to_contain_text(
        "Saved 4,459 deals as the snapshot of Fri 20 Nov 2026.", timeout=RERUN_TIMEOUT_MS
    )
    expect(page.get_by_test_id("stException")).to_have_count(0)
