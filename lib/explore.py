"""Explore: any question of the deals as a pivot (deals × measure × dimension × split), in DuckDB.

A view names a set of deals (PRODUCT.md's meanings, at the as-of date), a measure, a row
dimension, an optional split, filters and date ranges. Only the aggregate leaves DuckDB: the
cells, each row's and column's total and the grand total (GROUPING SETS, so that a win rate or a
median total is computed over the deals, never added up from the cells).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date

import duckdb
import pandas as pd

from lib.explore_terms import DEAL_SETS, DEFAULT_TOP, MEASURES, Measure
from lib.fiscal import fiscal_quarter
from lib.load.opportunities import CANONICAL_COLUMNS
from lib.settings import Settings

ALL_OTHERS = "All others"
BLANK = "(blank)"
NO_DATE = "(no date)"
# The deals behind a bar or a cell shown at most; the download holds them all.
DEALS_SHOWN = 1_000


@dataclass(frozen=True)
class Dimension:
    """A way to group deals: SQL giving each deal's label (and, for time, an order)."""

    key: str
    label: str
    sql: str
    order_sql: str | None = None  # time: labels sort by this, and every period is shown

    @property
    def is_time(self) -> bool:
        return self.order_sql is not None


CATEGORIES = (("owner", "Owner"), ("team", "Team"), ("manager", "Manager"), ("stage", "Stage"),
              ("status", "Status"), ("forecast_category", "Forecast category"),
              ("lead_source", "Lead source"), ("type", "Type"), ("account", "Account"),
              ("currency", "Currency"))  # fmt: skip
DATES = (("close", "close_date", "Close"), ("created", "created_date", "Created"))
# The fiscal year a date falls in starts in $fiscal_start of this calendar year.
FISCAL_START_YEAR = "(year({d}) - CASE WHEN month({d}) < $fiscal_start THEN 1 ELSE 0 END)"
FISCAL_QUARTER = "((month({d}) - $fiscal_start + 12) % 12 // 3 + 1)"


def quote(name: str) -> str:
    """A column name from a file as a DuckDB identifier."""
    return '"' + name.replace('"', '""') + '"'


def dimensions(deals_columns: list[str]) -> dict[str, Dimension]:
    """Every dimension of an export: the canonical ones, close and created month, fiscal quarter
    and fiscal year, then each of the export's other columns (as typed in its header)."""
    found = {key: Dimension(key, label, key) for key, label in CATEGORIES}
    for prefix, column, word in DATES:
        start_year = FISCAL_START_YEAR.format(d=column)
        quarter = FISCAL_QUARTER.format(d=column)
        found[f"{prefix}_month"] = Dimension(
            f"{prefix}_month",
            f"{word} month",
            f"strftime({column}, '%b %Y')",
            f"year({column}) * 100 + month({column})",
        )
        found[f"{prefix}_quarter"] = Dimension(
            f"{prefix}_quarter", f"{word} fiscal quarter",
            f"'Q' || {quarter} || ' FY' || ({start_year} + $fiscal_name_offset)",
            f"{start_year} * 10 + {quarter}",
        )  # fmt: skip
        found[f"{prefix}_year"] = Dimension(
            f"{prefix}_year", f"{word} fiscal year",
            f"'FY' || ({start_year} + $fiscal_name_offset)", start_year,
        )  # fmt: skip
    for name in deals_columns[len(CANONICAL_COLUMNS) :]:
        key = name if name not in found else f"{name} (export)"
        found[key] = Dimension(key, name, quote(name))
    return found


def find_dimension(name: str, available: dict[str, Dimension]) -> Dimension:
    """The dimension a user named by key or label, ignoring case; ValueError listing them all."""
    if name in available:
        return available[name]
    for dimension in available.values():
        if name.casefold() in (dimension.key.casefold(), dimension.label.casefold()):
            return dimension
    raise ValueError(f'There is no dimension "{name}". Dimensions: {", ".join(available)}.')


