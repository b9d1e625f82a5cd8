"""Pacing against budget and last year, on a small table worked out by hand.

The fiscal year starts in February and is named by its end, so Q1 FY2025 runs from Thursday
1 February to Tuesday 30 April 2024: a leap year, 90 days, 64 business days (21 in February,
21 in March, 22 in April). The as-of date is Sunday 10 March 2024: 27 business days have
passed (21 in February; 1, 4–8 March), 37 are left, and 39 calendar days of 90.
"""

import json
from dataclasses import replace
from datetime import date

import pytest

from lib.db import open_database, resolve_deals, set_apart
from lib.fiscal import fiscal_month, fiscal_quarter
from lib.load.opportunities import load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_targets
from lib.overview import team_of_each_rep
from lib.pacing import cumulative_series, linearity, pacing
from lib.settings import Settings

SETTINGS = Settings(as_of=date(2024, 3, 10), fiscal_year_start_month=2)
BUSINESS_SHARE = 27 / 64

# z1, lost in 2022, shows the export reaches back before last year's quarter (1 Feb 2023).
DEALS = b"""Opportunity ID,Opportunity Owner,Stage,Amount,Probability (%),Close Date
a1,Ann,Closed Won,1000,100,2024-02-29
a2,Ann,Closed Won,500,100,2024-01-31
a3,Ann,Closed Won,700,100,2024-03-10
a4,Ann,Closed Won,300,100,2024-03-11
a5,Ann,Negotiation/Review,2000,90,2024-04-30
a6,Ann,Id. Decision Makers,1000,60,2024-05-01
a7,Ann,Needs Analysis,400,20,2024-03-01
a8,Ann,Closed Lost,5000,0,2024-03-05
b1,Bo,Closed Won,600,100,2024-02-10
y1,Ann,Closed Won,800,100,2023-03-11
y2,Ann,Closed Won,900,100,2023-03-12
y3,Bo,Closed Won,300,100,2023-04-20
z1,Bo,Closed Lost,100,0,2022-12-15
"""
# Ann's quarter budget; Cy's monthly budgets sum to the quarter; Bo has none.
TARGETS = b"""owner,period,amount
Ann,Q1 FY2025,4000
Cy,2024-02,500
Cy,2024-03,500
Cy,2024-04,500
East,Q1 FY2025,4500
"""
REPS = b"owner,team,manager\nAnn,East,Mia\nBo,East,Mia\nCy,West,Tom\n"


def database(targets: bytes = TARGETS, reps: bytes | None = REPS):
    return open_database(
        load_opportunities(DEALS, "deals.csv").deals,
        load_targets(targets, "targets.csv", SETTINGS).targets,
        load_reps(reps, "reps.csv").reps if reps else None,
    )


def quarter_report(settings: Settings = SETTINGS, **kwargs):
    return pacing(database(**kwargs), settings, fiscal_quarter(settings.as_of, settings))


def figures(report, owner):
    return next(rep.pacing for rep in report.reps if rep.owner == owner)


def test_the_period_is_the_fiscal_quarter_of_the_as_of_date_in_week_6_of_13():
    report = quarter_report()
    assert report.period.label == "Q1 FY2025"
    assert (report.period.start, report.period.end) == (date(2024, 2, 1), date(2024, 4, 30))
    assert report.elapsed_share == pytest.approx(BUSINESS_SHARE)
    assert (report.week, report.weeks) == (6, 13)


def test_a_rep_with_a_budget_gets_every_figure():
    ann = figures(quarter_report(), "Ann")
    # Won on 29 February and on the as-of date; not 31 January (last quarter), not 11 March.
    assert ann.closed_to_date == 1700
    assert ann.budget == 4000
    assert ann.expected_to_date == pytest.approx(4000 * 27 / 64)
    assert ann.pacing_index == pytest.approx(1700 / (4000 * 27 / 64))
    assert ann.ahead_by == pytest.approx(1700 - 1687.5)
    # Last year to the same day of the quarter: 1 Feb 2023 + 38 days = 11 March 2023.
    assert ann.last_year_to_date == 800
    assert ann.yoy == pytest.approx(1700 / 800 - 1)
    assert ann.projection_run_rate == pytest.approx(1700 * 64 / 27)
    # In-period open deals: 2000 at 90 % closing on the quarter's last day, 400 at 20 % overdue;
    # the 1000 at 60 % closes on 1 May, next quarter.
    assert ann.projection_weighted == pytest.approx(1700 + 1800 + 80)
    assert ann.projection_commit == 3700
    assert ann.projection_best_case == 3700
    assert ann.gap == 2300
    assert ann.required_per_business_day == pytest.approx(2300 / 37)
    assert ann.achieved_per_business_day == pytest.approx(1700 / 27)


