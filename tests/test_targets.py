"""Quotas and budgets in the long and wide forms, and the reps file."""

from datetime import date

import pytest

from lib.db import open_database
from lib.load.errors import LoadError
from lib.load.opportunities import load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_targets
from lib.settings import Settings

AS_OF = Settings(as_of=date(2026, 11, 20))


def rows(loaded):
    return [
        (r["owner"], r["period_label"], r["period_start"], r["period_end"], r["amount"])
        for r in loaded.targets.to_pylist()
    ]


def test_long_form_quarters_and_a_team_row_load_per_owner_and_period():
    text = b'owner,period,amount\nAnn Lee,2026-Q4,300000\nBo Chan,Q4 2026,"$250,000"\nTeam,2026-Q4,500000\n'
    loaded = load_targets(text, "quotas.csv", AS_OF)
    assert loaded.report.form == "long"
    assert rows(loaded) == [
        ("Ann Lee", "Q4 FY2026", date(2026, 10, 1), date(2026, 12, 31), 300000.0),
        ("Bo Chan", "Q4 FY2026", date(2026, 10, 1), date(2026, 12, 31), 250000.0),
        (None, "Q4 FY2026", date(2026, 10, 1), date(2026, 12, 31), 500000.0),
    ]


def test_long_form_months_and_fiscal_year_labels_follow_the_fiscal_calendar():
    february_start = Settings(as_of=date(2026, 11, 20), fiscal_year_start_month=2)
    text = b"owner,period,amount\nAnn,FY2027 Q1,100\nAnn,2026-10,40\n"
    loaded = load_targets(text, "quotas.csv", february_start)
    assert rows(loaded) == [
        ("Ann", "Q1 FY2027", date(2026, 2, 1), date(2026, 4, 30), 100.0),
        ("Ann", "Oct 2026", date(2026, 10, 1), date(2026, 10, 31), 40.0),
    ]


def test_wide_form_bare_quarters_mean_the_as_of_fiscal_year_and_junk_is_counted():
    text = b'owner,Q1,Q2,Q3,Q4\nAnn,100,"1,000",x,50\nTotal,500,500,500,500\n'
    loaded = load_targets(text, "wide.csv", AS_OF)
    assert loaded.report.form == "wide"
    assert loaded.report.rejected == {"amount not a number": 1}
    assert ("Ann", "Q2 FY2026", date(2026, 4, 1), date(2026, 6, 30), 1000.0) in rows(loaded)
    assert sum(amount for owner, *_, amount in rows(loaded) if owner is None) == 2000.0
    assert loaded.report.targets_loaded == 7


def test_forecasting_quota_start_dates_a_month_apart_are_monthly_targets():
    text = b"QuotaOwnerId,StartDate,QuotaAmount\n005A,2026-10-01,100\n005A,2026-11-01,200\n"
    assert rows(load_targets(text, "ForecastingQuota.csv", AS_OF)) == [
        ("005A", "Oct 2026", date(2026, 10, 1), date(2026, 10, 31), 100.0),
        ("005A", "Nov 2026", date(2026, 11, 1), date(2026, 11, 30), 200.0),
    ]


def test_a_single_start_date_on_a_quarter_start_is_a_quarter_target():
    text = b"owner,start date,quota\nAnn,10/1/2026,900\n"
    assert rows(load_targets(text, "quota.csv", AS_OF)) == [
        ("Ann", "Q4 FY2026", date(2026, 10, 1), date(2026, 12, 31), 900.0)
    ]


def test_the_same_owner_and_period_twice_adds_up():
    text = b"owner,period,amount\nAnn,2026-Q4,100\nAnn,2026-Q4,50\n"
    assert rows(load_targets(text, "q.csv", AS_OF)) == [
        ("Ann", "Q4 FY2026", date(2026, 10, 1), date(2026, 12, 31), 150.0)
    ]


def test_an_unreadable_period_is_counted_not_dropped_silently():
    text = b"owner,period,amount\nAnn,next year,100\nAnn,2026-Q4,100\n"
    loaded = load_targets(text, "q.csv", AS_OF)
    assert loaded.report.rejected == {"period not understood": 1}
    assert loaded.report.rejected_examples == ("row 1: period not understood ('next year')",)


def test_a_file_that_is_not_a_quota_file_is_refused_with_the_columns_found():
    with pytest.raises(LoadError, match="not a quota or budget file.*Columns found: name, colour"):
        load_targets(b"name,colour\nAnn,red\n", "other.csv", AS_OF)


def test_reps_file_maps_owner_to_team_and_manager():
    loaded = load_reps(
        b"owner,team,manager\nAnn Lee ,East,Maria\n,West,Tom\nBo,West,\n", "reps.csv"
    )
    assert loaded.reps.to_pylist() == [
        {"owner": "Ann Lee", "team": "East", "manager": "Maria", "user_id": None},
        {"owner": "Bo", "team": "West", "manager": None, "user_id": None},
    ]
    assert loaded.skipped_blank_owner == 1


def test_maven_sales_teams_file_is_a_reps_file():
    loaded = load_reps(
        b"sales_agent,manager,regional_office\nAnna Snelling,Dustin Brinkmann,Central\n",
        "sales_teams.csv",
    )
    assert loaded.reps.to_pylist() == [
        {
            "owner": "Anna Snelling",
            "team": "Central",
            "manager": "Dustin Brinkmann",
            "user_id": None,
        }
    ]


def test_a_reps_file_without_team_or_manager_is_refused():
    with pytest.raises(LoadError, match="not a reps file"):
        load_reps(b"owner,email\nAnn,a@x\n", "reps.csv")


def test_a_reps_file_with_user_ids_beside_the_names_keeps_both():
    loaded = load_reps(
        b"Id,Name,Team\n0055g00000AnnXX,Ann Lee,East\n0055g00000BoXXX,Bo,\n", "u.csv"
    )
    assert loaded.reps.to_pylist() == [
        {"owner": "Ann Lee", "team": "East", "manager": None, "user_id": "0055g00000AnnXX"},
        {"owner": "Bo", "team": None, "manager": None, "user_id": "0055g00000BoXXX"},
    ]


def test_deals_owned_by_user_ids_take_the_reps_files_names_and_teams():
    # A Data Export without User.csv: Opportunity.csv names owners by user ID.
    deals = load_opportunities(
        b"OwnerId,StageName,Amount,CloseDate\n0055g00000AnnXX,Prospecting,100,2026-12-01\n"
        b"0055g00000AnnXX,Prospecting,50,2026-12-02\n0055g00000ZedXX,Prospecting,7,2026-12-03\n",
        "Opportunity.csv",
    ).deals
    reps = load_reps(
        b"Id,Name,Team\n0055g00000AnnXX,Ann Lee,East\n0055g00000AnnXX,Ann L.,East\n", "u.csv"
    ).reps
    con = open_database(deals, reps=reps)
    rows = con.execute(
        "SELECT owner, team, sum(amount)::INT FROM opportunities GROUP BY ALL ORDER BY 1"
    ).fetchall()
    # Two names for one ID: the first by sort order, and each deal counted once; an ID the
    # file does not name stays as it is.
    assert rows == [("0055g00000ZedXX", None, 7), ("Ann L.", "East", 150)]
