"""`make bench`: Closeboard's load and pages at 10k, 100k and 1M deals, against DuckDB and pandas.

Prints a table of times, ratios and peak memory and writes it as JSON to bench/results.json.
`make bench BENCH_5M=1` adds 5M rows. Benchmarks are not tests: nothing here asserts a time.
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
from pathlib import Path

from bench.generate import write_export, write_quotas, write_reps

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".cache"
RESULTS = ROOT / "bench" / "results.json"
SIZES = [10_000, 100_000, 1_000_000]
PAGES = ("data_page", "pacing_page", "close_today_page", "warnings_page", "coaching_page",
         "qbr_page", "explore_page", "changes_page", "full_report")  # fmt: skip


def database_url() -> str | None:
    """The PostgreSQL store to measure: BENCH_DATABASE_URL, else the app's own
    CLOSEBOARD_DATABASE_URL; None when neither is set."""
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("CLOSEBOARD_DATABASE_URL") or None


def files_for(rows: int) -> Path:
    """The seeded export of this size, written once and reused by later runs."""
    folder = CACHE / f"{rows}"
    if not (folder / "opportunities.csv").exists():
        folder.mkdir(parents=True, exist_ok=True)
        print(f"writing a {rows:,}-row export…", file=sys.stderr)
        write_quotas(rows, folder / "quotas.csv")
        write_reps(rows, folder / "reps.csv")
        write_export(rows, folder / "opportunities.partial.csv")
        (folder / "opportunities.partial.csv").rename(folder / "opportunities.csv")
    return folder


def measure(kind: str, folder: Path) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "bench.measure", kind, str(folder)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(result.stdout)


def row_for(rows: int) -> dict:
    folder = files_for(rows)
    size_mb = (folder / "opportunities.csv").stat().st_size / 1e6
    kinds = ("duckdb", "duckdb_holding_bytes", "pandas", "closeboard")
    ways = {kind: measure(kind, folder) for kind in kinds}
    ours = ways["closeboard"]
    return {
        "rows": rows,
        "file_mb": round(size_mb, 1),
        "duckdb_read_csv_s": ways["duckdb"]["load"],
        "pandas_s": ways["pandas"]["load"],
        "closeboard_load_s": ours["load"],
        "load_vs_duckdb": ours["load"] / ways["duckdb"]["load"],
        "pandas_vs_load": ways["pandas"]["load"] / ours["load"],
        "resolve_s": ours["resolve"],
        **{f"{page}_s": ours[page] for page in PAGES},
        "load_peak_rss_mb": ours["load_peak_rss_mb"],
        "load_rss_vs_file": ours["load_peak_rss_mb"] / size_mb,
        "peak_rss_mb": ours["peak_rss_mb"],
        "rss_vs_file": ours["peak_rss_mb"] / size_mb,
        "duckdb_peak_rss_mb": ways["duckdb"]["peak_rss_mb"],
        "duckdb_holding_bytes_peak_rss_mb": ways["duckdb_holding_bytes"]["peak_rss_mb"],
        "duckdb_holding_bytes_rss_vs_file": ways["duckdb_holding_bytes"]["peak_rss_mb"] / size_mb,
        "pandas_peak_rss_mb": ways["pandas"]["peak_rss_mb"],
    }


# (label, key, format) of each line of the printed table; one column per size.
TABLE = (
    ("file size (MB)", "file_mb", "{:.1f}"),
    ("DuckDB read_csv (s)", "duckdb_read_csv_s", "{:.2f}"),
    ("pandas normalisation (s)", "pandas_s", "{:.2f}"),
    ("Closeboard load (s)", "closeboard_load_s", "{:.2f}"),
    ("  load / DuckDB read_csv", "load_vs_duckdb", "{:.2f}x"),
    ("  pandas / load", "pandas_vs_load", "{:.1f}x"),
    ("resolved, set apart (s)", "resolve_s", "{:.3f}"),
    *((f"{page.replace('_', ' ')} (s)", f"{page}_s", "{:.3f}") for page in PAGES),
    ("peak RSS of the load (MB)", "load_peak_rss_mb", "{:.0f}"),
    ("  / file size", "load_rss_vs_file", "{:.1f}x"),
    ("peak RSS with the pages (MB)", "peak_rss_mb", "{:.0f}"),
    ("  / file size", "rss_vs_file", "{:.1f}x"),
    ("DuckDB read_csv peak (MB)", "duckdb_peak_rss_mb", "{:.0f}"),
    ("  holding the bytes (MB)", "duckdb_holding_bytes_peak_rss_mb", "{:.0f}"),
    ("  / file size", "duckdb_holding_bytes_rss_vs_file", "{:.1f}x"),
    ("pandas peak (MB)", "pandas_peak_rss_mb", "{:.0f}"),
)


STORE_ROWS = 100_000
# (name in results.json, label, measure's kind) of each store, one line each.
STORES = (("duckdb", "embedded DuckDB", "store_duckdb"),
          ("postgresql", "PostgreSQL", "store_postgresql"))  # fmt: skip
# (label, key, format) of each column of the store table.
STORE_TABLE = (
    ("save (s)", "save_s", "{:.2f}"),
    ("read back (s)", "read_s", "{:.2f}"),
    ("list (s)", "list_s", "{:.3f}"),
    ("save CPU (s)", "save_cpu_s", "{:.2f}"),
    ("read CPU (s)", "read_cpu_s", "{:.2f}"),
    ("peak RSS (MB)", "peak_rss_mb", "{:.0f}"),
)


def store_results() -> dict:
    """Saving and reading back a 100k-deal snapshot in each store. A store that cannot be
    measured here is null, with the reason beside it."""
    folder = files_for(STORE_ROWS)
    results: dict = {"rows": STORE_ROWS}
    for name, _, kind in STORES:
        figures = measure(kind, folder)
        results[name] = None if "missing" in figures else figures
        if "missing" in figures:
            results[f"{name}_missing"] = figures["missing"]
    return results


def print_store_table(results: dict) -> None:
    print(f"\nsnapshot of {results['rows']:,} deals" + "".join(
        f"{label:>15}" for label, _, _ in STORE_TABLE))  # fmt: skip
    for name, label, _ in STORES:
        figures = results[name]
        if figures is None:
            print(f"{label:<28}– ({results[f'{name}_missing']})")
            continue
        print(f"{label:<28}" + "".join(
            f"{fmt.format(figures[key]):>15}" for _, key, fmt in STORE_TABLE))  # fmt: skip
    print("(wall seconds, median of three saves of new dates and their reads; CPU is this "
          "process's, a database server's not counted)")  # fmt: skip


def print_table(rows: list[dict]) -> None:
    print(f"{'rows':<28}" + "".join(f"{row['rows']:>14,}" for row in rows))
    for label, key, fmt in TABLE:
        print(f"{label:<28}" + "".join(f"{fmt.format(row[key]):>14}" for row in rows))


def main() -> None:
    sizes = SIZES + ([5_000_000] if os.environ.get("BENCH_5M") else [])
    rows = [row_for(size) for size in sizes]
    stores = store_results()
    machine = f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}"
    print(f"Closeboard benchmark on {machine}")
    print_table(rows)
    print_store_table(stores)
    RESULTS.write_text(
        json.dumps({"machine": machine, "results": rows, "store": stores}, indent=2) + "\n"
    )
    print(f"written to {RESULTS.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
