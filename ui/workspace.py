"""Streamlit glue for sign-in and workspaces: who is signed in, which workspace they are in, and
what it brings back (the last data loaded, saved choices) and keeps (uploads, choices, audit)."""

from __future__ import annotations

import getpass
import importlib.util
import json
import logging
import os
from dataclasses import dataclass

import duckdb
import streamlit as st

from lib import store, stores, workspaces
from lib.format import markdown_text
from lib.pipeline_warnings import WARNING_THRESHOLDS
from lib.workspaces import StoredFile, Workspace
from ui.messages import error_text, show_error
from ui.uploads import Upload, upload_of_files

LOG = logging.getLogger(__name__)
# What reading or writing a workspace can raise: the store's own messages, and DuckDB's when two
# sessions of one workspace write the same row at the same moment.
WORKSPACE_ERRORS = (store.StoreError, duckdb.Error)
QUERY_PARAMETER = "workspace"
MY_UPLOADS = "My uploads"
# What a workspace remembers of the session besides its data: the Data page's choices (kept by
# the export's headers) and the sidebar's settings, by their widget keys.
REMEMBERED = ("mappings", "stage_edits", "rates", "display_currency")
SETTINGS_KEYS = (
    "fiscal_start",
    "fiscal_named_by_end",
    "holidays",
    "stale_after_days",
    "follow_through_weeks",
    "coverage_from_win_rate",
    *(field for field, _, _ in WARNING_THRESHOLDS),
)


@dataclass(frozen=True)
class Active:
    """Who is signed in (how), the workspace they are in, its store (a file, or its rows in a
    shared database), and the others they may open; `refused` says why the workspace they asked
    for is not the one they got."""

    user: str
    mode: str
    workspace: Workspace
    store: stores.WorkspaceStore
    choices: tuple[Workspace, ...]
    refused: str | None = None


def signed_in_or_stop() -> Active:
    """The signed-in user's workspace; until someone is signed in, the sign-in screen only.

    Reads no widget, so it may run before st.navigation; the screens it shows instead of the app
    are pages of their own navigation, and the app stops there.
    """
    try:
        backend = stores.backend()
        backend.claim()
        teams = workspaces.configured_teams()
    except (workspaces.WorkspaceError, store.StoreError) as error:
        message = error_text(error)  # a store's message without the command line's advice
        _only(lambda: st.error(message, icon=":material/lock:"), "Closeboard")
    mode = workspaces.identity_mode(os.environ, _login_configured())
    if mode == "local":
        return Active(
            _local_user(),
            mode,
            workspaces.LOCAL,
            backend.workspace(workspaces.LOCAL),
            (workspaces.LOCAL,),
        )
    if mode == "header":
        header = os.environ[workspaces.HEADER_VARIABLE]
        headers = st.context.headers
        pairs = [(name, value) for name in headers for value in headers.get_all(name)]
        email = workspaces.user_from_headers(pairs, header)
        if email is None:
            _only(_sign_in_required, "Sign-in required")
    else:
        email = _login_email()
    # The address names the team workspace (a reload or a bookmark opens it again); moving to
    # another page clears the address's query, so the session remembers it too. Either way it
    # is only a request: membership is checked on every run. The session's choice is kept with
    # the user it was made by: after a sign-out another may sign in.
    session_user, session_team = st.session_state.get("workspace_team", (None, None))
    requested = st.query_params.get(QUERY_PARAMETER) or (
        session_team if session_user == email else None
    )
    workspace, refused = workspaces.chosen_workspace(email, teams, requested)
    st.session_state.workspace_team = (email, workspace.team)
    if workspace.team is None:
        st.query_params.pop(QUERY_PARAMETER, None)
    elif st.query_params.get(QUERY_PARAMETER) != workspace.team:
        st.query_params[QUERY_PARAMETER] = workspace.team
    return Active(
        email,
        mode,
        workspace,
        backend.workspace(workspace),
        tuple(workspaces.workspaces_of(email, teams)),
        refused,
    )


def _local_user() -> str:
    """Who saved what on this computer, for the audit list: the login name when there is one."""
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "this computer"


def _login_configured() -> bool:
    """An identity provider is configured for st.login: `[auth]` in .streamlit/secrets.toml."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:
        return False


def _login_email() -> str:
    if not st.user.is_logged_in:
        _only(_sign_in_screen, "Sign in")
    # A provider that says it has not verified the address may have let anyone type it.
    verified = st.user.get("email_verified")
    if verified is False:
        _only(_refused_screen(UNVERIFIED_EMAIL), "Sign in")
    email = workspaces.normal_email(st.user.get("email"), verified=verified is True)
    if email is None:
        _only(_refused_screen(NO_EMAIL), "Sign in")
    return email


def _only(screen, title: str) -> None:
    """Shows `screen` as the app's only page (no navigation to the others), and stops."""
    st.navigation([st.Page(screen, title=title, url_path="sign-in")], position="hidden").run()
    st.stop()


