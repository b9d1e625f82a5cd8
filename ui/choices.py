"""What a session chose on the Data page (column mappings, stage edits, exchange rates), kept
per set of headers: next week's export with the same columns gets them again."""

from __future__ import annotations

import hashlib

import streamlit as st


def headers_key(headers: tuple[str, ...]) -> str:
    """Mappings and stage edits are remembered per set of headers: next week's export with the
    same columns gets them again."""
    return hashlib.sha256("\x1f".join(headers).encode()).hexdigest()[:16]


def remembered(kind: str) -> dict:
    """Per-session memory of mappings and stage edits, keyed by the export's headers."""
    return st.session_state.setdefault(kind, {})
