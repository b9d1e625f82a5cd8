"""One measurement in a fresh process, printed as JSON: `python -m bench.measure KIND FOLDER`.

Run in its own process so that each figure's peak memory (RSS) belongs to that way alone.
"""

from __future__ import annotations

import contextlib
import json
import resource
import statistics
import sys
import time
from datetime import timedelta
from itertools import islice
from pathlib import Path

PAGE_REPEATS = 3


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed(work) -> tuple[float, object]:
    start = time.perf_counter()
    result = work()
    return time.perf_counter() - start, result


def median_seconds(work) -> float:
    """Median of a few runs: page figures are computed again on every Streamlit rerun."""
    return statistics.median(timed(work)[0] for _ in range(PAGE_REPEATS))


def duckdb_read_csv(folder: Path, hold_bytes: bool = False) -> dict:
    """The practical limit: DuckDB's own reader, sniffing the file, into a table. With
    `hold_bytes`, the file's bytes are held meanwhile, as Streamlit holds an upload's: the floor
    of any load's peak memory in the app."""
    import duckdb

    held = (folder / "opportunities.csv").read_bytes() if hold_bytes else b""
    con = duckdb.connect()
    seconds, _ = timed(
        lambda: con.execute(
            "CREATE TABLE raw AS SELECT * FROM read_csv($path, ignore_errors = true)",
            {"path": str(folder / "opportunities.csv")},
        )
    )
    return {"load": seconds, "peak_rss_mb": peak_rss_mb(), "bytes_held": len(held)}


def pandas_way(folder: Path) -> dict:
    """What most dashboards do: read_csv, clean the strings, parse the dates."""
    import pandas as pd

    def normalise():
        frame = pd.read_csv(folder / "opportunities.csv", dtype=str, keep_default_na=False)
        frame = frame[frame["Stage"].str.strip() != ""].copy()
        for column in ("Opportunity Owner", "Account Name", "Opportunity Name", "Stage"):
            frame[column] = frame[column].str.strip()
        frame["Amount"] = pd.to_numeric(
            frame["Amount"].str.replace(r"[^0-9.\-]", "", regex=True), errors="coerce"
        )
        frame["Probability (%)"] = pd.to_numeric(frame["Probability (%)"], errors="coerce") / 100
        for column in ("Close Date", "Created Date", "Last Activity"):
            frame[column] = pd.to_datetime(frame[column], format="%m/%d/%Y", errors="coerce")
        return frame

    seconds, _ = timed(normalise)
    return {"load": seconds, "peak_rss_mb": peak_rss_mb()}


def closeboard(folder: Path) -> dict:
    """Closeboard's load into the canonical tables, each page's figures, the full report."""
    from bench.generate import AS_OF
    from lib import explore
    from lib.changes import compare
    from lib.close_today import close_today, every_deal
    from lib.coaching import coaching
    from lib.fiscal import fiscal_quarter
    from lib.load.opportunities import load_opportunities
    from lib.load.reps import load_reps
    from lib.load.targets import load_targets
    from lib.one_on_one import one_on_one_sheet
    from lib.overview import export_summary, owners, quota_grid
    from lib.pacing import cumulative_series, linearity, pacing, periods_to_choose
    from lib.pipeline_warnings import (
        coverage_by_rep,
        created_by_week,
        pipeline_blocks,
        pipeline_figures,
        pipeline_warnings,
    )
    from lib.qbr import qbr
    from lib.report import report
    from lib.session import assemble
    from lib.settings import Settings
    from lib.store import snapshot_of_export

    settings = Settings(as_of=AS_OF)
    data = (folder / "opportunities.csv").read_bytes()
    load_seconds, export = timed(lambda: load_opportunities(data, "opportunities.csv"))
    load_peak_rss_mb = peak_rss_mb()  # the file's bytes, its text and the deals, all at once
    targets = load_targets((folder / "quotas.csv").read_bytes(), "quotas.csv", settings)
    reps = load_reps((folder / "reps.csv").read_bytes(), "reps.csv")

    # As the app does: the session resolves the deals against the reps once and sets apart what
    # the figures read again and again (the open deals, the owners' teams); every page reads them.
    resolve_seconds, session = timed(lambda: assemble(export, settings, targets=targets, reps=reps))
    con = session.connection()
    period = fiscal_quarter(AS_OF, settings)

    def pacing_page():
        result = pacing(con, settings, period)
        cumulative_series(con, settings, result)
        linearity(con, settings, period)
        periods_to_choose(con, settings, "quarter")

    def close_today_page():
        # What the page builds: every rep's totals, the deals of the twelve cards and the
        # first thousand rows of the table (the CSV of them all is written only when asked).
        lists = close_today(con, settings)
        for rep_list in lists[:12]:
            rep_list.deals  # noqa: B018 - built on first read, as the page reads them
        list(islice(every_deal(lists), 1000))

    def warnings_page():
        figures = pipeline_figures(con, settings)
        pipeline_warnings(con, settings, None, figures)
        pipeline_blocks(con, settings)
        coverage_by_rep(figures)
        created_by_week(con, settings, figures.owners)

    def coaching_page():
        # The scorecard, the warnings and the first rep's 1:1 sheet, as the page opens.
        found = coaching(con, settings)
        figures = pipeline_figures(con, settings, this_quarter=found.quarter)
        warnings = pipeline_warnings(con, settings, None, figures)
        one_on_one_sheet(con, settings, found.reps[0].owner, found, warnings, None, "bench")

    def explore_page():
        # The page's default view: won amount by owner.
        available = explore.dimensions(export.deals.column_names)
        explore.explore(con, explore.View(), available, settings)

    def changes_page():
        # This export against a snapshot of itself a week earlier: every deal is matched.
        newer = snapshot_of_export(export, AS_OF)
        older = snapshot_of_export(export, AS_OF - timedelta(days=7))
        compare(older, newer, settings)

    pages = {
        "data_page": lambda: (export_summary(con), owners(con), quota_grid(con)),
        "pacing_page": pacing_page,
        "close_today_page": close_today_page,
        "warnings_page": warnings_page,
        "coaching_page": coaching_page,
        "qbr_page": lambda: qbr(con, settings, period, None),
        "explore_page": explore_page,
        "changes_page": changes_page,
    }
    figures = {name: median_seconds(work) for name, work in pages.items()}
    figures["full_report"] = median_seconds(lambda: report(con, settings, None))
    return {
        "load": load_seconds,
        "load_peak_rss_mb": load_peak_rss_mb,
        "resolve": resolve_seconds,
        "rows_loaded": export.report.rows_loaded,
        **figures,
        "peak_rss_mb": peak_rss_mb(),
    }


