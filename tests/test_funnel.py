"""The funnel, size bands and velocity, worked out by hand on eight deals.

As of Friday 2026-11-20, fiscal year from January: the trailing four quarters run from
1 Jan 2026 to 20 Nov 2026, the quarter from 1 Oct.

    D1 Ann open  Prospecting  100  created 1 Feb   close 15 Dec
    D2 Ann open  Negotiation  200  created 1 Mar   close 20 Dec
    D3 Ann won   Closed Won   400  created 10 Jan  close 1 Mar   (cycle 50 days)
    D4 Bo  won   Closed Won   800  created 1 Apr   close 10 Jun  (cycle 70 days)
    D5 Bo  lost  Closed Lost  300  created 1 May   close 1 Jul
    D6 Bo  lost  Closed Lost   50  created 1 Jun 2025 (before the window), close 1 Feb
    D7 Bo  open  Proposal     150  no created date, close 10 Jan 2027
    D8 Bo  open  Proposal      60  created 1 Oct   close 30 Sep (slipped before the quarter)
"""

import json
from datetime import date

import pyarrow as pa
import pytest

from lib.funnel import (
    NO_HISTORY,
    NO_STAY,
    funnel,
    funnel_json,
    funnel_report,
    sales_order,
    size_bands,
    stalled_json,
    velocity,
)
from lib.load.stages import StageRule
from lib.settings import Settings
from lib.stage_history import ENTRIES_SCHEMA, STAGE_DAYS_SCHEMA

SETTINGS = Settings(as_of=date(2026, 11, 20))
RULES = (
    StageRule("Prospecting", "open", 0.1),
    StageRule("Proposal", "open", 0.5),
    StageRule("Negotiation", "open", 0.8),
    StageRule("Closed Won", "won", 1.0),
    StageRule("Closed Lost", "lost", 0.0),
)
DEALS = pa.Table.from_pylist(
    [
        {"opportunity_id": i, "name": f"Deal {i}", "owner": o, "stage": s, "status": st,
         "amount": a, "created_date": c, "close_date": d}
        for i, o, s, st, a, c, d in [
            ("D1", "Ann", "Prospecting", "open", 100.0, date(2026, 2, 1), date(2026, 12, 15)),
            ("D2", "Ann", "Negotiation", "open", 200.0, date(2026, 3, 1), date(2026, 12, 20)),
            ("D3", "Ann", "Closed Won", "won", 400.0, date(2026, 1, 10), date(2026, 3, 1)),
            ("D4", "Bo", "Closed Won", "won", 800.0, date(2026, 4, 1), date(2026, 6, 10)),
            ("D5", "Bo", "Closed Lost", "lost", 300.0, date(2026, 5, 1), date(2026, 7, 1)),
            ("D6", "Bo", "Closed Lost", "lost", 50.0, date(2025, 6, 1), date(2026, 2, 1)),
            ("D7", "Bo", "Proposal", "open", 150.0, None, date(2027, 1, 10)),
            ("D8", "Bo", "Proposal", "open", 60.0, date(2026, 10, 1), date(2026, 9, 30)),
        ]
    ]
)  # fmt: skip
# D1 went forward to Proposal on 1 Mar and back on 1 Apr; D5 reached Negotiation before it was
# lost; D3 went from Prospecting straight to won.
ENTRIES = pa.Table.from_pylist(
    [
        {"opportunity_id": i, "stage": s, "entered_on": d}
        for i, s, d in [
            ("D1", "Prospecting", date(2026, 2, 1)),
            ("D1", "Proposal", date(2026, 3, 1)),
            ("D1", "Prospecting", date(2026, 4, 1)),
            ("D5", "Prospecting", date(2026, 5, 1)),
            ("D5", "Negotiation", date(2026, 6, 1)),
            ("D5", "Closed Lost", date(2026, 7, 1)),
            ("D3", "Prospecting", date(2026, 1, 10)),
            ("D3", "Closed Won", date(2026, 3, 1)),
        ]
    ],
    schema=ENTRIES_SCHEMA,
)


def shown(found):
    return [(s.stage, s.reached, s.to_next, s.won, s.median_days) for s in found.stages]


