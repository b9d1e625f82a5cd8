"""Takes the README's screenshots: each page on the sample data, in headless Chromium at
1440×900, from a `streamlit run` of this checkout on a free localhost port. `make screenshots`."""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.e2e.conftest import CHROMIUM, IDLE, REPO_ROOT, free_port, stop, wait_until_healthy

OUT = REPO_ROOT / "docs" / "screenshots"
# Each page's address, and the file its picture is saved as.
PAGES = {
    "": "pacing.png",  # the front page
    "what-can-we-close-today": "close-today.png",
    "who-is-about-to-drive-off-the-cliff": "warnings.png",
    "how-do-we-coach-each-rep": "coaching.png",
    "quarterly-business-review": "qbr.png",
    "what-changed-since-last-week": "changes.png",
    "explore-the-data": "explore.png",
    "what-did-we-load": "data.png",
}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
         "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip


def main() -> None:
    OUT.mkdir(exist_ok=True)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryDirectory() as folder:
        log = Path(folder) / "server.log"
        env = {**os.environ, "CLOSEBOARD_DATA_DIR": folder, "CLOSEBOARD_DB": f"{folder}/x.duckdb"}
        with log.open("wb") as output:
            server = subprocess.Popen(
                [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
                 "--server.address", "127.0.0.1", "--server.headless", "true"],  # fmt: skip
                cwd=REPO_ROOT, stdout=output, stderr=subprocess.STDOUT, env=env,
            )  # fmt: skip
        try:
            wait_until_healthy(url, server, log)
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=FLAGS)
                # A first visitor, then the one whose pictures are taken: the first to arrive
                # on a page's own address sees Streamlit 1.67's "Page not found" over it
                # (docs/deployment.md, "Limits, as measured").
                first = browser.new_page()
                first.goto(url)
                first.locator(IDLE).wait_for(timeout=60_000)
                first.close()
                page = browser.new_page(viewport={"width": 1440, "height": 900})
                for path, name in PAGES.items():
                    page.goto(f"{url}/{path}")
                    page.locator(IDLE).wait_for(timeout=60_000)
                    # Drawn when no placeholder of an element still waits, and the charts have
                    # had a moment after the script.
                    page.wait_for_function(
                        "!document.querySelector('[data-testid=\"stSkeleton\"]')",
                        timeout=60_000,
                    )
                    page.wait_for_timeout(3_000)
                    page.screenshot(path=str(OUT / name))
                    print(f"docs/screenshots/{name}")
                browser.close()
        finally:
            stop(server)


if __name__ == "__main__":
    main()
