"""The sidebar every page shares: where the data comes from, the as-of date, the fiscal year and
the settings; it loads the files and assembles this session's data from them."""

from __future__ import annotations

import calendar
from datetime import date

import streamlit as st

from lib.fiscal import parse_holidays
from lib.format import markdown_text, money
from lib.load.opportunities import LoadedExport
from lib.overview import default_as_of
from lib.pipeline_warnings import WARNING_THRESHOLDS
from lib.session import Session
from lib.settings import MAX_QUERY_SECONDS, Settings
from ui import uploads, workspace
from ui.session import assemble_session, forget_session

SAMPLE = "Sample data"
UPLOADS = workspace.MY_UPLOADS


def sidebar(active: workspace.Active, problems: list[str]) -> Session | None:
    """Draws the sidebar and loads what it names; this session's data, or None when no export
    is loaded. A file that cannot be used adds its message to `problems`."""
    with st.sidebar:
        st.markdown("### Closeboard")
        source = st.radio("Data", [SAMPLE, UPLOADS], horizontal=True, key="source")
        if source == SAMPLE:
            files = {kind: uploads.sample_upload(kind) for kind in uploads.SAMPLE_FILES}
            export = uploads.keep_last_good(
                "opportunities",
                files["opportunities"],
                workspace.kept("opportunities", uploads.load_export, active),
                problems,
            )
        else:
            files, export = _uploads(active, problems)
        settings = _settings(export)
    if export is None or settings is None:
        forget_session()
        return None
    targets = reps = None
    if files["targets"]:
        read = workspace.kept("targets", lambda u: uploads.read_targets(u, settings), active)
        targets = uploads.keep_last_good("targets", files["targets"], read, problems)
    if files["reps"]:
        read = workspace.kept("reps", uploads.read_reps, active)
        reps = uploads.keep_last_good("reps", files["reps"], read, problems)
    source_name = "sample data" if source == SAMPLE else export.report.file_name
    return assemble_session(export, settings, targets, reps, source_name)


def _uploads(active: workspace.Active, problems: list[str]):
    """The uploaders (or the workspace's last files) and the export read from them, its status
    line right under its uploader."""
    workspace.kept_files_line(active)
    chosen = {}
    for kind, label, types, options in (
        # Several files: the ZIPs of a Salesforce Data Export, or its CSVs.
        ("opportunities", "Opportunities export", ["csv", "xlsx", "txt", "zip"],
         {"accept_multiple_files": True,
          "help": "A CSV or Excel export, or a Salesforce Data Export: its ZIP as it "
          "comes, or Opportunity.csv with User.csv, OpportunityHistory.csv…"}),
        ("targets", "Quotas / budgets (optional)", ["csv", "xlsx", "txt"], {}),
        ("reps", "Reps and teams (optional)", ["csv", "xlsx", "txt"], {}),
        ("mapping", "Saved column mapping (optional)", ["json"], {}),
    ):  # fmt: skip
        chosen[kind] = st.file_uploader(label, type=types, key=f"upload_{kind}", **options)
        if kind == "opportunities":
            reading = st.container()  # the export's status line, right under its uploader
    files = {
        kind: workspace.upload_or_kept(kind, chosen[kind], problems)
        for kind in ("opportunities", "targets", "reps")
    }
    if chosen["mapping"] and files["opportunities"]:
        uploads.apply_mapping_file(chosen["mapping"], files["opportunities"], problems)
    if files["opportunities"] is None:
        return files, None
    read = workspace.kept("opportunities", uploads.load_export, active)
    with reading:
        return files, uploads.read_upload_with_status(files["opportunities"], read, problems)


