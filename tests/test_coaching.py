"""Coaching figures on a small export worked out by hand.

As of Friday 2026-11-20, fiscal year = calendar year: the trailing four quarters are Q1 to Q4
FY2026, counted from 1 January 2026 through the as-of date. Cycle = close - created, in days.

    Ann  a1  won  Acme    10,000  created 30 Jan, closed 10 Mar (39 d)  Customer Referral
         a2  won  Acme    20,000  created  1 May, closed 15 Jun (45 d)  Web: repeat (a1 earlier)
         a3  won  Birch   30,000  created 1 Dec 2025, closed 1 Jan (31 d): first day, in;
                                  created before the window, so not pipeline created
         a4  won  Cedar    5,000  closed 31 Dec 2025: the day before, out
         a5  lost Cedar    8,000  created 1 Feb, closed 1 Apr           word of mouth
         a6  open Delta   40,000  created 20 Nov (the as-of date)        customer introduction
         a7  won  Juniper 10,000  created 5 Sep, closed 15 Oct (40 d)   Web
    Bo   b1  won  Cedar   12,000  created 20 Apr, closed 20 May (30 d)  Partner: repeat, because
                                  Ann won Cedar (a4) on an earlier day
         b2  won  Elm      6,000  created 22 May, closed 1 Jul (40 d)   Web
         b3  won  Elm      4,000  created 1 Jun, closed 1 Jul (30 d)    Web: same day as b2, so
                                  neither is repeat business
         b4  won  Fir      3,000  created 1 Oct, closed 21 Nov: after the as-of date, not won yet,
                                  but created in the window
         b5  won  Gum      9,000  created 2 May, closed 10 Aug (100 d)  Web
         b6  lost Hazel    7,000  created 1 Sep, closed 1 Oct           REFERRAL
    Cy   c1  lost Holly    5,000  created 10 Feb, closed 1 Mar          Referral
         c2  open Ivy     15,000  created 1 Oct, close 20 Dec, last activity 28 Oct, no next step
    Dee  d1  won  Kauri    2,000  closed 1 May 2024: no deal in the window, not a rep here
    Eve  e1  won  Larch    2,000  created 10 Apr, closed 1 Apr: entered after it closed, no cycle
         e2  won  Larch    1,000  created 1 Mar, closed 1 Apr (31 d)
    Zed  a Q4 budget of 10,000 and no deals: on the scorecard with nothing won

    rep  W  lost  win rate  R  R/W   repeat  avg deal  cycle (median)         pipeline created
    Ann  4  1     4/5       3  0.75  1       17,500    31,39,40,45 -> 39.5    10+20+8+40+10 = 88K
    Bo   4  1     4/5       1  0.25  1        7,750    30,30,40,100 -> 35     12+6+4+3+9+7 = 41K
    Cy   0  1     0         1  None  0       None      None                   5+15 = 20K
    Eve  2  0     1         0  0     0        1,500    31                     2+1 = 3K
    Team 10 3     10/13     5  0.5   2       10,400    9 cycles -> 39         152K
"""

from datetime import date, timedelta

import pandas as pd
import pytest

from lib.coaching import (
    STRENGTH,
    Coaching,
    RepDeal,
    coaching,
    for_report,
    outliers,
    pipeline_by_stage_and_age,
    questions,
    referral_table,
    scorecard_marks,
    scorecard_table,
    team_medians,
    trailing_four_quarters,
    tukey_fences,
)
from lib.db import open_database
from lib.fiscal import fiscal_quarter
from lib.load.opportunities import load_opportunities
from lib.load.targets import load_targets
from lib.pipeline_warnings import PipelineWarning
from lib.settings import Settings, parse_keywords

