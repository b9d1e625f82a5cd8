"""One Closeboard session: what was loaded, assembled once into what every figure reads.

The app, every CLI command and the SQL box's sandbox build their data here and nowhere else:
the deals resolved against the reps and rates, the close-date pushes (from a Data Export's
OpportunityHistory, else from the workspace's saved snapshots), the display currency and the
quotas. A connection is opened per use (`connection`): one DuckDB connection used by
two threads at once fails, so none is ever shared.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib import changes
from lib.coaching import trailing_four_quarters
from lib.currencies import display_of, rescaled, without_rate
from lib.db import NO_PUSHES, open_database, resolve_deals, set_apart
from lib.explore_terms import HISTORY, TABLES
from lib.load.errors import LoadError
from lib.load.opportunities import LoadedExport
from lib.load.reps import LoadedReps
from lib.load.targets import LoadedTargets, load_quota_rows
from lib.load.zip_export import QUOTA_FILE, history_push_counts
from lib.settings import Settings
from lib.stage_history import no_stage_days, stage_days, stage_entries
from lib.store import Snapshot, StoreError, snapshot_of_export
from lib.stores import WorkspaceStore

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class ResolvedDeals:
    """The deals as every figure reads them (owners named, teams from the reps file, amounts in
    the display currency), and what the figures read of them again and again, set apart."""

    deals: pa.Table
    set_apart: dict[str, pa.Table]


@dataclass(frozen=True)
class Session:
    """Everything a figure needs, as immutable Arrow tables and values."""

    export: LoadedExport
    targets: LoadedTargets | None
    reps: LoadedReps | None
    settings: Settings
    source: str
    rates: dict[str, float] | None
    resolved: ResolvedDeals
    push_counts: pa.Table
    # A Data Export's OpportunityHistory changes, one row per change; None without it.
    history: pa.Table | None = None
    # The workspace's snapshot store, when there is one: the QBR reads lost deals' stages there.
    store: WorkspaceStore | None = None
    # The currency chosen to show figures in; None: the rates' own, else the export's.
    chosen_currency: str | None = None
    # When each deal entered each stage (lib/stage_history.py); None when nothing dates a stage.
    stage_entries: pa.Table | None = None
    # Each open deal's days in its current stage, and whether it is stalled (stage_days).
    stage_days: pa.Table = field(default_factory=no_stage_days)

    @property
    def currency(self) -> str | None:
        """The currency every amount is shown in: the one chosen, else the one the rates convert
        into, else the export's (its corporate or most common one)."""
        if self.converted_amounts:
            return self.export.report.display_currency
        return (
            self.chosen_currency
            or (display_of(self.rates) if self.rates else None)
            or self.export.report.display_currency
        )

    @property
    def currencies_left_out(self) -> tuple[str, ...]:
        """The export's currencies that no rate converts: their deals are in no total."""
        if self.converted_amounts:
            return ()
        return without_rate(self.export.report.currencies, self.rates)

    def deals_left_out(self) -> int:
        """How many deals are in currencies_left_out."""
        left_out = self.currencies_left_out
        if not left_out:
            return 0
        currency = self.export.deals["currency"]
        return pc.sum(pc.is_in(currency, value_set=pa.array(left_out))).as_py() or 0

    @property
    def converted_amounts(self) -> bool:
        """True when figures use the export's converted amounts (uses_converted_amounts)."""
        return uses_converted_amounts(self.export)

    @property
    def table_names(self) -> tuple[str, ...]:
        """The tables a query of the SQL box may read."""
        return (*TABLES, HISTORY) if self.history is not None else TABLES

    def connection(self, config: dict[str, object] | None = None) -> duckdb.DuckDBPyConnection:
        """A new private database over the session's tables, for one run of a page or command;
        `config` holds DuckDB settings to open it with (the SQL box's sandbox, lib/query.py)."""
        con = open_database(
            self.export.deals,
            self.targets.targets if self.targets else None,
            self.reps.reps if self.reps else None,
            self.rates,
            self.push_counts,
            config=config,
            opportunities=self.resolved.deals,
            set_apart_tables=self.resolved.set_apart,
            converted_amounts=self.converted_amounts,
            stage_days=self.stage_days,
        )
        if self.history is not None:
            con.register(HISTORY, self.history)
        return con


def uses_converted_amounts(export: LoadedExport) -> bool:
    """True when the export carries each deal's amount converted by the CRM into the company's
    currency (Amount (converted), Amount in company currency): figures use those, at the CRM's
    own dated rates, and the deal's own amount and currency stay beside them."""
    return export.report.amount_column is not None


def session_rates(
    export: LoadedExport, entered: dict[str, float] | None = None, currency: str | None = None
) -> dict[str, float] | None:
    """Rates into the display currency: none when the export's amounts come converted already
    (uses_converted_amounts); else those the user entered, else a Data Export's CurrencyType
    rates into its corporate currency, rescaled to the `currency` chosen; else (an export
    mixing currencies) only the chosen or most common currency's own, so that no total adds
    euros to dollars; None for one currency. LoadError when the rates cannot reach `currency`."""
    if uses_converted_amounts(export):
        return None
    given = entered or (export.export_files.rates if export.export_files is not None else None)
    if given:
        return rescaled(given, currency) if currency else given
    currencies = export.report.currencies
    if len(currencies) < 2:
        if currency and currencies and currency != currencies[0]:
            raise LoadError(
                f"The export's amounts are in {currencies[0]}: give the rate of {currency} (a "
                f"rates file) to show them in it."
            )
        return None
    return {currency or currencies[0]: 1.0}


