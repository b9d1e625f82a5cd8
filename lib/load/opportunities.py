"""An opportunities export -> the canonical deals table of PRODUCT.md, with a report of the load."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field, replace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lib.load.arrow_columns import (
    clean_as_read,
    encode_picklists,
    in_memory_of_their_own,
    with_extra_columns,
    with_raw_columns,
)
from lib.load.classify import (
    AS_READ_FIELDS,
    DUPLICATE_REASON,
    cells_sql,
    classified_rows,
    stage_signals,
    stages_in_order,
    with_duplicates_rejected,
)
from lib.load.errors import LoadError
from lib.load.files import (
    REPEATED_HEADER,
    RawTable,
    columns_found,
    header_row_of_values,
    read_table,
)
from lib.load.layouts import Layout, recognise_layout
from lib.load.mapping import (
    DATE_FIELDS,
    FIELDS_BY_KEY,
    Mapping,
    check_required,
    missing_required,
    propose_mapping,
)
from lib.load.parsed_fields import PARSED_FIELDS, Formats, read_formats
from lib.load.stage_questions import StageQuestion, stage_questions
from lib.load.stages import StageRule, apply_edits, stage_rules
from lib.load.values import DateReading, install_value_macros
from lib.load.zip_export import (
    DataExportFiles,
    is_data_export,
    read_data_export,
    with_history,
)

CANONICAL_COLUMNS = ("source_row", "opportunity_id", "name", "account", "owner", "stage",
                     "status", "amount", "currency", "close_date", "created_date", "probability",
                     "forecast_category", "lead_source", "type", "last_activity_date",
                     "next_step", "team", "manager", "late_stage", "loss_reason")  # fmt: skip
SAMPLE_SIZE = 5
# Beside the canonical columns when the export carries each deal's amount converted into the
# company's currency (the converted_amount field): the figures' amounts (lib/session.py).
CONVERTED_AMOUNT = "converted_amount"
# Names the deals table (and the views over it) use besides the canonical columns: an export's
# other column may not take one of them (DuckDB compares names without regard to case). Queries
# that add a value to every column of the deals (SELECT *, …) name it here: the changes' deal_key
# and explore's labels.
RESERVED_NAMES = frozenset((*CANONICAL_COLUMNS, "amount_in_deal_currency", "deal_key",
                            CONVERTED_AMOUNT,
                            "explore_by", "explore_by_time", "explore_by_order", "explore_split",
                            "explore_split_time", "explore_split_order"))  # fmt: skip


@dataclass(frozen=True)
class UnreadableCells:
    """Cells of one field that held something other than a blank and could not be read."""

    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class PlaceholderDates:
    """Cells of one date field that wrote a day meaning "no date" (1900-01-01, 12/31/9999…):
    read as no date, and counted apart from the unreadable ones."""

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
    # Stages whose signals disagree, for the user to answer (lib/load/stage_questions.py).
    questions: tuple[StageQuestion, ...] = ()
    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    footer_lines: int = 0
    decimal_comma: bool = False
    probability_percent: bool | None = None
    currencies: tuple[str, ...] = field(default_factory=tuple)
    # A Salesforce Data Export's CurrencyType names the currency its rates convert into.
    corporate_currency: str | None = None
    placeholder_dates: dict[str, PlaceholderDates] = field(default_factory=dict)
    # The header of a column of amounts converted into the company's currency, which figures
    # use, and that currency: named by the export, else the currency of the deals whose two
    # amounts agree (HubSpot does not name its company currency), else None.
    amount_column: str | None = None
    converted_currency: str | None = None

    @property
    def display_currency(self) -> str | None:
        """The currency figures are shown in: the currency of the export's converted amounts,
        else the corporate currency when the export gives rates into it, else the export's most
        common one; None without any."""
        if self.amount_column:
            return self.converted_currency
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
    layout = recognise_layout(raw.headers, european=raw.delimiter == ";")
    mapping = _mapping_of_the_file(raw, mapping, filename)
    con = duckdb.connect()
    try:
        rows = _rows_read_and_classified(con, raw, mapping, layout, stage_edits)
        report = _load_report(con, raw, filename, layout, mapping, rows)
    except duckdb.Error as error:
        raise LoadError(f"{filename} could not be read: {str(error).splitlines()[0]}") from error
    finally:
        con.close()
    return LoadedExport(deals=_deals_kept(rows, raw, mapping), report=report)


@dataclass(frozen=True)
class _Rows:
    """Every row of the file, read and classified, and how it was read."""

    # Each row's fields, with why it is rejected (reject_reason, NULL when it is kept).
    checked: pa.Table
    formats: Formats
    rules: tuple[StageRule, ...]
    questions: tuple[StageQuestion, ...]
    # The text fields taken from the raw table as they are (AS_READ_FIELDS).
    as_read: tuple[str, ...]


def _mapping_of_the_file(raw: RawTable, mapping: Mapping | None, filename: str) -> Mapping:
    """The mapping given (or the one proposed for the headers) to the headers the file has;
    LoadError when a required field has no column."""
    proposed = mapping or propose_mapping(raw.headers)
    mapping = {key: header for key, header in proposed.items() if header in raw.headers}
    # Not offered to map by hand: the columns would be named by the first deal's values, which
    # would be lost, and the mapping remembered for them.
    if missing_required(mapping) and header_row_of_values(raw.headers):
        raise LoadError(
            f"The first row of {filename} looks like data, not column names "
            f"({columns_found(raw.headers)}): a database dump, or an export saved without its "
            "header row. Add a first line naming the columns, such as Opportunity Owner, "
            "Stage, Amount, Close Date, or export the deals again with their column names."
        )
    check_required(mapping, raw.headers, filename)
    return mapping


def _rows_read_and_classified(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    mapping: Mapping,
    layout: Layout,
    stage_edits: dict[str, dict[str, object]] | None,
) -> _Rows:
    """Every row read (its formats detected) and classified, registered as `deals`."""
    columns = {key: raw.column_for(header) for key, header in mapping.items()}
    install_value_macros(con)
    formats = read_formats(con, raw.table, columns, layout.day_first, raw.delimiter == ";")
    cells = cells_sql(columns, formats.parsed)
    rules = _stage_rules(con, cells, formats, layout, stage_edits)
    questions = stage_questions(rules, stage_signals(con, cells, formats.parameters), mapping)
    as_read = clean_as_read({k: raw.table[columns[k]] for k in AS_READ_FIELDS if k in columns})
    checked = classified_rows(con, cells, formats.parameters, rules, tuple(as_read))
    if "converted_amount" not in columns:
        # A column of nulls, 16 MB at a million deals, let go before the queries below.
        checked = checked.drop_columns([CONVERTED_AMOUNT])
    # Nothing reads the raw rows again: their numbers and parsed values are let go before
    # the queries below, which hold the most memory of the load (15 MB less at 1M deals).
    con.unregister("raw")
    checked = with_duplicates_rejected(con, with_raw_columns(checked, as_read))
    con.register("deals", checked)
    return _Rows(checked, formats, tuple(rules), questions, tuple(as_read))


def _stage_rules(
    con: duckdb.DuckDBPyConnection,
    cells: str,
    formats: Formats,
    layout: Layout,
    stage_edits: dict[str, dict[str, object]] | None,
) -> list[StageRule]:
    """Each stage's status, probability and lateness: from its deals and the layout, then the
    user's edits on the Data page."""
    in_order = stages_in_order(con, cells, formats.parameters)
    return apply_edits(stage_rules(in_order, layout), stage_edits or {})


