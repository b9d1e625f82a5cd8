"""Follow-through on past close-today lists and forecast accuracy per rep, from snapshots of a
team of two (Ann and Ben) worked out by hand. Fiscal year = calendar year; as of Fri 20 Nov 2026,
day 50 of Q4 (1 Oct + 50 days)."""

from datetime import date
from decimal import Decimal

import pytest

from lib import follow_through as ft
from lib.db import resolve_deals
from lib.load.opportunities import load_opportunities
from lib.session import assemble
from lib.settings import Settings
from lib.store import list_snapshots, save_snapshot, snapshot_of_export
from lib.stores import DuckDBStore

AS_OF = date(2026, 11, 20)
SETTINGS = Settings(as_of=AS_OF)
HEADER = "Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount,Close Date,Probability\n"


def export(rows: str):
    return load_opportunities((HEADER + rows).encode(), "deals.csv")


def snapshot(as_of: date, rows: str):
    return snapshot_of_export(export(rows), as_of)


# Two weeks of close-today lists. At 6 Nov (window 0 days: due on or before 6 Nov, late stage,
# not overdue by more than 30 days):
#   A1 Ann $1,000 due 6 Nov   -> won 10 Nov (within 7 days of 6 Nov): won
#   A2 Ann $2,000 due 5 Nov   -> open, due 12 Nov on 13 Nov: pushed; named again on 13 Nov,
#                                open due 27 Nov in the current export: pushed again (twice)
#   A3 Ann $500 due 6 Nov     -> lost 9 Nov: lost
#   A4 Ann $50 due 1 Sep      -> stale (66 days overdue): not named
#   B1 Ben $3,000 due 4 Nov   -> in no later snapshot nor the current export: unknown
#   B2 Ben $400 due 6 Nov     -> still due 6 Nov on 13 Nov, won 18 Nov: closed later for 6 Nov,
#                                won within 7 days for 13 Nov
#   B3 Ben $100 due 6 Nov at 20 %: not late stage, not named
# At 13 Nov also A5 Ann $700 due 13 Nov -> open, due 13 Nov still: still open.
# At 2 Oct, outside the six weeks before 20 Nov: A0, never counted.
OCT_2 = snapshot(date(2026, 10, 2), "A0,Zero,Ann,Negotiation,999,2026-10-02,90\n")
NOV_6 = snapshot(
    date(2026, 11, 6),
    "A1,One,Ann,Negotiation,1000,2026-11-06,90\n"
    "A2,Two,Ann,Negotiation,2000,2026-11-05,90\n"
    "A3,Three,Ann,Proposal,500,2026-11-06,70\n"
    "A4,Four,Ann,Negotiation,50,2026-09-01,90\n"
    "B1,Bee one,Ben,Negotiation,3000,2026-11-04,90\n"
    "B2,Bee two,Ben,Proposal,400,2026-11-06,80\n"
    "B3,Bee three,Ben,Prospecting,100,2026-11-06,20\n",
)
NOV_13 = snapshot(
    date(2026, 11, 13),
    "A1,One,Ann,Closed Won,1000,2026-11-10,100\n"
    "A2,Two,Ann,Negotiation,2000,2026-11-12,90\n"
    "A3,Three,Ann,Closed Lost,500,2026-11-09,0\n"
    "A5,Five,Ann,Negotiation,700,2026-11-13,90\n"
    "B2,Bee two,Ben,Proposal,400,2026-11-06,80\n",
)

