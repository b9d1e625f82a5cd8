"""Tests for lib.load.values: export cells read as amounts, dates and probabilities, checked by
hand, and the column-level choices (date format, decimal comma, percent scale) made per column."""

from datetime import date
from decimal import Decimal

import duckdb
import pyarrow as pa
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from lib.load.values import (
    DATE_FORMATS,
    DECIMAL_COMMA,
    DECIMAL_POINT,
    INDIAN_GROUPING,
    NULL_ID,
    clean_as_is,
    detect_amount_format,
    detect_date_format,
    detect_date_formats,
    detect_decimal_comma,
    detect_percent_scale,
    install_value_macros,
    parse_amounts,
    parse_dates,
    parse_probabilities,
)

# Each parse_* call opens a DuckDB connection: property tests parse a list per example.
PROPERTY = settings(max_examples=40, deadline=None)

TWO_DIGIT_YEAR_FORMATS = {fmt for fmt, _ in DATE_FORMATS if "%y" in fmt}
TEXT_FORMATS = [fmt for fmt, _ in DATE_FORMATS if fmt != "excel serial"]
EXCEL_EPOCH = date(1899, 12, 30)


def one_amount(text: str | None, decimal_comma: bool = False) -> Decimal | None:
    return parse_amounts([text], decimal_comma)[0]


def one_date(text: str | None, fmt: str) -> date | None:
    return parse_dates([text], fmt)[0]


def column(values: list[str | None]) -> duckdb.DuckDBPyConnection:
    """A connection with the value macros and one text column c0 registered as `raw`."""
    con = duckdb.connect()
    install_value_macros(con)
    con.register("raw", pa.table({"c0": pa.array(values, type=pa.string())}))
    return con


def us_amount(amount: Decimal) -> str:
    return f"{'-' if amount < 0 else ''}${abs(amount):,.2f}"


def european_amount(amount: Decimal) -> str:
    digits = f"{abs(amount):,.2f}".replace(",", " ").replace(".", ",").replace(" ", ".")
    return f"{'-' if amount < 0 else ''}{digits} €"


# --- amounts ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("$12,345.00", Decimal("12345.00")),
        ("USD 12,345.00", Decimal("12345.00")),
        ("12345.00", Decimal("12345.00")),
        ("1234.5", Decimal("1234.50")),
        ("(1,234)", Decimal("-1234.00")),
        ("($1,234.56)", Decimal("-1234.56")),
        ("-$1,234.56", Decimal("-1234.56")),
        ("$-1,234.56", Decimal("-1234.56")),
        ("1,234.56 USD", Decimal("1234.56")),
        ("  $ 980.10 ", Decimal("980.10")),
        ("1.2E+05", Decimal("120000.00")),
        ("0", Decimal("0.00")),
    ],
)
def test_us_amount_reads_as_its_decimal_value(text, expected):
    assert one_amount(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12.345,67", Decimal("12345.67")),
        ("-1.234,56 €", Decimal("-1234.56")),
        ("12 345,67", Decimal("12345.67")),
        ("12\u00a0345,67 €", Decimal("12345.67")),
        ("EUR 1.234.567,89", Decimal("1234567.89")),
        ("(1.234,56 €)", Decimal("-1234.56")),
        ("500", Decimal("500.00")),
    ],
)
def test_decimal_comma_amount_reads_as_its_decimal_value(text, expected):
    assert one_amount(text, decimal_comma=True) == expected


@pytest.mark.parametrize("text", ["TBD", "n/a", "", "   ", None, "-", "see notes"])
def test_amount_without_a_number_is_none(text):
    assert one_amount(text) is None
    assert one_amount(text, decimal_comma=True) is None


def test_amounts_keep_their_order_and_blanks():
    assert parse_amounts(["$1.00", None, "TBD", "(2)"]) == [
        Decimal("1.00"),
        None,
        None,
        Decimal("-2.00"),
    ]


amounts = st.decimals(
    min_value=Decimal("-1e12"),
    max_value=Decimal("1e12"),
    places=2,
    allow_nan=False,
    allow_infinity=False,
)


amount_lists = st.lists(amounts, min_size=1, max_size=10)


@PROPERTY
@given(amount_lists)
def test_any_us_formatted_amount_parses_back_exactly(values):
    assert parse_amounts([us_amount(amount) for amount in values]) == values


