"""The "Are we on pace?" page on the sample data, figures checked against the files themselves."""

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pandas as pd
from streamlit.testing.v1 import AppTest

from lib import store
from lib.format import money, percent
from tests.test_forecast import DEALS, csv_of, snapshot

ROOT = Path(__file__).resolve().parent.parent
APP = str(ROOT / "app.py")
# Q4 2026 has 66 business days (22 in October, 21 in November, 23 in December); by Friday
# 20 November, the sample's as-of date, 37 of them have passed.
ELAPSED_SHARE = 37 / 66


def sample_won(first: date, last: date, team_of: dict[str, str] | None = None, team=None):
    """Won amount in [first, last] read from the sample export with the csv module alone."""
    text = (ROOT / "sample_data" / "opportunities.csv").read_text(encoding="utf-8")
    total = Decimal(0)
    for row in csv.DictReader(io.StringIO(text[: text.index("\n\n")])):
        month, day, year = (int(part) for part in row["Close Date"].split("/"))
        owner_team = (team_of or {}).get(row["Opportunity Owner"])
        in_team = team is None or owner_team == team
        if row["Stage"] == "Closed Won" and first <= date(year, month, day) <= last and in_team:
            total += Decimal(row["Amount"].replace("$", "").replace(",", ""))
    return float(total)


def sample_team_budget(period: str) -> float:
    with (ROOT / "sample_data" / "quotas.csv").open(encoding="utf-8") as quotas:
        return next(
            float(row["amount"])
            for row in csv.DictReader(quotas)
            if row["owner"] == "Team" and row["period"] == period
        )


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {metric.label: (metric.value, metric.delta) for metric in at.metric}


def open_page(**state) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    for key, value in state.items():
        at.session_state[key] = value
    at.run()
    assert not at.exception, at.exception
    return at


def test_the_front_page_answers_are_we_on_pace_for_the_sample_quarter():
    at = open_page()
    assert at.title[0].value == "Are we on pace?"
    closed = sample_won(date(2026, 10, 1), date(2026, 11, 20))
    budget = sample_team_budget("2026-Q4")
    shown = metrics(at)
    assert shown["Booked to date"] == (
        money(closed),
        f"{percent(closed / budget)} of {money(budget)} budget",
    )
    expected = budget * ELAPSED_SHARE
    assert shown["Pacing index"] == (
        percent(closed / expected),
        f"behind by {money(expected - closed)}",
    )
    last_year = sample_won(date(2025, 10, 1), date(2025, 11, 20))
    assert shown["vs last year, same day"] == (
        percent(closed / last_year - 1, signed=True),
        f"{money(last_year)} last year",
    )


def test_the_chart_title_states_the_verdict_and_the_week():
    at = open_page()
    closed = sample_won(date(2026, 10, 1), date(2026, 11, 20))
    expected = sample_team_budget("2026-Q4") * ELAPSED_SHARE
    spec = json.loads(at.get("plotly_chart")[0].proto.spec)
    assert spec["layout"]["title"]["text"] == (
        f"Q4 FY2026: {percent(closed / expected)} of pace, {money(expected - closed)} behind"
        " · week 8 of 13"
    )


def test_a_past_quarter_is_shown_complete():
    at = open_page()
    at.selectbox[0].set_value(next(p for p in at.selectbox[0].options if p == "Q3 FY2026")).run()
    assert not at.exception
    closed = sample_won(date(2026, 7, 1), date(2026, 9, 30))
    budget = sample_team_budget("2026-Q3")
    assert metrics(at)["Booked to date"][0] == money(closed)
    assert metrics(at)["Pacing index"][0] == percent(closed / budget)


def test_one_team_is_paced_on_its_reps():
    with (ROOT / "sample_data" / "reps.csv").open(encoding="utf-8") as reps:
        team_of = {row["owner"]: row["team"] for row in csv.DictReader(reps)}
    at = open_page()
    at.selectbox[1].set_value("East").run()
    assert not at.exception
    closed = sample_won(date(2026, 10, 1), date(2026, 11, 20), team_of, "East")
    assert metrics(at)["Booked to date"][0] == money(closed)
    table = next(frame.value for frame in at.dataframe if "owner" in frame.value.columns)
    assert set(table["team"]) == {"East"}


