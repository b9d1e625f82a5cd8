"""Closeboard from the command line: `inspect` an export, print the Monday `report`, write a
quarter's `qbr` as one HTML file, print the `forecast` and its backtest, keep `snapshot`s of each
week's export and print the `changes` between two, `explore` the deals and `query` them with
SQL, list or delete `workspaces`."""

from __future__ import annotations

import argparse
import sys
from datetime import date
from pathlib import Path

# The options alone are defined here, over plain data: `--help` answers at once. What a command
# does is in lib/commands.py, imported once a command is chosen (DuckDB, Arrow and pandas take
# most of a second to load).
from lib.errors import PlainError
from lib.explore_terms import DEAL_SETS, DEFAULT_TOP, HISTORY, MEASURES, TABLES
from lib.settings import PACE_METHODS, REFERRAL_KEYWORDS, parse_keywords


def add_explore_commands(commands) -> None:
    """`explore` (a pivot of the deals) and `query` (one SELECT in the SQL box's sandbox)."""
    pivot = commands.add_parser("explore", help="a measure of a set of deals by a dimension")
    add_data_options(pivot)
    pivot.add_argument("--deals", choices=list(DEAL_SETS), default="won",
                       help="which deals (default: won)")  # fmt: skip
    pivot.add_argument("--measure", choices=list(MEASURES), default="amount",
                       help="what to show of them (default: amount)")  # fmt: skip
    pivot.add_argument("--by", required=True, metavar="DIM",
                       help="owner, team, stage, close_quarter… or a column")  # fmt: skip
    pivot.add_argument("--split", metavar="DIM", help="a second dimension")
    pivot.add_argument("--where", action="append", default=[], metavar="DIM=VALUE",
                       help="keep deals whose DIM is VALUE (repeatable)")  # fmt: skip
    pivot.add_argument("--top", type=int, default=DEFAULT_TOP, metavar="N",
                       help="the N largest values, then all others")  # fmt: skip
    pivot.set_defaults(run="explore_deals")
    sql = commands.add_parser("query", help="one SELECT over the loaded tables, as JSON")
    add_data_options(sql)
    sql.add_argument(
        "sql",
        metavar="SQL",
        help=f"one SELECT over {', '.join(TABLES)}, and {HISTORY} with a Data Export",
    )
    sql.add_argument("--timeout", type=float, default=10.0, metavar="SECONDS",
                     help="cancel the query after this long (default 10)")  # fmt: skip
    sql.set_defaults(run="query_deals")


def add_store_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--db",
        metavar="FILE_OR_URL",
        help="the snapshot store: a DuckDB file or a postgresql:// URL (default: "
        "$CLOSEBOARD_DATABASE_URL, else $CLOSEBOARD_DB, else data/closeboard.duckdb)",
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
    save.set_defaults(run="snapshot_save")
    listing = actions.add_parser("list", help="the saved snapshots, oldest first")
    listing.add_argument("--json", action="store_true", help='[{"as_of", "deals", "saved_at"}]')
    add_store_option(listing)
    listing.set_defaults(run="snapshot_list")
    delete = actions.add_parser("delete", help="delete the snapshot of a date")
    delete.add_argument("date", type=date.fromisoformat, help="YYYY-MM-DD")
    add_store_option(delete)
    delete.set_defaults(run="snapshot_delete")
    compared = commands.add_parser("changes", help="what changed between two exports, as JSON")
    compared.add_argument("old", metavar="OLD", help="an export file or a snapshot date")
    compared.add_argument("new", metavar="NEW", help="an export file or a snapshot date")
    compared.add_argument("--mapping", help="a column mapping for export files (JSON)")
    compared.add_argument("--fiscal-year-start", type=int, default=1, metavar="MONTH",
                          help="month the fiscal year starts, 1-12 (default 1)")  # fmt: skip
    compared.add_argument("--json", action="store_true", help="print one JSON object (the default)")
    add_currency_options(compared)
    add_store_option(compared)
    compared.set_defaults(run="changes_between")