def test_a_rep_without_a_budget_has_no_pace_but_still_bookings():
    bo = figures(quarter_report(), "Bo")
    assert bo.budget is None
    assert (bo.expected_to_date, bo.pacing_index, bo.gap, bo.required_per_business_day) == (
        None,
        None,
        None,
        None,
    )
    assert bo.closed_to_date == 600
    assert bo.last_year_to_date == 0
    assert bo.yoy is None
    assert bo.achieved_per_business_day == pytest.approx(600 / 27)


def test_a_rep_with_a_budget_and_no_deals_is_behind_by_the_whole_pace():
    cy = figures(quarter_report(), "Cy")
    assert cy.budget == 1500
    assert cy.closed_to_date == 0
    assert cy.expected_to_date == pytest.approx(1500 * 27 / 64)
    assert cy.pacing_index == 0
    assert cy.required_per_business_day == pytest.approx(1500 / 37)


def test_reps_are_ranked_by_attainment_with_the_budgetless_last():
    assert [rep.owner for rep in quarter_report().reps] == ["Ann", "Cy", "Bo"]


def test_the_team_budget_is_the_sum_of_reps_without_a_team_row():
    team = quarter_report().team
    assert team.budget == 5500
    assert team.closed_to_date == 2300
    assert team.expected_to_date == pytest.approx(5500 * 27 / 64)
    assert team.last_year_to_date == 800
    assert team.projection_weighted == pytest.approx(2300 + 1880)
    assert team.projection_commit == 4300
    assert team.required_per_business_day == pytest.approx(3200 / 37)


def test_the_quota_files_team_row_and_a_typed_budget_win_over_the_sum():
    with_row = TARGETS + b",Q1 FY2025,9000\n"
    assert quarter_report(targets=with_row).team.budget == 9000
    typed = replace(SETTINGS, team_budget=12000.0)
    assert quarter_report(typed, targets=with_row).team.budget == 12000


def test_one_team_of_the_reps_file_has_its_own_budget_row_and_reps():
    report = pacing(database(), SETTINGS, fiscal_quarter(SETTINGS.as_of, SETTINGS), team="East")
    assert [rep.owner for rep in report.reps] == ["Ann", "Bo"]
    assert report.team.budget == 4500
    assert report.team.closed_to_date == 2300


def test_calendar_days_pace_on_days_elapsed():
    report = quarter_report(replace(SETTINGS, pace_method="calendar"))
    assert report.elapsed_share == pytest.approx(39 / 90)
    assert figures(report, "Ann").expected_to_date == pytest.approx(4000 * 39 / 90)


def test_last_years_shape_paces_on_the_share_booked_by_the_same_day():
    # Last year's quarter booked 2000: 800 by 11 March 2023, then 900 and 300.
    report = quarter_report(replace(SETTINGS, pace_method="last_year"))
    assert report.pace_method == "last_year"
    assert report.elapsed_share == pytest.approx(0.4)
    assert report.team.expected_to_date == pytest.approx(5500 * 0.4)


def test_last_years_shape_without_last_year_falls_back_to_business_days_and_says_so():
    settings = replace(SETTINGS, as_of=date(2024, 6, 5), pace_method="last_year")
    report = pacing(database(), settings, fiscal_quarter(settings.as_of, settings))
    assert report.pace_method == "business"
    assert report.pace_note.startswith("No bookings in Q2 FY2024")


def test_a_month_view_splits_a_quarter_budget_evenly_and_takes_monthly_targets():
    report = pacing(database(), SETTINGS, fiscal_month(SETTINGS.as_of))
    assert report.period.label == "Mar 2024"
    # March 2024 has 21 business days; 1 and 4–8 March have passed by Sunday 10 March.
    assert report.elapsed_share == pytest.approx(6 / 21)
    assert figures(report, "Ann").budget == pytest.approx(4000 / 3)
    assert figures(report, "Cy").budget == 500
    assert figures(report, "Ann").closed_to_date == 700


def test_a_past_quarter_is_complete_at_its_end():
    report = pacing(database(), SETTINGS, fiscal_quarter(date(2024, 1, 15), SETTINGS))
    assert report.period.label == "Q4 FY2024"
    assert report.to_date == date(2024, 1, 31)
    assert report.elapsed_share == 1.0
    assert (report.week, report.weeks) == (13, 13)
    assert figures(report, "Ann").closed_to_date == 500
    assert figures(report, "Ann").required_per_business_day is None


def test_the_cumulative_chart_runs_actual_to_the_as_of_and_pace_to_the_end():
    database_ = database()
    report = pacing(database_, SETTINGS, fiscal_quarter(SETTINGS.as_of, SETTINGS))
    series = cumulative_series(database_, SETTINGS, report)
    assert len(series.days) == 90
    assert len(series.actual) == 39
    assert series.actual[27] == 600  # Bo's 10 February
    assert series.actual[28] == 1600  # and Ann's 29 February
    assert series.actual[-1] == 2300
    assert series.budget_pace[-1] == pytest.approx(5500)
    assert series.budget_pace[38] == pytest.approx(5500 * 27 / 64)
    # Last year, aligned on the day of the quarter: 800 on day 39, 900 on day 40, 300 on day 79.
    assert (series.last_year[38], series.last_year[39], series.last_year[-1]) == (800, 1700, 2000)


