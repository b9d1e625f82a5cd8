"""An export in several currencies, with a rate for some of them only: a deal in a currency
without a rate has no amount (rather than a wrong one), and no page fails on it, even on a day
whose won deals all lack an amount."""

import json
from datetime import date, timedelta
from decimal import Decimal

import pytest

from lib import explore
from lib.close_today import close_today, nearest
from lib.coaching import coaching
from lib.db import open_database, resolve_deals, set_apart
from lib.fiscal import fiscal_quarter
from lib.load.errors import LoadError
from lib.load.opportunities import load_opportunities
from lib.one_on_one import one_on_one_sheet
from lib.overview import export_summary, owners, quota_grid
from lib.pacing import cumulative_series, linearity, pacing
from lib.pipeline_warnings import (
    created_by_week,
    pipeline_blocks,
    pipeline_figures,
    pipeline_warnings,
)
from lib.qbr import qbr
from lib.qbr_files import csv_zip, qbr_html
from lib.report import report
from lib.session import assemble
from lib.settings import Settings

SETTINGS = Settings(as_of=date(2026, 11, 20))
RATES = {"USD": 1.0, "EUR": 2.0}  # none for GBP
# Q4 2026 so far: $1,000 on 5 October, €500 on the 6th, £700 on the 7th (the day's only win, in
# a currency without a rate) and $300 on 2 November. Last year, lost deals and open ones too,
# one of them created after the as-of date; z1, lost for $0 in March 2025, shows the export
# reaches back before last year's quarter.
EXPORT = b"""Opportunity ID,Opportunity Owner,Opportunity Name,Account Name,Stage,Amount,Currency,\
Close Date,Created Date,Lead Source
w1,Ann,Deal w1,Acme,Closed Won,1000,USD,2026-10-05,2026-08-01,Referral
w2,Bo,Deal w2,Bolt,Closed Won,500,EUR,2026-10-06,2026-08-02,Web
w3,Cy,Deal w3,Crane,Closed Won,700,GBP,2026-10-07,2026-08-03,Web
w4,Ann,Deal w4,Acme,Closed Won,300,USD,2026-11-02,2026-09-01,Partner
y1,Ann,Deal y1,Acme,Closed Won,400,USD,2025-10-10,2025-08-01,Web
y2,Bo,Deal y2,Bolt,Closed Won,100,EUR,2025-10-11,2025-08-01,Web
y3,Cy,Deal y3,Crane,Closed Won,50,GBP,2025-10-12,2025-08-01,Web
z1,Ann,Deal z1,Acme,Closed Lost,0,USD,2025-03-02,2025-01-10,Web
l1,Bo,Deal l1,Bolt,Closed Lost,200,EUR,2026-10-20,2026-08-01,Web
l2,Cy,Deal l2,Crane,Closed Lost,900,GBP,2026-11-01,2026-08-01,Web
o1,Ann,Deal o1,Acme,Negotiation/Review,2000,USD,2026-12-15,2026-09-01,Web
o2,Bo,Deal o2,Bolt,Negotiation/Review,1000,EUR,2026-11-20,2026-09-01,Web
o3,Cy,Deal o3,Crane,Prospecting,3000,GBP,2026-12-01,2026-10-01,Web
o4,Ann,Deal o4,Dune,Prospecting,500,USD,2027-01-15,2026-11-25,Web
"""


@pytest.fixture(scope="module")
def con():
    loaded = load_opportunities(EXPORT, "export.csv")
    resolved = resolve_deals(loaded.deals, rates=RATES)
    return open_database(
        loaded.deals, rates=RATES, opportunities=resolved, set_apart_tables=set_apart(resolved)
    )


def test_bookings_count_the_deals_with_a_rate_converted_and_leave_the_others_out(con):
    period = fiscal_quarter(SETTINGS.as_of, SETTINGS)
    # $1,000 + €500 × 2 + $300; the £700 has no amount in dollars.
    report = pacing(con, SETTINGS, period)
    assert report.team.closed_to_date == 2300
    assert report.team.last_year_to_date == 600
    series = cumulative_series(con, SETTINGS, report)
    assert series.actual[4:7] == (1000, 2000, 2000)  # 5, 6 and 7 October


def test_every_page_works_out_its_figures(con):
    period = fiscal_quarter(SETTINGS.as_of, SETTINGS)
    this_quarter = pacing(con, SETTINGS, period)
    cumulative_series(con, SETTINGS, this_quarter)
    linearity(con, SETTINGS, period)
    close_today(con, SETTINGS)
    nearest(con, SETTINGS)
    found = pipeline_figures(con, SETTINGS)
    warnings = pipeline_warnings(con, SETTINGS, "USD", found)
    pipeline_blocks(con, SETTINGS)
    created_by_week(con, SETTINGS, found.owners)
    coached = coaching(con, SETTINGS)
    for rep in coached.reps:
        one_on_one_sheet(con, SETTINGS, rep.owner, coached, warnings, "USD", "export.csv")
    export_summary(con), owners(con), quota_grid(con)
    explore.explore(con, explore.View(), explore.dimensions(["owner"]), SETTINGS)
    report(con, SETTINGS, "USD")
    for quarter in (period, fiscal_quarter(SETTINGS.as_of - timedelta(days=92), SETTINGS)):
        result = qbr(con, SETTINGS, quarter, "USD")
        assert "<section" in qbr_html(result, "USD", "export.csv")
        assert csv_zip(result)


