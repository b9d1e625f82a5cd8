"""Currencies: the one figures are shown in, the rates into it, and what a figure leaves out.

Two conventions meet here. A rates file (and Salesforce's CurrencyType) gives, for each
currency, how many units of it make one unit of the display currency ("EUR, 0.92": 1 USD buys
0.92 EUR). The session's rates turn one unit of a deal's currency into the display currency
(EUR -> 1.087), which is what a figure multiplies an amount by.
"""

from __future__ import annotations

import csv
import io
import re

import pyarrow as pa
import pyarrow.compute as pc

from lib.load.errors import LoadError

CODE = re.compile(r"[A-Z]{3}")


def read_rates_file(data: bytes, filename: str) -> dict[str, float]:
    """A rates file's rows, `currency, rate` (a header row optional), as units of each currency
    per one unit of the display currency, the one whose rate is 1; LoadError when unreadable."""
    text = data.decode("utf-8-sig", errors="replace")
    delimiter = ";" if text.count(";") > text.count(",") else ","
    per_display: dict[str, float] = {}
    for number, row in enumerate(csv.reader(io.StringIO(text), delimiter=delimiter), start=1):
        cells = [cell.strip() for cell in row if cell.strip()]
        if not cells:
            continue
        code = cells[0].upper()
        if number == 1 and not CODE.fullmatch(code):
            continue  # a header row: currency, rate
        rate = _rate(cells[1] if len(cells) > 1 else "")
        if not CODE.fullmatch(code) or rate is None:
            raise LoadError(
                f"Line {number} of {filename} is not a currency and a rate: "
                f"{', '.join(cells) or 'blank'}. Expected a line like EUR, 0.92 (units of that "
                "currency per 1 unit of the currency figures are shown in, whose rate is 1)."
            )
        per_display[code] = rate
    if not per_display:
        raise LoadError(
            f"{filename} holds no rates. Expected lines like USD, 1 and EUR, 0.92: units of "
            "each currency per 1 unit of the currency figures are shown in."
        )
    return per_display


def _rate(text: str) -> float | None:
    try:
        rate = float(text.replace(",", "."))
    except ValueError:
        return None
    return rate if rate > 0 else None


def into_display(per_display: dict[str, float]) -> dict[str, float]:
    """Units of the display currency that one unit of each currency makes: the session's
    rates, from rates given as units per one display unit."""
    return {code: 1 / rate for code, rate in per_display.items()}


def display_of(rates: dict[str, float]) -> str | None:
    """The currency the rates convert into: the one whose rate is 1 (None when none is)."""
    return next((code for code, rate in rates.items() if rate == 1), None)


def rescaled(rates: dict[str, float], display: str) -> dict[str, float]:
    """The same rates into another display currency, one of theirs; LoadError when the rates
    do not say what that currency is worth."""
    if display not in rates:
        raise LoadError(
            f"No rate for {display}, so figures cannot be shown in it: give its rate, or pick "
            f"one of {', '.join(sorted(rates))}."
        )
    return {code: rate / rates[display] for code, rate in rates.items()}


def without_rate(currencies: tuple[str, ...], rates: dict[str, float] | None) -> tuple[str, ...]:
    """The currencies of the deals that no rate converts, in the order given: their deals are
    left out of every total."""
    if not rates or len(currencies) < 2:
        return ()
    return tuple(code for code in currencies if code not in rates)


def converted(deals: pa.Table, rates: dict[str, float], currency: str) -> pa.Table:
    """The deals with their amounts in `currency` at `rates`, as the figures count them: a deal
    in a currency without a rate keeps its currency and has no amount (in no total)."""
    rate = pc.take(
        pa.array(list(rates.values()), pa.float64()),
        pc.index_in(deals["currency"], value_set=pa.array(list(rates), pa.string())),
    )
    amount = pc.cast(deals["amount"], pa.float64())
    in_currency = pc.if_else(
        pc.is_null(deals["currency"]), amount, pc.round(pc.multiply(amount, rate), 2)
    )
    rated = pc.or_(pc.is_null(deals["currency"]), pc.is_valid(rate))
    return deals.set_column(
        deals.schema.get_field_index("amount"),
        deals.schema.field("amount"),
        pc.cast(in_currency, deals.schema.field("amount").type),
    ).set_column(
        deals.schema.get_field_index("currency"),
        "currency",
        pc.if_else(rated, pa.scalar(currency), deals["currency"]),
    )
