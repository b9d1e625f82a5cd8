"""The QBR's figures on a small table worked out by hand.

The fiscal year is the calendar year; the export is as of Friday 20 November 2026, in Q4. The
QBR looked at most is Q3 (1 July to 30 September 2026), which is over:
- won: w1 Ann $5,000 (created 16 May, closed 15 July: 60 days), w2 Ann $3,000 (1 → 20 August:
  19 days), w3 Bo $2,000 (2 June → 30 September: 120 days). Booked $10,000 of a $12,000 budget
  (Ann 8,000, Bo 4,000): 83 %. Last year's Q3 booked $8,000 (y1): +25 %.
- lost: l1 Ann $4,000 ("Price"), l2 Bo $1,000 (no reason). Win rate 3 of 5 = 60 %; average deal
  $10,000 / 3; sales cycle the median of 19, 60 and 120 days = 60.
- referral deals created in Q3: l2 (5 July, "Referral") and o3 (10 July, "Customer Referral"),
  both Bo's: 2 per 3 wins. Ann 0 per 2 wins, Bo 2 per 1.
Next quarter, Q4, is under way: Ann has $6,000 of her $12,000 booked (w4) and o1 ($9,000)
closing in it: 1.5×; Bo nothing of $6,000 and o2 ($1,000): 0.17×; the team $10,000 against
$12,000: 0.83×.
"""

from dataclasses import replace
from datetime import date

import pytest

from lib.db import open_database
from lib.fiscal import fiscal_quarter, quarter_from_label
from lib.load.opportunities import load_opportunities
from lib.load.targets import load_targets
from lib.qbr import (
    NO_REASON,
    NO_STAGE,
    ClosedDeal,
    LossGroup,
    headline_cards,
    losses,
    qbr,
    story,
    unbroken,
)
from lib.settings import Settings

# A non-breaking space: a figure and its unit stay on one line.
NBSP = "\u00a0"
SETTINGS = Settings(as_of=date(2026, 11, 20))
# z1, lost in March 2025, shows the export reaches back before last year's Q3 and Q4.
DEALS = b"""\
Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Close Date,\
Created Date,Lead Source,Loss Reason
w1,Acme expansion,Acme,Ann,Closed Won,5000,2026-07-15,2026-05-16,Referral,
w2,Bolt pilot,Bolt,Ann,Closed Won,3000,2026-08-20,2026-08-01,Web,
w3,Crane,Crane,Bo,Closed Won,2000,2026-09-30,2026-06-02,Web,
l1,Delta,Delta,Ann,Closed Lost,4000,2026-08-10,2026-06-01,Web,Price
l2,Echo,Echo,Bo,Closed Lost,1000,2026-09-01,2026-07-05,Referral,
y1,Fox,Fox,Ann,Closed Won,8000,2025-08-01,2025-07-01,Web,
w4,Gale,Gale,Ann,Closed Won,6000,2026-10-15,2026-09-15,Web,
o1,Hive,Hive,Ann,Negotiation/Review,9000,2026-12-10,2026-10-01,Web,
o2,Iris,Iris,Bo,Prospecting,1000,2026-12-20,2026-10-02,Web,
o3,Jade,Jade,Bo,Proposal/Price Quote,4000,2027-02-15,2026-07-10,Customer Referral,
o4,Kite,Kite,Ann,Prospecting,2000,2027-01-20,2026-11-02,Web,
z1,Zulu,Zulu,Bo,Closed Lost,500,2025-03-10,2025-02-01,Web,
"""
TARGETS = b"""owner,period,amount
Ann,2026-Q3,8000
Bo,2026-Q3,4000
Ann,2026-Q4,12000
Bo,2026-Q4,6000
Ann,2027-Q1,10000
Bo,2027-Q1,5000
"""


def database(deals: bytes = DEALS, targets: bytes | None = TARGETS):
    return open_database(
        load_opportunities(deals, "deals.csv").deals,
        load_targets(targets, "targets.csv", SETTINGS).targets if targets else None,
    )


def quarter(label: str):
    return quarter_from_label(label, SETTINGS)


def q3(**kwargs):
    return qbr(database(), SETTINGS, quarter("2026-Q3"), "USD", **kwargs)


def test_a_past_quarter_is_counted_through_its_last_day():
    result = q3()
    assert (result.through, result.complete) == (date(2026, 9, 30), True)
    assert result.export_as_of == date(2026, 11, 20)


def test_the_headline_is_bookings_against_budget_and_last_year_win_rate_deal_size_and_cycle():
    head = q3().headline
    assert (head.booked, head.budget, head.attainment) == (10000, 12000, 10000 / 12000)
    assert (head.last_year, head.yoy) == (8000, pytest.approx(0.25))
    assert (head.won_deals, head.lost_deals, head.win_rate) == (3, 2, 0.6)
    assert head.avg_deal_size == pytest.approx(10000 / 3)
    assert head.sales_cycle_days == 60


