"""A workbook made to bring the server down, uploaded in Chromium: the page says plainly why it
was not opened, and the same server then loads a good export."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.e2e.test_upload import (
    HUBSPOT_DEALS,
    RERUN_TIMEOUT_MS,
    expect_counts,
    expect_no_traceback,
    open_app,
    switch_to_uploads,
    upload_export,
    write,
)
from tests.test_hostile_uploads import workbook_with_far_cell

pytestmark = pytest.mark.timeout(120)


def test_a_workbook_with_a_cell_at_xfd1048576_is_refused_and_the_server_goes_on(
    page: Page, server_url: str, tmp_path: Path
) -> None:
    far_cell = write(tmp_path, "deals.xlsx", workbook_with_far_cell("XFD1048576", filled=True))
    good = write(tmp_path, "hubspot-deals.csv", HUBSPOT_DEALS)
    open_app(page, server_url)
    switch_to_uploads(page)

    upload_export(page, far_cell)

    main = page.get_by_test_id("stMain")
    expect(
        main.get_by_test_id("stAlert").filter(
            has_text="has cells up to XFD1048576 (16,384 columns × 1,048,576 rows)"
        )
    ).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    expect_no_traceback(page)

    upload_export(page, good)

    expect_counts(page, read=5, loaded=4, not_loaded=1)
    expect_no_traceback(page)
