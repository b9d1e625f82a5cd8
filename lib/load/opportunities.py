"""An opportunities export -> the canonical deals table of PRODUCT.md, with a report of the load."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.load.errors import LoadError
from lib.load.files import RawTable, read_table
from lib.load.layouts import recognise_layout
from lib.load.mapping import (
    AMOUNT_FIELDS,
    DATE_FIELDS,
    FIELDS_BY_KEY,
    Mapping,
    check_required,
    missing_required,
    propose_mapping,
)
from lib.load.stages import StageRule, apply_edits, stage_rules
from lib.load.values import (
    DateReading,
    clean_as_is,
    detect_date_formats,
    detect_decimal_comma,
    detect_percent_scale,
    install_value_macros,
)
from lib.load.zip_export import (
    DataExportFiles,
    is_data_export,
    read_data_export,
    with_history,
)

TEXT_FIELDS = ("opportunity_id", "name", "account", "owner", "stage", "lead_source", "type",
               "next_step", "team", "manager", "status", "loss_reason")  # fmt: skip
# Text fields the deals hold as their cells are, once cleaned: a column clean_text would not
# change is copied from the raw table in Arrow rather than written out again by the query.
AS_READ_FIELDS = ("name", "account", "owner", "lead_source", "type", "next_step", "team", "manager")
BOOL_FIELDS = ("is_won", "is_closed", "is_deleted")
# Fields whose values repeat from a short list (a CRM's users, teams and picklists) and that the
# figures filter and group by: the deals hold each value once and refer to it (Arrow dictionary
# encoding). DuckDB then filters and groups by the few values: at a million deals the QBR's
# figures took 0.26 s instead of 0.37 s. Forecast category and currency gained nothing measurable.
PICKLIST_FIELDS = ("owner", "stage", "status", "lead_source", "type", "team", "manager")
# Dates, probabilities and often amounts repeat: a million deals hold a few thousand days and a
# dozen probabilities. Each distinct cell of a parsed field is read once, by the same SQL macro,
# and every row takes its value in Arrow; parsing every row in the queries that read them took
# 0.15-0.20 s more at a million deals. Whether a column's cells repeat is told from its first
# REPEAT_SAMPLE cells.
REPEAT_SAMPLE = 10_000
# Fields whose unreadable cells are counted and shown (a blank cell is missing, not unreadable).
PARSED_FIELDS = (*AMOUNT_FIELDS, *DATE_FIELDS, "probability")
CANONICAL_COLUMNS = ("source_row", "opportunity_id", "name", "account", "owner", "stage",
                     "status", "amount", "currency", "close_date", "created_date", "probability",
                     "forecast_category", "lead_source", "type", "last_activity_date",
                     "next_step", "team", "manager", "late_stage", "loss_reason")  # fmt: skip
SAMPLE_SIZE = 5
# Names the deals table (and the views over it) use besides the canonical columns: an export's
# other column may not take one of them (DuckDB compares names without regard to case). Queries
# that add a value to every column of the deals (SELECT *, …) name it here: the changes' deal_key
# and explore's labels.
RESERVED_NAMES = frozenset((*CANONICAL_COLUMNS, "amount_in_deal_currency", "deal_key",
                            "explore_by", "explore_by_time", "explore_by_order", "explore_split",
                            "explore_split_time", "explore_split_order"))  # fmt: skip


@dataclass(frozen=True)
class UnreadableCells:
    """Cells of one field that held something other than a blank and could not be read."""

    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class LoadReport:
    """What the Data page and `cli inspect` show about one load."""

    file_name: str
    file_kind: str
    layout: str
    headers: tuple[str, ...]
    mapping: Mapping
    rows_read: int
    rows_loaded: int
    rejected: dict[str, int]
    rejected_examples: tuple[dict[str, object], ...]
    duplicate_ids: tuple[str, ...]
    unreadable: dict[str, UnreadableCells]
    date_readings: dict[str, DateReading]
    stage_rules: tuple[StageRule, ...]
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    footer_lines: int = 0
    decimal_comma: bool = False
    probability_percent: bool | None = None
    currencies: tuple[str, ...] = field(default_factory=tuple)
    # A Salesforce Data Export's CurrencyType names the currency its rates convert into.
    corporate_currency: str | None = None

    @property
    def display_currency(self) -> str | None:
        """The currency figures are shown in: the corporate currency when the export gives
        rates into it, else the export's most common one, None without any."""
        return self.corporate_currency or (self.currencies[0] if self.currencies else None)

    @property
    def rows_rejected(self) -> int:
        return sum(self.rejected.values())

    @property
    def unmapped_headers(self) -> tuple[str, ...]:
        used = set(self.mapping.values())
        return tuple(h for h in self.headers if h not in used)


