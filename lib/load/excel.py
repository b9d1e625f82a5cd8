"""A workbook's sheets read in a process of their own, under a memory limit, so that a few bytes
asking for a huge grid cost that process and never the server: `python -m lib.load.excel FD`,
started by lib.load.files, which talks to it over the connection FD."""

from __future__ import annotations

import io
import re
import resource
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time
from multiprocessing.connection import Connection

import pyarrow as pa
from python_calamine import CalamineError, CalamineWorkbook

from lib.load.files import MAX_COLUMNS, column_name, unique_headers

# python-calamine builds a sheet as a full grid from its first to its last filled cell, about
# 40 bytes a cell with the rows handed to Python: a million deals of 30 fields is 30 million.
MAX_SHEET_CELLS = 50_000_000
XML_CHUNK_BYTES = 1 << 22
# A cell holding a value: a <v> with text, or an inline string with text, after any formula.
# A cell that is only formatted (<c r="XFD1048576" s="1"/>) holds none; python-calamine skips it.
PREFIX = rb"(?:[\w.-]+:)?"
VALUE_CELL = re.compile(
    rb"<" + PREFIX + rb'c r="([A-Z]{1,3})([0-9]{1,7})"[^>]*>'
    rb"(?:<" + PREFIX + rb"f\b[^>]*?(?:/>|>[^<]*</" + PREFIX + rb"f>))?"
    rb"<" + PREFIX + rb"(?:v>[^<]|is><" + PREFIX + rb"t\b[^>]*>[^<])"
)
SHEET = re.compile(rb"<" + PREFIX + rb"sheet\b[^>]*>")
RELATIONSHIP = re.compile(rb"<" + PREFIX + rb"Relationship\b[^>]*>")


def attribute(element: bytes, name: str) -> str | None:
    found = re.search(rb"\s" + PREFIX + name.encode() + rb'="([^"]*)"', element)
    return found[1].decode("utf-8", errors="replace") if found else None


@dataclass(frozen=True)
class Extent:
    """How far a sheet's filled cells reach: its last column and row, as Excel names them."""

    last_column: str
    last_row: int
    filled_cells: int

    @property
    def columns(self) -> int:
        number = 0
        for letter in self.last_column:
            number = number * 26 + ord(letter) - 64
        return number

    @property
    def last_cell(self) -> str:
        return f"{self.last_column}{self.last_row}"

    @property
    def grid_cells(self) -> int:
        return self.columns * self.last_row


def sheet_parts(archive: zipfile.ZipFile) -> dict[str, str]:
    """Each sheet's name -> the part holding its cells, from the workbook and its relationships."""
    try:
        workbook = archive.read("xl/workbook.xml")
        relationships = archive.read("xl/_rels/workbook.xml.rels")
    except KeyError:
        return {}
    targets = {
        attribute(element, "Id"): (attribute(element, "Target") or "")
        for element in RELATIONSHIP.findall(relationships)
    }
    parts = {}
    for element in SHEET.findall(workbook):
        target = targets.get(attribute(element, "id"), "")
        parts[attribute(element, "name")] = (
            target.lstrip("/") if target.startswith("/") else f"xl/{target}"
        )
    return parts


def extent(archive: zipfile.ZipFile, part: str) -> Extent | None:
    """The filled cells' extent, read as the part inflates: nothing of the grid is built."""
    columns: set[bytes] = set()
    last_row = filled = 0
    tail = b""
    try:
        with archive.open(part) as cells:
            while chunk := cells.read(XML_CHUNK_BYTES):
                text = tail + chunk
                # A cell cut by the chunk's end is read whole with the next chunk.
                cut = max(text.rfind(b"</"), 0)
                found = VALUE_CELL.findall(text, 0, cut)
                tail = text[cut:]
                filled += len(found)
                columns.update(column for column, _ in found)
                last_row = max(last_row, *(int(row) for _, row in found), 0)
    except (KeyError, zipfile.BadZipFile, OSError, EOFError):
        return None  # python-calamine says what is wrong with the part, in its own words
    if not filled:
        return None
    return Extent(max(columns, key=lambda name: (len(name), name)).decode(), last_row, filled)


def too_large(sheet_extent: Extent | None) -> bool:
    return sheet_extent is not None and (
        sheet_extent.columns > MAX_COLUMNS or sheet_extent.grid_cells > MAX_SHEET_CELLS
    )


def cell_text(value: object) -> str | None:
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e15 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value)


def filled(row: list[object]) -> int:
    return len(row) - row.count(None) - row.count("")


def column_of_text(cells: tuple[object, ...]) -> pa.Array:
    """One column's cells as text. A column of text only is handed to Arrow as it is, which
    took a third of the time of reading each cell at 100,000 deals."""
    if all(cell is None or type(cell) is str for cell in cells):
        return pa.array([cell or None for cell in cells], type=pa.string())
    return pa.array([cell_text(cell) for cell in cells], type=pa.string())


def as_table(
    rows: list[list[object]], header_at: int
) -> tuple[tuple[str, ...], list[str | None], bytes]:
    """The header row's names, its cells as text as a data row's cells are read (for the loader
    to find the header row again below it), and the data rows below it, as Arrow IPC bytes."""
    headers = unique_headers(rows[header_at])
    width = len(headers)
    body = [
        row[:width] + [None] * (width - len(row)) for row in rows[header_at + 1 :] if filled(row)
    ]
    columns = list(zip(*body, strict=True)) if body else [()] * width
    table = pa.table({column_name(i): column_of_text(columns[i]) for i in range(width)})
    sink = pa.BufferOutputStream()
    with pa.ipc.new_stream(sink, table.schema) as stream:
        stream.write_table(table)
    return headers, [cell_text(cell) for cell in rows[header_at]], sink.getvalue().to_pybytes()


def sheets(data: bytes) -> Iterator[tuple[str, Extent | None, list[list[object]] | None]]:
    """Each sheet's name, the extent of its filled cells, and its rows unless it is too large."""
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        parts = sheet_parts(archive)
        workbook = CalamineWorkbook.from_filelike(io.BytesIO(data))
        for name in workbook.sheet_names:
            sheet_extent = extent(archive, parts[name]) if name in parts else None
            if too_large(sheet_extent):
                yield name, sheet_extent, None
            else:
                yield name, sheet_extent, workbook.get_sheet_by_name(name).to_python()


def serve(parent: Connection) -> None:
    """Answers the server: each sheet with a header row is offered by its names, and the first
    sheet taken, or else the first offered, is sent as a table."""
    fallback = None
    try:
        for name, sheet_extent, rows in sheets(parent.recv_bytes()):
            if rows is None:
                parent.send(("too large", name, sheet_extent.last_cell, sheet_extent.columns))
                return
            header_at = next((i for i, row in enumerate(rows) if filled(row) >= 2), None)
            if header_at is None:
                continue
            parent.send(("sheet", name, unique_headers(rows[header_at])))
            if parent.recv():
                parent.send(("table", name, *as_table(rows, header_at)))
                return
            fallback = fallback or (name, rows, header_at)
    except (CalamineError, ValueError, OSError, zipfile.BadZipFile) as error:
        parent.send(("damaged", str(error)))
        return
    if fallback:
        name, rows, header_at = fallback
        parent.send(("table", name, *as_table(rows, header_at)))
    else:
        parent.send(("none",))


def main() -> None:
    memory_bytes = int(sys.argv[2])
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    with Connection(int(sys.argv[1])) as parent:
        try:
            serve(parent)
        except MemoryError:
            parent.send(("memory",))


if __name__ == "__main__":
    main()
