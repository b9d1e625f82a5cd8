"""Real exports as their owners shaped them: glued together, with odd column names, without a
header row, zipped on a Mac, with a stray NUL. Each is read right, or the user is told what to do."""

import csv
import io
from datetime import date

import pytest

from lib.explore import View, dimension_values, dimensions, explore, quote
from lib.load.errors import LoadError
from lib.load.opportunities import load_opportunities
from lib.query import run_query
from lib.session import assemble
from lib.settings import Settings
from tests import salesforce_export as sf
from tests.data.bad.make_corpus import zip_of
from tests.test_load import xlsx

SETTINGS = Settings(as_of=date(2026, 11, 20))
HEADER = ["Opportunity Owner", "Stage", "Amount", "Close Date"]
# Names that mean something to SQL, to DuckDB's read_csv or to a parameter list; and the names
# the loader gives its own raw and parsed columns.
ODD_NAMES = ["rowid", "*", '"', "?", "$1", "'", "NULL", "filename", "line\nbreak", "c0",
             "unread_amount", "reject_reason", "%", "a; DROP TABLE deals; --"]  # fmt: skip


def csv_bytes(rows: list[list[str]]) -> bytes:
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    return text.getvalue().encode()


UTF8_BOM = "\ufeff"
WEEK_1 = [["Ana Ruiz", "Prospecting", "1000", "12/15/2026"],
          ["Ben Ode", "Closed Won", "2000", "11/02/2026"]]  # fmt: skip
WEEK_2 = [["Ana Ruiz", "Negotiation/Review", "1500", "12/20/2026"]]


# What a Mac writes for a file's Finder metadata when it zips a folder (AppleDouble).
APPLE_DOUBLE = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        \x00\x02" + b"\x00" * 40


def owners_and_stages(loaded) -> list[tuple[str, str]]:
    return [(deal["owner"], deal["stage"]) for deal in loaded.deals.to_pylist()]


def quoted_lines(rows: list[list[str]], line_ending: str) -> str:
    """Rows with every field quoted, as Salesforce writes a report."""
    return "".join('"' + '","'.join(row) + '"' + line_ending for row in rows)


@pytest.mark.parametrize("line_ending", ["\n", "\r\n"])
@pytest.mark.parametrize("bom", ["", UTF8_BOM])
def test_two_exports_glued_together_skip_the_second_header_row_and_count_it(bom, line_ending):
    week_1 = bom + csv_bytes([HEADER, *WEEK_1]).decode()
    # The second week saved with every field quoted, and with Windows line endings or not.
    week_2 = bom + quoted_lines([HEADER, *WEEK_2], line_ending)
    loaded = load_opportunities((week_1 + week_2).encode(), "glued.csv")
    report = loaded.report
    assert (report.rows_read, report.rows_loaded) == (4, 3)
    assert report.rejected == {"a repeated header row (two exports glued together?)": 1}
    assert owners_and_stages(loaded) == [
        ("Ana Ruiz", "Prospecting"),
        ("Ben Ode", "Closed Won"),
        ("Ana Ruiz", "Negotiation/Review"),
    ]
    assert "Stage" not in [rule.stage for rule in report.stage_rules]
    assert report.unreadable == {}


def test_a_sheet_repeating_its_header_row_above_each_group_loads_only_the_deals():
    header = [*HEADER[:2], HEADER[2], HEADER[3]]
    workbook = xlsx([header, WEEK_1[0], [], header, WEEK_1[1], [UTF8_BOM + HEADER[0], *HEADER[1:]],
                     *WEEK_2])  # fmt: skip
    loaded = load_opportunities(workbook, "board.xlsx")
    assert (loaded.report.rows_read, loaded.report.rows_loaded) == (5, 3)
    assert loaded.report.rejected == {"a repeated header row (two exports glued together?)": 2}
    assert [owner for owner, _ in owners_and_stages(loaded)] == ["Ana Ruiz", "Ben Ode", "Ana Ruiz"]


def test_a_row_that_only_looks_like_the_header_in_some_cells_is_a_deal():
    rows = [HEADER, ["Opportunity Owner", "Stage", "1000", "12/15/2026"], HEADER[:3] + [""]]
    loaded = load_opportunities(csv_bytes(rows), "names.csv")
    assert (loaded.report.rows_read, loaded.report.rows_loaded, loaded.report.rejected) == (
        2,
        2,
        {},
    )


def test_a_zip_made_on_a_mac_reads_its_csvs_and_ignores_their_resource_forks():
    # The resource forks come first, where they would be taken for the objects' files.
    forks = {f"__MACOSX/._{name}": APPLE_DOUBLE for name in sf.FILES}
    packed = zip_of({**forks, "._Opportunity.csv": APPLE_DOUBLE, **sf.FILES})
    loaded = load_opportunities(packed, "Export.zip")
    assert loaded.deals.equals(load_opportunities(zip_of(sf.FILES), "Export.zip").deals)
    assert [used.file for used in loaded.export_files.files_used][:2] == [
        "Opportunity.csv",
        "User.csv",
    ]
    assert loaded.export_files.not_used == ()