@PROPERTY
@given(amount_lists)
def test_any_european_formatted_amount_parses_back_exactly(values):
    texts = [european_amount(amount) for amount in values]
    assert parse_amounts(texts, decimal_comma=True) == values


@PROPERTY
@given(amount_lists, st.sampled_from(["USD", "EUR", "GBP", "CHF"]))
def test_any_amount_after_a_currency_code_parses_back_exactly(values, code):
    texts = [f"{code} {'-' if amount < 0 else ''}{abs(amount):,.2f}" for amount in values]
    assert parse_amounts(texts) == values


@PROPERTY
@given(st.lists(amounts.filter(lambda amount: amount < 0), min_size=1, max_size=10))
def test_any_negative_amount_in_parentheses_parses_back_exactly(values):
    texts = [f"({'$' if i % 2 else ''}{abs(amount):,.2f})" for i, amount in enumerate(values)]
    assert parse_amounts(texts) == values


@pytest.mark.parametrize(
    ("text", "decimal_comma"),
    [
        ("12,34,5", False),
        ("1,23", False),
        ("$1,23", False),
        ("1,2345.00", False),
        ("1234,567", False),
        ("12 34", False),
        ("(1,23)", False),
        ("1,23 USD", False),
        ("1.23", True),
        ("12.34.567,00", True),
        ("1.2345,67 €", True),
    ],
)
def test_amount_whose_separators_do_not_form_groups_of_three_is_unreadable(text, decimal_comma):
    assert one_amount(text, decimal_comma) is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12,34,567", Decimal("1234567.00")),
        ("₹1,23,45,678.50", Decimal("12345678.50")),
        ("1,234", Decimal("1234.00")),
        ("999", Decimal("999.00")),
        ("1,234,567", None),
        ("123,456", None),
        ("12,34", None),
        ("1,2,345", None),
    ],
)
def test_indian_grouping_reads_lakhs_and_crores_and_nothing_else(text, expected):
    assert parse_amounts([text], amount_format=INDIAN_GROUPING) == [expected]


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["12,34,567", "1,23,456.50", "999", "1,234"], INDIAN_GROUPING),
        (["12,34,567", "123,456"], DECIMAL_POINT),
        (["1,234", "12,345"], DECIMAL_POINT),
        (["12.345,67"], DECIMAL_COMMA),
    ],
)
def test_indian_grouping_is_read_only_where_the_whole_column_uses_it(values, expected):
    assert detect_amount_format(column(values), "raw", "c0", False) == expected


def groups_are_valid(lengths: list[int], indian: bool) -> bool:
    """Whether digit groups of these lengths, joined by separators, are a well-grouped number."""
    if len(lengths) == 1:
        return True
    if indian:
        return lengths[0] <= 2 and all(n == 2 for n in lengths[1:-1]) and lengths[-1] == 3
    return lengths[0] <= 3 and all(n == 3 for n in lengths[1:])


# (format, thousands separator, decimal mark, Indian grouping)
GROUPINGS = [
    (DECIMAL_POINT, ",", ".", False),
    (DECIMAL_POINT, " ", ".", False),
    (DECIMAL_COMMA, ".", ",", False),
    (INDIAN_GROUPING, ",", ".", True),
]


@st.composite
def badly_grouped_amounts(draw):
    amount_format, separator, mark, indian = draw(st.sampled_from(GROUPINGS))
    lengths = draw(
        st.lists(st.integers(1, 5), min_size=2, max_size=5).filter(
            lambda lengths: not groups_are_valid(lengths, indian)
        )
    )
    digits = [draw(st.text("0123456789", min_size=n, max_size=n)) for n in lengths]
    decimals = draw(st.sampled_from(["", f"{mark}5", f"{mark}50"]))
    symbol = draw(st.sampled_from(["", "$", "€ ", "USD "]))
    sign = draw(st.sampled_from(["", "-"]))
    return amount_format, f"{sign}{symbol}{separator.join(digits)}{decimals}"


@PROPERTY
@given(st.lists(badly_grouped_amounts(), min_size=1, max_size=10))
def test_no_amount_with_invalid_grouping_parses_as_a_number(cells):
    for amount_format, text in cells:
        assert parse_amounts([text], amount_format=amount_format) == [None], text


