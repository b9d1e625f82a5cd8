"""What changed between two exports: every waterfall bucket, worked by hand to the cent."""

from datetime import date
from decimal import Decimal

import pytest

from lib.changes import (
    BY_ID,
    BY_NAME,
    MOVEMENTS,
    compare,
    deals_table,
    headline,
    push_counts,
    what_changed,
)
from lib.load.opportunities import load_opportunities
from lib.settings import Settings
from lib.store import Snapshot, history_of, snapshot_of_export

OLDER_DATE = date(2026, 11, 13)
NEWER_DATE = date(2026, 11, 20)
SETTINGS = Settings(as_of=NEWER_DATE)
HEADER = "Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Probability (%),Close Date\n"

# The older export, as of Fri 13 Nov 2026. The period is Q4 2026 (1 Oct – 31 Dec).
OLDER = HEADER + (
    'A-1,Alpha,Acme,Ann,Proposal/Price Quote,"10,000.00",75,2026-12-10\n'
    "A-2,Bravo,Acme,Ann,Negotiation/Review,8000.00,90,2026-12-15\n"
    "A-3,Charlie,Acme,Ann,Value Proposition,5000.00,50,2026-11-30\n"
    "A-4,Oscar,Acme,Ann,Prospecting,2500.00,10,2026-12-20\n"
    "B-1,Delta,Bolt,Bo,Negotiation/Review,20000.00,90,2026-12-01\n"
    "B-2,Echo,Bolt,Bo,Prospecting,3000.00,10,2026-12-20\n"
    "B-3,Foxtrot,Bolt,Bo,Qualification,1234.56,10,2026-12-31\n"
    "C-1,Golf,Core,Cy,Needs Analysis,4000.00,20,2027-02-01\n"
    "C-3,India,Core,Cy,Negotiation/Review,7000.00,90,2026-12-01\n"
    "C-4,Juliet,Core,Cy,Closed Lost,2000.00,0,2026-10-05\n"
    "D-1,Kilo,Dune,Dee,Proposal/Price Quote,50000.00,75,2027-03-01\n"
    "D-2,Lima,Dune,Dee,Value Proposition,3333.33,50,2026-12-09\n"
    "D-3,Mike,Dune,Dee,Proposal/Price Quote,6000.00,75,2026-10-20\n"
    "D-4,November,Dune,Dee,Prospecting,,10,2026-12-01\n"
)
# A week later, as of Fri 20 Nov 2026.
NEWER = HEADER + (
    "A-1,Alpha,Acme,Ann,Proposal/Price Quote,12500.50,75,2026-12-10\n"  # increased 2,500.50
    "A-2,Bravo,Acme,Ann,Negotiation/Review,7250.25,90,2026-12-15\n"  # decreased 749.75
    "A-3,Charlie,Acme,Ann,Value Proposition,6000.00,50,2027-01-15\n"  # pushed out, at 5,000
    "A-4,Oscar,Acme,Ann,Prospecting,2500.00,10,\n"  # close date cleared: pushed out 2,500
    "B-1,Delta,Bolt,Bo,Closed Won,21000.00,100,2026-11-18\n"  # won, at its older 20,000
    "B-2,Echo,Bolt,Bo,Closed Lost,3000.00,0,2026-11-19\n"  # lost 3,000
    # B-3 is gone: removed 1,234.56
    "C-1,Golf,Core,Cy,Needs Analysis,4100.00,20,2026-12-05\n"  # pulled in, at 4,100
    "C-2,Hotel,Core,Cy,Prospecting,900.10,10,2026-12-12\n"  # new 900.10
    "C-3,India,Core,Cy,Value Proposition,7000.00,50,2026-12-01\n"  # stage moved back only
    "C-4,Juliet,Core,Cy,Prospecting,2000.00,10,2026-12-18\n"  # reopened: pulled in 2,000
    "D-1,Kilo,Dune,Dee,Closed Won,50000.00,100,2026-11-19\n"  # next quarter's: no movement
    "D-2,Lima,Dune,Dee,Value Proposition,3333.33,50,2026-12-09\n"  # unchanged
    "D-3,Mike,Dune,Dee,Proposal/Price Quote,6000.00,75,2026-10-20\n"  # unchanged, overdue
    "D-4,November,Dune,Dee,Prospecting,1000.00,10,2026-12-01\n"  # no amount -> 1,000: increased
)


def snapshot(text: str, as_of: date, name: str) -> Snapshot:
    return snapshot_of_export(load_opportunities(text.encode(), name), as_of)