def _sign_in_screen() -> None:
    st.title("Closeboard")
    # st.login needs Authlib (and httpx), which Closeboard does not install by itself.
    if importlib.util.find_spec("authlib") is None or importlib.util.find_spec("httpx") is None:
        st.error(
            "Sign-in is configured ([auth] in .streamlit/secrets.toml) but this server cannot "
            'sign anyone in: it needs Authlib and httpx (pip install "streamlit[auth]"). '
            "Ask your administrator.",
            icon=":material/error:",
        )
        return
    st.write("Sign in with your company account to open your workspace.")
    st.button("Sign in", icon=":material/login:", type="primary", on_click=st.login)


NO_EMAIL = (
    "Your company's sign-in did not say your e-mail address, which Closeboard needs to open your "
    "workspace. Ask your administrator to add the email scope."
)
UNVERIFIED_EMAIL = (
    "Your company's sign-in says it has not verified your e-mail address, so Closeboard cannot "
    "open a workspace by it. Verify the address with your identity provider, or ask your "
    "administrator."
)


def _refused_screen(message: str):
    """A screen for someone the provider signed in but Closeboard cannot: why, and a way out."""

    def screen() -> None:
        st.title("Closeboard")
        st.error(message, icon=":material/error:")
        st.button("Sign out", on_click=st.logout)

    return screen


def _sign_in_required() -> None:
    st.title("Closeboard")
    st.error(
        "Sign-in required. Open Closeboard through your company's sign-in page.",
        icon=":material/lock:",
    )


def remembers_sessions(active: Active) -> bool:
    """Whether the workspace brings a session's last files and sidebar settings back after a
    reload: only when someone is signed in. Without sign-in every browser that reaches the app is
    the same "user": one person's upload must never open in another person's browser, nor the
    fiscal year a Data Export set change the sample data for the next visitor."""
    return active.mode != "local"


def open_workspace(active: Active) -> None:
    """Once per session and workspace: its saved choices and last data into the session (the
    data source set to the uploads when it has any), then the sidebar's workspace lines."""
    state = st.session_state
    if state.get("workspace_key") != active.workspace.key:
        if "workspace_key" in state:
            _leave_workspace()
        state.workspace_damaged = False
        try:
            choices = active.store.saved_choices()
            state.workspace_files = active.store.last_data() if remembers_sessions(active) else {}
        except store.StoreDamagedError:
            LOG.warning("The workspace file %s is damaged", active.store.name, exc_info=True)
            state.workspace_damaged = True
            choices, state.workspace_files = {}, {}
        except WORKSPACE_ERRORS as error:
            show_error(error)
            choices, state.workspace_files = {}, {}
        for kind in REMEMBERED:
            state[kind] = choices.get(kind, {})
        for key in SETTINGS_KEYS if remembers_sessions(active) else ():
            if key in choices and key not in state:
                state[key] = choices[key]
        if "opportunities" in state.workspace_files and "source" not in state:
            state.source = MY_UPLOADS
        # Taken at the end of this first run, when the widgets hold their values: an unchanged
        # session writes nothing (and creates no file).
        state.workspace_saved = None
        state.workspace_key = active.workspace.key
    state.active_workspace = active
    if state.workspace_damaged:
        damaged_notice(active)
    if active.refused:
        st.error(markdown_text(active.refused), icon=":material/block:")
    _workspace_sidebar(active)


def damaged_notice(active: Active) -> None:
    """The workspace's file cannot be read: the app works without it, says so, and offers to
    set the file aside (renamed beside it, for an administrator to look at) and start afresh."""
    where = "on this computer" if active.mode == "local" else f"of {active.workspace.label}"
    st.error(
        f"The workspace file {markdown_text(where)} ({markdown_text(_file_name(active))}) is "
        "damaged: its snapshots, kept files and saved choices cannot be read. Closeboard works "
        "without it until it is set aside; nothing in it is changed until then.",
        icon=":material/broken_image:",
    )
    if st.button("Set the damaged file aside and start afresh", icon=":material/restart_alt:"):
        try:
            kept = active.store.set_aside()
        except OSError as error:
            st.error(f"The file could not be set aside: {markdown_text(error.strerror)}.")
            return
        LOG.warning("The damaged workspace file was set aside as %s", kept)
        _leave_workspace()
        st.rerun()


def _file_name(active: Active) -> str:
    """The damaged file's name, never the server's folder (only files are ever damaged)."""
    path = getattr(active.store, "path", None)
    return path.name if path is not None else active.store.name


def _leave_workspace() -> None:
    """Another workspace: nothing of the last one stays in the session, and the files still in
    the uploaders (sent again by the browser on every run) are not used in the new one."""
    left_behind = {
        file.file_id
        for kind in workspaces.KINDS
        for file in _files_in(st.session_state.get(f"upload_{kind}"))
    } | st.session_state.get("left_behind", set())
    team = st.session_state.get("workspace_team")
    st.session_state.clear()
    st.session_state.left_behind = left_behind
    st.session_state.workspace_team = team


