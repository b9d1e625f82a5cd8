"""Closeboard from the command line: `inspect` an export, print the Monday `report`, keep
`snapshot`s of each week's export and print the `changes` between two, list or delete
`workspaces`."""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date
from pathlib import Path

import duckdb

from lib import changes, store, workspaces
from lib.coaching import parse_keywords
from lib.db import open_database
from lib.load.errors import LoadError
from lib.load.mapping import mapping_from_json
from lib.load.opportunities import LoadedExport, load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_targets
from lib.overview import default_as_of, export_summary
from lib.report import json_ready, report
from lib.settings import PACE_METHODS, REFERRAL_KEYWORDS, Settings


def inspect_report(loaded: LoadedExport) -> dict[str, object]:
    """What the Data page shows about a load, as JSON-ready values (dates ISO, shares 0–1)."""
    report = loaded.report
    summary = export_summary(open_database(loaded.deals))
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
        **{
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in summary.items()
        },
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
    mapping = mapping_from_json(Path(args.mapping).read_bytes()) if args.mapping else None
    path = Path(args.opportunities)
    export = load_opportunities(path.read_bytes(), path.name, mapping)
    as_of = args.as_of or default_as_of(export.deals)
    settings = settings_from_args(args, as_of)
    targets = (
        load_targets(Path(args.targets).read_bytes(), Path(args.targets).name, settings).targets
        if args.targets
        else None
    )
    reps = load_reps(Path(args.reps).read_bytes(), Path(args.reps).name).reps if args.reps else None
    currency = export.report.display_currency
    rates = {currency: 1.0} if len(export.report.currencies) > 1 else None
    return open_database(export.deals, targets, reps, rates), settings, currency


def settings_from_args(args: argparse.Namespace, as_of: date) -> Settings:
    return Settings(
        as_of=as_of,
        fiscal_year_start_month=args.fiscal_year_start,
        pace_method=getattr(args, "pace", "business"),
        close_window_days=getattr(args, "window_days", 0),
        late_min_probability=getattr(args, "min_probability", 0.6),
        referral_keywords=getattr(args, "referral_keywords", REFERRAL_KEYWORDS),
    )


def _report(args: argparse.Namespace) -> int:
    con, settings, currency = load_session(args)
    print(json.dumps(json_ready(report(con, settings, currency)), indent=2))
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
    parser.add_argument("--opportunities", required=True, help="opportunities export (CSV/XLSX)")
    parser.add_argument("--targets", help="quotas / budgets file")
    parser.add_argument("--reps", help="reps file: owner, team, manager")
    parser.add_argument("--mapping", help="a column mapping saved from the Data page (JSON)")
    parser.add_argument(
        "--as-of", type=date.fromisoformat, help="YYYY-MM-DD (default: the export's date)"
    )
    parser.add_argument("--fiscal-year-start", type=int, default=1, metavar="MONTH",
                        help="month the fiscal year starts, 1-12 (default 1)")  # fmt: skip
    parser.add_argument("--json", action="store_true", help="print one JSON object (the default)")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.cli", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    inspect = commands.add_parser("inspect", help="what Closeboard understands of an export")
    inspect.add_argument("file", help="an opportunities export (CSV or XLSX)")
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
    add_snapshot_commands(commands)
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
