"""What can we close today: the lists, their order, flags and CSV, on a hand-built export.

As of Friday 2026-11-20. The deals, and why each is or is not on the list with window 0:

    Ann  A-1  Commit     10,000 × 90 %  due today          on (weighted 9,000)
    Ann  A-2  Best Case  20,000 × 75 %  due 21 Oct 2026    on, 30 days overdue (weighted 15,000):
                                                           the most a deal may be and not be stale
    Ann  A-3  Commit      5,000 × 90 %  due tomorrow       off with window 0, on with 7
    Ann  A-4  Closed Won 50,000         closed 1 Sep 2026  never (won)
    Bo   B-1  Legal review, no probability in the file (the stage's 20 %), stage marked late,
              8,000, due 18 Nov       on, 2 days overdue (weighted 1,600)
    Bo   B-2  Commit by forecast category, 10 %, 4,000, due 10 Nov   on (weighted 400)
    Bo   B-3  Pipeline, 10 %, 3,000, due 19 Nov                       off (not late stage)
    Cy   C-2, C-1  Commit 6,000 × 90 %, both due 19 Nov               on, C-1 first (same weight)
    Cy   C-9  Closed Lost 9,000, close 1 Oct                          never (lost)

Totals: Ann 30,000 (weighted 24,000); Bo 12,000 (2,000); Cy 12,000 (10,800): Bo before Cy by name.
"""

import io
from datetime import date
from decimal import Decimal

import pandas as pd
import pyarrow as pa
import pytest

from lib.close_today import (
    NO_NEXT_STEP,
    OVERDUE,
    close_today,
    deal_flags,
    deals_table,
    every_deal,
    for_report,
    headline,
    late_stage_rule,
    nearest,
    stale,
    stalled_flag,
    window_in_words,
)
from lib.db import open_database
from lib.downloads import safe_csv
from lib.load.opportunities import load_opportunities
from lib.settings import Settings

AS_OF = date(2026, 11, 20)
EXPORT = b"""Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Probability (%),Close Date,Last Activity,Next Step,Forecast Category
A-1,Acme renewal,Acme,Ann,Negotiation,10000,90,2026-11-20,2026-11-19,Countersign today,Commit
A-2,Birch platform,Birch,Ann,Proposal,20000,75,2026-10-21,2026-10-21,,Best Case
A-3,Cedar add-on,Cedar,Ann,Negotiation,5000,90,2026-11-21,2026-11-20,Awaiting PO,Commit
A-4,Delta licence,Delta,Ann,Closed Won,50000,100,2026-09-01,2026-09-01,,Closed
B-1,Elm pilot,Elm,Bo,Legal review,8000,,2026-11-18,,Send contract,
B-2,Fir expansion,Fir,Bo,Discovery,4000,10,2026-11-10,2026-11-20,Call the CFO,Commit
B-3,Gum tree,Gum,Bo,Discovery,3000,10,2026-11-19,2026-11-20,Demo,Pipeline
C-2,Juniper two,Juniper,Cy,Negotiation,6000,90,2026-11-19,2026-11-13,Sign,Commit
C-1,Juniper one,Juniper,Cy,Negotiation,6000,90,2026-11-19,2026-11-06,Sign,Commit
C-9,Kauri,Kauri,Cy,Closed Lost,9000,0,2026-10-01,2026-10-01,,Omitted
"""
# The Data page's stage table: "Legal review" marked late, at 20 %.
LATE_LEGAL_REVIEW = {"Legal review": {"status": "open", "probability": 0.2, "late": True}}


def database(export: bytes = EXPORT, stage_edits=None):
    edits = LATE_LEGAL_REVIEW if stage_edits is None else stage_edits
    return open_database(load_opportunities(export, "deals.csv", stage_edits=edits).deals)


def settings(**changes) -> Settings:
    return Settings(**{"as_of": AS_OF, **changes})


def ids(lists) -> dict[str, list[str]]:
    return {rep.owner: [deal.opportunity_id for deal in rep.deals] for rep in lists}


