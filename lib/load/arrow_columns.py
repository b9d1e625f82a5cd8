"""The deals' columns in Arrow: picklists encoded, raw cells lined up with the deals, copies."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lib.load.files import RawTable
from lib.load.values import clean_as_is

# Fields whose values repeat from a short list (a CRM's users, teams and picklists) and that the
# figures filter and group by: the deals hold each value once and refer to it (Arrow dictionary
# encoding). DuckDB then filters and groups by the few values: at a million deals the QBR's
# figures took 0.26 s instead of 0.37 s. Forecast category and currency gained nothing measurable.
PICKLIST_FIELDS = ("owner", "stage", "status", "lead_source", "type", "team", "manager")


def dictionary_encoded(cells: pa.ChunkedArray) -> pa.ChunkedArray:
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


def dictionary(encoded: pa.ChunkedArray) -> pa.Array:
    """An encoded column's distinct cells, in the order the column's indices refer to them."""
    if encoded.num_chunks:
        return encoded.chunks[0].dictionary
    return pa.array([], type=encoded.type.value_type)


def side_by_side(columns: dict[str, pa.Array]) -> pa.Table:
    """Columns of different lengths as one table numbered by position, the shorter ones padded
    with NULLs after their own cells (a table with only the position when there are none)."""
    longest = max((len(cells) for cells in columns.values()), default=0)
    padded = {key: pa.concat_arrays([cells, pa.nulls(longest - len(cells), cells.type)])
              for key, cells in columns.items()}  # fmt: skip
    return pa.table({"position": np.arange(longest), **padded})


def looked_up(encoded: pa.ChunkedArray, values: pa.Array) -> pa.ChunkedArray:
    """Each row's value: the value at its cell's place among the encoded column's distinct cells
    (NULL for a NULL cell)."""
    return pa.chunked_array(
        [pc.take(values, chunk.indices) for chunk in encoded.chunks], type=values.type
    )


def clean_as_read(columns: dict[str, pa.ChunkedArray]) -> dict[str, pa.ChunkedArray]:
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


def encode_picklists(deals: pa.Table, keys: tuple[str, ...] = PICKLIST_FIELDS) -> pa.Table:
    """The deals with these picklist columns dictionary-encoded (see PICKLIST_FIELDS), those
    that are not already; a table without one of them is left without it."""
    for key in keys:
        position = deals.schema.get_field_index(key)
        if position >= 0 and not pa.types.is_dictionary(deals.schema.field(position).type):
            deals = deals.set_column(position, key, pc.dictionary_encode(deals[key]))
    return deals


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


def in_memory_of_their_own(deals: pa.Table, keys: tuple[str, ...]) -> pa.Table:
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
