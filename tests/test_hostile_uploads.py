"""Uploads made to exhaust the server: a workbook declaring a cell at XFD1048576, a CSV line of
100,000 fields. Each is refused with a plain message or loaded within bounds, and the process
that read it lives on (were it killed, pytest would die with it)."""

from __future__ import annotations

import io
import zipfile

import pytest

from lib.load.errors import LoadError
from lib.load.files import read_table
from tests.test_bad_input import make_corpus

HEADER = ("Opportunity Owner", "Stage", "Amount", "Close Date")
DEAL = ("Ana Ruiz", "Prospecting", 1000, "2026-11-20")


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
