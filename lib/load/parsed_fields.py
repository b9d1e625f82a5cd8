"""The parsed fields (amounts, dates, probability): each one's format, and repeating cells read."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.load.arrow_columns import dictionary, dictionary_encoded, looked_up, side_by_side
from lib.load.mapping import AMOUNT_FIELDS, DATE_FIELDS
from lib.load.values import (
    DECIMAL_COMMA,
    DateReading,
    detect_amount_format,
    detect_date_formats,
    detect_percent_scale,
)

# Fields whose unreadable cells are counted and shown (a blank cell is missing, not unreadable).
PARSED_FIELDS = (*AMOUNT_FIELDS, *DATE_FIELDS, "probability")
# Dates, probabilities and often amounts repeat: a million deals hold a few thousand days and a
# dozen probabilities. Each distinct cell of a parsed field is read once, by the same SQL macro,
# and every row takes its value in Arrow; parsing every row in the queries that read them took
# 0.15-0.20 s more at a million deals. Whether a column's cells repeat is told from its first
# REPEAT_SAMPLE cells.
REPEAT_SAMPLE = 10_000


@dataclass(frozen=True)
class Formats:
    """How the parsed fields are read."""

    readings: dict[str, DateReading]
    # DECIMAL_POINT, DECIMAL_COMMA or INDIAN_GROUPING (lib/load/values.py).
    amount_format: str
    percent: bool | None
    # Each parsed field's argument to its macro (values.sql).
    arguments: dict[str, object]
    # The fields parsed once per distinct cell, whose values the table `raw` holds.
    parsed: frozenset[str]

    @property
    def decimal_comma(self) -> bool:
        return self.amount_format == DECIMAL_COMMA

    @property
    def parameters(self) -> dict[str, object]:
        """The SQL parameters of the other fields, which are parsed inside the queries that read
        them and never stored: a table of parsed cells cost a second pass over a million rows."""
        return {
            parameter_name(key): value
            for key, value in self.arguments.items()
            if key not in self.parsed
        }


def read_formats(
    con: duckdb.DuckDBPyConnection,
    raw: pa.Table,
    columns: dict[str, str],
    day_first: bool,
    european: bool,
) -> Formats:
    """Detects each parsed field's format, and parses the fields whose cells repeat: both on
    each distinct cell once (the table distinct_cells); the other fields are detected on their
    raw column and parsed row by row in the queries that read them. Registers the raw cells as
    `raw`, then again with the repeating fields' values beside them."""
    _register_raw(con, raw)
    repeating = _encoded_if_repeating(raw, columns)
    _register_distinct_cells(con, repeating)

    def sample_of(key: str) -> tuple[str, str]:
        return ("distinct_cells", key) if key in repeating else ("raw", columns[key])

    readings = _date_readings(con, [key for key in DATE_FIELDS if key in columns], sample_of,
                              day_first)  # fmt: skip
    amount_format = detect_amount_format(con, *sample_of("amount"), european)
    percent = (
        detect_percent_scale(con, *sample_of("probability")) if "probability" in columns else None
    )
    arguments = _macro_arguments(columns, readings, amount_format, percent)
    parsed = _register_raw(con, raw, _parsed_once_per_value(con, repeating, arguments))
    return Formats(readings, amount_format, percent, arguments, parsed)


def _macro_arguments(
    columns: dict[str, str],
    readings: dict[str, DateReading],
    amount_format: str,
    percent: bool | None,
) -> dict[str, object]:
    """Each mapped parsed field's argument to its macro. A date column no format reads is read
    as ISO, which then reads none of it either."""
    arguments: dict[str, object] = {k: amount_format for k in AMOUNT_FIELDS if k in columns}
    arguments |= {key: reading.format or "%Y-%m-%d" for key, reading in readings.items()}
    if percent is not None:
        arguments["probability"] = percent
    return arguments


def _register_raw(
    con: duckdb.DuckDBPyConnection,
    cells: pa.Table,
    parsed: dict[str, pa.ChunkedArray] | None = None,
) -> frozenset[str]:
    """Registers the raw cells as `raw`, each row numbered (source_row) and with the fields
    parsed once per distinct cell beside them; returns those fields' keys. Rows are numbered here,
    not with a window over the whole table in SQL: that window would hold every column of a
    million rows in one partition."""
    numbered = cells.append_column(
        "source_row", pa.array(np.arange(1, cells.num_rows + 1, dtype=np.int64))
    )
    for key, values in (parsed or {}).items():
        numbered = numbered.append_column(parsed_column(key), values)
    con.register("raw", numbered)
    return frozenset(parsed or ())


