"""`python -m lib.cli inspect`: what the Data page shows, as JSON, and plain errors."""

import json
import subprocess
import sys
from pathlib import Path

from lib.cli import main

ROOT = Path(__file__).resolve().parent.parent


def test_inspect_json_reports_the_load_with_exact_figures(tmp_path, capsys):
    export = tmp_path / "deals.csv"
    export.write_text(
        "Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Create Date\n"
        "1,A,Closed won,1000,2026-11-02 17:00,Ann,2026-09-01 10:00\n"
        "2,B,Contract sent,2500.50,2026-11-30 17:00,Ann,2026-10-01 10:00\n"
        "2,B,Contract sent,2500.50,2026-11-30 17:00,Ann,2026-10-01 10:00\n"
        "3,C,Closed lost,,2026-10-15 17:00,Bo,2026-08-01 10:00\n"
        "4,D,Appointment scheduled,TBD,,Bo,2026-11-01 10:00\n"
    )
    assert main(["inspect", str(export), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["format"] == "HubSpot deals"
    assert report["mapping"]["owner"] == "Deal owner"
    assert (report["rows_read"], report["rows_loaded"], report["rows_rejected"]) == (5, 4, 1)
    assert report["rejected"] == {"duplicate opportunity ID (the first row with it is kept)": 1}
    assert (report["deals_won"], report["deals_lost"], report["deals_open"]) == (1, 1, 2)
    assert (report["amount_won"], report["amount_lost"], report["amount_open"]) == (
        1000.0,
        0.0,
        2500.5,
    )
    assert (report["close_date_min"], report["close_date_max"]) == ("2026-10-15", "2026-11-30")
    assert report["owners"] == 2
    assert report["unreadable"] == {"amount": {"count": 1, "examples": ["TBD"]}}


def test_inspect_of_headers_only_prints_rows_loaded_zero(tmp_path, capsys):
    export = tmp_path / "empty.csv"
    export.write_text("Opportunity Owner,Stage,Amount,Close Date\n")
    assert main(["inspect", str(export), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["rows_read"], report["rows_loaded"]) == (0, 0)


def test_inspect_applies_a_saved_mapping(tmp_path, capsys):
    export = tmp_path / "odd.csv"
    export.write_text("Seller,Phase,Worth,Due\nAnn,Closed Won,10,2026-11-02\n")
    mapping = tmp_path / "mapping.json"
    mapping.write_text(
        json.dumps(
            {
                "closeboard": "column mapping",
                "version": 1,
                "fields": {
                    "owner": "Seller",
                    "stage": "Phase",
                    "amount": "Worth",
                    "close_date": "Due",
                },
            }
        )
    )
    assert main(["inspect", str(export), "--mapping", str(mapping), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["deals_won"], report["amount_won"]) == (1, 10.0)


def test_an_unusable_file_exits_non_zero_with_the_plain_message():
    result = subprocess.run(
        [sys.executable, "-m", "lib.cli", "inspect", "tests/test_cli.py", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 2
    assert "has no column for the owner (the rep)" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""
