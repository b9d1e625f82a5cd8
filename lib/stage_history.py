"""When each deal entered each stage, the pipeline as it stood on a past date, and days in stage.

The sources, per deal, from the one whose dates are the most exact:
1. a Data Export's OpportunityHistory: each change of stage, on the day it was made;
2. stage-date columns of the export: HubSpot's `Date entered "<stage> (<pipeline>)"` (a date for
   every stage a deal went through), then Pipedrive's `Last stage change`, Salesforce's
   `LastStageChangeDate`, or a Salesforce report's `Stage Duration` in days (entered on
   as_of − duration): the day the deal entered its current stage, with the stages the
   snapshots dated before that day;
3. saved snapshots: a deal whose stage differs from the one the snapshot before showed entered
   it between the two, and is dated at the later snapshot; a deal already in the earliest
   snapshot is dated at it (it entered on or before that day).
Snapshots are exact about the pipeline on their own dates, but they date a stage change up to a
snapshot's interval late, so a deal's own dated changes win over them.
"""

from __future__ import annotations

import re
import statistics
from collections.abc import Sequence
from datetime import date

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.load.layouts import fold
from lib.load.opportunities import LoadedExport, extra_column_names
from lib.load.stages import StageRule
from lib.load.values import (
    DECIMAL_COMMA,
    DECIMAL_POINT,
    DateReading,
    detect_date_formats,
    install_value_macros,
)
from lib.sql import sql_file
from lib.store import Snapshot

ENTRIES_SCHEMA = pa.schema(
    [("opportunity_id", pa.string()), ("stage", pa.string()), ("entered_on", pa.date32())]
)
COLUMN_ENTRIES_SCHEMA = ENTRIES_SCHEMA.append(pa.field("dates_every_stage", pa.bool_()))
STAGE_DAYS_SCHEMA = pa.schema(
    [
        ("opportunity_id", pa.string()),
        ("stage", pa.string()),
        ("entered_on", pa.date32()),
        ("days_in_stage", pa.int32()),
        ("median_days", pa.float64()),
        ("stalled", pa.bool_()),
    ]
)
# HubSpot's wide export: `Date entered "Contract sent (Sales Pipeline)"`, quotes or not.
DATE_ENTERED = re.compile(r'^date entered\s+"?(?P<stage>.+?)\s+\((?P<pipeline>[^()]*)\)"?$', re.I)
# The day a deal entered its current stage, by folded header (Pipedrive, with or without its
# "Deal - " prefix; Salesforce's Data Export).
STAGE_CHANGE_HEADERS = ("laststagechange", "deallaststagechange", "laststagechangedate")
# A Salesforce report's days in the current stage.
STAGE_DURATION_HEADERS = ("stageduration",)


def empty_entries() -> pa.Table:
    return ENTRIES_SCHEMA.empty_table()


def stage_entries(
    export: LoadedExport,
    as_of: date,
    history: pa.Table | None = None,
    snapshots: Sequence[Snapshot] = (),
) -> pa.Table:
    """One row per time a deal entered a stage (opportunity_id, stage, entered_on), each deal's
    rows from the most exact source that has any for it (see the module's docstring). `history`
    is a Data Export's OpportunityHistory (Session.history); `snapshots` the saved ones and the
    export itself as the newest (two at least, or they date nothing); `as_of` dates a Stage
    Duration."""
    sources = {
        "from_history": (
            history_entries(history, export.deals) if history is not None else empty_entries()
        ),
        "from_columns": column_entries(export, as_of),
        "from_snapshots": snapshot_entries(snapshots),
    }
    con = duckdb.connect()
    try:
        for name, table in sources.items():
            con.register(name, table)
        return con.sql(sql_file("stage_entries")).to_arrow_table().cast(ENTRIES_SCHEMA)
    finally:
        con.close()