@dataclass(frozen=True)
class LoadedExport:
    """The canonical deals (an immutable Arrow table) and the report of how they were read."""

    deals: pa.Table
    report: LoadReport
    # The other files of a Salesforce Data Export (names, history, rates…); None for one file.
    export_files: DataExportFiles | None = None


def load_opportunities(
    data: bytes,
    filename: str,
    mapping: Mapping | None = None,
    stage_edits: dict[str, dict[str, object]] | None = None,
) -> LoadedExport:
    """Reads an export file (or a Salesforce Data Export ZIP) into canonical deals; LoadError
    when it cannot be used."""
    if is_data_export(data, filename):
        return _load_data_export(data, filename, mapping, stage_edits)
    # A workbook may hold a summary or notes before the deals: read the sheet that has them.
    raw = read_table(data, filename, lambda headers: not missing_required(propose_mapping(headers)))
    return normalise(raw, filename, mapping, stage_edits)


def _load_data_export(
    data: bytes,
    filename: str,
    mapping: Mapping | None,
    stage_edits: dict[str, dict[str, object]] | None,
) -> LoadedExport:
    export = read_data_export(data, filename)
    loaded = normalise(export.opportunities, filename, mapping or export.mapping, stage_edits)
    report = replace(
        loaded.report,
        file_kind="Salesforce Data Export (ZIP of CSV files), Opportunity.csv",
        corporate_currency=export.files.corporate_currency,
    )
    files = with_history(export.files, loaded.report.stage_rules)
    return LoadedExport(loaded.deals, report, files)


