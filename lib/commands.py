"""What each command of `python -m lib.cli` does, given its parsed options (lib/cli.py)."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from datetime import date
from pathlib import Path

from lib import changes, explore, forecast, query, store, stores
from lib.currencies import converted, display_of, into_display, read_rates_file, rescaled
from lib.fiscal import fiscal_quarter, quarter_from_label
from lib.follow_through import read_history, track_record
from lib.funnel import funnel_json, funnel_report, stalled_json
from lib.load.mapping import mapping_from_json, stage_edits_from_json
from lib.load.opportunities import LoadedExport, load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_targets
from lib.load.zip_export import DataExportFiles
from lib.overview import default_as_of, export_summary, stage_amounts
from lib.qbr import qbr
from lib.qbr_files import qbr_html
from lib.report import json_ready, qbr_section, report
from lib.session import Session, assemble, in_one_currency, uses_converted_amounts
from lib.settings import REFERRAL_KEYWORDS, Settings


def inspect_report(
    loaded: LoadedExport, rates: dict[str, float] | None = None, currency: str | None = None
) -> dict[str, object]:
    """What the Data page shows about a load, as JSON-ready values (dates ISO, shares 0–1)."""
    report = loaded.report
    # Amounts in the display currency, as the session converts them (the rates given, else a
    # Data Export's; a deal in a currency without a rate is in no sum).
    settings = Settings(as_of=default_as_of(loaded.deals))
    session = assemble(loaded, settings, entered_rates=rates, currency=currency)
    summary = export_summary(session.connection())
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
        **{
            name: {
                key: {"count": cells.count, "examples": list(cells.examples)}
                for key, cells in counted.items()
            }
            for name, counted in (
                ("unreadable", report.unreadable),
                ("placeholder_dates", report.placeholder_dates),
            )
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
        "questions": _questions(report.questions, session.connection()),
        "currencies": list(report.currencies),
        **_export_files(loaded),
        **_converted_amounts(loaded),
        **{
            key: value.isoformat() if isinstance(value, date) else value
            for key, value in summary.items()
        },
    }


def _questions(questions, con) -> list[dict[str, object]]:
    """Stages whose signals disagree: [{"stage", "deals", "amount", "signals"}], the amount in
    the display currency, signals {signal: {verdict: deals}}."""
    amounts = stage_amounts(con, [question.stage for question in questions])
    return [
        {"stage": q.stage, "deals": q.deals, "amount": amounts.get(q.stage, 0.0),
         "signals": q.signals}
        for q in questions
    ]  # fmt: skip


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


def _converted_amounts(loaded: LoadedExport) -> dict[str, object]:
    """When figures use the export's converted amounts: "amount_column" (the header read) and
    "currency" (theirs); nothing otherwise."""
    if not uses_converted_amounts(loaded):
        return {}
    return {
        "amount_column": loaded.report.amount_column,
        "currency": loaded.report.display_currency,
    }


def inspect(args: argparse.Namespace) -> int:
    report = inspect_report(_read_export(args.file, args.mapping), _rates(args), args.currency)
    if args.json:
        print(json.dumps(report, indent=2, default=str))
    else:
        for key in ("format", "rows_read", "rows_loaded", "rows_rejected", "deals_open",
                    "deals_won", "deals_lost", "amount_open", "amount_won", "owners"):  # fmt: skip
            print(f"{key:>15}: {report[key]}")
        for reason, count in report["rejected"].items():
            print(f"{'rejected':>15}: {count} × {reason}")
    return 0


def _read_export(file: str, mapping_file: str | None) -> LoadedExport:
    """An export file read with a mapping saved from the Data page, if one is named, and the
    stage edits saved with it."""
    if not mapping_file:
        return load_opportunities(Path(file).read_bytes(), Path(file).name)
    saved = Path(mapping_file).read_bytes()
    return load_opportunities(
        Path(file).read_bytes(), Path(file).name, mapping_from_json(saved),
        stage_edits_from_json(saved),
    )  # fmt: skip


def session_from_args(args: argparse.Namespace) -> Session:
    """The files the data options name, read as the sidebar reads them, and assembled into a
    session as the app assembles one: with the snapshots of the store `--db` names."""
    export = _read_export(args.opportunities, args.mapping)
    # A Data Export brings its own fiscal year, quotas, rates and close-date history; the
    # options given on the command line win.
    as_of = args.as_of or default_as_of(export.deals)
    settings = settings_from_args(args, as_of, export.export_files)
    targets = reps = None
    if args.targets:
        path = Path(args.targets)
        targets = load_targets(path.read_bytes(), path.name, settings)
    if args.reps:
        reps = load_reps(Path(args.reps).read_bytes(), Path(args.reps).name)
    return assemble(
        export, settings, targets=targets, reps=reps, store=_store(args),
        entered_rates=_rates(args), currency=args.currency,
    )  # fmt: skip


def _rates(args: argparse.Namespace) -> dict[str, float] | None:
    """The rates `--rates FILE` gives (units of each currency per 1 display unit), as the
    session's rates into the display currency."""
    if not args.rates:
        return None
    return into_display(read_rates_file(Path(args.rates).read_bytes(), Path(args.rates).name))