# --- Rates files and display currencies (lib/currencies.py) ---------------------------------------


def test_a_rates_file_gives_units_per_display_unit_and_the_session_rates_invert_them():
    from lib.currencies import display_of, into_display, read_rates_file

    per_display = read_rates_file(b"currency,rate\nUSD,1\nEUR,0.8\nMXN,20\n", "r.csv")
    assert per_display == {"USD": 1.0, "EUR": 0.8, "MXN": 20.0}
    rates = into_display(per_display)
    assert rates == {"USD": 1.0, "EUR": 1.25, "MXN": 0.05}
    assert display_of(rates) == "USD"
    assert read_rates_file(b"EUR;0,8\nUSD;1\n", "r.csv") == {"EUR": 0.8, "USD": 1.0}


def test_a_rates_file_that_is_not_one_says_what_was_expected():
    from lib.currencies import read_rates_file
    from lib.load.errors import LoadError

    with pytest.raises(LoadError, match=r"Line 2 of r.csv is not a currency and a rate: EUR, abc"):
        read_rates_file(b"USD,1\nEUR,abc\n", "r.csv")
    with pytest.raises(LoadError, match="r.csv holds no rates"):
        read_rates_file(b"currency,rate\n", "r.csv")


def test_rates_rescale_to_another_display_currency_and_name_what_has_none():
    from lib.currencies import rescaled, without_rate
    from lib.load.errors import LoadError

    rates = {"USD": 1.0, "EUR": 1.25, "MXN": 0.05}
    assert rescaled(rates, "EUR") == {"USD": 0.8, "EUR": 1.0, "MXN": 0.04}
    with pytest.raises(LoadError, match="No rate for GBP"):
        rescaled(rates, "GBP")
    assert without_rate(("MXN", "COP", "USD"), {"MXN": 1.0}) == ("COP", "USD")
    assert without_rate(("MXN",), None) == ()


# A Dutch multi-currency Salesforce report: semicolons, decimal commas, D-M-YYYY dates, EUR and
# GBP deals side by side, and each deal's amount converted into the org's EUR at its own rates.
DUTCH_REPORT = (
    b"Opportunity Owner;Opportunity Name;Stage;Amount Currency;Amount;"
    b"Amount (converted) Currency;Amount (converted);Close Date;Created Date\r\n"
    b"Jan de Vries;Rijkswaterstaat;Negotiation/Review;EUR;13884,00;EUR;13884,00;17-7-2018;"
    b"1-5-2018\r\n"
    b"Jan de Vries;Tesco;Closed Won;GBP;1.000,00;EUR;1.150,00;3-7-2018;1-4-2018\r\n"
    b"Piet Bakker;BP;Prospecting;GBP;2.000,00;EUR;2.300,00;30-9-2018;1-6-2018\r\n"
    b"Piet Bakker;Shell;Prospecting;;;;;30-9-2018;1-6-2018\r\n"
)


def test_a_report_with_converted_amounts_counts_every_deal_in_the_converted_currency():
    export = load_opportunities(DUTCH_REPORT, "rapport.csv")
    report = export.report
    assert (report.amount_column, report.display_currency) == ("Amount (converted)", "EUR")
    assert report.currencies == ("GBP", "EUR")
    session = assemble(export, Settings(as_of=date(2018, 7, 20)))
    assert (session.currency, session.rates) == ("EUR", None)
    deals = (
        session.connection()
        .sql(
            "SELECT name, amount, amount_in_deal_currency, currency FROM opportunities "
            "ORDER BY source_row"
        )
        .fetchall()
    )
    assert deals == [
        ("Rijkswaterstaat", Decimal("13884.00"), Decimal("13884.00"), "EUR"),
        ("Tesco", Decimal("1150.00"), Decimal("1000.00"), "GBP"),
        ("BP", Decimal("2300.00"), Decimal("2000.00"), "GBP"),
        ("Shell", None, None, None),
    ]


def test_hubspots_amount_in_company_currency_takes_the_currency_whose_amounts_agree():
    export = load_opportunities(
        b"Record ID,Deal Name,Deal Stage,Amount,Currency,Amount in company currency,"
        b"Close Date,Deal owner,Create Date\n"
        b"1,A,Closed won,1000,EUR,1100,2026-10-02 17:00,Ann,2026-09-01 10:00\n"
        b"2,B,Contract sent,500,USD,500,2026-11-30 17:00,Ann,2026-10-01 10:00\n",
        "hubspot.csv",
    )
    assert (export.report.amount_column, export.report.display_currency) == (
        "Amount in company currency",
        "USD",
    )
    session = assemble(export, SETTINGS)
    assert column_of(session, "amount") == [Decimal("1100.00"), Decimal("500.00")]
    assert column_of(session, "amount_in_deal_currency") == [Decimal("1000.00"), Decimal("500.00")]


