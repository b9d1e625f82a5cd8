"""`python -m lib.cli workspaces list|delete NAME`: the data folder from a script."""

import json
from datetime import date, datetime
from pathlib import Path

from lib import workspaces
from lib.cli import main
from lib.load.opportunities import load_opportunities
from lib.pgstore import PostgresBackend
from lib.store import save_snapshot, snapshot_of_export
from lib.workspaces import StoredFile
from tests.test_changes import OLDER
from tests.test_workspaces import held_by_another_process


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def two_workspaces(folder: Path) -> None:
    """Ana's with one snapshot of 14 deals; the EMEA team's with a file kept at 9:30 on 24 Nov."""
    ana, team = (
        workspaces.personal("ana@acme.com"),
        workspaces.Workspace("team:EMEA", "EMEA", "EMEA"),
    )
    export = load_opportunities(OLDER.encode(), "older.csv")
    save_snapshot(
        snapshot_of_export(export, date(2026, 11, 13)), workspaces.workspace_path(ana, folder)
    )
    workspaces.record(workspaces.workspace_path(ana, folder), ana, "ana", "saved", "x")
    kept = StoredFile("opportunities", "o.csv", "d", b"abc", datetime(2026, 11, 24, 9, 30))
    workspaces.keep_file(workspaces.workspace_path(team, folder), team, kept, "ben")


def test_workspaces_are_listed_with_their_snapshots_and_last_data(tmp_path, capsys):
    two_workspaces(tmp_path)
    code, out, _ = run(capsys, "workspaces", "list", "--data-dir", str(tmp_path), "--json")
    assert code == 0
    listed = {entry["name"]: entry for entry in json.loads(out)}
    assert sorted(listed) == ["EMEA", "My workspace (ana@acme.com)"]
    assert listed["My workspace (ana@acme.com)"]["snapshots"] == 1
    assert listed["My workspace (ana@acme.com)"]["last_loaded"] is None
    assert listed["EMEA"]["last_loaded"] == "2026-11-24T09:30:00"

    code, out, _ = run(capsys, "workspaces", "list", "--data-dir", str(tmp_path))
    assert "EMEA  0 snapshots  last data: 2026-11-24 09:30:00  " in out


def test_an_empty_folder_has_no_workspaces(tmp_path, capsys):
    assert run(capsys, "workspaces", "list", "--data-dir", str(tmp_path)) == (
        0,
        f"No workspaces in {tmp_path}.\n",
        "",
    )


def test_a_workspace_is_deleted_by_name_and_an_unknown_name_is_refused(tmp_path, capsys):
    two_workspaces(tmp_path)
    code, out, _ = run(capsys, "workspaces", "delete", "EMEA", "--data-dir", str(tmp_path))
    assert code == 0
    assert out.startswith("Deleted the workspace EMEA (team-emea-")
    code, out, _ = run(capsys, "workspaces", "list", "--data-dir", str(tmp_path), "--json")
    assert [entry["name"] for entry in json.loads(out)] == ["My workspace (ana@acme.com)"]

    code, _, err = run(capsys, "workspaces", "delete", "EMEA", "--data-dir", str(tmp_path))
    assert code == 2
    assert err == (
        f"There is no workspace named EMEA in {tmp_path}. `workspaces list` shows their names.\n"
    )


def test_a_workspace_is_not_deleted_while_an_app_owns_the_folder(tmp_path, capsys):
    two_workspaces(tmp_path)
    with held_by_another_process(tmp_path):
        code, _, err = run(capsys, "workspaces", "delete", "EMEA", "--data-dir", str(tmp_path))
    assert code == 2
    assert err.startswith(f"The data folder {tmp_path} is in use by another Closeboard (process ")
    code, out, _ = run(capsys, "workspaces", "list", "--data-dir", str(tmp_path), "--json")
    assert len(json.loads(out)) == 2


def test_workspaces_in_postgresql_are_listed_and_deleted_with_db_a_url(capsys, postgres_url):
    every = PostgresBackend(postgres_url)
    ana = workspaces.personal("ana@acme.com")
    team = workspaces.Workspace("team:EMEA", "EMEA", "EMEA")
    export = load_opportunities(OLDER.encode(), "older.csv")
    every.workspace(ana).save_snapshot(snapshot_of_export(export, date(2026, 11, 13)))
    kept = StoredFile("opportunities", "o.csv", "d", b"abc", datetime(2026, 11, 24, 9, 30))
    every.workspace(team).keep_file(kept, "ben")

    code, out, _ = run(capsys, "workspaces", "list", "--db", postgres_url, "--json")
    assert code == 0
    listed = {entry["name"]: entry for entry in json.loads(out)}
    assert listed["My workspace (ana@acme.com)"]["snapshots"] == 1
    assert listed["EMEA"]["last_loaded"] == "2026-11-24T09:30:00"
    assert listed["EMEA"]["bytes"] is None  # no file to measure
    code, out, _ = run(capsys, "workspaces", "list", "--db", postgres_url)
    assert "EMEA  0 snapshots  last data: 2026-11-24 09:30:00  (team:EMEA)" in out

    code, out, _ = run(capsys, "workspaces", "delete", "EMEA", "--db", postgres_url)
    assert (code, out.startswith("Deleted the workspace EMEA (team:EMEA in the PostgreSQL")) == (
        0,
        True,
    )
    assert every.workspace(team).last_data() == {}
    assert len(every.workspace(ana).list_snapshots()) == 1
    code, _, err = run(capsys, "workspaces", "delete", "EMEA", "--db", postgres_url)
    assert code == 2
    assert err.startswith("There is no workspace named EMEA in the PostgreSQL store")


def test_workspaces_db_takes_only_a_database_url(tmp_path, capsys):
    code, _, err = run(capsys, "workspaces", "list", "--db", str(tmp_path / "x.duckdb"))
    assert code == 2
    assert "is not a postgresql:// URL. The workspace files of a data folder are named by " in err
