"""Closeboard from the command line: `inspect` an export, print the Monday `report`, write a
quarter's `qbr` as one HTML file, keep `snapshot`s of each week's export and print the `changes`
between two, `explore` the deals and `query` them with SQL, list or delete `workspaces`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import duckdb

from lib import changes, explore, query, store, workspaces
from lib.coaching import parse_keywords
from lib.db import open_database
from lib.fiscal import fiscal_quarter, quarter_from_label
from lib.load.errors import LoadError
from lib.load.mapping import mapping_from_json
from lib.load.opportunities import LoadedExport, load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_quota_rows, load_targets
from lib.load.zip_export import QUOTA_FILE, DataExportFiles, history_push_counts
from lib.overview import default_as_of, export_summary
from lib.qbr import qbr
from lib.qbr_export import qbr_html
from lib.query import SessionTables
from lib.report import json_ready, qbr_section, report
from lib.settings import PACE_METHODS, REFERRAL_KEYWORDS, Settings


def inspect_report(loaded: LoadedExport) -> dict[str, object]:
    """What the Data page shows about a load, as JSON-ready values (dates ISO, shares 0–1)."""
    report = loaded.report
    # Amounts in the display currency: a Data Export's corporate one, converted by its rates.
    rates = loaded.export_files.rates if loaded.export_files else None
    summary = export_summary(open_database(loaded.deals, rates=rates or None))
    return {
        "file": report.file_name,
        "format": report.layout,
        "file_kind": report.file_kind,
        "encoding": report.encoding,
        "delimiter": report.delimiter,
        "sheet": report.sheet,
        "footer_lines": report.footer_lines,
        "mapping": report.mapping,
        "unmapped_columns": list(report.unmapped_headers),
        "date_formats": {
            key: {"format": r.label, "ambiguous": r.ambiguous, "note": r.reason or None}
            for key, r in report.date_readings.items()
        },
        "decimal_comma": report.decimal_comma,
        "rows_read": report.rows_read,
        "rows_loaded": report.rows_loaded,
        "rows_rejected": report.rows_rejected,
        "rejected": report.rejected,
        "duplicate_ids": list(report.duplicate_ids),
        "unreadable": {
            key: {"count": cells.count, "examples": list(cells.examples)}
            for key, cells in report.unreadable.items()
        },
        "stages": [
            {
                "stage": r.stage,
                "status": r.status,
                "probability": r.probability,
                "probability_from": r.source,
                "deals": r.deals,
            }
            for r in report.stage_rules
        ],  # fmt: skip
        "currencies": list(report.currencies),
        **_export_files(loaded),
        **{
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in summary.items()
        },
    }


def _export_files(loaded: LoadedExport) -> dict[str, object]:
    """What a Salesforce Data Export's files gave: "files_used" [{"file", "taken"}] and
    "files_not_used"; nothing for an export of one file."""
    files = loaded.export_files
    if files is None:
        return {}
    return {
        "files_used": [{"file": used.file, "taken": used.taken} for used in files.files_used],
        "files_not_used": list(files.not_used),
        "display_currency": loaded.report.display_currency,
    }


def _inspect(args: argparse.Namespace) -> int:
    mapping = mapping_from_json(Path(args.mapping).read_bytes()) if args.mapping else None
    loaded = load_opportunities(Path(args.file).read_bytes(), Path(args.file).name, mapping)
    report = inspect_report(loaded)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for key in ("format", "rows_read", "rows_loaded", "rows_rejected", "deals_open",
                    "deals_won", "deals_lost", "amount_open", "amount_won", "owners"):  # fmt: skip
            print(f"{key:>15}: {report[key]}")
        for reason, count in report["rejected"].items():
            print(f"{'rejected':>15}: {count} × {reason}")
    return 0


def load_session(args: argparse.Namespace) -> tuple[duckdb.DuckDBPyConnection, Settings, str]:
    """The same data options as the app's sidebar -> a database, the settings and the currency."""
    tables, settings, currency = load_tables(args)
    return tables.connection(), settings, currency