def normalise(
    raw: RawTable,
    filename: str,
    mapping: Mapping | None = None,
    stage_edits: dict[str, dict[str, object]] | None = None,
) -> LoadedExport:
    """Maps, parses and classifies a raw table; LoadError when required fields are missing."""
    european = raw.delimiter == ";"
    layout = recognise_layout(raw.headers, european)
    mapping = {
        k: h for k, h in (mapping or propose_mapping(raw.headers)).items() if h in raw.headers
    }
    check_required(mapping, raw.headers, filename)
    columns = {key: raw.column_for(header) for key, header in mapping.items()}
    extras = extra_column_names(raw.headers, set(mapping.values()))

    con = duckdb.connect()
    try:
        install_value_macros(con)
        _register_raw(con, raw.table)
        formats = _formats(con, raw.table, columns, layout.day_first, european)
        # The other cells are parsed inside the queries that read them, never stored: a table
        # of parsed cells cost a second pass over a million rows.
        parameters = {
            _parameter(key): value
            for key, value in formats.arguments.items()
            if key not in formats.parsed
        }
        stated = _stated_sql(_cells_sql(columns, formats.parsed))
        rules = apply_edits(
            stage_rules(_stages_in_order(con, stated, parameters), layout), stage_edits or {}
        )
        unread_keys = [key for key in PARSED_FIELDS if key in columns]
        as_read = _clean_as_read({k: raw.table[columns[k]] for k in AS_READ_FIELDS if k in columns})
        checked = con.sql(
            _deals_sql(stated, unread_keys, tuple(as_read)),
            params={**parameters, **_rule_parameters(rules)},
        ).to_arrow_table()
        # Nothing reads the raw rows again: their numbers and parsed values are let go before
        # the queries below, which hold the most memory of the load (15 MB less at 1M deals).
        con.unregister("raw")
        checked = with_raw_columns(checked, as_read)
        con.register("checked", checked)
        checked = _with_duplicates_rejected(con, checked)
        con.register("deals", checked)
        unreadable = _unreadable_cells(con, unread_keys)
        rejected = dict(
            con.execute(
                "SELECT reject_reason, count(*) FROM deals WHERE reject_reason IS NOT NULL "
                "GROUP BY ALL ORDER BY 2 DESC"
            ).fetchall()
        )
        unreadable_lines = Counter(row.reason for row in raw.malformed)
        unreadable_lines.update(dict(raw.more_malformed))
        for reason, count in unreadable_lines.items():
            key = f"line not readable: {reason}"
            rejected[key] = rejected.get(key, 0) + count
        examples = _rejected_examples(con, raw)
        duplicates = tuple(
            row[0]
            for row in con.execute(
                "SELECT DISTINCT opportunity_id FROM deals WHERE reject_reason = $reason "
                "ORDER BY 1 LIMIT 20",
                {"reason": DUPLICATE_REASON},
            ).fetchall()
        )
        currencies = tuple(
            row[0]
            for row in con.execute(
                "SELECT currency FROM deals WHERE reject_reason IS NULL AND currency IS NOT NULL "
                "GROUP BY currency ORDER BY count(*) DESC, currency"
            ).fetchall()
        )
    except duckdb.Error as error:
        raise LoadError(f"{filename} could not be read: {str(error).splitlines()[0]}") from error
    finally:
        con.close()
    reasons = checked["reject_reason"]
    # Filtering copies every column: only when a row was rejected.
    usable = checked.filter(pc.is_null(reasons)) if reasons.null_count < len(reasons) else checked
    deals = with_extra_columns(encode_picklists(usable.select(CANONICAL_COLUMNS)), raw, extras)
    # The text columns read as they are are copied only now, and only when the filter has not
    # copied them already: copying them as they joined the checked rows held both copies
    # through the queries above (about 35 MB more at the peak at a million deals).
    deals = _in_memory_of_their_own(deals, tuple(as_read) if usable is checked else ())

    report = LoadReport(
        file_name=filename,
        file_kind=raw.file_kind,
        layout=layout.name,
        headers=raw.headers,
        mapping=mapping,
        rows_read=raw.rows_read,
        rows_loaded=deals.num_rows,
        rejected=rejected,
        rejected_examples=examples,
        duplicate_ids=duplicates,
        unreadable=unreadable,
        date_readings=formats.readings,
        stage_rules=tuple(rules),
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        sheet=raw.sheet,
        footer_lines=raw.footer_lines,
        decimal_comma=formats.decimal_comma,
        probability_percent=formats.percent,
        currencies=currencies,
    )
    return LoadedExport(deals=deals, report=report)


DUPLICATE_REASON = "duplicate opportunity ID (the first row with it is kept)"


def _cell(key: str, columns: dict[str, str], parsed: frozenset[str]) -> str:
    """The SQL that reads one canonical field from its raw column, a typed NULL when unmapped
    (so that a date the export lacks still compares with dates), or its column of values
    parsed once per distinct cell when it is in `parsed`."""
    if key not in columns:
        return f"NULL::{_sql_type(key)}"
    if key in parsed:
        return f'"{_parsed_column(key)}"'
    column = f'"{columns[key]}"'
    if key in PARSED_FIELDS:
        return f"{_macro(key)}({column}, ${_parameter(key)})"
    if key in BOOL_FIELDS:
        return f"parse_bool({column})"
    if key == "currency":
        return f"upper(clean_text({column}))"
    if key == "forecast_category":
        return FORECAST_CATEGORY_SQL.format(raw=column)
    return f"clean_text({column})"


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
        numbered = numbered.append_column(_parsed_column(key), values)
    con.register("raw", numbered)
    return frozenset(parsed or ())


def _parsed_column(key: str) -> str:
    """The name beside the raw columns (c0, c1…) of a field parsed once per distinct cell."""
    return f"parsed_{key}"


def _macro(key: str) -> str:
    """The SQL macro (values.sql) that parses one of the PARSED_FIELDS."""
    if key in AMOUNT_FIELDS:
        return "parse_amount"
    return "parse_probability" if key == "probability" else "parse_date"


