"""Behind a sign-in proxy, in a real browser: each user's own workspace, a team's, the reload."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect

from tests.e2e import identity_proxy
from tests.e2e.conftest import free_port
from tests.e2e.test_changes import save_as, success
from tests.e2e.test_upload import HUBSPOT_DEALS, expect_counts, spreadsheet, upload_export, write

pytestmark = pytest.mark.timeout(240)
RERUN_TIMEOUT_MS = 30_000
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
HEADER = "X-Forwarded-Email"
TEAMS = '[[team]]\nname = "EMEA sales"\nmembers = ["ana@acme.com", "ben@acme.com"]\n'


@pytest.fixture(scope="module")
def server_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    config = tmp_path_factory.mktemp("config") / "workspaces.toml"
    config.write_text(TEAMS)
    return {"CLOSEBOARD_TRUSTED_USER_HEADER": HEADER, "CLOSEBOARD_WORKSPACES": str(config)}


@pytest.fixture(scope="module")
def proxy_url(server_url: str) -> Iterator[str]:
    """The sign-in proxy in front of the module's server: every test goes through it."""
    with identity_proxy.running(server_url.removeprefix("http://"), HEADER, free_port()) as url:
        yield url


@pytest.fixture
def as_user(browser: Browser, proxy_url: str) -> Iterator:
    """`as_user(email)`: a new browser context (a user's own browser) signed in to the proxy as
    `email`; None: not signed in, the proxy sends no header."""
    contexts: list[BrowserContext] = []

    def open_as(email: str | None) -> Page:
        context = browser.new_context(viewport={"width": 1440, "height": 1000})
        if email:
            context.add_cookies(
                [{"name": identity_proxy.USER_COOKIE, "value": email, "url": proxy_url}]
            )
        contexts.append(context)
        return context.new_page()

    yield open_as
    for context in contexts:
        context.close()


def open_app(page: Page, url: str, query: str = "") -> None:
    page.goto(f"{url}/{query}")
    page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)


def go_to(page: Page, title: str) -> None:
    # Through the sidebar: it keeps the session (and its workspace), as a user clicks.
    page.get_by_test_id("stSidebarNav").get_by_text(title).click()
    expect(page.get_by_role("heading", name=title)).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)


def upload_in(page: Page, path: Path) -> None:
    go_to(page, "What did we load?")
    page.get_by_test_id("stSidebar").get_by_text("My uploads", exact=True).click()
    page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
    upload_export(page, path)
    expect(page.get_by_text(f"· {path.name}").first).to_be_visible(timeout=RERUN_TIMEOUT_MS)


def save_snapshot_of(page: Page, day: date) -> None:
    go_to(page, "What changed since last week?")
    save_as(page, day)
    expect(success(page)).to_contain_text(
        f"as the snapshot of {day:%a %-d %b %Y}.", timeout=RERUN_TIMEOUT_MS
    )


def shown(text: str) -> str:
    """An address as the page shows it: a word joiner after the @ keeps it from becoming a
    link (lib.format.markdown_text)."""
    return text.replace("@", "@\u2060")


def sidebar(page: Page):
    return page.get_by_test_id("stSidebar")


def test_without_the_proxys_header_there_is_only_the_sign_in_message(as_user, proxy_url):
    page = as_user(None)
    open_app(page, proxy_url)
    expect(page.get_by_text("Sign-in required.")).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_text("My uploads")).to_have_count(0)
    # Nor by an address of a page.
    open_app(page, proxy_url, "what-changed-since-last-week")
    expect(page.get_by_text("Sign-in required.")).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    expect(page.get_by_role("heading", name="What changed since last week?")).to_have_count(0)


def test_each_user_sees_only_their_own_data_and_snapshots_and_in_two_windows_the_same(
    as_user, proxy_url, tmp_path: Path
):
    export = write(tmp_path, "dana-deals.csv", spreadsheet(3, "Dana Owner"))
    dana = as_user("dana@acme.com")
    open_app(dana, proxy_url)
    expect(sidebar(dana)).to_contain_text(shown("Signed in as dana@acme.com"))
    upload_in(dana, export)
    save_snapshot_of(dana, date(2026, 11, 13))

    # Dana in another window (another browser context, as on a second computer).
    again = as_user("dana@acme.com")
    open_app(again, proxy_url)
    expect(sidebar(again)).to_contain_text("Kept in your workspace: dana-deals.csv, loaded")
    go_to(again, "What changed since last week?")
    expect(again.get_by_test_id("stMain")).to_contain_text("· dana-deals.csv")
    # Her snapshot of 13 Nov against this upload.
    expect(again.get_by_test_id("stMetricLabel").get_by_text("Pipeline on 13 Nov")).to_be_visible()
    expect(again.get_by_text("No snapshot yet")).to_have_count(0)

    # Eve, another user, sees neither the file nor the snapshot.
    sees_none_of(as_user("eve@birch.io"), proxy_url, "eve@birch.io", "dana-deals.csv", "Dana Owner")