MACROS = duckdb.connect()
install_value_macros(MACROS)
# strptime wants a constant format, so each date format is its own query parameter.
EVERY_PARSER = (
    "SELECT parse_amount($v, 'decimal point'), parse_amount($v, 'decimal comma'), "
    + ", ".join(
        [
            "parse_probability($v, true)",
            "parse_probability($v, false)",
            *(f"parse_date($v, $f{i})" for i in range(len(DATE_FORMATS))),
        ]
    )
)


@settings(max_examples=200, deadline=None)
@given(st.text().filter(lambda t: not any(c.isdigit() for c in t)))
def test_text_without_digits_is_never_an_amount_date_or_probability(text):
    # One query runs every parser, on the same macros the loader installs.
    formats = {f"f{i}": fmt for i, (fmt, _) in enumerate(DATE_FORMATS)}
    parsed = MACROS.execute(EVERY_PARSER, {"v": text, **formats}).fetchone()
    assert parsed == (None,) * (4 + len(DATE_FORMATS))


# --- dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "fmt", "expected"),
    [
        ("2026-11-20", "%Y-%m-%d", date(2026, 11, 20)),
        ("2026-01-05T14:22:10.000+0000", "%Y-%m-%d", date(2026, 1, 5)),
        ("2023-05-11 00:00:00", "%Y-%m-%d", date(2023, 5, 11)),
        ("2026-11-20 17:00", "%Y-%m-%d", date(2026, 11, 20)),
        ("2026/11/20", "%Y/%m/%d", date(2026, 11, 20)),
        ("11/20/2026", "%m/%d/%Y", date(2026, 11, 20)),
        ("3/1/2017", "%m/%d/%Y", date(2017, 3, 1)),
        ("11/21/2026 9:14 AM", "%m/%d/%Y", date(2026, 11, 21)),
        ("20/11/2026", "%d/%m/%Y", date(2026, 11, 20)),
        ("3/1/2017", "%d/%m/%Y", date(2017, 1, 3)),
        ("02/03/24", "%m/%d/%y", date(2024, 2, 3)),
        ("12/31/99", "%m/%d/%y", date(1999, 12, 31)),
        ("02/03/24", "%d/%m/%y", date(2024, 3, 2)),
        ("20.11.2026", "%d.%m.%Y", date(2026, 11, 20)),
        ("1.12.2026", "%d.%m.%Y", date(2026, 12, 1)),
        ("20.11.26", "%d.%m.%y", date(2026, 11, 20)),
        ("11-20-2026", "%m-%d-%Y", date(2026, 11, 20)),
        ("20-11-2026", "%d-%m-%Y", date(2026, 11, 20)),
        ("20-Nov-2026", "%d-%b-%Y", date(2026, 11, 20)),
        ("20-Nov-26", "%d-%b-%y", date(2026, 11, 20)),
        ("20 Nov 2026", "%d %b %Y", date(2026, 11, 20)),
        ("Nov 20, 2026", "%b %d, %Y", date(2026, 11, 20)),
        ("20 November 2026", "%d %B %Y", date(2026, 11, 20)),
        ("November 20, 2026", "%B %d, %Y", date(2026, 11, 20)),
        ("46346", "excel serial", date(2026, 11, 20)),
        ("42795", "excel serial", date(2017, 3, 1)),
        ("46346.5", "excel serial", date(2026, 11, 20)),
    ],
)
def test_date_in_its_column_format_reads_as_that_day(text, fmt, expected):
    assert one_date(text, fmt) == expected


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        ("20/11/2026", "%m/%d/%Y"),  # no 20th month
        ("02/30/2026", "%m/%d/%Y"),  # no 30 February
        ("02/03/24", "%m/%d/%Y"),  # year 24 is a two-digit year, not AD 24
        ("2026-11-20", "%m/%d/%Y"),
        ("11/20/2026", "%Y-%m-%d"),
        ("12345", "excel serial"),  # 1933: too early to be a deal date
        ("2026", "excel serial"),
        ("TBD", "%Y-%m-%d"),
        ("Infinity", "%Y-%m-%d"),  # DuckDB's strptime alone would read it as 1900-01-01
        ("", "%Y-%m-%d"),
        (None, "%Y-%m-%d"),
    ],
)
def test_date_that_does_not_fit_the_column_format_is_none(text, fmt):
    assert one_date(text, fmt) is None


