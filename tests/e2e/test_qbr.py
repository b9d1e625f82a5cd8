"""The QBR page in a real browser at 1920×1080: presentation mode reads from the back of a room,
and the exported HTML file (from the page and from the command line) opens with the network cut
off, charts drawn; at 1280, 1440 and 1920 pixels wide no headline figure is cut off or wrapped."""

from __future__ import annotations

import io
import subprocess
import sys
import zipfile
from datetime import date

import pytest
from playwright.sync_api import Browser, Page, expect

from lib.format import money
from tests.e2e.conftest import REPO_ROOT, offline_file
from tests.test_pacing_page import sample_won

pytestmark = pytest.mark.timeout(180)
RERUN_TIMEOUT_MS = 60_000
DONE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
SCREEN = {"width": 1920, "height": 1080}
# Laptops, projectors and the big screen a QBR is shown on.
WIDTHS = (1280, 1440, 1920)
# Each figure as drawn: whether anything of it is cut off (scrolls out of its box, as Streamlit's
# "62 d…" did) and on how many lines its text lies ("+14" above "%" would be two).
AS_DRAWN = """elements => elements.map(element => {
    const text = document.createRange();
    text.selectNodeContents(element);
    const lines = new Set([...text.getClientRects()].map(rect => Math.round(rect.top)));
    return {text: element.textContent, cut: element.scrollWidth > element.clientWidth,
            lines: lines.size};
})"""
SECTIONS = ("headline", "pacing", "attainment", "top_wins", "losses", "coverage",
            "concentration", "referrals")  # fmt: skip


@pytest.fixture
def screen(browser: Browser):
    context = browser.new_context(viewport=SCREEN, accept_downloads=True)
    try:
        yield context.new_page()
    finally:
        context.close()


