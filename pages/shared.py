"""Streamlit glue the pages share: this session's loaded data, cached by file content."""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import duckdb
import pandas as pd
import pyarrow as pa
import streamlit as st

from lib import changes, overview, store
from lib.db import NO_PUSHES, open_database, resolve_deals, set_apart
from lib.format import currency_symbol, file_size, markdown_text
from lib.load.errors import LoadError
from lib.load.mapping import (
    Mapping,
    MissingFieldsError,
    apply_saved_mapping,
    mapping_from_json,
)
from lib.load.opportunities import LoadedExport, load_opportunities
from lib.load.reps import LoadedReps, load_reps
from lib.load.targets import LoadedTargets, load_quota_rows, load_targets
from lib.load.zip_export import QUOTA_FILE, bundle, history_push_counts
from lib.pipeline_warnings import RULES
from lib.settings import Settings

LOG = logging.getLogger(__name__)
KIND_NAMES = {"opportunities": "export", "targets": "quota file", "reps": "reps file"}
SAMPLE_DIR = Path(__file__).resolve().parent.parent / "sample_data"
SAMPLE_FILES = {
    "opportunities": SAMPLE_DIR / "opportunities.csv",
    "targets": SAMPLE_DIR / "quotas.csv",
    "reps": SAMPLE_DIR / "reps.csv",
}


@dataclass(frozen=True)
class Upload:
    """A file's name and bytes, with a digest that keys every cache of what is read from it."""

    name: str
    data: bytes
    digest: str

    @classmethod
    def of(cls, name: str, data: bytes) -> Upload:
        return cls(name, data, hashlib.sha256(data).hexdigest())


@dataclass(frozen=True)
class SessionData:
    """Everything a page needs: the session's own connection and what was loaded into it."""

    con: duckdb.DuckDBPyConnection
    export: LoadedExport
    targets: LoadedTargets | None
    reps: LoadedReps | None
    settings: Settings
    source: str


# Parsing is cached by content across sessions: the same bytes give the same immutable result,
# so another session can only ever get it back by uploading the very same file. The file name is
# part of the key because the result names its file: the same bytes uploaded as another name
# must not show the first uploader's file name.
@st.cache_resource(max_entries=8, show_spinner="Reading the export…")
def _cached_export(digest: str, name: str, _upload: Upload, mapping_json: str, edits_json: str):
    mapping = json.loads(mapping_json) or None
    return load_opportunities(_upload.data, _upload.name, mapping, json.loads(edits_json))


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_targets(
    digest: str, name: str, _upload: Upload, fiscal_start: int, named_by_end: bool, as_of
):
    settings = Settings(as_of, fiscal_start, named_by_end)
    return load_targets(_upload.data, _upload.name, settings)


@st.cache_resource(max_entries=8, show_spinner=False)
def _cached_reps(digest: str, name: str, _upload: Upload):
    return load_reps(_upload.data, _upload.name)


def read_export(upload: Upload, mapping: Mapping | None, stage_edits: dict) -> LoadedExport:
    return _cached_export(
        upload.digest, upload.name, upload, json.dumps(mapping or {}, sort_keys=True),
        json.dumps(stage_edits, sort_keys=True),
    )  # fmt: skip


def read_targets(upload: Upload, settings: Settings) -> LoadedTargets:
    return _cached_targets(
        upload.digest, upload.name, upload, settings.fiscal_year_start_month,
        settings.fiscal_year_named_by_end, settings.as_of,
    )  # fmt: skip


def read_reps(upload: Upload) -> LoadedReps:
    return _cached_reps(upload.digest, upload.name, upload)


def sample_upload(kind: str) -> Upload:
    path = SAMPLE_FILES[kind]
    return _sample_bytes(str(path))


@st.cache_resource(show_spinner=False)
def _sample_bytes(path: str) -> Upload:
    return Upload.of(Path(path).name, Path(path).read_bytes())


