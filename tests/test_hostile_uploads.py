"""Uploads made to exhaust the server: a workbook declaring a cell at XFD1048576, a CSV line of
100,000 fields. Each is refused with a plain message or loaded within bounds, and the process
that read it lives on (were it killed, pytest would die with it)."""

from __future__ import annotations

import io
import multiprocessing
import resource
import zipfile

import pytest

from lib.load.errors import LoadError
from lib.load.files import FEWER_FIELDS, MORE_FIELDS, MalformedRow, read_table
from tests.test_bad_input import make_corpus

HEADER = ("Opportunity Owner", "Stage", "Amount", "Close Date")
DEAL = ("Ana Ruiz", "Prospecting", 1000, "2026-11-20")
CSV_HEADER = ",".join(HEADER).encode() + b"\n"
MB = 1_000_000


def workbook_with_far_cell(far_cell: str, filled: bool) -> bytes:
    """A two-row sheet of deals and one more cell far away: filled with a value, or only
    formatted (as when someone formats a whole column or clicks XFD1048576)."""
    rows = make_corpus.sheet_xml([list(HEADER), list(DEAL)])
    far_row = far_cell.lstrip("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
    cell = f'<c r="{far_cell}"><v>1</v></c>' if filled else f'<c r="{far_cell}" s="1"/>'
    sheet = rows.replace("<sheetData>", f'<dimension ref="A1:{far_cell}"/><sheetData>').replace(
        "</sheetData>", f'<row r="{far_row}">{cell}</row></sheetData>'
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, xml in make_corpus.workbook_parts({"Deals": sheet}).items():
            archive.writestr(name, xml)
    return buffer.getvalue()


@pytest.mark.parametrize("far_cell", ["XFD1048576", "BXX30000"])
def test_a_workbook_with_a_value_in_a_far_cell_is_refused_naming_the_cell(far_cell):
    with pytest.raises(LoadError) as refusal:
        read_table(workbook_with_far_cell(far_cell, filled=True), "deals.xlsx")
    message = str(refusal.value)
    assert f"cells up to {far_cell}" in message
    assert "far more than any export of deals; it was not opened" in message
    assert "Traceback" not in message


def test_the_refusal_says_how_large_the_grid_would_be():
    with pytest.raises(LoadError, match=r"\(16,384 columns × 1,048,576 rows\)"):
        read_table(workbook_with_far_cell("XFD1048576", filled=True), "deals.xlsx")


@pytest.mark.parametrize("far_cell", ["XFD1048576", "BXX30000"])
def test_a_workbook_whose_far_cell_is_only_formatted_loads_its_deals(far_cell):
    raw = read_table(workbook_with_far_cell(far_cell, filled=False), "deals.xlsx")
    assert raw.headers == HEADER
    assert raw.table.to_pylist() == [
        {"c0": "Ana Ruiz", "c1": "Prospecting", "c2": "1000", "c3": "2026-11-20"}
    ]


def test_a_workbook_too_large_for_the_sheet_scan_to_see_is_stopped_by_its_memory_limit():
    # An empty inline string is no value to the scan of the sheet, but python-calamine builds
    # its grid to it: the process reading the workbook runs out of memory, not the server.
    workbook = workbook_with_far_cell("XFD1048576", filled=True)
    with zipfile.ZipFile(io.BytesIO(workbook)) as original:
        parts = {name: original.read(name) for name in original.namelist()}
    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = (
        parts[sheet]
        .replace(b"<v>1</v></c>", b"<is><t></t></is></c>")
        .replace(b'r="XFD1048576"', b'r="XFD1048576" t="inlineStr"')
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in parts.items():
            archive.writestr(name, content)
    with pytest.raises(LoadError, match="needs more memory than Closeboard gives one workbook"):
        read_table(buffer.getvalue(), "deals.xlsx")


def peak_memory_of_reading(data: bytes, filename: str, answer) -> None:
    """Reads the file in a process of its own, and sends back how far reading it raised the
    process's peak memory (over what its libraries already took) and the outcome."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    try:
        raw = read_table(data, filename)
        outcome = ("loaded", raw.table.num_rows, raw.rows_read)
    except LoadError as error:
        outcome = ("refused", str(error))
    answer.send(((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024, outcome))


def read_in_child(data: bytes, filename: str) -> tuple[int, tuple]:
    context = multiprocessing.get_context("spawn")
    ours, theirs = context.Pipe()
    child = context.Process(target=peak_memory_of_reading, args=(data, filename, theirs))
    child.start()
    peak, outcome = ours.recv()
    child.join()
    return peak, outcome


def memory_bound(data: bytes) -> int:
    """What a load may add to the process's peak: a few times the file, and a fixed allowance
    for DuckDB's and Arrow's buffers."""
    return 3 * len(data) + 300 * MB


def test_a_line_of_100000_fields_costs_only_its_own_row_and_little_memory():
    data = CSV_HEADER + b"Ana Ruiz,Prospecting,1000,2026-11-20\n" + b",".join([b"x"] * 100_000)
    peak, outcome = read_in_child(data + b"\n", "deals.csv")
    assert outcome == ("loaded", 1, 2)
    assert peak < memory_bound(data)


def test_a_file_of_one_line_of_millions_of_fields_is_refused_with_little_memory():
    data = CSV_HEADER + b"ab," * (20 * MB // 3)
    peak, (kind, message) = read_in_child(data, "deals.csv")
    assert kind == "refused"
    assert "No line of deals.csv has the 4 columns its first line names" in message
    assert "line 2 has at least 3,334 fields" in message
    assert peak < memory_bound(data)


def test_a_million_ragged_lines_are_counted_by_reason_with_little_memory():
    # DuckDB kept a row for each field too many: 20 MB of such lines took 6.6 GB.
    data = CSV_HEADER + b"a,b,c,d\na,b,c,d,e,f,g,h,i,j,k,l\n" * 500_000
    peak, outcome = read_in_child(data, "deals.csv")
    assert outcome == ("loaded", 500_000, 1_000_000)
    assert peak < memory_bound(data)


def test_many_ragged_lines_are_listed_first_then_counted_by_reason():
    data = CSV_HEADER + b"a,b,c,d\na,b,c,d,e,f,g,h,i,j,k,l\na,b\n" * 20_000
    raw = read_table(data, "deals.csv")
    assert raw.table.num_rows == 20_000
    assert len(raw.malformed) == 1_000
    assert raw.malformed[:3] == (
        MalformedRow(3, MORE_FIELDS, "a,b,c,d,e,f,g,h,i,j,k,l"),
        MalformedRow(4, FEWER_FIELDS, "a,b"),
        MalformedRow(6, MORE_FIELDS, "a,b,c,d,e,f,g,h,i,j,k,l"),
    )
    assert dict(raw.more_malformed) == {FEWER_FIELDS: 19_500, MORE_FIELDS: 19_500}
    assert raw.rows_read == 60_000
