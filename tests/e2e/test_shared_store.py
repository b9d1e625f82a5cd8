"""Two app processes over one PostgreSQL store, each behind the sign-in proxy, in a real browser:
what a leader does on one process is there on the other, and another user sees none of it."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from tests.e2e import identity_proxy
from tests.e2e.conftest import free_port, running_server
from tests.e2e.test_upload import spreadsheet, write
from tests.e2e.test_workspaces import (
    HEADER,
    RERUN_TIMEOUT_MS,
    go_to,
    open_app,
    save_snapshot_of,
    sees_none_of,
    sidebar,
    upload_in,
)
from tests.pg import drop_database, new_database

pytestmark = pytest.mark.timeout(300)
_names = itertools.count()


@pytest.fixture(scope="module")
def database_url(postgres_server_url: str) -> Iterator[str]:
    name = f"e2e_shared_{next(_names)}"
    yield new_database(postgres_server_url, name)
    drop_database(postgres_server_url, name)


@pytest.fixture(scope="module")
def two_processes(
    tmp_path_factory: pytest.TempPathFactory, browser: Browser, database_url: str
) -> Iterator[tuple[str, str]]:
    """Two `streamlit run` processes on two free ports, each with a data folder of its own and
    the same database, each behind its own sign-in proxy: the two proxies' URLs."""
    env = {"CLOSEBOARD_DATABASE_URL": database_url, "CLOSEBOARD_TRUSTED_USER_HEADER": HEADER}
    folders = [tmp_path_factory.mktemp(f"process{number}") for number in (1, 2)]
    with (
        running_server(folders[0], browser, env=env) as first,
        running_server(folders[1], browser, env=env) as second,
        identity_proxy.running(first.removeprefix("http://"), HEADER, free_port()) as one,
        identity_proxy.running(second.removeprefix("http://"), HEADER, free_port()) as two,
    ):
        yield one, two


def signed_in(browser: Browser, proxy_url: str, email: str) -> Page:
    """A new browser (context) signed in to that proxy as `email`."""
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    context.add_cookies([{"name": identity_proxy.USER_COOKIE, "value": email, "url": proxy_url}])
    return context.new_page()


def test_an_upload_and_a_snapshot_on_one_process_are_there_on_the_other_and_for_no_one_else(
    browser: Browser, two_processes: tuple[str, str], tmp_path: Path
):
    one, two = two_processes
    export = write(tmp_path, "gil-deals.csv", spreadsheet(3, "Gil Owner"))
    pages: list[Page] = []
    try:
        # Gil uploads on the first process.
        gil_one = signed_in(browser, one, "gil@acme.com")
        pages.append(gil_one)
        open_app(gil_one, one)
        upload_in(gil_one, export)

        # Their reload lands on the second process: the upload is there.
        gil_two = signed_in(browser, two, "gil@acme.com")
        pages.append(gil_two)
        open_app(gil_two, two)
        expect(sidebar(gil_two)).to_contain_text(
            "Kept in your workspace: gil-deals.csv, loaded", timeout=RERUN_TIMEOUT_MS
        )
        go_to(gil_two, "What changed since last week?")
        expect(gil_two.get_by_test_id("stMain")).to_contain_text("· gil-deals.csv")
        expect(gil_two.get_by_text("No snapshot yet")).to_be_visible()
        # A snapshot saved on the second process…
        save_snapshot_of(gil_two, date(2026, 11, 13))

        # …is listed and compared on the first.
        gil_one.reload()
        open_app(gil_one, one)
        go_to(gil_one, "What changed since last week?")
        expect(gil_one.get_by_test_id("stMain")).to_contain_text("· gil-deals.csv")
        expect(gil_one.get_by_text("No snapshot yet")).to_have_count(0)
        expect(
            gil_one.get_by_test_id("stMetricLabel").get_by_text("Pipeline on 13 Nov")
        ).to_be_visible(timeout=RERUN_TIMEOUT_MS)
        audit = gil_one.get_by_test_id("stExpander").filter(
            has_text="Who saved, deleted or loaded what"
        )
        audit.get_by_text("Who saved, deleted or loaded what").click()
        expect(audit.get_by_test_id("stDataFrame")).to_contain_text(
            "the snapshot of Fri 13 Nov 2026"
        )

        # Hal, on either process, sees neither the file nor the snapshot.
        for proxy_url in (one, two):
            hal = signed_in(browser, proxy_url, "hal@birch.io")
            pages.append(hal)
            sees_none_of(hal, proxy_url, "hal@birch.io", "gil-deals.csv", "Gil Owner")
    finally:
        for page in pages:
            page.context.close()