def column_of(session, name: str) -> list:
    return session.resolved.deals.column(name).to_pylist()


# --- The session's display currency, and what no total can count ------------------------------


def test_a_session_without_rates_names_the_currencies_and_deals_it_leaves_out():
    from lib.session import assemble

    loaded = load_opportunities(EXPORT, "export.csv")
    alone = assemble(loaded, SETTINGS)
    assert (alone.currency, alone.rates) == ("USD", {"USD": 1.0})
    assert alone.currencies_left_out == ("EUR", "GBP")
    assert alone.deals_left_out() == 8  # w2, y2, l1, o2 in EUR; w3, y3, l2, o3 in GBP
    in_euros = assemble(loaded, SETTINGS, currency="EUR")
    assert (in_euros.currency, in_euros.currencies_left_out) == ("EUR", ("USD", "GBP"))
    rated = assemble(loaded, SETTINGS, entered_rates=RATES)
    assert (rated.currency, rated.currencies_left_out, rated.deals_left_out()) == (
        "USD",
        ("GBP",),
        4,
    )
    # The same rates into euros: $1 is €0.50, €1 stays €1.
    rescaled_to_euros = assemble(loaded, SETTINGS, entered_rates=RATES, currency="EUR")
    assert rescaled_to_euros.rates == {"USD": 0.5, "EUR": 1.0}
    with pytest.raises(LoadError, match="No rate for GBP"):
        assemble(loaded, SETTINGS, entered_rates=RATES, currency="GBP")
    dollars_only = load_opportunities(
        EXPORT.replace(b",EUR,", b",USD,").replace(b",GBP,", b",USD,"), "usd.csv"
    )
    with pytest.raises(LoadError, match="amounts are in USD: give the rate of EUR"):
        assemble(dollars_only, SETTINGS, currency="EUR")


def test_the_report_adds_no_currencies_without_rates_and_gives_each_its_own(tmp_path, capsys):
    from lib.cli import main

    export = tmp_path / "export.csv"
    export.write_bytes(EXPORT)
    argv = ["report", "--opportunities", str(export), "--as-of", "2026-11-20"]
    assert main(argv) == 0
    printed = json.loads(capsys.readouterr().out)
    assert (printed["currency"], printed["pacing"]) == (None, None)
    assert printed["currencies_without_rate"] == ["EUR", "GBP"]
    booked = {
        code: figures["pacing"]["team"]["closed_to_date"]
        for code, figures in printed["by_currency"].items()
    }
    assert booked == {"USD": 1300.0, "EUR": 500.0, "GBP": 700.0}

    rates = tmp_path / "rates.csv"
    rates.write_text("currency,rate\nUSD,1\nEUR,0.5\nGBP,0.8\n")  # $1 buys €0.50 or £0.80
    assert main([*argv, "--rates", str(rates)]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["currency"] == "USD"
    # $1,000 + €500 × 2 + £700 ÷ 0.8 + $300
    assert printed["pacing"]["team"]["closed_to_date"] == 1000 + 1000 + 875 + 300
    assert main([*argv, "--rates", str(rates), "--currency", "eur"]) == 0
    printed = json.loads(capsys.readouterr().out)
    assert printed["currency"] == "EUR"
    assert printed["pacing"]["team"]["closed_to_date"] == 500 + 500 + 437.5 + 150


def test_every_page_says_what_it_leaves_out_until_a_rates_file_gives_the_rates():
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP, metrics, upload_as_of

    at = AppTest.from_file(APP, default_timeout=60)
    at.session_state["source"] = "My uploads"
    at.run()
    upload_as_of(at, "export.csv", EXPORT, SETTINGS.as_of)
    left_out = [w.value for w in at.warning if w.value.startswith("Every amount counts only")]
    assert left_out == [
        "Every amount counts only the deals in USD: 8 deals in EUR, GBP have no rate into USD "
        "and are left out. Give rates on the Data page (What did we load? → Currencies), or "
        "upload a rates file there."
    ]
    assert metrics(at)["Booked to date"] == "$1.3K"
    at.switch_page("pages/data.py").run()
    at.file_uploader(key="rates_file").upload(
        "rates.csv", b"currency,rate\nUSD,1\nEUR,0.5\nGBP,0.8\n", "text/csv"
    ).run()
    assert not at.exception, at.exception
    assert not [w for w in at.warning if w.value.startswith("Every amount counts only")]
    assert "Amounts in USD, at these rates: 1 EUR = 2 USD, 1 GBP = 1.25 USD." in [
        c.value for c in at.caption
    ]
    at.switch_page("pages/pacing.py").run()
    assert metrics(at)["Booked to date"] == "$3.2K"