# A week's snapshots: each save is of a new date, so the store grows as it does in use.
STORE_SAVES = 3
BENCH_WORKSPACE_KEY = "closeboard-bench"


def store_timings(folder: Path, store) -> dict:
    """Saving the export as a snapshot, reading each back and listing the store: the median of
    STORE_SAVES of each. `store` has the WorkspaceStore methods save_snapshot, read_snapshot and
    list_snapshots."""
    from bench.generate import AS_OF
    from lib.load.opportunities import load_opportunities
    from lib.store import snapshot_of_export

    export = load_opportunities((folder / "opportunities.csv").read_bytes(), "opportunities.csv")
    dates = [AS_OF - timedelta(days=7 * weeks) for weeks in range(STORE_SAVES)]
    saves = [both_clocks(lambda day=day: store.save_snapshot(snapshot_of_export(export, day)))
             for day in dates]  # fmt: skip
    reads = [both_clocks(lambda day=day: store.read_snapshot(day)) for day in dates]
    lists = [both_clocks(store.list_snapshots) for _ in dates]
    return {
        "deals": export.deals.num_rows,
        # What was read back, so that a fast read of nothing cannot pass for a figure.
        "deals_read": reads[0][2].deals.num_rows,
        **{
            f"{what}_{clock}": statistics.median(run[index] for run in runs)
            for what, runs in (("save", saves), ("read", reads), ("list", lists))
            for index, clock in ((0, "s"), (1, "cpu_s"))
        },
        "peak_rss_mb": peak_rss_mb(),
    }


def both_clocks(work) -> tuple[float, float, object]:
    """Wall seconds, and this process's CPU seconds (every thread's; not a database server's)."""
    cpu = time.process_time()
    seconds, result = timed(work)
    return seconds, time.process_time() - cpu, result


class _DuckDBFile:
    """Today's embedded store, one DuckDB file, through lib/store.py's functions."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def save_snapshot(self, snapshot):
        from lib import store

        return store.save_snapshot(snapshot, self.path)

    def read_snapshot(self, as_of):
        from lib import store

        return store.read_snapshot(as_of, self.path)

    def list_snapshots(self):
        from lib import store

        return store.list_snapshots(self.path)


def duckdb_store(folder: Path) -> dict:
    """The embedded store: a new DuckDB file in a scratch folder, removed after."""
    import tempfile

    with tempfile.TemporaryDirectory(prefix="closeboard-bench-") as scratch:
        path = Path(scratch) / "closeboard.duckdb"
        figures = store_timings(folder, _DuckDBFile(path))
        figures["store_mb"] = sum(
            file.stat().st_size for file in Path(scratch).iterdir()
        ) / 2**20  # fmt: skip
    return figures


def postgresql_store(folder: Path) -> dict:
    """The PostgreSQL store (lib.stores, lib.pgstore) at BENCH_DATABASE_URL, else
    CLOSEBOARD_DATABASE_URL, in a workspace of the bench's own, deleted after. {"missing":
    why} when there is no database to measure or no PostgreSQL store in this Closeboard."""
    from bench.run import database_url

    url = database_url()
    if not url:
        return {"missing": "no PostgreSQL: set BENCH_DATABASE_URL"}
    try:
        from lib import stores
        from lib.workspaces import Workspace, WorkspaceError
    except ImportError:
        return {"missing": "this Closeboard has no PostgreSQL store (lib/stores.py)"}
    backend = stores.backend(url)
    backend.claim()  # creates or migrates the schema, as the app does at start
    # The bench deletes its workspace after: it must never be one that someone uses.
    if any(entry["key"] == BENCH_WORKSPACE_KEY for entry in backend.list_workspaces()):
        return {"missing": f"a workspace {BENCH_WORKSPACE_KEY} is in that database already"}
    try:
        return store_timings(folder, backend.workspace(Workspace(BENCH_WORKSPACE_KEY, "bench")))
    finally:
        with contextlib.suppress(WorkspaceError):  # nothing was saved: there is none to delete
            backend.delete_workspace(BENCH_WORKSPACE_KEY)


WAYS = {
    "duckdb": duckdb_read_csv,
    "duckdb_holding_bytes": lambda folder: duckdb_read_csv(folder, hold_bytes=True),
    "pandas": pandas_way,
    "closeboard": closeboard,
    "store_duckdb": duckdb_store,
    "store_postgresql": postgresql_store,
}

if __name__ == "__main__":
    kind, folder = sys.argv[1], Path(sys.argv[2])
    print(json.dumps(WAYS[kind](folder)))