def parsed_column(key: str) -> str:
    """The name beside the raw columns (c0, c1…) of a field parsed once per distinct cell."""
    return f"parsed_{key}"


def parsing_macro(key: str) -> str:
    """The SQL macro (values.sql) that parses one of the PARSED_FIELDS."""
    if key in AMOUNT_FIELDS:
        return "parse_amount"
    return "parse_probability" if key == "probability" else "parse_date"


def parameter_name(key: str) -> str:
    """The name of the SQL parameter holding a parsed field's argument to its macro: the
    amounts' format, a date field's format, the probability scale."""
    if key in AMOUNT_FIELDS:
        return "amount_format"
    return "percent_scale" if key == "probability" else f"format_{key}"


def _encoded_if_repeating(raw: pa.Table, columns: dict[str, str]) -> dict[str, pa.ChunkedArray]:
    """Each parsed field's raw column whose cells repeat, dictionary-encoded. A field whose
    cells do not repeat (a timestamp to the second, amounts to the cent) is left out: told by
    its first cells before it is encoded, or by its distinct cells after (a file sorted so that
    its first rows share one date)."""
    repeating = {}
    for key in PARSED_FIELDS:
        if key in columns and _cells_repeat(raw[columns[key]]):
            encoded = dictionary_encoded(raw[columns[key]])
            if _mostly_repeated(len(dictionary(encoded)), raw.num_rows):
                repeating[key] = encoded
    return repeating


def _date_readings(
    con: duckdb.DuckDBPyConnection,
    keys: list[str],
    sample_of: Callable[[str], tuple[str, str]],
    day_first: bool,
) -> dict[str, DateReading]:
    """Each date field's format, detected in one query per table its cells are sampled from."""
    readings: dict[str, DateReading] = {}
    for source in {sample_of(key)[0] for key in keys}:
        names = {key: sample_of(key)[1] for key in keys if sample_of(key)[0] == source}
        found = detect_date_formats(con, source, list(names.values()), day_first)
        readings |= {key: found[name] for key, name in names.items()}
    return {key: readings[key] for key in keys}


def _parsed_once_per_value(
    con: duckdb.DuckDBPyConnection,
    repeating: dict[str, pa.ChunkedArray],
    arguments: dict[str, object],
) -> dict[str, pa.ChunkedArray]:
    """Every row's value of each parsed field whose cells repeat (its encoded column), each
    distinct cell (in the table distinct_cells, let go here) parsed once by the field's macro
    with its argument, and each row taking its cell's value."""
    reads = ", ".join(f'{parsing_macro(key)}("{key}", ${key}) AS "{key}"' for key in repeating)
    try:
        if not repeating:
            return {}
        values = con.sql(
            f"SELECT {reads} FROM distinct_cells ORDER BY position",  # noqa: S608 - our keys
            params={key: arguments[key] for key in repeating},
        ).to_arrow_table()
    finally:
        con.unregister("distinct_cells")
    return {key: looked_up(cells, values[key].combine_chunks())
            for key, cells in repeating.items()}  # fmt: skip


def _register_distinct_cells(
    con: duckdb.DuckDBPyConnection, repeating: dict[str, pa.ChunkedArray]
) -> None:
    """Registers each encoded column's distinct cells side by side as `distinct_cells`."""
    distinct = {key: dictionary(cells) for key, cells in repeating.items()}
    con.register("distinct_cells", side_by_side(distinct))


def _cells_repeat(cells: pa.ChunkedArray) -> bool:
    """True when the column's first REPEAT_SAMPLE cells hold at most half as many distinct ones,
    as a small file's always do. Days and probabilities repeat; timestamps to the second do not,
    and encoding a million of them held about 90 MB more at the load's peak than parsing them
    row by row."""
    sample = cells.slice(0, REPEAT_SAMPLE)
    return _mostly_repeated(pc.count_distinct(sample).as_py(), len(sample))


def _mostly_repeated(distinct: int, cells: int) -> bool:
    """True when these cells hold at most half as many distinct ones, as a small file's do."""
    return distinct * 2 <= max(cells, REPEAT_SAMPLE)