def _deals_kept(rows: _Rows, raw: RawTable, mapping: Mapping) -> pa.Table:
    """The rows not rejected, in the canonical columns with the picklists encoded, and the
    export's other columns beside them."""
    checked, reasons = rows.checked, rows.checked["reject_reason"]
    # Filtering copies every column: only when a row was rejected.
    usable = checked.filter(pc.is_null(reasons)) if reasons.null_count < len(reasons) else checked
    extras = extra_column_names(raw.headers, set(mapping.values()))
    converted = (CONVERTED_AMOUNT,) if "converted_amount" in mapping else ()
    canonical = encode_picklists(usable.select((*CANONICAL_COLUMNS, *converted)))
    deals = with_extra_columns(canonical, raw, extras)
    # The text columns read as they are are copied only now, and only when the filter has not
    # copied them already: copying them as they joined the checked rows held both copies
    # through the queries above (about 35 MB more at the peak at a million deals).
    return in_memory_of_their_own(deals, rows.as_read if usable is checked else ())


def _load_report(
    con: duckdb.DuckDBPyConnection,
    raw: RawTable,
    filename: str,
    layout: Layout,
    mapping: Mapping,
    rows: _Rows,
) -> LoadReport:
    """What the load read, kept and rejected, from the rows registered as `deals`."""
    unreadable, placeholders = _placeholders_set_apart(
        con, _unreadable_cells(con, [key for key in PARSED_FIELDS if key in mapping]), rows.formats
    )
    return LoadReport(
        file_name=filename,
        file_kind=raw.file_kind,
        layout=layout.name,
        headers=raw.headers,
        mapping=mapping,
        rows_read=raw.rows_read,
        rows_loaded=rows.checked["reject_reason"].null_count,
        rejected=_rejected_counts(con, raw),
        rejected_examples=_rejected_examples(con, raw),
        duplicate_ids=_duplicate_ids(con),
        unreadable=unreadable,
        date_readings=rows.formats.readings,
        stage_rules=rows.rules,
        questions=rows.questions,
        encoding=raw.encoding,
        delimiter=raw.delimiter,
        sheet=raw.sheet,
        footer_lines=raw.footer_lines,
        decimal_comma=rows.formats.decimal_comma,
        probability_percent=rows.formats.percent,
        currencies=_currencies(con),
        placeholder_dates=placeholders,
        amount_column=mapping.get("converted_amount"),
        converted_currency=_converted_currency(con, raw, mapping),
    )


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


