"""The coaching page's Funnel tab (ui/funnel_tab.py): run alone on small exports whose figures
are worked out by hand in tests/test_funnel.py's way, and once on the whole page."""

from datetime import date

import pandas as pd
from streamlit.testing.v1 import AppTest

from tests.salesforce_export import full_export
from tests.test_app import APP

AS_OF = date(2026, 11, 20)
# As of 20 Nov 2026 (fiscal year from January: the window is 1 Jan – 20 Nov 2026):
# created in the window, A1 is prospecting, A2 negotiating, B4 at the proposal; A3 and B1 were
# won; B2 was lost at a stage the export does not keep; B3 was created in 2025.
PLAIN = b"""Opportunity ID,Opportunity Owner,Stage,Amount,Close Date,Created Date
A1,Ann,Prospecting,100,2026-12-15,2026-02-01
A2,Ann,Negotiation/Review,200,2026-12-20,2026-03-01
A3,Ann,Closed Won,400,2026-03-01,2026-01-10
B1,Bo,Closed Won,800,2026-06-10,2026-04-01
B2,Bo,Closed Lost,300,2026-07-01,2026-05-01
B3,Bo,Closed Lost,50,2026-02-01,2025-06-01
B4,Bo,Proposal/Price Quote,60,2026-12-01,2026-10-01
"""


def funnel_script(data, name, rep, as_of) -> None:
    from lib.load.opportunities import load_opportunities
    from lib.session import assemble
    from lib.settings import Settings
    from ui.funnel_tab import show_funnel

    settings = Settings(as_of=as_of)
    session = assemble(load_opportunities(data, name), settings)
    show_funnel(session, settings, rep)


def run_tab(data: bytes, name: str, rep: str = "Ann") -> AppTest:
    at = AppTest.from_function(funnel_script, args=(data, name, rep, AS_OF), default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def rounded(frame: pd.DataFrame) -> list[list]:
    return [[round(v, 1) if isinstance(v, float) else v for v in row] for row in
            frame.astype(object).where(frame.notna(), None).values.tolist()]  # fmt: skip


def test_the_teams_funnel_from_a_plain_export_counts_current_stages_and_says_so():
    at = run_tab(PLAIN, "deals.csv")
    assert at.subheader[0].value == "Funnel of the team, Q1 FY2026 – Q4 FY2026"
    # Reached: Prospecting 5 (A1, A2, A3, B1, B4), Proposal 4, Negotiation 3; won 2.
    assert rounded(at.dataframe[0].value) == [
        ["Prospecting", 6, None, 33.3, None],
        ["Proposal/Price Quote", 4, None, None, None],
        ["Negotiation/Review", 3, None, None, None],
    ]
    captions = [c.value for c in at.caption]
    assert any("from their current stage alone" in c and "1 lost deals" in c for c in captions)
    assert any(c.startswith("Median days in stage “–”: no stage history") for c in captions)
    assert "Shares “–”: 1 lost deals' last stage is not in the export" in "".join(captions)
    # Closed in the window: 50 lost, 300 lost, 400 won, 800 won; quartiles 237.5, 350, 500.
    assert rounded(at.dataframe[1].value) == [
        [50.0, 237.5, 0, 1, 0.0],
        [237.5, 350.0, 0, 1, 0.0],
        [350.0, 500.0, 1, 0, 100.0],
        [500.0, 800.0, 1, 0, 100.0],
    ]
    assert any("$50, $238, $350, $500, $800" in c for c in captions)
    # 3 open deals × 50 % × $600 ÷ 60 days = $15 a day.
    metrics = {m.label: m.value for m in at.metric}
    assert metrics == {
        "Per day": "$15", "Open deals": "3", "Win rate": "50 %", "Average won": "$600",
        "Median sales cycle": "60 days",
    }  # fmt: skip


def test_a_reps_funnel_and_too_few_closed_deals_for_size_bands():
    at = run_tab(PLAIN, "deals.csv")
    assert at.radio(key="funnel_whose").value == "Whole team"
    at.radio(key="funnel_whose").set_value("Ann").run()
    assert rounded(at.dataframe[0].value) == [
        ["Prospecting", 3, 66.7, 33.3, None],
        ["Proposal/Price Quote", 2, 100.0, 50.0, None],
        ["Negotiation/Review", 2, 50.0, 50.0, None],
    ]
    assert (
        "No size bands: fewer than 4 won or lost deals with an amount closed in the trailing "
        "four quarters." in [i.value for i in at.info]
    )


def test_a_rep_without_deals_in_the_window_gets_a_sentence_not_a_chart():
    at = run_tab(PLAIN, "deals.csv", rep="Cy")
    at.radio(key="funnel_whose").set_value("Cy").run()
    assert not at.get("plotly_chart")
    assert at.info[0].value.startswith("No deal created from 01 Jan 2026 to 20 Nov 2026")
    assert {m.label: m.value for m in at.metric}["Per day"] == "–"
    assert "Per day “–”: no deal was won or lost in the trailing four quarters." in [
        c.value for c in at.caption
    ]


def test_a_data_exports_history_gives_the_median_days_in_each_stage():
    # Stays left in the window: Prospección 50 days (O1); Negociación 30 (O2) and 49 (O3):
    # median 39.5. O1 and O2 reached Negociación, O3 was won, O6 is prospecting; O4 was lost
    # with no history: left out.
    at = run_tab(full_export(), "export.zip")
    assert rounded(at.dataframe[0].value) == [
        ["Prospección", 5, None, 20.0, 50.0],
        ["Negociación", 3, None, None, 39.5],
    ]
    assert any("4 deals read from stage history" in c.value for c in at.caption)


def test_the_coaching_page_has_the_funnel_tab():
    at = AppTest.from_file(APP, default_timeout=90)
    at.run()
    at.switch_page("pages/coaching.py").run()
    assert not at.exception, at.exception
    assert [tab.label for tab in at.tabs][-1] == "Funnel"
    assert any(s.value.startswith("Funnel of ") for s in at.subheader)