def test_due_today_overdue_and_late_stage_deals_are_listed_by_rep_in_work_order():
    lists = close_today(database(), settings())
    assert ids(lists) == {"Ann": ["A-1", "A-2"], "Bo": ["B-2", "B-1"], "Cy": ["C-1", "C-2"]}
    assert [(rep.owner, rep.count, rep.total, rep.weighted) for rep in lists] == [
        ("Ann", 2, Decimal("30000.00"), Decimal("24000.00")),
        ("Bo", 2, Decimal("12000.00"), Decimal("2000.00")),
        ("Cy", 2, Decimal("12000.00"), Decimal("10800.00")),
    ]


def test_a_deal_due_tomorrow_is_off_the_list_today_and_on_it_within_7_days():
    assert "A-3" not in ids(close_today(database(), settings()))["Ann"]
    week = close_today(database(), settings(close_window_days=7))
    assert ids(week)["Ann"] == ["A-1", "A-3", "A-2"]
    assert (week[0].total, week[0].weighted) == (Decimal("35000.00"), Decimal("28500.00"))


def test_won_and_lost_deals_with_past_close_dates_are_never_listed():
    listed = {deal for deals in ids(close_today(database(), settings())).values() for deal in deals}
    assert not listed & {"A-4", "C-9"}


def test_a_stage_marked_late_lists_a_deal_that_has_no_probability_of_its_own():
    bo = close_today(database(), settings())[1]
    elm = next(deal for deal in bo.deals if deal.opportunity_id == "B-1")
    assert (elm.probability, elm.forecast_category, elm.weighted) == (
        0.2,
        "Pipeline",
        Decimal("1600.00"),
    )
    unmarked = close_today(database(stage_edits={}), settings())
    assert ids(unmarked)["Bo"] == ["B-2"]


def test_a_commit_forecast_category_lists_a_deal_below_the_probability_threshold():
    fir = close_today(database(), settings())[1].deals[0]
    assert (fir.opportunity_id, fir.probability, fir.forecast_category) == ("B-2", 0.1, "Commit")
    without_categories = close_today(database(), settings(late_forecast_categories=()))
    assert ids(without_categories) == {"Ann": ["A-1", "A-2"], "Cy": ["C-1", "C-2"], "Bo": ["B-1"]}


def test_the_probability_threshold_and_categories_together_make_the_late_stage_rule():
    # At 80 % and Commit only, Ann's 75 % Best Case deal drops off.
    strict = close_today(
        database(), settings(late_min_probability=0.8, late_forecast_categories=("Commit",))
    )
    assert ids(strict)["Ann"] == ["A-1"]


def test_days_overdue_and_days_since_activity_are_counted_from_the_as_of_date():
    ann, bo, cy = close_today(database(), settings())
    days = {
        deal.opportunity_id: (deal.days_overdue, deal.days_since_activity)
        for deal in (*ann.deals, *bo.deals, *cy.deals)
    }
    # 21 Oct -> 20 Nov is 10 + 20 = 30 days, and so is the last activity on 21 Oct.
    assert days == {
        "A-1": (0, 1),
        "A-2": (30, 30),
        "B-2": (10, 0),
        "B-1": (2, None),
        "C-1": (1, 14),
        "C-2": (1, 7),
    }


def test_activity_after_an_as_of_date_in_the_past_is_zero_days_ago_not_negative():
    # As of 19 November, A-1 was last worked on the 19th and A-3 on the 20th, a day later.
    week = close_today(database(), settings(as_of=date(2026, 11, 19), close_window_days=7))
    (ann,) = [rep for rep in week if rep.owner == "Ann"]
    days = {deal.opportunity_id: deal.days_since_activity for deal in ann.deals}
    assert (days["A-1"], days["A-3"]) == (0, 0)


def test_one_reps_list_is_the_same_as_in_the_whole_teams():
    ann, bo, cy = close_today(database(), settings())
    (bo_alone,) = close_today(database(), settings(), "Bo")
    assert (bo_alone.owner, bo_alone.count, bo_alone.total, bo_alone.weighted) == (
        bo.owner, bo.count, bo.total, bo.weighted,
    )  # fmt: skip
    assert bo_alone.deals == bo.deals
    assert close_today(database(), settings(), "Nobody") == []


def test_flags_say_overdue_quiet_and_without_next_step():
    ann, bo, cy = close_today(database(), settings())
    flags = {deal.opportunity_id: deal.flags for deal in (*ann.deals, *bo.deals, *cy.deals)}
    assert flags == {
        "A-1": (),
        "A-2": (OVERDUE, "no activity ≥ 14 days", NO_NEXT_STEP),
        "B-2": (OVERDUE,),
        "B-1": (OVERDUE,),  # no activity date in the file: not flagged for it
        "C-1": (OVERDUE, "no activity ≥ 14 days"),
        "C-2": (OVERDUE,),
    }
    assert OVERDUE == "close date passed: close it or move it"


