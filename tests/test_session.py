"""One session model (lib/session.py) for the app, the CLI and the SQL box: pushes, rates, quotas."""

import json
from datetime import date

from lib.cli import main
from lib.close_today import NO_NEXT_STEP
from lib.load.opportunities import load_opportunities
from lib.session import assemble, session_rates
from lib.settings import Settings
from lib.store import save_snapshot, snapshot_of_export
from lib.stores import DuckDBStore

HEADER = (
    "Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount,Probability (%),Close Date\n"
)
# Deal P-1's close date moves later twice over three weekly exports (10 Nov -> 17 Nov -> 20 Nov);
# Q-1's stays put. Both are late stage and due on the last export's date, 20 Nov.
WEEKS = {
    date(2026, 11, 6): "P-1,Pushed,Ann,Negotiation/Review,1000,90,2026-11-10\n"
    "Q-1,Steady,Ann,Negotiation/Review,500,90,2026-11-20\n",
    date(2026, 11, 13): "P-1,Pushed,Ann,Negotiation/Review,1000,90,2026-11-17\n"
    "Q-1,Steady,Ann,Negotiation/Review,500,90,2026-11-20\n",
    date(2026, 11, 20): "P-1,Pushed,Ann,Negotiation/Review,1000,90,2026-11-20\n"
    "Q-1,Steady,Ann,Negotiation/Review,500,90,2026-11-20\n",
}
LAST = date(2026, 11, 20)


def export_of(rows: str, name: str = "deals.csv"):
    return load_opportunities((HEADER + rows).encode(), name)


def saved_weeks(path, weeks=WEEKS):
    for as_of, rows in weeks.items():
        save_snapshot(snapshot_of_export(export_of(rows), as_of), path)


def close_today_flags(report: dict) -> dict[str, list[str]]:
    return {
        deal["opportunity_id"]: deal["flags"]
        for owner in report["close_today"]
        for deal in owner["deals"]
    }


def test_a_session_counts_pushes_over_the_stores_snapshots(tmp_path):
    store = tmp_path / "store.duckdb"
    saved_weeks(store)
    session = assemble(export_of(WEEKS[LAST]), Settings(as_of=LAST), store=DuckDBStore(store))
    pushes = {row["opportunity_id"]: row["pushes"] for row in session.push_counts.to_pylist()}
    assert pushes == {"P-1": 2}


def test_a_session_without_a_store_counts_no_pushes(tmp_path):
    session = assemble(
        export_of(WEEKS[LAST]), Settings(as_of=LAST), store=DuckDBStore(tmp_path / "none")
    )
    assert session.push_counts.num_rows == 0
    assert not (tmp_path / "none").exists()


def test_report_with_db_flags_the_deal_pushed_twice_as_the_close_today_page_does(tmp_path, capsys):
    store = tmp_path / "weeks.duckdb"
    saved_weeks(store, {day: rows for day, rows in WEEKS.items() if day < LAST})
    export = tmp_path / "this-week.csv"
    export.write_text(HEADER + WEEKS[LAST])
    argv = ["report", "--opportunities", str(export), "--as-of", LAST.isoformat()]

    assert main([*argv, "--db", str(store)]) == 0
    flags = close_today_flags(json.loads(capsys.readouterr().out))
    assert flags == {"P-1": ["close date pushed 2 times", NO_NEXT_STEP], "Q-1": [NO_NEXT_STEP]}

    assert main(argv) == 0  # the default store ($CLOSEBOARD_DB) holds no snapshot
    flags = close_today_flags(json.loads(capsys.readouterr().out))
    assert flags == {"P-1": [NO_NEXT_STEP], "Q-1": [NO_NEXT_STEP]}


def test_rates_typed_by_the_user_win_and_one_currency_needs_none():
    mixed = load_opportunities(
        b"Opportunity Owner,Stage,Amount,Close Date,Opportunity Currency\n"
        b"Ann,Prospecting,10,2026-12-01,EUR\nAnn,Prospecting,20,2026-12-01,EUR\n"
        b"Bo,Prospecting,30,2026-12-01,USD\n",
        "mixed.csv",
    )
    assert session_rates(mixed) == {"EUR": 1.0}  # no euro added to a dollar
    assert session_rates(mixed, {"EUR": 1.0, "USD": 0.9}) == {"EUR": 1.0, "USD": 0.9}
    assert session_rates(export_of(WEEKS[LAST])) is None


def test_a_session_dates_stage_entries_from_the_stores_snapshots_and_marks_stalled_deals(tmp_path):
    # Three saved weekly snapshots and the export of 20 Nov; each change is dated at the first
    # snapshot that shows it. R-1 was in Negotiation/Review from 6 to 13 Nov, then won: the
    # stage's median is 7 days. Q-1 entered it on 13 Nov: 7 days on 20 Nov, under 2 × 7.
    weeks = {
        date(2026, 10, 30): "R-1,Won,Ann,Prospecting,700,10,2026-11-13\n",
        date(2026, 11, 6): "Q-1,Steady,Ann,Prospecting,500,10,2026-11-30\n"
        "R-1,Won,Ann,Negotiation/Review,700,90,2026-11-13\n",
        date(2026, 11, 13): "Q-1,Steady,Ann,Negotiation/Review,500,90,2026-11-30\n"
        "R-1,Won,Ann,Closed Won,700,100,2026-11-13\n",
    }
    path = tmp_path / "store.duckdb"
    saved_weeks(path, weeks)
    export = export_of(
        "Q-1,Steady,Ann,Negotiation/Review,500,90,2026-11-30\n"
        "R-1,Won,Ann,Closed Won,700,100,2026-11-13\n"
    )
    session = assemble(export, Settings(as_of=LAST), store=DuckDBStore(path))
    entries = [tuple(row.values()) for row in session.stage_entries.to_pylist()]
    assert entries == [
        ("Q-1", "Prospecting", date(2026, 11, 6)),
        ("Q-1", "Negotiation/Review", date(2026, 11, 13)),
        ("R-1", "Prospecting", date(2026, 10, 30)),
        ("R-1", "Negotiation/Review", date(2026, 11, 6)),
        ("R-1", "Closed Won", date(2026, 11, 13)),
    ]
    days = [tuple(row.values()) for row in session.stage_days.to_pylist()]
    assert days == [("Q-1", "Negotiation/Review", date(2026, 11, 13), 7, 7.0, False)]
    con = session.connection()
    assert con.sql("SELECT opportunity_id, days_in_stage FROM stage_days").fetchall() == [
        ("Q-1", 7)
    ]


def test_a_session_of_a_plain_export_without_snapshots_has_no_stage_history(tmp_path):
    session = assemble(
        export_of(WEEKS[LAST]), Settings(as_of=LAST), store=DuckDBStore(tmp_path / "x")
    )
    assert session.stage_entries is None
    assert session.stage_days.num_rows == 0
