"""Projections and their backtest on a small table worked out by hand.

Calendar quarters, paced on calendar days. The as-of date is Sunday 10 May 2026, day 40 of Q2
2026 (1 April – 30 June, 91 days); day 40 of the earlier quarters is 9 Feb 2026 (Q1, 90 days),
9 Nov 2025 (Q4, 92 days) and 9 Aug 2025 (Q3, 92 days). The export starts on 1 July 2025 (a1's
created date), so three of six quarters can be backtested.

    Q3 2025  a1 won 20 Jul 100 · a2 created 5 Jul won 10 Sep 200 · a3 created 10 Jul lost 200
             · a4 created 20 Aug won 25 Sep 50                       booked 350
    Q4 2025  b1 won 30 Oct 300 · b2 created 1 Sep lost 1 Dec 200 · b3 created 15 Oct lost 200
             · b4 created 20 Nov won 15 Dec 100                      booked 400
    Q1 2026  c1 won 25 Jan 400 · c2 created 10 Dec won 20 Mar 200 · c3 created 20 Jan won
             1 Mar 200                                               booked 800
    Q2 2026  d1 won 20 Apr 500 · open: d2 (created 1 Mar, close 15 Jun, 60 %, Commit),
             d3 (created 10 Apr, close 30 Jun, 20 %, Pipeline), d4 (created 1 May, close
             1 Aug, 10 %, Pipeline), each 200

Every deal open at day 40 is of 200, one size band. Age since created at day 40: 31–90 days for
a2 (35), b2 (69), c2 (61), d2 (70); 0–30 days for a3 (30), b3 (25), c3 (20), d3 (30), d4 (9).
"""

from dataclasses import replace
from datetime import date, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lib.forecast import (
    Known,
    accuracy_sentence,
    for_json,
    forecast,
    history_projection,
    moments,
    snapshot_dates,
)
from lib.load.opportunities import load_opportunities
from lib.session import assemble
from lib.settings import Settings
from lib.store import snapshot_of_export

SETTINGS = Settings(as_of=date(2026, 5, 10), pace_method="calendar")
HEADER = "Opportunity ID,Opportunity Owner,Stage,Amount,Probability (%),Forecast Category,"
HEADER += "Close Date,Created Date\n"
DEALS = {
    "a1": "Ann,Closed Won,100,100,Closed,2025-07-20,2025-07-01",
    "a2": "Ann,Closed Won,200,100,Closed,2025-09-10,2025-07-05",
    "a3": "Bo,Closed Lost,200,0,Omitted,2025-09-15,2025-07-10",
    "a4": "Bo,Closed Won,50,100,Closed,2025-09-25,2025-08-20",
    "b1": "Ann,Closed Won,300,100,Closed,2025-10-30,2025-10-02",
    "b2": "Ann,Closed Lost,200,0,Omitted,2025-12-01,2025-09-01",
    "b3": "Bo,Closed Lost,200,0,Omitted,2025-12-20,2025-10-15",
    "b4": "Bo,Closed Won,100,100,Closed,2025-12-15,2025-11-20",
    "c1": "Ann,Closed Won,400,100,Closed,2026-01-25,2026-01-05",
    "c2": "Ann,Closed Won,200,100,Closed,2026-03-20,2025-12-10",
    "c3": "Bo,Closed Won,200,100,Closed,2026-03-01,2026-01-20",
    "d1": "Ann,Closed Won,500,100,Closed,2026-04-20,2026-04-02",
    "d2": "Ann,Proposal,200,60,Commit,2026-06-15,2026-03-01",
    "d3": "Bo,Discovery,200,20,Pipeline,2026-06-30,2026-04-10",
    "d4": "Bo,Discovery,200,10,Pipeline,2026-08-01,2026-05-01",
}
# What the CRM showed on 5 Feb 2026, four days before day 40 of Q1.
SNAPSHOT_DEALS = {
    "c1": "Ann,Closed Won,400,100,Closed,2026-01-25,2026-01-05",
    "c2": "Ann,Proposal,200,50,Best Case,2026-03-20,2025-12-10",
    "c3": "Bo,Proposal,200,25,Commit,2026-03-01,2026-01-20",
}