def session_connection(
    export: LoadedExport,
    targets: LoadedTargets | None,
    reps: LoadedReps | None,
    rates: dict[str, float] | None,
    as_of: date,
) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection of this session's own, new for every run of the script.

    A click during a run starts the next run while the old one is still finishing its query;
    one connection used by two threads at once fails ("connection is busy"). Opening one costs
    next to nothing: the Arrow tables are registered, not copied, and the deals are resolved
    against the reps and rates (and what the figures read again and again set apart) once, not
    on every run.
    """
    *_, deals, set_apart_tables = _resolved(
        id(export), id(reps), json.dumps(rates, sort_keys=True), export, reps, rates
    )
    return open_database(
        export.deals,
        targets.targets if targets else None,
        reps.reps if reps else None,
        rates,
        session_push_counts(export, as_of),
        opportunities=deals,
        set_apart_tables=set_apart_tables,
    )


# Keyed by the loaded objects themselves: they come from the caches above, shared by every
# session that loaded the same files. Each entry keeps its export and reps, so that while it is
# cached no other object can take their ids.
@st.cache_resource(max_entries=4, show_spinner=False)
def _resolved(export_id: int, reps_id: int, rates_json: str, _export, _reps, _rates):
    deals = resolve_deals(_export.deals, _reps.reps if _reps else None, _rates)
    return _export, _reps, deals, set_apart(deals)


def session_push_counts(export: LoadedExport, as_of: date) -> pa.Table:
    """This session's close-date pushes (saved snapshots before the as-of date, then the loaded
    export), for the close-today flags and the slipping warning; counted again only when the
    store, the export or the date changes."""
    path = workspace_store_path()
    key = (id(export), as_of, str(path), _file_state(path))
    cached = st.session_state.get("push_counts")
    if cached is not None and cached[0] == key:
        return cached[1]
    counts = NO_PUSHES
    files = export.export_files
    if files is not None and files.history_file is not None:
        # OpportunityHistory records every change: snapshots would only count some of them again.
        counts = history_push_counts(files.history, export.deals, as_of)
        st.session_state.push_counts = (key, counts)
        return counts
    try:
        # Without a snapshot before this export there is nothing to count pushes against.
        if any(entry["as_of"] < as_of for entry in store.list_snapshots(path)):
            history = store.close_date_history(
                as_of, path, unsaved=[store.snapshot_of_export(export, as_of)]
            )
            counts = changes.push_counts(history)
    except store.StoreError:
        # The changes page shows what is wrong with the store; the other pages go without.
        LOG.warning("No close-date history: the snapshot store cannot be read", exc_info=True)
    st.session_state.push_counts = (key, counts)
    return counts


def workspace_store_path() -> Path:
    """The snapshot store of this session's workspace (pages/workspace.py opens it)."""
    active = st.session_state.get("active_workspace")
    return active.path if active is not None else store.store_path()


def _file_state(path: Path) -> tuple:
    """When the store file (and its write-ahead log) last changed: a save or delete by any
    session changes it."""
    return tuple(
        (file.stat().st_mtime_ns, file.stat().st_size) if file.exists() else None
        for file in (path, path.with_name(path.name + ".wal"))
    )


def loaded_or_stop() -> SessionData:
    """This session's data; without any, the page says where to load it and stops there."""
    data = current()
    if data is None:
        st.info(
            "Load an opportunities export in the sidebar, or switch to the sample data.",
            icon=":material/upload_file:",
        )
        st.stop()
    return data


def current() -> SessionData | None:
    """What the sidebar loaded for this session, or None when nothing is loaded yet."""
    return st.session_state.get("session_data")


def headers_key(headers: tuple[str, ...]) -> str:
    """Mappings and stage edits are remembered per set of headers: next week's export with the
    same columns gets them again."""
    return hashlib.sha256("\x1f".join(headers).encode()).hexdigest()[:16]


def show_load_error(error: LoadError) -> None:
    st.error(str(error), icon="⚠️")


def as_of_caption(settings: Settings, source: str) -> str:
    # The source is the uploaded file's name: whatever its sender called it, shown as typed.
    return f"As of {settings.as_of:%a %d %b %Y} · {markdown_text(source)}"


def today() -> date:
    return date.today()


def remembered(kind: str) -> dict:
    """Per-session memory of mappings and stage edits, keyed by the export's headers."""
    return st.session_state.setdefault(kind, {})


def load_export(upload: Upload) -> LoadedExport:
    """The export read with the mapping and stage edits this session chose for its headers.

    Raises MissingFieldsError (a LoadError) when a required field has no column; the Data page
    then offers to pick the columns by hand.
    """
    try:
        loaded = read_export(upload, None, {})
    except MissingFieldsError as error:
        mapping = remembered("mappings").get(headers_key(error.headers))
        if not mapping:
            raise
        return read_export(
            upload, mapping, remembered("stage_edits").get(headers_key(error.headers), {})
        )
    key = headers_key(loaded.report.headers)
    mapping = remembered("mappings").get(key)
    edits = remembered("stage_edits").get(key, {})
    if mapping or edits:
        loaded = read_export(upload, mapping, edits)
    return loaded