def add_workspace_commands(commands) -> None:
    """`workspaces list|delete NAME`, for an administrator."""
    parser = commands.add_parser("workspaces", help="list the workspaces or delete one")
    actions = parser.add_subparsers(dest="action", required=True)
    listing = actions.add_parser("list", help="every workspace in the data folder")
    listing.add_argument("--json", action="store_true", help="one JSON list")
    delete = actions.add_parser("delete", help="delete a workspace with everything in it")
    delete.add_argument("name", metavar="NAME", help="its name as listed, or its file name")
    for action, run in ((listing, "workspaces_list"), (delete, "workspaces_delete")):
        action.add_argument(
            "--data-dir",
            type=Path,
            help="the data folder (default: $CLOSEBOARD_DATA_DIR, else data/)",
        )
        action.add_argument(
            "--db",
            metavar="URL",
            help="the PostgreSQL store, postgresql://… (default: $CLOSEBOARD_DATABASE_URL, "
            "else the data folder's files)",
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
    add_store_option(parser)
    add_currency_options(parser)


def add_currency_options(parser: argparse.ArgumentParser) -> None:
    """The Data page's rates and the currency figures are shown in."""
    parser.add_argument(
        "--rates", metavar="FILE",
        help="a rates file: currency, rate (units of each currency per 1 unit of the currency "
        "figures are shown in, whose rate is 1: Salesforce's CurrencyType)",
    )  # fmt: skip
    parser.add_argument(
        "--currency", metavar="CODE", type=str.upper,
        help="show figures in this currency (default: the rates' own, else the export's); "
        "the rates are rescaled to it",
    )  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lib.cli", description=__doc__)
    subcommands = parser.add_subparsers(dest="command", required=True)
    inspect = subcommands.add_parser("inspect", help="what Closeboard understands of an export")
    inspect.add_argument(
        "file", help="an opportunities export (CSV or XLSX) or a Salesforce Data Export ZIP"
    )
    inspect.add_argument("--mapping", help="a column mapping saved from the Data page (JSON)")
    inspect.add_argument("--json", action="store_true", help="print one JSON object")
    add_currency_options(inspect)
    inspect.set_defaults(run="inspect")
    monday = subcommands.add_parser("report", help="every figure the pages show, as JSON")
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
        "--stale-after-days",
        type=int,
        default=30,
        metavar="N",
        help="close today: a deal overdue by more than N days is stale, a CRM clean-up listed "
        'with "stale": true and not counted (default 30)',
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
    monday.add_argument(
        "--follow-through-weeks",
        type=int,
        default=6,
        metavar="N",
        help="coaching: follow the close-today lists of the snapshots saved in the N weeks "
        "before the as-of date (default 6)",
    )
    monday.set_defaults(run="report_figures")
    review = subcommands.add_parser(
        "qbr", help="a quarter's QBR: one HTML file that opens offline, and its figures as JSON"
    )
    add_data_options(review)
    review.add_argument("--quarter", required=True, help="the fiscal quarter: 2026-Q3, Q3 FY2026")
    review.add_argument("--out", required=True, help="the HTML file to write")
    review.set_defaults(run="qbr_file")
    projected = subcommands.add_parser(
        "forecast", help="each projection method for the quarter and its backtest, as JSON"
    )
    add_data_options(projected)
    projected.add_argument(
        "--quarters",
        type=int,
        default=6,
        metavar="N",
        help="backtest on the N quarters before the as-of date's (default 6; fewer when the "
        "export does not reach back)",
    )
    projected.set_defaults(run="forecast_figures")
    add_snapshot_commands(subcommands)
    add_explore_commands(subcommands)
    add_workspace_commands(subcommands)
    args = parser.parse_args(argv)
    from lib import commands  # only now that a command is chosen: see the imports above

    try:
        return getattr(commands, args.run)(args)
    except (PlainError, ValueError) as error:
        print(str(error), file=sys.stderr)
        return 2
    except OSError as error:
        print(f"Could not read {error.filename}: {error.strerror}.", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