def push_counts(**pushes: int) -> pa.Table:
    return pa.table(
        {"opportunity_id": list(pushes), "pushes": pa.array(pushes.values(), pa.int32())}
    )


def test_a_close_date_pushed_twice_is_flagged_from_the_push_counts():
    deals = load_opportunities(EXPORT, "deals.csv", stage_edits=LATE_LEGAL_REVIEW).deals
    # A-1 pushed twice, A-2 once, B-2 three times (IDs as the push_counts table holds them).
    con = open_database(deals, push_counts=push_counts(**{"A-1": 2, "A-2": 1, "B-2": 3}))
    ann, bo, _ = close_today(con, settings())
    flags = {deal.opportunity_id: deal.flags for deal in (*ann.deals, *bo.deals)}
    assert flags["A-1"] == ("close date pushed 2 times",)
    assert flags["A-2"] == (OVERDUE, "no activity ≥ 14 days", NO_NEXT_STEP)
    assert flags["B-2"] == (OVERDUE, "close date pushed 3 times")
    # Without history nothing is flagged for pushes.
    assert close_today(database(), settings())[0].deals[0].flags == ()


def test_the_pushes_flag_starts_at_the_threshold_in_the_settings():
    assert deal_flags(0, None, "Call", settings(), pushes=1) == ()
    assert deal_flags(0, None, "Call", settings(pushes_to_flag=1), pushes=1) == (
        "close date pushed once",
    )
    assert deal_flags(3, None, "Call", settings(), pushes=2) == (
        OVERDUE,
        "close date pushed 2 times",
    )


def test_the_no_activity_flag_starts_at_the_threshold():
    assert deal_flags(0, 13, "Call", settings()) == ()
    assert deal_flags(0, 14, "Call", settings()) == ("no activity ≥ 14 days",)
    assert deal_flags(0, 20, "  ", settings(no_activity_days=30)) == (NO_NEXT_STEP,)


def test_ties_are_broken_by_close_date_then_id_and_reps_by_name():
    export = b"""Opportunity ID,Opportunity Owner,Stage,Forecast Category,Amount,Probability (%),Close Date
9,Zed,Proposal,Best Case,1000,50,2026-11-20
3,Zed,Negotiation,Commit,100,90,2026-11-20
2,Zed,Negotiation,Commit,100,90,2026-11-20
1,Zed,Negotiation,Commit,100,90,2026-11-21
4,Zed,Negotiation,Pipeline,5000,90,2026-11-01
5,Amy,Discovery,Commit,6300,10,2026-11-20
"""
    lists = close_today(database(export), settings(as_of=date(2026, 11, 21)))
    # Zed and Amy both total 6,300: Amy first by name. Commit before Best Case before the
    # rest (4 is Pipeline, listed for its 90 %); equal Commit deals by close date, then by ID.
    assert ids(lists) == {"Amy": ["5"], "Zed": ["2", "3", "1", "9", "4"]}
    assert [rep.owner for rep in lists] == ["Amy", "Zed"]


def test_each_reps_totals_are_those_of_its_deals_and_every_deal_reads_them_rep_by_rep():
    lists = close_today(database(), settings(close_window_days=7))
    assert len(lists) == 3
    for rep in lists:
        assert rep.count == len(rep.deals)
        assert rep.total == sum(deal.amount or Decimal(0) for deal in rep.deals)
        assert rep.weighted == sum(deal.weighted or Decimal(0) for deal in rep.deals)
        assert {deal.owner for deal in rep.deals} == {rep.owner}
    every = [deal.opportunity_id for deal in every_deal(lists)]
    assert every == [deal.opportunity_id for rep in lists for deal in rep.deals]


def test_the_nearest_deals_after_the_window_are_offered_when_a_rep_has_none_now():
    assert [d.opportunity_id for d in nearest(database(), settings(), "Ann")] == ["A-3"]
    assert nearest(database(), settings(), "Cy") == []
    # On 1 August nothing is due yet: the team's nearest, soonest first.
    early = settings(as_of=date(2026, 8, 1))
    assert close_today(database(), early) == []
    assert [d.opportunity_id for d in nearest(database(), early)] == [
        "A-2",
        "B-2",
        "B-1",
        "C-1",
        "C-2",
    ]


