"""The session database and the figures the Data page shows about a load."""

from datetime import date
from decimal import Decimal

import pyarrow as pa
import pyarrow.compute as pc

from lib.db import SET_APART_SQL, open_database, resolve_deals, set_apart
from lib.format import markdown_text, money, percent
from lib.load.opportunities import load_opportunities
from lib.load.reps import load_reps
from lib.load.targets import load_targets
from lib.overview import export_date, export_summary, owners, quota_grid
from lib.settings import Settings

EXPORT = b"""Opportunity ID,Opportunity Owner,Stage,Amount,Close Date,Created Date,Last Activity,Currency
1,Ann,Closed Won,1000,2026-11-02,2026-09-01,2026-11-02,USD
2,Ann,Negotiation/Review,2500.50,2026-11-30,2026-10-01,2026-11-18,USD
3,Bo,Prospecting,,2026-12-15,2026-11-19,,EUR
4,Bo,Closed Lost,300,2026-10-15,2026-08-01,,USD
5,Bo,Qualification,200,,2026-10-20,2030-01-01,EUR
"""


def database(**kwargs):
    return open_database(load_opportunities(EXPORT, "export.csv").deals, **kwargs)


def test_summary_counts_and_sums_deals_by_status():
    summary = export_summary(database())
    assert summary == {
        "deals_won": 1,
        "deals_lost": 1,
        "deals_open": 3,
        "amount_won": 1000.0,
        "amount_lost": 300.0,
        "amount_open": 2700.5,
        "close_date_min": date(2026, 10, 15),
        "close_date_max": date(2026, 12, 15),
        "owners": 2,
        "open_without_close_date": 1,
        "open_without_amount": 1,
        # The won and the lost deal have their amounts.
        "won_without_amount": 0,
        "lost_without_amount": 0,
    }


def test_export_date_is_the_latest_event_not_after_today():
    # The 2030 activity date is a typo in the export and must not become the as-of date.
    assert export_date(database(), today=date(2026, 11, 24)) == date(2026, 11, 19)


def test_rates_convert_amounts_and_a_currency_without_a_rate_has_no_amount():
    con = database(rates={"USD": 1.0, "EUR": 2.0})
    amounts = dict(con.execute("SELECT opportunity_id, amount FROM opportunities").fetchall())
    assert amounts == {
        "1": Decimal("1000.00"),
        "2": Decimal("2500.50"),
        "3": None,
        "4": Decimal("300.00"),
        "5": Decimal("400.00"),
    }
    con = database(rates={"USD": 1.0})
    assert con.execute(
        "SELECT amount FROM opportunities WHERE opportunity_id = '5'"
    ).fetchone() == (None,)


def test_deals_resolved_once_read_as_the_view_does_whatever_their_order():
    deals = load_opportunities(EXPORT, "export.csv").deals
    # Bo's deals are owned by his CRM user ID, which the reps file names.
    by_id = deals.set_column(
        deals.schema.get_field_index("owner"),
        "owner",
        pc.replace_substring(deals["owner"].cast(pa.string()), "Bo", "005B0"),
    )
    reps = load_reps(b"Id,owner,team,manager\n005B0,Bo,West,Lee\n", "reps.csv").reps
    rates = {"USD": 1.0, "EUR": 2.0}
    reversed_order = by_id.take(list(range(by_id.num_rows - 1, -1, -1)))
    for table in (by_id, reversed_order):
        view = database_of(table, reps, rates)
        resolved = database_of(table, reps, rates, resolve_deals(table, reps, rates))
        assert resolved == view
        assert ("5", "Bo", "West", Decimal("400.00"), Decimal("200.00")) in [
            r[:5] for r in resolved
        ]


def test_what_is_set_apart_once_is_what_the_views_give():
    deals = load_opportunities(EXPORT, "export.csv").deals
    resolved = resolve_deals(deals)
    kept = open_database(deals, opportunities=resolved, set_apart_tables=set_apart(resolved))
    viewed = open_database(deals)
    for name in SET_APART_SQL:
        query = f"SELECT * FROM {name} ORDER BY ALL"  # noqa: S608 - our own names
        assert kept.execute(query).fetchall() == viewed.execute(query).fetchall(), name
    open_rows = viewed.execute("SELECT status FROM open_opportunities").fetchall()
    assert {status for (status,) in open_rows} == {"open"}
    assert 0 < len(open_rows) < deals.num_rows
    # The open deals keep the export's order.
    rows = set_apart(resolved)["open_opportunities"]["source_row"].to_pylist()
    assert rows == sorted(rows)
    owners_and_teams = viewed.execute("SELECT owner, team FROM owner_teams").fetchall()
    assert len(owners_and_teams) == len(set(owners_and_teams))
    assert {owner for owner, _ in owners_and_teams} == set(pc.unique(deals["owner"]).to_pylist())


def database_of(deals, reps, rates, opportunities=None) -> list[tuple]:
    con = open_database(deals, reps=reps, rates=rates, opportunities=opportunities)
    return con.execute(
        "SELECT opportunity_id, owner, team, amount, amount_in_deal_currency, * "
        "FROM opportunities ORDER BY source_row"
    ).fetchall()


def test_reps_file_sets_team_and_manager_of_each_owner():
    reps = load_reps(b"owner,team,manager\nAnn,East,Maria\n", "reps.csv").reps
    table = owners(database(reps=reps))
    table = table.astype(object).where(table.notna(), None)
    assert table[["owner", "team", "manager", "deals", "open_deals"]].values.tolist() == [
        ["Ann", "East", "Maria", 2, 1],
        ["Bo", None, None, 3, 2],
    ]
    assert table["open_amount"].tolist() == [2500.5, 200.0]


def test_quota_grid_puts_the_whole_team_first_and_periods_in_order():
    settings = Settings(as_of=date(2026, 11, 20))
    targets = load_targets(
        b"owner,period,amount\nBo,2026-Q4,20\nAnn,2027-Q1,30\nAnn,2026-Q4,10\n,2026-Q4,50\n",
        "q.csv",
        settings,
    ).targets
    grid = quota_grid(database(targets=targets))
    assert list(grid.columns) == ["Q4 FY2026", "Q1 FY2027"]
    assert list(grid.index) == ["Whole team", "Ann", "Bo"]
    assert grid.loc["Ann", "Q4 FY2026"] == 10.0
    assert grid.loc["Ann", "Q1 FY2027"] == 30.0


def test_money_is_short_and_readable_from_across_the_room():
    assert [money(v) for v in (1_234_567, 340_000, 999_999, 950, -12_000, None)] == [
        "$1.2M",
        "$340K",
        "$1M",
        "$950",
        "-$12K",
        "–",
    ]
    assert money(5000, "EUR") == "€5K"
    assert percent(0.84) == "84 %"


def test_markdown_text_shows_cells_as_typed_never_as_links_or_html():
    assert markdown_text("[x](http://evil) **b** <script>") == (
        "\\[x\\]\\(http\\:\u2060//evil\\) \\*\\*b\\*\\* \\<script\\>"
    )
    assert markdown_text(":material/home: $5") == r"\:material/home\: \$5"