def sees_none_of(page: Page, url: str, email: str, *texts: str) -> None:
    """Signed in as `email`, the page finds its own empty workspace (the sample data, no
    snapshot) and none of `texts` anywhere."""
    open_app(page, url)
    expect(sidebar(page)).to_contain_text(shown(f"Signed in as {email}"))
    go_to(page, "What changed since last week?")
    expect(page.get_by_text("As of Fri 20 Nov 2026 · sample data")).to_be_visible()
    expect(page.get_by_text("No snapshot yet")).to_be_visible()
    for text in texts:
        expect(page.locator("body")).not_to_contain_text(text)


def test_both_team_members_see_the_team_workspace_and_a_third_user_is_refused(as_user, proxy_url):
    ana = as_user("ana@acme.com")
    open_app(ana, proxy_url)
    sidebar(ana).get_by_test_id("stSelectbox").filter(has_text="Workspace").click()
    ana.get_by_role("option", name="EMEA sales").click()
    ana.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
    expect(ana).to_have_url(f"{proxy_url}/?workspace=EMEA+sales")
    save_snapshot_of(ana, date(2026, 11, 6))
    expect(ana.get_by_text("Kept in the workspace EMEA sales.")).to_be_visible()
    audit = ana.get_by_test_id("stExpander").filter(has_text="Who saved, deleted or loaded what")
    audit.get_by_text("Who saved, deleted or loaded what").click()
    expect(audit.get_by_test_id("stDataFrame")).to_contain_text("ana@acme.com")
    expect(audit.get_by_test_id("stDataFrame")).to_contain_text("the snapshot of Fri 6 Nov 2026")

    ben = as_user("ben@acme.com")
    open_app(ben, proxy_url, "?workspace=EMEA+sales")
    go_to(ben, "What changed since last week?")
    expect(ben.get_by_text("Kept in the workspace EMEA sales.")).to_be_visible()
    expect(ben.get_by_text("No snapshot yet")).to_have_count(0)
    # Ben's own workspace does not have it.
    sidebar(ben).get_by_test_id("stSelectbox").filter(has_text="Workspace").click()
    ben.get_by_role("option", name="My workspace (ben@acme.com)").click()
    expect(ben.get_by_text("No snapshot yet")).to_be_visible(timeout=RERUN_TIMEOUT_MS)

    # A forged workspace name in the address is refused: Cy is not a member.
    cy = as_user("cy@acme.com")
    open_app(cy, proxy_url, "?workspace=EMEA+sales")
    expect(cy.get_by_text("EMEA sales is not one of your workspaces")).to_be_visible()
    go_to(cy, "What changed since last week?")
    expect(
        cy.get_by_text(shown("Kept in the workspace My workspace (cy@acme.com)."))
    ).to_be_visible()
    expect(cy.get_by_text("No snapshot yet")).to_be_visible()
    expect(sidebar(cy)).not_to_contain_text("EMEA sales")


def test_after_a_reload_the_last_upload_is_back_until_it_is_forgotten(
    as_user, proxy_url, tmp_path: Path
):
    export = write(tmp_path, "hubspot-deals.csv", HUBSPOT_DEALS)
    page = as_user("fay@acme.com")
    open_app(page, proxy_url)
    upload_in(page, export)
    expect_counts(page, read=5, loaded=4, not_loaded=1)

    page.reload()
    page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
    go_to(page, "What did we load?")
    expect(page.get_by_text("HubSpot deals · hubspot-deals.csv")).to_be_visible()
    expect_counts(page, read=5, loaded=4, not_loaded=1)
    expect(sidebar(page)).to_contain_text("Kept in your workspace: hubspot-deals.csv, loaded")

    sidebar(page).get_by_role("button", name="Forget my data").click()
    expect(page.get_by_text("Upload an opportunities export in the sidebar")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    page.reload()
    page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
    expect(page.locator("body")).not_to_contain_text("hubspot-deals.csv")
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_a_file_still_in_the_uploader_is_not_used_in_the_workspace_switched_to(
    as_user, proxy_url, tmp_path: Path
):
    """The browser sends the uploader's files again on every run, whichever the workspace."""
    export = write(tmp_path, "ana-own.csv", spreadsheet(2, "Ana Owner"))
    ana = as_user("ana@acme.com")
    open_app(ana, proxy_url)
    upload_in(ana, export)

    sidebar(ana).get_by_test_id("stSelectbox").filter(has_text="Workspace").click()
    ana.get_by_role("option", name="EMEA sales").click()
    ana.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
    sidebar(ana).get_by_text("My uploads", exact=True).click()
    ana.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
    go_to(ana, "What did we load?")
    expect(ana.get_by_text("Upload an opportunities export in the sidebar")).to_be_visible()
    expect(ana.get_by_test_id("stMain")).not_to_contain_text("ana-own.csv")
    expect(sidebar(ana)).not_to_contain_text("Kept in your workspace")