def csv_of(deals: dict[str, str]) -> bytes:
    return (HEADER + "".join(f"{key},{row}\n" for key, row in deals.items())).encode()


def session_of(deals: dict[str, str] = DEALS, settings: Settings = SETTINGS):
    return assemble(load_opportunities(csv_of(deals), "deals.csv"), settings)


def snapshot(deals: dict[str, str] = SNAPSHOT_DEALS, as_of: date = date(2026, 2, 5)):
    return snapshot_of_export(load_opportunities(csv_of(deals), "snap.csv"), as_of)


def by_key(result):
    return {r.method.key: r for r in result.methods}


def backtest(result, key):
    return [(row.period.label, row.as_of, row.projected.value, row.actual) for row in
            by_key(result)[key].backtest]  # fmt: skip


def test_the_backtest_takes_day_40_of_the_three_quarters_the_export_holds_and_says_why():
    result = forecast(session_of())
    assert result.day_of_quarter == 40
    assert [(row.period.label, row.as_of, row.actual) for row in by_key(result)["run_rate"].backtest] == [
        ("Q1 FY2026", date(2026, 2, 9), 800.0),
        ("Q4 FY2025", date(2025, 11, 9), 400.0),
        ("Q3 FY2025", date(2025, 8, 9), 350.0),
    ]  # fmt: skip
    assert result.backtest_note == (
        "3 of the 6 quarters asked for are backtested: the export starts on 1 Jul 2025, and a "
        "quarter is backtested only when the export holds it from its first day."
    )


def test_run_rate_is_won_to_date_over_the_calendar_share_elapsed():
    result = forecast(session_of())
    run_rate = by_key(result)["run_rate"]
    assert run_rate.projection.value == pytest.approx(500 / (40 / 91))
    assert [row[2] for row in backtest(result, "run_rate")] == pytest.approx(
        [400 / (40 / 90), 300 / (40 / 92), 100 / (40 / 92)]
    )
    # Errors: 900 vs 800 = +12.5 %, 690 vs 400 = +72.5 %, 230 vs 350 = −34.29 %.
    errors = [0.125, 0.725, -120 / 350]
    assert [row.error for row in run_rate.backtest] == pytest.approx(errors)
    assert run_rate.mean_abs_error == pytest.approx(sum(map(abs, errors)) / 3)
    assert run_rate.bias == pytest.approx(sum(errors) / 3)


def test_history_learns_from_the_deals_open_at_day_40_of_earlier_quarters():
    history = by_key(forecast(session_of()))["history"]
    # Today: 31–90 days old were won 2 of 3 times (a2, c2; not b2), 0–30 days 1 of 3 (c3).
    # Won 500 + d2 200 × 2/3 + d3 200 × 1/3 + d4 200 × 1/3 + creation (50 + 100 + 0) / 3.
    assert history.projection.value == pytest.approx(2450 / 3)
    deals = {row["opportunity_id"]: row["p"] for row in history.projection.deals.to_pylist()}
    assert deals == pytest.approx({"d2": 2 / 3, "d3": 1 / 3, "d4": 1 / 3})
    # Q1 learns from Q3 and Q4 only: 31–90 days 1 of 2, 0–30 days 0 of 2; creation (50 + 100)
    # / 2. Q4 learns from Q3 alone: b2 like a2 (won), b3 like a3 (lost). Q3 has no teacher.
    rows = history.backtest
    assert [row.projected.value for row in rows] == pytest.approx(
        [400 + 100 + 0 + 75, 300 + 200 + 0 + 50, None]
    )
    assert rows[2].projected.reason == "No earlier quarter in the export to learn from."
    assert [row.error for row in rows] == pytest.approx([-225 / 800, 150 / 400, None])
    assert history.mean_abs_error == pytest.approx((225 / 800 + 150 / 400) / 2)
    assert history.bias == pytest.approx((-225 / 800 + 150 / 400) / 2)