def changes_of(older: str = OLDER, newer: str = NEWER):
    return compare(
        snapshot(older, OLDER_DATE, "older.csv"), snapshot(newer, NEWER_DATE, "newer.csv"), SETTINGS
    )


def test_every_bucket_of_the_waterfall_is_worked_to_the_cent():
    waterfall = changes_of().waterfall
    # Start: A-1 10,000 + A-2 8,000 + A-3 5,000 + A-4 2,500 + B-1 20,000 + B-2 3,000
    # + B-3 1,234.56 + C-3 7,000 + D-2 3,333.33 + D-3 6,000 (overdue, still in the period)
    # + D-4 nothing = 66,067.89.
    assert waterfall.start == Decimal("66067.89")
    assert waterfall.new == Decimal("900.10")
    assert waterfall.pulled_in == Decimal("6100.00")  # C-1 4,100 + C-4 2,000
    assert waterfall.increased == Decimal("3500.50")  # A-1 2,500.50 + D-4 1,000
    assert waterfall.decreased == Decimal("749.75")
    assert waterfall.pushed_out == Decimal("7500.00")  # A-3 5,000 + A-4 2,500
    assert waterfall.won == Decimal("20000.00")
    assert waterfall.lost == Decimal("3000.00")
    assert waterfall.removed == Decimal("1234.56")
    # End: A-1 12,500.50 + A-2 7,250.25 + C-1 4,100 + C-2 900.10 + C-3 7,000 + C-4 2,000
    # + D-2 3,333.33 + D-3 6,000 + D-4 1,000 = 44,084.18.
    assert waterfall.end == Decimal("44084.18")


def test_the_waterfall_reconciles_start_to_end():
    w = changes_of().waterfall
    assert w.reconciles
    assert (
        w.start + w.new + w.pulled_in + w.increased
        - w.decreased - w.pushed_out - w.won - w.lost - w.removed
    ) == w.end  # fmt: skip
    assert w.net == Decimal("-21983.71")


def test_each_deal_makes_one_movement_with_its_amount():
    moved = {
        deal.opportunity_id: (deal.movement, deal.movement_amount) for deal in changes_of().deals
    }
    assert moved == {
        "C-2": ("new", Decimal("900.10")),
        "C-1": ("pulled_in", Decimal("4100.00")),
        "C-4": ("pulled_in", Decimal("2000.00")),
        "A-1": ("increased", Decimal("2500.50")),
        "D-4": ("increased", Decimal("1000.00")),
        "A-2": ("decreased", Decimal("749.75")),
        "A-3": ("pushed_out", Decimal("5000.00")),
        "A-4": ("pushed_out", Decimal("2500.00")),
        "B-1": ("won", Decimal("20000.00")),
        "B-2": ("lost", Decimal("3000.00")),
        "B-3": ("removed", Decimal("1234.56")),
        # Changed, but in the period's pipeline at neither date or not in value.
        "C-3": (None, Decimal("0.00")),
        "D-1": (None, Decimal("0.00")),
    }


def test_changed_deals_are_listed_in_waterfall_order_largest_first():
    order = [deal.opportunity_id for deal in changes_of().deals]
    assert order == ["C-2", "C-1", "C-4", "A-1", "D-4", "A-2", "A-3", "A-4", "B-1", "B-2",
                     "B-3", "C-3", "D-1"]  # fmt: skip
    assert MOVEMENTS == (
        "new", "pulled_in", "increased", "decreased", "pushed_out", "won", "lost", "removed",
    )  # fmt: skip


def test_what_changed_says_it_in_words():
    changes = changes_of()
    said = {deal.opportunity_id: what_changed(deal, None) for deal in changes.deals}
    assert said["A-3"] == "close date pushed 30 Nov 2026 → 15 Jan 2027; amount $5K → $6K"
    assert said["A-4"] == "close date cleared (was 20 Dec 2026)"
    assert said["B-1"] == "won; amount $20K → $21K; stage Negotiation/Review → Closed Won"
    assert said["C-1"] == "close date pulled in 1 Feb 2027 → 5 Dec 2026; amount $4K → $4.1K"
    assert said["C-2"] == "new in the export"
    assert said["B-3"] == "gone from the export"
    assert said["C-4"] == "reopened; stage Closed Lost → Prospecting"
    assert said["C-3"] == "stage Negotiation/Review → Value Proposition (back)"
    table = deals_table(changes.deals, None)
    assert list(table["Movement"][:3]) == ["New", "Pulled in", "Pulled in"]
    # Every movement's size: 900.10 + 6,100 + 3,500.50 + 749.75 + 7,500 + 20,000 + 3,000
    # + 1,234.56; the two deals without a movement have no figure.
    assert table["Moved"].sum() == pytest.approx(42984.91)
    assert table["Moved"].isna().sum() == 2


