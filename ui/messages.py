"""Error messages as a page says them: no server folder, no setting only an administrator has."""

from __future__ import annotations

import streamlit as st

from lib.format import markdown_text
from lib.store import StoreError


def error_text(error: Exception) -> str:
    """The error's message as inert Markdown; a snapshot store's file named without its folder
    and without the command line's advice (the CLI says the whole path and the advice)."""
    if not isinstance(error, StoreError):
        return markdown_text(error)
    message = error.message
    if error.path is not None:
        message = message.replace(str(error.path), error.path.name)
    return markdown_text(message)


def show_error(error: Exception) -> None:
    st.error(error_text(error), icon=":material/error:")