def read_upload_with_status(upload: Upload, read, problems: list[str]) -> LoadedExport | None:
    """The uploaded export (keep_last_good with `read`) under a status line: while a new file
    is read it says which file and how large (a large export takes seconds), then how many deals
    it gave and how long it took, and it stays so while the file is in use: nothing on the page
    moves when the next click reruns the script."""
    outcomes = st.session_state.setdefault("upload_outcomes", {})
    key = (upload.digest, upload.name)
    if key in outcomes:
        label, state = outcomes[key]
        st.status(label, state=state)
        return keep_last_good("opportunities", upload, read, problems)
    # A label is Markdown: the file name, whatever its sender called it, is shown as typed.
    name = markdown_text(upload.name)
    with st.status(f"Reading {name} ({file_size(len(upload.data))})…") as status:
        started, problems_before = time.perf_counter(), len(problems)
        export = keep_last_good("opportunities", upload, read, problems)
        seconds = time.perf_counter() - started
        if len(problems) > problems_before:
            label, state = f"{name} could not be read.", "error"
        else:
            deals = export.report.rows_loaded
            label = f"Read {name}: {deals:,} deal{'' if deals == 1 else 's'} in {seconds:.1f} s."
            state = "complete"
        status.update(label=label, state=state)
    outcomes[key] = (label, state)
    return export


def export_history(export: LoadedExport) -> pa.Table | None:
    """A Data Export's OpportunityHistory changes, one row per change; None without the file."""
    files = export.export_files
    return files.history if files is not None and files.history_file is not None else None


def typed_team_budget(period_label: str, where=st, key: str | None = None) -> float | None:
    """The team's budget for the period, typed by hand when no quota file is loaded."""
    return where.number_input(
        f"No quota file loaded: the team's budget for {period_label}",
        min_value=0.0,
        value=None,
        step=10_000.0,
        placeholder="type the budget",
        key=key,
    )


def default_as_of(export: LoadedExport) -> date:
    return overview.default_as_of(export.deals, today())


def upload_of(uploaded) -> Upload:
    """An st.file_uploader file as an Upload; its digest is computed once per uploaded file."""
    digests = st.session_state.setdefault("upload_digests", {})
    if uploaded.file_id not in digests:
        digests[uploaded.file_id] = hashlib.sha256(uploaded.getvalue()).hexdigest()
    return Upload(uploaded.name, uploaded.getvalue(), digests[uploaded.file_id])


def export_headers(upload: Upload) -> tuple[str, ...]:
    """The headers of an export, even one that does not load without a hand-made mapping."""
    try:
        return read_export(upload, None, {}).report.headers
    except MissingFieldsError as error:
        return error.headers


# A table sends the browser at most this many rows: a quarter's lost deals or a week's changed
# deals run to tens of thousands at a million deals. Its download holds every row.
ROWS_SHOWN = 1_000


def long_table(frame: pd.DataFrame, what: str, rest: str = "", **options):
    """st.dataframe of the frame's first ROWS_SHOWN rows, with a caption under it when there are
    more ("The first 1,000 of 27,886 lost deals; the CSV holds every one.")."""
    shown = frame.head(ROWS_SHOWN)
    event = st.dataframe(shown, **options)
    if len(frame) > len(shown):
        st.caption(
            f"The first {len(shown):,} of {len(frame):,} {what}" + (f"; {rest}." if rest else ".")
        )
    return event


def money_column(label: str, currency: str | None):
    """A table column of money in the export's currency, without cents."""
    return st.column_config.NumberColumn(label, format=f"{currency_symbol(currency)}%,.0f")


def money_columns(labels, currency: str | None) -> dict:
    return {label: money_column(label, currency) for label in labels}