def test_the_headline_states_the_net_change_and_both_ends():
    assert headline(changes_of()) == "Q4 FY2026 pipeline, 13 Nov → 20 Nov: -$22K ($66.1K → $44.1K)"


def test_the_period_is_the_newer_dates_fiscal_quarter():
    changes = compare(
        snapshot(OLDER, OLDER_DATE, "o.csv"),
        snapshot(NEWER, NEWER_DATE, "n.csv"),
        Settings(as_of=NEWER_DATE, fiscal_year_start_month=2),
    )
    # A fiscal year from February: Q4 FY2027 is 1 Nov 2026 – 31 Jan 2027, so D-3 (20 Oct)
    # is outside, A-3's 15 Jan is inside, and C-1's 1 Feb is next quarter.
    assert (changes.period.start, changes.period.end) == (date(2026, 11, 1), date(2027, 1, 31))
    moved = {deal.opportunity_id: deal.movement for deal in changes.deals}
    assert moved["A-3"] == "increased"
    assert changes.waterfall.reconciles


def test_a_stage_earlier_in_the_stage_order_is_a_regression():
    changes = changes_of()
    assert [deal.opportunity_id for deal in changes.regressions] == ["C-3"]
    assert changes.newer.stage_order.index("Value Proposition") < changes.newer.stage_order.index(
        "Negotiation/Review"
    )


def test_a_stage_the_newer_export_no_longer_has_regresses_by_probability():
    older = HEADER + (
        "E-1,Papa,Echo,Eve,Discovery Call,100,20,2026-12-01\n"
        "E-2,Quebec,Echo,Eve,Discovery Call,100,20,2026-12-01\n"
    )
    newer = HEADER + (
        "E-1,Papa,Echo,Eve,Prospecting,100,10,2026-12-01\n"
        "E-2,Quebec,Echo,Eve,Proposal/Price Quote,100,75,2026-12-01\n"
    )
    changes = changes_of(older, newer)
    assert "Discovery Call" not in changes.newer.stage_order
    assert [deal.opportunity_id for deal in changes.regressions] == ["E-1"]


def test_deals_match_by_opportunity_id_when_every_deal_has_one():
    changes = changes_of()
    assert changes.matched_by == BY_ID
    assert changes.warnings == ()


NO_IDS = "Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Close Date\n"


def test_exports_without_ids_match_by_name_account_and_owner_with_a_warning():
    older = NO_IDS + (
        "Alpha,Acme,Ann,Prospecting,100.00,2026-12-01\n"
        "Alpha,Acme,Ann,Prospecting,200.00,2026-12-01\n"  # a twin: matched in file order
        "Bravo,Acme,Ann,Prospecting,300.00,2026-12-01\n"
        "Charlie,Acme,Ann,Prospecting,400.00,2026-12-01\n"
    )
    newer = NO_IDS + (
        # A new row first: row numbers shift, yet every deal still finds its match.
        "Delta,Acme,Ann,Prospecting,50.00,2026-12-01\n"
        "Alpha,Acme,Ann,Prospecting,150.00,2026-12-01\n"
        "Alpha,Acme,Ann,Prospecting,200.00,2026-12-01\n"
        "Bravo,Acme,Bo,Prospecting,300.00,2026-12-01\n"  # handed to Bo: removed and new
        "Charlie,Acme,Ann,Prospecting,400.00,2026-12-01\n"
    )
    changes = changes_of(older, newer)
    assert changes.matched_by == BY_NAME
    w = changes.waterfall
    assert (w.start, w.end) == (Decimal("1000.00"), Decimal("1100.00"))
    assert (w.new, w.increased, w.removed) == (
        Decimal("350.00"),
        Decimal("50.00"),
        Decimal("300.00"),
    )
    assert w.reconciles
    assert changes.warnings == (
        "Deals are matched by name, account and owner, not by opportunity ID (older.csv: 4 "
        "deals without an opportunity ID; newer.csv: 5 deals without an opportunity ID). A deal "
        "renamed, moved to another account or handed to another rep shows as removed and new.",
        "2 name, account and owner combinations belong to more than one deal in the same "
        "export; such deals are matched in the order of the file.",
    )


def test_one_export_without_ids_is_enough_to_match_by_name():
    newer = NO_IDS + "Alpha,Acme,Ann,Proposal/Price Quote,12500.50,2026-12-10\n"
    changes = changes_of(OLDER, newer)
    assert changes.matched_by == BY_NAME
    alpha = next(deal for deal in changes.deals if deal.name == "Alpha")
    assert (alpha.movement, alpha.movement_amount) == ("increased", Decimal("2500.50"))