def _files_in(uploaded) -> list:
    """An uploader's value as a list: the opportunities uploader takes several files."""
    if uploaded is None:
        return []
    return uploaded if isinstance(uploaded, list) else [uploaded]


def _workspace_sidebar(active: Active) -> None:
    if active.mode == "local":
        return
    sidebar = st.sidebar
    sidebar.caption(f"Signed in as {markdown_text(active.user)}")
    labels = [workspace.label for workspace in active.choices]
    if len(labels) > 1:
        picked = sidebar.selectbox(
            "Workspace", labels, index=labels.index(active.workspace.label), key=None
        )
        if picked != active.workspace.label:
            team = active.choices[labels.index(picked)].team
            st.session_state.workspace_team = (active.user, team)
            if team is None:
                st.query_params.pop(QUERY_PARAMETER, None)
            else:
                st.query_params[QUERY_PARAMETER] = team
            st.rerun()
    else:
        sidebar.caption(f"Workspace: {markdown_text(active.workspace.label)}")
    if active.mode == "login":
        sidebar.button("Sign out", icon=":material/logout:", on_click=st.logout)


def upload_or_kept(kind: str, uploaded, problems: list[str]) -> Upload | None:
    """The file just uploaded for `kind` (the opportunities uploader takes several: the files
    of a Data Export), else the workspace's last one (reopened)."""
    left_behind = st.session_state.get("left_behind", ())
    chosen = [file for file in _files_in(uploaded) if file.file_id not in left_behind]
    if chosen:
        return upload_of_files(chosen, problems)
    kept = st.session_state.get("workspace_files", {}).get(kind)
    return Upload(kept.file_name, kept.data, kept.digest) if kept else None


def kept(kind: str, read, active: Active):
    """`read`, which also keeps a file of the uploads that it read without error as the
    workspace's last of its kind."""

    def read_and_keep(upload: Upload):
        value = read(upload)
        files = st.session_state.setdefault("workspace_files", {})
        known = files.get(kind)
        if (
            remembers_sessions(active)
            and st.session_state.get("source") == MY_UPLOADS
            and (known is None or known.digest != upload.digest)
        ):
            stored = StoredFile(kind, upload.name, upload.digest, upload.data, workspaces.now())
            try:
                active.store.keep_file(stored, active.user)
            except WORKSPACE_ERRORS:
                LOG.warning("The upload could not be kept in the workspace", exc_info=True)
            else:
                files[kind] = stored
        return value

    return read_and_keep


def kept_files_line(active: Active) -> None:
    """Which files the workspace keeps, from when, and the button that forgets them."""
    files = st.session_state.get("workspace_files") or {}
    if not files:
        return
    names = ", ".join(files[kind].file_name for kind in workspaces.KINDS if kind in files)
    newest = max(file.loaded_at for file in files.values())
    st.caption(
        f"Kept in your workspace: {markdown_text(names)}, loaded {newest:%a %-d %b %Y %H:%M}. "
        "They open again after a reload."
    )
    if st.button("Forget my data", icon=":material/delete_sweep:"):
        try:
            active.store.forget_data(active.user)
        except WORKSPACE_ERRORS as error:
            show_error(error)
            return
        _leave_workspace()
        st.session_state.source = MY_UPLOADS
        st.rerun()


def save_choices(active: Active) -> None:
    """After each run: the session's choices into the workspace, when they changed."""
    choices = _choices_json()
    if st.session_state.get("workspace_saved") is None:
        st.session_state.workspace_saved = choices
    if choices == st.session_state.workspace_saved:
        return
    try:
        active.store.save_choices(json.loads(choices))
    except WORKSPACE_ERRORS:
        LOG.warning("The choices could not be saved in the workspace", exc_info=True)
        return
    st.session_state.workspace_saved = choices


def _choices_json() -> str:
    state = st.session_state
    values = {kind: state.get(kind, {}) for kind in REMEMBERED}
    values |= {key: state[key] for key in SETTINGS_KEYS if key in state}
    return json.dumps(values, sort_keys=True, default=str)


def record(active: Active, action: str, what: str) -> None:
    """A line in the workspace's audit list; the action itself is done already, so a failure to
    note it is logged, not shown."""
    try:
        active.store.record(active.user, action, what)
    except WORKSPACE_ERRORS:
        LOG.warning("Could not add to the audit list", exc_info=True)


def kept_where() -> str:
    """Where the snapshots are kept, in the user's words: on this computer, or in the workspace
    named. The file and the variable that moves it are for an administrator
    (docs/deployment.md)."""
    if active().mode == "local":
        return "Kept on this computer."
    return f"Kept in the workspace {markdown_text(active().workspace.label)}."


def audit() -> list[dict[str, object]]:
    """The workspace's audit list, newest first; empty (and logged) when it cannot be read."""
    try:
        return active().store.audit_list()
    except WORKSPACE_ERRORS:
        LOG.warning("The audit list cannot be read", exc_info=True)
        return []


def active() -> Active:
    """The session's workspace, as open_workspace found it on this run."""
    return st.session_state.active_workspace