@dataclass(frozen=True)
class View:
    """What the user asked: everything the URL holds, and nothing of the data."""

    deals: str = "won"
    measure: str = "amount"
    by: str = "owner"
    split: str | None = None
    filters: dict[str, tuple[str, ...]] = field(default_factory=dict)
    close_from: date | None = None
    close_to: date | None = None
    created_from: date | None = None
    created_to: date | None = None
    top: int = DEFAULT_TOP

    def __post_init__(self) -> None:
        if self.deals not in DEAL_SETS:
            raise ValueError(f'"{self.deals}" is not a set of deals: {", ".join(DEAL_SETS)}.')
        if self.measure not in MEASURES:
            raise ValueError(f'"{self.measure}" is not a measure: {", ".join(MEASURES)}.')
        if self.top < 1:
            raise ValueError(f"Top N shows at least 1 value, not {self.top}.")


def question(view: View, available: dict[str, Dimension]) -> str:
    """The view as the question its chart answers: "Won amount by product and fiscal quarter"."""
    deal_set, measure = DEAL_SETS[view.deals], MEASURES[view.measure]
    what = measure.title.format(deals=deal_set.noun) if measure.title else deal_set.amount_title
    split = f" and {_in_a_sentence(available[view.split].label)}" if view.split else ""
    return f"{what} by {_in_a_sentence(available[view.by].label)}{split}"


def _in_a_sentence(label: str) -> str:
    """ "Close month" -> "close month" inside a title; "MRR__c" and "ARR" keep their capitals."""
    if len(label) > 1 and label[0].isupper() and label[1].islower():
        return label[0].lower() + label[1:]
    return label


@dataclass(frozen=True)
class ExploreResult:
    """A view's answer: cells (by, split, value, deals) in display order, each row's and split
    column's total, and the grand total."""

    view: View
    question: str
    measure: Measure
    by: Dimension
    split: Dimension | None
    cells: pd.DataFrame
    by_totals: pd.DataFrame
    split_totals: pd.DataFrame
    total: float | None
    deals: int


class _Parameters:
    """Values for one query, each named where it is put into the SQL."""

    def __init__(self) -> None:
        self.values: dict[str, object] = {}

    def add(self, value: object) -> str:
        name = f"p{len(self.values)}"
        self.values[name] = value
        return f"${name}"

    def execute(self, con: duckdb.DuckDBPyConnection, sql: str) -> duckdb.DuckDBPyConnection:
        # DuckDB refuses a parameter the SQL does not use: pass only those it names.
        used = {k: v for k, v in self.values.items() if re.search(rf"\${k}\b", sql)}
        return con.execute(sql, used)


