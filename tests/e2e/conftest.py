"""Browser fixtures: a Closeboard server per test module on a free port, and Debian's Chromium."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, sync_playwright

CHROMIUM = Path("/usr/bin/chromium")
REPO_ROOT = Path(__file__).resolve().parents[2]
SERVER_START_TIMEOUT_S = 60
SERVER_STOP_TIMEOUT_S = 10
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_healthy(url: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"streamlit exited with {server.returncode}:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.read().decode().strip() == "ok":
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.2)
    raise RuntimeError(
        f"streamlit did not answer {url}/_stcore/health within {SERVER_START_TIMEOUT_S} s:\n"
        f"{log.read_text()}"
    )


def stop(server: subprocess.Popen) -> None:
    server.terminate()
    try:
        server.wait(timeout=SERVER_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        server.kill()
        server.wait()


@pytest.fixture(scope="module")
def server_options() -> tuple[str, ...]:
    """Extra `streamlit run` options; a test module that needs its own (a smaller upload limit)
    overrides this fixture, and only its server gets them."""
    return ()


@pytest.fixture(scope="module")
def server_env() -> dict[str, str]:
    """Extra environment for the server; a test module that needs its own (a sign-in mode)
    overrides this fixture."""
    return {}


@pytest.fixture(scope="module")
def server_url(
    tmp_path_factory: pytest.TempPathFactory,
    server_options: tuple[str, ...],
    server_env: dict[str, str],
    browser: Browser,
) -> Iterator[str]:
    """`streamlit run app.py` from the repo root, stopped when the test module is done."""
    with running_server(
        tmp_path_factory.mktemp("streamlit"), browser, server_options, server_env
    ) as url:
        yield url


@contextmanager
def running_server(
    folder: Path,
    browser: Browser,
    options: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> Iterator[str]:
    """A `streamlit run app.py` on a free port, its log, store and data folder in `folder`;
    its URL, once it answers and a first visitor has opened it. Stopped on leaving."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    log = folder / "server.log"
    store = log.with_name("closeboard.duckdb")
    command = [
        sys.executable, "-m", "streamlit", "run", "app.py",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.headless", "true",
        "--browser.gatherUsageStats", "false",
        "--server.fileWatcherType", "none",
        *options,
    ]  # fmt: skip
    with log.open("wb") as output:
        server = subprocess.Popen(
            command,
            cwd=REPO_ROOT,
            stdout=output,
            stderr=subprocess.STDOUT,
            # Each server keeps its snapshots in its own store and owns a data folder of its
            # own, never the project's data/.
            env={
                **os.environ,
                "PYTHONUNBUFFERED": "1",
                "CLOSEBOARD_DB": str(store),
                "CLOSEBOARD_DATA_DIR": str(log.with_name("data")),
                **(env or {}),
            },
        )
    try:
        wait_until_healthy(url, server, log)
        warm_up(browser, url)
        yield url
    finally:
        stop(server)


def warm_up(browser: Browser, url: str) -> None:
    """Opens the front page once. Until a first script run calls st.navigation, Streamlit 1.67
    treats the pages/ folder as old-style pages, and a first visitor arriving on a deep link sees
    a "Page not found" dialog over the page (docs/deployment.md, "Limits, as measured"); every later visitor does not.
    Each test then starts as any visitor after the first, whatever order the tests run in."""
    context = browser.new_context()
    try:
        page = context.new_page()
        page.goto(url)
        page.locator(IDLE).wait_for(timeout=SERVER_START_TIMEOUT_S * 1000)
    finally:
        context.close()


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium: CI installs it; Playwright's own browser download is not used."""
    if not CHROMIUM.exists():
        pytest.skip(f"browser tests need Debian's Chromium at {CHROMIUM} (apt install chromium)")
    playwright = sync_playwright().start()
    chromium = playwright.chromium.launch(
        executable_path=str(CHROMIUM),
        args=[
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )
    try:
        yield chromium
    finally:
        chromium.close()
        playwright.stop()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 1440, "height": 1000})
    try:
        yield context.new_page()
    finally:
        context.close()


@contextmanager
def offline_file(browser: Browser, path: Path, viewport: dict | None = None):
    """A page showing the file with the network off and every request for anything but a file:
    or data: address refused and listed: an export must open offline and ask for nothing."""
    context = browser.new_context(viewport=viewport, offline=True)
    asked_for: list[str] = []

    def only_the_file(route) -> None:
        if route.request.url.startswith(("file:", "data:")):
            route.continue_()
        else:
            asked_for.append(route.request.url)
            route.abort()

    try:
        reader = context.new_page()
        reader.route("**/*", only_the_file)
        reader.goto(path.as_uri())
        yield reader, asked_for
    finally:
        context.close()
