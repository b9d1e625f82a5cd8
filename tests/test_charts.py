"""Charts show names from a file as typed: Plotly would read tags in them as markup."""

from types import SimpleNamespace

from lib.charts import (
    BEHIND,
    INK,
    PALE_REFERENCE,
    attainment_chart,
    escape_text,
    grid_owner,
    pipeline_by_deal_chart,
    warning_grid_chart,
)
from lib.pacing import Pacing, RepPacing
from lib.pipeline_warnings import PipelineBlock, PipelineWarning, warning_grid

HOSTILE = '<a href="http://evil.example">Ann</a>'


def test_a_rep_named_like_a_link_is_escaped_on_the_axis_and_in_the_hover():
    blocks = [PipelineBlock(HOSTILE, "Deal <b>1</b>", "Laurel & Pine", 100.0, 1)]
    figure = pipeline_by_deal_chart(blocks, 0.5, "USD")
    bar = figure.data[0]
    assert bar.y == ('&lt;a href="http://evil.example"&gt;Ann&lt;/a&gt;',)
    assert bar.customdata == ("Deal &lt;b&gt;1&lt;/b&gt; (Laurel &amp; Pine)",)


def test_numbers_and_our_own_hover_templates_are_left_alone():
    import plotly.graph_objects as go

    figure = escape_text(go.Figure(go.Bar(x=[1.5, 2], y=["a", "b"], hovertemplate="%{y}<br>")))
    assert figure.data[0].x == (1.5, 2)
    assert figure.data[0].hovertemplate == "%{y}<br>"


def test_attainment_of_a_large_floor_shows_the_best_and_the_furthest_behind_and_counts_all():
    # 40 reps from 100 % down to 61 % attainment, on pace from 80 % (pacing index = a / 0.8).
    reps = [
        RepPacing(f"Rep {n:02d}", None, pacing_of(budget=100.0, closed=100.0 - n))
        for n in range(40)
    ]
    report = SimpleNamespace(reps=reps, elapsed_share=0.8)
    (bar,) = attainment_chart(report, "USD", most_reps=10).data
    assert bar.y == (*(f"Rep {n:02d}" for n in range(5)), *(f"Rep {n:02d}" for n in range(35, 40)))
    # Behind pace: attainment under 80 %, reps 21 to 39.
    assert attainment_chart(report, "USD", most_reps=10).layout.title.text == (
        "19 of 40 reps behind pace"
    )
    assert len(attainment_chart(report, "USD").data[0].y) == 30


def pacing_of(budget: float, closed: float) -> Pacing:
    expected = budget * 0.8
    return Pacing(
        budget=budget, closed_to_date=closed, expected_to_date=expected,
        pacing_index=closed / expected, last_year_to_date=0.0, yoy=None,
        projection_run_rate=None, projection_weighted=closed, projection_commit=closed,
        projection_best_case=closed, gap=budget - closed, required_per_business_day=None,
        achieved_per_business_day=None,
    )  # fmt: skip


def test_a_chart_presented_to_a_room_is_a_larger_copy_and_the_original_stays():
    from lib.charts import PRESENTATION_TEMPLATE, losses_chart, presented
    from lib.qbr import LossGroup

    figure = losses_chart([LossGroup("Price", 2, 3000.0)], "USD", "Lost most to Price")
    room = presented(figure, 700)
    assert (room.layout.height, figure.layout.height) == (700, 260)
    assert room.layout.template.layout.font.size == 24
    assert room.layout.template.layout.title.font.size == 36
    assert room.layout.title.text == "Lost most to Price"
    assert figure.layout.template.layout.font.size == 15
    assert PRESENTATION_TEMPLATE == "closeboard_presentation"


def test_top_wins_name_the_account_once_and_the_rep_at_the_end_of_each_bar():
    from datetime import date

    from lib.charts import top_wins_chart
    from lib.qbr import Win

    wins = [
        Win("1", "Acme - Renewal", "Acme", "Ann", 5000.0, date(2026, 7, 1), None, None, None),
        Win("2", "Pilot <b>2</b>", "Bolt", "Bo", 3000.0, date(2026, 7, 2), None, None, None),
    ]
    (bar,) = top_wins_chart(wins, "USD", "Top wins").data
    assert bar.y == ("Acme - Renewal", "Pilot &lt;b&gt;2&lt;/b&gt; (Bolt)")
    assert bar.text == ("$5K · Ann", "$3K · Bo")


def test_the_largest_losses_are_drawn_in_the_accent_colour_wins_in_green():
    from datetime import date

    from lib.charts import AHEAD, BEHIND, largest_losses_chart, top_wins_chart
    from lib.qbr import ClosedDeal

    deals = [ClosedDeal("1", "Acme", "Acme", "Ann", 5000.0, date(2026, 7, 1))]
    assert largest_losses_chart(deals, "USD", "Lost").data[0].marker.color == BEHIND
    assert top_wins_chart(deals, "USD", "Won").data[0].marker.color == AHEAD


