"""Reading amounts, dates, probabilities and booleans from export cells, one rule per column."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.sql import sql_file

# (strptime format, how the Data page names it). A column is read in exactly one of these.
DATE_FORMATS: tuple[tuple[str, str], ...] = (
    ("%Y-%m-%d", "YYYY-MM-DD"),
    ("%Y/%m/%d", "YYYY/MM/DD"),
    ("%m/%d/%Y", "M/D/YYYY"),
    ("%d/%m/%Y", "D/M/YYYY"),
    ("%m/%d/%y", "M/D/YY"),
    ("%d/%m/%y", "D/M/YY"),
    ("%d.%m.%Y", "D.M.YYYY"),
    ("%d.%m.%y", "D.M.YY"),
    ("%m-%d-%Y", "M-D-YYYY"),
    ("%d-%m-%Y", "D-M-YYYY"),
    ("%d-%b-%Y", "D-Mon-YYYY"),
    ("%d-%b-%y", "D-Mon-YY"),
    ("%d %b %Y", "D Mon YYYY"),
    ("%b %d, %Y", "Mon D, YYYY"),
    ("%d %B %Y", "D Month YYYY"),
    ("%B %d, %Y", "Month D, YYYY"),
    ("excel serial", "Excel serial number"),
)
DATE_FORMAT_LABELS = dict(DATE_FORMATS)
# The strptime formats alone, in the order a column is tried in them.
FORMAT_CODES = tuple(DATE_FORMAT_LABELS)

# Month-first formats and their day-first twins: a column that fits both is ambiguous.
DAY_FIRST_TWIN = {"%m/%d/%Y": "%d/%m/%Y", "%m/%d/%y": "%d/%m/%y", "%m-%d-%Y": "%d-%m-%Y"}
MONTH_FIRST_TWIN = {day_first: month_first for month_first, day_first in DAY_FIRST_TWIN.items()}

# How an amount column is read (values.sql's parse_amount): its decimal mark and its grouping.
DECIMAL_POINT = "decimal point"  # 12,345.67
DECIMAL_COMMA = "decimal comma"  # 12.345,67
INDIAN_GROUPING = "Indian grouping"  # 12,34,567.89: lakhs and crores, a decimal point

# Enough distinct values to decide a column's format without scanning a million cells.
DETECTION_SAMPLE = 20_000


def install_value_macros(con: duckdb.DuckDBPyConnection) -> None:
    """Defines parse_amount, parse_date, parse_probability, parse_bool, parse_forecast_category
    and clean_text."""
    con.execute(sql_file("values"))


@dataclass(frozen=True)
class DateReading:
    """How one date column is read, and why (shown on the Data page)."""

    format: str | None
    ambiguous: bool = False
    reason: str = ""

    @property
    def label(self) -> str:
        return DATE_FORMAT_LABELS.get(self.format, "unreadable") if self.format else "unreadable"


def _distinct_sample(column: str, source: str) -> str:
    # The column and source names are ours (positional c0, c1… over a registered table), never
    # text from the file, so building the identifier into the SQL is safe. Blank cells are left
    # out by the queries over the sample: a filter here would run on every row of the file.
    return f'SELECT DISTINCT "{column}" AS v FROM {source} LIMIT {DETECTION_SAMPLE}'  # noqa: S608


def detect_date_format(
    con: duckdb.DuckDBPyConnection, source: str, column: str, day_first: bool
) -> DateReading:
    """The one format that reads most of the column; month/day ties go to the export's origin."""
    return detect_date_formats(con, source, [column], day_first)[column]


def detect_date_formats(
    con: duckdb.DuckDBPyConnection, source: str, columns: list[str], day_first: bool
) -> dict[str, DateReading]:
    """Each column's date format (see detect_date_format), counted in one query over the columns'
    samples: the query trying every format is large, and planning it once per column took as
    long as running it."""
    if not columns:
        return {}
    counts_sql = ", ".join("count(parse_date(v, ?))" for _ in FORMAT_CODES)
    samples = " UNION ALL ".join(
        f"SELECT {position} AS sample, v FROM ({_distinct_sample(column, source)})"  # noqa: S608
        for position, column in enumerate(columns)
    )
    rows = con.execute(
        f"SELECT sample, count(*) FILTER (WHERE trim(v) <> ''), {counts_sql} "  # noqa: S608
        f"FROM ({samples}) GROUP BY sample",
        list(FORMAT_CODES),
    ).fetchall()
    counted = {row[0]: (row[1], dict(zip(FORMAT_CODES, row[2:], strict=True))) for row in rows}
    return {
        column: _date_reading(*counted.get(position, (0, {})), day_first)
        for position, column in enumerate(columns)
    }


def _date_reading(total: int, counts: dict[str, int], day_first: bool) -> DateReading:
    if total == 0:
        return DateReading(None, reason="the column is empty")
    best = max(FORMAT_CODES, key=lambda fmt: counts[fmt])
    if counts[best] == 0:
        return DateReading(None, reason="no value looks like a date")
    twin = DAY_FIRST_TWIN.get(best) or MONTH_FIRST_TWIN.get(best)
    if twin and counts[twin] == counts[best]:
        chosen = DAY_FIRST_TWIN.get(best, best) if day_first else MONTH_FIRST_TWIN.get(best, best)
        origin = "day first (European export)" if day_first else "month first (US export)"
        return DateReading(
            chosen,
            ambiguous=True,
            reason=f"every value fits both month/day orders; read {origin}",
        )
    return DateReading(best)