def history_entries(history: pa.Table, deals: pa.Table) -> pa.Table:
    """OpportunityHistory's changes of stage of the `deals` (a deal deleted from Opportunity.csv
    keeps its history rows): a deal's first row, and each row whose stage differs from the stage
    of its row before (rows without a stage say nothing of it)."""
    con = duckdb.connect()
    try:
        con.register("all_history", history.select(["opportunity_id", "changed_at", "stage"]))
        con.register("deals", deals.select(["opportunity_id"]))
        con.execute(
            "CREATE TEMP VIEW history AS SELECT * FROM all_history "
            "WHERE opportunity_id IN (SELECT opportunity_id FROM deals)"
        )
        return (
            con.sql(
                """
            SELECT opportunity_id, stage, CAST(changed_at AS DATE) AS entered_on
            FROM (
                SELECT *, lag(stage) OVER (
                    PARTITION BY opportunity_id ORDER BY changed_at) AS stage_before
                FROM history
                WHERE stage IS NOT NULL AND changed_at IS NOT NULL
            )
            WHERE stage_before IS NULL OR stage_before <> stage
            ORDER BY opportunity_id, entered_on
            """
            )
            .to_arrow_table()
            .cast(ENTRIES_SCHEMA)
        )
    finally:
        con.close()


def snapshot_entries(snapshots: Sequence[Snapshot]) -> pa.Table:
    """A deal's stage in the first snapshot that holds it, and each stage that differs from the
    one the snapshot before it showed, dated at the snapshot (see the module's docstring).
    Fewer than two snapshots date nothing."""
    if len(snapshots) < 2:
        return empty_entries()
    rows = pa.concat_tables(
        [
            snapshot.deals.select(["opportunity_id", "stage"])
            .cast(pa.schema([("opportunity_id", pa.string()), ("stage", pa.string())]))
            .append_column(
                "as_of", pa.array([snapshot.as_of] * snapshot.deals.num_rows, pa.date32())
            )  # fmt: skip
            for snapshot in snapshots
        ]
    )
    con = duckdb.connect()
    try:
        con.register("rows", rows)
        return (
            con.sql(
                """
            SELECT opportunity_id, stage, as_of AS entered_on
            FROM (
                SELECT *, lag(stage) OVER (PARTITION BY opportunity_id ORDER BY as_of) AS before,
                    row_number() OVER (PARTITION BY opportunity_id ORDER BY as_of) AS seen
                FROM rows
                WHERE opportunity_id IS NOT NULL AND stage IS NOT NULL
            )
            WHERE seen = 1 OR before <> stage
            ORDER BY opportunity_id, entered_on
            """
            )
            .to_arrow_table()
            .cast(ENTRIES_SCHEMA)
        )
    finally:
        con.close()


def column_entries(export: LoadedExport, as_of: date) -> pa.Table:
    """Entries from the export's stage-date columns, read among its unmapped columns by header
    and parsed as the loader parses dates and numbers: every HubSpot `Date entered` column
    (each a stage; dates_every_stage), else the date the deal entered its current stage."""
    report, deals = export.report, export.deals
    names = extra_column_names(report.headers, set(report.mapping.values()))
    entered = {names[h]: m["stage"] for h in names if (m := DATE_ENTERED.match(h.strip()))}
    changed = [names[h] for h in names if fold(h) in STAGE_CHANGE_HEADERS]
    duration = [names[h] for h in names if fold(h) in STAGE_DURATION_HEADERS]
    if not (entered or changed or duration):
        return COLUMN_ENTRIES_SCHEMA.empty_table()
    close_reading = report.date_readings.get("close_date")
    day_first = bool(close_reading and (close_reading.format or "").startswith("%d"))
    columns = {"opportunity_id": deals["opportunity_id"], "stage": deals["stage"]}
    wanted = [*entered, *changed[:1], *duration[:1]]
    cells = pa.table(
        {
            **{key: cells.cast(pa.string()) for key, cells in columns.items()},
            **{f"c{at}": deals[name] for at, name in enumerate(wanted)},
        }
    )
    con = duckdb.connect()
    try:
        install_value_macros(con)
        con.register("cells", cells)
        date_columns = [f"c{at}" for at, name in enumerate(wanted) if name not in duration]
        formats = detect_date_formats(con, "cells", date_columns, day_first)
        selects = []
        for at, name in enumerate(wanted):
            column = f"c{at}"
            if name in entered:
                selects.append(_entered_select(column, True, formats[column].format))
            elif name in changed:
                selects.append(_entered_select(column, False, formats[column].format))
            else:
                selects.append(_duration_select(column))
        # A deal with per-stage dates needs no single date for its current stage (kind 0 wins).
        table = con.sql(
            f"""
            WITH found AS ({" UNION ALL ".join(selects)})
            SELECT opportunity_id, stage, entered_on, kind = 0 AS dates_every_stage FROM found
            WHERE opportunity_id IS NOT NULL AND stage IS NOT NULL AND entered_on IS NOT NULL
            QUALIFY kind = min(kind) OVER (PARTITION BY opportunity_id)
            """,  # noqa: S608 - our own column names; values are parameters
            params=_parameters(wanted, entered, formats, duration, as_of, report.decimal_comma),
        ).to_arrow_table()
        return table.cast(COLUMN_ENTRIES_SCHEMA)
    finally:
        con.close()


