"""Workspaces: safe file names, the teams file, who may open what, the folder lock, the contents."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path

import pytest

from lib import store, workspaces
from lib.workspaces import StoredFile, Team, Workspace

ROOT = Path(__file__).resolve().parents[1]


@contextmanager
def held_by_another_process(folder: Path) -> Iterator[subprocess.Popen]:
    """Another process owning the data folder, as a second app would, until the block ends."""
    holder = subprocess.Popen(
        [sys.executable, "-c", "import sys; from pathlib import Path; from lib import workspaces;"
         "workspaces.claim_folder(Path(sys.argv[1])); print('owned', flush=True); sys.stdin.read()",
         str(folder)],
        cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout.readline() == "owned\n"
        yield holder
    finally:
        holder.communicate("")


ACME = Team("EMEA sales", frozenset({"ana@acme.com", "ben@acme.com"}), frozenset())
WHOLE_DOMAIN = Team("Everyone at Birch", frozenset(), frozenset({"birch.io"}))
TEAMS = (ACME, WHOLE_DOMAIN)


@pytest.mark.parametrize(
    "key",
    ["team:../../etc/passwd", "user:a/b@c.com", "team:..", "team:C:\\Windows", "team:\x00", ""],
)
def test_a_workspace_file_name_never_leaves_the_workspaces_folder(key: str, tmp_path: Path):
    path = workspaces.workspace_path(Workspace(key, key), tmp_path)
    assert path.parent == tmp_path / "workspaces"
    assert path.resolve().parent == (tmp_path / "workspaces").resolve()
    assert path.name.endswith(".duckdb")
    assert set(path.stem) <= set("abcdefghijklmnopqrstuvwxyz0123456789-")


def test_two_names_with_the_same_slug_get_different_files():
    assert workspaces.file_name("team:EMEA sales") != workspaces.file_name("team:emea-sales")
    assert workspaces.file_name("team:EMEA sales").startswith("team-emea-sales-")


def test_the_local_workspace_is_the_snapshot_store_where_it_always_was(
    tmp_path: Path, snapshot_store: Path, monkeypatch: pytest.MonkeyPatch
):
    assert workspaces.workspace_path(workspaces.LOCAL, tmp_path) == snapshot_store
    monkeypatch.delenv("CLOSEBOARD_DB")
    monkeypatch.setenv("CLOSEBOARD_DATA_DIR", str(tmp_path / "folder"))
    assert store.store_path() == tmp_path / "folder" / "closeboard.duckdb"


@pytest.mark.parametrize(
    ("header", "email"),
    [
        ("Ana@Acme.com", "ana@acme.com"),
        ("  ana@acme.com ", "ana@acme.com"),
        ("accounts.google.com:ana@acme.com", "ana@acme.com"),
        ("", None),
        ("ana", None),
        ("ana@acme", None),
        ("ana@acme.com, eve@evil.com", None),
        ("Ana <ana@acme.com>", None),
    ],
)
def test_an_identity_header_gives_one_address_in_lower_case_or_none(header, email):
    assert (
        workspaces.user_from_headers([("X-Forwarded-Email", header)], "x-forwarded-email") == email
    )


def test_without_the_header_there_is_no_user():
    assert workspaces.user_from_headers([("Host", "x")], "X-Forwarded-Email") is None


def test_two_copies_of_the_identity_header_are_refused_whichever_comes_first():
    twice = [("X-Forwarded-Email", "eve@evil.com"), ("x-forwarded-email", "ana@acme.com")]
    assert workspaces.user_from_headers(twice, "X-Forwarded-Email") is None
    same = [("X-Forwarded-Email", "ana@acme.com"), ("X-Forwarded-Email", "ana@acme.com")]
    assert workspaces.user_from_headers(same, "X-Forwarded-Email") is None


def test_a_lookalike_character_never_becomes_someone_elses_address():
    kelvin = "\u212aate@acme.com"  # the Kelvin sign, which lower() and NFKC make a "k"
    assert workspaces.normal_email(kelvin) is None
    assert (
        workspaces.user_from_headers([("X-Forwarded-Email", kelvin)], "X-Forwarded-Email") is None
    )
    assert workspaces.normal_email(kelvin, verified=True) is None
    # Composed the one way: a decomposed é and a composed é are the same verified address.
    assert workspaces.normal_email("Jose\u0301@acme.com", verified=True) == "jos\u00e9@acme.com"
    assert workspaces.normal_email("jos\u00e9@acme.com") is None


def test_the_mode_is_header_when_named_else_login_when_configured_else_local():
    header = {"CLOSEBOARD_TRUSTED_USER_HEADER": "X-Forwarded-Email"}
    assert workspaces.identity_mode(header, login_configured=True) == "header"
    assert workspaces.identity_mode({}, login_configured=True) == "login"
    assert workspaces.identity_mode({}, login_configured=False) == "local"


def test_a_member_by_address_or_by_domain_may_open_the_team_workspace():
    ana = [w.label for w in workspaces.workspaces_of("ana@acme.com", TEAMS)]
    assert ana == ["My workspace (ana@acme.com)", "EMEA sales"]
    cy = [w.label for w in workspaces.workspaces_of("cy@birch.io", TEAMS)]
    assert cy == ["My workspace (cy@birch.io)", "Everyone at Birch"]
    # A subdomain is another domain; a look-alike address is another address.
    assert len(workspaces.workspaces_of("dee@eu.birch.io", TEAMS)) == 1
    assert len(workspaces.workspaces_of("ana@acme.com.evil.io", TEAMS)) == 1


def test_asking_for_a_team_one_is_not_in_gives_ones_own_workspace_and_says_so():
    chosen, refused = workspaces.chosen_workspace("cy@birch.io", TEAMS, "EMEA sales")
    assert chosen == workspaces.personal("cy@birch.io")
    assert refused.startswith("EMEA sales is not one of your workspaces")
    # Another user's personal workspace cannot be named at all.
    chosen, refused = workspaces.chosen_workspace("cy@birch.io", TEAMS, "user:ana@acme.com")
    assert chosen.key == "user:cy@birch.io"
    assert refused is not None
    assert workspaces.chosen_workspace("ben@acme.com", TEAMS, "EMEA sales") == (
        workspaces.team_workspace(ACME),
        None,
    )


def test_the_teams_file_is_read_with_members_and_domains(tmp_path: Path):
    config = tmp_path / "workspaces.toml"
    config.write_text(
        '[[team]]\nname = "EMEA sales"\nmembers = ["Ana@Acme.com", "ben@acme.com"]\n\n'
        '[[team]]\nname = "Everyone at Birch"\ndomains = ["@Birch.io"]\n'
    )
    assert workspaces.read_teams(config) == TEAMS
    assert workspaces.configured_teams({"CLOSEBOARD_WORKSPACES": str(config)}) == TEAMS
    assert workspaces.configured_teams({}) == ()


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[[team]\n", "is not valid TOML"),
        ('[[teams]]\nname = "x"\n', "has teams; it holds only [[team]] tables"),
        ('[[team]]\nname = ""\n', "a team's name is text of 1 to 80 characters, not ''"),
        ('[[team]]\nname = "x"\nmembers = ["ana"]\n', "'ana' (x) is not an e-mail"),
        ('[[team]]\nname = "x"\ndomains = ["acme"]\n', "'acme' (x) is not a domain"),
        ('[[team]]\nname = "x"\nmember = []\n', "each [[team]] has a name, members and domains"),
        ('[[team]]\nname = "X"\n[[team]]\nname = "x"\n', "names x twice"),
    ],
)
def test_a_wrong_teams_file_is_named_with_what_is_wrong(tmp_path: Path, text: str, message: str):
    config = tmp_path / "workspaces.toml"
    config.write_text(text)
    with pytest.raises(workspaces.WorkspaceError, match="workspaces file") as error:
        workspaces.read_teams(config)
    assert message in str(error.value)


def test_a_missing_teams_file_is_named(tmp_path: Path):
    with pytest.raises(workspaces.WorkspaceError, match="cannot be read: No such file"):
        workspaces.read_teams(tmp_path / "nowhere.toml")


def test_a_second_process_pointed_at_the_same_folder_is_refused_with_a_message(tmp_path: Path):
    workspaces.claim_folder(tmp_path)
    workspaces.claim_folder(tmp_path)  # the same process asking again keeps it
    try:
        other = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from pathlib import Path; from lib import workspaces\n"
                "try:\n    workspaces.claim_folder(Path(sys.argv[1]))\n"
                "except workspaces.FolderInUseError as e:\n    print(e)",
                str(tmp_path),
            ],
            capture_output=True,
            text=True,
            check=True,
            cwd=Path(__file__).resolve().parents[1],
        )
        assert other.stdout.startswith(
            f"The data folder {tmp_path} is in use by another Closeboard (process "
        )
        assert "CLOSEBOARD_DATA_DIR" in other.stdout
    finally:
        workspaces.release_folder(tmp_path)
    again = subprocess.run(
        [sys.executable, "-c", "import sys; from pathlib import Path; from lib import workspaces;"
         "workspaces.claim_folder(Path(sys.argv[1])); print('mine')", str(tmp_path)],
        capture_output=True, text=True, check=True, cwd=Path(__file__).resolve().parents[1],
    )  # fmt: skip
    assert again.stdout == "mine\n"


# --- What a workspace keeps: the same tests for both stores (tests/conftest.py: `backend`) ----


def test_the_last_files_loaded_come_back_and_are_forgotten(backend):
    kept = backend.workspace(workspaces.personal("ana@acme.com"))
    at = datetime(2026, 11, 24, 9, 30)
    kept.keep_file(StoredFile("opportunities", "a.csv", "d1", b"x,y\n", at), "ana")
    kept.keep_file(StoredFile("opportunities", "b.csv", "d2", b"z\n\x00\xff", at), "ana")
    kept.keep_file(StoredFile("reps", "reps.csv", "d3", b"r\n", at), "ana")
    files = kept.last_data()
    assert sorted(files) == ["opportunities", "reps"]
    assert (files["opportunities"].file_name, files["opportunities"].data) == (
        "b.csv",
        b"z\n\x00\xff",
    )
    assert files["opportunities"].loaded_at == at

    kept.forget_data("ana")
    assert kept.last_data() == {}
    audit = kept.audit_list()
    assert [(line["action"], line["what"]) for line in audit] == [
        ("forgot", "b.csv, reps.csv"),
        ("loaded", "reps.csv"),
        ("loaded", "b.csv"),
        ("loaded", "a.csv"),
    ]
    assert [line["action"] for line in kept.audit_list(limit=2)] == ["forgot", "loaded"]


def test_choices_are_saved_by_name_each_replacing_the_last(backend):
    kept = backend.workspace(workspaces.personal("ana@acme.com"))
    assert kept.saved_choices() == {}
    kept.save_choices({"mappings": {"k": {"owner": "Rep"}}, "fiscal_start": 2})
    kept.save_choices({"fiscal_start": 4})
    assert kept.saved_choices() == {"mappings": {"k": {"owner": "Rep"}}, "fiscal_start": 4}


def test_a_workspace_is_still_a_snapshot_store(backend):
    kept = backend.workspace(workspaces.personal("ana@acme.com"))
    kept.record("ana", "saved", "snapshot")
    assert kept.list_snapshots() == []
    assert kept.audit_list()[0]["what"] == "snapshot"


def test_a_workspace_file_is_still_a_snapshot_store(tmp_path: Path):
    path = tmp_path / "w.duckdb"
    workspaces.record(path, workspaces.personal("ana@acme.com"), "ana", "saved", "snapshot")
    assert store.list_snapshots(path) == []


@pytest.mark.parametrize("other_key", ["user:ben@acme.com", "user:ana@acme.com' --", "%", "_"])
def test_one_workspaces_files_choices_and_audit_are_never_anothers(backend, other_key):
    ana = backend.workspace(workspaces.personal("ana@acme.com"))
    other = backend.workspace(Workspace(other_key, other_key))
    at = datetime(2026, 11, 24, 9, 30)
    ana.keep_file(StoredFile("opportunities", "ana.csv", "d1", b"ana", at), "ana")
    ana.save_choices({"fiscal_start": 2})
    other.save_choices({"fiscal_start": 7})
    assert other.last_data() == {}
    assert other.audit_list() == []
    assert other.saved_choices() == {"fiscal_start": 7}
    other.forget_data("ben")
    assert ana.last_data()["opportunities"].data == b"ana"
    assert ana.saved_choices() == {"fiscal_start": 2}
    assert [line["who"] for line in ana.audit_list()] == ["ana"]


def test_workspaces_are_listed_by_name_and_deleted_with_everything_in_them(backend):
    ana, team = workspaces.personal("ana@acme.com"), workspaces.team_workspace(ACME)
    for workspace in (ana, team):
        backend.workspace(workspace).record("ana", "saved", "x")
    listed = backend.list_workspaces()
    assert sorted((entry["name"], entry["snapshots"]) for entry in listed) == [
        ("EMEA sales", 0),
        ("My workspace (ana@acme.com)", 0),
    ]
    backend.delete_workspace("EMEA sales")
    assert [entry["key"] for entry in backend.list_workspaces()] == ["user:ana@acme.com"]
    assert backend.workspace(team).audit_list() == []
    assert len(backend.workspace(ana).audit_list()) == 1
    with pytest.raises(workspaces.WorkspaceError, match="There is no workspace named ../x"):
        backend.delete_workspace("../x")


def test_a_workspace_file_is_deleted_with_its_file(tmp_path: Path):
    team = workspaces.team_workspace(ACME)
    workspaces.record(workspaces.workspace_path(team, tmp_path), team, "ana", "saved", "x")
    deleted = workspaces.delete_workspace(tmp_path, "EMEA sales")
    assert deleted == workspaces.workspace_path(team, tmp_path)
    assert not deleted.exists()


def test_browser_sessions_starting_at_once_all_find_the_folder_theirs(tmp_path: Path):
    # Each browser session runs on a thread of the one app process; at a server's start several
    # first runs claim the data folder at the same moment.
    start = threading.Barrier(16)
    refused: list[Exception] = []

    def first_run() -> None:
        start.wait()
        try:
            workspaces.claim_folder(tmp_path)
        except workspaces.FolderInUseError as error:
            refused.append(error)

    threads = [threading.Thread(target=first_run) for _ in range(16)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert refused == []
    finally:
        workspaces.release_folder(tmp_path)
