"""`python -m lib.cli inspect`: what the Data page shows, as JSON, and plain errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from lib.cli import main
from lib.load.mapping import mapping_to_json

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


ABANDONED = (
    "Record ID,Deal Name,Deal Stage,Amount,Close Date,Deal owner,Deal probability\n"
    "1,A,Closed: abandoned,1000,2026-01-02,Ann,10\n"
    "2,B,Closed: abandoned,2000.50,2026-02-02,Ann,10\n"
    "3,C,Closed: won,500,2026-02-02,Bo,100\n"
)


def test_inspect_lists_a_stage_whose_name_and_columns_disagree_as_a_question(tmp_path, capsys):
    export = tmp_path / "deals.csv"
    export.write_text(ABANDONED)
    assert main(["inspect", str(export), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == [
        {"stage": "Closed: abandoned", "deals": 2, "amount": 3000.5,
         "signals": {"stage name": {"closed": 2}, "Deal probability": {"open": 2}}}
    ]  # fmt: skip
    assert (report["deals_open"], report["amount_open"]) == (2, 3000.5)


def test_the_answer_saved_in_a_mapping_file_counts_the_stage_lost_and_asks_no_more(
    tmp_path, capsys
):
    export = tmp_path / "deals.csv"
    export.write_text(ABANDONED)
    mapping = tmp_path / "mapping.json"
    edit = {"status": "lost", "probability": 0.1, "late": False}
    fields = {"owner": "Deal owner", "stage": "Deal Stage", "amount": "Amount",
              "close_date": "Close Date"}  # fmt: skip
    mapping.write_text(mapping_to_json(fields, (), {"Closed: abandoned": edit}))
    assert main(["inspect", str(export), "--mapping", str(mapping), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["questions"] == []
    assert (report["deals_open"], report["deals_lost"], report["amount_lost"]) == (0, 2, 3000.5)


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


def test_report_lists_what_can_close_today_by_rep_with_the_window_and_threshold(tmp_path, capsys):
    from tests.test_close_today import EXPORT

    (tmp_path / "deals.csv").write_bytes(EXPORT)
    argv = ["report", "--opportunities", str(tmp_path / "deals.csv"), "--as-of", "2026-11-20"]
    assert main([*argv, "--json"]) == 0
    close_today = json.loads(capsys.readouterr().out)["close_today"]
    # Without the Data page's stage edit "Legal review" is not late: Bo's B-1 is off the list.
    assert [(r["owner"], r["count"], r["total"], r["weighted"]) for r in close_today] == [
        ("Ann", 2, 30000.0, 24000.0),
        ("Cy", 2, 12000.0, 10800.0),
        ("Bo", 1, 4000.0, 400.0),
    ]
    assert close_today[0]["deals"][1] == {
        "opportunity_id": "A-2", "name": "Birch platform", "account": "Birch",
        "stage": "Proposal", "amount": 20000.0, "probability": 0.75, "close_date": "2026-10-21",
        "days_overdue": 30, "days_since_activity": 30, "next_step": None,
        "flags": ["close date passed: close it or move it", "no activity ≥ 14 days",
                  "no next step"], "stale": False,
    }  # fmt: skip
    assert main([*argv, "--window-days", "7", "--min-probability", "0.8"]) == 0
    week = json.loads(capsys.readouterr().out)["close_today"]
    # Best Case still counts by category; tomorrow's A-3 joins Ann's Commit deals.
    assert [[d["opportunity_id"] for d in r["deals"]] for r in week] == [
        ["A-1", "A-3", "A-2"],
        ["C-1", "C-2"],
        ["B-2"],
    ]


def test_report_keeps_stale_deals_out_of_the_counts_after_the_days_asked(tmp_path, capsys):
    from tests.test_close_today import STALE_EXPORT

    (tmp_path / "deals.csv").write_bytes(STALE_EXPORT)
    argv = ["report", "--opportunities", str(tmp_path / "deals.csv"), "--as-of", "2026-11-20"]
    assert main(argv) == 0
    ann, *_, dee = json.loads(capsys.readouterr().out)["close_today"]
    # A-5, 31 days overdue, is stale by default: in Ann's deals, not in her count or total.
    assert (ann["count"], ann["total"]) == (2, 30000.0)
    assert [(d["opportunity_id"], d["stale"]) for d in ann["deals"]] == [
        ("A-1", False), ("A-2", False), ("A-5", True)
    ]  # fmt: skip
    assert (dee["owner"], dee["count"], dee["total"], dee["deals"][0]["stale"]) == (
        "Dee", 0, 0.0, True
    )  # fmt: skip
    assert main([*argv, "--stale-after-days", "31"]) == 0
    ann = json.loads(capsys.readouterr().out)["close_today"][0]
    assert (ann["count"], ann["total"]) == (3, 42000.0)
    assert not any(deal["stale"] for deal in ann["deals"])


def test_report_refuses_a_probability_given_as_a_percentage(capsys):
    sample = str(ROOT / "sample_data" / "opportunities.csv")
    argv = ["report", "--opportunities", sample, "--min-probability", "60"]
    assert main(argv) == 2
    assert "fraction from 0 to 1 (0.6 for 60 %), not 60.0" in capsys.readouterr().err


def test_report_lists_each_warning_with_its_figure_and_deals(tmp_path, capsys):
    from tests.test_pipeline_warnings import EXPORT, TARGETS

    (tmp_path / "deals.csv").write_bytes(EXPORT)
    (tmp_path / "targets.csv").write_bytes(TARGETS)
    argv = ["report", "--opportunities", str(tmp_path / "deals.csv"), "--targets",
            str(tmp_path / "targets.csv"), "--as-of", "2026-11-20"]  # fmt: skip
    assert main(argv) == 0
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert warnings[0] == {
        "scope": "rep",
        "owner": "Ann",
        "kind": "concentration",
        "severity": "critical",
        "value": 0.9,
        "message": "Ann: 90 % of the open pipeline is one deal, a1 ($90K). "
        "Effective number of deals: 1.2.",
        "opportunity_ids": ["a1"],
    }
    kinds = {(w["owner"], w["kind"]) for w in warnings}
    assert ("Bo", "slipping") in kinds
    assert all(w["severity"] in ("warn", "critical") for w in warnings)


def test_report_gives_each_reps_coaching_figures_and_takes_the_referral_keywords(tmp_path, capsys):
    from tests.test_coaching import EXPORT, TARGETS

    (tmp_path / "deals.csv").write_bytes(EXPORT)
    (tmp_path / "targets.csv").write_bytes(TARGETS)
    argv = ["report", "--opportunities", str(tmp_path / "deals.csv"), "--targets",
            str(tmp_path / "targets.csv"), "--as-of", "2026-11-20"]  # fmt: skip
    assert main(argv) == 0
    coaching = json.loads(capsys.readouterr().out)["coaching"]
    assert [rep["owner"] for rep in coaching] == ["Ann", "Bo", "Cy", "Eve", "Zed"]
    assert coaching[1] == {
        "owner": "Bo", "won_deals": 4, "referral_deals_created": 1, "referral_ratio": 0.25,
        "repeat_business_deals": 1, "win_rate": 0.8, "avg_deal_size": 7750.0,
        "sales_cycle_days": 35.0, "pipeline_created": 41000.0,
        # No snapshot saved: nothing to follow through or judge a forecast by.
        "follow_through": None, "forecast_accuracy": None,
    }  # fmt: skip
    cy = coaching[2]
    assert (cy["won_deals"], cy["referral_ratio"], cy["avg_deal_size"]) == (0, None, None)
    assert main([*argv, "--referral-keywords", "partner, introduction"]) == 0
    coaching = json.loads(capsys.readouterr().out)["coaching"]
    # Bo's "Partner" deal now counts and his "REFERRAL" one does not; Ann keeps a6.
    assert [rep["referral_deals_created"] for rep in coaching[:2]] == [1, 1]


def test_help_answers_without_loading_duckdb_pandas_or_arrow():
    script = (
        "import sys\n"
        "from lib.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print(sorted(m for m in ('duckdb', 'pandas', 'pyarrow') if m in sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, check=True
    )
    assert "python -m lib.cli" in result.stdout
    assert result.stdout.strip().endswith("[]")


def test_inspect_json_lists_placeholder_dates_per_field(tmp_path, capsys):
    export = tmp_path / "placeholders.csv"
    export.write_text(
        "Opportunity Owner,Stage,Amount,Close Date,Created Date\n"
        "Ann,Prospecting,100,9999-12-31,1900-01-01\n"
        "Ann,Prospecting,200,2026-11-20,2026-10-01\n"
    )
    assert main(["inspect", str(export), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["placeholder_dates"] == {
        "close_date": {"count": 1, "examples": ["9999-12-31"]},
        "created_date": {"count": 1, "examples": ["1900-01-01"]},
    }
    assert report["unreadable"] == {}


def test_inspect_json_names_the_converted_amount_column_and_its_currency(tmp_path, capsys):
    export = tmp_path / "rapport.csv"
    export.write_bytes(
        b"Opportunity Owner;Stage;Amount Currency;Amount;Amount (converted) Currency;"
        b"Amount (converted);Close Date\r\n"
        b"Jan;Negotiation/Review;EUR;13884,00;EUR;13884,00;17-7-2018\r\n"
        b"Jan;Prospecting;GBP;2.000,00;EUR;2.300,00;30-9-2018\r\n"
    )
    assert main(["inspect", str(export), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["amount_column"], report["currency"]) == ("Amount (converted)", "EUR")
    assert report["currencies"] == ["EUR", "GBP"]
    assert report["amount_open"] == 16184.0


def test_inspect_json_has_no_amount_column_without_converted_amounts(tmp_path, capsys):
    export = tmp_path / "plain.csv"
    export.write_text("Opportunity Owner,Stage,Amount,Close Date\nAnn,Prospecting,100,2026-11-20\n")
    assert main(["inspect", str(export), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert "amount_column" not in report and "currency" not in report


def test_report_gives_each_reps_follow_through_and_forecast_accuracy_from_the_store(
    tmp_path, capsys
):
    from lib.store import save_snapshot
    from tests.test_follow_through import ALL, CURRENT_ROWS, HEADER

    db = tmp_path / "closeboard.duckdb"
    for snapshot in ALL:
        save_snapshot(snapshot, db)
    (tmp_path / "deals.csv").write_text(HEADER + CURRENT_ROWS)
    argv = ["report", "--opportunities", str(tmp_path / "deals.csv"), "--as-of", "2026-11-20",
            "--db", str(db)]  # fmt: skip
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    ann = next(rep for rep in printed["coaching"] if rep["owner"] == "Ann")
    follow = ann["follow_through"]
    assert (follow["named"], follow["won"], follow["lost"], follow["pushed"]) == (5, 1, 1, 2)
    assert (follow["pushed_twice"], follow["won_share"], follow["won_amount"]) == (1, 0.2, 1000.0)
    assert [week["as_of"] for week in follow["snapshots"]] == ["2026-11-06", "2026-11-13"]
    accuracy = ann["forecast_accuracy"]
    assert [q["snapshot"] for q in accuracy["quarters"]] == [None, "2026-05-18", "2026-08-20"]
    assert accuracy["quarters"][1]["best_case_error"] == pytest.approx(1 / 3)
    assert accuracy["commit_bias"] == pytest.approx(-0.1)
    assert printed["track_record_skipped"] == []
    assert main([*argv, "--follow-through-weeks", "1"]) == 0
    ann = next(r for r in json.loads(capsys.readouterr().out)["coaching"] if r["owner"] == "Ann")
    assert [week["as_of"] for week in ann["follow_through"]["snapshots"]] == ["2026-11-13"]


def test_report_without_snapshots_says_why_the_track_record_is_empty(tmp_path, capsys):
    from tests.test_follow_through import CURRENT_ROWS, HEADER

    (tmp_path / "deals.csv").write_text(HEADER + CURRENT_ROWS)
    argv = ["report", "--opportunities", str(tmp_path / "deals.csv"), "--as-of", "2026-11-20",
            "--db", str(tmp_path / "none.duckdb")]  # fmt: skip
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert {rep["follow_through"] for rep in printed["coaching"]} == {None}
    assert [entry["kind"] for entry in printed["track_record_skipped"]] == [
        "follow_through", "forecast_accuracy"]  # fmt: skip
    assert "“Save as snapshot”" in printed["track_record_skipped"][0]["reason"]