def _parameters(
    wanted: list[str],
    entered: dict[str, str],
    formats: dict[str, DateReading],
    duration: list[str],
    as_of: date,
    decimal_comma: bool,
) -> dict[str, object]:
    """The values column_entries' SQL reads: each date column's format, each HubSpot column's
    stage name, and for a Stage Duration the as-of date and the decimal mark."""
    found: dict[str, object] = {
        f"f{column[1:]}": reading.format for column, reading in formats.items() if reading.format
    }
    for at, name in enumerate(wanted):
        if name in entered and formats[f"c{at}"].format:
            found[f"s{at}"] = entered[name]
    if duration:
        found["as_of"] = as_of
        found["amount_format"] = DECIMAL_COMMA if decimal_comma else DECIMAL_POINT
    return found


def _entered_select(column: str, per_stage: bool, fmt: str | None) -> str:
    """The SQL of one date column: a stage's (HubSpot, kind 0; the stage name is parameter
    $sN) or the current stage's (kind 1). Only our own column names (cN) go into it."""
    if fmt is None:
        return (
            "SELECT NULL::VARCHAR AS opportunity_id, NULL::VARCHAR AS stage, "
            "NULL::DATE AS entered_on, 9 AS kind WHERE false"
        )
    at = column[1:]
    stage, kind = (f"$s{at}::VARCHAR", 0) if per_stage else ("stage", 1)
    return (
        f"SELECT opportunity_id, {stage} AS stage, parse_date({column}, $f{at}) AS entered_on, "  # noqa: S608
        f"{kind} AS kind FROM cells"
    )


def _duration_select(column: str) -> str:
    """A Stage Duration in days (`7,0000000000`, in the export's decimal mark $amount_format):
    the deal entered its stage that many days before the as-of date, rounded to the day."""
    return (
        "SELECT opportunity_id, stage, CAST($as_of::DATE - CAST(round(parse_amount("  # noqa: S608
        f"{column}, $amount_format)) AS INTEGER) AS DATE) AS entered_on, 2 AS kind FROM cells"
    )


def stage_on(entries: pa.Table, on: date) -> pa.Table:
    """Each deal's stage on `on` (opportunity_id, stage): its last entry on or before it; a deal
    with no entry by then is not in it."""
    con = duckdb.connect()
    try:
        con.register("entries", entries)
        return con.sql(
            """
            SELECT opportunity_id, arg_max(stage, entered_on) AS stage
            FROM entries WHERE entered_on <= $on
            GROUP BY opportunity_id ORDER BY opportunity_id
            """,
            params={"on": on},
        ).to_arrow_table()
    finally:
        con.close()


def open_on(deals: pa.Table, on: date) -> pa.Table:
    """The deals a plain export proves were open on `on`: created on or before it and not
    closed (won or lost) on or before it. A deal without a created date proves nothing."""
    status = pc.cast(deals["status"], pa.string())
    created = pc.less_equal(deals["created_date"], pa.scalar(on, pa.date32()))
    closed = pc.and_(
        pc.is_in(status, value_set=pa.array(["won", "lost"])),
        pc.less_equal(deals["close_date"], pa.scalar(on, pa.date32())),
    )
    return deals.filter(pc.and_(created, pc.invert(pc.fill_null(closed, False))))