def test_the_report_section_lists_owners_and_deals_in_page_order():
    section = for_report(close_today(database(), settings()), stale(database(), settings()))
    assert [rep["owner"] for rep in section] == ["Ann", "Bo", "Cy"]
    assert section[0] == {
        "owner": "Ann",
        "count": 2,
        "total": Decimal("30000.00"),
        "weighted": Decimal("24000.00"),
        "without_amount": 0,
        "deals": [
            {"opportunity_id": "A-1", "name": "Acme renewal", "account": "Acme",
             "stage": "Negotiation", "amount": Decimal("10000.00"), "probability": 0.9,
             "close_date": date(2026, 11, 20), "days_overdue": 0, "days_since_activity": 1,
             "next_step": "Countersign today", "flags": (), "stale": False},
            {"opportunity_id": "A-2", "name": "Birch platform", "account": "Birch",
             "stage": "Proposal", "amount": Decimal("20000.00"), "probability": 0.75,
             "close_date": date(2026, 10, 21), "days_overdue": 30, "days_since_activity": 30,
             "next_step": None, "flags": (OVERDUE, "no activity ≥ 14 days", NO_NEXT_STEP),
             "stale": False},
        ],
    }  # fmt: skip


FORMULAS = b"""Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Probability (%),Close Date,Next Step
X-1,=HYPERLINK("http://evil.example"),@SUM(A1),Dee,Negotiation,-500,90,2026-11-20,+1 call
X-2,Plain deal,Plain,Dee,Negotiation,700,90,2026-11-20,-
"""


def test_formula_cells_in_the_csv_download_are_neutralised_and_numbers_stay_numbers():
    (dee,) = close_today(database(FORMULAS, {}), settings())
    text = safe_csv(deals_table(dee.deals, with_owner=False)).decode("utf-8-sig")
    table = pd.read_csv(io.StringIO(text), dtype=str, keep_default_na=False)
    # Both Commit (90 %): the larger weighted amount first.
    assert table["Deal"].tolist() == ["Plain deal", '\'=HYPERLINK("http://evil.example")']
    assert table["Account"].tolist() == ["Plain", "'@SUM(A1)"]
    assert table["Next step"].tolist() == ["'-", "'+1 call"]
    assert table["Amount"].tolist() == ["700.0", "-500.0"]
    assert table["Close date"].tolist() == ["2026-11-20", "2026-11-20"]


def test_the_headline_and_rule_read_as_sentences():
    lists = close_today(database(), settings())
    assert headline(lists, 0, "USD") == "6 deals worth $54K can close today"
    assert headline(lists[:1], 7, "EUR") == "2 deals worth €30K can close within 7 days"
    assert headline([], 1, None) == "0 deals worth $0 can close by tomorrow"
    assert window_in_words(0) == "today"
    assert late_stage_rule(settings(), ["Legal review"]) == (
        "Commit or Best Case, or probability ≥ 60 %, or stage Legal review"
    )
    assert late_stage_rule(settings(late_forecast_categories=()), []) == "probability ≥ 60 %"


def test_the_table_keeps_missing_activity_empty_and_probability_as_a_fraction():
    ann, bo, _ = close_today(database(), settings())
    table = deals_table([*ann.deals, *bo.deals])
    assert table.columns[0] == "Rep"
    assert table["Days since activity"].tolist()[:3] == [1, 30, 0]
    assert table["Days since activity"].isna().tolist() == [False, False, False, True]
    assert table["Probability"].tolist() == [0.9, 0.75, 0.1, 0.2]
    assert table["Flags"][1] == f"{OVERDUE}; no activity ≥ 14 days; {NO_NEXT_STEP}"
    assert "Rep" not in deals_table(ann.deals, with_owner=False).columns


