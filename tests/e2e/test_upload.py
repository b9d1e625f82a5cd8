"""The Data page in a real browser: the sample, an uploaded export, bad files, separate sessions."""

from __future__ import annotations

import csv
from pathlib import Path
from urllib.parse import urlparse

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

REPO_ROOT = Path(__file__).resolve().parents[2]
SAMPLE_OPPORTUNITIES = REPO_ROOT / "sample_data" / "opportunities.csv"
# Streamlit reruns the script after each change; give a cold server and a slow CI machine room.
RERUN_TIMEOUT_MS = 30_000
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'

pytestmark = pytest.mark.timeout(120)

HUBSPOT_HEADER = (
    "Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Create Date,Pipeline,"
    "Deal Type,Last Activity Date,Original Source,Associated Company"
)
# Five rows, the last repeating Record ID 102: four deals load, one row does not.
HUBSPOT_DEALS = "\n".join(
    [
        HUBSPOT_HEADER,
        "101,Acme renewal,Closed Won,12000,2025-01-15,Dana Reyes,2024-10-01,Sales Pipeline,"
        "existingbusiness,2025-01-10,Direct Traffic,Acme",
        "102,Birch expansion,Contract Sent,8000,2025-03-20,Dana Reyes,2024-12-05,Sales Pipeline,"
        "newbusiness,2025-02-28,Referrals,Birch",
        "103,Cobalt pilot,Appointment Scheduled,3000,2025-04-30,Lee Park,2025-01-20,"
        "Sales Pipeline,newbusiness,2025-02-10,Organic Search,Cobalt",
        "104,Delta platform,Closed Lost,25000,2025-02-14,Lee Park,2024-09-15,Sales Pipeline,"
        "newbusiness,2025-02-01,Paid Search,Delta",
        "102,Birch expansion (copy),Contract Sent,8000,2025-03-20,Dana Reyes,2024-12-05,"
        "Sales Pipeline,newbusiness,2025-02-28,Referrals,Birch",
    ]
)
DUPLICATE_REASON = "duplicate opportunity ID (the first row with it is kept)"


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content + "\n", encoding="utf-8")
    return path


def spreadsheet(deals: int, owner: str = "Owner") -> str:
    """A plain sheet of `deals` rows, one owner each, that loads without a rejected row."""
    rows = [
        f"{owner} {n},Deal {n},Prospecting,{1000 * n},2025-06-{n:02d},D-{n}"
        for n in range(1, deals + 1)
    ]
    return "\n".join(["Owner,Deal Name,Stage,Amount,Close Date,Opportunity ID", *rows])


def open_app(page: Page, url: str) -> None:
    page.goto(f"{url}/what-did-we-load")
    expect(page.get_by_role("heading", name="What did we load?")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )


def switch_to_uploads(page: Page) -> None:
    page.get_by_test_id("stSidebar").get_by_text("My uploads", exact=True).click()
    expect(opportunities_uploader(page)).to_be_visible(timeout=RERUN_TIMEOUT_MS)


def opportunities_uploader(page: Page) -> Locator:
    return page.get_by_test_id("stFileUploader").filter(has_text="Opportunities export")


def upload_export(page: Page, path: Path) -> None:
    opportunities_uploader(page).get_by_test_id("stFileUploaderDropzoneInput").set_input_files(path)


def metric(page: Page, label: str, part: str = "stMetricValue") -> Locator:
    """The value of the metric with this label, or another part of it (its delta, the note
    under the value: stMetricDelta)."""
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return card.get_by_test_id(part)


def expect_counts(page: Page, read: int, loaded: int, not_loaded: int) -> None:
    expect(metric(page, "Rows read")).to_have_text(f"{read:,}", timeout=RERUN_TIMEOUT_MS)
    expect(metric(page, "Deals loaded")).to_have_text(f"{loaded:,}")
    expect(metric(page, "Rows not loaded")).to_have_text(f"{not_loaded:,}")


def expect_no_traceback(page: Page) -> None:
    expect(page.get_by_test_id("stException")).to_have_count(0)


def sample_expectations() -> tuple[int, int]:
    """Data rows and owners of the bundled sample, counted from the file so a regenerated sample
    does not break the test: rows with an opportunity ID, which leaves out Salesforce's footer."""
    with SAMPLE_OPPORTUNITIES.open(newline="", encoding="utf-8") as sample:
        deals = [row for row in csv.DictReader(sample) if row.get("Opportunity ID")]
    return len(deals), len({row["Opportunity Owner"] for row in deals})


def test_sample_data_opens_on_what_did_we_load(page: Page, server_url: str) -> None:
    rows, owners = sample_expectations()
    open_app(page, server_url)

    expect(page.get_by_text("Salesforce report · opportunities.csv")).to_be_visible()
    expect_counts(page, read=rows, loaded=rows, not_loaded=0)
    expect(metric(page, "Owners")).to_have_text(f"{owners:,}")
    expect_no_traceback(page)