# --- Days in stage ------------------------------------------------------------------------------


def median(values: Sequence[float]) -> float | None:
    """The median (an even count takes the mean of the middle two); None without values."""
    return float(statistics.median(values)) if values else None


def stays(
    entries: pa.Table, deals: pa.Table, rules: Sequence[StageRule], as_of: date
) -> list[tuple[str, str, date, date]]:
    """Each time a deal left an open stage on or before `as_of`: (opportunity_id, stage,
    entered_on, left_on). A deal left a stage when it entered the next one; a deal closed on its
    close date left the stage it was in then (Pipedrive keeps a closed deal's last open stage)."""
    open_stages = {rule.stage for rule in rules if rule.status == "open"}
    closed_on = {
        deal: close
        for deal, status, close in zip(
            deals["opportunity_id"].to_pylist(),
            pc.cast(deals["status"], pa.string()).to_pylist(),
            deals["close_date"].to_pylist(),
            strict=True,
        )
        if status in ("won", "lost") and close is not None
    }
    by_deal: dict[str, list[tuple[date, str]]] = {}
    for deal, stage, entered in zip(
        *(entries[c].to_pylist() for c in ("opportunity_id", "stage", "entered_on")), strict=True
    ):
        if entered <= as_of:
            by_deal.setdefault(deal, []).append((entered, stage))
    found = []
    for deal, rows in by_deal.items():
        rows.sort()
        ends = [entered for entered, _ in rows[1:]] + [closed_on.get(deal)]
        for (entered, stage), left in zip(rows, ends, strict=True):
            if stage in open_stages and left is not None and entered <= left <= as_of:
                found.append((deal, stage, entered, left))
    return found


def median_days_by_stage(
    entries: pa.Table, deals: pa.Table, rules: Sequence[StageRule], start: date, as_of: date
) -> dict[str, float]:
    """Per open stage, the median days spent in it by the deals that left it from `start` to
    `as_of` (the trailing four quarters)."""
    days: dict[str, list[int]] = {}
    for _, stage, entered, left in stays(entries, deals, rules, as_of):
        if left >= start:
            days.setdefault(stage, []).append((left - entered).days)
    return {stage: median(values) for stage, values in days.items()}


def stage_days(
    entries: pa.Table,
    deals: pa.Table,
    rules: Sequence[StageRule],
    start: date,
    as_of: date,
    stalled_ratio: float,
) -> pa.Table:
    """Each open deal whose entry into its current stage is known: days in that stage (as_of −
    the day it entered it), the stage's median days (median_days_by_stage, None when no deal
    left it in the window) and whether it is stalled: days ≥ `stalled_ratio` × a median of a
    day or more (a stage deals pass the same day stalls nobody)."""
    medians = median_days_by_stage(entries, deals, rules, start, as_of)
    last_entry: dict[str, tuple[date, str]] = {}
    for deal, stage, entered in zip(
        *(entries[c].to_pylist() for c in ("opportunity_id", "stage", "entered_on")), strict=True
    ):
        if entered <= as_of and (deal not in last_entry or last_entry[deal] < (entered, stage)):
            last_entry[deal] = (entered, stage)
    rows = []
    for deal, stage, status in zip(
        deals["opportunity_id"].to_pylist(),
        pc.cast(deals["stage"], pa.string()).to_pylist(),
        pc.cast(deals["status"], pa.string()).to_pylist(),
        strict=True,
    ):
        entered, entered_stage = last_entry.get(deal, (None, None))
        # Sources that disagree with the export about the current stage date nothing.
        if status != "open" or entered_stage != stage:
            continue
        days = (as_of - entered).days
        usual = medians.get(stage)
        stalled = usual is not None and usual >= 1 and days >= stalled_ratio * usual
        rows.append((deal, stage, entered, days, usual, stalled))
    return pa.Table.from_pylist(
        [dict(zip(STAGE_DAYS_SCHEMA.names, row, strict=True)) for row in rows],
        schema=STAGE_DAYS_SCHEMA,
    )


def no_stage_days() -> pa.Table:
    return STAGE_DAYS_SCHEMA.empty_table()
