"""A stage named closed that the export marks open, in a real browser: the Data page asks, the
answer changes the figures, and the local workspace keeps it across a reload."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_upload import (
    IDLE,
    RERUN_TIMEOUT_MS,
    metric,
    open_app,
    switch_to_uploads,
    upload_export,
    write,
)

pytestmark = pytest.mark.timeout(180)

PORTAL = "\n".join(
    [
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Deal probability",
        "1,Acme,Closed: abandoned,1000,2025-01-02,Dana Reyes,10",
        "2,Birch,Closed: abandoned,2000,2025-02-02,Dana Reyes,10",
        "3,Cobalt,Awaiting outcome,500,2025-06-02,Lee Park,60",
    ]
)
QUESTION = "'Closed: abandoned': 2 deals, $3K, named closed, but Deal probability says open"


def upload_portal(page: Page, export: Path, open_: str, lost: str) -> None:
    """The export uploaded from the uploads source; the Data page's Open and Lost show these."""
    page.locator(IDLE).wait_for(timeout=RERUN_TIMEOUT_MS)
    switch_to_uploads(page)
    upload_export(page, export)
    expect(metric(page, "Lost")).to_have_text(lost, timeout=RERUN_TIMEOUT_MS)
    expect(metric(page, "Open")).to_have_text(open_)


def test_the_answer_to_a_stage_question_changes_the_figures_and_survives_a_reload(
    page: Page, server_url: str, tmp_path: Path
) -> None:
    export = write(tmp_path, "portal.csv", PORTAL)
    main = page.get_by_test_id("stMain")
    open_app(page, server_url)
    upload_portal(page, export, open_="$3.5K", lost="$0")
    expect(main.get_by_text(QUESTION)).to_be_visible()

    main.get_by_role("button", name="Count them as lost").click()

    expect(metric(page, "Open")).to_have_text("$500", timeout=RERUN_TIMEOUT_MS)
    expect(metric(page, "Lost")).to_have_text("$3K")
    expect(main.get_by_text(QUESTION)).to_have_count(0)

    # Without sign-in the upload is not brought back, but the Data page's choices are: the
    # same export uploaded again is read with the answer.
    page.reload()
    upload_portal(page, export, open_="$500", lost="$3K")
    expect(main.get_by_text(QUESTION)).to_have_count(0)
    expect(page.get_by_test_id("stException")).to_have_count(0)