AS_OF = date(2026, 11, 20)
SETTINGS = Settings(as_of=AS_OF)
EXPORT = b"""Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Probability (%),Close Date,Created Date,Lead Source,Last Activity,Next Step
a1,Acme first,Acme,Ann,Closed Won,10000,100,2026-03-10,2026-01-30,Customer Referral,,
a2,Acme second,Acme,Ann,Closed Won,20000,100,2026-06-15,2026-05-01,Web,,
a3,Birch,Birch,Ann,Closed Won,30000,100,2026-01-01,2025-12-01,referred by a friend,,
a4,Cedar,Cedar,Ann,Closed Won,5000,100,2025-12-31,2025-11-01,Web,,
a5,Cedar two,Cedar,Ann,Closed Lost,8000,0,2026-04-01,2026-02-01,word of mouth,,
a6,Delta,Delta,Ann,Negotiation,40000,90,2026-12-15,2026-11-20,customer introduction,2026-11-20,Sign
a7,Juniper,Juniper,Ann,Closed Won,10000,100,2026-10-15,2026-09-05,Web,,
b1,Cedar for Bo,Cedar,Bo,Closed Won,12000,100,2026-05-20,2026-04-20,Partner,,
b2,Elm one,Elm,Bo,Closed Won,6000,100,2026-07-01,2026-05-22,Web,,
b3,Elm two,Elm,Bo,Closed Won,4000,100,2026-07-01,2026-06-01,Web,,
b4,Fir,Fir,Bo,Closed Won,3000,100,2026-11-21,2026-10-01,Web,,
b5,Gum,Gum,Bo,Closed Won,9000,100,2026-08-10,2026-05-02,Web,,
b6,Hazel,Hazel,Bo,Closed Lost,7000,0,2026-10-01,2026-09-01,REFERRAL,,
c1,Holly,Holly,Cy,Closed Lost,5000,0,2026-03-01,2026-02-10,Referral,,
c2,Ivy expansion,Ivy,Cy,Proposal,15000,60,2026-12-20,2026-10-01,Web,2026-10-28,
d1,Kauri,Kauri,Dee,Closed Won,2000,100,2024-05-01,2024-04-01,Web,,
e1,Larch,Larch,Eve,Closed Won,2000,100,2026-04-01,2026-04-10,Web,,
e2,Larch two,Larch,Eve,Closed Won,1000,100,2026-04-01,2026-03-01,Web,,
"""
TARGETS = b"owner,period,amount\nAnn,2026-Q4,40000\nZed,2026-Q4,10000\n"


def database(export: bytes = EXPORT, settings: Settings = SETTINGS):
    return open_database(
        load_opportunities(export, "deals.csv").deals,
        load_targets(TARGETS, "targets.csv", settings).targets,
    )


def figures_of(owner: str, settings: Settings = SETTINGS, export: bytes = EXPORT) -> Coaching:
    report = coaching(database(export, settings), settings)
    return next(rep.figures for rep in report.reps if rep.owner == owner)


def test_the_trailing_four_quarters_end_with_the_as_of_quarter_and_count_through_the_as_of():
    window = trailing_four_quarters(SETTINGS)
    assert (window.start, window.end) == (date(2026, 1, 1), AS_OF)
    assert window.label == "Q1 FY2026 – Q4 FY2026"
    february = trailing_four_quarters(Settings(as_of=AS_OF, fiscal_year_start_month=2))
    # Q4 FY2027 runs from November 2026 to January 2027; Q1 FY2027 began on 1 February 2026.
    assert (february.start, february.end) == (date(2026, 2, 1), AS_OF)
    assert february.label == "Q1 FY2027 – Q4 FY2027"


def test_every_rep_with_a_deal_in_the_window_an_open_deal_or_a_budget_is_listed():
    report = coaching(database(), SETTINGS)
    assert [rep.owner for rep in report.reps] == ["Ann", "Bo", "Cy", "Eve", "Zed"]


def test_won_and_lost_deals_count_by_close_date_inside_the_window():
    # a3 closed on the window's first day counts; a4 the day before and b4 after the as-of
    # date do not.
    assert (figures_of("Ann").won_deals, figures_of("Ann").lost_deals) == (4, 1)
    assert (figures_of("Bo").won_deals, figures_of("Bo").lost_deals) == (4, 1)


def test_win_rate_is_won_over_won_and_lost_by_count():
    assert figures_of("Ann").win_rate == 4 / 5
    assert figures_of("Cy").win_rate == 0
    assert figures_of("Eve").win_rate == 1
    assert figures_of("Zed").win_rate is None