def test_deals_without_an_amount_leave_the_totals_unknown_not_zero():
    export = (
        b"Opportunity ID,Opportunity Owner,Stage,Amount,Probability (%),Close Date\n"
        b"a1,Ann,Negotiation/Review,,90,2026-11-20\n"
        b"a2,Ann,Negotiation/Review,,90,2026-11-19\n"
        b"b1,Bo,Negotiation/Review,1000,90,2026-11-20\n"
        b"b2,Bo,Negotiation/Review,,90,2026-11-20\n"
    )
    lists = close_today(open_database(load_opportunities(export, "d.csv").deals), settings())
    by_owner = {rep.owner: rep for rep in lists}
    assert (by_owner["Ann"].known_total, by_owner["Ann"].without_amount) == (None, 2)
    assert (by_owner["Bo"].known_total, by_owner["Bo"].without_amount) == (Decimal("1000.00"), 1)
    assert headline(lists, 0, "USD") == (
        "4 deals worth $1K (3 without an amount, not in it) can close today"
    )
    assert headline(lists[:0] + [by_owner["Ann"]], 0, "USD") == (
        "2 deals can close today; the export gives none of them an amount"
    )
    assert headline([], 0, "USD", [by_owner["Ann"]]) == (
        "0 deals worth $0 can close today · 2 stale deals to clean up, none with an amount"
    )
    ann = next(rep for rep in for_report(lists, []) if rep["owner"] == "Ann")
    assert (ann["total"], ann["weighted"], ann["without_amount"]) == (None, None, 2)


# The export again with stale deals: A-5 is 31 days overdue (20 Oct), one day past the 30 the
# settings allow; Dee's D-1 is 157 days overdue (16 Jun: 4 + 31 + 31 + 30 + 31 + 30 days);
# D-2 is older still but Pipeline at 10 %, never listed. Ann's A-2, 30 days overdue, can close.
STALE_EXPORT = (
    EXPORT
    + b"""A-5,Elm migration,Elm,Ann,Negotiation,12000,90,2026-10-20,2026-10-20,Call,Commit
D-1,Oak suite,Oak,Dee,Proposal,7000,75,2026-06-16,2026-06-01,,Best Case
D-2,Pine pilot,Pine,Dee,Discovery,1000,10,2026-01-05,,,Pipeline
"""
)


def test_a_deal_30_days_overdue_can_close_today_and_one_31_days_overdue_is_stale():
    con = database(STALE_EXPORT)
    assert ids(close_today(con, settings())) == {
        "Ann": ["A-1", "A-2"], "Bo": ["B-2", "B-1"], "Cy": ["C-1", "C-2"]
    }  # fmt: skip
    stale_lists = stale(con, settings())
    assert ids(stale_lists) == {"Ann": ["A-5"], "Dee": ["D-1"]}
    # Ann's 12,000 × 90 % before Dee's 7,000 × 75 %.
    assert [(rep.owner, rep.count, rep.total, rep.weighted) for rep in stale_lists] == [
        ("Ann", 1, Decimal("12000.00"), Decimal("10800.00")),
        ("Dee", 1, Decimal("7000.00"), Decimal("5250.00")),
    ]
    assert [deal.days_overdue for rep in stale_lists for deal in rep.deals] == [31, 157]


def test_stale_after_days_is_a_setting():
    con = database(STALE_EXPORT)
    # At 31 days A-5 can close: Commit, weighted 10,800, ahead of A-1's 9,000.
    assert ids(close_today(con, settings(stale_after_days=31)))["Ann"] == ["A-5", "A-1", "A-2"]
    assert ids(stale(con, settings(stale_after_days=31))) == {"Dee": ["D-1"]}
    # At 0 only what is due today can close; every overdue deal is stale.
    assert ids(close_today(con, settings(stale_after_days=0))) == {"Ann": ["A-1"]}
    assert ids(stale(con, settings(stale_after_days=0)))["Ann"] == ["A-5", "A-2"]
    with pytest.raises(ValueError, match="0 or more, not -1"):
        settings(stale_after_days=-1)


def test_the_window_looks_ahead_and_leaves_what_is_stale_as_it_is():
    con = database(STALE_EXPORT)
    week = settings(close_window_days=7)
    assert ids(close_today(con, week))["Ann"] == ["A-1", "A-3", "A-2"]
    assert ids(stale(con, week)) == {"Ann": ["A-5"], "Dee": ["D-1"]}