def open_qbr(page: Page, server_url: str) -> None:
    # Through the sidebar first: a fresh server does not know a page's URL until the app ran once.
    page.goto(server_url)
    page.get_by_test_id("stSidebarNav").get_by_text("What story do we tell at the QBR?").click()
    expect(page.get_by_role("heading", name="Bookings through the quarter")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    page.wait_for_selector(DONE, timeout=RERUN_TIMEOUT_MS)


def test_presentation_mode_reads_from_the_back_of_the_room(screen: Page, server_url, tmp_path):
    open_qbr(screen, server_url)
    screen.goto(f"{server_url}/quarterly-business-review?present=1")
    value = screen.get_by_test_id("stMetricValue").first
    expect(value).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    screen.wait_for_selector(DONE, timeout=RERUN_TIMEOUT_MS)
    expect(screen.get_by_test_id("stSidebar")).to_be_hidden()
    expect(screen.get_by_test_id("stSelectbox").filter(has_text="Quarter")).to_be_hidden()
    expect(screen.get_by_role("heading", name="What story do we tell at the QBR?")).to_be_hidden()
    closed = money(sample_won(date(2026, 10, 1), date(2026, 11, 20)))
    expect(value).to_have_text(closed)
    # The figure's own text, as drawn: the <p> inside the metric's value.
    for number in range(5):
        size = (
            screen.get_by_test_id("stMetricValue")
            .nth(number)
            .locator("p")
            .evaluate("element => parseFloat(getComputedStyle(element).fontSize)")
        )
        assert size >= 48
    screen.screenshot(path=tmp_path / "qbr-presentation-headline.png")
    for key in SECTIONS:
        section = screen.locator(f".st-key-qbr_section_{key}")
        section.scroll_into_view_if_needed()
        assert section.bounding_box()["height"] >= SCREEN["height"] - 1
        section.screenshot(path=tmp_path / f"qbr-presentation-{key}.png")
    expect(screen.get_by_test_id("stException")).to_have_count(0)


def figures_as_drawn(figures) -> list[dict]:
    expect(figures).to_have_count(5, timeout=RERUN_TIMEOUT_MS)
    return figures.evaluate_all(AS_DRAWN)


def whole(text: str) -> dict:
    return {"text": text, "cut": False, "lines": 1}


@pytest.mark.parametrize("width", WIDTHS)
def test_no_headline_figure_is_cut_off_or_wrapped_on_the_page_or_in_the_file(
    browser: Browser, server_url: str, tmp_path, width: int
):
    context = browser.new_context(viewport={"width": width, "height": 900}, accept_downloads=True)
    try:
        page = context.new_page()
        open_qbr(page, server_url)
        # The box Streamlit cuts a metric off in: the Markdown inside its value.
        values = page.get_by_test_id("stMetricValue").get_by_test_id("stMarkdownContainer")
        figures = [figure["text"] for figure in figures_as_drawn(values)]
        assert figures_as_drawn(values) == [whole(figure) for figure in figures]
        with page.expect_download() as download:
            page.get_by_role("button", name="Download the QBR (HTML)").click()
        saved = tmp_path / "qbr.html"
        download.value.save_as(saved)
        page.goto(f"{server_url}/quarterly-business-review?present=1")
        expect(page.get_by_test_id("stSidebar")).to_be_hidden(timeout=RERUN_TIMEOUT_MS)
        page.wait_for_selector(DONE, timeout=RERUN_TIMEOUT_MS)
        assert figures_as_drawn(values) == [whole(figure) for figure in figures]
    finally:
        context.close()
    with offline_file(browser, saved, {"width": width, "height": 900}) as (reader, asked_for):
        assert figures_as_drawn(reader.locator(".cards b")) == [whole(f) for f in figures]
        assert asked_for == []


def test_the_downloaded_html_file_opens_offline_with_its_charts(
    screen: Page, server_url: str, browser: Browser, tmp_path
):
    open_qbr(screen, server_url)
    with screen.expect_download() as download:
        screen.get_by_role("button", name="Download the QBR (HTML)").click()
    assert download.value.suggested_filename == "qbr-q4-fy2026.html"
    saved = tmp_path / download.value.suggested_filename
    download.value.save_as(saved)
    with offline_file(browser, saved, SCREEN) as (reader, asked_for):
        closed = money(sample_won(date(2026, 10, 1), date(2026, 11, 20)))
        expect(reader.locator(".cards b").first).to_have_text(closed)
        expect(reader.locator("svg.main-svg").first).to_be_visible()
        assert reader.locator(".plotly").count() >= 5
        reader.screenshot(path=tmp_path / "qbr-file.png", full_page=True)
        assert asked_for == []


def test_the_zip_holds_one_csv_per_table(screen: Page, server_url: str, tmp_path):
    open_qbr(screen, server_url)
    with screen.expect_download() as download:
        screen.get_by_role("button", name="Download every table (ZIP of CSVs)").click()
    assert download.value.suggested_filename == "qbr-q4-fy2026.zip"
    saved = tmp_path / "tables.zip"
    download.value.save_as(saved)
    names = zipfile.ZipFile(io.BytesIO(saved.read_bytes())).namelist()
    # The sample export has no loss reason column: no table of reasons.
    assert names == [
        f"qbr-q4-fy2026/{name}.csv"
        for name in ("headline", "attainment-by-rep", "top-wins", "losses", "losses-by-stage",
                     "next-quarter-coverage", "concentration-risks", "referrals-by-rep")
    ]  # fmt: skip


def test_the_command_lines_html_file_opens_offline_too(browser: Browser, tmp_path):
    out = tmp_path / "q3.html"
    sample = REPO_ROOT / "sample_data"
    subprocess.run(
        [sys.executable, "-m", "lib.cli", "qbr",
         "--opportunities", str(sample / "opportunities.csv"),
         "--targets", str(sample / "quotas.csv"), "--reps", str(sample / "reps.csv"),
         "--quarter", "2026-Q3", "--out", str(out)],
        cwd=REPO_ROOT, check=True, capture_output=True,
    )  # fmt: skip
    with offline_file(browser, out, SCREEN) as (reader, asked_for):
        closed = money(sample_won(date(2026, 7, 1), date(2026, 9, 30)))
        expect(reader.locator("h1")).to_contain_text(f"Q3 FY2026: {closed} booked")
        expect(reader.locator("svg.main-svg").first).to_be_visible()
        assert reader.locator(".plotly").count() >= 5
        assert asked_for == []
