"""The QBR page on the sample data, and its presentation mode, figures checked against the files
themselves."""

import json
import re
from datetime import date

from streamlit.testing.v1 import AppTest

from lib.format import money, percent
from lib.load.opportunities import load_opportunities
from lib.qbr import unbroken
from lib.store import save_snapshot, snapshot_of_export
from tests.test_pacing_page import APP, ROOT, sample_team_budget, sample_won

PAGE = "pages/qbr.py"


def unescaped(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def open_qbr(query: dict[str, str] | None = None) -> AppTest:
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    return at


def metrics(at: AppTest) -> dict[str, tuple[str, str]]:
    return {metric.label: (metric.value, metric.delta) for metric in at.metric}


def test_the_qbr_opens_on_the_as_of_quarter_so_far_with_its_story_and_headline():
    at = open_qbr()
    assert at.title[0].value == "What story do we tell at the QBR?"
    closed = sample_won(date(2026, 10, 1), date(2026, 11, 20))
    budget = sample_team_budget("2026-Q4")
    last_year = sample_won(date(2025, 10, 1), date(2025, 11, 20))
    assert unescaped(at.header[0].value) == unbroken(
        f"Q4 FY2026 so far (through 20 Nov): {money(closed)} booked, "
        f"{percent(closed / budget)} of budget, "
        f"{percent(closed / last_year - 1, signed=True)} on last year."
    )
    shown = metrics(at)
    assert shown["Bookings"] == (
        money(closed),
        unbroken(f"{percent(closed / budget)} of {money(budget)} budget"),
    )
    assert shown["vs last year"] == (
        unbroken(percent(closed / last_year - 1, signed=True)),
        f"{money(last_year)} in Q4 FY2025 by the same day",
    )
    assert [header.value for header in at.header[1:]] == [
        "Bookings through the quarter",
        "Attainment by rep",
        "Top wins",
        "Losses",
        "Next quarter's coverage",
        "Concentration risks",
        "Every sale should lead to two more",
    ]
    assert at.query_params["quarter"] == "Q4 FY2026"


def test_a_past_quarter_is_shown_through_its_last_day():
    at = open_qbr()
    picker = at.selectbox(key="qbr_quarter")
    picker.set_value(next(q for q in picker.options if q == "Q3 FY2026")).run()
    assert not at.exception
    closed = sample_won(date(2026, 7, 1), date(2026, 9, 30))
    budget = sample_team_budget("2026-Q3")
    assert unescaped(at.header[0].value).startswith(
        unbroken(f"Q3 FY2026: {money(closed)} booked, {percent(closed / budget)} of budget")
    )
    assert metrics(at)["Bookings"][0] == money(closed)
    assert at.query_params["quarter"] == "Q3 FY2026"


def test_the_quarter_in_the_address_opens_that_quarter():
    at = open_qbr({"quarter": "Q2 FY2026"})
    assert unescaped(at.header[0].value).startswith("Q2 FY2026: ")
    assert unescaped(at.info[0].value).startswith("Q3 FY2026 is over")


def test_the_page_offers_the_html_file_and_the_zip_of_tables():
    at = open_qbr()
    labels = [button.proto.label for button in at.get("download_button")]
    assert labels == ["Download the QBR (HTML)", "Download every table (ZIP of CSVs)"]
    assert len(at.dataframe) == 4


def test_presentation_mode_from_the_address_hides_controls_and_tables_and_sets_the_room_style():
    at = open_qbr({"present": "1"})
    assert at.toggle(key="qbr_present").value is True
    styles = [element.proto.body for element in at.get("html")]
    assert any(".st-key-qbr_controls { display: none !important; }" in body for body in styles)
    assert any('[data-testid="stSidebar"]' in body for body in styles)
    assert len(at.dataframe) == 0
    assert at.get("download_button") == []
    assert at.button[0].label == "Leave presentation mode"


def test_the_toggle_sets_the_address_and_leaving_clears_it():
    at = open_qbr()
    assert not any("stSidebar" in element.proto.body for element in at.get("html"))
    at.toggle(key="qbr_present").set_value(True).run()
    assert at.query_params["present"] == "1"
    assert len(at.dataframe) == 0
    at.button[0].click().run()
    assert "present" not in at.query_params
    assert at.toggle(key="qbr_present").value is False
    assert len(at.dataframe) == 4


def test_every_chart_saves_its_png_at_a_fixed_size_so_titles_stay_legible():
    at = open_qbr()
    charts = at.get("plotly_chart")
    # Pacing, attainment, top wins, largest losses, coverage and pipeline by deal; the sample's
    # losses have neither a stage before the loss nor a reason to chart.
    assert len(charts) == 6
    for chart in charts:
        config = json.loads(chart.proto.config)
        assert config["toImageButtonOptions"] == {
            "format": "png",
            "width": 1600,
            "height": 900,
            "scale": 2,
        }


def test_a_saved_snapshot_places_a_lost_deal_at_the_stage_it_was_lost_at(snapshot_store):
    # On 1 November the $184K Kestrel deal, lost on 6 November, was still in negotiation.
    text = (ROOT / "sample_data" / "opportunities.csv").read_text(encoding="utf-8")
    row = '"Kestrel Wind Power - Data Warehouse Connectors","Closed Lost","Q4-2026"'
    assert text.count(row) == 1
    earlier = text.replace(row, row.replace("Closed Lost", "Negotiation/Review"))
    export = load_opportunities(earlier.encode(), "opportunities.csv")
    save_snapshot(snapshot_of_export(export, date(2026, 11, 1)), snapshot_store)
    at = open_qbr()
    by_stage = next(
        json.loads(chart.proto.spec)
        for chart in at.get("plotly_chart")
        if "by stage lost at" in json.loads(chart.proto.spec)["layout"]["title"]["text"]
    )
    assert by_stage["data"][0]["y"][-1] == "Negotiation/Review"
    assert by_stage["data"][0]["text"][-1] == "$184K · 1 deal"
    assert any(
        unescaped(caption.value).startswith("217 of 218 lost deals show only a closing stage")
        for caption in at.caption
    )


def test_a_new_fiscal_year_start_replaces_a_quarter_picked_under_the_old_one():
    at = open_qbr()
    picker = at.selectbox(key="qbr_quarter")
    picker.set_value(next(q for q in picker.options if q == "Q2 FY2026")).run()
    at.selectbox(key="fiscal_start").set_value(2).run()
    assert not at.exception
    # Under a February start named by its end, 20 November 2026 is in Q4 FY2027 (Nov–Jan).
    assert at.selectbox(key="qbr_quarter").value.label == "Q4 FY2027"
    assert unescaped(at.header[0].value).startswith("Q4 FY2027 so far (through 20 Nov)")