def _labelled_sql(
    view: View, available: dict[str, Dimension], settings: Settings, params: _Parameters
) -> str:
    """The chosen deals, each with its row and split label (top N, the rest "All others") and
    their order: the CTEs both the pivot and the deals behind a cell read."""
    by = available[view.by]
    split = available[view.split] if view.split else None
    params.values.update(
        as_of=settings.as_of,
        period_start=fiscal_quarter(settings.as_of, settings).start,
        fiscal_start=settings.fiscal_year_start_month,
        # As lib.fiscal names years: a January year ends in the year it starts.
        fiscal_name_offset=int(
            settings.fiscal_year_named_by_end and settings.fiscal_year_start_month > 1
        ),
    )
    conditions = [DEAL_SETS[view.deals].sql]
    for key, values in view.filters.items():
        if values:
            label = _label_sql(available[key])
            conditions.append(f"list_contains({params.add(list(values))}, {label})")
    for column, first, last in (("close_date", view.close_from, view.close_to),
                                ("created_date", view.created_from, view.created_to)):  # fmt: skip
        if first:
            conditions.append(f"{column} >= {params.add(first)}")
        if last:
            conditions.append(f"{column} <= {params.add(last)}")
    where = "\n            AND ".join(f"({condition})" for condition in conditions)
    split_label = _label_sql(split) if split else "NULL::VARCHAR"
    split_order = split.order_sql if split and split.is_time else "NULL::BIGINT"
    rank = MEASURES[view.measure].sql if MEASURES[view.measure].additive else "count(*)"
    top = params.add(view.top)
    others = params.add(ALL_OTHERS)
    sql = f"""
        WITH chosen AS (
            SELECT *,
                {_label_sql(by)} AS explore_by,
                {by.order_sql or "NULL::BIGINT"} AS explore_by_time,
                {split_label} AS explore_split,
                {split_order} AS explore_split_time
            FROM opportunities
            WHERE {where}
        ),
        by_places AS (
            SELECT explore_by, row_number() OVER (ORDER BY {rank} DESC, explore_by) AS place
            FROM chosen GROUP BY explore_by
        ),
        split_places AS (
            SELECT explore_split,
                row_number() OVER (ORDER BY {rank} DESC, explore_split) AS place
            FROM chosen GROUP BY explore_split
        ),
        labelled AS (
            SELECT c.* REPLACE (
                    {_top_sql("c.explore_by", "b.place", by, top, others)} AS explore_by,
                    {_top_sql("c.explore_split", "s.place", split, top, others)}
                        AS explore_split
                ),
                {_order_sql("c.explore_by_time", "b.place", by, top)} AS explore_by_order,
                {_order_sql("c.explore_split_time", "s.place", split, top)}
                    AS explore_split_order
            FROM chosen AS c
            JOIN by_places AS b USING (explore_by)
            JOIN split_places AS s ON s.explore_split IS NOT DISTINCT FROM c.explore_split
        )
    """  # noqa: S608 - identifiers are our own or quoted; every value is a parameter
    return sql


def _label_sql(dimension: Dimension) -> str:
    missing = NO_DATE if dimension.is_time else BLANK
    return f"coalesce(({dimension.sql})::VARCHAR, '{missing}')"


def _top_sql(label: str, place: str, dimension: Dimension | None, top: str, others: str) -> str:
    # Time keeps every period, in order: "all others" of a time line would mean nothing.
    if dimension is None or dimension.is_time:
        return label
    return f"CASE WHEN {place} <= {top} THEN {label} ELSE {others} END"


def _order_sql(time: str, place: str, dimension: Dimension | None, top: str) -> str:
    if dimension is not None and dimension.is_time:
        return time
    return f"least({place}, {top} + 1)"


def explore(
    con: duckdb.DuckDBPyConnection, view: View, available: dict[str, Dimension], settings: Settings
) -> ExploreResult:
    """The view's pivot over the session's opportunities view."""
    _check_dimensions(view, available)
    params = _Parameters()
    measure = MEASURES[view.measure]
    if view.split:
        sets = "(explore_by, explore_split), (explore_by), (explore_split), ()"
        split, all_split = "explore_split", "grouping(explore_split) = 1"
    else:
        sets, split, all_split = "(explore_by), ()", "NULL::VARCHAR", "TRUE"
    labelled = _labelled_sql(view, available, settings, params)
    pivot = f"""
        SELECT explore_by AS "by", {split} AS split, {measure.sql} AS value,
            count(*) AS deals,
            grouping(explore_by) = 1 AS all_by, {all_split} AS all_split,
            min(explore_by_order) AS by_order, min(explore_split_order) AS split_order
        FROM labelled
        GROUP BY GROUPING SETS ({sets})
        ORDER BY by_order NULLS LAST, "by", split_order NULLS LAST, split
    """  # noqa: S608 - our own SQL
    rows = params.execute(con, labelled + pivot).df()
    rows["value"] = rows["value"].astype(object).where(rows["value"].notna(), None)
    # Without a split, each row is a cell (split None) and its own total.
    cells = rows[~rows.all_by & (~rows.all_split | (view.split is None))]
    cells = cells[["by", "split", "value", "deals"]]
    by_totals = rows[~rows.all_by & rows.all_split][["by", "value", "deals"]]
    # In the split's own order (largest first, or time), not in the order of its first row.
    split_totals = rows[rows.all_by & ~rows.all_split].sort_values(
        ["split_order", "split"], na_position="last", kind="stable"
    )[["split", "value", "deals"]]
    grand = rows[rows.all_by & rows.all_split]
    total = grand["value"].iloc[0] if len(grand) else None
    return ExploreResult(
        view=view,
        question=question(view, available),
        measure=measure,
        by=available[view.by],
        split=available[view.split] if view.split else None,
        cells=cells.reset_index(drop=True),
        by_totals=by_totals.reset_index(drop=True),
        split_totals=split_totals.reset_index(drop=True),
        total=None if total is None or pd.isna(total) else float(total),
        deals=int(grand["deals"].iloc[0]) if len(grand) else 0,
    )