def _parameter(key: str) -> str:
    """The name of the SQL parameter holding a parsed field's argument to its macro: the
    amounts' decimal comma, a date field's format, the probability scale."""
    if key in AMOUNT_FIELDS:
        return "decimal_comma"
    return "percent_scale" if key == "probability" else f"format_{key}"


@dataclass(frozen=True)
class _Formats:
    """How the parsed fields are read."""

    readings: dict[str, DateReading]
    decimal_comma: bool
    percent: bool | None
    # Each parsed field's argument to its macro (values.sql).
    arguments: dict[str, object]
    # The fields parsed once per distinct cell, whose values the table `raw` holds.
    parsed: frozenset[str]


def _formats(
    con: duckdb.DuckDBPyConnection,
    raw: pa.Table,
    columns: dict[str, str],
    day_first: bool,
    european: bool,
) -> _Formats:
    """Detects each parsed field's format, and parses the fields whose cells repeat: both on
    each distinct cell once (the table distinct_cells); the other fields are detected on their
    raw column and parsed row by row in the queries that read them. Registers the raw cells
    again as `raw`, with the repeating fields' values beside them."""
    repeating = _encoded_if_repeating(raw, columns)
    _register_distinct_cells(con, repeating)

    def sample_of(key: str) -> tuple[str, str]:
        return ("distinct_cells", key) if key in repeating else ("raw", columns[key])

    readings = _date_readings(con, [key for key in DATE_FIELDS if key in columns], sample_of,
                              day_first)  # fmt: skip
    decimal_comma = detect_decimal_comma(con, *sample_of("amount"), european)
    percent = (
        detect_percent_scale(con, *sample_of("probability")) if "probability" in columns else None
    )
    # A date column no format reads is read as ISO, which then reads none of it either.
    arguments: dict[str, object] = {k: decimal_comma for k in AMOUNT_FIELDS if k in columns}
    arguments |= {key: reading.format or "%Y-%m-%d" for key, reading in readings.items()}
    if percent is not None:
        arguments["probability"] = percent
    parsed = _register_raw(con, raw, _parsed_once_per_value(con, repeating, arguments))
    return _Formats(readings, decimal_comma, percent, arguments, parsed)


def _encoded_if_repeating(raw: pa.Table, columns: dict[str, str]) -> dict[str, pa.ChunkedArray]:
    """Each parsed field's raw column whose cells repeat, dictionary-encoded. A field whose
    cells do not repeat (a timestamp to the second, amounts to the cent) is left out: told by
    its first cells before it is encoded, or by its distinct cells after (a file sorted so that
    its first rows share one date)."""
    repeating = {}
    for key in PARSED_FIELDS:
        if key in columns and _cells_repeat(raw[columns[key]]):
            encoded = _encoded(raw[columns[key]])
            if _mostly_repeated(len(_dictionary(encoded)), raw.num_rows):
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
    reads = ", ".join(f'{_macro(key)}("{key}", ${key}) AS "{key}"' for key in repeating)
    try:
        if not repeating:
            return {}
        values = con.sql(
            f"SELECT {reads} FROM distinct_cells ORDER BY position",  # noqa: S608 - our keys
            params={key: arguments[key] for key in repeating},
        ).to_arrow_table()
    finally:
        con.unregister("distinct_cells")
    return {key: _looked_up(cells, values[key].combine_chunks())
            for key, cells in repeating.items()}  # fmt: skip


def _register_distinct_cells(
    con: duckdb.DuckDBPyConnection, repeating: dict[str, pa.ChunkedArray]
) -> None:
    """Registers each encoded column's distinct cells side by side as `distinct_cells`."""
    distinct = {key: _dictionary(cells) for key, cells in repeating.items()}
    con.register("distinct_cells", _side_by_side(distinct))


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


def _encoded(cells: pa.ChunkedArray) -> pa.ChunkedArray:
    """The column dictionary-encoded, with one dictionary for all its chunks. Arrow gives every
    chunk the same one; unifying them anyway took 1.7 s for a million distinct cells, so that
    is only done should they ever differ."""
    encoded = pc.dictionary_encode(cells)
    shared = {_where_in_memory(chunk.dictionary) for chunk in encoded.chunks}
    return encoded if len(shared) <= 1 else encoded.unify_dictionaries()


