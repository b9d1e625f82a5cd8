"""`python -m lib.cli snapshot save|list|delete` and `changes OLD NEW`: the store from a script."""

import json
from datetime import datetime

import duckdb

from lib.cli import main
from tests.test_changes import NEWER, OLDER


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_save_list_replace_and_delete_snapshots(tmp_path, capsys):
    export = tmp_path / "older.csv"
    export.write_text(OLDER)
    db = str(tmp_path / "store.duckdb")
    code, out, _ = run(capsys, "snapshot", "save", str(export), "--as-of", "2026-11-13", "--db", db)
    assert (code, out) == (0, f"Saved 14 deals as the snapshot of 2026-11-13 in {db}.\n")

    code, out, _ = run(capsys, "snapshot", "list", "--db", db, "--json")
    (entry,) = json.loads(out)
    assert (entry["as_of"], entry["deals"]) == ("2026-11-13", 14)
    assert datetime.fromisoformat(entry["saved_at"])

    code, _, err = run(capsys, "snapshot", "save", str(export), "--as-of", "2026-11-13", "--db", db)
    assert code == 2
    assert err.startswith("There is already a snapshot of Fri 13 Nov 2026 (14 deals")
    assert "--replace" in err
    code, _, _ = run(capsys, "snapshot", "save", str(export), "--as-of", "2026-11-13", "--db", db,
                     "--replace")  # fmt: skip
    assert code == 0

    code, out, _ = run(capsys, "snapshot", "delete", "2026-11-13", "--db", db)
    assert (code, out) == (0, f"Deleted the snapshot of 2026-11-13 from {db}.\n")
    assert run(capsys, "snapshot", "list", "--db", db, "--json")[1].strip() == "[]"
    code, _, err = run(capsys, "snapshot", "delete", "2026-11-13", "--db", db)
    assert (code, err) == (2, f"There is no snapshot of Fri 13 Nov 2026 in {db}.\n")


def test_without_db_the_store_is_closeboard_db(tmp_path, capsys, snapshot_store):
    export = tmp_path / "older.csv"
    export.write_text(OLDER)
    assert main(["snapshot", "save", str(export), "--as-of", "2026-11-13"]) == 0
    assert snapshot_store.exists()
    capsys.readouterr()
    assert main(["snapshot", "list"]) == 0
    assert capsys.readouterr().out.startswith("2026-11-13         14 deals  saved ")


def test_changes_between_two_snapshot_dates_prints_the_waterfall_worked_by_hand(tmp_path, capsys):
    for text, day in ((OLDER, "2026-11-13"), (NEWER, "2026-11-20")):
        export = tmp_path / f"{day}.csv"
        export.write_text(text)
        assert main(["snapshot", "save", str(export), "--as-of", day]) == 0
    capsys.readouterr()
    code, out, _ = run(capsys, "changes", "2026-11-13", "2026-11-20", "--json")
    assert code == 0
    report = json.loads(out)
    # The figures of tests/test_changes.py, to the cent.
    assert report["period"] == {"label": "Q4 FY2026", "start": "2026-10-01", "end": "2026-12-31"}
    assert {key: report[key] for key in ("start", "new", "pulled_in", "increased", "decreased",
                                         "pushed_out", "won", "lost", "removed", "end")} == {
        "start": 66067.89, "new": 900.10, "pulled_in": 6100.00, "increased": 3500.50,
        "decreased": 749.75, "pushed_out": 7500.00, "won": 20000.00, "lost": 3000.00,
        "removed": 1234.56, "end": 44084.18,
    }  # fmt: skip
    assert report["matched_by"] == "opportunity ID"
    assert report["stage_regressions"] == ["C-3"]
    a3 = next(deal for deal in report["deals"] if deal["opportunity_id"] == "A-3")
    assert (a3["movement"], a3["movement_amount"]) == ("pushed_out", 5000.0)
    assert (a3["close_date_before"], a3["close_date_after"]) == ("2026-11-30", "2027-01-15")
    assert a3["what_changed"] == "close date pushed 30 Nov 2026 → 15 Jan 2027; amount $5K → $6K"
    # A-3's push (30 Nov -> 15 Jan) is the only one: A-4's date was cleared, C-1's pulled in.
    assert [(row["opportunity_id"], row["pushes"]) for row in report["pushes"]] == [("A-3", 1)]


FILE_HEADER = "Opportunity ID,Opportunity Owner,Stage,Amount,Close Date,Created Date\n"