def test_referral_deals_are_those_created_in_the_window_whose_lead_source_has_a_keyword():
    # Ann: "Customer Referral" (a1), "word of mouth" (a5) and "customer introduction" (a6, created
    # on the as-of date); a3's "referred" was created before the window.
    assert figures_of("Ann").referral_deals_created == 3
    # Bo: "REFERRAL" matches whatever its case; "Partner" does not.
    assert figures_of("Bo").referral_deals_created == 1


def test_the_referral_ratio_is_referral_deals_per_deal_won():
    assert figures_of("Ann").referral_ratio == 3 / 4
    assert figures_of("Bo").referral_ratio == 1 / 4
    assert figures_of("Eve").referral_ratio == 0


def test_a_rep_with_no_wins_has_no_referral_ratio_rather_than_a_division_error():
    cy = figures_of("Cy")
    assert (cy.won_deals, cy.referral_deals_created, cy.referral_ratio) == (0, 1, None)
    assert (cy.avg_deal_size, cy.sales_cycle_days) == (None, None)


def test_the_referral_keywords_can_be_changed():
    partners = Settings(as_of=AS_OF, referral_keywords=("PARTNER",))
    assert figures_of("Bo", partners).referral_deals_created == 1  # b1, no longer b6
    assert figures_of("Ann", partners).referral_deals_created == 0
    nothing = Settings(as_of=AS_OF, referral_keywords=())
    assert figures_of("Ann", nothing).referral_deals_created == 0


def test_keywords_are_typed_one_a_line_or_separated_by_commas():
    assert parse_keywords("referral, word of mouth\n\n Partner ,") == (
        "referral",
        "word of mouth",
        "Partner",
    )


def test_repeat_business_is_a_win_from_an_account_with_an_earlier_win_by_any_rep():
    # Ann's a2 (Acme won before in a1); Bo's b1 (Cedar won by Ann the day before the window).
    # b2 and b3 closed the same day: neither was earlier than the other.
    assert figures_of("Ann").repeat_business_deals == 1
    assert figures_of("Bo").repeat_business_deals == 1
    assert figures_of("Eve").repeat_business_deals == 0


def test_accounts_are_the_same_whatever_their_case_and_outer_spaces():
    export = b"""Opportunity Owner,Account Name,Stage,Amount,Close Date
Ann,Acme,Closed Won,100,2026-02-01
Bo,ACME ,Closed Won,100,2026-03-01
Bo,,Closed Won,100,2026-04-01
Bo,,Closed Won,100,2026-05-01
"""
    assert figures_of("Bo", export=export).repeat_business_deals == 1


def test_an_exports_own_columns_named_like_the_querys_do_not_change_the_figures():
    # Columns the export carries beside the deals keep their names in the opportunities table.
    export = b"""Opportunity Owner,Account Name,Stage,Amount,Close Date,account_key,First_Won
Ann,Acme,Closed Won,100,2026-02-01,x,2020-01-01
Bo,ACME ,Closed Won,100,2026-03-01,y,2020-01-01
"""
    assert figures_of("Bo", export=export).repeat_business_deals == 1
    assert figures_of("Ann", export=export).won_deals == 1


def test_average_deal_size_is_the_mean_won_amount():
    assert figures_of("Ann").avg_deal_size == (10000 + 20000 + 30000 + 10000) / 4
    assert figures_of("Bo").avg_deal_size == (12000 + 6000 + 4000 + 9000) / 4


def test_sales_cycle_is_the_median_of_days_from_created_to_won():
    # An even count takes the mean of the middle two: Ann 31, 39, 40, 45 -> 39.5.
    assert figures_of("Ann").sales_cycle_days == 39.5
    assert figures_of("Bo").sales_cycle_days == 35
    # Eve's e1 was entered in the CRM nine days after it closed: only e2's 31 days count.
    assert figures_of("Eve").sales_cycle_days == 31


def test_pipeline_created_is_the_amount_of_every_deal_created_in_the_window():
    assert figures_of("Ann").pipeline_created == 88000
    assert figures_of("Bo").pipeline_created == 41000  # b4 too, though won after the as-of
    assert figures_of("Cy").pipeline_created == 20000