def test_linearity_is_each_months_share_of_the_quarters_bookings():
    report_quarter = fiscal_quarter(SETTINGS.as_of, SETTINGS)
    assert linearity(database(), SETTINGS, report_quarter) == pytest.approx(
        [1600 / 2300, 700 / 2300, 0.0]
    )


def test_a_day_won_only_in_a_currency_without_a_rate_books_nothing_on_the_chart():
    deals = b"""Opportunity ID,Opportunity Owner,Stage,Amount,Currency,Close Date
u1,Ann,Closed Won,1000,USD,2024-02-29
e1,Ann,Closed Won,700,EUR,2024-03-01
"""
    con = open_database(load_opportunities(deals, "deals.csv").deals, rates={"USD": 1.0})
    report = pacing(con, SETTINGS, fiscal_quarter(SETTINGS.as_of, SETTINGS))
    series = cumulative_series(con, SETTINGS, report)
    # 29 February is day 28 of the quarter; the euro deal of 1 March has no amount in dollars.
    assert series.actual[28:30] == (1000, 1000)


# Ann's deals name two teams and the reps file names neither: her team is her first deal's.
TWO_TEAMS = b"""Opportunity ID,Opportunity Name,Opportunity Owner,Stage,Amount,Close Date,Team
1,A,Ann,Prospecting,100,2024-03-30,East
2,B,Ann,Prospecting,100,2024-03-30,West
3,C,Ann,Closed Won,100,2024-03-01,West
4,D,Bo,Closed Won,100,2024-03-02,
"""


@pytest.mark.parametrize("set_apart_once", [False, True])
def test_a_rep_whose_deals_name_two_teams_is_in_the_team_of_the_first_every_time(set_apart_once):
    deals = resolve_deals(load_opportunities(TWO_TEAMS, "deals.csv").deals)
    targets = load_targets(b"owner,period,amount\nCy,Q1 FY2025,100\n", "t.csv", SETTINGS).targets
    reps = load_reps(b"owner,team\nCy,North\n", "reps.csv").reps
    for _ in range(20):
        con = open_database(
            deals, targets, reps, opportunities=deals if set_apart_once else None,
            set_apart_tables=set_apart(deals) if set_apart_once else None,
        )  # fmt: skip
        report = pacing(con, SETTINGS, fiscal_quarter(SETTINGS.as_of, SETTINGS))
        assert {rep.owner: rep.team for rep in report.reps} == {
            "Ann": "East", "Bo": None, "Cy": "North"
        }  # fmt: skip
        assert team_of_each_rep(con) == {"Ann": "East", "Bo": None, "Cy": "North"}


def test_last_year_the_export_does_not_reach_back_to_is_unknown_not_zero():
    # Without z1 the export's first closed deal is y1 of 11 Mar 2023, after last year's quarter
    # began (1 Feb 2023): what was booked in it before then the export cannot say.
    deals = DEALS.replace(b"z1,Bo,Closed Lost,100,0,2022-12-15\n", b"")
    con = open_database(
        load_opportunities(deals, "deals.csv").deals,
        load_targets(TARGETS, "targets.csv", SETTINGS).targets,
    )
    report = pacing(con, SETTINGS, fiscal_quarter(SETTINGS.as_of, SETTINGS))
    assert report.last_year_note == (
        "Last year (Q1 FY2024) is not in the export: its first closed deal is of 11 Mar 2023."
    )
    assert (report.team.last_year_to_date, report.team.yoy) == (None, None)
    assert {(rep.pacing.last_year_to_date, rep.pacing.yoy) for rep in report.reps} == {(None, None)}
    assert cumulative_series(con, SETTINGS, report).last_year is None
    # The same export with z1 reaches back: last year is known, y1 of 11 Mar 2023 by the same
    # day (day 39 of the quarter) in it.
    assert quarter_report().last_year_note is None
    assert quarter_report().team.last_year_to_date == 800


def test_the_report_gives_null_for_last_year_beyond_the_export(tmp_path, capsys):
    from lib.cli import main

    export = tmp_path / "deals.csv"
    export.write_bytes(DEALS.replace(b"z1,Bo,Closed Lost,100,0,2022-12-15\n", b""))
    argv = ["report", "--opportunities", str(export), "--as-of", "2024-03-10"]
    assert main([*argv, "--fiscal-year-start", "2"]) == 0
    team = json.loads(capsys.readouterr().out)["pacing"]["team"]
    assert (team["last_year_to_date"], team["yoy"]) == (None, None)