def deals_behind(
    con: duckdb.DuckDBPyConnection,
    view: View,
    available: dict[str, Dimension],
    settings: Settings,
    by: str | None,
    split: str | None = None,
    limit: int | None = None,
) -> pd.DataFrame:
    """The deals behind one row (by), one split column, or one cell of the view (None: every
    row or column), largest first, the first `limit` of them: every column of the export."""
    _check_dimensions(view, available)
    params = _Parameters()
    conditions = ["TRUE"]
    if by is not None:
        conditions.append(f"explore_by = {params.add(by)}")
    if split is not None and view.split:
        conditions.append(f"explore_split = {params.add(split)}")
    labelled = _labelled_sql(view, available, settings, params)
    behind = f"""
        SELECT * EXCLUDE (source_row, explore_by, explore_by_time, explore_split,
                          explore_split_time, explore_by_order, explore_split_order)
        FROM labelled
        WHERE {" AND ".join(conditions)}
        ORDER BY amount DESC NULLS LAST, opportunity_id
        {f"LIMIT {params.add(limit)}" if limit is not None else ""}
    """  # noqa: S608 - our own SQL
    return params.execute(con, labelled + behind).df()


def deals_in(result: ExploreResult, by: str | None, split: str | None) -> int:
    """How many deals one cell, row or column of the answer holds (both None: all of them)."""
    if by is None and split is None:
        return result.deals
    if split is None or result.split is None:
        found = result.by_totals[result.by_totals["by"] == by]["deals"]
    elif by is None:
        found = result.split_totals[result.split_totals["split"] == split]["deals"]
    else:
        cells = result.cells
        found = cells[(cells["by"] == by) & (cells["split"] == split)]["deals"]
    return int(found.iloc[0]) if len(found) else 0


def _check_dimensions(view: View, available: dict[str, Dimension]) -> None:
    for key in (view.by, view.split, *view.filters):
        if key is not None and key not in available:
            raise ValueError(f'There is no dimension "{key}". Dimensions: {", ".join(available)}.')


def dimension_values(
    con: duckdb.DuckDBPyConnection, dimension: Dimension, settings: Settings, limit: int = 500
) -> list[str]:
    """The values a filter on this dimension offers, over every deal: most deals first for a
    category, in time order for a period."""
    params = _Parameters()
    view = View(deals="all", measure="count", by=dimension.key, top=limit)
    labelled = _labelled_sql(view, {dimension.key: dimension}, settings, params)
    values = f"""
        SELECT explore_by FROM labelled WHERE explore_by <> {params.add(ALL_OTHERS)}
        GROUP BY explore_by ORDER BY min(explore_by_order), explore_by
    """  # noqa: S608 - our own SQL
    return [row[0] for row in params.execute(con, labelled + values).fetchall()]