# Forecast accuracy. Day 50 of Q2 is 21 May: the snapshot of 18 May (3 days before) stands for
# it. Day 50 of Q3 is 20 Aug: its snapshot is of that day. Q1's day 50 is 20 Feb: the snapshot of
# 1 Feb is more than 6 days before it, so Q1 has none.
#   Q2 at 18 May: Ann won $1,000, Commit $2,000, Best Case $1,000, Pipeline $5,000:
#                 commit $3,000, best case $4,000; she won $3,000 in Q2 (the $1,000 Best Case
#                 deal was lost): commit error 0, best case +1/3.
#                 Ben Commit $1,000: commit = best case = $1,000; he won $2,000: both −50 %.
#   Q3 at 20 Aug: Ann won $500, Commit $1,500: commit = best case = $2,000; she won $2,500:
#                 −20 % both. Ben Best Case $800: commit $0, best case $800; he won nothing:
#                 no error.
FEB_1 = snapshot(date(2026, 2, 1), "Q1,Early,Ann,Negotiation,100,2026-03-01,90\n")
MAY_18 = snapshot(
    date(2026, 5, 18),
    "P1,Won April,Ann,Closed Won,1000,2026-04-10,100\n"
    "P2,Commit June,Ann,Negotiation,2000,2026-06-15,90\n"
    "P3,Best June,Ann,Proposal,1000,2026-06-20,70\n"
    "P4,Pipe June,Ann,Prospecting,5000,2026-06-25,20\n"
    "P5,Ben June,Ben,Negotiation,1000,2026-06-01,90\n",
)
AUG_20 = snapshot(
    date(2026, 8, 20),
    "R1,Won July,Ann,Closed Won,500,2026-07-15,100\n"
    "R2,Commit Sep,Ann,Negotiation,1500,2026-09-10,90\n"
    "R4,Ben Sep,Ben,Proposal,800,2026-09-05,70\n",
)
CURRENT_ROWS = (
    "A1,One,Ann,Closed Won,1000,2026-11-10,100\n"
    "A2,Two,Ann,Negotiation,2000,2026-11-27,90\n"
    "A3,Three,Ann,Closed Lost,500,2026-11-09,0\n"
    "A5,Five,Ann,Negotiation,700,2026-11-13,90\n"
    "B2,Bee two,Ben,Closed Won,400,2026-11-18,100\n"
    "P1,Won April,Ann,Closed Won,1000,2026-04-10,100\n"
    "P2,Commit June,Ann,Closed Won,2000,2026-06-15,100\n"
    "P3,Best June,Ann,Closed Lost,1000,2026-06-20,0\n"
    "P4,Pipe June,Ann,Closed Lost,5000,2026-06-25,0\n"
    "P5,Ben June,Ben,Closed Won,1000,2026-06-01,100\n"
    "P6,Ben new,Ben,Closed Won,1000,2026-06-28,100\n"
    "R1,Won July,Ann,Closed Won,500,2026-07-15,100\n"
    "R2,Commit Sep,Ann,Closed Won,1500,2026-09-10,100\n"
    "R3,New Sep,Ann,Closed Won,500,2026-09-20,100\n"
    "R4,Ben Sep,Ben,Closed Lost,800,2026-09-05,0\n"
)
CURRENT = export(CURRENT_ROWS)
ALL = (FEB_1, MAY_18, AUG_20, OCT_2, NOV_6, NOV_13)


def history(*snapshots) -> ft.History:
    return ft.History(tuple(snapshots), resolve_deals(CURRENT.deals))


@pytest.fixture(scope="module")
def record() -> ft.TrackRecord:
    return ft.track_record(history(*ALL), SETTINGS)


def test_each_named_deal_has_the_outcome_worked_by_hand():
    named = ft.named_deals(history(*ALL), SETTINGS)
    assert [(d.named_on.day, d.opportunity_id, d.outcome) for d in named] == [
        (6, "A2", "pushed"),
        (6, "A1", "won"),
        (6, "A3", "lost"),
        (6, "B1", "unknown"),
        (6, "B2", "closed_later"),
        (13, "A2", "pushed"),
        (13, "A5", "still_open"),
        (13, "B2", "won"),
    ]


def test_a_reps_follow_through_counts_each_naming_and_deals_pushed_twice(record):
    ann = record.follow_through["Ann"]
    assert ann.total.named == 5
    assert ann.total.named_amount == Decimal(6200)
    assert ann.total.counts == {"won": 1, "lost": 1, "pushed": 2, "closed_later": 0,
                                "still_open": 1, "unknown": 0}  # fmt: skip
    assert ann.total.amounts["pushed"] == Decimal(4000)
    assert ann.total.won_share == 1 / 5
    assert ann.pushed_twice == 1
    assert [(s.as_of.day, s.days_followed, s.outcomes.named) for s in ann.snapshots] == [
        (6, 7, 3),
        (13, 7, 2),
    ]
    ben = record.follow_through["Ben"]
    assert ben.total.counts == {"won": 1, "lost": 0, "pushed": 0, "closed_later": 1,
                                "still_open": 0, "unknown": 1}  # fmt: skip
    assert ben.pushed_twice == 0


def test_the_follow_through_line_says_it_in_one_sentence(record):
    assert ft.follow_through_line(record.follow_through["Ann"], "USD") == (
        "Last 6 weeks: 5 deals named ($6.2K) at 2 snapshots: 1 won within 7 days ($1K), "
        "1 lost, 2 pushed (1 deal twice), 1 still open"
    )
    assert ft.follow_through_line(record.follow_through["Ben"], "USD") == (
        "Last 6 weeks: 3 deals named ($3.8K) at 2 snapshots: 1 won within 7 days ($400), "
        "0 lost, 0 pushed, 1 closed later, 1 not seen again"
    )