def test_history_takes_deals_alike_by_stage_where_stage_history_gives_stages():
    entries = pa.table(
        {
            "opportunity_id": ["a2", "a3", "b2", "b3", "c2", "c3", "c2", "d2", "d3", "d4"],
            "stage": [
                "Proposal",
                "Discovery",
                "Proposal",
                "Discovery",
                "Proposal",
                "Discovery",
                "Negotiation",
                "Proposal",
                "Discovery",
                "Proposal",
            ],  # fmt: skip
            "entered_on": pa.array(
                [
                    date(2025, 7, 20),
                    date(2025, 7, 15),
                    date(2025, 10, 1),
                    date(2025, 10, 20),
                    date(2026, 1, 10),
                    date(2026, 1, 25),
                    date(2026, 3, 1),
                    date(2026, 4, 1),
                    date(2026, 4, 15),
                    date(2026, 5, 2),
                ],
                pa.date32(),
            ),  # fmt: skip
        }
    )
    history = by_key(forecast(session_of(), stage_entries=entries))["history"]
    # c2 was in Proposal on 9 Feb (Negotiation came later): Proposal won 2 of 3 (a2, c2),
    # Discovery 1 of 3 (c3). d4, young but in Proposal, now counts at 2/3.
    deals = {row["opportunity_id"]: (row["alike_by"], row["p"])
             for row in history.projection.deals.to_pylist()}  # fmt: skip
    assert deals == {
        "d2": ("stage Proposal", pytest.approx(2 / 3)),
        "d3": ("stage Discovery", pytest.approx(1 / 3)),
        "d4": ("stage Proposal", pytest.approx(2 / 3)),
    }
    assert history.projection.value == pytest.approx(500 + 200 * (2 / 3 + 1 / 3 + 2 / 3) + 50)


def test_weighted_commit_and_best_case_are_todays_pipeline_and_null_in_the_past_without_history():
    result = forecast(session_of())
    methods = by_key(result)
    # Won 500; in the quarter: d2 200 × 60 % Commit, d3 200 × 20 % Pipeline (d4 closes in Aug).
    assert methods["weighted"].projection.value == pytest.approx(660)
    assert methods["commit"].projection.value == pytest.approx(700)
    assert methods["best_case"].projection.value == pytest.approx(700)
    for key in ("weighted", "commit", "best_case"):
        rows = methods[key].backtest
        assert [row.projected.value for row in rows] == [None, None, None]
        assert rows[0].projected.reason.startswith(
            "No snapshot saved between 2 Feb and 9 Feb 2026, and no OpportunityHistory"
        )
        assert methods[key].mean_abs_error is None and methods[key].bias is None
    assert result.most_accurate.method.key == "history"


def test_a_snapshot_of_four_days_before_gives_the_past_pipeline():
    result = forecast(session_of(), snapshots=[snapshot()])
    methods = by_key(result)
    # 5 Feb: won 400; c2 200 × 50 % Best Case, c3 200 × 25 % Commit; Q1 booked 800.
    first = {key: methods[key].backtest[0].projected for key in ("weighted", "commit", "best_case")}
    assert {key: p.value for key, p in first.items()} == pytest.approx(
        {"weighted": 550, "commit": 600, "best_case": 800}
    )
    assert {p.source for p in first.values()} == {"the snapshot of 5 Feb 2026"}
    assert methods["weighted"].mean_abs_error == pytest.approx(250 / 800)
    assert methods["commit"].bias == pytest.approx(-200 / 800)
    # Best case was exact in the one quarter it could be backtested on.
    assert result.most_accurate.method.key == "best_case"
    # A snapshot from eight days before is too old to stand for the day.
    too_old = forecast(session_of(), snapshots=[snapshot(as_of=date(2026, 2, 1))])
    assert by_key(too_old)["weighted"].backtest[0].projected.value is None


