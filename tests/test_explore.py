"""Explore's pivots worked out by hand on ten deals (tests/data/explore_deals.csv).

As of Fri 15 May 2026, fiscal year from January: the quarter is Q2 2026 (from 1 April). Deal 9
is open but slipped (closed by 15 March): not open pipeline. Deal 10 was created and won after
the as-of date: among "all deals", not among the won or the created ones.
"""

from datetime import date
from pathlib import Path

import pytest

from lib.db import open_database
from lib.explore import (
    ALL_OTHERS,
    View,
    deals_behind,
    deals_in,
    dimension_values,
    dimensions,
    explore,
    for_json,
    from_query,
    pivot_table,
    selected_cell,
    to_query,
)
from lib.fiscal import fiscal_quarter
from lib.load.opportunities import load_opportunities
from lib.settings import Settings

EXPORT = Path(__file__).parent / "data" / "explore_deals.csv"
AS_OF = Settings(as_of=date(2026, 5, 15))


@pytest.fixture(scope="module")
def session():
    deals = load_opportunities(EXPORT.read_bytes(), EXPORT.name).deals
    return open_database(deals), dimensions(deals.column_names)


def rows(result) -> list[tuple]:
    return [(row.by, row.split, row.value, row.deals) for row in result.cells.itertuples()]


def run(session, settings=AS_OF, **view):
    con, available = session
    return explore(con, View(**view), available, settings)


def test_won_amount_adds_the_deals_won_by_the_as_of_date(session):
    result = run(session, deals="won", measure="amount", by="owner")
    # Deal 10 (Ana, 999) was won after 15 May: not a booking yet. Ana and Ben tie at 400.
    assert rows(result) == [("Ana", None, 400.0, 2), ("Ben", None, 400.0, 1), ("Cy", None, 50.0, 1)]
    assert (result.total, result.deals) == (850.0, 4)
    assert result.question == "Won amount by owner"


def test_weighted_open_pipeline_leaves_out_the_slipped_deal(session):
    result = run(session, deals="open", measure="weighted", by="owner")
    # Ben 1,000 × 50 %, Cy 500 × 10 %; Cy's 700 closed 15 March, before the quarter began.
    assert rows(result) == [("Ben", None, 500.0, 1), ("Cy", None, 50.0, 1)]
    assert result.total == 550.0


def test_number_of_lost_deals_by_owner(session):
    result = run(session, deals="lost", measure="count", by="owner")
    assert rows(result) == [("Ana", None, 1.0, 1), ("Ben", None, 1.0, 1)]
    assert result.total == 2.0
    assert result.question == "Number of lost deals by owner"


def test_average_deal_size_total_is_over_the_deals_not_the_owners(session):
    result = run(session, deals="won", measure="avg_amount", by="owner")
    # (100 + 300) / 2, 400, 50; the total is 850 / 4 deals, not the mean of 200, 400 and 50.
    assert rows(result) == [("Ana", None, 200.0, 2), ("Ben", None, 400.0, 1), ("Cy", None, 50.0, 1)]
    assert result.total == 212.5


def test_win_rate_by_count_of_deals_created(session):
    result = run(session, deals="created", measure="win_rate", by="owner")
    # Rank by number of deals: Ana 3, Ben 3, Cy 3 (deal 10 was created after the as-of date).
    assert rows(result) == [
        ("Ana", None, 2 / 3, 3), ("Ben", None, 1 / 2, 3), ("Cy", None, 1.0, 3)
    ]  # fmt: skip
    # Won 1, 2, 4, 7 against lost 3 and 5: 4 of 6.
    assert result.total == 4 / 6


def test_win_rate_by_value_of_deals_created(session):
    result = run(session, deals="created", measure="win_rate_value", by="owner")
    # Ana 400 won of 600 closed, Ben 400 of 500, Cy 50 of 50; all: 850 of 1,150.
    assert rows(result) == [("Ana", None, 2 / 3, 3), ("Ben", None, 0.8, 3), ("Cy", None, 1.0, 3)]
    assert result.total == pytest.approx(850 / 1150)