def test_team_totals_count_every_deal_once():
    team = coaching(database(), SETTINGS).team
    assert (team.won_deals, team.lost_deals, team.referral_deals_created) == (10, 3, 5)
    assert team.win_rate == 10 / 13
    assert team.referral_ratio == 0.5
    assert team.repeat_business_deals == 2
    assert team.avg_deal_size == 10400
    # 30, 30, 31, 31, 39, 40, 40, 45, 100: the fifth of nine.
    assert team.sales_cycle_days == 39
    assert team.pipeline_created == 152000


def test_attainment_comes_from_the_as_of_quarters_pacing():
    report = coaching(database(), SETTINGS)
    attainment = {rep.owner: rep.attainment for rep in report.reps}
    # Ann booked a7's 10,000 of her 40,000; Zed nothing of 10,000; the others have no budget.
    assert attainment == {"Ann": 0.25, "Bo": None, "Cy": None, "Eve": None, "Zed": 0.0}


def test_figures_the_export_cannot_give_are_null_and_said_skipped():
    no_sources = b"""Opportunity Owner,Stage,Amount,Close Date,Created Date
Ann,Closed Won,100,2026-02-01,2026-01-01
"""
    report = coaching(database(no_sources), SETTINGS)
    ann = report.reps[0].figures
    assert (ann.won_deals, ann.referral_deals_created, ann.referral_ratio) == (1, None, None)
    assert ann.repeat_business_deals is None
    assert report.skipped == {
        "referral_deals_created": "the export has no lead source",
        "repeat_business_deals": "the export has no account",
    }
    no_created = b"Opportunity Owner,Stage,Amount,Close Date\nAnn,Closed Won,100,2026-02-01\n"
    ann = coaching(database(no_created), SETTINGS).reps[0].figures
    assert (ann.pipeline_created, ann.sales_cycle_days, ann.referral_deals_created) == (
        None,
        None,
        None,
    )


def test_the_report_section_has_each_reps_figures_by_name():
    section = for_report(coaching(database(), SETTINGS))
    assert [entry["owner"] for entry in section] == ["Ann", "Bo", "Cy", "Eve", "Zed"]
    assert section[0] == {
        "owner": "Ann",
        "won_deals": 4,
        "referral_deals_created": 3,
        "referral_ratio": 0.75,
        "repeat_business_deals": 1,
        "win_rate": 0.8,
        "avg_deal_size": 17500.0,
        "sales_cycle_days": 39.5,
        "pipeline_created": 88000.0,
    }
    assert section[2]["referral_ratio"] is None


# --- The scorecard -------------------------------------------------------------------------------


def test_tukeys_fences_are_one_and_a_half_interquartile_ranges_outside_the_quartiles():
    # Quartiles of 1, 2, 3, 4 (interpolated): 1.75 and 3.25; 1.5 × 1.5 = 2.25 either side.
    assert tukey_fences([1, 2, 3, 4]) == (-0.5, 5.5)
    assert tukey_fences([1, 2, 3]) is None


def row(owner, **measures):
    keys = ("attainment", "win_rate", "avg_deal_size", "sales_cycle_days", "pipeline_created",
            "referral_ratio")  # fmt: skip
    return {"owner": owner, "team": None, **dict.fromkeys(keys), **measures}


def test_a_rep_far_outside_the_team_is_an_outlier_good_or_bad_by_the_measure():
    rows = [
        row("Ann", win_rate=0.30, sales_cycle_days=60),
        row("Bo", win_rate=0.31, sales_cycle_days=61),
        row("Cy", win_rate=0.32, sales_cycle_days=62),
        row("Di", win_rate=0.33, sales_cycle_days=63),
        row("Ed", win_rate=0.60, sales_cycle_days=140),
        row("Flo"),
    ]
    # Win rate quartiles 0.31 and 0.33: the fences are 0.28 and 0.36.
    found = outliers(rows)
    assert [(o.owner, o.measure.key, o.good) for o in found] == [
        ("Ed", "sales_cycle_days", False),
        ("Ed", "win_rate", True),
    ]
    assert found[0].sentence("USD") == (
        "Sales cycle: Ed 140 days, far above the team's median of 62 days (a concern)."
    )
    assert found[1].sentence("USD") == (
        "Win rate: Ed 60 %, far above the team's median of 32 % (a strength)."
    )