def test_uploaded_hubspot_export_shows_its_rows_and_the_duplicate_not_loaded(
    page: Page, server_url: str, tmp_path: Path
) -> None:
    export = write(tmp_path, "hubspot-deals.csv", HUBSPOT_DEALS)
    open_app(page, server_url)
    switch_to_uploads(page)

    upload_export(page, export)

    expect(page.get_by_text("HubSpot deals · hubspot-deals.csv")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    expect_counts(page, read=5, loaded=4, not_loaded=1)
    page.get_by_role("tab", name="Rows not loaded").click()
    panel = page.get_by_role("tabpanel").filter(has_text="not loaded, for these reasons")
    expect(panel).to_contain_text("1 row was not loaded, for these reasons:")
    expect(panel.get_by_test_id("stDataFrame").first).to_contain_text(DUPLICATE_REASON)
    expect_no_traceback(page)
    page.screenshot(path=tmp_path / "uploaded-export.png", full_page=True)


@pytest.mark.parametrize(
    ("file_name", "content", "error"),
    [
        ("deals.csv", b"\x89PNG\r\n\x1a\n" + bytes(64), "deals.csv is a PNG image"),
        (
            "deals.csv",
            "Record ID,Deal Name,Amount\n1,Acme renewal,12000",
            "deals.csv has no column for the owner",
        ),
    ],
    ids=["png-named-csv", "csv-without-owner"],
)
def test_wrong_file_shows_what_is_wrong_without_a_traceback(
    page: Page, server_url: str, tmp_path: Path, file_name: str, content: str | bytes, error: str
) -> None:
    bad = write(tmp_path, file_name, content)
    open_app(page, server_url)
    switch_to_uploads(page)

    upload_export(page, bad)

    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stAlert").filter(has_text=error)).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    expect_no_traceback(page)


def test_bad_second_upload_keeps_the_good_export_on_the_page(
    page: Page, server_url: str, tmp_path: Path
) -> None:
    good = write(tmp_path, "hubspot-deals.csv", HUBSPOT_DEALS)
    bad = write(tmp_path, "deals.csv", "Record ID,Deal Name,Amount\n1,Acme,12000")
    open_app(page, server_url)
    switch_to_uploads(page)
    upload_export(page, good)
    expect_counts(page, read=5, loaded=4, not_loaded=1)

    upload_export(page, bad)

    main = page.get_by_test_id("stMain")
    expect(main.get_by_text("deals.csv has no column for the owner")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    expect(
        main.get_by_text("Still showing the last export that loaded: hubspot-deals.csv")
    ).to_be_visible()
    expect_counts(page, read=5, loaded=4, not_loaded=1)
    expect_no_traceback(page)


def test_two_sessions_uploading_at_once_each_see_only_their_own_export_on_every_page(
    browser: Browser, server_url: str, tmp_path: Path
) -> None:
    teams = {"first-team.csv": ("Avery North", 3), "second-team.csv": ("Blake South", 7)}
    exports = [
        write(tmp_path, name, spreadsheet(deals, owner)) for name, (owner, deals) in teams.items()
    ]
    contexts = [browser.new_context(viewport={"width": 1440, "height": 1000}) for _ in range(2)]
    try:
        pages = [context.new_page() for context in contexts]
        for page in pages:
            open_app(page, server_url)
            switch_to_uploads(page)

        for page, export in zip(pages, exports, strict=True):
            upload_export(page, export)
        for page, (name, (_, deals)) in zip(pages, teams.items(), strict=True):
            expect(page.get_by_text(f"Spreadsheet · {name}")).to_be_visible(
                timeout=RERUN_TIMEOUT_MS
            )
            expect_counts(page, read=deals, loaded=deals, not_loaded=0)

        # Every page of each session, the two sessions clicking at the same time.
        links = pages[0].get_by_test_id("stSidebarNavLink")
        addresses = [links.nth(i).get_attribute("href") for i in range(links.count())]
        assert len(addresses) >= 6, addresses
        for address in addresses:
            for page in pages:
                page.locator(f'[data-testid="stSidebarNavLink"][href="{address}"]').click()
            for page, (other_file, (other_owner, _)) in zip(
                pages, reversed(teams.items()), strict=True
            ):
                page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
                expect_no_traceback(page)
                expect(page.locator("body")).not_to_contain_text(other_owner)
                expect(page.locator("body")).not_to_contain_text(other_file)
    finally:
        for context in contexts:
            context.close()


def test_the_app_requests_nothing_from_the_internet(page: Page, server_url: str) -> None:
    """Sales data is confidential: no fonts, scripts, statistics or images from elsewhere."""
    hosts: set[str] = set()
    page.on("request", lambda request: hosts.add(urlparse(request.url).hostname or ""))
    open_app(page, server_url)
    for tab in ("Stages", "Data quality", "Owners", "Quotas"):
        page.get_by_role("tab", name=tab).click()
    expect(metric(page, "Owners")).to_be_visible()
    page.wait_for_load_state("networkidle")
    assert hosts <= {"127.0.0.1", "localhost", ""}, hosts