def test_two_digit_years_pivot_at_69():
    assert parse_dates(["1/1/00", "1/1/68", "1/1/69", "1/1/99"], "%m/%d/%y") == [
        date(2000, 1, 1),
        date(2068, 1, 1),
        date(1969, 1, 1),
        date(1999, 1, 1),
    ]


def excel_serial(day: date) -> str:
    return str((day - EXCEL_EPOCH).days)


def date_lists(latest: date) -> st.SearchStrategy[list[date]]:
    return st.lists(st.dates(min_value=date(1990, 1, 1), max_value=latest), min_size=1, max_size=10)


@PROPERTY
@given(
    st.data(),
    st.sampled_from([fmt for fmt, _ in DATE_FORMATS]),
    st.sampled_from(["", " 17:00", " 00:00:00", " 9:14 AM"]),
)
def test_any_date_written_in_a_format_parses_back_exactly(data, fmt, time_of_day):
    # strptime reads two-digit years 69-99 as 19xx, so 2069-2090 cannot round-trip through them.
    latest = date(2068, 12, 31) if fmt in TWO_DIGIT_YEAR_FORMATS else date(2090, 12, 31)
    days = data.draw(date_lists(latest))
    if fmt == "excel serial":
        texts = [excel_serial(day) for day in days]
    else:
        texts = [day.strftime(fmt) + time_of_day for day in days]
    assert parse_dates(texts, fmt) == days


@PROPERTY
@given(date_lists(date(2090, 12, 31)))
def test_any_salesforce_api_timestamp_reads_as_its_day(days):
    texts = [f"{day.isoformat()}T14:22:10.000+0000" for day in days]
    assert parse_dates(texts, "%Y-%m-%d") == days


@PROPERTY
@given(date_lists(date(2068, 12, 31)))
def test_any_unpadded_us_date_parses_back_exactly(days):
    texts = [f"{day.month}/{day.day}/{day.year}" for day in days]
    short_texts = [f"{day.month}/{day.day}/{day.year % 100:02d}" for day in days]
    assert parse_dates(texts, "%m/%d/%Y") == days
    assert parse_dates(short_texts, "%m/%d/%y") == days


def test_excel_serials_count_days_from_30_december_1899():
    assert one_date("25569", "excel serial") == date(1970, 1, 1)
    assert one_date("46082", "excel serial") == date(2026, 3, 1)


# --- probabilities ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "percent_scale", "expected"),
    [
        ("70%", True, 0.7),
        ("70%", False, 0.7),
        ("70 %", False, 0.7),
        ("70", True, 0.7),
        ("0.7", False, 0.7),
        ("70,5 %", True, 0.705),
        ("100", True, 1.0),
        ("0", True, 0.0),
        ("1", False, 1.0),
    ],
)
def test_probability_reads_as_a_share_of_one(text, percent_scale, expected):
    assert parse_probabilities([text], percent_scale) == [expected]


@pytest.mark.parametrize(
    ("text", "percent_scale"),
    [("150", True), ("70", False), ("-10", True), ("high", True), ("", True), (None, False)],
)
def test_probability_outside_0_to_100_percent_or_unreadable_is_none(text, percent_scale):
    assert parse_probabilities([text], percent_scale) == [None]


# --- column-level choices ---------------------------------------------------------------------


def test_a_day_above_12_settles_a_column_as_month_first():
    reading = detect_date_format(column(["11/20/2026", "1/5/2026", "3/4/2026"]), "raw", "c0", True)
    assert reading.format == "%m/%d/%Y"
    assert not reading.ambiguous
    assert reading.label == "M/D/YYYY"


def test_a_day_above_12_settles_a_column_as_day_first():
    reading = detect_date_format(column(["20/11/2026", "1/5/2026", "3/4/2026"]), "raw", "c0", False)
    assert reading.format == "%d/%m/%Y"
    assert not reading.ambiguous


@pytest.mark.parametrize(("day_first", "expected"), [(False, "%m/%d/%Y"), (True, "%d/%m/%Y")])
def test_a_column_every_value_of_which_fits_both_orders_follows_the_origin(day_first, expected):
    reading = detect_date_format(column(["1/5/2026", "3/4/2026", None, ""]), "raw", "c0", day_first)
    assert reading.format == expected
    assert reading.ambiguous
    assert ("day first" if day_first else "month first") in reading.reason