def _where_in_memory(array: pa.Array) -> tuple[int, ...]:
    """The same for two arrays only when they are the same cells in the same memory."""
    buffers = (buffer.address for buffer in array.buffers() if buffer is not None)
    return (array.offset, len(array), *buffers)


def _dictionary(encoded: pa.ChunkedArray) -> pa.Array:
    """An encoded column's distinct cells, in the order the column's indices refer to them."""
    if encoded.num_chunks:
        return encoded.chunks[0].dictionary
    return pa.array([], type=encoded.type.value_type)


def _side_by_side(columns: dict[str, pa.Array]) -> pa.Table:
    """Columns of different lengths as one table numbered by position, the shorter ones padded
    with NULLs after their own cells (a table with only the position when there are none)."""
    longest = max((len(cells) for cells in columns.values()), default=0)
    padded = {key: pa.concat_arrays([cells, pa.nulls(longest - len(cells), cells.type)])
              for key, cells in columns.items()}  # fmt: skip
    return pa.table({"position": np.arange(longest), **padded})


def _looked_up(encoded: pa.ChunkedArray, values: pa.Array) -> pa.ChunkedArray:
    """Each row's value: the value at its cell's place among the encoded column's distinct cells
    (NULL for a NULL cell)."""
    return pa.chunked_array(
        [pc.take(values, chunk.indices) for chunk in encoded.chunks], type=values.type
    )


def _sql_type(key: str) -> str:
    if key in AMOUNT_FIELDS:
        return "DECIMAL(18, 2)"
    if key in DATE_FIELDS:
        return "DATE"
    if key == "probability":
        return "DOUBLE"
    if key in BOOL_FIELDS:
        return "BOOLEAN"
    return "VARCHAR"


def extra_column_names(headers: tuple[str, ...], mapped: set[str]) -> dict[str, str]:
    """Each header no field is mapped from -> the name its column takes beside the deals'
    canonical columns: the header itself, or with " (2)" when that name is taken regardless of
    case ("Owner" beside owner, "REGION" beside "Region")."""
    taken = set(RESERVED_NAMES)
    names = {}
    for header in headers:
        if header in mapped:
            continue
        name, copy = header, 1
        while name.lower() in taken:
            copy += 1
            name = f"{header} ({copy})"
        names[header] = name
        taken.add(name.lower())
    return names


def with_extra_columns(deals: pa.Table, raw: RawTable, names: dict[str, str]) -> pa.Table:
    """The deals with the export's other columns beside them, as text (trimmed, a blank cell
    missing), taken in Arrow by each deal's row of the file (source_row numbers the raw rows in
    their order: DuckDB preserves insertion order). No SQL carries them through the load, which
    costs about 20 ms for two columns at 300,000 deals where carrying them cost 0.7 s."""
    rows = pc.subtract(deals["source_row"], 1)
    for header, name in names.items():
        cells = pc.utf8_trim_whitespace(
            pc.take(raw.table[raw.column_for(header)], rows).cast(pa.string())
        )
        deals = deals.append_column(name, pc.if_else(pc.equal(cells, ""), None, cells))
    return deals


def _cells_sql(columns: dict[str, str], parsed: frozenset[str]) -> str:
    """A SELECT of every field parsed from its raw column, and the text of each parsed field's
    cell that could not be read (NULL where it was read, or blank)."""
    keys = [*TEXT_FIELDS, *BOOL_FIELDS, *PARSED_FIELDS, "currency", "forecast_category"]
    cells = ",\n".join(f"{_cell(key, columns, parsed)} AS {key}" for key in keys)
    # DuckDB parses each cell once for both columns (it finds the common expression); the text
    # is kept only where the parse failed, to count and show those cells.
    unread = ",\n".join(
        f'CASE WHEN {_cell(key, columns, parsed)} IS NULL THEN clean_text("{columns[key]}") END '
        f"AS unread_{key}"
        for key in PARSED_FIELDS
        if key in columns
    )
    # Only our own column names (c0, c1…) and field keys go into this SQL, never file text.
    return f"""
        SELECT
            source_row,
            {cells}{"," if unread else ""}
            {unread}
        FROM raw
    """  # noqa: S608