def change(deal, day, stage, amount, close, probability, category):
    return (deal, datetime.fromisoformat(day), stage, Decimal(amount), date.fromisoformat(close),
            probability, category)  # fmt: skip


# OpportunityHistory of the Q1 deals: the CRM's figures of 9 Feb are in it.
CHANGES = [
    change("c1", "2026-01-05", "Discovery", 400, "2026-02-28", 0.1, "Pipeline"),
    change("c1", "2026-01-25", "Closed Won", 400, "2026-01-25", 1.0, "Closed"),
    change("c2", "2025-12-10", "Proposal", 300, "2026-03-20", 0.5, "Best Case"),
    change("c3", "2026-01-20", "Proposal", 200, "2026-03-01", 0.25, "Commit"),
    # After day 40: not known on 9 Feb.
    change("c3", "2026-02-20", "Negotiation", 200, "2026-03-01", 0.9, "Commit"),
]


def with_history(session):
    columns = ("opportunity_id", "changed_at", "stage", "amount", "close_date", "probability",
               "forecast_category")  # fmt: skip
    history = pa.table({name: [row[i] for row in CHANGES] for i, name in enumerate(columns)})
    history = history.append_column("changed_on", pa.array([row[1].date() for row in CHANGES]))
    history = history.set_column(3, "amount", history["amount"].cast(pa.decimal128(18, 2)))
    return replace(session, history=history)


def test_opportunity_history_gives_the_past_probabilities_and_categories():
    session = with_history(session_of())
    methods = by_key(forecast(session))
    q1 = {key: methods[key].backtest[0].projected for key in ("weighted", "commit", "best_case")}
    # Won 400; c2 at 300 × 50 %, c3 at 200 × 25 %, as the history had them on 9 Feb.
    assert {key: p.value for key, p in q1.items()} == pytest.approx(
        {"weighted": 400 + 150 + 50, "commit": 600, "best_case": 900}
    )
    assert {p.source for p in q1.values()} == {"OpportunityHistory"}
    # Q4: b2 and b3 were open on 9 Nov with no history row: their figures are unknown.
    assert methods["weighted"].backtest[1].projected.value is None
    assert methods["weighted"].backtest[1].projected.reason == (
        "2 deals open on 9 Nov 2025 have no OpportunityHistory row by then: their figures of "
        "that day are unknown."
    )


def flipped_after(day: date) -> dict[str, str]:
    """The deals with every outcome decided after `day` turned round: won lost, lost won."""
    flipped = {}
    for key, row in DEALS.items():
        fields = row.split(",")
        if date.fromisoformat(fields[5]) > day and fields[1] in ("Closed Won", "Closed Lost"):
            fields[1] = "Closed Lost" if fields[1] == "Closed Won" else "Closed Won"
        flipped[key] = ",".join(fields)
    return flipped


@pytest.mark.parametrize("past", ["snapshot", "history"])
def test_outcomes_decided_after_a_backtest_date_change_no_projection_made_on_it(past):
    def forecast_of(deals):
        if past == "snapshot":
            return forecast(session_of(deals), snapshots=[snapshot()])
        return forecast(with_history(session_of(deals)))

    before = forecast_of(DEALS)
    # Every method is computed at 9 Feb, so that each is checked.
    assert None not in [r.backtest[0].projected.value for r in before.methods]
    for index, row in enumerate(by_key(before)["run_rate"].backtest):
        assert flipped_after(row.as_of) != DEALS
        after = forecast_of(flipped_after(row.as_of))
        for key, result in by_key(after).items():
            projected = result.backtest[index].projected.value
            assert projected == by_key(before)[key].backtest[index].projected.value, (key, row)