def load_tables(args: argparse.Namespace) -> tuple[SessionTables, Settings, str]:
    """The files the data options name, read as the sidebar reads them, with the settings and
    the display currency."""
    mapping = mapping_from_json(Path(args.mapping).read_bytes()) if args.mapping else None
    path = Path(args.opportunities)
    export = load_opportunities(path.read_bytes(), path.name, mapping)
    as_of = args.as_of or default_as_of(export.deals)
    files = export.export_files
    # A Data Export brings its own fiscal year, quotas, rates and close-date history; the
    # options given on the command line win.
    settings = settings_from_args(args, as_of, files)
    targets = None
    if args.targets:
        path = Path(args.targets)
        targets = load_targets(path.read_bytes(), path.name, settings).targets
    elif files and files.quotas:
        targets = load_quota_rows(files.quotas, QUOTA_FILE, settings).targets
    reps = load_reps(Path(args.reps).read_bytes(), Path(args.reps).name).reps if args.reps else None
    currency = export.report.display_currency
    rates = {currency: 1.0} if len(export.report.currencies) > 1 else None
    pushes = history = None
    if files is not None:
        rates = files.rates or rates
        if files.history_file is not None:
            history = files.history
            pushes = history_push_counts(history, export.deals, as_of)
    return SessionTables(export.deals, targets, reps, rates, pushes, history), settings, currency


def settings_from_args(
    args: argparse.Namespace, as_of: date, files: DataExportFiles | None = None
) -> Settings:
    """The options as Settings; without --fiscal-year-start, a Data Export's fiscal year."""
    from_export = files is not None and files.fiscal_start_month and not args.fiscal_year_start
    return Settings(
        as_of=as_of,
        fiscal_year_start_month=args.fiscal_year_start
        or (files.fiscal_start_month if from_export else None)
        or 1,
        fiscal_year_named_by_end=files.fiscal_named_by_end is not False if from_export else True,
        pace_method=getattr(args, "pace", "business"),
        close_window_days=getattr(args, "window_days", 0),
        late_min_probability=getattr(args, "min_probability", 0.6),
        referral_keywords=getattr(args, "referral_keywords", REFERRAL_KEYWORDS),
        query_timeout_seconds=getattr(args, "timeout", 10.0),
    )


def _explore(args: argparse.Namespace) -> int:
    con, settings, currency = load_session(args)
    available = explore.dimensions(con.sql("SELECT * FROM loaded_deals LIMIT 0").columns)
    filters: dict[str, tuple[str, ...]] = {}
    for condition in args.where:
        name, equals, value = condition.partition("=")
        if not equals:
            raise ValueError(f'--where takes DIMENSION=VALUE (owner="Ann Lee"), not "{condition}".')
        key = explore.find_dimension(name.strip(), available).key
        filters[key] = (*filters.get(key, ()), value)
    view = explore.View(
        deals=args.deals,
        measure=args.measure,
        by=explore.find_dimension(args.by, available).key,
        split=explore.find_dimension(args.split, available).key if args.split else None,
        filters=filters,
        top=args.top,
    )
    result = explore.explore(con, view, available, settings)
    print(json.dumps(explore.for_json(result, currency), indent=2))
    return 0


def _query(args: argparse.Namespace) -> int:
    tables, settings, _ = load_tables(args)
    try:
        result = query.run_query(args.sql, tables, settings.query_timeout_seconds)
    except query.QueryRefused as error:
        print(str(error), file=sys.stderr)
        return 1
    print(json.dumps(json_ready({"columns": result.column_names, "rows": [
        list(row.values()) for row in result.to_pylist()
    ]}), indent=2, default=str))  # fmt: skip
    return 0


