"""The "Are we on pace?" page on the sample data, figures checked against the files themselves."""

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

from streamlit.testing.v1 import AppTest

from lib.format import money, percent

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
