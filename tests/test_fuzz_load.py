"""Property tests over the loaders: whatever arrives (random bytes, CSV of any shape, any column
names), the only exception ever raised is LoadError, with a message for the user."""

from __future__ import annotations

from datetime import date

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from lib.load.errors import LoadError
from lib.load.files import DELIMITERS
from lib.load.opportunities import load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_targets
from lib.settings import Settings

# Each example is a whole load (a DuckDB connection, a temporary file): few, with no deadline.
FUZZ = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REQUIRED_HEADERS = ("Opportunity Owner", "Stage", "Amount", "Close Date")
KNOWN_HEADERS = (*REQUIRED_HEADERS, "Opportunity Name", "Account Name", "Probability (%)",
                 "Created Date", "IsWon", "IsClosed", "Deal - Status", "Currency", "Id")  # fmt: skip
HOSTILE_TEXT = ('=HYPERLINK("http://evil.example")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+2",
                'Owner"; DROP TABLE x; --', "'; DELETE FROM deals; --", "<script>x</script>",
                "[a](http://evil.example)", "c0", "source_row", "\u202eevil", "🦄")  # fmt: skip
CELL_TEXT = ("Ana Ruiz", "Closed Won", "Closed Lost", "Prospecting", "$12,345.00", "(1,234)",
             "12.345,67", "1e30", "11/20/2026", "20.11.2026", "2026-11-20 17:00", "46346", "70%",
             "TBD", "true", "0", "", " ", '"', '""', "\\", "\r", "\n")  # fmt: skip
SETTINGS = Settings(as_of=date(2026, 11, 20))


def only_load_errors(load) -> None:
    """Runs a load; a LoadError must say something, and any other exception fails the test."""
    try:
        loaded = load()
    except LoadError as error:
        assert str(error).strip()
        return
    report = getattr(loaded, "report", None)
    if report is not None and hasattr(report, "rows_rejected"):
        # Every row read is either loaded or counted with its reason.
        assert report.rows_read == report.rows_loaded + report.rows_rejected


def every_loader(data: bytes, name: str) -> None:
    only_load_errors(lambda: load_opportunities(data, name))
    only_load_errors(lambda: load_targets(data, name, SETTINGS))
    only_load_errors(lambda: load_reps(data, name))


file_starts = st.sampled_from(
    [b"", b"PK\x03\x04", b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff", b"\x89PNG", b"sep=;\n"]
)


@FUZZ
@given(start=file_starts, rest=st.binary(max_size=3_000))
def test_random_bytes_load_or_say_why(start, rest):
    every_loader(start + rest, "fuzz.csv")


def written_cell(text: str, quoted: bool) -> str:
    return '"' + text.replace('"', '""') + '"' if quoted else text


@st.composite
def csv_files(draw) -> bytes:
    """A CSV of any shape: any separator, quoted or bare cells holding separators, quotes and
    line breaks, ragged rows, mixed line endings, in any of the encodings exports use."""
    delimiter = draw(st.sampled_from([*DELIMITERS, " "]))
    endings = st.sampled_from(["\n", "\r\n", "\r"])
    names = st.one_of(st.sampled_from(KNOWN_HEADERS + HOSTILE_TEXT), st.text(max_size=12))
    cells = st.one_of(st.sampled_from(CELL_TEXT + HOSTILE_TEXT), st.text(max_size=12))
    # Half the files have the four required columns, so that rows get as far as being read.
    header = draw(
        st.one_of(
            st.lists(names, min_size=1, max_size=8),
            st.lists(names, max_size=4).map(lambda extra: [*REQUIRED_HEADERS, *extra]),
        )
    )
    rows = draw(
        st.lists(st.lists(cells, max_size=len(header) + 2), max_size=12).map(lambda r: [header, *r])
    )
    text = "".join(
        delimiter.join(written_cell(cell, draw(st.booleans())) for cell in row) + draw(endings)
        for row in rows
    )
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "cp1252"]))
    return text.encode(encoding, errors="replace")


@FUZZ
@given(data=csv_files())
def test_csv_of_any_shape_loads_or_says_why(data):
    every_loader(data, "fuzz.csv")


# Column names as people type them, in any script, with SQL and formulas: not blank, no
# separator, quote or line break (those change the shape of the file, tested above).
column_names = st.one_of(
    st.sampled_from(HOSTILE_TEXT),
    st.text(
        st.characters(
            blacklist_categories=("Cc", "Cs", "Zl", "Zp"), blacklist_characters='",;|\t\ufeff'
        ),
        min_size=1,
        max_size=30,
    ),
).filter(lambda name: name == name.strip() and name)


@FUZZ
@given(extra=st.lists(column_names, max_size=6, unique=True))
def test_any_column_names_are_read_back_as_written(extra):
    headers = [*REQUIRED_HEADERS, *(name for name in extra if name not in REQUIRED_HEADERS)]
    row = ["Ana Ruiz", "Prospecting", "1000", "2026-11-20", *("x" for _ in headers[4:])]
    data = ("\n".join([",".join(headers), ",".join(row)]) + "\n").encode()
    report = load_opportunities(data, "fuzz.csv").report
    assert report.headers == tuple(headers)
    assert report.rows_read == 1