def pivot_table(result: ExploreResult) -> pd.DataFrame:
    """The table behind the chart: one row per row label, a column per split value, a Total
    column and a Total row (without a split: the value and the number of deals)."""
    by_label = result.by.label
    if result.split is None:
        table = result.by_totals.rename(
            columns={"by": by_label, "value": result.measure.label, "deals": "Deals"}
        )
        total = pd.DataFrame(
            [{by_label: "Total", result.measure.label: result.total, "Deals": result.deals}]
        )
        return pd.concat([table, total], ignore_index=True)
    splits = list(result.split_totals["split"])
    wide = result.cells.pivot(index="by", columns="split", values="value")
    wide = wide.reindex(index=list(result.by_totals["by"]), columns=splits)
    wide["Total"] = list(result.by_totals["value"])
    totals = [*result.split_totals["value"], result.total]
    wide.loc["Total"] = totals
    wide = wide.astype(object).where(wide.notna(), None)
    wide.columns.name = None
    return wide.reset_index(names=by_label)


def for_json(result: ExploreResult, currency: str | None) -> dict:
    """The CLI's answer: {"by", "split", "measure", "currency", "rows": [{"by", "split",
    "value"}], "total"}; a value that cannot be computed (a win rate without closed deals) is
    null."""
    return {
        "by": result.by.key,
        "split": result.split.key if result.split else None,
        "measure": result.view.measure,
        "currency": currency if result.measure.kind == "money" else None,
        "rows": [
            {"by": row.by, "split": row.split, "value": row.value}
            for row in result.cells.itertuples()
        ],
        "total": result.total,
    }


def series(result: ExploreResult) -> list[tuple[str | None, pd.DataFrame]]:
    """The cells as one line per split value (one line without a split), in order of the
    split's totals: how the chart draws a time dimension."""
    if result.split is None:
        return [(None, result.cells)]
    return [
        (split, result.cells[result.cells["split"] == split])
        for split in result.split_totals["split"]
    ]


def selected_cell(result: ExploreResult, curve: int, point: int) -> tuple[str, str | None]:
    """(row, split) of the point selected on the chart: a point of a line (curve = which
    line) or a bar; the heatmap's cells are selected in the table beside it."""
    split, rows = series(result)[curve] if result.by.is_time else (None, result.cells)
    return rows["by"].iloc[point], split


# The view in the URL: plain keys, a filter as "f." + its dimension, dates ISO.
FILTER_PREFIX = "f."


def to_query(view: View) -> dict[str, str | list[str]]:
    """The view as query parameters (st.query_params): what was asked, never the data."""
    query: dict[str, str | list[str]] = {
        "deals": view.deals,
        "measure": view.measure,
        "by": view.by,
    }
    if view.split:
        query["split"] = view.split
    if view.top != DEFAULT_TOP:
        query["top"] = str(view.top)
    for name in ("close_from", "close_to", "created_from", "created_to"):
        if getattr(view, name):
            query[name] = getattr(view, name).isoformat()
    for key, values in view.filters.items():
        if values:
            query[FILTER_PREFIX + key] = list(values)
    return query


def from_query(query: dict[str, list[str]], available: dict[str, Dimension]) -> View:
    """The view a link holds; ValueError naming what does not fit the data loaded."""

    def one(name: str, default: str | None) -> str | None:
        return query[name][-1] if query.get(name) else default

    try:
        view = View(
            deals=one("deals", "won"),
            measure=one("measure", "amount"),
            by=one("by", "owner"),
            split=one("split", None),
            filters={
                name.removeprefix(FILTER_PREFIX): tuple(values)
                for name, values in query.items()
                if name.startswith(FILTER_PREFIX)
            },
            top=int(one("top", str(DEFAULT_TOP))),
            **{
                name: date.fromisoformat(one(name, None)) if one(name, None) else None
                for name in ("close_from", "close_to", "created_from", "created_to")
            },
        )
    except ValueError as error:
        raise ValueError(f"The link's view cannot be read: {error}") from error
    _check_dimensions(view, available)
    return view