def test_without_history_a_deal_reached_its_current_stage_and_a_won_deal_every_stage():
    # Created in the window: D1 (Prospecting), D2 (Negotiation), D3 and D4 (won), D8
    # (Proposal); D5 was lost at a stage the export does not keep: it counts at the first stage
    # alone, and every share after it is unknown. D7 has no created date. Reached: Prospecting
    # 6, Proposal at least 4, Negotiation at least 3, won 2.
    found = funnel(DEALS, None, RULES, SETTINGS)
    assert shown(found) == [
        ("Prospecting", 6, None, 2 / 6, None),
        ("Proposal", 4, None, None, None),
        ("Negotiation", 3, None, None, None),
    ]
    assert {s.median_reason for s in found.stages} == {NO_HISTORY}
    assert {s.share_reason for s in found.stages} == {
        "1 lost deals' last stage is not in the export, so how far they got is unknown"
    }
    assert (found.from_history, found.from_current_stage) == (0, 5)
    assert (found.lost_stage_unknown, found.without_created_date) == (1, 1)
    assert (found.window.start, found.window.end) == (date(2026, 1, 1), date(2026, 11, 20))


def test_with_history_a_deal_reached_the_furthest_stage_it_entered_and_stays_give_medians():
    # D1 reached Proposal (and came back); D5 reached Negotiation before it was lost.
    # Furthest: D1 Proposal, D2 Negotiation, D3 won, D4 won, D5 Negotiation, D8 Proposal.
    # Stays left in the window: Prospecting 28 (D1), 31 (D5), 50 (D3): median 31; Proposal 31
    # (D1); Negotiation 30 (D5).
    found = funnel(DEALS, ENTRIES, RULES, SETTINGS)
    assert shown(found) == [
        ("Prospecting", 6, 6 / 6, 2 / 6, 31.0),
        ("Proposal", 6, 4 / 6, 2 / 6, 31.0),
        ("Negotiation", 4, 2 / 4, 2 / 4, 30.0),
    ]
    assert (found.from_history, found.from_current_stage, found.lost_stage_unknown) == (3, 3, 0)


def test_a_reps_funnel_counts_their_deals_alone_and_a_stage_nobody_left_has_no_median():
    found = funnel(DEALS, ENTRIES, RULES, SETTINGS, owner="Ann")
    # D1 Proposal, D2 Negotiation, D3 won; stays: Prospecting 28 and 50 (median 39), Proposal 31.
    assert shown(found) == [
        ("Prospecting", 3, 1.0, 1 / 3, 39.0),
        ("Proposal", 3, 2 / 3, 1 / 3, 31.0),
        ("Negotiation", 2, 1 / 2, 1 / 2, None),
    ]
    assert found.stages[2].median_reason == NO_STAY


def test_size_bands_cut_won_and_lost_amounts_at_their_quartiles():
    # Closed in the window: D6 50 lost, D5 300 lost, D3 400 won, D4 800 won. Quartiles
    # (inclusive): 50 + 0.75 × 250 = 237.5; (300 + 400) / 2 = 350; 400 + 0.25 × 400 = 500.
    bands = size_bands(DEALS, SETTINGS)
    assert [(b.low, b.high, b.won, b.lost, b.win_rate) for b in bands.bands] == [
        (50.0, 237.5, 0, 1, 0.0),
        (237.5, 350.0, 0, 1, 0.0),
        (350.0, 500.0, 1, 0, 1.0),
        (500.0, 800.0, 1, 0, 1.0),
    ]
    assert bands.reason is None


def test_fewer_than_four_closed_deals_make_no_bands_and_say_why():
    bands = size_bands(DEALS, SETTINGS, owner="Ann")
    assert bands.bands == ()
    assert bands.reason == "fewer than 4 won or lost deals with an amount"


def test_velocity_is_open_deals_times_win_rate_times_average_won_over_the_median_cycle():
    # Open in the pipeline: D1, D2, D7 (D8 slipped before the quarter): 3. Win rate 2 of 4
    # closed; average won (400 + 800) / 2 = 600; median cycle (50 + 70) / 2 = 60.
    # 3 × 0.5 × 600 ÷ 60 = 15 a day.
    speed = velocity(DEALS, SETTINGS)
    assert (speed.open_deals, speed.win_rate, speed.average_won, speed.median_cycle_days) == (
        3, 0.5, 600.0, 60.0
    )  # fmt: skip
    assert speed.per_day == pytest.approx(15.0)
    # Ann: D1 and D2 open; D3 won alone: 2 × 1 × 400 ÷ 50 = 16.
    assert velocity(DEALS, SETTINGS, owner="Ann").per_day == pytest.approx(16.0)