def add_explore_commands(commands) -> None:
    """`explore` (a pivot of the deals) and `query` (one SELECT in the SQL box's sandbox)."""
    pivot = commands.add_parser("explore", help="a measure of a set of deals by a dimension")
    add_data_options(pivot)
    pivot.add_argument("--deals", choices=list(explore.DEAL_SETS), default="won",
                       help="which deals (default: won)")  # fmt: skip
    pivot.add_argument("--measure", choices=list(explore.MEASURES), default="amount",
                       help="what to show of them (default: amount)")  # fmt: skip
    pivot.add_argument("--by", required=True, metavar="DIM",
                       help="owner, team, stage, close_quarter… or a column")  # fmt: skip
    pivot.add_argument("--split", metavar="DIM", help="a second dimension")
    pivot.add_argument("--where", action="append", default=[], metavar="DIM=VALUE",
                       help="keep deals whose DIM is VALUE (repeatable)")  # fmt: skip
    pivot.add_argument("--top", type=int, default=explore.DEFAULT_TOP, metavar="N",
                       help="the N largest values, then all others")  # fmt: skip
    pivot.set_defaults(run=_explore)
    sql = commands.add_parser("query", help="one SELECT over the loaded tables, as JSON")
    add_data_options(sql)
    sql.add_argument(
        "sql",
        metavar="SQL",
        help=f"one SELECT over {', '.join(query.TABLES)}, and {query.HISTORY} with a Data Export",
    )
    sql.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                     help="cancel the query after this long (default 10)")  # fmt: skip
    sql.set_defaults(run=_query)


def _report(args: argparse.Namespace) -> int:
    con, settings, currency = load_session(args)
    print(json.dumps(json_ready(report(con, settings, currency)), indent=2))
    return 0


def _qbr(args: argparse.Namespace) -> int:
    con, settings, currency = load_session(args)
    quarter = quarter_from_label(args.quarter, settings)
    if quarter is None:
        raise ValueError(f"{args.quarter} is not a quarter: write it like 2026-Q3 or Q3 FY2026.")
    if quarter.start > fiscal_quarter(settings.as_of, settings).start:
        raise ValueError(
            f"{quarter.label} has not started by the as-of date {settings.as_of}: pick an "
            "earlier quarter, or a later --as-of."
        )
    result = qbr(con, settings, quarter, currency, store.last_open_stages(settings.as_of, args.db))
    Path(args.out).write_text(
        qbr_html(result, currency, Path(args.opportunities).name), encoding="utf-8"
    )
    print(json.dumps(json_ready(qbr_section(result, currency)), indent=2))
    return 0


def _export_snapshot(file: str, mapping_file: str | None, as_of: date | None) -> store.Snapshot:
    """An export file as a snapshot, dated `as_of` or else by the export's own date."""
    mapping = mapping_from_json(Path(mapping_file).read_bytes()) if mapping_file else None
    path = Path(file)
    export = load_opportunities(path.read_bytes(), path.name, mapping)
    return store.snapshot_of_export(export, as_of or default_as_of(export.deals))


def _snapshot_save(args: argparse.Namespace) -> int:
    snapshot = _export_snapshot(args.file, args.mapping, args.as_of)
    entry = store.save_snapshot(snapshot, args.db, replace=args.replace)
    print(
        f"Saved {entry['deals']:,} deals as the snapshot of {snapshot.as_of} in "
        f"{args.db or store.store_path()}."
    )
    return 0


def _snapshot_list(args: argparse.Namespace) -> int:
    return _print_listing(
        store.list_snapshots(args.db),
        args.json,
        f"No snapshots in {args.db or store.store_path()}.",
        lambda entry: f"{entry['as_of']}  {entry['deals']:>9,} deals  saved {entry['saved_at']}",
    )


def _print_listing(entries: list[dict], as_json: bool, when_empty: str, line) -> int:
    """A list command's output: one JSON list, or a line per entry (`when_empty` for none)."""
    if as_json:
        print(json.dumps(json_ready(entries), indent=2))
        return 0
    if not entries:
        print(when_empty)
    for entry in entries:
        print(line(entry))
    return 0