def keep_last_good(kind: str, upload: Upload, read, problems: list[str]):
    """What `read(upload)` gives; when the file cannot be used, its message goes to `problems`
    and the last file of this kind that did load stays in use: a failed upload never replaces
    data already loaded."""
    # Remembered per data source: a bad upload never falls back to the sample.
    last_good = st.session_state.setdefault("last_good", {}).setdefault(
        st.session_state.get("source"), {}
    )
    try:
        value = read(upload)
    except LoadError as error:
        problems.append(str(error))
        if kind == "opportunities":
            st.session_state.failed_upload = (upload, error)
    except Exception as error:  # a file we did not foresee must not show the user a traceback
        LOG.exception("Reading %s failed", upload.name)
        problems.append(
            f"{upload.name} could not be read: Closeboard did not expect what it found "
            f"({type(error).__name__}). Please report this file's layout to us."
        )
    else:
        if kind == "opportunities":
            st.session_state.pop("failed_upload", None)
        last_good[kind] = (upload.name, value)
        return value
    if kind in last_good:
        name, value = last_good[kind]
        problems.append(f"Still showing the last {KIND_NAMES[kind]} that loaded: {name}.")
        return value
    return None


def apply_mapping_file(mapping_file, opportunities: Upload, problems: list[str]) -> None:
    """A mapping JSON uploaded with the export applies to its headers, once per file."""
    applied = (mapping_file.file_id, opportunities.digest)
    if st.session_state.get("mapping_applied") == applied:
        return
    st.session_state.mapping_applied = applied
    try:
        headers = export_headers(opportunities)
        saved = apply_saved_mapping(mapping_from_json(mapping_file.getvalue()), headers)
    except LoadError as error:
        problems.append(str(error))
        return
    remembered("mappings")[headers_key(headers)] = saved


def rates_for(export: LoadedExport) -> dict[str, float] | None:
    """Rates into the display currency for an export that mixes currencies: the user's, else a
    Data Export's CurrencyType rates into its corporate currency, else only the display
    currency's own (the export's most common one), so that no total adds euros to dollars."""
    entered = remembered("rates").get(headers_key(export.report.headers))
    if entered:
        return entered
    if export.export_files is not None and export.export_files.rates:
        return export.export_files.rates
    currencies = export.report.currencies
    if len(currencies) < 2:
        return None
    return {currencies[0]: 1.0}


def export_quotas(export: LoadedExport, settings: Settings) -> LoadedTargets | None:
    """A Data Export's ForecastingQuota, for when no quota file is uploaded: a few rows, read
    again on each run because their periods depend on the fiscal year chosen."""
    files = export.export_files
    if files is None or not files.quotas:
        return None
    return load_quota_rows(files.quotas, QUOTA_FILE, settings)


def follow_export_calendar(export: LoadedExport) -> None:
    """The sidebar's fiscal year as a Data Export's FiscalYearSettings gives it; the user may
    still change it afterwards."""
    files = export.export_files
    if files is not None and files.fiscal_start_month:
        st.session_state.fiscal_start = files.fiscal_start_month
        st.session_state.fiscal_named_by_end = files.fiscal_named_by_end is not False


def upload_of_files(uploaded: list, problems: list[str]) -> Upload | None:
    """The opportunities uploader's files as one Upload: one file as it is; the files of a
    Salesforce Data Export (its ZIPs, or Opportunity.csv with User.csv…) packed together;
    of other files, the last one chosen, and a note that the others are left aside."""
    if not uploaded:
        return None
    if len(uploaded) == 1:
        return upload_of(uploaded[0])
    key = tuple(file.file_id for file in uploaded)
    bundles = st.session_state.setdefault("upload_bundles", {})
    if key not in bundles:
        packed = bundle([(file.name, file.getvalue()) for file in uploaded])
        bundles.clear()  # one bundle per session is enough: the uploader holds one set of files
        bundles[key] = Upload.of(*packed) if packed else None
    if bundles[key] is None:
        latest = uploaded[-1]
        problems.append(
            f"{len(uploaded)} files are in the opportunities uploader and they are not the files "
            f"of one Salesforce Data Export: using the last one, {latest.name}. Remove the "
            "others (×) to keep this clear."
        )
        return upload_of(latest)
    return bundles[key]


# The warning thresholds the sidebar's Settings offer: (field, label, kind), where a share is
# typed as a percentage, a ratio as a multiple, days and counts as whole numbers.
# Every threshold of the pipeline warnings, rule by rule (lib/pipeline_warnings.RULES): a
# Threshold is (Settings field, label, unit); pages/workspace.py remembers them by field.
WARNING_THRESHOLDS = tuple(threshold for rule in RULES for threshold in rule.thresholds)


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
