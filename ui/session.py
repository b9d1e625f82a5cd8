"""This browser session's Closeboard session (lib/session.py), assembled on each run of the script
from what the sidebar loaded, with its two costly steps remembered across runs."""

from __future__ import annotations

import json
from collections.abc import Callable, Hashable
from datetime import date
from typing import TypeVar

import pyarrow as pa
import streamlit as st

from lib import stores
from lib.format import markdown_text
from lib.load.errors import LoadError
from lib.load.opportunities import LoadedExport
from lib.load.reps import LoadedReps
from lib.load.targets import LoadedTargets
from lib.session import (
    ResolvedDeals,
    Session,
    StageHistory,
    assemble,
    count_pushes,
    resolve,
    stage_history,
)
from lib.settings import Settings
from ui.choices import headers_key, remembered

T = TypeVar("T")


def assemble_session(
    export: LoadedExport,
    settings: Settings,
    targets: LoadedTargets | None,
    reps: LoadedReps | None,
    source: str,
) -> Session:
    """The session of what the sidebar loaded, with the rates typed on the Data page and the
    snapshots of this session's workspace; kept for the pages to read (current)."""
    key = headers_key(export.report.headers)
    options = {
        "targets": targets,
        "reps": reps,
        "entered_rates": remembered("rates").get(key),
        "store": workspace_store(),
        "source": source,
        "resolve": _resolve_once,
        "count_pushes": _count_pushes_once,
        "stage_history": _stage_history_once,
    }
    chosen = remembered("display_currency").get(key)
    try:
        session = assemble(export, settings, currency=chosen, **options)
    except LoadError as error:
        # The rates given cannot reach the currency chosen: shown in the rates' own, and said.
        st.warning(markdown_text(error), icon=":material/currency_exchange:")
        session = assemble(export, settings, **options)
    st.session_state.session_data = session
    return session


def forget_session() -> None:
    """Nothing is loaded: the pages say where to load data."""
    st.session_state.session_data = None


def current() -> Session | None:
    """What the sidebar loaded for this session, or None when nothing is loaded yet."""
    return st.session_state.get("session_data")


def loaded_or_stop() -> Session:
    """This session's data; without any, the page says where to load it and stops there."""
    data = current()
    if data is None:
        st.info(
            "Load an opportunities export in the sidebar, or switch to the sample data.",
            icon=":material/upload_file:",
        )
        st.stop()
    return data


def as_of_caption(data: Session) -> str:
    # The source is the uploaded file's name: whatever its sender called it, shown as typed.
    return f"As of {data.settings.as_of:%a %d %b %Y} · {markdown_text(data.source)}"


def workspace_store() -> stores.WorkspaceStore:
    """The snapshot store of this session's workspace (ui/workspace.py opens it)."""
    active = st.session_state.get("active_workspace")
    return active.store if active is not None else stores.backend().workspace(stores.LOCAL)


def _resolve_once(
    export: LoadedExport, reps: LoadedReps | None, rates: dict[str, float] | None
) -> ResolvedDeals:
    """lib.session.resolve, once per export, reps and rates: at a million deals it takes a
    third of a second that no run of a page should pay again."""
    rates_json = json.dumps(rates, sort_keys=True)
    *_, resolved = _resolved(id(export), id(reps), rates_json, export, reps, rates)
    return resolved


# Keyed by the loaded objects themselves: they come from the caches of ui/uploads.py, shared by
# every session that loaded the same files. Each entry keeps its export and reps, so that while
# it is cached no other object can take their ids.
@st.cache_resource(max_entries=4, show_spinner=False)
def _resolved(export_id: int, reps_id: int, rates_json: str, _export, _reps, _rates):
    return _export, _reps, resolve(_export, _reps, _rates)


def _count_pushes_once(
    export: LoadedExport, as_of: date, store: stores.WorkspaceStore | None
) -> pa.Table:
    """lib.session.count_pushes, counted again only when the export, the date or the store (a
    save or delete by any session, of any process) changes."""
    return kept_until_changed(
        "push_counts",
        export,
        (as_of, store_state(store)),
        lambda: count_pushes(export, as_of, store),
    )


def _stage_history_once(
    export: LoadedExport,
    settings: Settings,
    history: pa.Table | None,
    store: stores.WorkspaceStore | None,
) -> StageHistory:
    """lib.session.stage_history, worked out again only when the export, the settings or the
    store (a save or delete by any session, of any process) change: it reads every saved
    snapshot."""
    return kept_until_changed(
        "stage_history",
        export,
        (settings, store_state(store)),
        lambda: stage_history(export, settings, history, store),
    )


def store_state(store: stores.WorkspaceStore | None) -> Hashable:
    """Which store, and a value that changes with every save or delete in it (any process's)."""
    return (store, store.revision()) if store is not None else None


def kept_until_changed(name: str, owner: object, key: Hashable, work: Callable[[], T]) -> T:
    """work(), kept in this browser session under `name` and done again only when `owner` (an
    immutable loaded object, compared by identity) or `key` changes: for steps that take
    seconds and that a click elsewhere on the page should not pay again."""
    cached = st.session_state.get(name)
    if cached is not None and cached[0] is owner and cached[1] == key:
        return cached[2]
    result = work()
    st.session_state[name] = (owner, key, result)
    return result
