"""Bad and hostile uploads in a real browser: a file over the upload limit, a zip bomb, and cells
holding links, images and scripts, which must show as typed and never run or link."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import pytest
from playwright.sync_api import Dialog, Page, expect

from tests.e2e.test_upload import (
    RERUN_TIMEOUT_MS,
    expect_no_traceback,
    open_app,
    opportunities_uploader,
    switch_to_uploads,
    upload_export,
    write,
)

BAD = Path(__file__).resolve().parents[1] / "data" / "bad"
# This module's server takes uploads of at most 1 MB, so that a small file is "too large".
UPLOAD_LIMIT_MB = 1

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def server_options() -> tuple[str, ...]:
    return ("--server.maxUploadSize", str(UPLOAD_LIMIT_MB))


def test_a_file_over_the_upload_limit_is_refused_in_the_browser_naming_the_limit(
    page: Page, server_url: str, tmp_path: Path
) -> None:
    row = "Ana Ruiz,Acme renewal,Prospecting,1000,2026-11-20\n"
    too_large = write(
        tmp_path,
        "large-export.csv",
        "Opportunity Owner,Opportunity Name,Stage,Amount,Close Date\n" + row * 40_000,
    )
    open_app(page, server_url)
    switch_to_uploads(page)
    uploader = opportunities_uploader(page)
    expect(uploader).to_contain_text(f"{UPLOAD_LIMIT_MB}MB per file")

    upload_export(page, too_large)

    # Streamlit refuses the file in the browser: the file turns red with an error mark, and
    # pointing at it says why. The app never receives it.
    chip = uploader.get_by_test_id("stFileChip")
    expect(chip.get_by_test_id("stFileChipIconError")).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    chip.hover()
    expect(page.get_by_role("tooltip")).to_have_text("File must be 1.0MB or smaller.")
    expect(
        page.get_by_test_id("stMain").get_by_text("Upload an opportunities export")
    ).to_be_visible()
    expect_no_traceback(page)
    page.screenshot(path=tmp_path / "too-large.png", full_page=True)


def test_a_zip_bomb_is_refused_with_a_message(page: Page, server_url: str, tmp_path: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_corpus", BAD / "make_corpus.py")
    make_corpus = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(make_corpus)
    bomb = write(tmp_path, "deals.xlsx", make_corpus.zip_bomb(declare_real_size=True))
    open_app(page, server_url)
    switch_to_uploads(page)

    upload_export(page, bomb)

    main = page.get_by_test_id("stMain")
    expect(main.get_by_test_id("stAlert").filter(has_text="would expand from")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    expect_no_traceback(page)


@pytest.mark.parametrize(
    ("file_name", "shown"),
    [
        ("markdown-names.csv", "[click](http://evil.example)"),
        ("html-script-names.csv", "<script>alert('owner')</script>"),
    ],
)
def test_links_images_and_scripts_in_cells_show_as_typed_and_never_run(
    page: Page, server_url: str, file_name: str, shown: str
) -> None:
    dialogs: list[str] = []

    def refuse(dialog: Dialog) -> None:
        dialogs.append(dialog.message)
        dialog.dismiss()

    page.on("dialog", refuse)
    open_app(page, server_url)
    switch_to_uploads(page)
    upload_export(page, BAD / file_name)
    expect(page.get_by_text(f"Salesforce report · {file_name}")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )

    # Every deal is overdue, so the close-today page shows each owner's name in a card.
    page.get_by_test_id("stSidebarNav").get_by_text("What can we close today?").click()
    main = page.get_by_test_id("stMain")
    expect(main.get_by_text(shown, exact=True).first).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    for hostile in ('a[href*="evil.example"]', 'img[src*="evil.example"]', 'img[src="x"]',
                    "iframe", "[data-testid=stMain] script"):  # fmt: skip
        expect(page.locator(hostile)).to_have_count(0)
    assert dialogs == []
    expect_no_traceback(page)


def test_tables_offer_only_the_download_that_neutralises_formula_cells(
    page: Page, server_url: str
) -> None:
    open_app(page, server_url)
    switch_to_uploads(page)
    upload_export(page, BAD / "formula-cells.csv")
    expect(page.get_by_text("Salesforce report · formula-cells.csv")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    page.get_by_test_id("stSidebarNav").get_by_text("What can we close today?").click()
    expect(page.get_by_role("heading", name="What can we close today?")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    # The toolbar shows while the pointer is over the table; a rerun that redraws the table
    # hides it again, so hover until it shows (asserting on it, not on a count read once).
    toolbar = page.get_by_test_id("stBaseButton-elementToolbar")
    fullscreen = toolbar.and_(page.get_by_label("Fullscreen"))
    for _ in range(10):
        page.get_by_test_id("stDataFrame").first.hover()
        if fullscreen.first.is_visible():
            break
        page.wait_for_timeout(500)
    expect(fullscreen.first).to_be_visible()
    # Streamlit's own "Download as CSV" would write =HYPERLINK(…) as it came.
    expect(toolbar.and_(page.get_by_label("Download as CSV"))).to_have_count(0)

    with page.expect_download() as download:
        page.get_by_role("button", name="Download this list (CSV)").click()
    with Path(download.value.path()).open(encoding="utf-8-sig", newline="") as saved:
        cells = [cell for row in csv.reader(saved) for cell in row]
    assert '\'=HYPERLINK("http://evil.example","Click")' in cells
    assert [cell for cell in cells if cell.startswith(("=", "+", "-", "@", "\t"))] == []