def test_a_snapshot_followed_for_less_than_a_week_says_so():
    as_of = date(2026, 11, 16)
    rows = ft.follow_through(history(NOV_6, NOV_13), Settings(as_of=as_of))
    assert [s.days_followed for s in rows["Ann"].snapshots] == [7, 3]
    shown = ft.follow_through_rows(rows["Ann"], "USD")
    assert shown[1][0] == "Fri 13 Nov 2026 (3 d so far)"


def test_only_the_weeks_asked_for_are_followed():
    two_weeks = Settings(as_of=AS_OF, follow_through_weeks=1)
    rows = ft.follow_through(history(*ALL), two_weeks)
    assert [s.as_of for s in rows["Ann"].snapshots] == [date(2026, 11, 13)]


def test_each_reps_commit_and_best_case_are_judged_against_what_they_won(record):
    ann = record.accuracy["Ann"]
    q1, q2, q3 = ann.quarters
    assert (q1.period.label, q1.snapshot, q1.commit, q1.commit_error) == (
        "Q1 FY2026", None, None, None)  # fmt: skip
    assert (q2.same_day, q2.snapshot) == (date(2026, 5, 21), date(2026, 5, 18))
    assert (q2.commit, q2.best_case, q2.actual) == (3000, 4000, 3000)
    assert (q2.commit_error, q2.best_case_error) == (0, pytest.approx(1 / 3))
    assert (q3.snapshot, q3.commit, q3.best_case, q3.actual) == (date(2026, 8, 20), 2000,
                                                                 2000, 2500)  # fmt: skip
    assert ann.commit_mean_abs_error == pytest.approx(0.1)
    assert ann.commit_bias == pytest.approx(-0.1)
    assert ann.best_case_mean_abs_error == pytest.approx((1 / 3 + 0.2) / 2)
    assert ann.best_case_bias == pytest.approx((1 / 3 - 0.2) / 2)
    ben = record.accuracy["Ben"]
    assert [(q.commit, q.best_case, q.actual) for q in ben.quarters[1:]] == [
        (1000, 1000, 2000), (0, 800, 0)]  # fmt: skip
    assert ben.quarters[2].commit_error is None  # he won nothing: no error, not −100 %
    assert (ben.commit_mean_abs_error, ben.commit_bias) == (0.5, -0.5)


def test_the_accuracy_table_says_which_quarter_had_no_snapshot(record):
    rows = ft.accuracy_rows(record.accuracy["Ben"], "USD")
    assert rows[0] == ("Q1 FY2026", "– none saved 14 Feb–20 Feb 2026", "–", "–", "$0", "–", "–")
    assert rows[1] == ("Q2 FY2026", "18 May 2026", "$1K", "$1K", "$2K", "-50 %", "-50 %")
    assert rows[2][5:] == ("– nothing won", "– nothing won")
    assert ft.accuracy_line(record.accuracy["Ann"]) == (
        "Commit was off by 10 % on average (under by 10 %); best case by 27 % (over by 7 %), "
        "over 2 quarters."
    )


def test_without_snapshots_every_figure_is_null_and_the_reason_names_the_save_button():
    empty = ft.track_record(history(), SETTINGS)
    assert empty.follow_through == {} and empty.accuracy == {}
    assert ft.follow_through_json(empty, "Ann") is None
    assert ft.accuracy_json(empty, "Ann") is None
    assert empty.follow_through_note == (
        "no snapshot saved in the 6 weeks before 20 Nov 2026: save a snapshot each week to see "
        "this (“Save as snapshot” on “What changed since last week?”)"
    )
    assert empty.accuracy_note.startswith("no snapshot saved in week 8 of an earlier quarter")


def test_the_json_gives_fractions_iso_dates_and_nulls(record):
    ann = ft.follow_through_json(record, "Ann")
    assert (ann["named"], ann["won"], ann["pushed"], ann["pushed_twice"]) == (5, 1, 2, 1)
    assert ann["won_share"] == 0.2
    assert ann["snapshots"][0]["as_of"] == date(2026, 11, 6)
    nobody = ft.follow_through_json(record, "Cleo")
    assert (nobody["named"], nobody["won_share"], len(nobody["snapshots"])) == (0, None, 2)
    accuracy = ft.accuracy_json(record, "Ann")
    assert accuracy["quarters"][0]["commit"] is None
    assert accuracy["commit_bias"] == pytest.approx(-0.1)