def test_median_sales_cycle_of_an_even_count_is_the_mean_of_the_middle_two(session):
    result = run(session, deals="won", measure="cycle_days", by="owner")
    # Ana 40 and 40 days, Ben 35 (1 March to 5 April), Cy 10 (21 April to 1 May).
    assert rows(result) == [("Ana", None, 40.0, 2), ("Ben", None, 35.0, 1), ("Cy", None, 10.0, 1)]
    # 10, 35, 40, 40: (35 + 40) / 2.
    assert result.total == 37.5


def test_an_extra_export_column_split_by_fiscal_quarter(session):
    result = run(session, deals="won", measure="amount", by="Product", split="close_quarter")
    assert result.question == "Won amount by product and close fiscal quarter"
    assert rows(result) == [
        ("Widget", "Q1 FY2026", 100.0, 1),
        ("Widget", "Q2 FY2026", 400.0, 1),
        ("Gadget", "Q1 FY2026", 300.0, 1),
        ("Gizmo", "Q2 FY2026", 50.0, 1),
    ]
    table = pivot_table(result)
    assert list(table.columns) == ["Product", "Q1 FY2026", "Q2 FY2026", "Total"]
    assert table.values.tolist() == [
        ["Widget", 100.0, 400.0, 500.0],
        ["Gadget", 300.0, None, 300.0],
        ["Gizmo", None, 50.0, 50.0],
        ["Total", 400.0, 450.0, 850.0],
    ]


def test_a_filter_keeps_only_the_chosen_values(session):
    result = run(session, deals="all", measure="count", by="owner",
                 filters={"lead_source": ("Referral",)})  # fmt: skip
    assert rows(result) == [("Ana", None, 1.0, 1), ("Ben", None, 1.0, 1)]
    assert result.total == 2.0


def test_close_date_range_keeps_deals_closed_inside_it(session):
    result = run(session, deals="won", measure="amount", by="owner",
                 close_from=date(2026, 2, 1), close_to=date(2026, 4, 30))  # fmt: skip
    assert rows(result) == [("Ben", None, 400.0, 1), ("Ana", None, 300.0, 1)]


def test_a_blank_cell_is_its_own_value(session):
    result = run(session, deals="lost", measure="amount", by="Product")
    assert rows(result) == [("Widget", None, 200.0, 1), ("(blank)", None, 100.0, 1)]


def test_top_n_adds_the_rest_up_as_all_others(session):
    result = run(session, deals="all", measure="count", by="owner", top=1)
    # Ana has four deals (1, 2, 3, 10); Ben's three and Cy's three are all others.
    assert rows(result) == [("Ana", None, 4.0, 4), (ALL_OTHERS, None, 6.0, 6)]
    assert result.total == 10.0


def test_all_others_win_rate_is_worked_out_over_its_deals(session):
    result = run(session, deals="all", measure="win_rate", by="owner", top=1)
    # Ana 3 won of 4 closed; the others won 4 and 7, lost 5: 2 of 3, not 0.5 + 1.0.
    assert rows(result) == [("Ana", None, 0.75, 4), (ALL_OTHERS, None, 2 / 3, 6)]


def test_the_deals_behind_all_others_largest_first(session):
    con, available = session
    view = View(deals="all", measure="count", by="owner", top=1)
    behind = deals_behind(con, view, available, AS_OF, ALL_OTHERS)
    assert list(behind["opportunity_id"]) == ["6", "9", "8", "4", "5", "7"]
    assert "Product" in behind.columns


def test_the_deals_behind_one_cell(session):
    con, available = session
    view = View(deals="won", measure="amount", by="Product", split="close_quarter")
    behind = deals_behind(con, view, available, AS_OF, "Widget", "Q2 FY2026")
    assert list(behind["opportunity_id"]) == ["4"]


