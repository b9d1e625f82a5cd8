"""Lines shown above every page when what it shows needs a word of warning."""

from __future__ import annotations

import streamlit as st

from lib.overview import owners_shown_as_user_ids
from ui.session import current


def user_id_owners_notice() -> None:
    """Owners shown as CRM user IDs (0058a00000MNWtFAAX): say so, and what gives them names."""
    data = current()
    if data is None:
        return
    count = owners_shown_as_user_ids(data.connection())
    if not count:
        return
    reps = f"{count} rep{'' if count == 1 else 's'} show{'s' if count == 1 else ''}"
    st.info(
        f"{reps} as a CRM user ID (such as 0058a00000MNWtFAAX): the export holds user IDs, "
        "not names. Salesforce's User.csv with it (or the whole Data Export ZIP), or a reps "
        "file with Id and Name columns, gives them their names.",
        icon=":material/badge:",
    )


def currencies_notice() -> None:
    """Which currency the amounts are in and at what rates; and, first, the deals no amount
    counts because their currency has no rate into it."""
    data = current()
    if data is None or len(data.export.report.currencies) < 2:
        return
    currency, left_out = data.currency, data.currencies_left_out
    if left_out:
        deals = data.deals_left_out()
        st.warning(
            f"Every amount counts only the deals in {', '.join(sorted(set(data.rates or {})))}"
            f": {deals:,} deal{'' if deals == 1 else 's'} in {', '.join(left_out)} "
            f"{'has' if deals == 1 else 'have'} no rate into {currency} and "
            f"{'is' if deals == 1 else 'are'} left out. Give rates on the Data page (What did "
            "we load? → Currencies), or upload a rates file there.",
            icon=":material/currency_exchange:",
        )
    elif data.converted_amounts:
        st.caption(f"Amounts in {currency}, as the CRM converted them.")
    elif data.rates:
        rates = ", ".join(
            f"1 {code} = {rate:.4g} {currency}"
            for code, rate in sorted(data.rates.items())
            if code != currency
        )
        st.caption(f"Amounts in {currency}, at these rates: {rates}.")