def _store(args: argparse.Namespace) -> stores.WorkspaceStore:
    """The snapshot store `--db` names (a file or a postgresql:// URL), else
    $CLOSEBOARD_DATABASE_URL, else $CLOSEBOARD_DB, else the data folder's file."""
    return stores.cli_store(args.db)


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
        stale_after_days=getattr(args, "stale_after_days", 30),
        late_min_probability=getattr(args, "min_probability", 0.6),
        referral_keywords=getattr(args, "referral_keywords", REFERRAL_KEYWORDS),
        follow_through_weeks=getattr(args, "follow_through_weeks", 6),
        query_timeout_seconds=getattr(args, "timeout", 10.0),
    )


def explore_deals(args: argparse.Namespace) -> int:
    session = session_from_args(args)
    con, settings = session.connection(), session.settings
    available = explore.dimensions(session.export.deals.column_names)
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
    print(json.dumps(explore.for_json(result, session.currency), indent=2))
    return 0


def query_deals(args: argparse.Namespace) -> int:
    session = session_from_args(args)
    try:
        result = query.run_query(args.sql, session, session.settings.query_timeout_seconds)
    except query.QueryRefused as error:
        print(str(error), file=sys.stderr)
        return 1
    print(json.dumps(json_ready({"columns": result.column_names, "rows": [
        list(row.values()) for row in result.to_pylist()
    ]}), indent=2, default=str))  # fmt: skip
    return 0


def report_figures(args: argparse.Namespace) -> int:
    session = session_from_args(args)
    print(json.dumps(json_ready(report_of_session(session)), indent=2))
    return 0


def report_of_session(session: Session) -> dict:
    """The Monday report. Where deals in some currencies have no rate, no total adds them up:
    "currency" and the figures are null, "currencies_without_rate" names them, and
    "by_currency" gives each currency's report, whole in its own money."""
    history = read_history(session)
    if not session.currencies_left_out:
        record = track_record(history, session.settings)
        return report(session.connection(), session.settings, session.currency, record)
    by_currency = {}
    for code in session.export.report.currencies:
        alone = in_one_currency(session, code)
        # The same snapshots, their amounts read in this currency alone.
        record = track_record(
            replace(history, current=alone.resolved.deals, rates=alone.rates), alone.settings
        )
        by_currency[code] = report(alone.connection(), alone.settings, code, record)
    return {
        "as_of": session.settings.as_of,
        "currency": None,
        "currencies_without_rate": list(session.currencies_left_out),
        **dict.fromkeys(
            (
                "pacing",
                "close_today",
                "warnings",
                "warnings_skipped",
                "coaching",
                "track_record_skipped",
            )
        ),
        "by_currency": by_currency,
    }


def forecast_figures(args: argparse.Namespace) -> int:
    if args.quarters < 1:
        raise ValueError(f"--quarters takes a number of quarters from 1 up, not {args.quarters}.")
    session = session_from_args(args)
    print(json.dumps(json_ready(forecast_of_session(session, args.quarters)), indent=2))
    return 0


def forecast_of_session(session: Session, quarters: int) -> dict:
    """The forecast as JSON. Where deals in some currencies have no rate, no total adds them
    up: "currency" and "methods" are null and "by_currency" gives each currency's forecast."""
    if not session.currencies_left_out:
        return _forecast_in(session, session.currency, quarters)
    by_currency = {}
    for code in session.export.report.currencies:
        by_currency[code] = _forecast_in(in_one_currency(session, code), code, quarters)
    period = fiscal_quarter(session.settings.as_of, session.settings)
    return {
        "as_of": session.settings.as_of,
        "period": {"label": period.label, "start": period.start, "end": period.end},
        "currency": None,
        "currencies_without_rate": list(session.currencies_left_out),
        "methods": None,
        "most_accurate": None,
        "by_currency": by_currency,
    }


def _forecast_in(session: Session, currency: str | None, quarters: int) -> dict:
    result = forecast.forecast(
        session,
        forecast.saved_snapshots(session, quarters),
        stage_entries=session.stage_entries,
        quarters=quarters,
    )
    rules = session.export.report.stage_rules
    history = funnel_report(session.resolved.deals, session.stage_entries, rules, session.settings)
    return {
        **forecast.for_json(result, currency),
        "funnel": funnel_json(history),
        "stalled": stalled_json(session.stage_days, session.resolved.deals),
    }