def export_quotas(export: LoadedExport, settings: Settings) -> LoadedTargets | None:
    """A Data Export's ForecastingQuota, for when no quota file is given; their periods depend on
    the fiscal year chosen."""
    files = export.export_files
    if files is None or not files.quotas:
        return None
    return load_quota_rows(files.quotas, QUOTA_FILE, settings)


def resolve(
    export: LoadedExport, reps: LoadedReps | None, rates: dict[str, float] | None
) -> ResolvedDeals:
    """The deals resolved against the reps and rates, worked out once per load."""
    deals = resolve_deals(
        export.deals, reps.reps if reps else None, rates, uses_converted_amounts(export)
    )
    return ResolvedDeals(deals, set_apart(deals))


def count_pushes(export: LoadedExport, as_of: date, store: WorkspaceStore | None) -> pa.Table:
    """Each deal's close-date pushes up to the as-of date: from a Data Export's OpportunityHistory
    (it records every change: snapshots would count some of them again), else over the saved
    snapshots dated before the as-of date with this export as the newest, else none."""
    files = export.export_files
    if files is not None and files.history_file is not None:
        return history_push_counts(files.history, export.deals, as_of)
    if store is None:
        return NO_PUSHES
    try:
        if not any(entry["as_of"] < as_of for entry in store.list_snapshots()):
            return NO_PUSHES
        history = store.close_date_history(as_of, unsaved=[snapshot_of_export(export, as_of)])
    except StoreError:
        # The changes page shows what is wrong with the store; the figures go without pushes.
        LOG.warning("No close-date history: the snapshot store cannot be read", exc_info=True)
        return NO_PUSHES
    return changes.push_counts(history)


def saved_snapshots(store: WorkspaceStore | None, as_of: date) -> list[Snapshot]:
    """The workspace's snapshots dated before the as-of date, oldest first: the one place the
    session reads the store for stage history; none when it cannot be read (the changes page
    says what is wrong with it)."""
    if store is None:
        return []
    try:
        dates = sorted(e["as_of"] for e in store.list_snapshots() if e["as_of"] < as_of)
        return [store.read_snapshot(day) for day in dates]
    except StoreError:
        LOG.warning("No stage history from snapshots: the store cannot be read", exc_info=True)
        return []


@dataclass(frozen=True)
class StageHistory:
    """When each deal entered each stage (None when nothing dates one) and each open deal's
    days in its current stage."""

    entries: pa.Table | None
    days: pa.Table


def stage_history(
    export: LoadedExport, settings: Settings, history: pa.Table | None, store: WorkspaceStore | None
) -> StageHistory:
    """Stage entries from the Data Export's history, the export's stage-date columns and the
    saved snapshots (with this export as the newest), and the open deals' days in stage."""
    saved = saved_snapshots(store, settings.as_of)
    snapshots = [*saved, snapshot_of_export(export, settings.as_of)] if saved else []
    entries = stage_entries(export, settings.as_of, history, snapshots)
    if entries.num_rows == 0:
        return StageHistory(None, no_stage_days())
    days = stage_days(
        entries,
        export.deals,
        export.report.stage_rules,
        trailing_four_quarters(settings).start,
        settings.as_of,
        settings.stalled_ratio,
    )
    return StageHistory(entries, days)


def assemble(
    export: LoadedExport,
    settings: Settings,
    *,
    targets: LoadedTargets | None = None,
    reps: LoadedReps | None = None,
    entered_rates: dict[str, float] | None = None,
    currency: str | None = None,
    store: WorkspaceStore | None = None,
    source: str | None = None,
    resolve=resolve,
    count_pushes=count_pushes,
    stage_history=stage_history,
) -> Session:
    """The session of what was loaded: the one way the app, the CLI and the SQL box build it.

    Without a quota file a Data Export's own quotas are used; `currency` chooses the one figures
    are shown in (the rates rescaled to it). `resolve`, `count_pushes` and `stage_history` are
    the costly steps; the app passes versions of them that remember their results across
    the runs of its script (they depend only on their arguments).
    """
    rates, files = session_rates(export, entered_rates, currency), export.export_files
    history = files.history if files is not None and files.history_file is not None else None
    stages = stage_history(export, settings, history, store)
    return Session(
        export=export,
        targets=targets if targets is not None else export_quotas(export, settings),
        reps=reps,
        settings=settings,
        source=source or export.report.file_name,
        rates=rates,
        resolved=resolve(export, reps, rates),
        push_counts=count_pushes(export, settings.as_of, store),
        history=history,
        store=store,
        chosen_currency=currency,
        stage_entries=stages.entries,
        stage_days=stages.days,
    )


def in_one_currency(session: Session, currency: str) -> Session:
    """The session counting only the deals in `currency`, in that currency: a report whole in
    its own money where no rate joins the currencies."""
    rates = {currency: 1.0}
    resolved = resolve(session.export, session.reps, rates)
    return replace(session, rates=rates, chosen_currency=currency, resolved=resolved)
