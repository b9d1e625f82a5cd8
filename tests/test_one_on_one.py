"""A rep's 1:1 sheet and its HTML file, on the coaching tests' export (tests/test_coaching.py)."""

from datetime import date
from html import escape

from lib.coaching import coaching
from lib.db import open_database
from lib.follow_through import History, track_record
from lib.load.opportunities import load_opportunities
from lib.load.targets import load_targets
from lib.one_on_one import (
    deal_rows,
    four_quarters_rows,
    one_on_one_sheet,
    pacing_cards,
    pipeline_title,
    sheet_file_name,
    sheet_html,
)
from lib.pipeline_warnings import pipeline_warnings
from lib.session import assemble
from tests import test_follow_through as snapshots
from tests.test_coaching import AS_OF, EXPORT, SETTINGS, TARGETS, database

HOSTILE = b"""Opportunity ID,Opportunity Name,Account Name,Opportunity Owner,Stage,Amount,Probability (%),Close Date,Created Date,Lead Source,Last Activity,Next Step
x1,<script>alert(1)</script>,Tom & Jerry's,<b>Ann</b>,<i>Proposal</i>,5000,90,2026-11-18,2026-10-01,Referral,2026-11-19,<img src=x onerror=alert(1)>
x2,Old win,Tom & Jerry's,<b>Ann</b>,Closed Won,1000,100,2026-06-01,2026-05-01,Web,,
"""


def sheet_for(owner: str, export: bytes = EXPORT):
    con = database(export)
    report = coaching(con, SETTINGS)
    found = pipeline_warnings(con, SETTINGS, "USD")
    return one_on_one_sheet(con, SETTINGS, owner, report, found, "USD", "deals.csv")


def test_the_sheet_has_the_reps_pacing_for_the_as_of_quarter():
    cards = dict((label, (value, note)) for label, value, note in pacing_cards(sheet_for("Ann")))
    # 10,000 booked of a 40,000 budget; a6's 40,000 at 90 % is Commit.
    assert cards["Booked to date"] == ("$10K", "25 % of $40K budget")
    assert cards["Commit projection"] == ("$50K", "booked + Commit")
    assert cards["Gap to budget"][0] == "$30K"


def test_the_sheet_lists_what_the_rep_can_close_and_asks_about_the_quiet_deal():
    cy = sheet_for("Cy")
    # c2 at 60 % closes on 20 December: nothing due today, it is the nearest. Its name starts
    # with its account, which is not said twice.
    assert cy.close_now == ()
    assert [deal.opportunity_id for deal in cy.closing_next] == ["c2"]
    assert cy.questions[0] == (
        "Ivy expansion ($15K) has had no activity in 23 days: who there can you reach this week?"
    )
    assert pipeline_title(cy) == "$15K open in 1 deal, all of it created in the last 90 days"


def test_an_overdue_close_date_says_so_in_its_own_column_not_in_the_flags():
    sheet = sheet_for("<b>Ann</b>", HOSTILE)
    (row,) = deal_rows(sheet.close_now, "USD")
    assert row[4] == "18 Nov 2026 (2 d overdue)"
    assert row[7] == ""


def test_the_four_quarters_table_sets_the_rep_beside_the_team_median():
    rows = {label: (mine, median) for label, mine, median in four_quarters_rows(sheet_for("Ann"))}
    # Win rates 4/5, 4/5, 0, 1 and none for Zed: the median of four is 0.8.
    assert rows["Win rate"] == ("80 %", "80 %")
    assert rows["Referral ratio (target 2 per win)"] == ("0.75 per win", "0.25 per win")
    assert rows["Deals won (W)"] == ("4", "2")


def test_every_value_from_the_export_is_escaped_in_the_html_file():
    page = sheet_html(sheet_for("<b>Ann</b>", HOSTILE))
    assert "<script" not in page
    assert "<img" not in page
    assert "<b>Ann</b>" not in page and "<i>Proposal" not in page
    assert "1:1 with &lt;b&gt;Ann&lt;/b&gt;" in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Tom &amp; Jerry&#x27;s" in page


def test_the_html_file_needs_nothing_from_outside():
    page = sheet_html(sheet_for("Ann"))
    for outside in ("<script", "<link", "src=", "url(", "@import", "https:"):
        assert outside not in page
    assert "<svg" in page and "<style>" in page


def test_the_file_is_named_for_the_rep_and_the_day():
    assert sheet_file_name("Mateo Fernández", date(2026, 11, 20)) == (
        "1-1-mateo-fernández-2026-11-20.html"
    )
    assert sheet_file_name("Ryan O'Connor", AS_OF) == "1-1-ryan-o-connor-2026-11-20.html"


def test_a_rep_with_a_budget_and_no_deals_gets_a_sheet():
    con = open_database(
        load_opportunities(EXPORT, "deals.csv").deals,
        load_targets(TARGETS, "targets.csv", SETTINGS).targets,
    )
    report = coaching(con, SETTINGS)
    zed = one_on_one_sheet(con, SETTINGS, "Zed", report, pipeline_warnings(con, SETTINGS, "USD"),
                           "USD", "deals.csv")  # fmt: skip
    assert (zed.pipeline, zed.close_now, zed.closing_next) == ((), (), ())
    assert "1:1 with Zed" in sheet_html(zed)


def test_the_html_file_carries_the_reps_follow_through_and_forecast_accuracy():
    session = assemble(snapshots.CURRENT, snapshots.SETTINGS)
    con, settings = session.connection(), session.settings
    record = track_record(snapshots.history(*snapshots.ALL), settings)
    sheet = one_on_one_sheet(con, settings, "Ann", coaching(con, settings),
                             pipeline_warnings(con, settings, "USD"), "USD", "deals.csv",
                             record)  # fmt: skip
    page = sheet_html(sheet)
    assert (
        escape(
            "Last 6 weeks: 5 deals named ($6.2K) at 2 snapshots: 1 won within 7 days ($1K), 1 lost, "
            "2 pushed (1 deal twice), 1 still open"
        )
        in page
    )
    assert "<td>Fri 6 Nov 2026</td><td class=number>3 · $3.5K</td>" in page
    assert "Commit and best case at week 8 of past quarters, against what was won" in page
    assert "Commit was off by 10 % on average (under by 10 %)" in page
    assert "<td>Q2 FY2026</td><td>18 May 2026</td><td class=number>$3K</td>" in page


def test_without_snapshots_the_html_file_says_where_to_save_them():
    con = database(EXPORT)
    record = track_record(History((), con.sql("SELECT * FROM opportunities").to_arrow_table()),
                          SETTINGS)  # fmt: skip
    report = coaching(con, SETTINGS)
    found = pipeline_warnings(con, SETTINGS, "USD")
    page = sheet_html(one_on_one_sheet(con, SETTINGS, "Ann", report, found, "USD", "deals.csv",
                                       record))  # fmt: skip
    assert page.count(escape("save a snapshot each week to see this (“Save as snapshot” on “What "
                             "changed since last week?”)")) == 2  # fmt: skip
    assert "– No snapshots were read." in sheet_html(sheet_for("Ann"))
