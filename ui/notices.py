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
