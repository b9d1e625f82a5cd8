"""The "Are we on pace?" page in a real browser: headline figures read off the rendered page."""

from __future__ import annotations

from datetime import date

import pytest
from playwright.sync_api import Page, expect

from lib.forecast import accuracy_sentence, forecast
from lib.format import money, percent
from lib.load.opportunities import load_opportunities
from lib.overview import default_as_of
from lib.session import assemble
from lib.settings import Settings
from tests.test_pacing_page import ELAPSED_SHARE, ROOT, sample_team_budget, sample_won

pytestmark = pytest.mark.timeout(120)
RERUN_TIMEOUT_MS = 30_000


def metric_value(page: Page, label: str):
    card = page.get_by_test_id("stMetric").filter(
        has=page.get_by_test_id("stMetricLabel").get_by_text(label, exact=True)
    )
    return card.get_by_test_id("stMetricValue")


def test_the_headline_figures_on_screen_match_the_sample_files(page: Page, server_url: str):
    closed = sample_won(date(2026, 10, 1), date(2026, 11, 20))
    expected = sample_team_budget("2026-Q4") * ELAPSED_SHARE
    page.goto(server_url)
    expect(page.get_by_role("heading", name="Are we on pace?")).to_be_visible(
        timeout=RERUN_TIMEOUT_MS
    )
    expect(metric_value(page, "Booked to date")).to_have_text(money(closed))
    expect(metric_value(page, "Pacing index")).to_have_text(percent(closed / expected))
    expect(page.get_by_text(f"behind by {money(expected - closed)}")).to_be_visible()
    expect(page.get_by_text("week 8 of 13").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)


def test_picking_a_past_quarter_shows_it_complete(page: Page, server_url: str):
    closed = sample_won(date(2026, 7, 1), date(2026, 9, 30))
    page.goto(server_url)
    period = page.get_by_test_id("stSelectbox").filter(has_text="Period")
    expect(period).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    period.click()
    page.get_by_role("option", name="Q3 FY2026").click()
    expect(metric_value(page, "Booked to date")).to_have_text(
        money(closed), timeout=RERUN_TIMEOUT_MS
    )
    expect(page.get_by_text("week 13 of 13").first).to_be_visible()


def test_the_backtest_sentence_and_the_math_of_a_method_are_on_screen(page: Page, server_url: str):
    export = load_opportunities((ROOT / "sample_data" / "opportunities.csv").read_bytes(), "o.csv")
    session = assemble(export, Settings(as_of=default_as_of(export.deals)))
    sentence = accuracy_sentence(forecast(session))
    assert sentence.startswith("Over the last 6 quarters at day 51, the ")
    page.goto(server_url)
    expect(page.get_by_text(sentence)).to_be_visible(timeout=RERUN_TIMEOUT_MS)
    math = page.get_by_test_id("stExpander").filter(has_text="See the math: History")
    math.get_by_text("See the math: History").click()
    expect(math.get_by_text("Formula: won to date + Σ over deals open now")).to_be_visible()
    expect(math.get_by_test_id("stCode")).to_contain_text("WITH days AS")
    expect(math.get_by_test_id("stDataFrame").first).to_be_visible()
    expect(page.get_by_test_id("stException")).to_have_count(0)