def test_the_json_and_the_sentence_name_the_most_accurate_method():
    result = forecast(session_of(), snapshots=[snapshot()])
    printed = for_json(result, "USD")
    assert printed["most_accurate"] == "best_case"
    assert [m["method"] for m in printed["methods"]] == [
        "run_rate", "weighted", "commit", "best_case", "history"
    ]  # fmt: skip
    weighted = printed["methods"][1]
    assert weighted["backtest"][0] == {
        "period": "Q1 FY2026", "as_of": date(2026, 2, 9), "projected": 550.0, "actual": 800.0
    }  # fmt: skip
    assert weighted["backtest"][1]["projected"] is None
    assert accuracy_sentence(result) == (
        "Over the last 3 quarters at day 40, the best case method was within 0 % on average; "
        "run-rate overshot by 17 %; CRM-weighted undershot by 31 %; commit undershot by 25 %; "
        "history overshot by 5 %."
    )


def test_the_snapshots_read_are_the_latest_within_a_week_before_each_day():
    saved = [date(2026, 1, 30), date(2026, 2, 2), date(2026, 2, 6), date(2025, 11, 1)]
    wanted = [date(2026, 2, 9), date(2025, 11, 9), date(2025, 8, 9)]
    # 1 Nov is eight days before 9 Nov: too old.
    assert snapshot_dates(saved, wanted) == [date(2026, 2, 6)]


@st.composite
def exports(draw):
    """A few deals created from 1 July 2025 on (the first on that day, so that the backtest
    reaches back three quarters), each won, lost or open, closing up to 120 days after it was
    created, of 100 to 900."""
    deals = {}
    for n in range(draw(st.integers(1, 12))):
        created = date(2025, 7, 1) + timedelta(draw(st.integers(0, 300)) if n else 0)
        closed = created + timedelta(draw(st.integers(0, 120)))
        stage = draw(st.sampled_from(["Closed Won", "Closed Lost", "Proposal"]))
        amount = draw(st.integers(1, 9)) * 100
        deals[f"x{n}"] = f"Ann,{stage},{amount},50,Pipeline,{closed},{created}"
    return deals


# Each example assembles two sessions: a few are enough on a machine shared with other tests.
@settings(max_examples=8, deadline=None)
@given(deals=exports(), back=st.integers(1, 3))
def test_the_history_method_never_reads_an_outcome_decided_after_its_day(deals, back):
    session = session_of(deals)
    con = session.connection()
    day = moments(con, SETTINGS, 3)[1][back - 1]
    flipped = {}
    for key, row in deals.items():
        fields = row.split(",")
        if date.fromisoformat(fields[5]) > day.day and fields[1] != "Proposal":
            fields[1] = "Closed Lost" if fields[1] == "Closed Won" else "Closed Won"
        flipped[key] = ",".join(fields)
    again = session_of(flipped)
    known, known_again = Known(con), Known(again.connection())
    assert history_projection(session, known, day).value == pytest.approx(
        history_projection(again, known_again, day).value
    )


def test_a_past_pipeline_is_unknown_when_figures_use_the_crms_converted_amounts():
    header = HEADER.strip() + ",Amount (converted) Currency,Amount (converted)\n"
    rows = [f"{key},{row},USD,{row.split(',')[2]}\n" for key, row in DEALS.items()]
    export = load_opportunities((header + "".join(rows)).encode(), "converted.csv")
    assert export.report.amount_column == "Amount (converted)"
    weighted = by_key(forecast(assemble(export, SETTINGS), snapshots=[snapshot()]))["weighted"]
    # A snapshot keeps each deal's own amount: no converted amount of 9 Feb to add up.
    assert weighted.projection.value == pytest.approx(660)
    assert weighted.backtest[0].projected.value is None
    assert weighted.backtest[0].projected.reason.startswith(
        "The export's amounts are the CRM's converted ones"
    )