def test_without_a_quota_file_the_budget_can_be_typed_and_is_said_missing_until_then():
    upload = (ROOT / "sample_data" / "opportunities.csv").read_bytes()
    at = open_page(source="My uploads")
    at.file_uploader(key="upload_opportunities").upload("opportunities.csv", upload, "text/csv")
    at.run()
    assert not at.exception
    assert "No budget for this period" in at.warning[0].value
    assert metrics(at)["Pacing index"][0] == "–"
    at.number_input[0].set_value(5_000_000.0).run()
    closed = sample_won(date(2026, 10, 1), date(2026, 11, 20))
    assert metrics(at)["Pacing index"][0] == percent(closed / (5_000_000 * ELAPSED_SHARE))
    # Typed in whole units and said back as money, never "5000000.00".
    assert at.number_input[0].format == "%.0f"
    assert "Budget: \\$5M" in [caption.value for caption in at.caption]


def forecast_page(*snapshots) -> AppTest:
    """The page on test_forecast.py's hand-worked deals as of 10 May 2026, paced on calendar
    days, with those snapshots saved in the store."""
    for saved in snapshots:
        store.save_snapshot(saved, store.store_path())
    at = open_page(source="My uploads")
    at.file_uploader(key="upload_opportunities").upload("deals.csv", csv_of(DEALS), "text/csv")
    at.run()
    at.date_input(key="as_of").set_value(date(2026, 5, 10)).run()
    next(radio for radio in at.radio if radio.label == "Pace on").set_value("calendar").run()
    assert not at.exception, at.exception
    return at


def test_the_forecast_names_the_method_that_was_most_accurate_on_past_quarters():
    at = forecast_page()
    # History: 575 vs 800 (−28 %) and 550 vs 400 (+37.5 %), within 33 % on average; run-rate
    # +12.5 %, +72.5 % and −34 %: 17 % over on average.
    assert "Over the last 3 quarters at day 40, the history method was within 33 % on average; " \
        "run\\-rate overshot by 17 %\\." in [markdown.value for markdown in at.markdown]  # fmt: skip
    shown = metrics(at)
    assert shown["History"] == (money(2450 / 3), "within 33 % on average")
    assert shown["CRM-weighted"] == (money(660), "not backtested")
    backtest = next(frame.value for frame in at.dataframe if "history_error" in frame.value)
    assert list(backtest["period"]) == ["Q1 FY2026", "Q4 FY2025", "Q3 FY2025"]
    assert list(backtest["history"][:2]) == [575, 550] and pd.isna(backtest["history"][2])
    # A method never backtested has no column of "–": its reason is said beside the table.
    assert "weighted" not in backtest and "run_rate" in backtest
    captions = [caption.value for caption in at.caption]
    assert any(c.startswith("CRM\\-weighted – in Q1 FY2026 \\(and 2 more quarters\\)\\: No "
                            "snapshot saved between 2 Feb and 9 Feb 2026") for c in captions)  # fmt: skip
    assert any("History – in Q3 FY2025\\: No earlier quarter" in c for c in captions)


def test_see_the_math_shows_the_formula_inputs_deals_and_sql_of_each_method():
    at = forecast_page(snapshot())
    history = next(e for e in at.expander if e.label == "See the math: History")
    frames = [frame.value for frame in history.dataframe]
    inputs = dict(zip(frames[0]["Input"], frames[0]["Value"], strict=True))
    assert inputs["Won to date"] == money(500)
    assert inputs["Expected creation (mean created and won after that day)"] == money(50)
    assert list(frames[1]["opportunity_id"]) == ["d2", "d3", "d4"]
    assert "WITH days AS" in history.code[0].value
    weighted = next(e for e in at.expander if e.label == "See the math: CRM-weighted")
    assert list(weighted.dataframe[1].value["opportunity_id"]) == ["d2", "d3"]
    # With the snapshot of 5 Feb, the weighted pipeline of 9 Feb is known: 550 against 800.
    backtest = next(frame.value for frame in at.dataframe if "history_error" in frame.value)
    assert backtest["weighted"][0] == 550
    assert (
        "The CRM's probabilities and forecast categories of past days are read from the snapshot "
        "of 5 Feb 2026 for Q1 FY2026 (a snapshot stands for a day when it was saved on it or up "
        "to 7 days before)."
    ) in [caption.value.replace("\\", "") for caption in at.caption]
    assert metrics(at)["Best case"] == (money(700), "within 0 % on average")


def test_the_forecast_is_said_to_be_the_whole_teams_when_one_team_is_chosen():
    at = open_page()
    at.selectbox[1].set_value("East").run()
    assert not at.exception
    assert not [e for e in at.expander if e.label.startswith("See the math")]
    assert (
        "The forecast and its backtest are of Q4 FY2026 for the whole team: choose them above to "
        "see each method's projection and how it has done before."
    ) in [caption.value for caption in at.caption]