def detect_decimal_comma(
    con: duckdb.DuckDBPyConnection, source: str, column: str, european_hint: bool
) -> bool:
    """True when the column writes 12.345,67; decided on the whole column, never per cell, by
    the cells that read as a number with decimals one way only: "12,34,5" is neither."""
    # fetchall, not fetchone: DuckDB refuses other work on the connection (a table registered,
    # a query as a relation) while a result is left unfinished.
    [(comma_decimals, point_decimals, dotted_thousands, comma_thousands)] = con.execute(
        f"""
        SELECT
            count_if(regexp_full_match(n, '(\\d{{1,3}}(\\.\\d{{3}})*|\\d+),\\d{{1,2}}')),
            count_if(regexp_full_match(n, '(\\d{{1,3}}(,\\d{{3}})*|\\d+)\\.\\d{{1,2}}')),
            count_if(regexp_full_match(n, '\\d{{1,3}}(\\.\\d{{3}})+')),
            count_if(regexp_full_match(n, '\\d{{1,3}}(,\\d{{3}})+'))
        FROM (SELECT amount_number_text(v) AS n FROM ({_distinct_sample(column, source)}))
        """  # noqa: S608
    ).fetchall()
    if comma_decimals != point_decimals:
        return comma_decimals > point_decimals
    if dotted_thousands != comma_thousands:
        return dotted_thousands > comma_thousands
    return european_hint


def detect_amount_format(
    con: duckdb.DuckDBPyConnection, source: str, column: str, european_hint: bool
) -> str:
    """The column's amount format: a decimal comma (detect_decimal_comma), else Indian grouping
    when some cells group digits the Indian way ("12,34,567") and none the Western way
    ("123,456", "1,234,567"), else a decimal point."""
    if detect_decimal_comma(con, source, column, european_hint):
        return DECIMAL_COMMA
    [(indian, western)] = con.execute(  # fetchall: see detect_decimal_comma
        f"""
        SELECT
            count_if(regexp_full_match(n, '\\d{{1,2}}(,\\d{{2}})+,\\d{{3}}(\\.\\d*)?')),
            count_if(regexp_full_match(n, '\\d{{1,3}}(,\\d{{3}})+(\\.\\d*)?')
                AND NOT regexp_full_match(n, '\\d{{1,2}}(,\\d{{3}})(\\.\\d*)?'))
        FROM (SELECT amount_number_text(v) AS n FROM ({_distinct_sample(column, source)}))
        """  # noqa: S608
    ).fetchall()
    return INDIAN_GROUPING if indian and not western else DECIMAL_POINT


def detect_percent_scale(con: duckdb.DuckDBPyConnection, source: str, column: str) -> bool:
    """True when probabilities run 0–100 (any value above 1), False for 0–1 fractions."""
    [(largest,)] = con.execute(  # fetchall: see detect_decimal_comma
        f"SELECT max(probability_number(v)) FROM ({_distinct_sample(column, source)})"  # noqa: S608
    ).fetchall()
    return largest is not None and largest > 1


# Salesforce's Data Export writes an empty lookup (no account, no owner) as this null ID.
NULL_ID = "000000000000000AAA"


def clean_as_is(cells: pa.ChunkedArray) -> bool:
    """True when clean_text (values.sql) leaves every cell of a text column as it is: none has a
    space at either end, none is blank or the null ID. Such a column needs no SQL to clean it. A
    property test holds this to the macro."""
    changed = pc.or_(
        pc.or_(pc.starts_with(cells, " "), pc.ends_with(cells, " ")),
        pc.or_(pc.equal(pc.binary_length(cells), 0), pc.equal(cells, NULL_ID)),
    )
    return not pc.any(changed).as_py()


def _evaluate(expression: str, values: list[str | None], argument: object) -> list:
    con = duckdb.connect()
    install_value_macros(con)
    (parsed,) = con.execute(
        f"SELECT list_transform($values::VARCHAR[], lambda v: {expression})",
        {"values": values, "argument": argument},
    ).fetchone()
    con.close()
    return parsed


def parse_amounts(
    values: list[str | None], decimal_comma: bool = False, amount_format: str | None = None
) -> list[Decimal | None]:
    """Parses amounts as the loader does, in `amount_format` (a decimal point, or a comma with
    `decimal_comma`); for tests and small files."""
    fmt = amount_format or (DECIMAL_COMMA if decimal_comma else DECIMAL_POINT)
    return _evaluate("parse_amount(v, $argument)", values, fmt)


def parse_dates(values: list[str | None], fmt: str) -> list[date | None]:
    """Parses dates in one format as the loader does; for tests and small files."""
    return _evaluate("parse_date(v, $argument)", values, fmt)


def parse_probabilities(values: list[str | None], percent_scale: bool) -> list[float | None]:
    """Parses probabilities as the loader does; for tests and small files."""
    return _evaluate("parse_probability(v, $argument)", values, percent_scale)