def test_the_largest_lost_deals_come_largest_first():
    assert q3().losses.largest(1) == (
        ClosedDeal("l1", "Delta", "Delta", "Ann", 4000.0, date(2026, 8, 10)),
    )
    assert [deal.name for deal in q3().losses.largest(10)] == ["Delta", "Echo"]


def test_the_headline_cards_and_the_story_say_it_in_words():
    result = q3()
    assert headline_cards(result, "USD") == [
        ("Bookings", "$10K", f"83{NBSP}% of $12K budget"),
        ("vs last year", f"+25{NBSP}%", "$8K in Q3 FY2025"),
        ("Win rate", f"60{NBSP}%", "3 won of 5 closed"),
        ("Average deal", "$3.3K", "won deals"),
        ("Sales cycle", f"60{NBSP}days", "median, created to won"),
    ]
    assert story(result, "USD") == (
        f"Q3 FY2026: $10K booked, 83{NBSP}% of budget, +25{NBSP}% on last year."
    )


def test_a_figure_and_its_unit_never_wrap_apart_but_words_still_do():
    assert unbroken("+14 % on last year, 62 days, 3 won of 5 days") == (
        f"+14{NBSP}% on last year, 62{NBSP}days, 3 won of 5{NBSP}days"
    )
    assert unbroken("Q4 FY2026 so far") == "Q4 FY2026 so far"


def test_attainment_by_rep_comes_from_pacing_best_first():
    reps = [(rep.owner, rep.pacing.attainment) for rep in q3().pacing.reps]
    assert reps == [("Ann", 1.0), ("Bo", 0.5)]


def test_top_wins_are_the_quarters_won_deals_largest_first():
    wins = q3().top_wins
    assert [(win.opportunity_id, win.owner, win.amount) for win in wins] == [
        ("w1", "Ann", 5000),
        ("w2", "Ann", 3000),
        ("w3", "Bo", 2000),
    ]
    assert (wins[0].name, wins[0].account, wins[0].lead_source) == (
        "Acme expansion",
        "Acme",
        "Referral",
    )


def test_only_ten_wins_make_the_top():
    rows = "".join(
        f"t{n},Deal {n},,Ann,Closed Won,{n}00,2026-08-0{n % 9 + 1},,,\n" for n in range(1, 13)
    )
    deals = DEALS.split(b"\n", 1)[0] + b"\n" + rows.encode()
    result = qbr(database(deals), SETTINGS, quarter("2026-Q3"), "USD")
    assert [win.amount for win in result.top_wins] == [n * 100 for n in range(12, 2, -1)]


def deal_rows(losses, *columns: str) -> list[tuple]:
    return list(zip(*(losses.deals[column].to_pylist() for column in columns), strict=True))


def test_losses_count_amount_and_reason_where_exported():
    losses = q3().losses
    assert (losses.count, losses.amount) == (2, 5000)
    assert deal_rows(losses, "opportunity_id", "loss_reason") == [
        ("l1", "Price"),
        ("l2", None),
    ]
    assert losses.reason_exported
    assert losses.by_reason == (LossGroup("Price", 1, 4000), LossGroup(NO_REASON, 1, 1000))


def test_losses_are_read_after_a_query_left_unfinished_on_the_connection():
    con = database(DEALS)
    con.execute("SELECT * FROM opportunities").fetchone()
    assert losses(con, quarter("2026-Q3"), date(2026, 9, 30), {}).count == 2


def test_a_closed_lost_stage_does_not_say_where_a_deal_was_lost_and_the_page_says_so():
    losses = q3().losses
    assert losses.deals["stage_lost_at"].to_pylist() == [None, None]
    assert losses.by_stage == (LossGroup(NO_STAGE, 2, 5000),)
    assert losses.stage_note.startswith("2 of 2 lost deals show only a closing stage")


def test_a_saved_snapshot_tells_the_stage_a_lost_deal_was_lost_at():
    losses = q3(last_open_stages={"l1": "Negotiation/Review", "o1": "Prospecting"}).losses
    assert losses.deals["stage_lost_at"].to_pylist() == ["Negotiation/Review", None]
    assert losses.by_stage == (
        LossGroup("Negotiation/Review", 1, 4000),
        LossGroup(NO_STAGE, 1, 1000),
    )
    assert losses.stage_note.startswith("1 of 2 lost deals")