def test_the_headline_says_the_stale_deals_beside_what_can_close_never_in_it():
    con = database(STALE_EXPORT)
    lists, stale_lists = close_today(con, settings()), stale(con, settings())
    # 30,000 + 12,000 + 12,000 can close; 12,000 + 7,000 stale.
    assert headline(lists, 0, "USD", stale_lists) == (
        "6 deals worth $54K can close today · 2 stale deals worth $19K to clean up"
    )
    assert headline(lists, 0, "USD", []) == "6 deals worth $54K can close today"
    assert headline([], 0, "USD", stale_lists[1:]) == (
        "0 deals worth $0 can close today · 1 stale deal worth $7K to clean up"
    )


def test_the_report_counts_what_can_close_and_keeps_stale_deals_marked_in_deals():
    con = database(STALE_EXPORT)
    section = for_report(close_today(con, settings()), stale(con, settings()))
    assert [rep["owner"] for rep in section] == ["Ann", "Bo", "Cy", "Dee"]
    ann, dee = section[0], section[-1]
    # A-5 (12,000, weighted 10,800) is in Ann's deals, not in her count or totals.
    assert (ann["count"], ann["total"], ann["weighted"]) == (
        2, Decimal("30000.00"), Decimal("24000.00")
    )  # fmt: skip
    assert [(deal["opportunity_id"], deal["stale"]) for deal in ann["deals"]] == [
        ("A-1", False), ("A-2", False), ("A-5", True)
    ]  # fmt: skip
    # Dee has nothing to close: a count of 0 and totals of 0, her stale deal listed.
    assert {key: dee[key] for key in ("count", "total", "weighted", "without_amount")} == {
        "count": 0, "total": Decimal(0), "weighted": Decimal(0), "without_amount": 0
    }  # fmt: skip
    assert [(d["opportunity_id"], d["days_overdue"], d["stale"]) for d in dee["deals"]] == [
        ("D-1", 157, True)
    ]
    assert all(deal["stale"] is False for deal in section[1]["deals"])


# --- Days in stage and the stalled flag ------------------------------------------------------


def test_a_deal_in_its_stage_twice_the_usual_days_is_flagged_stalled_with_its_figures():
    # A-1 has been in Negotiation 48 days, whose usual is 21 (48 ÷ 21 = 2.3×): stalled. A-2 has
    # been in Proposal 30 days against a usual 20 (1.5×): days shown, no flag. Bo's and Cy's
    # deals have no dated stage: no days, no flag.
    stage_days = pa.table(
        {
            "opportunity_id": ["A-1", "A-2"],
            "stage": ["Negotiation", "Proposal"],
            "entered_on": [date(2026, 10, 3), date(2026, 10, 21)],
            "days_in_stage": pa.array([48, 30], pa.int32()),
            "median_days": [21.0, 20.0],
            "stalled": [True, False],
        }
    )
    con = open_database(
        load_opportunities(EXPORT, "deals.csv", stage_edits=LATE_LEGAL_REVIEW).deals,
        stage_days=stage_days,
    )
    deals = {deal.opportunity_id: deal for deal in every_deal(close_today(con, settings()))}
    assert deals["A-1"].days_in_stage == 48
    assert deals["A-1"].flags[-1] == "stalled: 48 days in Negotiation, 2.3× the usual 21"
    assert deals["A-2"].days_in_stage == 30
    assert not [flag for flag in deals["A-2"].flags if flag.startswith("stalled")]
    assert deals["B-1"].days_in_stage is None
    table = deals_table(every_deal(close_today(con, settings())))
    assert table["Days in stage"].tolist()[:2] == [48, 30]
    assert table["Days in stage"].isna().tolist()[2:] == [True] * 4


def test_the_stalled_flag_needs_both_figures_and_a_usual_of_a_day_or_more():
    assert stalled_flag("Negotiation", 42, 21.0, settings()) == (
        "stalled: 42 days in Negotiation, 2.0× the usual 21"
    )
    assert stalled_flag("Negotiation", 41, 21.0, settings()) is None
    assert stalled_flag("Negotiation", 41, 20.5, settings()) == (
        "stalled: 41 days in Negotiation, 2.0× the usual 20.5"
    )
    assert stalled_flag("Negotiation", None, 21.0, settings()) is None
    assert stalled_flag("Negotiation", 42, None, settings()) is None
    assert stalled_flag("Negotiation", 5, 0.0, settings()) is None
    assert stalled_flag("Negotiation", 42, 21.0, settings(stalled_ratio=3.0)) is None