def _rejected_counts(con: duckdb.DuckDBPyConnection, raw: RawTable) -> dict[str, int]:
    """How many rows each reason rejected, the most common first, then the unreadable lines."""
    rejected = dict(
        con.execute(
            "SELECT reject_reason, count(*) FROM deals WHERE reject_reason IS NOT NULL "
            "GROUP BY ALL ORDER BY 2 DESC"
        ).fetchall()
    )
    if raw.repeated_headers:
        rejected[REPEATED_HEADER] = raw.repeated_headers
    unreadable_lines = Counter(row.reason for row in raw.malformed)
    unreadable_lines.update(dict(raw.more_malformed))
    for reason, count in unreadable_lines.items():
        key = f"line not readable: {reason}"
        rejected[key] = rejected.get(key, 0) + count
    return rejected


def _duplicate_ids(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    return tuple(
        row[0]
        for row in con.execute(
            "SELECT DISTINCT opportunity_id FROM deals WHERE reject_reason = $reason "
            "ORDER BY 1 LIMIT 20",
            {"reason": DUPLICATE_REASON},
        ).fetchall()
    )


def _converted_currency(
    con: duckdb.DuckDBPyConnection, raw: RawTable, mapping: Mapping
) -> str | None:
    """The currency of the converted amounts (LoadReport.converted_currency)."""
    if "converted_amount" not in mapping:
        return None
    if "converted_currency" in mapping:
        return _most_common_code(raw.table[raw.column_for(mapping["converted_currency"])])
    agreeing = con.execute(
        "SELECT DISTINCT currency FROM deals WHERE reject_reason IS NULL "
        "AND currency IS NOT NULL AND converted_amount = amount"
    ).fetchall()
    return agreeing[0][0] if len(agreeing) == 1 else None


def _most_common_code(cells: pa.ChunkedArray) -> str | None:
    """The most common currency code of a column, None when it has none."""
    codes = pc.drop_null(pc.utf8_upper(pc.utf8_trim_whitespace(cells)))
    counts = pc.value_counts(codes.filter(pc.not_equal(codes, "")))
    if not len(counts):
        return None
    most = pc.index(counts.field("counts"), pc.max(counts.field("counts"))).as_py()
    return counts.field("values")[most].as_py()


def _currencies(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """The currencies of the deals kept, the most common first."""
    return tuple(
        row[0]
        for row in con.execute(
            "SELECT currency FROM deals WHERE reject_reason IS NULL AND currency IS NOT NULL "
            "GROUP BY currency ORDER BY count(*) DESC, currency"
        ).fetchall()
    )


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


def _placeholders_set_apart(
    con: duckdb.DuckDBPyConnection, unreadable: dict[str, UnreadableCells], formats: Formats
) -> tuple[dict[str, UnreadableCells], dict[str, PlaceholderDates]]:
    """The unreadable cells without the date fields' placeholders (placeholder_day in
    values.sql: a day that means "no date"), and those placeholders. Only a date field with
    cells not read is looked at again, and only those cells: most loads skip this."""
    fields, unreadable, placeholders = tuple(unreadable), dict(unreadable), {}
    for key in [k for k in fields if k in DATE_FIELDS]:
        # An Excel serial column writes no placeholder (parse_date, values.sql).
        if formats.arguments[key] == "excel serial":
            continue
        groups = con.execute(
            f"""
            SELECT coalesce(placeholder_day(date_as_written(cell, $format)), false),
                count(*), list(DISTINCT cell ORDER BY cell)[1:{SAMPLE_SIZE}]
            FROM (SELECT unread_{key} AS cell FROM deals WHERE unread_{key} IS NOT NULL)
            GROUP BY 1
            """,  # noqa: S608 - our own names
            {"format": formats.arguments[key]},
        ).fetchall()
        del unreadable[key]
        for is_placeholder, count, examples in groups:
            counted = PlaceholderDates if is_placeholder else UnreadableCells
            (placeholders if is_placeholder else unreadable)[key] = counted(count, tuple(examples))
    return {key: unreadable[key] for key in fields if key in unreadable}, placeholders


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