def test_fiscal_quarters_follow_the_fiscal_year_start():
    settings = Settings(as_of=date(2026, 5, 15), fiscal_year_start_month=2)
    deals = load_opportunities(EXPORT.read_bytes(), EXPORT.name).deals
    con, available = open_database(deals), dimensions(deals.column_names)
    quarters = dimension_values(con, available["close_quarter"], settings)
    # January 2026 is the last quarter of the year that began in February 2025 (FY2026).
    assert quarters == ["Q4 FY2026", "Q1 FY2027", "Q2 FY2027"]
    assert [fiscal_quarter(day, settings).label for day in
            (date(2026, 1, 10), date(2026, 2, 10), date(2026, 5, 1))] == quarters  # fmt: skip
    years = dimension_values(con, available["close_year"], settings)
    assert years == ["FY2026", "FY2027"]


def test_a_time_dimension_keeps_every_period_in_order(session):
    result = run(session, deals="all", measure="count", by="close_month", split="owner", top=1)
    assert list(result.by_totals["by"]) == ["Jan 2026", "Feb 2026", "Mar 2026", "Apr 2026",
                                            "May 2026", "Jun 2026"]  # fmt: skip
    assert list(result.split_totals["split"]) == ["Ana", ALL_OTHERS]
    # The second line (all others) has its first point in March: deal 9.
    assert selected_cell(result, 1, 0) == ("Mar 2026", ALL_OTHERS)


def test_the_view_goes_to_the_url_and_back(session):
    _, available = session
    view = View(deals="lost", measure="win_rate_value", by="Product", split="close_quarter",
                filters={"owner": ("Ana", "Ben")}, close_from=date(2026, 1, 1), top=5)  # fmt: skip
    query = to_query(view)
    assert query == {"deals": "lost", "measure": "win_rate_value", "by": "Product",
                     "split": "close_quarter", "top": "5", "close_from": "2026-01-01",
                     "f.owner": ["Ana", "Ben"]}  # fmt: skip
    as_lists = {
        name: value if isinstance(value, list) else [value] for name, value in query.items()
    }
    assert from_query(as_lists, available) == view


def test_a_link_to_a_column_the_data_lacks_says_so(session):
    _, available = session
    with pytest.raises(ValueError, match='no dimension "Region"'):
        from_query({"by": ["Region"]}, available)


def test_json_rows_hold_each_cell(session):
    result = run(session, deals="won", measure="amount", by="Product", split="close_quarter")
    assert for_json(result, "USD") == {
        "by": "Product", "split": "close_quarter", "measure": "amount", "currency": "USD",
        "rows": [
            {"by": "Widget", "split": "Q1 FY2026", "value": 100.0},
            {"by": "Widget", "split": "Q2 FY2026", "value": 400.0},
            {"by": "Gadget", "split": "Q1 FY2026", "value": 300.0},
            {"by": "Gizmo", "split": "Q2 FY2026", "value": 50.0},
        ],
        "total": 850.0,
    }  # fmt: skip


def test_the_first_deals_behind_and_how_many_there_are(session):
    con, available = session
    view = View(deals="all", measure="count", by="owner", top=1)
    result = explore(con, view, available, AS_OF)
    behind = deals_behind(con, view, available, AS_OF, ALL_OTHERS, limit=2)
    assert list(behind["opportunity_id"]) == ["6", "9"]
    assert (deals_in(result, ALL_OTHERS, None), deals_in(result, None, None)) == (6, 10)


def test_how_many_deals_a_cell_and_a_column_hold(session):
    con, available = session
    view = View(deals="won", measure="amount", by="Product", split="close_quarter")
    result = explore(con, view, available, AS_OF)
    assert deals_in(result, "Widget", "Q2 FY2026") == 1
    assert deals_in(result, None, "Q1 FY2026") == 2
    assert deals_in(result, "Widget", None) == 2
    assert deals_in(result, "Gizmo", "Q1 FY2026") == 0


def test_split_values_keep_their_rank_over_time(session):
    result = run(session, deals="all", measure="count", by="close_month", split="owner")
    # Ana 4 deals, Ben 3, Cy 3 (a tie, in name order), though Cy's first deal closes in March
    # and Ben's in April.
    assert list(result.split_totals["split"]) == ["Ana", "Ben", "Cy"]
    assert list(result.split_totals["value"]) == [4.0, 3.0, 3.0]