def test_changes_between_two_export_files_dates_each_by_its_own_export_date(tmp_path, capsys):
    older, newer = tmp_path / "older.csv", tmp_path / "newer.csv"
    older.write_text(FILE_HEADER + "X-1,Ann,Prospecting,100.00,2026-12-01,2026-11-13\n"
                     "X-2,Ann,Prospecting,50.00,2026-12-01,2026-11-02\n")  # fmt: skip
    newer.write_text(FILE_HEADER + "X-1,Ann,Prospecting,100.00,2027-01-15,2026-11-13\n"
                     "X-3,Ann,Prospecting,25.50,2026-12-01,2026-11-20\n")  # fmt: skip
    code, out, _ = run(capsys, "changes", str(older), str(newer), "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["older"]["as_of"], report["newer"]["as_of"]) == ("2026-11-13", "2026-11-20")
    assert (report["start"], report["new"], report["pushed_out"], report["removed"],
            report["end"]) == (150.0, 25.5, 100.0, 50.0, 25.5)  # fmt: skip
    assert [(row["opportunity_id"], row["pushes"]) for row in report["pushes"]] == [("X-1", 1)]


def test_changes_with_an_argument_that_is_neither_file_nor_date_exits_2(capsys):
    code, _, err = run(capsys, "changes", "last-week.csv", "2026-11-20")
    assert (code, err) == (2, "last-week.csv is neither an export file nor a snapshot date "
                              "(YYYY-MM-DD).\n")  # fmt: skip


def test_a_corrupt_store_exits_2_naming_the_file(tmp_path, capsys):
    db = tmp_path / "junk.duckdb"
    db.write_bytes(b"\x00junk" * 1000)
    code, _, err = run(capsys, "snapshot", "list", "--db", str(db))
    assert code == 2
    assert err.startswith(f"The snapshot store {db} cannot be opened")
    assert db.read_bytes() == b"\x00junk" * 1000


def test_the_cli_names_the_whole_path_and_the_variable_that_moves_the_store(tmp_path, capsys):
    db = tmp_path / "invoices.duckdb"
    con = duckdb.connect(str(db))
    con.execute("CREATE TABLE invoices AS SELECT 1 AS id")
    con.close()
    code, _, err = run(capsys, "snapshot", "list", "--db", str(db))
    assert (code, err) == (2, f"{db} is a DuckDB database but not a Closeboard snapshot store "
                              "(it holds invoices). Closeboard leaves it as it is. Set "
                              "CLOSEBOARD_DB (or --db) to another file.\n")  # fmt: skip


def test_a_store_the_cli_creates_is_private_and_a_damaged_one_is_named_damaged(tmp_path, capsys):
    from tests.test_store import damaged

    export = tmp_path / "older.csv"
    export.write_text(OLDER)
    db = tmp_path / "new" / "store.duckdb"
    assert main(["snapshot", "save", str(export), "--as-of", "2026-11-13", "--db", str(db)]) == 0
    assert db.stat().st_mode & 0o777 == 0o600
    assert db.parent.stat().st_mode & 0o777 == 0o700
    damaged(db)
    capsys.readouterr()
    code, _, err = run(capsys, "snapshot", "list", "--db", str(db))
    assert code == 2
    assert err.startswith(f"The file {db} is damaged: Corrupt database file")
    assert "Set it aside (rename or move it) to start afresh" in err


def test_changes_count_both_exports_in_one_currency_at_the_rates_given(tmp_path, capsys):
    header = "Opportunity ID,Opportunity Owner,Stage,Amount,Currency,Close Date\n"
    older, newer, rates = tmp_path / "older.csv", tmp_path / "newer.csv", tmp_path / "rates.csv"
    older.write_text(header + "A-1,Ann,Prospecting,100,EUR,2026-12-10\n"
                     "B-1,Bo,Prospecting,50,GBP,2026-12-10\n")  # fmt: skip
    newer.write_text(header + "A-1,Ann,Prospecting,150,EUR,2026-12-10\n"
                     "B-1,Bo,Prospecting,80,GBP,2026-12-10\n")  # fmt: skip
    rates.write_text("currency,rate\nUSD,1\nEUR,0.5\n")  # 1 EUR = 2 USD; no rate for GBP
    code, out, _ = run(capsys, "changes", str(older), str(newer), "--rates", str(rates))
    assert code == 0
    printed = json.loads(out)
    # A-1 went from $200 to $300; B-1, in pounds without a rate, is in no amount.
    assert (printed["currency"], printed["start"], printed["increased"], printed["end"]) == (
        "USD",
        200.0,
        100.0,
        300.0,
    )
    code, out, _ = run(capsys, "changes", str(older), str(newer), "--currency", "gbp")
    printed = json.loads(out)
    assert (printed["currency"], printed["start"], printed["end"]) == ("GBP", 50.0, 80.0)


def test_the_same_commands_keep_snapshots_in_postgresql_with_db_a_url(
    tmp_path, capsys, postgres_url, monkeypatch
):
    where = "the PostgreSQL store " + postgres_url.rsplit("/", 1)[1] + " on 127.0.0.1:"
    for text, day in ((OLDER, "2026-11-13"), (NEWER, "2026-11-20")):
        export = tmp_path / f"{day}.csv"
        export.write_text(text)
        code, out, _ = run(capsys, "snapshot", "save", str(export), "--as-of", day,
                           "--db", postgres_url)  # fmt: skip
        assert code == 0
        assert out.startswith(f"Saved 14 deals as the snapshot of {day} in {where}")
    code, _, err = run(capsys, "snapshot", "save", str(export), "--as-of", "2026-11-20",
                       "--db", postgres_url)  # fmt: skip
    assert code == 2
    assert err.startswith("There is already a snapshot of Fri 20 Nov 2026 (14 deals")
    code, out, _ = run(capsys, "snapshot", "list", "--db", postgres_url, "--json")
    assert [(e["as_of"], e["deals"]) for e in json.loads(out)] == [
        ("2026-11-13", 14),
        ("2026-11-20", 14),
    ]
    # The figures of the DuckDB test above, from the database; and the variable alone names it.
    monkeypatch.setenv("CLOSEBOARD_DATABASE_URL", postgres_url)
    code, out, _ = run(capsys, "changes", "2026-11-13", "2026-11-20", "--json")
    assert code == 0
    report = json.loads(out)
    assert (report["start"], report["end"]) == (66067.89, 44084.18)
    assert [(row["opportunity_id"], row["pushes"]) for row in report["pushes"]] == [("A-3", 1)]
    code, out, _ = run(capsys, "snapshot", "delete", "2026-11-13")
    assert code == 0
    assert out.startswith(f"Deleted the snapshot of 2026-11-13 from {where}")
    code, out, _ = run(capsys, "snapshot", "list")
    assert out.startswith("2026-11-20         14 deals  saved ")