def test_two_digit_year_column_is_read_with_a_two_digit_format():
    reading = detect_date_format(column(["02/03/24", "12/31/23"]), "raw", "c0", False)
    assert reading.format == "%m/%d/%y"
    assert not reading.ambiguous


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["2026-01-05T14:22:10.000+0000", "2026-11-20"], "%Y-%m-%d"),
        (["2023-05-11 00:00:00", "2023-06-01 00:00:00"], "%Y-%m-%d"),
        (["20.11.2026", "1.12.2026"], "%d.%m.%Y"),
        (["46346", "42795"], "excel serial"),
        (["Nov 20, 2026", "Dec 1, 2026"], "%b %d, %Y"),
        (["11/20/2026", "TBD", "11/21/2026"], "%m/%d/%Y"),
    ],
)
def test_a_column_is_read_in_the_format_that_reads_most_of_it(values, expected):
    reading = detect_date_format(column(values), "raw", "c0", False)
    assert reading.format == expected
    assert not reading.ambiguous


@pytest.mark.parametrize("values", [[None, "", "  "], ["TBD", "soon"]])
def test_a_column_with_no_dates_has_no_format(values):
    reading = detect_date_format(column(values), "raw", "c0", False)
    assert reading.format is None
    assert reading.label == "unreadable"


@pytest.mark.parametrize(
    ("values", "european_hint", "expected"),
    [
        (["$12,345.00", "1,234.56", "500"], True, False),
        (["12.345,67", "-1.234,56 €", "500"], False, True),
        (["12 345,67"], False, True),
        (["1.234", "12.345"], False, True),
        (["1,234", "12,345"], True, False),
        (["1,234.56", "12.345,67", "9.876,54"], False, True),
        (["100", "250"], True, True),
        (["100", "250"], False, False),
        ([None, "TBD"], True, True),
    ],
)
def test_decimal_comma_is_decided_by_the_whole_column(values, european_hint, expected):
    assert detect_decimal_comma(column(values), "raw", "c0", european_hint) is expected


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        (["70", "10", "0"], True),
        (["0.7", "0.1", "1"], False),
        (["70%", "0.5"], True),
        ([None, ""], False),
    ],
)
def test_a_probability_column_runs_0_to_100_when_any_value_is_above_1(values, expected):
    assert detect_percent_scale(column(values), "raw", "c0") is expected


TEXT_CELLS = st.one_of(
    st.none(),
    st.sampled_from(
        ["", " ", "Ana Ruiz", " Ana", "Ana ", "\tAna", "Ana\n", NULL_ID, f" {NULL_ID}"]
    ),
    st.text(alphabet=st.sampled_from(" a\t\u00a0\u3000"), max_size=4),
)


@PROPERTY
@given(st.lists(TEXT_CELLS, max_size=6))
@example(["Ana Ruiz", None, NULL_ID])
@example(["Ana Ruiz", "Ana "])
@example([" Ana", "Bo"])
@example(["Ana", ""])
@example(["Ana Ruiz", None, "\tAna"])
def test_a_column_is_clean_as_is_exactly_when_clean_text_changes_none_of_its_cells(cells):
    con = duckdb.connect()
    install_value_macros(con)
    (cleaned,) = con.execute(
        "SELECT list_transform($cells::VARCHAR[], lambda v: clean_text(v))", {"cells": cells}
    ).fetchone()
    assert clean_as_is(pa.chunked_array([cells], type=pa.string())) is (cleaned == cells)


def test_date_columns_detected_together_read_as_each_would_alone():
    con = duckdb.connect()
    install_value_macros(con)
    con.register(
        "raw",
        pa.table(
            {
                "c0": ["20/11/2026", "1/5/2026", None],
                "c1": ["2026-11-20", "2026-01-05", "soon"],
                "c2": [None, "", " "],
                "c3": ["1/5/2026", "3/4/2026", "1/2/2026"],
            }
        ),
    )
    together = detect_date_formats(con, "raw", ["c0", "c1", "c2", "c3"], True)
    assert together == {c: detect_date_format(con, "raw", c, True) for c in together}
    assert [together[c].format for c in ("c0", "c1", "c2", "c3")] == [
        "%d/%m/%Y", "%Y-%m-%d", None, "%d/%m/%Y",
    ]  # fmt: skip
    assert together["c3"].ambiguous
    assert detect_date_formats(con, "raw", [], True) == {}
