"""`python -m lib.cli inspect`: what the Data page shows, as JSON, and plain errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_report_prints_pacing_for_the_team_and_each_rep(tmp_path, capsys):
    from tests.test_pacing import DEALS, REPS, TARGETS

    for name, content in (("deals.csv", DEALS), ("targets.csv", TARGETS), ("reps.csv", REPS)):
        (tmp_path / name).write_bytes(content)
    argv = ["report", "--opportunities", str(tmp_path / "deals.csv"), "--targets",
            str(tmp_path / "targets.csv"), "--reps", str(tmp_path / "reps.csv"),
            "--as-of", "2024-03-10", "--fiscal-year-start", "2", "--json"]  # fmt: skip
    assert main(argv) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["as_of"] == "2024-03-10"
    assert report["period"] == {"label": "Q1 FY2025", "start": "2024-02-01", "end": "2024-04-30"}
    team = report["pacing"]["team"]
    assert (team["budget"], team["closed_to_date"], team["last_year_to_date"]) == (5500, 2300, 800)
    assert team["expected_to_date"] == pytest.approx(5500 * 27 / 64)
    assert [rep["owner"] for rep in report["pacing"]["owners"]] == ["Ann", "Cy", "Bo"]
    bo = report["pacing"]["owners"][2]
    assert (bo["team"], bo["budget"], bo["pacing_index"], bo["yoy"]) == ("East", None, None, None)
    assert set(bo) == {"owner", "team", "budget", "closed_to_date", "expected_to_date",
                       "pacing_index", "last_year_to_date", "yoy", "projection_run_rate",
                       "projection_weighted", "projection_commit", "projection_best_case", "gap",
                       "required_per_business_day", "achieved_per_business_day"}  # fmt: skip


def test_report_paces_on_last_years_shape_when_asked(tmp_path, capsys):
    from tests.test_pacing import DEALS, REPS, TARGETS

    for name, content in (("deals.csv", DEALS), ("targets.csv", TARGETS), ("reps.csv", REPS)):
        (tmp_path / name).write_bytes(content)
    argv = ["report", "--opportunities", str(tmp_path / "deals.csv"), "--targets",
            str(tmp_path / "targets.csv"), "--reps", str(tmp_path / "reps.csv"),
            "--as-of", "2024-03-10", "--fiscal-year-start", "2", "--pace", "last_year"]  # fmt: skip
    assert main(argv) == 0
    team = json.loads(capsys.readouterr().out)["pacing"]["team"]
    assert team["expected_to_date"] == pytest.approx(5500 * 0.4)