def explore_answer(rows, split=None):
    """An Explore answer of (row, split, value) cells, for the chart alone."""
    import pandas as pd

    from lib.explore import MEASURES, Dimension, ExploreResult, View

    cells = pd.DataFrame(rows, columns=["by", "split", "value"]).assign(deals=1)
    by_totals = cells.groupby("by", sort=False, as_index=False)[["value", "deals"]].sum()
    split_totals = cells.groupby("split", sort=False, as_index=False)[["value", "deals"]].sum()
    return ExploreResult(
        view=View(), question=f"Won amount by {HOSTILE}", measure=MEASURES["amount"],
        by=Dimension("owner", "Owner", "owner"), split=split, cells=cells,
        by_totals=by_totals, split_totals=split_totals, total=None, deals=len(rows),
    )  # fmt: skip


def test_explore_bars_escape_names_and_grey_all_others():
    from lib.charts import REFERENCE, explore_chart

    figure = explore_chart(explore_answer([(HOSTILE, None, 5.0), ("All others", None, 9.0)]), "USD")
    (bar,) = figure.data
    assert bar.type == "bar"
    assert bar.y == ('&lt;a href="http://evil.example"&gt;Ann&lt;/a&gt;', "All others")
    assert bar.marker.color[1] == REFERENCE
    assert figure.layout.title.text.startswith("Won amount by &lt;a href=")


def test_explore_two_categories_make_a_heatmap_scaled_on_the_named_values():
    from lib.charts import explore_chart
    from lib.explore import Dimension

    answer = explore_answer(
        [("Ann", "East", 10.0), ("Ann", "West", 30.0), ("All others", "East", 500.0)],
        split=Dimension("team", "Team", "team"),
    )
    (heatmap,) = explore_chart(answer, "USD").data
    assert heatmap.type == "heatmap"
    assert [list(row) for row in heatmap.z] == [[10.0, 30.0], [500.0, None]]
    assert (heatmap.zmin, heatmap.zmax) == (10.0, 30.0)
    assert [list(row) for row in heatmap.text] == [["$10", "$30"], ["$500", ""]]


def test_a_query_result_of_a_label_and_a_decimal_is_drawn_as_bars():
    from decimal import Decimal

    import pandas as pd

    from lib.charts import query_chart

    frame = pd.DataFrame({"lead_source": ["Web", None], "pipeline": [Decimal("1.50"), Decimal(2)]})
    (bar,) = query_chart(frame).data
    assert (bar.x, bar.y) == ((1.5, 2.0), ("Web", "(blank)"))
    assert query_chart(frame.assign(third=1)) is None
    assert query_chart(pd.DataFrame({"a": ["x"], "b": ["not a number"]})) is None


def test_the_pipeline_by_deal_has_a_key_for_the_colours_it_draws():
    # Ann's largest deal is 80 % of her pipeline (accent); Bo's is 50 % of his, under 60 %.
    blocks = [
        PipelineBlock("Ann", "Big", None, 80.0, 1), PipelineBlock("Ann", None, None, 20.0, 4),
        PipelineBlock("Bo", "Mid", None, 50.0, 1), PipelineBlock("Bo", None, None, 50.0, 9),
    ]  # fmt: skip
    figure = pipeline_by_deal_chart(blocks, 0.6, "USD")
    key = [(trace.name, trace.marker.color) for trace in figure.data if trace.showlegend is None]
    assert key == [
        ("Largest deal, most of the rep's pipeline", BEHIND),
        ("Largest deal", INK),
        ("All smaller deals together", PALE_REFERENCE),
    ]


def warned(owner, kind, severity, at_stake, message):
    return PipelineWarning("rep", owner, kind, severity, 0.5, message, (), at_stake)


def test_the_warning_grid_colours_by_severity_labels_money_and_hovers_the_sentence_as_typed():
    grid = warning_grid([
        warned("Bo", "slipping", "warn", 9_400.0, "Bo: 1 open deal <b>late</b>."),
        warned(HOSTILE, "coverage", "critical", 1_250_000.0, "Ann covers 0.5×."),
    ])  # fmt: skip
    figure = warning_grid_chart(grid, "USD")
    cells, points = figure.data
    assert cells.y == ('&lt;a href="http://evil.example"&gt;Ann&lt;/a&gt;', "Bo")
    assert cells.x == ("coverage", "slipping")
    assert [list(row) for row in cells.z] == [[2, 0], [0, 1]]
    assert [list(row) for row in cells.text] == [["$1.2M", ""], ["", "$9.4K"]]
    assert figure.layout.title.text == "1 rep has a critical warning"
    assert list(points.customdata[3]) == ["Slipping", "Bo: 1 open deal &lt;b&gt;late&lt;/b&gt;."]
    assert points.hovertemplate[3] == "<b>%{customdata[0]}</b><br>%{customdata[1]}<extra></extra>"
    assert list(points.customdata[1]) == [
        "Slipping", "&lt;a href=\"http://evil.example\"&gt;Ann&lt;/a&gt;: no warning of this kind.",
    ]  # fmt: skip
    assert [grid_owner(grid, index) for index in range(4)] == [HOSTILE, HOSTILE, "Bo", "Bo"]


def test_a_warning_with_nothing_known_at_stake_is_labelled_with_a_dash_not_zero():
    # Bo's slipping deal has no amount (in a currency without a rate): nothing known at stake.
    grid = warning_grid([warned("Bo", "slipping", "warn", 0.0, "Bo: 1 open deal late.")])
    (cells, _) = warning_grid_chart(grid, "USD").data
    assert [list(row) for row in cells.text] == [["–"]]