def _settings(export: LoadedExport | None) -> Settings | None:
    """The as-of date (a new export's own date at first), the fiscal year and the Settings
    expander, as Settings; None without an export to date them by."""
    if export is not None and st.session_state.get("as_of_for") is not export:
        st.session_state.as_of = default_as_of(export.deals, today())
        follow_export_calendar(export)
        st.session_state.as_of_for = export
    as_of = st.date_input("As of", key="as_of", format="YYYY-MM-DD") if export else None
    fiscal_start = st.selectbox(
        "Fiscal year starts in",
        range(1, 13),
        format_func=lambda month: calendar.month_name[month],
        key="fiscal_start",
    )
    # A default set here, not by value=: a Data Export's fiscal year may have set it already.
    st.session_state.setdefault("fiscal_named_by_end", True)
    named_by_end = st.toggle("Name the fiscal year by the year it ends", key="fiscal_named_by_end")
    with st.expander("Settings", icon=":material/tune:"):
        holidays, not_dates = parse_holidays(
            st.text_area(
                "Holidays (not business days)",
                key="holidays",
                placeholder="2026-11-26\n2026-12-25",
                help="One date a line, YYYY-MM-DD. Pacing counts Monday to Friday less these.",
            )
        )
        if not_dates:
            st.warning("Not dates, ignored: " + markdown_text(", ".join(not_dates)))
        defaults = Settings(as_of=today())
        st.caption("What can we close today?")
        stale_after_days = st.number_input(
            "Stale after N days overdue", 0, 3650, defaults.stale_after_days,
            key="stale_after_days",
            help="A late-stage deal overdue by longer is a CRM clean-up: listed apart, not "
            "counted in what can close.",
        )  # fmt: skip
        st.caption("How do we coach each rep?")
        follow_through_weeks = st.number_input(
            "Follow-through weeks", 1, 52, defaults.follow_through_weeks,
            key="follow_through_weeks",
            help="The 1:1 sheet follows the close-today lists of the snapshots saved in this "
            "many weeks before the as-of date: how many deals on them were won, lost or pushed.",
        )  # fmt: skip
        st.caption("Pipeline warnings")
        thresholds = warning_threshold_inputs(defaults)
        query_timeout = st.number_input(
            "SQL box time limit (seconds)", 1, MAX_QUERY_SECONDS, 10, key="query_timeout_seconds",
            help="Explore's SQL box cancels a query that runs longer than this.",
        )  # fmt: skip
    if as_of is None:
        return None
    return Settings(
        as_of, fiscal_start, named_by_end, holidays=holidays, stale_after_days=stale_after_days,
        follow_through_weeks=follow_through_weeks, query_timeout_seconds=query_timeout,
        **thresholds,
    )  # fmt: skip


def today() -> date:
    return date.today()


def follow_export_calendar(export: LoadedExport) -> None:
    """The sidebar's fiscal year as a Data Export's FiscalYearSettings gives it; the user may
    still change it afterwards."""
    files = export.export_files
    if files is not None and files.fiscal_start_month:
        st.session_state.fiscal_start = files.fiscal_start_month
        st.session_state.fiscal_named_by_end = files.fiscal_named_by_end is not False


def typed_team_budget(
    period_label: str, currency: str | None, where=st, key: str | None = None
) -> float | None:
    """The team's budget for the period, typed by hand when no quota file is loaded: typed in
    whole units, and said back as money ("$3.0M") under the box."""
    typed = where.number_input(
        f"No quota file loaded: the team's budget for {period_label}",
        min_value=0.0,
        value=None,
        step=10_000.0,
        format="%.0f",
        placeholder="type the budget",
        key=key,
    )
    if typed is not None:
        where.caption(f"Budget: {markdown_text(money(typed, currency))}")
    return typed


def warning_threshold_inputs(defaults: Settings) -> dict[str, object]:
    """The threshold widgets (inside the sidebar's Settings), as Settings field values."""
    values: dict[str, object] = {
        "coverage_from_win_rate": st.toggle(
            "Coverage target from each rep's win rate",
            key="coverage_from_win_rate",
            help="1 ÷ the rep's win rate by value over the last four quarters, instead of 3×.",
        )
    }
    for field, label, unit in WARNING_THRESHOLDS:
        default = getattr(defaults, field)
        if unit == "share":
            percent = st.number_input(label + " (%)", 0, 100, round(default * 100), 5, key=field)
            values[field] = percent / 100
        elif unit == "ratio":
            values[field] = st.number_input(label + " (×)", 0.0, 20.0, default, 0.5, key=field)
        else:
            values[field] = st.number_input(label, 1, 365, default, 1, key=field)
    return values