def test_the_team_median_is_over_the_reps_with_a_value():
    medians = team_medians([row("Ann", win_rate=0.2), row("Bo", win_rate=0.4), row("Cy")])
    assert medians["win_rate"] == pytest.approx(0.3)
    assert medians["attainment"] is None


def test_fewer_than_four_reps_have_no_outliers():
    rows = [row("Ann", win_rate=0.1), row("Bo", win_rate=0.3), row("Cy", win_rate=0.9)]
    assert outliers(rows) == []


def test_the_scorecard_table_starts_with_the_team_median_and_marks_outliers_by_cell():
    report = coaching(database(), SETTINGS)
    table = scorecard_table(report)
    assert list(table["owner"]) == ["Team median", "Ann", "Bo", "Cy", "Eve", "Zed"]
    # Win rates 4/5, 4/5, 0, 1 and none: the median of the four is 0.8.
    assert table.loc[0, "win_rate"] == pytest.approx(0.8)
    ed = outliers([row("Ann", win_rate=0.30), row("Bo", win_rate=0.31), row("Cy", win_rate=0.32),
                   row("Di", win_rate=0.33), row("Ed", win_rate=0.60, sales_cycle_days=1)])  # fmt: skip
    marked = pd.DataFrame({"owner": ["Team median", "Ed", "Cy"], "win_rate": [0.32, 0.6, 0.32]})
    marks = scorecard_marks(marked, ed)
    assert list(marks["win_rate"]) == ["", STRENGTH, ""]
    assert list(marks["owner"]) == ["", "", ""]


def test_the_referral_table_puts_the_best_ratio_first_and_reps_without_one_last():
    # Ann: 4 wins, referrals a1, a5 (word of mouth) and a6 (customer introduction): 3 / 4. Bo:
    # 4 wins, b6 (REFERRAL): 1 / 4. Eve: 2 wins, none. Cy and Zed won nothing: no ratio.
    table = referral_table(coaching(database(), SETTINGS))
    assert list(table["Rep"]) == ["Ann", "Bo", "Eve", "Cy", "Zed"]
    assert list(table["Won (W)"]) == [4, 4, 2, 0, 0]
    assert list(table["Referral deals (R)"]) == [3, 1, 0, 1, 0]
    assert list(table["R / W"])[:3] == [0.75, 0.25, 0.0]
    assert table["R / W"].iloc[3:].isna().all()


# --- Questions for a 1:1 -------------------------------------------------------------------------


def open_deal(opportunity_id, amount, stage="Proposal", probability=0.5, close=date(2026, 12, 15),
              created=date(2026, 10, 1), activity=AS_OF, next_step="Call", account="Acme"):  # fmt: skip
    return RepDeal(opportunity_id, f"Deal {opportunity_id}", account, stage, float(amount),
                   probability, close, created, activity, next_step)  # fmt: skip


def ann_figures(won=4, lost=1, referrals=3):
    return Coaching(won, lost, referrals, 1, 17500.0, 39.5, 88000.0)


def test_questions_name_the_deals_with_their_figures_most_urgent_first():
    deals = [
        open_deal("big", 90000, next_step=""),
        open_deal("late", 50000, close=date(2026, 11, 3)),
        open_deal("quiet", 30000, activity=date(2026, 10, 28)),
    ]
    stall = PipelineWarning("rep", "Ann", "prospecting_stall", "warn", 23.0,
                    "Ann: no deal created in 23 days (since Oct 28).", (), 0.0)  # fmt: skip
    asked = questions("Ann", deals, [stall], ann_figures(), ["Acme", "Birch"], SETTINGS, "USD")
    assert asked == [
        "Deal late (Acme, $50K) was due to close on 3 Nov 2026, 17 days ago: is it still alive, "
        "and what date will the customer commit to?",
        "Deal quiet (Acme, $30K) has had no activity in 23 days: who there can you reach this "
        "week?",
        "Deal big (Acme, $90K), your largest open deal, has no next step: what is the next "
        "meeting, and who is in it?",
        "No deal created in 23 days (since Oct 28). Where will next quarter's pipeline come from?",
        "You won 4 deals in the last four quarters and 3 referral deals were created (0.75 per "
        "win; the target is 2): who could Acme and Birch introduce you to?",
    ]