def test_velocity_without_a_won_deal_is_unknown_not_zero():
    speed = velocity(DEALS, Settings(as_of=date(2026, 11, 20)), owner="Nobody")
    assert (speed.open_deals, speed.win_rate, speed.per_day) == (0, None, None)
    assert speed.unknown_because == "no deal was won or lost in the trailing four quarters"


def test_the_funnel_json_holds_fractions_and_nulls():
    printed = funnel_json(funnel_report(DEALS, None, RULES, SETTINGS))
    assert printed["stages"][0] == {
        "stage": "Prospecting", "reached": 6, "to_next": None, "won": 2 / 6, "median_days": None
    }  # fmt: skip
    assert printed["size_bands"][0] == {
        "from": 50.0, "to": 237.5, "won": 0, "lost": 1, "win_rate": 0.0
    }  # fmt: skip
    assert printed["velocity"] == {
        "open_deals": 3, "win_rate": 0.5, "average_won": 600.0, "median_cycle_days": 60.0,
        "per_day": 15.0,
    }  # fmt: skip


def test_the_stalled_json_lists_the_stalled_deals_largest_first():
    days = pa.Table.from_pylist(
        [
            {"opportunity_id": "D1", "stage": "Prospecting", "entered_on": date(2026, 4, 1),
             "days_in_stage": 233, "median_days": 31.0, "stalled": True},
            {"opportunity_id": "D2", "stage": "Negotiation", "entered_on": date(2026, 11, 1),
             "days_in_stage": 19, "median_days": 30.0, "stalled": False},
            {"opportunity_id": "D7", "stage": "Proposal", "entered_on": date(2026, 5, 1),
             "days_in_stage": 203, "median_days": 31.0, "stalled": True},
        ],
        schema=STAGE_DAYS_SCHEMA,
    )  # fmt: skip
    assert stalled_json(days, DEALS) == [
        {"opportunity_id": "D7", "name": "Deal D7", "owner": "Bo", "stage": "Proposal",
         "days_in_stage": 203, "median_days": 31.0, "amount": 150.0},
        {"opportunity_id": "D1", "name": "Deal D1", "owner": "Ann", "stage": "Prospecting",
         "days_in_stage": 233, "median_days": 31.0, "amount": 100.0},
    ]  # fmt: skip


def test_the_funnel_follows_the_stages_probabilities_not_the_order_deals_age_in():
    rules = (
        StageRule("Proposal", "open", 0.5),
        StageRule("Negotiation", "open", 0.8),
        StageRule("Qualification", "open", 0.1),
        StageRule("Prospecting", "open", 0.1),
        StageRule("Closed Won", "won", 1.0),
    )
    # Prospecting and Qualification tie at 10 %: Salesforce's default order puts Prospecting
    # first.
    assert sales_order(rules) == ["Prospecting", "Qualification", "Proposal", "Negotiation"]


def test_the_forecast_command_prints_the_funnel_and_the_stalled_deals(tmp_path, capsys):
    # The shared Data Export as of 15 Jan 2027: O1 has been in Negociación since 20 Sep (117
    # days; O2 left it after 30 days and O3 after 49: usual 39.5, 2× = 79) and O2 in Prospección
    # since 1 Oct (106 days; O1 left it after 50: 2× = 100): both stalled. O6 entered
    # Prospección on 2 Nov: 74 days, not stalled.
    from lib.cli import main
    from tests.salesforce_export import O1, O2, full_export

    export = tmp_path / "export.zip"
    export.write_bytes(full_export())
    assert main(["forecast", "--opportunities", str(export), "--as-of", "2027-01-15",
                 "--json"]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    assert [(s["stage"], s["reached"], s["median_days"]) for s in printed["funnel"]["stages"]] == [
        ("Prospección", 5, 50.0),
        ("Negociación", 3, 39.5),
    ]
    assert set(printed["funnel"]["velocity"]) == {
        "open_deals", "win_rate", "average_won", "median_cycle_days", "per_day"
    }  # fmt: skip
    assert [(d["opportunity_id"], d["stage"], d["days_in_stage"], d["median_days"], d["amount"])
            for d in printed["stalled"]] == [
        (O1, "Negociación", 117, 39.5, 12500.0),
        (O2, "Prospección", 106, 50.0, 4000.0),
    ]  # fmt: skip
