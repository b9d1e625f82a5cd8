"""Many users at once: `make bench-sessions` runs 10 browser sessions on one Closeboard server.

Each session uploads the same seeded 100k-deal export (with its quotas and reps), then opens
every page in turn. Reported: errors (a traceback on a page, a page that never finishes) and
the time from a click to the page's run finishing, p50 and p95 per page. Not a test: nothing
here fails on a time; it prints the figures and writes bench/sessions.json.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

from playwright.async_api import Page, async_playwright

from bench.run import ROOT, files_for

CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]  # fmt: skip
IDLE = '[data-testid="stApp"][data-test-script-state="notRunning"]'
PAGE_TIMEOUT_MS = 120_000


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far (Linux /proc)."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def peak_memory_mb(pid: int) -> float:
    """The most resident memory a process has held (VmHWM in /proc)."""
    with open(f"/proc/{pid}/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return 0.0


def machine_busy_seconds() -> float:
    """CPU time every core of the machine has spent busy since it started (Linux /proc/stat)."""
    with open("/proc/stat", encoding="ascii") as stat:
        user, nice, system, idle, iowait, *rest = map(int, stat.readline().split()[1:])
    return (user + nice + system + sum(rest)) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "app.py", "--server.port", str(port),
         "--server.headless", "true", "--server.fileWatcherType", "none"],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return server
        except OSError:
            time.sleep(0.5)
    server.kill()
    raise RuntimeError("the Closeboard server did not start within 60 s")


async def settle(page: Page) -> None:
    """Waits until Streamlit has started and finished the run the last action caused."""
    await page.wait_for_timeout(200)
    await page.wait_for_selector(IDLE, timeout=PAGE_TIMEOUT_MS)


async def one_session(browser, url: str, folder: Path, number: int) -> dict:
    context = await browser.new_context(viewport={"width": 1440, "height": 1000})
    page = await context.new_page()
    timings: dict[str, float] = {}
    errors: list[str] = []
    try:
        await page.goto(url)
        await settle(page)
        await page.get_by_test_id("stSidebar").get_by_text("My uploads", exact=True).click()
        await settle(page)
        start = time.perf_counter()
        uploads = (("Opportunities export", "opportunities.csv"),
                   ("Quotas / budgets", "quotas.csv"), ("Reps and teams", "reps.csv"))  # fmt: skip
        for label, name in uploads:
            uploader = page.get_by_test_id("stFileUploader").filter(has_text=label)
            await uploader.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(
                folder / name
            )
            await settle(page)
        timings["upload and load"] = time.perf_counter() - start
        links = page.get_by_test_id("stSidebarNavLink")
        for index in range(await links.count()):
            # The link's text starts with its icon's ligature name; the title is the last line.
            title = (await links.nth(index).inner_text()).strip().splitlines()[-1]
            start = time.perf_counter()
            await links.nth(index).click()
            await settle(page)
            timings[title] = time.perf_counter() - start
            if await page.get_by_test_id("stException").count():
                errors.append(f"session {number}: a traceback on {title}")
    except Exception as error:  # a session that fails is counted, and the others go on
        errors.append(f"session {number}: {type(error).__name__}: {str(error).splitlines()[0]}")
    finally:
        await context.close()
    return {"timings": timings, "errors": errors}


async def run(sessions: int, rows: int) -> dict:
    folder = files_for(rows)
    port = free_port()
    server = start_server(port)
    busy_at_start = machine_busy_seconds()
    try:
        async with async_playwright() as playwright:
            browser = await playwright.chromium.launch(
                executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
            )
            results = await asyncio.gather(
                *(
                    one_session(browser, f"http://127.0.0.1:{port}", folder, n)
                    for n in range(sessions)
                )  # fmt: skip
            )
            await browser.close()
        server_cpu = cpu_seconds(server.pid)
        server_memory = peak_memory_mb(server.pid)
        machine_cpu = machine_busy_seconds() - busy_at_start
    finally:
        server.terminate()
        server.wait(timeout=10)
    by_page: dict[str, list[float]] = {}
    for result in results:
        for title, seconds in result["timings"].items():
            by_page.setdefault(title, []).append(seconds)
    return {
        "sessions": sessions,
        "rows": rows,
        "server_cpu_s": server_cpu,
        "machine_cpu_s": machine_cpu,
        "server_peak_rss_mb": server_memory,
        "errors": [error for result in results for error in result["errors"]],
        "pages": {
            title: {
                "p50_s": statistics.median(times),
                "p95_s": percentile(times, 0.95),
                "runs": len(times),
            }  # fmt: skip
            for title, times in by_page.items()
        },
    }


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--sessions", type=int, default=10)
    parser.add_argument("--rows", type=int, default=100_000)
    args = parser.parse_args()
    result = asyncio.run(run(args.sessions, args.rows))
    print(f"{result['sessions']} sessions on a {result['rows']:,}-deal export")
    print(f"{'page':<40}{'p50 (s)':>10}{'p95 (s)':>10}{'runs':>6}")
    for title, figures in result["pages"].items():
        print(f"{title:<40}{figures['p50_s']:>10.2f}{figures['p95_s']:>10.2f}{figures['runs']:>6}")
    print(
        f"CPU time on {os.cpu_count()} cores: {result['machine_cpu_s']:.0f} s in all, of which the "
        f"server {result['server_cpu_s']:.0f} s (the rest is the browsers and this script)"
    )
    print(f"Server peak memory: {result['server_peak_rss_mb']:,.0f} MB")
    print(f"errors: {len(result['errors'])}")
    for error in result["errors"]:
        print(f"  {error}")
    (ROOT / "bench" / "sessions.json").write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