def _snapshot_delete(args: argparse.Namespace) -> int:
    store.delete_snapshot(args.date, args.db)
    print(f"Deleted the snapshot of {args.date} from {args.db or store.store_path()}.")
    return 0


def _snapshot_or_export(text: str, args: argparse.Namespace) -> store.Snapshot:
    """OLD or NEW of `changes`: an export file when one is there, else a snapshot date."""
    if Path(text).exists():
        return _export_snapshot(text, args.mapping, None)
    try:
        as_of = date.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"{text} is neither an export file nor a snapshot date (YYYY-MM-DD)."
        ) from None
    return store.read_snapshot(as_of, args.db)


def _changes(args: argparse.Namespace) -> int:
    older, newer = (_snapshot_or_export(text, args) for text in (args.old, args.new))
    settings = Settings(as_of=newer.as_of, fiscal_year_start_month=args.fiscal_year_start)
    compared = changes.compare(older, newer, settings)
    # Pushes over the saved snapshots up to NEW, with an export file in place of any snapshot
    # of its date.
    files = [snap for snap, text in ((older, args.old), (newer, args.new)) if Path(text).exists()]
    pushes = changes.push_counts(store.close_date_history(newer.as_of, args.db, files))
    print(json.dumps(json_ready(changes.for_json(compared, pushes)), indent=2))
    return 0


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        type=Path,
        help="the snapshot store (default: $CLOSEBOARD_DB, else data/closeboard.duckdb)",
    )


def add_snapshot_commands(commands) -> None:
    """`snapshot save|list|delete` and `changes OLD NEW`."""
    snapshot = commands.add_parser("snapshot", help="save, list or delete dated snapshots")
    actions = snapshot.add_subparsers(dest="action", required=True)
    save = actions.add_parser("save", help="save an export as the snapshot of its as-of date")
    save.add_argument("file", help="an opportunities export (CSV or XLSX)")
    save.add_argument(
        "--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default: the export's date)"
    )
    save.add_argument("--replace", action="store_true", help="replace a snapshot of that date")
    save.add_argument("--mapping", help="a column mapping saved from the Data page (JSON)")
    add_store_option(save)
    save.set_defaults(run=_snapshot_save)
    listing = actions.add_parser("list", help="the saved snapshots, oldest first")
    listing.add_argument("--json", action="store_true", help='[{"as_of", "deals", "saved_at"}]')
    add_store_option(listing)
    listing.set_defaults(run=_snapshot_list)
    delete = actions.add_parser("delete", help="delete the snapshot of a date")
    delete.add_argument("date", type=date.fromisoformat, help="YYYY-MM-DD")
    add_store_option(delete)
    delete.set_defaults(run=_snapshot_delete)
    compared = commands.add_parser("changes", help="what changed between two exports, as JSON")
    compared.add_argument("old", metavar="OLD", help="an export file or a snapshot date")
    compared.add_argument("new", metavar="NEW", help="an export file or a snapshot date")
    compared.add_argument("--mapping", help="a column mapping for export files (JSON)")
    compared.add_argument("--fiscal-year-start", type=int, default=1, metavar="MONTH",
                          help="month the fiscal year starts, 1-12 (default 1)")  # fmt: skip
    compared.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    add_store_option(compared)
    compared.set_defaults(run=_changes)


def _workspaces_list(args: argparse.Namespace) -> int:
    folder = args.data_dir or store.data_dir()
    return _print_listing(
        workspaces.list_workspaces(folder),
        args.json,
        f"No workspaces in {folder}.",
        lambda entry: (
            f"{entry['name']}  {entry['snapshots']:,} snapshots  "
            f"last data: {entry['last_loaded'] or 'no data kept'}  {entry['bytes']:,} bytes  "
            f"({entry['file']})"
        ),
    )


