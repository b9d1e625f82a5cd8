"""Sign-in and workspaces in the app (AppTest): who sees which workspace, and what it brings back."""

from __future__ import annotations

import importlib.util
import re
from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pytest
from streamlit.testing.v1 import AppTest

from lib import workspaces
from lib.fiscal import fiscal_quarter
from lib.load.opportunities import load_opportunities
from lib.overview import default_as_of
from lib.pgstore import PostgresBackend
from lib.settings import Settings
from lib.store import Snapshot, list_snapshots, save_snapshot, snapshot_of_export
from tests.test_app import APP, HUBSPOT, SAMPLE, metrics, upload
from tests.test_workspaces import held_by_another_process

TEAMS_FILE = '[[team]]\nname = "EMEA sales"\nmembers = ["ana@acme.com", "ben@acme.com"]\n'
LOGIN = {"auth": {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "x"}}


def unescaped(text: str) -> str:
    """Markdown as shown: escapes undone, and the word joiner that keeps an address from
    becoming a link taken out."""
    return re.sub(r"\\(.)", r"\1", text).replace("\u2060", "")


def captions(at: AppTest) -> str:
    return unescaped(" ".join(caption.value for caption in at.caption))


def signed_in(email: str | None, page: str | None = "pages/data.py", **query: str) -> AppTest:
    """The app in st.login mode (an [auth] secret), signed in as `email` (None: not signed in)."""
    at = AppTest.from_file(APP, default_timeout=60)
    at.secrets.update(LOGIN)
    at.user = {"is_logged_in": True, "email": email} if email else {"is_logged_in": False}
    at.query_params.update(query)
    at.run()
    if email and page:
        at.switch_page(page).run()
    assert not at.exception, at.exception
    return at


@pytest.fixture
def teams(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    config = tmp_path / "workspaces.toml"
    config.write_text(TEAMS_FILE)
    monkeypatch.setenv("CLOSEBOARD_WORKSPACES", str(config))
    return config


def snapshot_in(workspace: workspaces.Workspace, folder: Path, as_of: date) -> None:
    export = load_opportunities(HUBSPOT, "hubspot.csv")
    save_snapshot(snapshot_of_export(export, as_of), workspaces.workspace_path(workspace, folder))


def test_until_signed_in_there_is_only_the_sign_in_screen(monkeypatch: pytest.MonkeyPatch):
    # Whether or not this machine has Authlib: the screen with the button, as where it does.
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: object())
    at = signed_in(None)
    assert [title.value for title in at.title] == ["Closeboard"]
    assert [button.label for button in at.button] == ["Sign in"]
    assert not at.radio  # no data source, no pages
    assert not at.metric


