"""st.login in a real browser against a small OpenID Connect provider on localhost."""

from __future__ import annotations

import secrets
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import oidc_provider

pytestmark = pytest.mark.timeout(180)
RERUN_TIMEOUT_MS = 30_000
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


@pytest.fixture(scope="module")
def provider_url() -> Iterator[str]:
    with oidc_provider.running() as url:
        yield url


@pytest.fixture(scope="module")
def server_options(tmp_path_factory: pytest.TempPathFactory, provider_url: str) -> tuple[str, ...]:
    """The module's server signs in through the test provider ([auth] in its secrets file)."""
    secrets_file = tmp_path_factory.mktemp("secrets") / "secrets.toml"
    secrets_file.write_text(
        "[auth]\n"
        'redirect_uri = "http://127.0.0.1:{port}/oauth2callback"\n'
        f'cookie_secret = "{secrets.token_hex(32)}"\n'
        f'client_id = "{oidc_provider.CLIENT_ID}"\n'
        f'client_secret = "{oidc_provider.CLIENT_SECRET}"\n'
        f'server_metadata_url = "{provider_url}/.well-known/openid-configuration"\n'
    )
    return ("--secrets.files", str(secrets_file))


def signed_in_to_provider(
    browser: Browser, provider_url: str, email: str, verified: bool = True
) -> Page:
    """A browser whose user the provider knows already (its own cookie), as at work."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.add_cookies([{"name": oidc_provider.USER_COOKIE, "value": email, "url": provider_url}])
    if not verified:
        context.add_cookies(
            [{"name": oidc_provider.VERIFIED_COOKIE, "value": "false", "url": provider_url}]
        )
    return context.new_page()


def test_until_signed_in_there_is_only_the_sign_in_screen(page: Page, server_url: str):
    page.goto(server_url)
    page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
    expect(page.get_by_role("button", name="Sign in")).to_be_visible()
    expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    expect(page.get_by_text("My uploads")).to_have_count(0)


def test_signing_in_opens_the_users_own_workspace_and_signing_out_closes_it(
    browser: Browser, server_url: str, provider_url: str
):
    page = signed_in_to_provider(browser, provider_url, "Ana@Acme.com")
    try:
        page.goto(server_url)
        page.get_by_role("button", name="Sign in").click()
        sidebar = page.get_by_test_id("stSidebar")
        # The address after the @ carries a word joiner (lib.format.markdown_text).
        expect(sidebar).to_contain_text("Signed in as ana@\u2060acme.com", timeout=RERUN_TIMEOUT_MS)
        expect(sidebar).to_contain_text("Workspace: My workspace (ana@\u2060acme.com)")
        expect(page.get_by_role("heading", name="Are we on pace?")).to_be_visible()

        sidebar.get_by_role("button", name="Sign out").click()
        expect(page.get_by_role("button", name="Sign in")).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
    finally:
        page.context.close()


def test_an_address_the_provider_has_not_verified_opens_no_workspace(
    browser: Browser, server_url: str, provider_url: str
):
    page = signed_in_to_provider(browser, provider_url, "ana@acme.com", verified=False)
    try:
        page.goto(server_url)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_text("has not verified your e-mail address")).to_be_visible(
            timeout=RERUN_TIMEOUT_MS
        )
        expect(page.get_by_test_id("stSidebarNav")).to_have_count(0)
        expect(page.get_by_text("Signed in as")).to_have_count(0)
    finally:
        page.context.close()