def _workspaces_delete(args: argparse.Namespace) -> int:
    folder = args.data_dir or store.data_dir()
    # Never under a running app: it owns the folder, and would write a deleted workspace again.
    workspaces.claim_folder(folder)
    try:
        path = workspaces.delete_workspace(folder, args.name)
    finally:
        workspaces.release_folder(folder)
    print(f"Deleted the workspace {args.name} ({path.name}) with its snapshots and data.")
    return 0


def add_workspace_commands(commands) -> None:
    """`workspaces list|delete NAME`, for an administrator."""
    parser = commands.add_parser("workspaces", help="list the workspaces or delete one")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every workspace in the data folder")
    listing.add_argument("--json", action="store_true", help="one JSON list")
    delete = actions.add_parser("delete", help="delete a workspace with everything in it")
    delete.add_argument("name", metavar="NAME", help="its name as listed, or its file name")
    for action, run in ((listing, _workspaces_list), (delete, _workspaces_delete)):
        action.add_argument(
            "--data-dir",
            type=Path,
            help="the data folder (default: $CLOSEBOARD_DATA_DIR, else data/)",
        )
        action.set_defaults(run=run)


def add_data_options(parser: argparse.ArgumentParser) -> None:
    """The sidebar's data options, shared by every command that reports figures."""
    parser.add_argument(
        "--opportunities", required=True, help="opportunities export (CSV/XLSX/Data Export ZIP)"
    )
    parser.add_argument("--targets", help="quotas / budgets file")
    parser.add_argument("--reps", help="reps file: owner, team, manager")
    parser.add_argument("--mapping", help="a column mapping saved from the Data page (JSON)")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default: the export's date)"
    )
    parser.add_argument("--fiscal-year-start", type=int, metavar="MONTH",
                        help="month the fiscal year starts, 1-12 (default: a Data Export's "
                        "FiscalYearSettings, else 1)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="what Closeboard understands of an export")
    inspect.add_argument(
        "file", help="an opportunities export (CSV or XLSX) or a Salesforce Data Export ZIP"
    )
    inspect.add_argument("--mapping", help="a column mapping saved from the Data page (JSON)")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    inspect.set_defaults(run=_inspect)
    monday = commands.add_parser("report", help="every figure the pages show, as JSON")
    add_data_options(monday)
    monday.add_argument(
        "--pace",
        choices=PACE_METHODS,
        default="business",
        help="how much budget is expected to date (default: business days)",
    )
    monday.add_argument(
        "--window-days",
        type=int,
        default=0,
        metavar="N",
        help="close today: close dates up to N days ahead (default 0: due today or overdue)",
    )
    monday.add_argument(
        "--min-probability",
        type=float,
        default=0.6,
        metavar="P",
        help="close today: late stage from this probability, 0-1 (default 0.6)",
    )
    monday.add_argument(
        "--referral-keywords",
        type=parse_keywords,
        default=REFERRAL_KEYWORDS,
        metavar="WORDS",
        help="coaching: a lead source containing one of these comma-separated words is a "
        f"referral (default: {', '.join(REFERRAL_KEYWORDS)})",
    )
    monday.set_defaults(run=_report)
    review = commands.add_parser(
        "qbr", help="a quarter's QBR: one HTML file that opens offline, and its figures as JSON"
    )
    add_data_options(review)
    review.add_argument("--quarter", required=True, help="the fiscal quarter: 2026-Q3, Q3 FY2026")
    review.add_argument("--out", required=True, help="the HTML file to write")
    add_store_option(review)
    review.set_defaults(run=_qbr)
    add_snapshot_commands(commands)
    add_explore_commands(commands)
    add_workspace_commands(commands)
    args = parser.parse_args(argv)
    try:
        return args.run(args)
    except (LoadError, store.StoreError, workspaces.WorkspaceError) as error:
        print(str(error), file=sys.stderr)
        return 2
    except ValueError as error:
        print(str(error), file=sys.stderr)
        return 2
    except OSError as error:
        print(f"Could not read {error.filename}: {error.strerror}.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