def test_mixed_currencies_are_warned_about():
    header = "Opportunity ID,Opportunity Owner,Stage,Amount,Close Date,Opportunity Currency\n"
    older = (
        header + "X-1,Ann,Prospecting,100,2026-12-01,EUR\nX-2,Ann,Prospecting,100,2026-12-01,USD\n"
    )
    changes = changes_of(older, older)
    assert changes.warnings == (
        "These exports hold amounts in EUR, USD: the figures add them as exported, without "
        "converting them.",
    )


# Push counts over three weekly snapshots.
PUSH_HEADER = "Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount,Close Date\n"
WEEK_1 = PUSH_HEADER + (
    "P-1,Pushed twice,Ann,Prospecting,100,2026-12-01\n"
    "P-2,Pushed pulled pushed,Ann,Prospecting,100,2026-12-01\n"
    "P-3,Pushed then won late,Ann,Prospecting,100,2026-12-01\n"
    "P-4,Pushed then gone,Ann,Prospecting,100,2026-12-01\n"
    "P-5,Date set,Ann,Prospecting,100,\n"
    "P-6,Never pushed,Ann,Prospecting,100,2026-12-01\n"
)
WEEK_2 = PUSH_HEADER + (
    "P-1,Pushed twice,Ann,Prospecting,100,2026-12-15\n"
    "P-2,Pushed pulled pushed,Ann,Prospecting,100,2026-11-25\n"
    "P-3,Pushed then won late,Ann,Prospecting,100,2026-12-10\n"
    "P-4,Pushed then gone,Ann,Prospecting,100,2026-12-20\n"
    "P-5,Date set,Ann,Prospecting,100,2026-12-01\n"
    "P-6,Never pushed,Ann,Prospecting,100,2026-12-01\n"
)
WEEK_3 = PUSH_HEADER + (
    "P-1,Pushed twice,Ann,Prospecting,100,2027-01-10\n"
    "P-2,Pushed pulled pushed,Ann,Prospecting,100,2026-12-20\n"
    "P-3,Pushed then won late,Ann,Closed Won,100,2026-12-30\n"
    "P-5,Date set,Ann,Prospecting,100,2026-12-01\n"
    "P-6,Never pushed,Ann,Prospecting,100,2026-12-01\n"
)


def three_weeks(*texts: str) -> list[Snapshot]:
    days = (date(2026, 11, 6), date(2026, 11, 13), date(2026, 11, 20))
    return [snapshot(text, day, f"{day}.csv") for text, day in zip(texts, days, strict=True)]


def test_pushes_are_counted_over_every_snapshot_not_netted():
    pushes = push_counts(history_of(three_weeks(WEEK_1, WEEK_2, WEEK_3))).to_pylist()
    assert [(row["opportunity_id"], row["pushes"]) for row in pushes] == [
        ("P-1", 2),
        # 1 Dec -> 25 Nov (pulled in) -> 20 Dec: one push; the pull-in does not cancel it.
        ("P-2", 1),
        # Won on 30 Dec, later than planned: closing late is not a push by the rep.
        ("P-3", 1),
    ]
    assert (pushes[0]["first_close_date"], pushes[0]["close_date"]) == (
        date(2026, 12, 1),
        date(2027, 1, 10),
    )


def test_pushes_follow_the_snapshots_date_order_not_the_order_given():
    weeks = three_weeks(WEEK_1, WEEK_2, WEEK_3)
    pushes = push_counts(history_of([weeks[2], weeks[0], weeks[1]])).to_pylist()
    assert [(row["opportunity_id"], row["pushes"]) for row in pushes] == [
        ("P-1", 2),
        ("P-2", 1),
        ("P-3", 1),
    ]


def without_first_column(text: str) -> str:
    return "".join(line.split(",", 1)[1] + "\n" for line in text.splitlines())


def test_pushes_without_ids_are_counted_by_name_and_keyed_by_the_latest_row():
    unnamed = [without_first_column(text) for text in (WEEK_1, WEEK_2, WEEK_3)]
    pushes = push_counts(history_of(three_weeks(*unnamed))).to_pylist()
    assert [(row["name"], row["opportunity_id"], row["pushes"]) for row in pushes] == [
        ("Pushed twice", "row-1", 2),
        ("Pushed pulled pushed", "row-2", 1),
        ("Pushed then won late", "row-3", 1),
    ]


def test_no_history_means_no_pushes():
    assert push_counts(history_of([])).num_rows == 0
    assert push_counts(history_of(three_weeks(WEEK_1, WEEK_1, WEEK_1))).num_rows == 0