def _stages_in_order(
    con: duckdb.DuckDBPyConnection, stated: str, parameters: dict[str, object]
) -> list[tuple[str, int, str | None]]:
    # The status an export states (IsWon / IsClosed, a Status column) decides a stage's status.
    # Stages nothing else explains are ordered by the probability the export gives, then by how
    # long their deals have been open: later stages hold older deals. A stage that holds a deal
    # the export states open is an open stage, even when most of its deals were won there
    # (Pipedrive keeps a won deal in its last stage): its open deals need a stage probability.
    return con.execute(
        f"""
        WITH stated AS ({stated})
        SELECT stage, count(*) AS deals,
            CASE WHEN bool_or(stated_status = 'open') THEN 'open' ELSE mode(stated_status) END
                AS stated_status
        FROM stated
        WHERE stage IS NOT NULL
        GROUP BY stage
        ORDER BY median(probability) NULLS LAST, median(close_date - created_date) NULLS LAST,
                 stage
        """,  # noqa: S608 - our own SQL, values passed as parameters
        parameters,
    ).fetchall()


def _stated_sql(cells: str) -> str:
    return f"""
        -- Without a stage column the stated status ("won", "open") stands in as the stage.
        SELECT * REPLACE (coalesce(stage, status) AS stage),
            CASE
                WHEN is_won THEN 'won'
                WHEN is_closed THEN 'lost'
                WHEN is_closed = FALSE THEN 'open'
                WHEN lower(status) IN ('won', 'closed won', 'closedwon') THEN 'won'
                WHEN lower(status) IN ('lost', 'closed lost', 'closedlost') THEN 'lost'
                WHEN lower(status) IN ('open', 'active', 'in progress') THEN 'open'
            END AS stated_status
        FROM ({cells})
    """  # noqa: S608 - our own SQL


def _rule_parameters(rules: list[StageRule]) -> dict[str, list]:
    """The stage rules as lists side by side, looked up by a stage's position in the first: a
    join to a table of rules would give the deals back out of the file's order."""
    return {
        "rule_stages": [r.stage for r in rules],
        "rule_statuses": [r.status for r in rules],
        "rule_probabilities": [r.probability for r in rules],
        "rule_late": [r.late for r in rules],
        "rule_edited": [r.edited for r in rules],
    }


def with_raw_columns(checked: pa.Table, columns: dict[str, pa.ChunkedArray]) -> pa.Table:
    """The checked rows with these raw columns beside them, each row's own cells. The query gives
    the rows back in the file's order, so each column is used as it is (the load copies it at
    its end); should they ever come in another order, the cells are taken by source_row rather
    than put on the wrong deals."""
    rows = checked["source_row"]
    in_order = rows.equals(pa.chunked_array([np.arange(1, len(rows) + 1, dtype=np.int64)]))
    for key, cells in columns.items():
        lined_up = cells if in_order else pc.take(cells, pc.subtract(rows, 1))
        checked = checked.append_column(key, lined_up)
    return checked


def _clean_as_read(columns: dict[str, pa.ChunkedArray]) -> dict[str, pa.ChunkedArray]:
    """The text fields (each key's raw column) that the cleaning would leave as they are. A
    picklist is encoded first, and its values checked once each rather than in every row.
    Arrow leaves Python's lock while it works, so the columns are read two at a time."""
    with ThreadPoolExecutor(max_workers=2) as pool:
        read = dict(zip(columns, pool.map(_read_as_is, columns, columns.values()), strict=True))
    return {key: cells for key, cells in read.items() if cells is not None}


def _read_as_is(key: str, cells: pa.ChunkedArray) -> pa.ChunkedArray | None:
    if key in PICKLIST_FIELDS:
        cells = pc.dictionary_encode(cells)
        values = pa.chunked_array([chunk.dictionary for chunk in cells.chunks],
                                  cells.type.value_type)  # fmt: skip
    else:
        values = cells
    return cells if clean_as_is(values) else None