def test_a_zip_holding_only_resource_forks_has_no_opportunity_csv():
    with pytest.raises(LoadError) as error:
        load_opportunities(zip_of({"__MACOSX/._Opportunity.csv": APPLE_DOUBLE}), "Export.zip")
    assert str(error.value).startswith(
        "Export.zip has no Opportunity.csv (found: no CSV file Closeboard reads)."
    )


def test_extra_columns_with_odd_names_load_every_row_and_read_back_in_sql_and_explore():
    rows = [
        [f"Rep {n % 3}", "Prospecting", str(1000 + n), "12/15/2026",
         *(f"{column}-{n % 2}" for column in range(len(ODD_NAMES)))]
        for n in range(40)
    ]  # fmt: skip
    loaded = load_opportunities(csv_bytes([[*HEADER, *ODD_NAMES], *rows]), "odd.csv")
    assert (loaded.report.rows_loaded, loaded.report.rejected) == (40, {})
    assert loaded.deals.column_names[-len(ODD_NAMES) :] == ODD_NAMES
    session = assemble(loaded, SETTINGS)
    available = dimensions(loaded.deals.column_names)
    con = session.connection()
    for column, name in enumerate(ODD_NAMES):
        values = [f"{column}-0", f"{column}-1"]
        # The name quoted as a user would type it in the SQL box.
        query = f"SELECT {quote(name)} AS value, count(*) AS deals FROM opportunities"  # noqa: S608
        result = run_query(query + " GROUP BY 1 ORDER BY 1", session, 10).to_pylist()
        assert result == [{"value": value, "deals": 20} for value in values], name
        assert dimension_values(con, available[name], SETTINGS) == values, name
        by_column = explore(con, View(deals="all", measure="count", by=name), available, SETTINGS)
        assert by_column.by_totals.to_dict("records") == [
            {"by": value, "value": 20.0, "deals": 20} for value in values
        ], name
    typed = run_query('SELECT "rowid", "*", """", "$1" FROM opportunities LIMIT 1', session, 10)
    assert typed.to_pylist() == [{"rowid": "0-0", "*": "1-0", '"': "2-0", "$1": "4-0"}]


def test_a_stray_nul_in_a_cell_is_left_out_and_the_file_loads():
    early = csv_bytes([HEADER, ["Ana Ruiz", "Prosp\x00ecting", "1000", "12/15/2026"]])
    loaded = load_opportunities(early, "nul.csv")
    assert (loaded.report.rows_loaded, loaded.report.rejected) == (1, {})
    assert owners_and_stages(loaded) == [("Ana Ruiz", "Prospecting")]


def test_a_stray_nul_past_the_first_kilobytes_is_left_out_too():
    rows = [["Ben Ode", "Prospecting", str(n), "12/15/2026"] for n in range(200)]
    late = csv_bytes([HEADER, *rows, ["Jos\x00é Núñez", "Prosp\x00ecting", "7", "12/15/2026"]])
    loaded = load_opportunities(late.decode().encode("cp1252"), "nul.csv")
    assert (loaded.report.rows_loaded, loaded.report.encoding) == (201, "Windows-1252")
    assert owners_and_stages(loaded)[-1] == ("José Núñez", "Prospecting")
    assert [rule.stage for rule in loaded.report.stage_rules] == ["Prospecting"]


def refusal(data: bytes, filename: str) -> str:
    with pytest.raises(LoadError) as error:
        load_opportunities(data, filename)
    return str(error.value)


def test_a_database_dump_without_a_header_row_is_told_to_add_one():
    dump = b"1\tAna Ruiz\tProspecting\t1000.00\t2026-11-20\t\\N\n2\tBen Ode\tClosed Won\t\\N\t2026-10-01\tX\n"
    assert refusal(dump, "deals.tsv") == (
        "The first row of deals.tsv looks like data, not column names (1, Ana Ruiz, "
        "Prospecting, 1000.00, 2026-11-20, \\N): a database dump, or an export saved without its "
        "header row. Add a first line naming the columns, such as Opportunity Owner, Stage, "
        "Amount, Close Date, or export the deals again with their column names."
    )


@pytest.mark.parametrize(
    "first_row",
    [
        'Ana Ruiz,ana@example.com,Prospecting,"$12,345.00",11/20/2026',
        "0065g00000AbCdEAAV,Ana Ruiz,Prospecting,12345",
        "Ana Ruiz;Prospecting;13884,00;20.11.2026 09:30",
    ],
)
def test_an_export_saved_without_its_header_row_is_told_to_add_one(first_row):
    message = refusal(f"{first_row}\n{first_row}\n".encode(), "deals.csv")
    assert message.startswith("The first row of deals.csv looks like data, not column names (")


@pytest.mark.parametrize(
    "header",
    [
        "Amount,Close Date,Stage",
        "Opportunity Owner,2025,2026",
        "Record ID,Deal Name,Amount",
        "Rep,Q1 2026,Q2 2026,Total",
    ],
)
def test_a_header_row_missing_a_field_is_never_taken_for_data(header):
    row = ",".join("1" for _ in header.split(","))
    message = refusal(f"{header}\n{row}\n".encode(), "deals.csv")
    assert message.startswith("deals.csv has no column for the")