def test_without_authlib_the_sign_in_screen_says_what_the_server_needs(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    at = signed_in(None)
    assert not at.button
    assert "it needs Authlib and httpx" in unescaped(at.error[0].value)


def test_a_signed_in_user_sees_their_own_snapshots_and_not_anothers(data_folder: Path):
    snapshot_in(workspaces.personal("ana@acme.com"), data_folder, date(2026, 11, 13))
    ana = signed_in("Ana@Acme.com", "pages/changes.py")
    assert "Signed in as ana@acme.com" in captions(ana)
    assert "Kept in the workspace My workspace (ana@acme.com)." in captions(ana)
    assert [box.label for box in ana.selectbox][:2] == ["Compare", "with"]

    cy = signed_in("cy@birch.io", "pages/changes.py")
    assert "No snapshot yet" in cy.info[0].value
    assert not list_snapshots(
        workspaces.workspace_path(workspaces.personal("cy@birch.io"), data_folder)
    )


def test_team_members_may_open_the_team_workspace_and_others_may_not(teams, data_folder: Path):
    team = workspaces.team_workspace(workspaces.read_teams(teams)[0])
    snapshot_in(team, data_folder, date(2026, 11, 6))
    ben = signed_in("ben@acme.com", "pages/changes.py", workspace="EMEA sales")
    workspace_box = next(box for box in ben.selectbox if box.label == "Workspace")
    assert workspace_box.options == ["My workspace (ben@acme.com)", "EMEA sales"]
    assert workspace_box.value == "EMEA sales"
    assert "Kept in the workspace EMEA sales." in captions(ben)
    assert not ben.error

    cy = signed_in("cy@birch.io", None, workspace="EMEA sales")
    assert unescaped(cy.error[0].value).startswith("EMEA sales is not one of your workspaces")
    cy.switch_page("pages/changes.py").run()
    assert "Kept in the workspace My workspace (cy@birch.io)." in captions(cy)
    assert "No snapshot yet" in cy.info[0].value
    assert "workspace" not in cy.query_params


def test_picking_the_team_in_the_sidebar_opens_its_workspace(teams, data_folder: Path):
    ana = signed_in("ana@acme.com", "pages/changes.py")
    next(box for box in ana.selectbox if box.label == "Workspace").select("EMEA sales").run()
    assert ana.query_params["workspace"] == "EMEA sales"
    assert "Kept in the workspace EMEA sales." in captions(ana)


def test_the_last_upload_comes_back_in_a_new_session_and_is_forgotten_on_request(data_folder):
    first = signed_in("ana@acme.com")
    first.radio(key="source").set_value("My uploads").run()
    upload(first, "hubspot.csv", HUBSPOT)

    # A reload is a new session: nothing uploaded, the workspace's file opens again.
    again = signed_in("ana@acme.com")
    assert again.radio(key="source").value == "My uploads"
    assert (metrics(again)["Rows read"], metrics(again)["Deals loaded"]) == ("4", "3")
    assert re.search(
        r"Kept in your workspace: hubspot.csv, loaded \w{3} \d+ \w{3} \d{4} \d\d:\d\d",
        captions(again),
    )
    # Another user's new session does not see it.
    assert signed_in("ben@acme.com").radio(key="source").value == "Sample data"
    next(b for b in again.button if b.label == "Forget my data").click().run()
    assert not again.metric
    assert again.info[0].value.startswith("Upload an opportunities export in the sidebar")

    after = signed_in("ana@acme.com")
    assert after.radio(key="source").value == "Sample data"


def test_without_sign_in_an_upload_never_opens_in_another_browser_session(data_folder):
    first = AppTest.from_file(APP, default_timeout=60)
    first.session_state["source"] = "My uploads"
    first.run()
    upload(first, "hubspot.csv", HUBSPOT)
    # Without sign-in every browser is the same workspace: its next session starts afresh.
    again = AppTest.from_file(APP, default_timeout=60).run()
    assert again.radio(key="source").value == "Sample data"
    again.radio(key="source").set_value("My uploads").run()
    assert not again.metric
    assert "Kept in your workspace" not in captions(again)


def test_settings_chosen_in_one_session_are_there_in_the_next(data_folder):
    at = signed_in("ana@acme.com")
    at.selectbox(key="fiscal_start").set_value(4).run()
    at.text_area(key="holidays").input("2026-11-26").run()
    again = signed_in("ana@acme.com")
    assert again.selectbox(key="fiscal_start").value == 4
    assert again.text_area(key="holidays").value == "2026-11-26"
    # Without sign-in a new browser session starts with the defaults.
    local = AppTest.from_file(APP, default_timeout=60).run()
    local.selectbox(key="fiscal_start").set_value(4).run()
    assert AppTest.from_file(APP, default_timeout=60).run().selectbox(key="fiscal_start").value == 1


def test_an_unchanged_session_writes_nothing(snapshot_store: Path):
    AppTest.from_file(APP, default_timeout=60).run()
    assert not snapshot_store.exists()


def test_another_user_signing_in_on_the_same_browser_starts_in_their_own_workspace(teams):
    at = signed_in("ana@acme.com", "pages/changes.py", workspace="EMEA sales")
    assert "Kept in the workspace EMEA sales." in captions(at)
    # Signing in comes back to the app's own address, without Ana's choice in it.
    at.query_params.clear()
    at.user = {"is_logged_in": True, "email": "cy@birch.io"}
    at.run()
    assert not at.error
    assert "Kept in the workspace My workspace (cy@birch.io)." in captions(at)


def test_a_second_app_on_the_same_data_folder_shows_only_who_holds_it(data_folder: Path):
    with held_by_another_process(data_folder) as holder:
        at = AppTest.from_file(APP, default_timeout=60).run()
    assert unescaped(at.error[0].value).startswith(
        f"The data folder {data_folder} is in use by another Closeboard (process {holder.pid})."
    )
    assert not at.radio
    assert not at.metric


def test_a_file_uploaded_in_ones_own_workspace_does_not_follow_into_the_team(
    teams, data_folder: Path
):
    at = signed_in("ana@acme.com")
    at.radio(key="source").set_value("My uploads").run()
    upload(at, "hubspot.csv", HUBSPOT)
    assert metrics(at)["Deals loaded"] == "3"

    next(box for box in at.selectbox if box.label == "Workspace").select("EMEA sales").run()
    at.radio(key="source").set_value("My uploads").run()
    assert not at.exception
    assert not at.metric
    assert at.info[0].value.startswith("Upload an opportunities export in the sidebar")
    team = workspaces.team_workspace(workspaces.read_teams(teams)[0])
    assert workspaces.last_data(workspaces.workspace_path(team, data_folder)) == {}
    mine = workspaces.last_data(
        workspaces.workspace_path(workspaces.personal("ana@acme.com"), data_folder)
    )
    assert mine["opportunities"].file_name == "hubspot.csv"


PAGES = ("pages/pacing.py", "pages/close_today.py", "pages/pipeline_warnings.py",
         "pages/coaching.py", "pages/qbr.py", "pages/explore.py", "pages/data.py")  # fmt: skip
LOST_SHOWN_CLOSING = re.compile(r"(\d+) of (\d+) lost deals show only a closing stage")


def lost_without_stage(at: AppTest) -> tuple[int, int]:
    (found,) = [m for c in at.caption if (m := LOST_SHOWN_CLOSING.search(c.value))]
    return int(found[1]), int(found[2])


def test_the_qbr_reads_the_signed_in_users_own_snapshots_and_no_one_elses(data_folder: Path):
    # Ana's workspace holds a snapshot from a week earlier in which one deal lost in the
    # sample's quarter was still open at Negotiation/Review: her QBR knows the stage it was lost
    # at. Ben's workspace holds no snapshot: his QBR does not, nor may it read Ana's.
    sample = load_opportunities(SAMPLE.read_bytes(), SAMPLE.name)
    as_of = default_as_of(sample.deals, date.today())
    quarter = fiscal_quarter(as_of, Settings(as_of=as_of))
    deals = sample.deals.to_pylist()
    lost = next(
        index
        for index, deal in enumerate(deals)
        if deal["status"] == "lost" and quarter.start <= deal["close_date"] <= as_of
    )
    deals[lost] = deals[lost] | {"status": "open", "stage": "Negotiation/Review"}
    week_before = Snapshot(
        as_of - timedelta(days=7),
        pa.Table.from_pylist(deals, schema=sample.deals.schema),
        tuple(rule.stage for rule in sample.report.stage_rules),
        "last week",
    )
    save_snapshot(
        week_before, workspaces.workspace_path(workspaces.personal("ana@acme.com"), data_folder)
    )

    ana_unknown, ana_lost = lost_without_stage(signed_in("ana@acme.com", "pages/qbr.py"))
    ben_unknown, ben_lost = lost_without_stage(signed_in("ben@acme.com", "pages/qbr.py"))
    assert ana_lost == ben_lost
    assert ana_unknown == ben_unknown - 1


def test_a_damaged_workspace_file_is_said_plainly_and_can_be_set_aside(data_folder: Path):
    from tests.test_store import damaged

    path = workspaces.workspace_path(workspaces.personal("ana@acme.com"), data_folder)
    snapshot_in(workspaces.personal("ana@acme.com"), data_folder, date(2026, 11, 13))
    damaged(path)
    ana = signed_in("ana@acme.com", "pages/changes.py")
    notice = [error.value for error in ana.error if "is damaged" in error.value]
    assert len(notice) == 1
    assert "its snapshots, kept files and saved choices cannot be read" in notice[0]
    assert str(data_folder) not in unescaped(notice[0])  # the file's name, not the server's path
    for page in PAGES:
        ana.switch_page(page).run()
        assert not ana.exception, page
        assert [e.value for e in ana.error if "is damaged" in e.value] == notice, page
    ana.switch_page("pages/changes.py").run()
    (set_aside,) = [
        b for b in ana.button if b.label == "Set the damaged file aside and start afresh"
    ]
    set_aside.click().run()
    assert not ana.exception
    assert not [error for error in ana.error if "is damaged" in error.value]
    assert list(path.parent.glob("*.damaged-*.duckdb"))
    assert list_snapshots(path) == []


def test_with_a_database_url_the_workspaces_live_in_postgresql_and_no_folder_is_claimed(
    data_folder: Path, postgres_url: str, monkeypatch: pytest.MonkeyPatch
):
    monkeypatch.setenv("CLOSEBOARD_DATABASE_URL", postgres_url)
    every = PostgresBackend(postgres_url)
    export = load_opportunities(HUBSPOT, "hubspot.csv")
    every.workspace(workspaces.personal("ana@acme.com")).save_snapshot(
        snapshot_of_export(export, date(2026, 11, 13))
    )
    # Another process holding the data folder is no obstacle: the database is shared.
    with held_by_another_process(data_folder):
        ana = signed_in("ana@acme.com", "pages/changes.py")
        assert [box.label for box in ana.selectbox][:2] == ["Compare", "with"]
        assert "Kept in the workspace My workspace (ana@acme.com)." in captions(ana)
        cy = signed_in("cy@birch.io", "pages/changes.py")
        assert "No snapshot yet" in cy.info[0].value
    assert not list(data_folder.glob("workspaces/*.duckdb"))
    assert [entry["key"] for entry in every.list_workspaces()] == ["user:ana@acme.com"]


def test_a_database_that_cannot_be_reached_is_said_plainly_on_the_page(
    monkeypatch: pytest.MonkeyPatch,
):
    monkeypatch.setenv("CLOSEBOARD_DATABASE_URL", "postgresql://ana:s3cret@127.0.0.1:1/closeboard")
    at = signed_in("ana@acme.com", None)
    message = unescaped(at.error[0].value)
    assert message.startswith("The PostgreSQL store closeboard on 127.0.0.1:1 cannot be reached:")
    assert "s3cret" not in message
    assert "CLOSEBOARD_DATABASE_URL" not in message  # the command line's advice, not a page's
    assert not at.radio  # no data source, no pages