def encode_picklists(deals: pa.Table, keys: tuple[str, ...] = PICKLIST_FIELDS) -> pa.Table:
    """The deals with these picklist columns dictionary-encoded (see PICKLIST_FIELDS), those
    that are not already; a table without one of them is left without it."""
    for key in keys:
        position = deals.schema.get_field_index(key)
        if position >= 0 and not pa.types.is_dictionary(deals.schema.field(position).type):
            deals = deals.set_column(position, key, pc.dictionary_encode(deals[key]))
    return deals


def _in_memory_of_their_own(deals: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    """The deals with these columns (taken from the raw table) copied. A column of the raw table
    would keep all of the raw table alive (DuckDB hands Arrow each batch of rows as one
    allocation); copying it in Arrow takes about 10 ms for a million names, where DuckDB writing
    them out again took 0.2 s. An encoded picklist is in memory of its own already."""
    memory = pa.default_cpu_memory_manager()
    for key in keys:
        position = deals.schema.get_field_index(key)
        cells = deals.column(position)
        if not pa.types.is_dictionary(cells.type):
            copied = [chunk.copy_to(memory) for chunk in cells.chunks]
            deals = deals.set_column(position, key, pa.chunked_array(copied, type=cells.type))
    return deals


def _deals_sql(stated: str, unread_keys: list[str], as_read: tuple[str, ...]) -> str:
    """Every row classified, with why it is rejected (NULL when it is kept) and, for each parsed
    field, the text of a cell that could not be read. The text fields in `as_read` are left out:
    the caller takes them from the raw table."""
    unread = "".join(f"unread_{key},\n" for key in unread_keys)
    text = ", ".join(key for key in AS_READ_FIELDS if key not in as_read)
    return f"""
        WITH stated AS ({stated}),
        ruled AS (
            SELECT *, list_position($rule_stages, stage) AS rule FROM stated
        ),
        classified AS (
            SELECT
                * EXCLUDE (status, rule),
                -- A status the user set for a stage wins; then what the export states; then
                -- what the stage name says.
                CASE
                    WHEN $rule_edited[rule] THEN $rule_statuses[rule]
                    ELSE coalesce(stated_status, $rule_statuses[rule])
                END AS status,
                $rule_probabilities[rule]::DOUBLE AS stage_probability,
                coalesce($rule_late[rule], FALSE) AS late_stage
            FROM ruled
        ),
        dated AS (
            SELECT *,
                -- A closed deal closed when it was won or lost, not on its stale expected date.
                CASE status
                    WHEN 'won' THEN coalesce(won_date, actual_close_date, close_date)
                    WHEN 'lost' THEN coalesce(lost_date, actual_close_date, close_date)
                    ELSE close_date
                END AS real_close_date,
                CASE WHEN status = 'won' THEN coalesce(actual_amount, amount) ELSE amount END
                    AS real_amount
            FROM classified
        ),
        checked AS (
            SELECT *,
                CASE
                    WHEN is_deleted THEN 'deleted in the CRM (IsDeleted = 1)'
                    WHEN owner IS NULL THEN 'no owner'
                    WHEN stage IS NULL THEN 'no stage'
                    WHEN status <> 'open' AND real_close_date IS NULL
                        THEN 'closed deal without a readable close date'
                END AS row_problem
            FROM dated
        )
        SELECT
            source_row,
            coalesce(opportunity_id, 'row-' || source_row) AS opportunity_id,
            stage, status,
            real_amount AS amount,
            currency,
            real_close_date AS close_date,
            created_date,
            CASE status
                WHEN 'won' THEN 1.0
                WHEN 'lost' THEN 0.0
                ELSE coalesce(probability, stage_probability)
            END AS probability,
            CASE
                WHEN status = 'won' THEN 'Closed'
                WHEN status = 'lost' THEN 'Omitted'
                WHEN forecast_category IS NOT NULL THEN forecast_category
                WHEN coalesce(probability, stage_probability) >= 0.9 THEN 'Commit'
                WHEN coalesce(probability, stage_probability) >= 0.6 THEN 'Best Case'
                ELSE 'Pipeline'
            END AS forecast_category,
            last_activity_date, late_stage,
            CASE WHEN status = 'lost' THEN loss_reason END AS loss_reason,
            {text}{", " if text else ""}
            {unread}checked.opportunity_id IS NOT NULL AS has_id,
            row_problem AS reject_reason
        FROM checked
    """  # noqa: S608 - our own SQL


# Usable rows whose opportunity ID an earlier usable row has. The IDs are grouped by their
# 64-bit hash first, which is small to hold, and only the rows whose hash repeats (almost always
# a repeated ID) are grouped by the ID itself: grouping a million IDs as text held 126 MB more
# at the peak of a load, their hashes 42 MB.
REPEATED_ROWS_SQL = """
    WITH repeated_hashes AS (
        SELECT hash(opportunity_id) AS id_hash
        FROM checked
        WHERE has_id AND reject_reason IS NULL
        GROUP BY id_hash
        HAVING count(*) > 1
    ),
    candidates AS (
        SELECT source_row, opportunity_id
        FROM checked
        WHERE has_id AND reject_reason IS NULL
            AND hash(opportunity_id) IN (SELECT id_hash FROM repeated_hashes)
    ),
    repeated AS (
        SELECT opportunity_id, min(source_row) AS first_row
        FROM candidates
        GROUP BY opportunity_id
        HAVING count(*) > 1
    )
    SELECT candidates.source_row
    FROM candidates JOIN repeated USING (opportunity_id)
    WHERE candidates.source_row > repeated.first_row
"""


def _with_duplicates_rejected(con: duckdb.DuckDBPyConnection, checked: pa.Table) -> pa.Table:
    """The checked rows with each later usable row of a repeated ID rejected: the first is kept.
    The rows are marked in Arrow, so they stay in the file's order."""
    repeated = con.sql(REPEATED_ROWS_SQL).to_arrow_table()["source_row"]
    if not len(repeated):
        return checked
    reasons = pc.if_else(
        pc.is_in(checked["source_row"], value_set=repeated.combine_chunks()),
        DUPLICATE_REASON,
        checked["reject_reason"],
    )
    return checked.set_column(
        checked.schema.get_field_index("reject_reason"), "reject_reason", reasons
    )


FORECAST_CATEGORY_SQL = """
    CASE replace(lower(trim({raw})), ' ', '')
        WHEN 'pipeline' THEN 'Pipeline'
        WHEN 'bestcase' THEN 'Best Case'
        WHEN 'commit' THEN 'Commit'
        WHEN 'forecast' THEN 'Commit'
        WHEN 'closed' THEN 'Closed'
        WHEN 'omitted' THEN 'Omitted'
    END
"""


def _unreadable_cells(
    con: duckdb.DuckDBPyConnection, keys: list[str]
) -> dict[str, UnreadableCells]:
    if not keys:
        return {}
    selects = ", ".join(
        f"count(unread_{k}), "
        f"list(DISTINCT unread_{k} ORDER BY unread_{k}) FILTER (WHERE unread_{k} IS NOT NULL)"
        f"[1:{SAMPLE_SIZE}]"
        for k in keys
    )
    # The examples are the first in alphabetical order: in any order DuckDB gives, the same file
    # showed them in another order, or other ones, from one load to the next.
    row = con.execute(f"SELECT {selects} FROM deals").fetchone()  # noqa: S608 - our own names
    found = {}
    for position, key in enumerate(keys):
        count, examples = row[2 * position], row[2 * position + 1]
        if count:
            found[key] = UnreadableCells(count, tuple(examples or ()))
    return found


def _rejected_examples(con: duckdb.DuckDBPyConnection, raw: RawTable) -> tuple[dict, ...]:
    examples = [
        {"where": f"data row {row}", "reason": reason, "owner": owner, "deal": deal, "stage": stage}
        for row, reason, owner, deal, stage in con.execute(
            "SELECT source_row, reject_reason, owner, coalesce(name, opportunity_id), stage "
            "FROM deals WHERE reject_reason IS NOT NULL ORDER BY source_row LIMIT 20"
        ).fetchall()
    ]
    examples += [
        {"where": f"line {m.line} of the file", "reason": f"line not readable: {m.reason}",
         "owner": None, "deal": m.text[:200], "stage": None}
        for m in raw.malformed[:20]
    ]  # fmt: skip
    return tuple(examples)


def field_label(key: str) -> str:
    return FIELDS_BY_KEY[key].label