def test_a_pipedrive_lost_deal_was_lost_at_the_stage_it_stays_in():
    deals = b"""\
Deal - ID,Deal - Title,Deal - Owner,Deal - Stage,Deal - Status,Deal - Value,\
Deal - Expected close date,Deal - Lost time,Deal - Lost reason
1,Alpha,Ann,Proposal made,lost,700,2026-09-30,2026-08-03,Budget cut
2,Bravo,Ann,Lead in,lost,300,2026-09-30,2026-08-04,
3,Charlie,Ann,Proposal made,open,500,2026-12-01,,
"""
    losses = qbr(database(deals, None), SETTINGS, quarter("2026-Q3"), "USD").losses
    assert deal_rows(losses, "stage_lost_at", "loss_reason") == [
        ("Proposal made", "Budget cut"),
        ("Lead in", None),
    ]
    assert losses.stage_note is None


def test_without_a_loss_reason_column_losses_are_not_grouped_by_reason():
    deals = b"Opportunity Owner,Stage,Amount,Close Date\nAnn,Closed Lost,100,2026-08-01\n"
    losses = qbr(database(deals, None), SETTINGS, quarter("2026-Q3"), "USD").losses
    assert (losses.count, losses.reason_exported, losses.by_reason) == (1, False, ())


def test_after_a_past_quarter_comes_the_current_ones_coverage_of_its_budget_still_to_close():
    coverage = q3().coverage
    assert coverage.quarter.label == "Q4 FY2026"
    assert (coverage.as_of, coverage.target, coverage.critical) == (date(2026, 11, 20), 3.0, 1.5)
    assert (coverage.pipeline, coverage.to_close, coverage.ratio) == (10000, 12000, 10000 / 12000)
    assert [(row.owner, row.pipeline, row.remaining) for row in coverage.reps] == [
        ("Bo", 1000, 6000),
        ("Ann", 9000, 6000),
    ]


def test_after_the_current_quarter_comes_next_quarters_pipeline_against_its_budget():
    result = qbr(database(), SETTINGS, quarter("2026-Q4"), "USD")
    coverage = result.coverage
    assert coverage.quarter.label == "Q1 FY2027"
    assert (coverage.target, coverage.critical) == (2.0, 1.0)
    assert (coverage.pipeline, coverage.to_close, coverage.ratio) == (6000, 15000, 0.4)
    assert [(row.owner, row.ratio) for row in coverage.reps] == [("Ann", 0.2), ("Bo", 0.8)]


def test_a_typed_budget_for_the_quarter_is_not_taken_for_next_quarters():
    typed = replace(SETTINGS, team_budget=50000.0)
    result = qbr(database(targets=None), typed, quarter("2026-Q3"), "USD")
    assert result.headline.budget == 50000
    assert result.coverage is None
    assert result.coverage_note == "No budget for Q4 FY2026: load a quota file that gives one."


def test_an_older_quarters_next_quarter_is_over_and_has_no_coverage():
    result = qbr(database(), SETTINGS, quarter("2026-Q2"), "USD")
    assert result.coverage is None
    assert result.coverage_note.startswith("Q3 FY2026 is over")


def test_the_current_quarter_is_counted_through_the_as_of_date():
    result = qbr(database(), SETTINGS, fiscal_quarter(SETTINGS.as_of, SETTINGS), "USD")
    assert (result.through, result.complete) == (date(2026, 11, 20), False)
    head = result.headline
    assert (head.booked, head.budget, head.won_deals, head.lost_deals) == (6000, 18000, 1, 0)
    # Nothing was booked in Q4 2025 by 20 November: no year-on-year figure.
    assert (head.last_year, head.yoy) == (0, None)
    assert story(result, "USD") == (
        f"Q4 FY2026 so far (through 20 Nov): $6K booked, 33{NBSP}% of budget."
    )


def test_concentration_risks_are_the_warnings_about_todays_open_pipeline():
    risks = [(w.kind, w.owner, w.severity, round(w.value, 4)) for w in q3().concentration]
    # Ann: o1 is 9,000 of her 11,000 open; Bo: o3 is 4,000 of 5,000; o1 and o2 are all of
    # Q4's weighted pipeline; Ann holds 11,000 of the team's 16,000.
    assert sorted(risks, key=str) == sorted(
        [
            ("concentration", "Ann", "critical", round(9000 / 11000, 4)),
            ("concentration", "Bo", "critical", 0.8),
            ("team_top_deals", None, "warn", 1.0),
            ("team_rep_share", None, "warn", round(11000 / 16000, 4)),
        ],
        key=str,
    )


def test_the_referral_ratio_is_referral_deals_created_per_deal_won_in_the_quarter():
    result = q3()
    assert (result.referrals.won_deals, result.referrals.referral_deals_created) == (3, 2)
    assert result.referrals.referral_ratio == pytest.approx(2 / 3)
    assert [(r.owner, r.won_deals, r.referral_deals_created, r.referral_ratio)
            for r in result.rep_referrals] == [("Ann", 2, 0, 0.0), ("Bo", 1, 2, 2.0)]  # fmt: skip