def qbr_file(args: argparse.Namespace) -> int:
    session = session_from_args(args)
    settings, currency = session.settings, session.currency
    quarter = quarter_from_label(args.quarter, settings)
    if quarter is None:
        raise ValueError(f"{args.quarter} is not a quarter: write it like 2026-Q3 or Q3 FY2026.")
    if quarter.start > fiscal_quarter(settings.as_of, settings).start:
        raise ValueError(
            f"{quarter.label} has not started by the as-of date {settings.as_of}: pick an "
            "earlier quarter, or a later --as-of."
        )
    stages = session.store.last_open_stages(settings.as_of)
    result = qbr(session.connection(), settings, quarter, currency, stages)
    Path(args.out).write_text(
        qbr_html(result, currency, Path(args.opportunities).name), encoding="utf-8"
    )
    print(json.dumps(json_ready(qbr_section(result, currency)), indent=2))
    return 0


def _export_snapshot(file: str, mapping_file: str | None, as_of: date | None) -> store.Snapshot:
    """An export file as a snapshot, dated `as_of` or else by the export's own date."""
    export = _read_export(file, mapping_file)
    return store.snapshot_of_export(export, as_of or default_as_of(export.deals))


def snapshot_save(args: argparse.Namespace) -> int:
    snapshot = _export_snapshot(args.file, args.mapping, args.as_of)
    kept = _store(args)
    entry = kept.save_snapshot(snapshot, replace=args.replace)
    print(f"Saved {entry['deals']:,} deals as the snapshot of {snapshot.as_of} in {kept.name}.")
    return 0


def snapshot_list(args: argparse.Namespace) -> int:
    kept = _store(args)
    return _print_listing(
        kept.list_snapshots(),
        args.json,
        f"No snapshots in {kept.name}.",
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


def snapshot_delete(args: argparse.Namespace) -> int:
    kept = _store(args)
    kept.delete_snapshot(args.date)
    print(f"Deleted the snapshot of {args.date} from {kept.name}.")
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
    return _store(args).read_snapshot(as_of)


def changes_between(args: argparse.Namespace) -> int:
    older, newer = (_snapshot_or_export(text, args) for text in (args.old, args.new))
    rates = _rates(args) or ({args.currency: 1.0} if args.currency else None)
    currency = None
    if rates:
        # Both sides in one currency, as the figures count them (--rates, --currency).
        currency = args.currency or display_of(rates)
        rates = rescaled(rates, currency)
        older, newer = (
            replace(snapshot, deals=converted(snapshot.deals, rates, currency))
            for snapshot in (older, newer)
        )
    settings = Settings(as_of=newer.as_of, fiscal_year_start_month=args.fiscal_year_start)
    compared = changes.compare(older, newer, settings)
    if currency:
        compared = replace(compared, currency=currency)
    # Pushes over the saved snapshots up to NEW, with an export file in place of any snapshot
    # of its date.
    files = [snap for snap, text in ((older, args.old), (newer, args.new)) if Path(text).exists()]
    pushes = changes.push_counts(_store(args).close_date_history(newer.as_of, files))
    print(json.dumps(json_ready(changes.for_json(compared, pushes)), indent=2))
    return 0


def _backend(args: argparse.Namespace) -> stores.Backend:
    """The workspaces `--db postgresql://…` names, else $CLOSEBOARD_DATABASE_URL's, else the
    data folder's files."""
    if args.db and not stores.is_database_url(args.db):
        raise ValueError(
            f"--db {args.db} is not a postgresql:// URL. The workspace files of a data folder "
            "are named by --data-dir."
        )
    return stores.backend(args.db, args.data_dir)


def workspaces_list(args: argparse.Namespace) -> int:
    every = _backend(args)
    return _print_listing(
        every.list_workspaces(),
        args.json,
        f"No workspaces in {every.where}.",
        lambda entry: (
            f"{entry['name']}  {entry['snapshots']:,} snapshots  "
            f"last data: {entry['last_loaded'] or 'no data kept'}  "
            + (
                f"{entry['bytes']:,} bytes  ({entry['file']})"
                if entry["file"] is not None
                else f"({entry['key']})"
            )
        ),
    )


def workspaces_delete(args: argparse.Namespace) -> int:
    every = _backend(args)
    # Never under a running app that owns the data folder: it would write a deleted workspace
    # again. A database is shared by design: its workspace goes at once, for every process.
    every.claim()
    try:
        deleted = every.delete_workspace(args.name)
    finally:
        every.release()
    print(f"Deleted the workspace {args.name} ({deleted}) with its snapshots and data.")
    return 0