def test_the_history_is_read_from_the_store_only_where_needed(tmp_path):
    path = tmp_path / "closeboard.duckdb"
    for saved in ALL:
        save_snapshot(saved, path)
    session = assemble(CURRENT, SETTINGS, store=DuckDBStore(path))
    read = ft.read_history(session)
    # 1 Feb and 2 Oct are neither in the six weeks nor the same week of a past quarter.
    assert [s.as_of for s in read.snapshots] == [date(2026, 5, 18), date(2026, 8, 20),
                                                 date(2026, 11, 6), date(2026, 11, 13)]  # fmt: skip
    assert len(list_snapshots(path)) == 6
    from_store = ft.track_record(read, SETTINGS)
    assert from_store.follow_through["Ann"].total.counts["pushed"] == 2
    assert from_store.accuracy["Ann"].commit_bias == pytest.approx(-0.1)
    # 1 Feb, saved but not read, still makes Q1 a quarter to judge: it has no snapshot that week.
    assert [q.snapshot for q in from_store.accuracy["Ann"].quarters] == [
        None, date(2026, 5, 18), date(2026, 8, 20)]  # fmt: skip


def test_a_store_that_cannot_be_read_gives_the_reason_not_a_traceback(tmp_path):
    path = tmp_path / "closeboard.duckdb"
    path.write_bytes(b"not a database at all" * 100)
    read = ft.read_history(assemble(CURRENT, SETTINGS, store=DuckDBStore(path)))
    assert read.snapshots == ()
    note = ft.track_record(read, SETTINGS).follow_through_note
    assert note.startswith("the snapshot store cannot be read: ")


def test_exports_without_ids_are_matched_by_name_account_and_owner_as_on_the_changes_page():
    header = "Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Close Date,Probability\n"
    then = snapshot_of_export(
        load_opportunities((header + "Alpha,Acme,Ann,Negotiation,1000,2026-11-13,90\n"
                            "Beta,Bolt,Ann,Negotiation,500,2026-11-13,90\n").encode(), "a.csv"),
        date(2026, 11, 13),
    )  # fmt: skip
    # Another row first: by the row numbers the loader made up, Alpha would be "New", lost.
    now = load_opportunities((header + "New,Cee,Ann,Closed Lost,10,2026-11-14,0\n"
                              "Beta,Bolt,Ann,Closed Won,500,2026-11-16,100\n"
                              "Alpha,Acme,Ann,Negotiation,1000,2026-11-30,90\n").encode(), "b.csv")  # fmt: skip
    named = ft.named_deals(ft.History((then,), resolve_deals(now.deals)), SETTINGS)
    assert [(deal.name, deal.outcome) for deal in named] == [("Alpha", "pushed"), ("Beta", "won")]


def test_a_named_deal_without_an_amount_is_counted_and_said_to_be_left_out_of_the_amounts():
    then = snapshot(date(2026, 11, 13), "N1,No amount,Ann,Negotiation,,2026-11-13,90\n"
                                        "N2,Priced,Ann,Negotiation,300,2026-11-13,90\n")  # fmt: skip
    now = export("N1,No amount,Ann,Closed Won,,2026-11-16,100\n"
                 "N2,Priced,Ann,Closed Won,300,2026-11-16,100\n")  # fmt: skip
    ann = ft.follow_through(ft.History((then,), resolve_deals(now.deals)), SETTINGS)["Ann"]
    assert (ann.total.counts["won"], ann.total.amounts["won"], ann.total.without_amount) == (
        2, Decimal(300), 1)  # fmt: skip
    assert ft.follow_through_line(ann, "USD").startswith(
        "Last 6 weeks: 2 deals named ($300; 1 without an amount, not in it) at 1 snapshot: "
        "2 won within 7 days ($300)"
    )


def test_snapshots_of_an_export_with_converted_amounts_keep_only_the_display_currencys():
    from tests.test_currencies import DUTCH_REPORT

    dutch = assemble(load_opportunities(DUTCH_REPORT, "rapport.csv"), Settings(date(2018, 7, 20)))
    # A snapshot has each deal's own amount: a GBP amount read as euros would be wrong.
    assert ft.snapshot_rates(dutch) == {"EUR": 1.0}
    assert ft.snapshot_rates(assemble(CURRENT, SETTINGS)) is None


def test_a_rep_without_a_deal_in_a_quarters_snapshot_has_no_commit_there_not_zero():
    # Cleo won $900 in Q2 but had no deal in the snapshot of 18 May: her commit then is unknown.
    current = export(CURRENT_ROWS + "C1,Cleo's,Cleo,Closed Won,900,2026-06-10,100\n")
    record = ft.forecast_accuracy(ft.History((MAY_18,), resolve_deals(current.deals)), SETTINGS)
    q2 = record["Cleo"].quarters[0]
    assert (q2.snapshot, q2.commit, q2.actual, q2.commit_error) == (date(2026, 5, 18), None, 900,
                                                                    None)  # fmt: skip
    assert ft.accuracy_rows(record["Cleo"], "USD")[0][5] == "– no deal in the snapshot"
    assert record["Cleo"].commit_mean_abs_error is None