def test_a_deal_without_an_amount_is_never_asked_about_as_the_largest():
    # Every open deal of a Maven-like export lacks an amount (read as 0): none is "largest".
    deals = [open_deal("a", 0, next_step=""), open_deal("b", 0, next_step="")]
    asked = questions("Ann", deals, [], ann_figures(referrals=8), [], SETTINGS, "USD")
    assert not [question for question in asked if "largest" in question]
    priced = [open_deal("none", 0, next_step=""), open_deal("some", 5000, next_step="")]
    asked = questions("Ann", priced, [], ann_figures(referrals=8), [], SETTINGS, "USD")
    assert [q for q in asked if "largest" in q] == [
        "Deal some (Acme, $5K), your largest open deal, has no next step: what is the next "
        "meeting, and who is in it?"
    ]


def test_a_deal_is_asked_about_once_and_other_reps_warnings_are_left_out():
    deals = [open_deal("late", 50000, close=date(2026, 11, 3), activity=date(2026, 10, 1))]
    bo = PipelineWarning("rep", "Bo", "prospecting_stall", "warn", 30.0, "Bo: no deal.", (), 0.0)
    asked = questions("Ann", deals, [bo], ann_figures(referrals=8), [], SETTINGS, "USD")
    assert len(asked) == 1
    assert asked[0].startswith("Deal late (Acme, $50K) was due to close")


def test_a_rep_with_losses_and_no_wins_is_asked_where_deals_stall():
    asked = questions("Cy", [], [], Coaching(0, 3, 1, 0, None, None, 0.0), [], SETTINGS, "USD")
    assert asked == [
        "No deal won in the last four quarters and 3 lost: where do your deals stall, and what "
        "would you do differently in the next one?"
    ]


def test_the_referral_question_is_kept_when_there_are_many_others():
    deals = [open_deal(f"late{n}", 1000 * n, close=date(2026, 11, 1)) for n in range(1, 4)]
    deals += [open_deal(f"quiet{n}", 100 * n, activity=date(2026, 10, 1)) for n in range(1, 4)]
    warnings = [
        PipelineWarning("rep", "Ann", kind, "warn", 1.0, f"Ann: {kind}.", (), 0.0)
        for kind in ("concentration", "coverage", "next_period_coverage", "prospecting_stall")
    ]
    asked = questions("Ann", deals, warnings, ann_figures(), ["Acme"], SETTINGS, "USD")
    assert len(asked) == 8
    assert asked[-1].startswith("You won 4 deals")


def test_the_open_pipeline_by_stage_and_age_leaves_slipped_deals_out():
    deals = [
        open_deal("new", 100, stage="Negotiation", probability=0.9, created=date(2026, 11, 1)),
        open_deal("aged", 300, stage="Negotiation", probability=0.9, created=date(2026, 5, 1)),
        open_deal("month", 50, stage="Discovery", probability=0.1, created=date(2026, 10, 1)),
        open_deal("unknown", 20, stage="Discovery", probability=0.1, created=None),
        open_deal("slipped", 999, stage="Discovery", close=date(2026, 9, 30)),
    ]
    rows = pipeline_by_stage_and_age(deals, fiscal_quarter(AS_OF, SETTINGS), AS_OF)
    # Discovery (10 %) before Negotiation (90 %); ages 19, 203 and 50 days.
    assert [(r.stage, r.amounts, r.counts) for r in rows] == [
        ("Discovery", (0, 50, 0, 0, 20), (0, 1, 0, 0, 1)),
        ("Negotiation", (100, 0, 0, 300, 0), (1, 0, 0, 1, 0)),
    ]
    assert (rows[1].total, rows[1].deals) == (400, 2)


def test_a_deal_created_after_the_as_of_date_is_in_the_newest_age_band():
    # An as-of date picked in the past: the export already holds deals created after it.
    deals = [open_deal("later", 100, created=AS_OF + timedelta(days=3))]
    rows = pipeline_by_stage_and_age(deals, fiscal_quarter(AS_OF, SETTINGS), AS_OF)
    assert [(r.stage, r.counts) for r in rows] == [("Proposal", (1, 0, 0, 0, 0))]
